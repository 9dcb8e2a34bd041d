package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.Tolerance;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keras 3 encoder-decoder models whose recurrent decoder reads a masked input (Embedding(mask_zero)
 * or Masking) and is given initial_state without mask=, each written as the .keras archive Keras 3
 * saves (its config, keras_version and weight groups from fixtures/models/keras3_seq2seq_cases.json),
 * loaded, and run on padded inputs against outputs computed independently in numpy by
 * make_keras3_seq2seq_fixtures.py: the translation model with LSTM, GRU, RNN(LSTMCell) and
 * Bidirectional encoders, Luong and Bahdanau attention over the encoder's outputs, and the
 * inference-time decoder. Keras computes every step of such a decoder, padded ones too, and passes
 * the input's mask on to the layers after it (the attention's query mask, a second decoder layer).
 */
class Keras3Seq2SeqFixtureTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CASES = "fixtures/models/keras3_seq2seq_cases.json";

    @TempDir
    Path dir;

    @TestFactory
    Stream<DynamicTest> seq2seqModelsMatchNumpy() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Fixtures.json(CASES).get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> check(c)));
        }
        return tests.stream();
    }

    /**
     * Keras 3 records a call's first argument given by keyword in the node's kwargs, with empty args:
     * {@code decoder(sequences=x, initial_state=[h, c])}, {@code Dense(...)(inputs=x)},
     * {@code Attention()(inputs=[q, v])}. The sequence is still the layer's first input.
     */
    @Test
    void firstArgumentGivenByKeyword() throws IOException {
        JsonNode s2s = caseNamed("lstm_seq2seq_time_distributed_k3151");
        for (String layer : List.of("encoder", "decoder", "head")) {
            firstByKeyword(s2s.get("config"), layer, layer.equals("head") ? "inputs" : "sequences");
        }
        check(s2s);
        JsonNode attention = caseNamed("luong_attention_k3151");
        for (String layer : List.of("decoder", "attention", "attention_vector")) {
            firstByKeyword(attention.get("config"), layer, layer.equals("decoder") ? "sequences" : "inputs");
        }
        check(attention);
    }

    /**
     * A mask passed by hand to a decoder given initial_state is used by Keras (the loaded decoder
     * then skips those steps, a fixture case); one rnnrt's rules do not give its input is refused,
     * naming the layer and both masks: the encoder's mask on the decoder, not_equal(ids, 3). So is an
     * Attention whose query mask was dropped by hand (mask=[None, value_mask]).
     */
    @Test
    void masksByHandThatRnnrtDoesNotReproduceAreRefused() throws IOException {
        JsonNode encoderMask = caseNamed("lstm_seq2seq_time_distributed_k3151");
        kwargs(encoderMask.get("config"), "decoder").set("mask", tensor("not_equal"));
        assertRefused(encoderMask, "layer 'decoder' with the mask not_equal('encoder_inputs', 0.0)",
                "rnnrt's rules give that input the mask not_equal('decoder_inputs', 0.0)");

        JsonNode otherValue = caseNamed("lstm_seq2seq_time_distributed_k3151");
        ArrayNode layers = (ArrayNode) otherValue.get("config").get("config").get("layers");
        layers.insert(2, JSON.valueToTree(Map.of("module", "keras.src.ops.numpy", "class_name", "NotEqual",
                "config", Map.of("name", "not_equal_2"), "registered_name", "NotEqual", "name", "not_equal_2",
                "inbound_nodes", List.of(Map.of("args", List.of(tensor("decoder_inputs"), 3), "kwargs", Map.of())))));
        kwargs(otherValue.get("config"), "decoder").set("mask", tensor("not_equal_2"));
        assertRefused(otherValue, "layer 'decoder' with the mask not_equal('decoder_inputs', 3.0)");

        JsonNode noQueryMask = caseNamed("luong_attention_k3151");
        ((ArrayNode) kwargs(noQueryMask.get("config"), "attention").get("mask")).set(0, JSON.nullNode());
        assertRefused(noQueryMask, "layer 'attention' with no mask for its input 'decoder'");
    }

    private void check(JsonNode c) throws IOException {
        String name = c.get("name").asText();
        LoadedModel loaded = KerasModelLoader.load(write(c));
        String warning = c.path("warning").asText("");
        if (warning.isEmpty()) {
            assertTrue(loaded.warnings().isEmpty(), name + ": " + loaded.warnings());
        } else {
            assertTrue(loaded.warnings().stream().anyMatch(w -> w.contains(warning)), name + ": " + loaded.warnings());
        }
        List<Tensor> outputs = loaded.model().predict(Fixtures.tensors(c.get("inputs")));
        JsonNode expected = c.get("outputs");
        assertEquals(expected.size(), outputs.size(), name + ": outputs");
        for (int k = 0; k < expected.size(); k++) {
            Compare.assertClose(name + " output " + k, Fixtures.shape(expected.get(k)), Fixtures.doubles(expected.get(k)),
                    outputs.get(k), Tolerance.FP32);
        }
    }

    private void assertRefused(JsonNode c, String... parts) throws IOException {
        Path file = write(c);
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> KerasModelLoader.load(file));
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), e.getMessage());
        }
    }

    private Path write(JsonNode c) throws IOException {
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        for (JsonNode w : c.get("weights")) {
            weights.put(w.get("path").asText(), Fixtures.tensors(w.get("vars")));
        }
        Path file = dir.resolve(c.get("name").asText() + ".keras");
        KerasFileWriter.writeKeras(file, c.get("keras_version").asText(), c.get("config"), weights, Map.of());
        return file;
    }

    private static JsonNode caseNamed(String name) {
        for (JsonNode c : Fixtures.json(CASES).get("cases")) {
            if (c.get("name").asText().equals(name)) {
                return c.deepCopy();
            }
        }
        throw new AssertionError("no case " + name);
    }

    private static ObjectNode node(JsonNode config, String layer) {
        for (JsonNode l : config.get("config").get("layers")) {
            if (l.get("name").asText().equals(layer)) {
                return (ObjectNode) l.get("inbound_nodes").get(0);
            }
        }
        throw new AssertionError("no layer " + layer);
    }

    private static ObjectNode kwargs(JsonNode config, String layer) {
        return (ObjectNode) node(config, layer).get("kwargs");
    }

    /** Moves the call's only positional argument to the keyword {@code keyword}. */
    private static void firstByKeyword(JsonNode config, String layer, String keyword) {
        ObjectNode n = node(config, layer);
        assertEquals(1, n.get("args").size(), layer);
        ObjectNode kw = JSON.createObjectNode();
        kw.set(keyword, n.get("args").get(0));
        kw.setAll((ObjectNode) n.get("kwargs"));
        n.set("kwargs", kw);
        n.set("args", JSON.createArrayNode());
    }

    private static JsonNode tensor(String layer) {
        return JSON.valueToTree(Map.of("class_name", "__keras_tensor__", "config", Map.of("shape", List.of(),
                "dtype", "float32", "keras_history", List.of(layer, 0, 0))));
    }
}
