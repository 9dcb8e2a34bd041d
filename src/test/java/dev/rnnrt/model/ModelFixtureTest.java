package dev.rnnrt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.ActivationLayer;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.Bidirectional.MergeMode;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Embedding;
import dev.rnnrt.layers.Flatten;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Initializer;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Masking;
import dev.rnnrt.layers.Merge;
import dev.rnnrt.layers.OutputActivation;
import dev.rnnrt.layers.RepeatVector;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Whole models against fixtures/models/model_cases.json, made independently with PyTorch by
 * make_model_fixtures.py: every Bidirectional merge mode, stacks of 2 and 3 layers, masks from
 * Masking and Embedding through Bidirectional and stacked layers, an encoder-decoder whose
 * decoder starts from the encoder's states, and the merge / RepeatVector / Flatten layers.
 * Each model is written here as a user would write it.
 */
class ModelFixtureTest {

    private static final Map<String, JsonNode> CASES = new HashMap<>();

    static {
        for (JsonNode c : Fixtures.json("fixtures/models/model_cases.json").get("cases")) {
            CASES.put(c.get("name").asText(), c);
        }
    }

    @Test
    void maskingIntoBidirectionalLstmEveryMergeMode() {
        for (MergeMode mode : MergeMode.values()) {
            String name = "masking_bidirectional_lstm_" + (mode == MergeMode.NONE ? "none" : mode.kerasName());
            Bidirectional bi = Bidirectional.of("bidirectional", Lstm.builder(3).name("lstm").returnSequences(true).build(),
                    mode, null);
            Model model = Model.functional(name).input("x", -1, 4).add(Masking.of("masking", 0.0), "x")
                    .add(bi, "masking")
                    .outputs(mode == MergeMode.NONE ? new String[] {"bidirectional", "bidirectional[1]"}
                            : new String[] {"bidirectional"})
                    .build();
            setWeights(name, bi);
            check(name, model);
        }
    }

    @Test
    void bidirectionalGruReturnState() {
        for (MergeMode mode : List.of(MergeMode.CONCAT, MergeMode.SUM)) {
            String name = "bidirectional_gru_state_" + mode.kerasName();
            Bidirectional bi = Bidirectional.of("bi", Gru.builder(3).name("gru").returnState(true).build(), mode, null);
            Model model = Model.functional(name).input("x", -1, 4).add(bi, "x").outputs("bi", "bi[1]", "bi[2]").build();
            setWeights(name, bi);
            check(name, model);
        }
    }

    @Test
    void bidirectionalExplicitBackwardLayerAndInitialState() {
        String name = "bidirectional_explicit_backward_initial_state";
        Bidirectional bi = Bidirectional.of("bi", Lstm.builder(3).name("lstm").returnSequences(true).returnState(true).build(),
                MergeMode.CONCAT,
                Lstm.builder(2).name("lstm").returnSequences(true).returnState(true).goBackwards(true).build());
        Model model = Model.functional(name)
                .input("x", -1, 4).input("fh", 3).input("fc", 3).input("bh", 2).input("bc", 2)
                .add(bi, "x", "fh", "fc", "bh", "bc")
                .outputs("bi", "bi[1]", "bi[2]", "bi[3]", "bi[4]").build();
        setWeights(name, bi);
        check(name, model);
    }

    @Test
    void twoLayerStack() {
        String name = "stack2_lstm_gru";
        Lstm lstm = Lstm.builder(5).name("lstm").returnSequences(true).build();
        Gru gru = Gru.builder(3).name("gru").build();
        Model model = Model.sequential(name).input(-1, 4).add(lstm).add(gru).build();
        setWeights(name, lstm, gru);
        check(name, model);
    }

    @Test
    void threeLayerMaskedStackWithDenseHead() {
        String name = "stack3_masked_gru_lstm_simplernn_dense";
        Gru gru = Gru.builder(4).name("gru").resetAfter(false).returnSequences(true).build();
        Lstm lstm = Lstm.builder(5).name("lstm").returnSequences(true).build();
        SimpleRnn rnn = SimpleRnn.builder(3).name("simple_rnn").build();
        Dense dense = Dense.builder(2).name("dense").activation("softmax").build();
        Model model = Model.sequential(name).input(-1, 4).add(Masking.of(0.0)).add(gru).add(lstm).add(rnn).add(dense)
                .build();
        setWeights(name, gru, lstm, rnn, dense);
        check(name, model);
    }

    @Test
    void embeddingMaskThroughBidirectionalAndStack() {
        String name = "embedding_mask_bidirectional_gru_lstm_dense";
        Embedding embedding = Embedding.of("embedding", 10, 4, true, Initializer.zeros());
        Bidirectional bi = Bidirectional.of("bi", Gru.builder(3).name("gru").returnSequences(true).build(),
                MergeMode.CONCAT, null);
        Lstm lstm = Lstm.builder(4).name("lstm").build();
        Dense dense = Dense.builder(3).name("dense").activation("softmax").build();
        Model model = Model.sequential(name).input(6).add(embedding).add(bi).add(lstm).add(dense).build();
        setWeights(name, embedding, bi, lstm, dense);
        check(name, model);
    }

    @Test
    void encoderDecoderWithStatesFromTheEncoder() {
        String name = "encoder_decoder_lstm";
        Model model = EncoderDecoder.model(name);
        setWeights(name, model.layer("encoder"), model.layer("decoder"));
        ((Dense) ((TimeDistributed) model.layer("head")).inner())
                .setWeights(tensors(CASES.get(name).get("weights"), "head"));
        check(name, model);
    }

    @Test
    void mergesRepeatVectorFlattenActivation() {
        String name = "merges_repeatvector_flatten";
        Lstm lstm = Lstm.builder(3).name("lstm").build();
        Gru gru = Gru.builder(3).name("gru").build();
        SimpleRnn rnn = SimpleRnn.builder(2).name("simple_rnn").returnSequences(true).build();
        Dense dense = Dense.builder(2).name("dense").build();
        Model model = Model.functional(name).input("x", -1, 4)
                .add(lstm, "x").add(gru, "x")
                .add(Merge.of("add", Merge.Mode.ADD), "lstm", "gru")
                .add(Merge.of("multiply", Merge.Mode.MULTIPLY), "lstm", "gru")
                .add(Merge.of("average", Merge.Mode.AVERAGE), "lstm", "gru")
                .add(Merge.concatenate("concatenate", -1), "lstm", "gru")
                .add(RepeatVector.of("repeat", 3), "add")
                .add(rnn, "repeat")
                .add(Flatten.named("flatten"), "simple_rnn")
                .add(dense, "flatten")
                .add(ActivationLayer.of("tanh", OutputActivation.named("tanh", dev.rnnrt.api.KerasVersion.KERAS_3)), "dense")
                .outputs("add", "multiply", "average", "concatenate", "tanh")
                .build();
        setWeights(name, lstm, gru, rnn, dense);
        check(name, model);
    }

    private static void check(String name, Model model) {
        JsonNode c = CASES.get(name);
        List<Tensor> inputs = new ArrayList<>();
        for (JsonNode in : c.get("inputs")) {
            inputs.add(Fixtures.tensor(in));
        }
        List<Tensor> out = model.predict(inputs);
        JsonNode expected = c.get("expected");
        assertEquals(expected.size(), out.size(), name + ": number of outputs");
        for (int k = 0; k < out.size(); k++) {
            Compare.assertClose(name + " output " + k, Fixtures.shape(expected.get(k)), Fixtures.doubles(expected.get(k)),
                    out.get(k), Tolerance.REFERENCE);
        }
    }

    /** Sets each layer's weights from the fixture entry of the same name (Bidirectional: its two directions). */
    static void setWeights(String caseName, Object... layers) {
        JsonNode weights = CASES.get(caseName).get("weights");
        for (Object layer : layers) {
            if (layer instanceof Bidirectional bi) {
                bi.forwardLayer().setWeights(tensors(weights, bi.forwardLayer().name()));
                bi.backwardLayer().setWeights(tensors(weights, bi.backwardLayer().name()));
            } else if (layer instanceof Dense d) {
                d.setWeights(tensors(weights, d.name()));
            } else if (layer instanceof Embedding e) {
                e.setWeights(tensors(weights, e.name()));
            } else if (layer instanceof dev.rnnrt.layers.RecurrentLayer r) {
                r.setWeights(tensors(weights, r.name()));
            } else {
                throw new IllegalArgumentException("no weights for " + layer);
            }
        }
    }

    static List<Tensor> tensors(JsonNode weights, String layerName) {
        JsonNode list = weights.get(layerName);
        if (list == null) {
            throw new IllegalStateException("fixture has no weights for " + layerName + "; has " + weights.fieldNames());
        }
        List<Tensor> out = new ArrayList<>();
        for (JsonNode t : list) {
            out.add(Fixtures.tensor(t));
        }
        return out;
    }

    /** The encoder-decoder of the fixture, as a user would write it. */
    static final class EncoderDecoder {
        static Model model(String name) {
            Lstm encoder = Lstm.builder(3).name("encoder").returnState(true).build();
            Lstm decoder = Lstm.builder(3).name("decoder").returnSequences(true).returnState(true).build();
            TimeDistributed head = TimeDistributed.of("head", Dense.builder(4).name("head_dense").activation("softmax").build());
            return Model.functional(name)
                    .input("encoder_inputs", -1, 4)
                    .input("decoder_inputs", -1, 4)
                    .add(encoder, "encoder_inputs")
                    .add(decoder, "decoder_inputs", "encoder[1]", "encoder[2]")
                    .add(head, "decoder")
                    .outputs("head", "decoder[1]", "decoder[2]")
                    .build();
        }
    }
}
