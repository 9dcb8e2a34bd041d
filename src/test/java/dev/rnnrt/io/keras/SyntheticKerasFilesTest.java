package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.ActivationLayer;
import dev.rnnrt.layers.AdvancedActivation;
import dev.rnnrt.layers.Attention;
import dev.rnnrt.layers.BatchNormalization;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.BidirectionalStack;
import dev.rnnrt.layers.Conv1D;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Dot;
import dev.rnnrt.layers.Embedding;
import dev.rnnrt.layers.GlobalPooling1D;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Initializer;
import dev.rnnrt.layers.LayerNormalization;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Masking;
import dev.rnnrt.layers.RecurrentOutput;
import dev.rnnrt.layers.Normalization;
import dev.rnnrt.layers.OutputActivation;
import dev.rnnrt.layers.PRelu;
import dev.rnnrt.layers.Pooling1D;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.layers.StackedRnn;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.KerasActivationFormulas;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files the tests write with the layout Keras writes, one per layer option: the loaded model
 * must equal the same model built in Java with the same weights, bit for bit.
 */
class SyntheticKerasFilesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int I = 4;
    private static final int H = 3;
    private static final int T = 6;

    @TempDir
    Path dir;

    private final RandomTensors random = new RandomTensors(31337);

    /** One recurrent layer with options, between a Masking layer and a Dense head, saved by Keras 2.4. */
    @Test
    void everyRecurrentOptionInAKeras2File() {
        List<Map<String, Object>> options = List.of(
                Map.of("return_sequences", true),
                Map.of("return_sequences", false, "go_backwards", true),
                Map.of("return_sequences", true, "use_bias", false),
                Map.of("return_sequences", true, "zero_output_for_mask", true),
                Map.of("return_sequences", false, "activation", "relu", "recurrent_activation", "hard_sigmoid"),
                Map.of("return_sequences", false, "activation", "elu", "dropout", 0.3, "recurrent_dropout", 0.2));
        int fileNo = 0;
        for (String cls : List.of("LSTM", "GRU", "GRU_before", "SimpleRNN")) {
            for (Map<String, Object> opt : options) {
                Map<String, Object> cfg = new LinkedHashMap<>(opt);
                String kerasClass = cls.equals("GRU_before") ? "GRU" : cls;
                if (kerasClass.equals("GRU")) {
                    cfg.put("reset_after", cls.equals("GRU"));
                }
                if (cls.equals("SimpleRNN")) {
                    cfg.remove("recurrent_activation");
                }
                String where = cls + " " + cfg;
                RecurrentLayer expected = javaLayer(kerasClass, cfg);
                List<Tensor> w = randomWeights(expected, I);
                expected.setWeights(w);
                boolean seq = (Boolean) cfg.get("return_sequences");
                Dense head = Dense.builder(2).name("dense").activation("softmax").build();
                head.setWeights(List.of(random.uniform(0.5, seq ? H : H, 2), random.uniform(0.5, 2)));
                Model java = Model.sequential("java").input(-1, I).add(Masking.of("masking", 0.0)).add(expected)
                        .add(seq ? TimeDistributed.of("td", head) : head).build();

                Map<String, Object> rnn = layerSpec(kerasClass, "rnn", cfg, H);
                Map<String, Object> headSpec = seq
                        ? spec("TimeDistributed", "td", Map.of("layer", spec("Dense", "dense",
                                Map.of("units", 2, "activation", "softmax"))))
                        : spec("Dense", "dense", Map.of("units", 2, "activation", "softmax"));
                Map<String, Object> masking = spec("Masking", "masking",
                        Map.of("mask_value", 0.0, "batch_input_shape", nullFirst(-1, I)));
                JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential",
                        "config", Map.of("name", "synthetic", "layers", List.of(masking, rnn, headSpec))));
                Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
                KerasFileWriter.LayerWeights rw = recurrentH5Weights("rnn",
                        kerasClass.toLowerCase().replace("simplernn", "simple_rnn") + "_cell", w);
                weights.put("rnn", rw);
                List<Tensor> hw = head.getWeights();
                weights.put(seq ? "td" : "dense", new KerasFileWriter.LayerWeights()
                        .put((seq ? "td" : "dense") + "/kernel:0", hw.get(0)).put((seq ? "td" : "dense") + "/bias:0", hw.get(1)));
                Path file = dir.resolve("m" + (fileNo++) + ".h5");
                KerasFileWriter.writeHdf5(file, "2.4.0", config, weights);

                LoadedModel loaded = KerasModelLoader.load(file);
                Tensor x = paddedInput();
                Compare.assertIdentical(where, java.predict(x), loaded.model().predict(x));
                assertTrue(loaded.warnings().isEmpty(), where + " " + loaded.warnings());
            }
        }
    }

    /** Keras 3: Embedding(mask_zero) -> Bidirectional(GRU) (every merge mode) -> LSTM -> Dense, in a .keras archive. */
    @Test
    void keras3ArchiveWithEmbeddingAndBidirectional() throws IOException {
        for (String mode : List.of("concat", "sum", "mul", "ave")) {
            Embedding emb = Embedding.of("embedding", 7, I, true, Initializer.zeros());
            Tensor table = random.uniform(1, 7, I);
            emb.setWeights(List.of(table));
            Bidirectional bi = Bidirectional.of("bidirectional", Gru.builder(H).name("gru").returnSequences(true).build(),
                    Bidirectional.MergeMode.named(mode), null);
            List<Tensor> fw = randomWeights(bi.forwardLayer(), I);
            List<Tensor> bw = randomWeights(bi.backwardLayer(), I);
            bi.forwardLayer().setWeights(fw);
            bi.backwardLayer().setWeights(bw);
            int biOut = mode.equals("concat") ? 2 * H : H;
            Lstm lstm = Lstm.builder(5).name("lstm").build();
            List<Tensor> lw = randomWeights(lstm, biOut);
            lstm.setWeights(lw);
            Dense dense = Dense.builder(2).name("out").activation("softmax").build();
            Tensor dk = random.uniform(0.5, 5, 2);
            Tensor db = random.uniform(0.5, 2);
            dense.setWeights(List.of(dk, db));
            Model java = Model.sequential("java").input(T).add(emb).add(bi).add(lstm).add(dense).build();

            Map<String, Object> inner = layerSpec("GRU", "gru", Map.of("return_sequences", true, "reset_after", true), H);
            JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k3",
                    "layers", List.of(
                            spec("InputLayer", "input", Map.of("batch_shape", nullFirst(T))),
                            spec("Embedding", "embedding", Map.of("input_dim", 7, "output_dim", I, "mask_zero", true)),
                            spec("Bidirectional", "bidirectional", Map.of("layer", inner, "merge_mode", mode)),
                            layerSpec("LSTM", "lstm", Map.of(), 5),
                            spec("Dense", "out", Map.of("units", 2, "activation", "softmax"))))));
            Map<String, List<Tensor>> weights = new LinkedHashMap<>();
            weights.put("embedding", List.of(table));
            weights.put("bidirectional/forward_layer/cell", fw);
            weights.put("bidirectional/backward_layer/cell", bw);
            weights.put("lstm/cell", lw);
            weights.put("dense", List.of(dk, db)); // by class and position: config name "out" is not used
            Path file = dir.resolve("k3_" + mode + ".keras");
            KerasFileWriter.writeKeras(file, config, weights);

            LoadedModel loaded = KerasModelLoader.load(file);
            assertEquals("Keras 3 archive", loaded.format());
            Tensor ids = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 0, 0, 2, 4, 6, 1}, 2, T);
            Compare.assertIdentical("Keras 3 " + mode, java.predict(ids), loaded.model().predict(ids));
        }
    }

    /**
     * The layers around recurrent ones in a Keras 3 archive: Conv1D -> MaxPooling1D ->
     * BatchNormalization -> LSTM -> LayerNormalization -> GlobalAveragePooling1D -> Dense, equal to
     * the model built in Java.
     */
    @Test
    void keras3ArchiveWithPoolingAndNormalization() throws IOException {
        int steps = 12;
        Conv1D conv = new Conv1D("conv1d", 8, 3, 1, 1, "same",
                dev.rnnrt.layers.OutputActivation.named("relu", dev.rnnrt.api.KerasVersion.KERAS_3), true);
        List<Tensor> cw = List.of(random.uniform(0.5, 3, I, 8), random.uniform(0.5, 8));
        conv.setWeights(cw);
        Pooling1D pool = new Pooling1D("max_pooling1d", Pooling1D.Mode.MAX, 2, 0, "valid");
        BatchNormalization bn = new BatchNormalization("batch_normalization", -1, 1e-3, true, true);
        List<Tensor> bw = List.of(random.uniform(1, 8), random.uniform(0.5, 8), random.uniform(0.5, 8),
                Tensor.of(positive(8), 8));
        bn.setWeights(bw);
        Lstm lstm = Lstm.builder(5).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, 8);
        lstm.setWeights(lw);
        LayerNormalization ln = new LayerNormalization("layer_normalization", -1, 1e-3, true, true);
        List<Tensor> nw = List.of(random.uniform(1, 5), random.uniform(0.5, 5));
        ln.setWeights(nw);
        GlobalPooling1D avg = new GlobalPooling1D("global_average_pooling1d", Pooling1D.Mode.AVERAGE, false);
        Dense dense = Dense.builder(2).name("dense").activation("softmax").build();
        List<Tensor> dw = List.of(random.uniform(0.5, 5, 2), random.uniform(0.5, 2));
        dense.setWeights(dw);
        Model java = Model.sequential("java").input(steps, I).add(conv).add(pool).add(bn).add(lstm).add(ln).add(avg)
                .add(dense).build();

        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k3",
                "layers", List.of(
                        spec("InputLayer", "input", Map.of("batch_shape", nullFirst(steps, I))),
                        spec("Conv1D", "conv1d", Map.of("filters", 8, "kernel_size", List.of(3), "strides", List.of(1),
                                "padding", "same", "data_format", "channels_last", "dilation_rate", List.of(1),
                                "groups", 1, "activation", "relu", "use_bias", true)),
                        spec("MaxPooling1D", "max_pooling1d", Map.of("pool_size", List.of(2), "padding", "valid",
                                "data_format", "channels_last")),
                        spec("BatchNormalization", "batch_normalization", Map.of("axis", -1, "epsilon", 0.001,
                                "center", true, "scale", true)),
                        layerSpec("LSTM", "lstm", Map.of("return_sequences", true), 5),
                        spec("LayerNormalization", "layer_normalization", Map.of("axis", List.of(-1), "epsilon", 0.001,
                                "center", true, "scale", true, "rms_scaling", false)),
                        spec("GlobalAveragePooling1D", "global_average_pooling1d", Map.of("data_format",
                                "channels_last", "keepdims", false)),
                        spec("Dense", "dense", Map.of("units", 2, "activation", "softmax"))))));
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("conv1d", cw);
        weights.put("batch_normalization", bw);
        weights.put("lstm/cell", lw);
        weights.put("layer_normalization", nw);
        weights.put("dense", dw);
        Path file = dir.resolve("pooling_norm.keras");
        KerasFileWriter.writeKeras(file, config, weights);

        LoadedModel loaded = KerasModelLoader.load(file);
        assertTrue(loaded.warnings().isEmpty(), loaded.warnings().toString());
        Tensor x = random.uniform(1, 3, steps, I);
        Compare.assertIdentical("Keras 3 pooling and normalization", java.predict(x), loaded.model().predict(x));
    }

    /**
     * TimeDistributed around layers with weights other than Dense (BatchNormalization, PReLU,
     * LayerNormalization), in a tf.keras 2 file and a Keras 3 archive: each gets its weights.
     */
    @Test
    void timeDistributedAroundLayersWithWeights() throws IOException {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        BatchNormalization bn = new BatchNormalization("bn", -1, 1e-3, true, true);
        List<Tensor> bw = List.of(random.uniform(1, H), random.uniform(0.5, H), random.uniform(0.5, H),
                Tensor.of(positive(H), H));
        bn.setWeights(bw);
        PRelu prelu = new PRelu("prelu");
        List<Tensor> pw = List.of(random.uniform(0.5, H));
        prelu.setWeights(pw);
        LayerNormalization ln = new LayerNormalization("ln", -1, 1e-3, true, true);
        List<Tensor> nw = List.of(random.uniform(1, H), random.uniform(0.5, H));
        ln.setWeights(nw);
        Model java = Model.sequential("java").input(-1, I).add(lstm).add(TimeDistributed.of("td_bn", bn))
                .add(TimeDistributed.of("td_prelu", prelu)).add(TimeDistributed.of("td_ln", ln)).build();

        List<Map<String, Object>> layers = List.of(
                layerSpec("LSTM", "lstm", Map.of("return_sequences", true, "batch_input_shape", nullFirst(-1, I)), H),
                spec("TimeDistributed", "td_bn", Map.of("layer", spec("BatchNormalization", "bn",
                        Map.of("axis", -1, "epsilon", 0.001, "center", true, "scale", true)))),
                spec("TimeDistributed", "td_prelu", Map.of("layer", spec("PReLU", "prelu", Map.of()))),
                spec("TimeDistributed", "td_ln", Map.of("layer", spec("LayerNormalization", "ln",
                        Map.of("axis", List.of(-1), "epsilon", 0.001, "center", true, "scale", true)))));
        Tensor x = random.uniform(1, 2, T, I);
        Tensor expected = java.predict(x);

        Map<String, KerasFileWriter.LayerWeights> h5 = new LinkedHashMap<>();
        h5.put("lstm", recurrentH5Weights("lstm", "lstm_cell", lw));
        String[] bnNames = {"gamma", "beta", "moving_mean", "moving_variance"};
        KerasFileWriter.LayerWeights bnw = new KerasFileWriter.LayerWeights();
        for (int k = 0; k < 4; k++) {
            bnw.put("td_bn/bn/" + bnNames[k] + ":0", bw.get(k));
        }
        h5.put("td_bn", bnw);
        h5.put("td_prelu", new KerasFileWriter.LayerWeights().put("td_prelu/prelu/alpha:0", pw.get(0)));
        h5.put("td_ln", new KerasFileWriter.LayerWeights().put("td_ln/ln/gamma:0", nw.get(0))
                .put("td_ln/ln/beta:0", nw.get(1)));
        Path file = dir.resolve("td_weights.h5");
        KerasFileWriter.writeHdf5(file, "2.11.0", JSON.valueToTree(Map.of("class_name", "Sequential",
                "config", Map.of("name", "td", "layers", layers))), h5);
        LoadedModel fromH5 = KerasModelLoader.load(file);
        assertTrue(fromH5.warnings().isEmpty(), fromH5.warnings().toString());
        Compare.assertIdentical("tf.keras 2 TimeDistributed weights", expected, fromH5.model().predict(x));

        Map<String, List<Tensor>> k3 = new LinkedHashMap<>();
        k3.put("lstm/cell", lw);
        k3.put("time_distributed/layer", bw);
        k3.put("time_distributed_1/layer", pw);
        k3.put("time_distributed_2/layer", nw);
        Path archive = dir.resolve("td_weights.keras");
        KerasFileWriter.writeKeras(archive, JSON.valueToTree(Map.of("class_name", "Sequential",
                "config", Map.of("name", "td", "layers", layers))), k3);
        LoadedModel fromArchive = KerasModelLoader.load(archive);
        assertTrue(fromArchive.warnings().isEmpty(), fromArchive.warnings().toString());
        Compare.assertIdentical("Keras 3 TimeDistributed weights", expected, fromArchive.model().predict(x));
    }

    /** A tf.keras 2 file: BatchNormalization with axis [2] keeps the mask, GlobalAveragePooling1D uses it. */
    @Test
    void keras2FileWithMaskedGlobalAverage() {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        BatchNormalization bn = new BatchNormalization("bn", 2, 1e-3, true, true);
        List<Tensor> bw = List.of(random.uniform(1, H), random.uniform(0.5, H), random.uniform(0.5, H),
                Tensor.of(positive(H), H));
        bn.setWeights(bw);
        Dense dense = Dense.builder(2).name("dense").build();
        List<Tensor> dw = List.of(random.uniform(0.5, H, 2), random.uniform(0.5, 2));
        dense.setWeights(dw);
        Model java = Model.sequential("java").input(-1, I).add(Masking.of("masking", 0.0)).add(lstm).add(bn)
                .add(new GlobalPooling1D("avg", Pooling1D.Mode.AVERAGE, false)).add(dense).build();

        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k2",
                "layers", List.of(
                        spec("Masking", "masking", Map.of("mask_value", 0.0, "batch_input_shape", nullFirst(-1, I))),
                        layerSpec("LSTM", "lstm", Map.of("return_sequences", true), H),
                        spec("BatchNormalization", "bn", Map.of("axis", List.of(2), "epsilon", 0.001, "center", true,
                                "scale", true, "momentum", 0.99)),
                        spec("GlobalAveragePooling1D", "avg", Map.of("data_format", "channels_last")),
                        spec("Dense", "dense", Map.of("units", 2, "activation", "linear"))))));
        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        KerasFileWriter.LayerWeights rw = recurrentH5Weights("lstm", "lstm_cell", lw);
        weights.put("lstm", rw);
        weights.put("bn", new KerasFileWriter.LayerWeights().put("bn/gamma:0", bw.get(0)).put("bn/beta:0", bw.get(1))
                .put("bn/moving_mean:0", bw.get(2)).put("bn/moving_variance:0", bw.get(3)));
        weights.put("dense", new KerasFileWriter.LayerWeights().put("dense/kernel:0", dw.get(0))
                .put("dense/bias:0", dw.get(1)));
        Path file = dir.resolve("masked_average.h5");
        KerasFileWriter.writeHdf5(file, "2.4.0", config, weights);

        LoadedModel loaded = KerasModelLoader.load(file);
        Tensor x = paddedInput();
        Compare.assertIdentical("tf.keras 2 masked global average", java.predict(x), loaded.model().predict(x));
    }

    private float[] positive(int n) {
        float[] v = new float[n];
        for (int k = 0; k < n; k++) {
            v[k] = 0.2f + Math.abs(random.uniform(1, 1).data()[0]);
        }
        return v;
    }

    /**
     * RNN(LSTMCell), RNN(GRUCell) and RNN(SimpleRNNCell) as tf.keras 2 and Keras 3 save them, the
     * wrapper's options (return_sequences, go_backwards) with the cell's: equal to the layer built in
     * Java; RNN inside Bidirectional too.
     */
    @Test
    void rnnWrappersAroundBuiltInCells() throws IOException {
        int fileNo = 0;
        for (String cls : List.of("LSTM", "GRU", "SimpleRNN")) {
            for (boolean backwards : new boolean[] {false, true}) {
                Map<String, Object> cellCfg = new LinkedHashMap<>(layerSpec(cls, "cell", Map.of(), H));
                @SuppressWarnings("unchecked")
                Map<String, Object> cellOptions = new LinkedHashMap<>((Map<String, Object>) cellCfg.get("config"));
                for (String wrapperOption : List.of("return_sequences", "return_state", "go_backwards", "stateful",
                        "unroll")) {
                    cellOptions.remove(wrapperOption);
                }
                if (cls.equals("GRU")) {
                    cellOptions.put("reset_after", true);
                }
                Map<String, Object> cell = spec(cls + "Cell", cls.toLowerCase().replace("simplernn", "simple_rnn")
                        + "_cell", cellOptions);
                Map<String, Object> wrapperCfg = Map.of("cell", cell, "return_sequences", true,
                        "go_backwards", backwards, "return_state", false, "stateful", false, "unroll", false);
                RecurrentLayer expected = javaLayer(cls, Map.of("return_sequences", true, "go_backwards", backwards,
                        "reset_after", true));
                List<Tensor> w = randomWeights(expected, I);
                expected.setWeights(w);
                Model java = Model.sequential("java").input(-1, I).add(Masking.of("masking", 0.0)).add(expected).build();
                Tensor x = paddedInput();
                String where = "RNN(" + cls + "Cell), go_backwards=" + backwards;

                JsonNode k2 = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k2",
                        "layers", List.of(spec("Masking", "masking",
                                        Map.of("mask_value", 0.0, "batch_input_shape", nullFirst(-1, I))),
                                spec("RNN", "rnn", wrapperCfg)))));
                KerasFileWriter.LayerWeights rw = recurrentH5Weights("rnn",
                        cls.toLowerCase().replace("simplernn", "simple_rnn") + "_cell", w);
                Path h5 = dir.resolve("rnn" + (fileNo++) + ".h5");
                KerasFileWriter.writeHdf5(h5, "2.4.0", k2, Map.of("rnn", rw));
                LoadedModel fromH5 = KerasModelLoader.load(h5);
                assertEquals(cls, fromH5.model().layers().get(1).className(), where);
                Compare.assertIdentical(where + " (.h5)", java.predict(x), fromH5.model().predict(x));

                JsonNode k3 = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k3",
                        "layers", List.of(spec("InputLayer", "input", Map.of("batch_shape", nullFirst(-1, I))),
                                spec("Masking", "masking", Map.of("mask_value", 0.0)),
                                spec("RNN", "rnn", wrapperCfg)))));
                Path keras = dir.resolve("rnn" + (fileNo++) + ".keras");
                KerasFileWriter.writeKeras(keras, k3, Map.of("rnn/cell", w));
                Compare.assertIdentical(where + " (.keras)", java.predict(x), KerasModelLoader.load(keras).model().predict(x));
            }
        }
    }

    /**
     * RNN(StackedRNNCells([LSTMCell, GRUCell, LSTMCell])) as tf.keras 2 and Keras 3 save it (Keras 3
     * keeps the cells' weights in cell/cells/lstm_cell, gru_cell, lstm_cell_1, which are read in
     * the cells' order, not the file's), after Masking, forwards and go_backwards: equal to the stack
     * built in Java. Then a Keras 3 encoder and decoder of stacked cells, the decoder given the
     * encoder's states as Keras 3 nests them ([[h, c], [h], [h, c]]).
     */
    @Test
    void stackedRnnCells() throws IOException {
        for (boolean backwards : new boolean[] {false, true}) {
            StackedRnn expected = javaStack("rnn", true, false, backwards);
            List<Tensor> w = randomStackWeights(expected, I);
            expected.setWeights(w);
            Model java = Model.sequential("java").input(-1, I).add(Masking.of("masking", 0.0)).add(expected).build();
            Tensor x = paddedInput();
            String where = "RNN(StackedRNNCells), go_backwards=" + backwards;
            Map<String, Object> rnn = stackedRnnSpec("rnn", true, false, backwards);

            JsonNode k2 = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k2",
                    "layers", List.of(spec("Masking", "masking",
                            Map.of("mask_value", 0.0, "batch_input_shape", nullFirst(-1, I))), rnn))));
            KerasFileWriter.LayerWeights rw = new KerasFileWriter.LayerWeights();
            String[] cellNames = {"lstm_cell", "gru_cell", "lstm_cell_1"};
            String[] names = {"kernel:0", "recurrent_kernel:0", "bias:0"};
            for (int k = 0; k < w.size(); k++) {
                rw.put("rnn/stacked_rnn_cells/" + cellNames[k / 3] + "/" + names[k % 3], w.get(k));
            }
            Path h5 = dir.resolve("stacked" + backwards + ".h5");
            KerasFileWriter.writeHdf5(h5, "2.9.0", k2, Map.of("rnn", rw));
            LoadedModel fromH5 = KerasModelLoader.load(h5);
            assertEquals("RNN", fromH5.model().layers().get(1).className(), where);
            Compare.assertIdentical(where + " (.h5)", java.predict(x), fromH5.model().predict(x));
            assertTrue(!((StackedRnn) fromH5.model().layers().get(1)).reverseStateOrder(), "2.9.0: states in cell order");
            Path old = dir.resolve("stacked_old" + backwards + ".h5");
            KerasFileWriter.writeHdf5(old, "2.2.2", k2, Map.of("rnn", rw));
            assertTrue(((StackedRnn) KerasModelLoader.load(old).model().layers().get(1)).reverseStateOrder(),
                    "2.2.2: states last cell first");
            // masked steps: Keras' TensorFlow loop to 2.2.4 gave them states[0] (the last cell's state up to
            // 2.2.2, the first cell's in 2.2.3-2.2.4); Theano's the previous output, as every later Keras
            for (String[] v : new String[][] {{"2.2.2", "tensorflow", "true", "false"}, {"2.2.4", "tensorflow", "true", "true"},
                    {"2.2.4", "theano", "false", "false"}, {"2.2.5", "tensorflow", "false", "false"},
                    {"2.2.4-tf", "tensorflow", "false", "false"}}) {
                Path f = dir.resolve("stacked_" + v[0] + v[1] + backwards + ".h5");
                KerasFileWriter.writeHdf5(f, v[0], v[1], k2, Map.of("rnn", rw));
                StackedRnn s = (StackedRnn) KerasModelLoader.load(f).model().layers().get(1);
                String what = v[0] + " on " + v[1];
                assertEquals(Boolean.parseBoolean(v[2]), s.cells().get(0).maskedOutputIsState(), what + ": cells' rule");
                assertEquals(Boolean.parseBoolean(v[3]), s.describeOptions().contains("first cell's state"),
                        what + ": " + s.describeOptions());
            }

            JsonNode k3 = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k3",
                    "layers", List.of(spec("InputLayer", "input", Map.of("batch_shape", nullFirst(-1, I))),
                            spec("Masking", "masking", Map.of("mask_value", 0.0)), rnn))));
            Map<String, List<Tensor>> kw = new LinkedHashMap<>();
            kw.put("rnn/cell/cells/gru_cell", w.subList(3, 6));
            kw.put("rnn/cell/cells/lstm_cell_1", w.subList(6, 9));
            kw.put("rnn/cell/cells/lstm_cell", w.subList(0, 3));
            Path keras = dir.resolve("stacked" + backwards + ".keras");
            KerasFileWriter.writeKeras(keras, k3, kw);
            Compare.assertIdentical(where + " (.keras)", java.predict(x), KerasModelLoader.load(keras).model().predict(x));

            // a cell group the config does not list, or one missing, is an error
            kw.remove("rnn/cell/cells/lstm_cell_1");
            kw.put("rnn/cell/cells/simple_rnn_cell", w.subList(6, 9));
            Path wrong = dir.resolve("stacked_wrong" + backwards + ".keras");
            KerasFileWriter.writeKeras(wrong, k3, kw);
            assertRefusal(wrong, "layer 'rnn' (RNN)", "no weights for cell 'rnn/lstm_cell_1'", "cell/cells/lstm_cell_1",
                    "simple_rnn_cell");
        }

        StackedRnn encoder = javaStack("encoder", false, true, false);
        List<Tensor> ew = randomStackWeights(encoder, I);
        encoder.setWeights(ew);
        StackedRnn decoder = javaStack("decoder", true, true, false);
        List<Tensor> dw = randomStackWeights(decoder, I);
        decoder.setWeights(dw);
        Model java = Model.functional("java").input("enc_in", -1, I).input("dec_in", -1, I)
                .add(encoder, "enc_in")
                .add(decoder, "dec_in", "encoder[1]", "encoder[2]", "encoder[3]", "encoder[4]", "encoder[5]")
                .outputs("decoder", "decoder[5]", "decoder[3]").build();
        Map<String, Object> enc = new LinkedHashMap<>(stackedRnnSpec("encoder", false, true, false));
        enc.put("name", "encoder");
        enc.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("enc_in", 0)), "kwargs", Map.of())));
        Map<String, Object> dec = new LinkedHashMap<>(stackedRnnSpec("decoder", true, true, false));
        dec.put("name", "decoder");
        dec.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("dec_in", 0)), "kwargs", Map.of("initial_state",
                List.of(List.of(tensor("encoder", 1), tensor("encoder", 2)), List.of(tensor("encoder", 3)),
                        List.of(tensor("encoder", 4), tensor("encoder", 5)))))));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "seq2seq",
                "layers", List.of(input("enc_in"), input("dec_in"), enc, dec),
                "input_layers", List.of(List.of("enc_in", 0, 0), List.of("dec_in", 0, 0)),
                "output_layers", List.of(List.of("decoder", 0, 0), List.of("decoder", 0, 5), List.of("decoder", 0, 3)))));
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        String[] keys = {"lstm_cell", "gru_cell", "lstm_cell_1"};
        for (int k = 0; k < 3; k++) {
            weights.put("rnn/cell/cells/" + keys[k], ew.subList(3 * k, 3 * k + 3));
            weights.put("rnn_1/cell/cells/" + keys[k], dw.subList(3 * k, 3 * k + 3));
        }
        Path file = dir.resolve("stacked_seq2seq.keras");
        KerasFileWriter.writeKeras(file, config, weights);
        Model loaded = KerasModelLoader.load(file).model();
        List<Tensor> in = List.of(random.uniform(1, 2, 5, I), random.uniform(1, 2, 3, I));
        List<Tensor> want = java.predict(in);
        List<Tensor> got = loaded.predict(in);
        assertEquals(3, got.size());
        for (int k = 0; k < 3; k++) {
            Compare.assertIdentical("stacked decoder output " + k, want.get(k), got.get(k));
        }
        // the decoder's states come from the encoder: without them its output differs
        List<Tensor> fromZeros = decoder.call(List.of(in.get(1)), Collections.singletonList(null));
        assertTrue(Compare.relativeError(toDoubles(fromZeros.get(0)), got.get(0).data()) > 1e-3,
                "initial_state must reach the decoder");

        // Bidirectional around stacked cells: the forward stack's weights, then the backward's (Keras 3:
        // forward_layer/cell/cells/…, backward_layer/cell/cells/…)
        StackedRnn inner = javaStack("rnn", true, false, false);
        inner.build(I);
        BidirectionalStack biJava = BidirectionalStack.of("bidirectional", inner, Bidirectional.MergeMode.CONCAT, true);
        biJava.build(I);
        List<Tensor> biw = new ArrayList<>();
        for (Tensor t : biJava.getWeights()) {
            biw.add(random.uniform(0.6, t.shape()));
        }
        biJava.setWeights(biw);
        Model biModel = Model.sequential("java").input(-1, I).add(Masking.of("masking", 0.0)).add(biJava).build();
        Map<String, Object> bidi = spec("Bidirectional", "bidirectional", Map.of("layer", stackedRnnSpec("rnn", true,
                false, false), "merge_mode", "concat"));
        KerasFileWriter.LayerWeights bh5 = new KerasFileWriter.LayerWeights();
        String[] cellKeys = {"lstm_cell", "gru_cell", "lstm_cell_1"};
        String[] wn = {"kernel:0", "recurrent_kernel:0", "bias:0"};
        for (int k = 0; k < biw.size(); k++) {
            bh5.put("bidirectional/" + (k < 9 ? "forward_rnn/" : "backward_rnn/") + cellKeys[(k % 9) / 3] + "/" + wn[k % 3],
                    biw.get(k));
        }
        Path bidiFile = dir.resolve("bidi_stacked.h5");
        KerasFileWriter.writeHdf5(bidiFile, "2.9.0", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                Map.of("name", "b", "layers", List.of(spec("Masking", "masking",
                        Map.of("mask_value", 0.0, "batch_input_shape", nullFirst(-1, I))), bidi)))),
                Map.of("bidirectional", bh5));
        Tensor bx = paddedInput();
        Compare.assertIdentical("Bidirectional(RNN(StackedRNNCells)) (.h5)", biModel.predict(bx),
                KerasModelLoader.load(bidiFile).model().predict(bx));
        Map<String, List<Tensor>> bk3 = new LinkedHashMap<>();
        for (int k = 0; k < 3; k++) {
            bk3.put("bidirectional/backward_layer/cell/cells/" + cellKeys[k], biw.subList(9 + 3 * k, 12 + 3 * k));
            bk3.put("bidirectional/forward_layer/cell/cells/" + cellKeys[k], biw.subList(3 * k, 3 * k + 3));
        }
        Path bidiKeras = dir.resolve("bidi_stacked.keras");
        KerasFileWriter.writeKeras(bidiKeras, JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                Map.of("name", "b", "layers", List.of(spec("InputLayer", "input", Map.of("batch_shape", nullFirst(-1, I))),
                        spec("Masking", "masking", Map.of("mask_value", 0.0)), bidi)))), bk3);
        Compare.assertIdentical("Bidirectional(RNN(StackedRNNCells)) (.keras)", biModel.predict(bx),
                KerasModelLoader.load(bidiKeras).model().predict(bx));

        // a cell rnnrt does not run is refused by name
        Map<String, Object> custom = new LinkedHashMap<>(stackedRnnSpec("rnn", true, false, false));
        @SuppressWarnings("unchecked")
        Map<String, Object> rnnCfg = new LinkedHashMap<>((Map<String, Object>) custom.get("config"));
        rnnCfg.put("cell", Map.of("class_name", "StackedRNNCells", "config", Map.of("name", "stacked_rnn_cells",
                "cells", List.of(Map.of("class_name", "PeepholeLSTMCell", "config", Map.of("units", 3))))));
        Path customFile = dir.resolve("custom_cell.h5");
        KerasFileWriter.writeHdf5(customFile, "2.9.0", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                Map.of("name", "c", "layers", List.of(spec("Masking", "masking",
                        Map.of("mask_value", 0.0, "batch_input_shape", nullFirst(-1, I))),
                        Map.of("class_name", "RNN", "config", rnnCfg))))), Map.of());
        assertRefusal(customFile, "layer 'rnn' (RNN)", "cell 0 of its StackedRNNCells is 'PeepholeLSTMCell'");
    }

    /**
     * Stacked cells whose config freezes the first cell (trainable=False): Keras 2 saves the trainable
     * cells' weights first, then the frozen cell's, and the loader puts them back in cell order.
     * The rule for masked steps: unroll=True (an unrolled loop repeats the previous output) and
     * Theano turn it off; files whose backend or rules are uncertain say so in a warning.
     */
    @Test
    void stackedCellsWithAFrozenCellAndTheMaskedStepRules() {
        StackedRnn expected = javaStack("rnn", true, false, false);
        List<Tensor> w = randomStackWeights(expected, I);
        expected.setWeights(w);
        Model java = Model.sequential("java").input(-1, I).add(Masking.of("masking", 0.0)).add(expected).build();
        Map<String, Object> rnn = stackedRnnSpec("rnn", true, false, false);
        @SuppressWarnings("unchecked")
        Map<String, Object> rnnCfg = new LinkedHashMap<>((Map<String, Object>) rnn.get("config"));
        @SuppressWarnings("unchecked")
        Map<String, Object> stacked = (Map<String, Object>) ((Map<String, Object>) rnnCfg.get("cell")).get("config");
        @SuppressWarnings("unchecked")
        List<Object> cells = new ArrayList<>((List<Object>) stacked.get("cells"));
        @SuppressWarnings("unchecked")
        Map<String, Object> first = new LinkedHashMap<>((Map<String, Object>) ((Map<String, Object>) cells.get(0)).get("config"));
        first.put("trainable", false);
        cells.set(0, Map.of("class_name", "LSTMCell", "config", first));
        rnnCfg.put("cell", Map.of("class_name", "StackedRNNCells", "config", Map.of("name", "stacked_rnn_cells",
                "cells", cells)));
        JsonNode k2 = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k2",
                "layers", List.of(spec("Masking", "masking",
                        Map.of("mask_value", 0.0, "batch_input_shape", nullFirst(-1, I))),
                        Map.of("class_name", "RNN", "config", rnnCfg)))));
        KerasFileWriter.LayerWeights rw = new KerasFileWriter.LayerWeights();
        String[] names = {"kernel:0", "recurrent_kernel:0", "bias:0"};
        for (int k : new int[] {1, 2, 0}) {                  // the trainable cells, then the frozen one
            for (int j = 0; j < 3; j++) {
                rw.put("rnn/cell_" + k + "/" + names[j], w.get(3 * k + j));
            }
        }
        Path h5 = dir.resolve("frozen_cell.h5");
        KerasFileWriter.writeHdf5(h5, "2.9.0", k2, Map.of("rnn", rw));
        Tensor x = paddedInput();
        Compare.assertIdentical("a frozen first cell", java.predict(x), KerasModelLoader.load(h5).model().predict(x));

        // the same stack in Bidirectional: both stacks' trainable cells first, then both frozen cells
        StackedRnn plainStack = javaStack("rnn", true, false, false);
        plainStack.build(I);
        BidirectionalStack bi = BidirectionalStack.of("bidirectional", plainStack, Bidirectional.MergeMode.SUM, true);
        bi.build(I);
        List<Tensor> bw = new ArrayList<>();
        for (Tensor t : bi.getWeights()) {
            bw.add(random.uniform(0.6, t.shape()));
        }
        bi.setWeights(bw);
        Model biJava = Model.sequential("java").input(-1, I).add(Masking.of("masking", 0.0)).add(bi).build();
        KerasFileWriter.LayerWeights bwh = new KerasFileWriter.LayerWeights();
        int[][] order = {{0, 1}, {0, 2}, {1, 1}, {1, 2}, {0, 0}, {1, 0}};     // {direction, cell}
        for (int[] o : order) {
            for (int j = 0; j < 3; j++) {
                bwh.put("bidirectional/" + (o[0] == 0 ? "forward" : "backward") + "/cell_" + o[1] + "/" + names[j],
                        bw.get(9 * o[0] + 3 * o[1] + j));
            }
        }
        JsonNode biCfg = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k2",
                "layers", List.of(spec("Masking", "masking",
                        Map.of("mask_value", 0.0, "batch_input_shape", nullFirst(-1, I))),
                        spec("Bidirectional", "bidirectional", Map.of("merge_mode", "sum",
                                "layer", Map.of("class_name", "RNN", "config", rnnCfg)))))));
        Path biH5 = dir.resolve("frozen_cell_bidirectional.h5");
        KerasFileWriter.writeHdf5(biH5, "2.9.0", biCfg, Map.of("bidirectional", bwh));
        Compare.assertIdentical("a frozen first cell in both directions", biJava.predict(x),
                KerasModelLoader.load(biH5).model().predict(x));
        // the Bidirectional layer itself frozen: each direction in turn. tf.keras 2.6-2.11 froze it only
        // through the trainable setter, which freezes every nested layer: each direction's cells in order.
        // tf.keras 2.12+ wrote either that or each direction's trainable cells first: refused.
        JsonNode frozenBiCfg = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k2",
                "layers", List.of(spec("Masking", "masking",
                        Map.of("mask_value", 0.0, "batch_input_shape", nullFirst(-1, I))),
                        spec("Bidirectional", "bidirectional", Map.of("merge_mode", "sum", "trainable", false,
                                "layer", Map.of("class_name", "RNN", "config", rnnCfg)))))));
        int[][] cellOrder = {{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}};
        for (Object[] c : new Object[][] {{"2.9.0", cellOrder}, {"2.6.0", cellOrder}, {"2.11.0", cellOrder}}) {
            KerasFileWriter.LayerWeights fwh = new KerasFileWriter.LayerWeights();
            for (int[] o : (int[][]) c[1]) {
                for (int j = 0; j < 3; j++) {
                    fwh.put("bidirectional/" + (o[0] == 0 ? "forward" : "backward") + "/cell_" + o[1] + "/" + names[j],
                            bw.get(9 * o[0] + 3 * o[1] + j));
                }
            }
            Path frozenBi = dir.resolve("frozen_bidirectional_" + c[0] + ".h5");
            KerasFileWriter.writeHdf5(frozenBi, (String) c[0], frozenBiCfg, Map.of("bidirectional", fwh));
            Model loadedBi = KerasModelLoader.load(frozenBi).model();
            Compare.assertIdentical(c[0] + ": a frozen Bidirectional around a stack with a frozen cell",
                    biJava.predict(x), loadedBi.predict(x));
        }
        for (String v : new String[] {"2.12.0", "2.15.0", "2.5.0", "2.2.4-tf"}) {
            Path ambiguous = dir.resolve("frozen_bidirectional_" + v + ".h5");
            KerasFileWriter.writeHdf5(ambiguous, v, frozenBiCfg, Map.of("bidirectional", bwh));
            assertRefusal(ambiguous, "layer 'bidirectional' (Bidirectional)", "frozen (trainable=False) around stacked "
                    + "cells", "Save the model with the Bidirectional trainable");
        }

        // unroll=True: Keras 2.2.4's unrolled TensorFlow loop repeats the previous output
        Map<String, Object> unrolled = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of("unroll", true), H));
        Map<String, Object> looped = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of(), H));
        for (Map<String, Object> layer : List.of(unrolled, looped)) {
            JsonNode cfg = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "u",
                    "layers", List.of(spec("Masking", "masking", Map.of("mask_value", 0.0,
                            "batch_input_shape", nullFirst(-1, I))), layer))));
            Path f = dir.resolve("unroll_" + (layer == unrolled) + ".h5");
            KerasFileWriter.writeHdf5(f, "2.2.4", cfg, Map.of("lstm", recurrentH5Weights("lstm", "lstm_cell",
                    randomWeights(Lstm.builder(H).build(), I))));
            RecurrentLayer l = (RecurrentLayer) KerasModelLoader.load(f).model().layers().get(1);
            assertEquals(layer != unrolled, l.maskedOutputIsState(), "unroll=" + (layer == unrolled));
        }

        // a stateful masked LSTM: the masked-step rule matters; warnings where the file leaves it uncertain
        Map<String, Object> statefulLstm = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of("stateful", true), H));
        JsonNode statefulCfg = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "s",
                "layers", List.of(spec("Masking", "masking", Map.of("mask_value", 0.0,
                        "batch_input_shape", Arrays.asList(2, null, I))), statefulLstm))));
        KerasFileWriter.LayerWeights lw = recurrentH5Weights("lstm", "lstm_cell", randomWeights(Lstm.builder(H).build(), I));
        String[][] cases = {{"1.2.2", null, "does not record the backend", "read as tensorflow"},
            {"1.0.6", null, "does not record the backend", "read as theano"}, {"2.2.4", "cntk", "CNTK backend", "cell state c"},
            {"2.1.6-tf", "tensorflow", "tf.keras 2.1.6-tf", "TensorFlow 1.11 and 1.12"}};
        for (String[] c : cases) {
            Path f = dir.resolve("warn_" + c[0] + c[1] + ".h5");
            KerasFileWriter.writeHdf5(f, c[0], c[1], statefulCfg, Map.of("lstm", lw));
            LoadedModel m = KerasModelLoader.load(f);
            assertTrue(m.warnings().stream().anyMatch(t -> t.contains(c[2]) && t.contains(c[3])),
                    c[0] + " " + c[1] + ": " + m.warnings());
        }
        Path quiet = dir.resolve("quiet.h5");
        KerasFileWriter.writeHdf5(quiet, "2.2.4", "tensorflow", statefulCfg, Map.of("lstm", lw));
        LoadedModel loaded = KerasModelLoader.load(quiet);
        assertEquals(List.of(), loaded.warnings(), "a file that says all it needs to");
        // its batch_input_shape fixes the batch: each call takes 2 sequences, and predict runs 2 at a time
        assertEquals(2, loaded.model().fixedBatchSize().getAsInt());
        Tensor four = random.uniform(1, 4, 3, I);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> loaded.model().predict(List.of(four), 256));
        assertTrue(e.getMessage().contains("fixed batch size of 2"), e.getMessage());
        assertEquals(4, loaded.model().predict(List.of(four), 2).get(0).dim(0));

        // inside a nested model, the stateful layer still fixes the batch of the model it runs in
        JsonNode nested = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "outer",
                "layers", List.of(Map.of("class_name", "Sequential", "config", Map.of("name", "s",
                        "layers", List.of(spec("Masking", "masking", Map.of("mask_value", 0.0,
                                "batch_input_shape", Arrays.asList(2, null, I))), statefulLstm)))))));
        Path nestedFile = dir.resolve("nested_stateful.h5");
        KerasFileWriter.writeHdf5(nestedFile, "2.2.4", "tensorflow", nested, Map.of("s", lw));
        Model inner = KerasModelLoader.load(nestedFile).model();
        assertTrue(inner.isStateful());
        assertEquals(2, inner.fixedBatchSize().getAsInt());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> inner.predict(List.of(four), 256));
        loaded.model().resetStates();
        Compare.assertIdentical("nested stateful, batches of 2", loaded.model().predict(List.of(four), 2).get(0),
                inner.predict(List.of(four), 2).get(0));
    }

    /**
     * A Keras 3 hierarchical model: TimeDistributed around a functional sentence encoder
     * (Embedding(mask_zero), GRU), its weights under time_distributed/layer/layers/…, then an LSTM over
     * the sentences; equal to the same built in Java with {@link dev.rnnrt.model.NestedModel}. In a
     * Keras 2 file, an inner model whose output carries a mask is refused (tf.keras passes such masks
     * on per step).
     */
    @Test
    void timeDistributedAroundAModel() throws IOException {
        Embedding emb = Embedding.of("sentences/embedding", 9, I, true, Initializer.zeros());
        Tensor table = random.uniform(1, 9, I);
        emb.setWeights(List.of(table));
        Gru gru = Gru.builder(H).name("sentences/gru").resetAfter(true).build();
        List<Tensor> gw = randomWeights(gru, I);
        gru.setWeights(gw);
        Model encoder = Model.functional("encoder").input("words", 5).add(emb, "words").add(gru, "sentences/embedding")
                .outputs("sentences/gru").build();
        Lstm lstm = Lstm.builder(2).name("lstm").build();
        List<Tensor> lw = randomWeights(lstm, H);
        lstm.setWeights(lw);
        Model java = Model.functional("java").input("doc", 3, 5)
                .add(TimeDistributed.of("sentences", new dev.rnnrt.model.NestedModel("sentences/encoder", "Functional",
                        encoder)), "doc")
                .add(lstm, "sentences").outputs("lstm").build();

        Map<String, Object> words = new LinkedHashMap<>(spec("InputLayer", "words", Map.of("batch_shape", nullFirst(5))));
        words.put("name", "words");
        words.put("inbound_nodes", List.of());
        Map<String, Object> embSpec = new LinkedHashMap<>(spec("Embedding", "embedding",
                Map.of("input_dim", 9, "output_dim", I, "mask_zero", true)));
        embSpec.put("name", "embedding");
        embSpec.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("words", 0)), "kwargs", Map.of())));
        Map<String, Object> gruSpec = new LinkedHashMap<>(layerSpec("GRU", "gru", Map.of("reset_after", true), H));
        gruSpec.put("name", "gru");
        gruSpec.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("embedding", 0)), "kwargs", Map.of())));
        Map<String, Object> inner = Map.of("class_name", "Functional", "config", Map.of("name", "encoder",
                "layers", List.of(words, embSpec, gruSpec), "input_layers", List.of(List.of("words", 0, 0)),
                "output_layers", List.of(List.of("gru", 0, 0))));
        Map<String, Object> td = new LinkedHashMap<>(spec("TimeDistributed", "sentences", Map.of("layer", inner)));
        td.put("name", "sentences");
        td.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("doc", 0)), "kwargs", Map.of())));
        Map<String, Object> outer = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of(), 2));
        outer.put("name", "lstm");
        outer.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("sentences", 0)), "kwargs", Map.of())));
        Map<String, Object> doc = new LinkedHashMap<>(spec("InputLayer", "doc", Map.of("batch_shape", nullFirst(3, 5))));
        doc.put("name", "doc");
        doc.put("inbound_nodes", List.of());
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "hier",
                "layers", List.of(doc, td, outer), "input_layers", List.of(List.of("doc", 0, 0)),
                "output_layers", List.of(List.of("lstm", 0, 0)))));
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("time_distributed/layer/layers/embedding", List.of(table));
        weights.put("time_distributed/layer/layers/gru/cell", gw);
        weights.put("lstm/cell", lw);
        Path file = dir.resolve("hierarchical.keras");
        KerasFileWriter.writeKeras(file, config, weights);
        float[] ids = new float[2 * 3 * 5];
        for (int k = 0; k < ids.length; k++) {
            ids[k] = 1 + (7 * k) % 8;
        }
        ids[3] = 0;
        ids[4] = 0;                                   // a sentence padded at its end
        Arrays.fill(ids, 25, 30, 0f);                 // a sentence of padding only
        Tensor x = Tensor.wrap(ids, 2, 3, 5);
        LoadedModel loaded = KerasModelLoader.load(file);
        Compare.assertIdentical("TimeDistributed(Functional)", java.predict(x), loaded.model().predict(x));
        assertTrue(loaded.model().summary().contains("model=encoder(Embedding, GRU)"), loaded.model().summary());

        // Keras 2: an inner model whose output keeps its mask (GRU with return_sequences)
        Map<String, Object> seqGru = new LinkedHashMap<>(layerSpec("GRU", "gru", Map.of("reset_after", true,
                "return_sequences", true), H));
        seqGru.put("name", "gru");
        seqGru.put("inbound_nodes", List.of(List.of(List.of("embedding", 0, 0, Map.of()))));
        Map<String, Object> k2words = new LinkedHashMap<>(spec("InputLayer", "words",
                Map.of("batch_input_shape", nullFirst(5))));
        k2words.put("name", "words");
        k2words.put("inbound_nodes", List.of());
        Map<String, Object> k2emb = new LinkedHashMap<>(embSpec);
        k2emb.put("inbound_nodes", List.of(List.of(List.of("words", 0, 0, Map.of()))));
        Map<String, Object> k2inner = Map.of("class_name", "Model", "config", Map.of("name", "encoder",
                "layers", List.of(k2words, k2emb, seqGru), "input_layers", List.of(List.of("words", 0, 0)),
                "output_layers", List.of(List.of("gru", 0, 0))));
        JsonNode k2 = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "s", "layers",
                List.of(spec("TimeDistributed", "sentences", Map.of("layer", k2inner,
                        "batch_input_shape", nullFirst(3, 5)))))));
        Path h5 = dir.resolve("hierarchical_masked_output.h5");
        KerasFileWriter.writeHdf5(h5, "2.9.0", k2, Map.of());
        assertRefusal(h5, "'sentences' (TimeDistributed)", "gives output 0 a mask", "Keras 2 passes on");
    }

    /** LSTM(H), GRU(2, reset_after), LSTM(H) stacked, as {@link #stackedRnnSpec} describes. */
    private static StackedRnn javaStack(String name, boolean sequences, boolean state, boolean backwards) {
        return StackedRnn.builder(Lstm.builder(H).build(), Gru.builder(2).resetAfter(true).build(), Lstm.builder(H).build())
                .name(name).returnSequences(sequences).returnState(state).goBackwards(backwards).build();
    }

    /** Keras' RNN layer config around StackedRNNCells of LSTMCell(H), GRUCell(2), LSTMCell(H). */
    private static Map<String, Object> stackedRnnSpec(String name, boolean sequences, boolean state, boolean backwards) {
        List<Object> cells = new ArrayList<>();
        String[][] specs = {{"LSTMCell", "lstm_cell"}, {"GRUCell", "gru_cell"}, {"LSTMCell", "lstm_cell_1"}};
        for (String[] c : specs) {
            Map<String, Object> cfg = new LinkedHashMap<>();
            cfg.put("name", c[1]);
            cfg.put("units", c[0].equals("GRUCell") ? 2 : H);
            cfg.put("activation", "tanh");
            cfg.put("recurrent_activation", "sigmoid");
            cfg.put("use_bias", true);
            if (c[0].equals("GRUCell")) {
                cfg.put("reset_after", true);
            } else {
                cfg.put("unit_forget_bias", true);
            }
            cells.add(Map.of("class_name", c[0], "config", cfg));
        }
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("return_sequences", sequences);
        cfg.put("return_state", state);
        cfg.put("go_backwards", backwards);
        cfg.put("stateful", false);
        cfg.put("unroll", false);
        cfg.put("zero_output_for_mask", false);
        cfg.put("cell", Map.of("class_name", "StackedRNNCells", "config", Map.of("name", "stacked_rnn_cells",
                "cells", cells)));
        return spec("RNN", name, cfg);
    }

    private List<Tensor> randomStackWeights(StackedRnn stack, int inputSize) {
        stack.build(inputSize);
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : stack.getWeights()) {
            out.add(random.uniform(0.6, t.shape()));
        }
        return out;
    }

    private static double[] toDoubles(Tensor t) {
        double[] d = new double[t.size()];
        for (int k = 0; k < d.length; k++) {
            d[k] = t.data()[k];
        }
        return d;
    }

    /**
     * Attention in a Keras 3 functional model, called with use_causal_mask and
     * return_attention_scores (keyword arguments of its node), with a scale weight.
     */
    @Test
    void keras3AttentionWithCallOptions() throws IOException {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Attention attention = new Attention("attention", Attention.Score.CONCAT, true, true, true);
        List<Tensor> aw = List.of(Tensor.of(new float[] {0.7f}), Tensor.of(new float[] {1.3f}));
        attention.setWeights(aw);
        Model java = Model.functional("java").input("x", -1, I).add(lstm, "x").add(attention, "lstm", "lstm")
                .outputs("attention", "attention[1]").build();

        Map<String, Object> lstmSpec = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of("return_sequences", true), H));
        lstmSpec.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("x", 0)), "kwargs", Map.of())));
        Map<String, Object> attSpec = new LinkedHashMap<>(spec("Attention", "attention",
                Map.of("use_scale", true, "score_mode", "concat", "dropout", 0.0)));
        attSpec.put("inbound_nodes", List.of(Map.of("args", List.of(List.of(tensor("lstm", 0), tensor("lstm", 0))),
                "kwargs", Map.of("use_causal_mask", true, "return_attention_scores", true,
                        "mask", Arrays.asList(null, null)))));   // Keras 3 records the masks it passed: none
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "att",
                "layers", List.of(input("x"), lstmSpec, attSpec),
                "input_layers", List.of(List.of("x", 0, 0)),
                "output_layers", List.of(List.of("attention", 0, 0), List.of("attention", 0, 1)))));
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("lstm/cell", lw);
        weights.put("attention", aw);
        Path file = dir.resolve("attention.keras");
        KerasFileWriter.writeKeras(file, config, weights);

        Model loaded = KerasModelLoader.load(file).model();
        Tensor x = random.uniform(1, 2, 5, I);
        List<Tensor> expected = java.predict(List.of(x));
        List<Tensor> actual = loaded.predict(List.of(x));
        Compare.assertIdentical("attention output", expected.get(0), actual.get(0));
        Compare.assertIdentical("attention weights", expected.get(1), actual.get(1));
        float[] w = actual.get(1).data();
        assertEquals(1f, w[0], 1e-6f, "causal: the first query step attends to the first value step only");
    }

    /** AdditiveAttention in a tf.keras 2 functional file: its scale vector, masks from Masking on both inputs. */
    @Test
    void keras2AdditiveAttentionWithMasks() {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Attention attention = new Attention("additive_attention", Attention.Score.ADDITIVE, true, false, false);
        Tensor scale = random.uniform(1, H);
        attention.setWeights(List.of(scale));
        Model java = Model.functional("java").input("q", -1, I).input("v", -1, H)
                .add(Masking.of("masking", 0.0), "q").add(Masking.of("masking_1", 0.0), "v")
                .add(lstm, "masking").add(attention, "lstm", "masking_1").outputs("additive_attention").build();

        String json = "{\"class_name\": \"Model\", \"config\": {\"name\": \"m\", \"layers\": ["
                + "{\"name\": \"q\", \"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, null, " + I
                + "], \"name\": \"q\"}, \"inbound_nodes\": []},"
                + "{\"name\": \"v\", \"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, null, " + H
                + "], \"name\": \"v\"}, \"inbound_nodes\": []},"
                + "{\"name\": \"masking\", \"class_name\": \"Masking\", \"config\": {\"name\": \"masking\", \"mask_value\": 0.0},"
                + " \"inbound_nodes\": [[[\"q\", 0, 0, {}]]]},"
                + "{\"name\": \"masking_1\", \"class_name\": \"Masking\", \"config\": {\"name\": \"masking_1\", \"mask_value\": 0.0},"
                + " \"inbound_nodes\": [[[\"v\", 0, 0, {}]]]},"
                + "{\"name\": \"lstm\", \"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm\", \"units\": " + H
                + ", \"return_sequences\": true, \"activation\": \"tanh\", \"recurrent_activation\": \"sigmoid\"},"
                + " \"inbound_nodes\": [[[\"masking\", 0, 0, {}]]]},"
                + "{\"name\": \"additive_attention\", \"class_name\": \"AdditiveAttention\", \"config\": {\"name\":"
                + " \"additive_attention\", \"use_scale\": true, \"dropout\": 0.0},"
                + " \"inbound_nodes\": [[[\"lstm\", 0, 0, {}], [\"masking_1\", 0, 0, {}]]]}],"
                + "\"input_layers\": [[\"q\", 0, 0], [\"v\", 0, 0]], \"output_layers\": [[\"additive_attention\", 0, 0]]}}";
        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        KerasFileWriter.LayerWeights rw = recurrentH5Weights("lstm", "lstm_cell", lw);
        weights.put("lstm", rw);
        weights.put("additive_attention", new KerasFileWriter.LayerWeights().put("additive_attention/scale:0", scale));
        Path file = dir.resolve("additive.h5");
        try {
            KerasFileWriter.writeHdf5(file, "2.9.0", JSON.readTree(json), weights);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Model loaded = KerasModelLoader.load(file).model();
        Tensor q = paddedInput();
        Tensor v = random.uniform(1, q.dim(0), 4, H);
        for (int f = 0; f < H; f++) {
            v.data()[(0 * 4 + 3) * H + f] = 0;             // the first row's last value step is padding
        }
        Compare.assertIdentical("additive attention", java.predict(List.of(q, v)).get(0),
                loaded.predict(List.of(q, v)).get(0));
    }

    /** The activation layers with parameters in a tf.keras 2 file: their config keys and PReLU's weights. */
    @Test
    void keras2ActivationLayers() {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        PRelu prelu = new PRelu("p_re_lu");
        Tensor alpha = random.uniform(0.5, 1, H);
        prelu.setWeights(List.of(alpha));
        Model java = Model.sequential("java").input(-1, I).add(lstm)
                .add(AdvancedActivation.leakyRelu("leaky_re_lu", 0.2)).add(prelu)
                .add(AdvancedActivation.relu("re_lu", 0.5, 0.05, 0.1)).add(AdvancedActivation.elu("elu", 0.7))
                .add(ActivationLayer.softmaxLayer("softmax")).build();
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "acts",
                "layers", List.of(
                        layerSpec("LSTM", "lstm", Map.of("return_sequences", true, "batch_input_shape", nullFirst(-1, I)), H),
                        spec("LeakyReLU", "leaky_re_lu", Map.of("alpha", 0.2)),
                        spec("PReLU", "p_re_lu", Map.of("shared_axes", List.of(1))),
                        spec("ReLU", "re_lu", Map.of("max_value", 0.5, "negative_slope", 0.05, "threshold", 0.1)),
                        spec("ELU", "elu", Map.of("alpha", 0.7)),
                        spec("Softmax", "softmax", Map.of("axis", -1))))));
        KerasFileWriter.LayerWeights rw = recurrentH5Weights("lstm", "lstm_cell", lw);
        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        weights.put("lstm", rw);
        weights.put("p_re_lu", new KerasFileWriter.LayerWeights().put("p_re_lu/alpha:0", alpha));
        Path file = dir.resolve("activations.h5");
        KerasFileWriter.writeHdf5(file, "2.4.0", config, weights);
        Tensor x = random.uniform(1, 2, T, I);
        Compare.assertIdentical("activation layers", java.predict(x), KerasModelLoader.load(file).model().predict(x));
    }

    /**
     * The activations Keras 3.7 to 3.10 added, named in a Keras 3.10 archive: an LSTM with one as its
     * activation, a GRU with it as its recurrent_activation, then TimeDistributed(Dense), an
     * Activation layer (after a linear Dense) and a Dense layer with it. The loaded model, on the
     * reference and on the fast CPU path, against the same network computed here in float64 from
     * Keras' equations and the formulas of {@link KerasActivationFormulas}.
     */
    @Test
    void keras3ArchiveNamingTheActivationsAddedIn37To310() throws IOException {
        int units = 4;
        for (Map.Entry<Activation, DoubleUnaryOperator> e : KerasActivationFormulas.added().entrySet()) {
            String name = e.getKey().kerasName();
            DoubleUnaryOperator f = e.getValue();
            RandomTensors r = new RandomTensors(4711L + e.getKey().ordinal());
            Tensor x = r.uniform(2, 3, T, I);
            // each layer computed here first, so that the Dense kernels can be scaled to spread their
            // pre-activations over the new activations' thresholds (±0.5, ±1) rather than a flat part
            List<Tensor> lw = List.of(r.uniform(1.2, I, 4 * H), r.uniform(0.3, H, 4 * H), r.uniform(0.5, 4 * H));
            List<Tensor> gw = List.of(r.uniform(1.2, H, 3 * H), r.uniform(0.3, H, 3 * H), r.uniform(0.5, 2, 3 * H));
            double[][][] seq = lstmByHand(byStep(x), lw, f, v -> 1 / (1 + Math.exp(-v)));
            seq = gruByHand(seq, gw, Math::tanh, f);
            List<Tensor> tw = spread(r, seq, units);
            seq = denseByHand(seq, tw, f);
            List<Tensor> lin = spread(r, seq, units);
            seq = denseByHand(seq, lin, v -> v);
            for (double[][] steps : seq) {
                for (double[] step : steps) {
                    Arrays.setAll(step, k -> f.applyAsDouble(step[k]));
                }
            }
            List<Tensor> dw = spread(r, seq, 2);
            seq = denseByHand(seq, dw, f);
            double[] expected = Arrays.stream(seq).flatMap(Arrays::stream).flatMapToDouble(Arrays::stream).toArray();
            int[] shape = {3, T, 2};
            assertTrue(Arrays.stream(expected).distinct().count() > expected.length / 4,
                    name + ": outputs off the activation's constant parts");

            JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "acts",
                    "layers", List.of(
                            spec("InputLayer", "input", Map.of("batch_shape", nullFirst(T, I))),
                            layerSpec("LSTM", "lstm", Map.of("return_sequences", true, "activation", name), H),
                            layerSpec("GRU", "gru", Map.of("return_sequences", true, "reset_after", true,
                                    "recurrent_activation", name), H),
                            spec("TimeDistributed", "time_distributed", Map.of("layer",
                                    spec("Dense", "inner", Map.of("units", units, "activation", name)))),
                            spec("Dense", "dense", Map.of("units", units, "activation", "linear")),
                            spec("Activation", "activation", Map.of("activation", name)),
                            spec("Dense", "dense_1", Map.of("units", 2, "activation", name))))));
            Map<String, List<Tensor>> weights = new LinkedHashMap<>();
            weights.put("lstm/cell", lw);
            weights.put("gru/cell", gw);
            weights.put("time_distributed/layer", tw);
            weights.put("dense", lin);
            weights.put("dense_1", dw);
            Path file = dir.resolve(name + ".keras");
            KerasFileWriter.writeKeras(file, "3.10.0", config, weights, Map.of());
            Compare.assertClose(name + " (reference)", shape, expected, KerasModelLoader.load(file).model().predict(x),
                    Tolerance.FP32);
            Compare.assertClose(name + " (fast CPU path)", shape, expected,
                    KerasModelLoader.load(file, dev.rnnrt.backend.cpu.RecurrentCpu.INSTANCE).model().predict(x),
                    Tolerance.FP32);
        }
    }

    /**
     * Dense weights [kernel [in, units], bias [units]] for the values {@code in}: random, the kernel
     * scaled so that the products x · kernel have an RMS of 1.5, and a bias within ±0.3.
     */
    private static List<Tensor> spread(RandomTensors r, double[][][] in, int units) {
        Tensor kernel = r.uniform(1, in[0][0].length, units);
        double sum = 0;
        int n = 0;
        for (double[][] steps : in) {
            for (double[] step : steps) {
                for (int j = 0; j < units; j++) {
                    double v = dot(step, kernel, j);
                    sum += v * v;
                    n++;
                }
            }
        }
        double scale = 1.5 / Math.sqrt(sum / n);
        float[] k = kernel.data().clone();
        for (int i = 0; i < k.length; i++) {
            k[i] = (float) (k[i] * scale);
        }
        return List.of(Tensor.of(k, kernel.shape()), r.uniform(0.3, units));
    }

    private static double[][][] byStep(Tensor x) {
        double[][][] out = new double[x.dim(0)][x.dim(1)][x.dim(2)];
        for (int b = 0; b < x.dim(0); b++) {
            for (int t = 0; t < x.dim(1); t++) {
                for (int k = 0; k < x.dim(2); k++) {
                    out[b][t][k] = x.data()[(b * x.dim(1) + t) * x.dim(2) + k];
                }
            }
        }
        return out;
    }

    /** Σ_k v[k] · w[k, col] for a row-major [rows, cols] tensor. */
    private static double dot(double[] v, Tensor w, int col) {
        double s = 0;
        for (int k = 0; k < v.length; k++) {
            s += v[k] * w.data()[k * w.dim(1) + col];
        }
        return s;
    }

    /** Keras' LSTM from zero states, every step returned: gates i, f, c, o in the kernels' columns. */
    private static double[][][] lstmByHand(double[][][] x, List<Tensor> w, DoubleUnaryOperator act,
                                           DoubleUnaryOperator gate) {
        int h = w.get(1).dim(0);
        double[][][] out = new double[x.length][x[0].length][h];
        for (int b = 0; b < x.length; b++) {
            double[] hs = new double[h];
            double[] cs = new double[h];
            for (int t = 0; t < x[b].length; t++) {
                double[] next = new double[h];
                for (int j = 0; j < h; j++) {
                    double[] z = new double[4];
                    for (int q = 0; q < 4; q++) {
                        int col = q * h + j;
                        z[q] = dot(x[b][t], w.get(0), col) + dot(hs, w.get(1), col) + w.get(2).data()[col];
                    }
                    cs[j] = gate.applyAsDouble(z[1]) * cs[j] + gate.applyAsDouble(z[0]) * act.applyAsDouble(z[2]);
                    next[j] = gate.applyAsDouble(z[3]) * act.applyAsDouble(cs[j]);
                }
                hs = next;
                out[b][t] = next.clone();
            }
        }
        return out;
    }

    /**
     * Keras' GRU with reset_after=True from a zero state: gates z, r, h; bias row 0 for the input,
     * row 1 for the recurrent product; ĥ = act(x·W_h + b_h + r ⊙ (h·U_h + b'_h)), h' = z h + (1 − z) ĥ.
     */
    private static double[][][] gruByHand(double[][][] x, List<Tensor> w, DoubleUnaryOperator act,
                                          DoubleUnaryOperator gate) {
        int h = w.get(1).dim(0);
        float[] bias = w.get(2).data();
        double[][][] out = new double[x.length][x[0].length][h];
        for (int b = 0; b < x.length; b++) {
            double[] hs = new double[h];
            for (int t = 0; t < x[b].length; t++) {
                double[] next = new double[h];
                for (int j = 0; j < h; j++) {
                    double[] in = new double[3];
                    double[] rec = new double[3];
                    for (int q = 0; q < 3; q++) {
                        int col = q * h + j;
                        in[q] = dot(x[b][t], w.get(0), col) + bias[col];
                        rec[q] = dot(hs, w.get(1), col) + bias[3 * h + col];
                    }
                    double z = gate.applyAsDouble(in[0] + rec[0]);
                    double rr = gate.applyAsDouble(in[1] + rec[1]);
                    double cand = act.applyAsDouble(in[2] + rr * rec[2]);
                    next[j] = z * hs[j] + (1 - z) * cand;
                }
                hs = next;
                out[b][t] = next.clone();
            }
        }
        return out;
    }

    /** Keras' Dense on the last axis: act(x · kernel + bias). */
    private static double[][][] denseByHand(double[][][] x, List<Tensor> w, DoubleUnaryOperator act) {
        int units = w.get(0).dim(1);
        double[][][] out = new double[x.length][x[0].length][units];
        for (int b = 0; b < x.length; b++) {
            for (int t = 0; t < x[b].length; t++) {
                for (int j = 0; j < units; j++) {
                    out[b][t][j] = act.applyAsDouble(dot(x[b][t], w.get(0), j) + w.get(1).data()[j]);
                }
            }
        }
        return out;
    }

    /** activation: null in a config is Keras' activations.get(None), linear, not the layer's default. */
    @Test
    void aNullActivationIsLinear() {
        Lstm expected = Lstm.builder(H).name("rnn").returnSequences(true).activation(Activation.LINEAR)
                .recurrentActivation(Activation.LINEAR).build();
        List<Tensor> w = randomWeights(expected, I);
        expected.setWeights(w);
        Model java = Model.sequential("java").input(-1, I).add(expected).build();
        Map<String, Object> cfg = new LinkedHashMap<>(layerSpec("LSTM", "rnn", Map.of("return_sequences", true), H));
        @SuppressWarnings("unchecked")
        Map<String, Object> inner = (Map<String, Object>) cfg.get("config");
        Map<String, Object> withNulls = new LinkedHashMap<>(inner);
        withNulls.put("activation", null);
        withNulls.put("recurrent_activation", null);
        withNulls.put("batch_input_shape", nullFirst(-1, I));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "nulls",
                "layers", List.of(Map.of("class_name", "LSTM", "config", withNulls)))));
        KerasFileWriter.LayerWeights rw = recurrentH5Weights("rnn", "lstm_cell", w);
        Path file = dir.resolve("nulls.h5");
        KerasFileWriter.writeHdf5(file, "2.4.0", config, Map.of("rnn", rw));
        Tensor x = random.uniform(1, 2, T, I);
        Compare.assertIdentical("activation=None", java.predict(x), KerasModelLoader.load(file).model().predict(x));
    }

    /**
     * A Keras 3 functional graph with Embedding(mask_zero=True), as Keras saves it: the operation that
     * computed the mask (NotEqual) is in the graph, and each later call records the mask it was
     * given. rnnrt skips the operation, checks that its own rules give those layers the same masks,
     * and refuses graphs where they differ, masks passed by hand, and layers fed by an operation.
     */
    @Test
    void keras3GraphsRecordTheirMasks() throws IOException {
        MaskedGraph g = maskedGraph();
        Model java = g.java();
        Tensor ids = g.ids();
        Map<String, List<Tensor>> weights = g.weights();

        Map<String, Object> computed = tensor("not_equal", 0);
        Path good = kerasGraph("masked.keras", computed, computed, "embedding", weights);
        Compare.assertIdentical("masks recorded and matched", java.predict(ids),
                KerasModelLoader.load(good).model().predict(ids));

        Path none = kerasGraph("unmasked.keras", null, null, "embedding", weights);
        assertRefusal(none, "with no mask for its input 'embedding'", "rnnrt's rules give that input one");

        Path byHand = kerasGraph("by_hand.keras", tensor("ids", 0), tensor("ids", 0), "embedding", weights);
        assertRefusal(byHand, "'lstm' is called with a mask passed by hand");

        // mask=ops.not_equal(ids, 3): computed by an operation, but not the mask any layer makes
        Path otherMask = kerasGraph("other_mask.keras", tensor("not_equal_1", 0), computed, "embedding", weights);
        assertRefusal(otherMask, "the mask not_equal('ids', 3.0)", "but rnnrt's rules give that input the mask not_equal('ids', 0.0)");

        Path combined = kerasGraph("combined_mask.keras", tensor("logical_or", 0), computed, "embedding", weights);
        assertRefusal(combined, "a combination of the masks", "passed by hand");

        Path fromOp = kerasGraph("from_op.keras", computed, computed, "not_equal", weights);
        assertRefusal(fromOp, "the Keras operation 'not_equal' (NotEqual) is applied between layers", "GetItem");
    }

    /** The Java model {@link #kerasGraph} files must equal, its ids (padded) and the files' weights. */
    private record MaskedGraph(Model java, Tensor ids, Map<String, List<Tensor>> weights) {
    }

    /** ids -> Embedding(mask_zero) -> LSTM(seq) -> GlobalAveragePooling1D in Java, with random weights. */
    private MaskedGraph maskedGraph() {
        Embedding emb = Embedding.of("embedding", 7, I, true, Initializer.zeros());
        Tensor table = random.uniform(1, 7, I);
        emb.setWeights(List.of(table));
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Model java = Model.functional("java").input("ids", T).add(emb, "ids").add(lstm, "embedding")
                .add(new GlobalPooling1D("pool", Pooling1D.Mode.AVERAGE, false), "lstm").outputs("pool").build();
        Tensor ids = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 3, 5, 0, 0, 0, 0}, 2, T);
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("embedding", List.of(table));
        weights.put("lstm/cell", lw);
        return new MaskedGraph(java, ids, weights);
    }

    /**
     * Recorded masks that reach the layer through convert_to_tensor (Keras 3.7+ Attention passes its
     * mask on so) or an OR with zeros_like (a merge's stand-in for an unmasked input) are the
     * Embedding's mask; a mask made of zeros_like alone, or convert_to_tensor of the ids, is not.
     */
    @Test
    void keras3MasksThroughConvertToTensorAndZerosLike() throws IOException {
        MaskedGraph g = maskedGraph();
        Model java = g.java();
        Tensor ids = g.ids();
        Map<String, List<Tensor>> weights = g.weights();
        List<Map<String, Object>> ops = List.of(
                operation("ConvertToTensor", "convert_to_tensor", Map.of("name", "convert_to_tensor"),
                        List.of(tensor("not_equal", 0))),
                operation("ZerosLike", "zeros_like", Map.of("name", "zeros_like"), List.of(tensor("ids", 0))),
                operation("LogicalOr", "logical_or_z", Map.of("name", "logical_or_z"),
                        List.of(tensor("zeros_like", 0), tensor("not_equal", 0))),
                operation("LogicalOr", "zeros_only", Map.of("name", "zeros_only"),
                        List.of(tensor("zeros_like", 0), tensor("zeros_like", 0))),
                operation("ConvertToTensor", "convert_ids", Map.of("name", "convert_ids"), List.of(tensor("ids", 0))));
        Tensor expected = java.predict(ids);
        Path converted = kerasGraph("converted.keras", tensor("convert_to_tensor", 0), tensor("convert_to_tensor", 0),
                "embedding", weights, ops);
        Compare.assertIdentical("mask through convert_to_tensor", expected, KerasModelLoader.load(converted).model().predict(ids));
        Path orZeros = kerasGraph("or_zeros.keras", tensor("logical_or_z", 0), tensor("convert_to_tensor", 0),
                "embedding", weights, ops);
        Compare.assertIdentical("mask or zeros_like", expected, KerasModelLoader.load(orZeros).model().predict(ids));
        Path zerosOnly = kerasGraph("zeros_only.keras", tensor("zeros_only", 0), tensor("convert_to_tensor", 0),
                "embedding", weights, ops);
        assertRefusal(zerosOnly, "'lstm'", "computed by the operation 'zeros_only'", "not the mask of a Masking");
        Path convertIds = kerasGraph("convert_ids.keras", tensor("convert_ids", 0), tensor("convert_to_tensor", 0),
                "embedding", weights, ops);
        assertRefusal(convertIds, "'lstm'", "computed by the operation 'convert_ids'");
    }

    /**
     * Keras 3 passes no mask by itself to a recurrent layer given initial_state (the call has more
     * than one tensor argument), but still sets its input's mask on its output: a masked decoder so
     * called computes every step, and the LSTM after it (whose recorded mask is the Masking's) skips
     * the masked steps. With mask=... passed by hand from the ops that computed it, the decoder skips
     * them too.
     */
    @Test
    void keras3DecoderGivenInitialStateComputesUnmaskedAndPassesTheMaskOn() throws IOException {
        Lstm encoder = Lstm.builder(H).name("encoder").returnState(true).build();
        List<Tensor> ew = randomWeights(encoder, I);
        encoder.setWeights(ew);
        Lstm decoder = Lstm.builder(H).name("decoder").returnSequences(true).build();
        List<Tensor> dw = randomWeights(decoder, I);
        decoder.setWeights(dw);
        Lstm reader = Lstm.builder(H).name("reader").build();
        List<Tensor> rw = randomWeights(reader, H);
        reader.setWeights(rw);
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("lstm/cell", ew);
        weights.put("lstm_1/cell", dw);
        weights.put("lstm_2/cell", rw);
        Tensor padded = paddedInput();
        Tensor encIn = random.uniform(1, padded.dim(0), 5, I);
        Mask mask = Masking.of("expected", 0.0).outputMasks(List.of(padded), java.util.Collections.singletonList(null),
                List.of(padded)).get(0);
        RecurrentOutput enc = encoder.call(encIn);
        for (boolean passed : new boolean[] {false, true}) {
            Map<String, Object> enc0 = new LinkedHashMap<>(layerSpec("LSTM", "encoder", Map.of("return_state", true), H));
            enc0.put("name", "encoder");
            enc0.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("enc_in", 0)), "kwargs", Map.of())));
            Map<String, Object> masking = new LinkedHashMap<>(spec("Masking", "masking", Map.of("mask_value", 0.0)));
            masking.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("dec_in", 0)), "kwargs", Map.of())));
            Map<String, Object> notEqual = operation("NotEqual", "not_equal", Map.of("name", "not_equal"),
                    List.of(tensor("dec_in", 0), 0.0));
            Map<String, Object> op = operation("Any", "any", Map.of("axis", -1, "keepdims", false),
                    List.of(tensor("not_equal", 0)));
            Map<String, Object> dec = new LinkedHashMap<>(layerSpec("LSTM", "decoder", Map.of("return_sequences", true), H));
            dec.put("name", "decoder");
            Map<String, Object> kwargs = new LinkedHashMap<>();
            kwargs.put("initial_state", List.of(tensor("encoder", 1), tensor("encoder", 2)));
            if (passed) {
                kwargs.put("mask", tensor("any", 0));
            }
            dec.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("masking", 0)), "kwargs", kwargs)));
            Map<String, Object> read = new LinkedHashMap<>(layerSpec("LSTM", "reader", Map.of(), H));
            read.put("name", "reader");
            read.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("decoder", 0)),
                    "kwargs", Map.of("mask", tensor("any", 0)))));
            JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "s2s",
                    "layers", List.of(input("enc_in"), input("dec_in"), enc0, notEqual, op, masking, dec, read),
                    "input_layers", List.of(List.of("enc_in", 0, 0), List.of("dec_in", 0, 0)),
                    "output_layers", List.of(List.of("decoder", 0, 0), List.of("reader", 0, 0)))));
            Path file = dir.resolve("s2s_" + passed + ".keras");
            KerasFileWriter.writeKeras(file, config, weights);
            Tensor decoded = decoder.call(padded, List.of(enc.h(), enc.c()), passed ? mask : null).output();
            List<Tensor> loaded = KerasModelLoader.load(file).model().predict(List.of(encIn, padded));
            String where = passed ? "decoder given its mask" : "decoder given initial_state alone";
            Compare.assertIdentical(where, decoded, loaded.get(0));
            Compare.assertIdentical(where + ": the reader after it", reader.call(decoded, mask).output(), loaded.get(1));
        }
    }

    /** MultiHeadAttention(num_heads=2, key_dim=4) weights over I features, query and key kernels drawn at {@code qk}. */
    private List<Tensor> attentionWeights(double qk) {
        return List.of(random.uniform(qk, I, 2, 4), random.uniform(0.5, 2, 4), random.uniform(qk, I, 2, 4),
                random.uniform(0.5, 2, 4), random.uniform(0.5, I, 2, 4), random.uniform(0.5, 2, 4),
                random.uniform(0.5, 2, 4, I), random.uniform(0.5, I));
    }

    /** Keras 3 keeps an attention layer's weights under its query_dense, key_dense, value_dense and output_dense. */
    private static void putAttentionWeights(Map<String, List<Tensor>> weights, String key, List<Tensor> w) {
        String[] dense = {"query_dense", "key_dense", "value_dense", "output_dense"};
        for (int p = 0; p < 4; p++) {
            weights.put(key + "/" + dense[p], List.of(w.get(2 * p), w.get(2 * p + 1)));
        }
    }

    /** Keras 3: ids [batch, T], the NotEqual operation that makes Embedding(mask_zero)'s mask, the Embedding. */
    private static List<Object> maskedEmbeddingSpecs() {
        Map<String, Object> emb = new LinkedHashMap<>(spec("Embedding", "embedding",
                Map.of("input_dim", 7, "output_dim", I, "mask_zero", true)));
        emb.put("name", "embedding");
        emb.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("ids", 0)), "kwargs", Map.of())));
        return List.of(idsInput("ids"), operation("NotEqual", "not_equal", Map.of("name", "not_equal"),
                List.of(tensor("ids", 0), 0)), emb);
    }

    /** Keras 3: MultiHeadAttention(num_heads=2, key_dim=4) called on the embedding as query and value. */
    private static Map<String, Object> selfAttentionSpec(String name, double dropout, Map<String, Object> kwargs) {
        return selfAttentionSpec(name, dropout, kwargs, "embedding");
    }

    /** As above, over {@code input}'s output. */
    private static Map<String, Object> selfAttentionSpec(String name, double dropout, Map<String, Object> kwargs,
                                                         String input) {
        Map<String, Object> cfg = new LinkedHashMap<>(Map.of("num_heads", 2, "key_dim", 4, "value_dim", 4,
                "dropout", dropout, "use_bias", true));
        cfg.put("output_shape", null);
        cfg.put("attention_axes", null);
        Map<String, Object> mha = new LinkedHashMap<>(spec("MultiHeadAttention", name, cfg));
        mha.put("name", name);
        mha.put("inbound_nodes", List.of(Map.of("args", List.of(tensor(input, 0), tensor(input, 0)),
                "kwargs", kwargs)));
        return mha;
    }

    /** A keras.ops operation as Keras 3 writes it into a functional config. */
    private static Map<String, Object> operation(String cls, String name, Map<String, Object> config, List<Object> args) {
        Map<String, Object> op = new LinkedHashMap<>();
        op.put("module", "keras.src.ops.numpy");
        op.put("class_name", cls);
        op.put("config", config);
        op.put("registered_name", cls);
        op.put("name", name);
        op.put("inbound_nodes", List.of(Map.of("args", args, "kwargs", Map.of())));
        return op;
    }

    private static void assertRefusal(Path file, String... parts) {
        ModelLoadException e = org.junit.jupiter.api.Assertions.assertThrows(ModelLoadException.class,
                () -> KerasModelLoader.load(file));
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
    }

    /** ids -> Embedding(mask_zero) -> LSTM(seq) -> GlobalAveragePooling1D, the NotEqual op in the graph. */
    private Path kerasGraph(String fileName, Map<String, Object> lstmMask, Map<String, Object> poolMask, String lstmInput,
                            Map<String, List<Tensor>> weights) throws IOException {
        return kerasGraph(fileName, lstmMask, poolMask, lstmInput, weights, List.of());
    }

    /** As above, with more operations in the graph (before the layers). */
    private Path kerasGraph(String fileName, Map<String, Object> lstmMask, Map<String, Object> poolMask, String lstmInput,
                            Map<String, List<Tensor>> weights, List<Map<String, Object>> moreOps) throws IOException {
        Map<String, Object> in = new LinkedHashMap<>(spec("InputLayer", "ids", Map.of("batch_shape", nullFirst(T))));
        in.put("name", "ids");
        in.put("inbound_nodes", List.of());
        Map<String, Object> op = operation("NotEqual", "not_equal", Map.of("name", "not_equal"),
                List.of(tensor("ids", 0), 0));
        Map<String, Object> otherOp = operation("NotEqual", "not_equal_1", Map.of("name", "not_equal_1"),
                List.of(tensor("ids", 0), 3));
        Map<String, Object> orOp = operation("LogicalOr", "logical_or", Map.of("name", "logical_or"),
                List.of(tensor("not_equal", 0), tensor("not_equal_1", 0)));
        Map<String, Object> emb = new LinkedHashMap<>(spec("Embedding", "embedding",
                Map.of("input_dim", 7, "output_dim", I, "mask_zero", true)));
        emb.put("name", "embedding");
        emb.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("ids", 0)), "kwargs", Map.of())));
        Map<String, Object> lstmSpec = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of("return_sequences", true), H));
        lstmSpec.put("name", "lstm");
        Map<String, Object> lstmKwargs = new LinkedHashMap<>();
        lstmKwargs.put("training", false);
        lstmKwargs.put("mask", lstmMask);
        lstmSpec.put("inbound_nodes", List.of(Map.of("args", List.of(tensor(lstmInput, 0)), "kwargs", lstmKwargs)));
        Map<String, Object> pool = new LinkedHashMap<>(spec("GlobalAveragePooling1D", "pool",
                Map.of("data_format", "channels_last", "keepdims", false)));
        pool.put("name", "pool");
        Map<String, Object> poolKwargs = new LinkedHashMap<>();
        poolKwargs.put("mask", poolMask);
        pool.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("lstm", 0)), "kwargs", poolKwargs)));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "masked",
                "layers", withOps(List.of(in, op, otherOp, orOp), moreOps, List.of(emb, lstmSpec, pool)),
                "input_layers", List.of(List.of("ids", 0, 0)),
                "output_layers", List.of(List.of("pool", 0, 0)))));
        Path file = dir.resolve(fileName);
        KerasFileWriter.writeKeras(file, config, weights);
        return file;
    }

    /** Hand-written Luong attention in a Keras 3 graph: Dot(axes=[2, 2]), softmax, Dot(axes=[2, 1]). */
    @Test
    void keras3DotLayers() throws IOException {
        Model java = Model.functional("java").input("q", -1, I).input("v", -1, I)
                .add(new Dot("dot", 2, 2, false), "q", "v")
                .add(ActivationLayer.of("activation", OutputActivation.softmax()), "dot")
                .add(new Dot("dot_1", -1, 1, true), "activation", "v").outputs("dot_1").build();
        Map<String, Object> scores = new LinkedHashMap<>(spec("Dot", "dot", Map.of("axes", List.of(2, 2),
                "normalize", false)));
        scores.put("inbound_nodes", List.of(Map.of("args", List.of(List.of(tensor("q", 0), tensor("v", 0))),
                "kwargs", Map.of())));
        Map<String, Object> soft = new LinkedHashMap<>(spec("Activation", "activation", Map.of("activation", "softmax")));
        soft.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("dot", 0)), "kwargs", Map.of())));
        Map<String, Object> context = new LinkedHashMap<>(spec("Dot", "dot_1", Map.of("axes", List.of(-1, 1),
                "normalize", true)));
        context.put("inbound_nodes", List.of(Map.of("args", List.of(List.of(tensor("activation", 0), tensor("v", 0))),
                "kwargs", Map.of())));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "luong",
                "layers", List.of(input("q"), input("v"), scores, soft, context),
                "input_layers", List.of(List.of("q", 0, 0), List.of("v", 0, 0)),
                "output_layers", List.of(List.of("dot_1", 0, 0)))));
        Path file = dir.resolve("dot.keras");
        KerasFileWriter.writeKeras(file, config, Map.of());
        List<Tensor> in = List.of(random.uniform(1, 2, 3, I), random.uniform(1, 2, 5, I));
        Compare.assertIdentical("Dot layers", java.predict(in).get(0), KerasModelLoader.load(file).model().predict(in).get(0));
    }

    /** Keras 3 functional: the decoder's initial_state comes from the encoder, as keyword arguments. */
    @Test
    void keras3FunctionalEncoderDecoder() throws IOException {
        Lstm encoder = Lstm.builder(H).name("encoder").returnState(true).build();
        List<Tensor> ew = randomWeights(encoder, I);
        encoder.setWeights(ew);
        Lstm decoder = Lstm.builder(H).name("decoder").returnSequences(true).returnState(true).build();
        List<Tensor> dw = randomWeights(decoder, I);
        decoder.setWeights(dw);
        Model java = Model.functional("java").input("enc_in", -1, I).input("dec_in", -1, I)
                .add(encoder, "enc_in").add(decoder, "dec_in", "encoder[1]", "encoder[2]")
                .outputs("decoder", "decoder[2]").build();

        Map<String, Object> enc = new LinkedHashMap<>(layerSpec("LSTM", "encoder", Map.of("return_state", true), H));
        enc.put("name", "encoder");
        enc.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("enc_in", 0)), "kwargs", Map.of())));
        Map<String, Object> dec = new LinkedHashMap<>(layerSpec("LSTM", "decoder",
                Map.of("return_sequences", true, "return_state", true), H));
        dec.put("name", "decoder");
        dec.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("dec_in", 0)),
                "kwargs", Map.of("initial_state", List.of(tensor("encoder", 1), tensor("encoder", 2))))));
        List<Object> layers = List.of(
                input("enc_in"), input("dec_in"), enc, dec);
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "seq2seq",
                "layers", layers,
                "input_layers", List.of(List.of("enc_in", 0, 0), List.of("dec_in", 0, 0)),
                "output_layers", List.of(List.of("decoder", 0, 0), List.of("decoder", 0, 2)))));
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("lstm/cell", ew);
        weights.put("lstm_1/cell", dw);
        Path file = dir.resolve("seq2seq.keras");
        KerasFileWriter.writeKeras(file, config, weights);

        Model loaded = KerasModelLoader.load(file).model();
        List<Tensor> in = List.of(random.uniform(1, 2, 5, I), random.uniform(1, 2, 3, I));
        List<Tensor> expected = java.predict(in);
        List<Tensor> actual = loaded.predict(in);
        Compare.assertIdentical("decoder sequence", expected.get(0), actual.get(0));
        Compare.assertIdentical("decoder c", expected.get(1), actual.get(1));
    }

    /**
     * Keras 3's model.save("m.h5") (legacy_h5_format): the .h5 layout of Keras 2 (model_config,
     * model_weights/&lt;layer&gt; with weight_names, here the variables' paths) holding a Keras 3
     * functional config (args / kwargs nodes, initial_state as a keyword) and keras_version 3.x.
     */
    @Test
    void keras3SavedAsH5() {
        Lstm encoder = Lstm.builder(H).name("encoder").returnState(true).build();
        List<Tensor> ew = randomWeights(encoder, I);
        encoder.setWeights(ew);
        Gru decoder = Gru.builder(H).name("decoder").resetAfter(true).returnSequences(true).build();
        List<Tensor> dw = randomWeights(decoder, I);
        decoder.setWeights(dw);
        Model java = Model.functional("java").input("enc_in", -1, I).input("dec_in", -1, I)
                .add(encoder, "enc_in").add(decoder, "dec_in", "encoder[1]").outputs("decoder").build();
        Map<String, Object> enc = new LinkedHashMap<>(layerSpec("LSTM", "encoder", Map.of("return_state", true), H));
        enc.put("name", "encoder");
        enc.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("enc_in", 0)), "kwargs", Map.of())));
        Map<String, Object> dec = new LinkedHashMap<>(layerSpec("GRU", "decoder",
                Map.of("return_sequences", true, "reset_after", true), H));
        dec.put("name", "decoder");
        dec.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("dec_in", 0)),
                "kwargs", Map.of("initial_state", List.of(tensor("encoder", 1))))));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "seq2seq",
                "trainable", true, "layers", List.of(input("enc_in"), input("dec_in"), enc, dec),
                "input_layers", List.of(List.of("enc_in", 0, 0), List.of("dec_in", 0, 0)),
                "output_layers", List.of(List.of("decoder", 0, 0)))));
        KerasFileWriter.LayerWeights e = new KerasFileWriter.LayerWeights();
        KerasFileWriter.LayerWeights d = new KerasFileWriter.LayerWeights();
        String[] names = {"kernel", "recurrent_kernel", "bias"};
        for (int k = 0; k < 3; k++) {
            e.put("encoder/lstm_cell/" + names[k], ew.get(k));
            d.put("decoder/gru_cell/" + names[k], dw.get(k));
        }
        Path h5 = dir.resolve("keras3.h5");
        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        weights.put("decoder", d);
        weights.put("encoder", e);
        KerasFileWriter.writeHdf5(h5, "3.6.0", config, weights);
        LoadedModel loaded = KerasModelLoader.load(h5);
        assertEquals("3.6.0", loaded.kerasVersion());
        List<Tensor> in = List.of(random.uniform(1, 2, 5, I), random.uniform(1, 2, 4, I));
        Compare.assertIdentical("Keras 3 functional model saved as .h5", java.predict(in).get(0),
                loaded.model().predict(in).get(0));
    }

    /**
     * Keras 3 Siamese encoder: one Embedding(mask_zero) and one LSTM called on two inputs (inbound
     * nodes 0 and 1, each call with its own recorded mask), Subtract, Dense; the weights are stored
     * once. Loaded, it equals the same graph built with separate layers holding the same weights.
     */
    @Test
    void keras3SharedLayers() throws IOException {
        Tensor embW = random.uniform(0.8, 9, I);
        Lstm lstmA = Lstm.builder(H).name("lstm").build();
        List<Tensor> lw = randomWeights(lstmA, I);
        lstmA.setWeights(lw);
        Lstm lstmB = Lstm.builder(H).name("lstm_b").build();
        lstmB.setWeights(lw);
        Tensor dk = random.uniform(0.5, H, 1);
        Tensor db = random.uniform(0.5, 1);
        Dense dense = Dense.builder(1).name("dense").activation("sigmoid").build();
        dense.setWeights(List.of(dk, db));
        Embedding embA = Embedding.of("embedding", 9, I, true, Initializer.zeros());
        embA.setWeights(List.of(embW));
        Embedding embB = Embedding.of("embedding_b", 9, I, true, Initializer.zeros());
        embB.setWeights(List.of(embW));
        Model java = Model.functional("java").input("a", T).input("b", T)
                .add(embA, "a").add(lstmA, "embedding").add(embB, "b").add(lstmB, "embedding_b")
                .add(dev.rnnrt.layers.Merge.of("subtract", dev.rnnrt.layers.Merge.Mode.SUBTRACT), "lstm", "lstm_b")
                .add(dense, "subtract").outputs("dense", "lstm_b").build();

        Map<String, Object> emb = new LinkedHashMap<>(spec("Embedding", "embedding",
                Map.of("input_dim", 9, "output_dim", I, "mask_zero", true)));
        emb.put("name", "embedding");
        emb.put("inbound_nodes", List.of(call(List.of(tensor("a", 0, 0)), null),
                call(List.of(tensor("b", 0, 0)), null)));
        Map<String, Object> lstm = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of(), H));
        lstm.put("name", "lstm");
        lstm.put("inbound_nodes", List.of(call(List.of(tensor("embedding", 0, 0)), tensor("not_equal", 0, 0)),
                call(List.of(tensor("embedding", 1, 0)), tensor("not_equal_1", 0, 0))));
        Map<String, Object> sub = new LinkedHashMap<>(spec("Subtract", "subtract", Map.of()));
        sub.put("inbound_nodes", List.of(call(List.of(List.of(tensor("lstm", 0, 0), tensor("lstm", 1, 0))), null)));
        Map<String, Object> head = new LinkedHashMap<>(spec("Dense", "dense", Map.of("units", 1, "activation", "sigmoid")));
        head.put("inbound_nodes", List.of(call(List.of(tensor("subtract", 0, 0)), null)));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "siamese",
                "layers", List.of(idsInput("a"), idsInput("b"),
                        operation("NotEqual", "not_equal", Map.of("name", "not_equal"), List.of(tensor("a", 0, 0), 0)),
                        operation("NotEqual", "not_equal_1", Map.of("name", "not_equal_1"), List.of(tensor("b", 0, 0), 0)),
                        emb, lstm, sub, head),
                "input_layers", List.of(List.of("a", 0, 0), List.of("b", 0, 0)),
                "output_layers", List.of(List.of("dense", 0, 0), List.of("lstm", 1, 0)))));
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("embedding", List.of(embW));
        weights.put("lstm/cell", lw);
        weights.put("dense", List.of(dk, db));
        Path file = dir.resolve("siamese.keras");
        KerasFileWriter.writeKeras(file, config, weights);

        Model loaded = KerasModelLoader.load(file).model();
        assertEquals(List.of("embedding", "embedding#1", "lstm", "lstm#1", "subtract", "dense"), loaded.callNames());
        float[] a = new float[3 * T];
        float[] b = new float[3 * T];
        java.util.Random r = new java.util.Random(5);
        for (int k = 0; k < a.length; k++) {       // ids 1..8, each row padded with zeros from a random step on
            a[k] = k % T < 2 + (k / T) * 2 ? 1 + r.nextInt(8) : 0;
            b[k] = k % T < T - (k / T) ? 1 + r.nextInt(8) : 0;
        }
        List<Tensor> in = List.of(Tensor.wrap(a, 3, T), Tensor.wrap(b, 3, T));
        List<Tensor> expected = java.predict(in);
        List<Tensor> actual = loaded.predict(in);
        Compare.assertIdentical("Siamese head", expected.get(0), actual.get(0));
        Compare.assertIdentical("second call of the LSTM", expected.get(1), actual.get(1));
        assertEquals(embW.size() + lw.stream().mapToLong(Tensor::size).sum() + dk.size() + db.size(),
                loaded.parameterCount());
    }

    /**
     * tf.keras 2 LSTM autoencoder made of two nested Sequential models (encoder: LSTM, RepeatVector;
     * decoder: LSTM, TimeDistributed(Dense)) inside a Sequential, each nested model's weights one
     * list in its own group. Loaded, it equals the flat model.
     */
    @Test
    void keras2NestedSequentialModels() {
        Lstm enc = Lstm.builder(H).name("lstm").build();
        List<Tensor> ew = randomWeights(enc, I);
        enc.setWeights(ew);
        Lstm dec = Lstm.builder(5).name("lstm_1").returnSequences(true).build();
        List<Tensor> dw = randomWeights(dec, H);
        dec.setWeights(dw);
        Dense out = Dense.builder(I).name("dense").build();
        Tensor ok = random.uniform(0.5, 5, I);
        Tensor ob = random.uniform(0.5, I);
        out.setWeights(List.of(ok, ob));
        Model java = Model.sequential("java").input(T, I).add(enc)
                .add(dev.rnnrt.layers.RepeatVector.of("repeat_vector", T)).add(dec)
                .add(TimeDistributed.of("time_distributed", out)).build();

        Map<String, Object> encoder = spec("Sequential", "encoder", Map.of("layers", List.of(
                spec("InputLayer", "input_1", Map.of("batch_input_shape", nullFirst(T, I))),
                layerSpec("LSTM", "lstm", Map.of(), H),
                spec("RepeatVector", "repeat_vector", Map.of("n", T)))));
        Map<String, Object> decoder = spec("Sequential", "decoder", Map.of("layers", List.of(
                layerSpec("LSTM", "lstm_1", Map.of("return_sequences", true, "batch_input_shape", nullFirst(T, H)), 5),
                spec("TimeDistributed", "time_distributed", Map.of("layer", spec("Dense", "dense",
                        Map.of("units", I, "activation", "linear")))))));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential",
                "config", Map.of("name", "autoencoder", "layers", List.of(encoder, decoder))));
        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        weights.put("encoder", recurrentH5Weights("lstm", "lstm_cell", ew));
        KerasFileWriter.LayerWeights decW = recurrentH5Weights("lstm_1", "lstm_cell_1", dw);
        decW.put("time_distributed/kernel:0", ok).put("time_distributed/bias:0", ob);
        weights.put("decoder", decW);
        Path file = dir.resolve("autoencoder.h5");
        KerasFileWriter.writeHdf5(file, "2.12.0", config, weights);

        LoadedModel loaded = KerasModelLoader.load(file);
        assertTrue(loaded.warnings().isEmpty(), loaded.warnings().toString());
        Tensor x = random.uniform(1, 3, T, I);
        Compare.assertIdentical("nested Sequential models", java.predict(x), loaded.model().predict(x));
        assertEquals(java.parameterCount(), loaded.model().parameterCount());
        assertTrue(loaded.model().summary().contains("decoder/lstm_1 (LSTM)"), loaded.model().summary());
    }

    /**
     * tf.keras 2 Siamese network as in Keras' examples: a functional base network (LSTM,
     * BatchNormalization, a frozen Dense) built on its own Input, called on two inputs (node
     * indices 1 and 2: Keras counts the base network's own first node), Subtract, Dense. The base
     * network's weights are one list: trainable weights of its layers, then BatchNormalization's
     * moving statistics and the frozen Dense's weights.
     */
    @Test
    void keras2SiameseWithANestedBaseNetwork() {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        BatchNormalization bn = new BatchNormalization("bn", -1, 1e-3, true, true);
        List<Tensor> bw = List.of(random.uniform(1, H), random.uniform(0.5, H), random.uniform(0.5, H),
                Tensor.of(positive(H), H));
        bn.setWeights(bw);
        Dense frozen = Dense.builder(2).name("frozen").activation("tanh").build();
        List<Tensor> fw = List.of(random.uniform(0.5, H, 2), random.uniform(0.5, 2));
        frozen.setWeights(fw);
        GlobalPooling1D pool = new GlobalPooling1D("pool", Pooling1D.Mode.MAX, false);
        Dense head = Dense.builder(1).name("head").activation("sigmoid").build();
        List<Tensor> hw = List.of(random.uniform(0.5, 2, 1), random.uniform(0.5, 1));
        head.setWeights(hw);
        Model base = Model.sequential("base").input(T, I).add(lstm).add(bn).add(TimeDistributed.of("td", frozen))
                .add(pool).build();

        String json = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"siamese\", \"layers\": ["
                + input2("a") + "," + input2("b") + ","
                + "{\"name\": \"base\", \"class_name\": \"Functional\", \"config\": {\"name\": \"base\", \"layers\": ["
                + input2("x") + ","
                + "{\"name\": \"lstm\", \"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm\", \"units\": 3,"
                + " \"return_sequences\": true}, \"inbound_nodes\": [[[\"x\", 0, 0, {}]]]},"
                + "{\"name\": \"bn\", \"class_name\": \"BatchNormalization\", \"config\": {\"name\": \"bn\","
                + " \"axis\": -1, \"epsilon\": 0.001, \"center\": true, \"scale\": true}, \"inbound_nodes\": [[[\"lstm\", 0, 0, {}]]]},"
                + "{\"name\": \"td\", \"class_name\": \"TimeDistributed\", \"config\": {\"name\": \"td\", \"trainable\": false,"
                + " \"layer\": {\"class_name\": \"Dense\", \"config\": {\"name\": \"frozen\", \"units\": 2, \"activation\": \"tanh\","
                + " \"trainable\": false}}}, \"inbound_nodes\": [[[\"bn\", 0, 0, {}]]]},"
                + "{\"name\": \"pool\", \"class_name\": \"GlobalMaxPooling1D\", \"config\": {\"name\": \"pool\"},"
                + " \"inbound_nodes\": [[[\"td\", 0, 0, {}]]]}],"
                + " \"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"pool\", 0, 0]]},"
                + " \"inbound_nodes\": [[[\"a\", 0, 0, {}]], [[\"b\", 0, 0, {}]]]},"
                + "{\"name\": \"subtract\", \"class_name\": \"Subtract\", \"config\": {\"name\": \"subtract\"},"
                + " \"inbound_nodes\": [[[\"base\", 1, 0, {}], [\"base\", 2, 0, {}]]]},"
                + "{\"name\": \"head\", \"class_name\": \"Dense\", \"config\": {\"name\": \"head\", \"units\": 1,"
                + " \"activation\": \"sigmoid\"}, \"inbound_nodes\": [[[\"subtract\", 0, 0, {}]]]}],"
                + " \"input_layers\": [[\"a\", 0, 0], [\"b\", 0, 0]], \"output_layers\": [[\"head\", 0, 0], [\"base\", 2, 0]]}}";
        KerasFileWriter.LayerWeights baseW = recurrentH5Weights("lstm", "lstm_cell", lw);
        baseW.put("bn/gamma:0", bw.get(0)).put("bn/beta:0", bw.get(1))
                .put("bn/moving_mean:0", bw.get(2)).put("bn/moving_variance:0", bw.get(3))
                .put("td/kernel:0", fw.get(0)).put("td/bias:0", fw.get(1));
        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        weights.put("base", baseW);
        weights.put("head", new KerasFileWriter.LayerWeights().put("head/kernel:0", hw.get(0)).put("head/bias:0", hw.get(1)));
        Path file = dir.resolve("siamese_nested.h5");
        KerasFileWriter.writeHdf5(file, "2.9.0", parse(json), weights);

        Model loaded = KerasModelLoader.load(file).model();
        Tensor a = random.uniform(1, 2, T, I);
        Tensor b = random.uniform(1, 2, T, I);
        Tensor onA = base.predict(a);
        Tensor onB = base.predict(b);
        float[] diff = onA.data().clone();
        for (int k = 0; k < diff.length; k++) {
            diff[k] -= onB.data()[k];
        }
        Tensor expectedHead = head.call(List.of(Tensor.wrap(diff, onA.shape())), java.util.Arrays.asList((dev.rnnrt.api.Mask) null)).get(0);
        List<Tensor> out = loaded.predict(List.of(a, b));
        Compare.assertIdentical("Siamese head", expectedHead, out.get(0));
        Compare.assertIdentical("the base network's second call", onB, out.get(1));
        assertEquals(List.of("base/lstm", "base/bn", "base/td", "base/pool", "base#1/lstm", "base#1/bn", "base#1/td",
                "base#1/pool", "subtract", "head"), loaded.callNames());

        // the same file with one weight array missing from the base network's list is refused
        baseW.byName.remove("td/bias:0");
        Path missing = dir.resolve("siamese_missing.h5");
        KerasFileWriter.writeHdf5(missing, "2.9.0", parse(json), weights);
        assertRefusal(missing, "nested model 'base'", "holds 8 weight arrays", "need 9", "base/lstm 3, base/bn 4, base/td 2");
    }

    private static String input2(String name) {
        return "{\"name\": \"" + name + "\", \"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, "
                + T + ", " + I + "], \"name\": \"" + name + "\"}, \"inbound_nodes\": []}";
    }

    /**
     * Keras 3: a functional model with a nested Sequential (LSTM, Dense; called first, node 0) and a
     * nested Functional (GRU; Keras counts its own first node, so the outer graph reads node 1),
     * their weights under layers/sequential/layers/… and layers/functional/layers/….
     */
    @Test
    void keras3NestedModels() throws IOException {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Dense dense = Dense.builder(I).name("dense").activation("relu").build();
        List<Tensor> dw = List.of(random.uniform(0.5, H, I), random.uniform(0.5, I));
        dense.setWeights(dw);
        Gru gru = Gru.builder(H).name("gru").build();
        List<Tensor> gw = randomWeights(gru, I);
        gru.setWeights(gw);
        Model java = Model.sequential("java").input(-1, I).add(lstm).add(TimeDistributed.of("td", dense)).add(gru).build();

        Map<String, Object> seq = new LinkedHashMap<>(spec("Sequential", "sequential", Map.of("layers", List.of(
                spec("InputLayer", "seq_in", Map.of("batch_shape", nullFirst(-1, I))),
                layerSpec("LSTM", "lstm", Map.of("return_sequences", true), H),
                spec("TimeDistributed", "td", Map.of("layer", spec("Dense", "dense",
                        Map.of("units", I, "activation", "relu"))))))));
        seq.put("name", "sequential");
        seq.put("inbound_nodes", List.of(call(List.of(tensor("x", 0, 0)), null)));
        Map<String, Object> gruSpec = new LinkedHashMap<>(layerSpec("GRU", "gru", Map.of("reset_after", true), H));
        gruSpec.put("name", "gru");
        gruSpec.put("inbound_nodes", List.of(call(List.of(tensor("fin", 0, 0)), null)));
        Map<String, Object> fun = new LinkedHashMap<>(spec("Functional", "functional", Map.of(
                "layers", List.of(input("fin"), gruSpec),
                "input_layers", List.of(List.of("fin", 0, 0)), "output_layers", List.of(List.of("gru", 0, 0)))));
        fun.put("name", "functional");
        fun.put("inbound_nodes", List.of(call(List.of(tensor("sequential", 0, 0)), null)));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "outer",
                "layers", List.of(input("x"), seq, fun),
                "input_layers", List.of(List.of("x", 0, 0)),
                "output_layers", List.of(List.of("functional", 1, 0)))));
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("sequential/layers/lstm/cell", lw);
        weights.put("sequential/layers/time_distributed/layer", dw);
        weights.put("functional/layers/gru/cell", gw);
        Path file = dir.resolve("nested.keras");
        KerasFileWriter.writeKeras(file, config, weights);

        LoadedModel loaded = KerasModelLoader.load(file);
        assertTrue(loaded.warnings().isEmpty(), loaded.warnings().toString());
        Tensor x = random.uniform(1, 2, T, I);
        Compare.assertIdentical("Keras 3 nested models", java.predict(x), loaded.model().predict(x));
    }

    /**
     * Keras 3 MaLSTM: one LSTM on two padded inputs (masks from Masking), the last step of each by
     * subscript (x[:, -1, :]), then exp(-sum(|a - b|, axis=1, keepdims=True)) as keras.ops calls,
     * and 1 - that; the graph also holds the ops that computed the masks, which only feed masks.
     */
    @Test
    void keras3OperationsBetweenLayers() throws IOException {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Model branch = Model.sequential("branch").input(-1, I).add(Masking.of("masking", 0.0)).add(lstm).build();

        Map<String, Object> maskA = new LinkedHashMap<>(spec("Masking", "masking", Map.of("mask_value", 0.0)));
        maskA.put("inbound_nodes", List.of(call(List.of(tensor("a", 0, 0)), null), call(List.of(tensor("b", 0, 0)), null)));
        Map<String, Object> lstmSpec = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of("return_sequences", true), H));
        lstmSpec.put("name", "lstm");
        lstmSpec.put("inbound_nodes", List.of(call(List.of(tensor("masking", 0, 0)), tensor("any", 0, 0)),
                call(List.of(tensor("masking", 1, 0)), tensor("any_1", 0, 0))));
        Map<String, Object> bounds = new LinkedHashMap<>();       // slice(None, None, None), i.e. ':'
        bounds.put("start", null);
        bounds.put("stop", null);
        bounds.put("step", null);
        Map<String, Object> whole = Map.of("class_name", "__slice__", "config", bounds);
        List<Object> key = Arrays.asList(whole, -1, whole);
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "malstm",
                "layers", List.of(input("a"), input("b"),
                        operation("NotEqual", "not_equal", Map.of("name", "not_equal"), List.of(tensor("a", 0, 0), 0.0)),
                        anyOp("any", "not_equal"),
                        operation("NotEqual", "not_equal_1", Map.of("name", "not_equal_1"), List.of(tensor("b", 0, 0), 0.0)),
                        anyOp("any_1", "not_equal_1"),
                        maskA, lstmSpec,
                        operation("GetItem", "get_item", Map.of("name", "get_item"), List.of(tensor("lstm", 0, 0), key)),
                        operation("GetItem", "get_item_1", Map.of("name", "get_item_1"), List.of(tensor("lstm", 1, 0), key)),
                        operation("Subtract", "subtract", Map.of("name", "subtract"),
                                List.of(tensor("get_item", 0, 0), tensor("get_item_1", 0, 0))),
                        operation("Absolute", "absolute", Map.of("name", "absolute"), List.of(tensor("subtract", 0, 0))),
                        operation("Sum", "sum", Map.of("name", "sum", "axis", 1, "keepdims", true),
                                List.of(tensor("absolute", 0, 0))),
                        operation("Negative", "negative", Map.of("name", "negative"), List.of(tensor("sum", 0, 0))),
                        operation("Exp", "exp", Map.of("name", "exp"), List.of(tensor("negative", 0, 0))),
                        operation("Subtract", "subtract_1", Map.of("name", "subtract_1"), List.of(1.0, tensor("exp", 0, 0)))),
                "input_layers", List.of(List.of("a", 0, 0), List.of("b", 0, 0)),
                "output_layers", List.of(List.of("exp", 0, 0), List.of("subtract_1", 0, 0)))));
        Path file = dir.resolve("malstm.keras");
        KerasFileWriter.writeKeras(file, config, Map.of("lstm/cell", lw));

        LoadedModel loaded = KerasModelLoader.load(file);
        Tensor a = paddedInput();
        Tensor b = random.uniform(1, 3, T, I);
        List<Tensor> out = loaded.model().predict(List.of(a, b));
        assertMaLstm(branch.predict(a), branch.predict(b), out);
        assertTrue(loaded.model().summary().contains("x[:, -1, :]"), loaded.model().summary());
    }

    /**
     * keras.activations.relu called on a Keras tensor is recorded as an operation (module
     * keras.src.activations), not as a ReLU layer: the mask stops there, so the LSTM after it runs
     * unmasked (a Keras 3.10 file, which records no masks); with negative_slope it is refused.
     */
    @Test
    void keras3ActivationFunctionBetweenLayersStopsTheMask() throws IOException {
        Lstm lstm = Lstm.builder(H).name("lstm").build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Tensor x = paddedInput();
        float[] relu = x.data().clone();
        for (int i = 0; i < relu.length; i++) {
            relu[i] = Math.max(relu[i], 0f);
        }
        Tensor expected = lstm.call(Tensor.of(relu, x.shape())).output();      // no mask
        // a slope of 0.1, or a null one (Keras takes None for a slope, not 0), is refused, not read as 0
        for (Object slope : new Object[] {0.0, 0.1, null}) {
            Map<String, Object> masking = new LinkedHashMap<>(spec("Masking", "masking", Map.of("mask_value", 0.0)));
            masking.put("inbound_nodes", List.of(call(List.of(tensor("x", 0, 0)), null)));
            Map<String, Object> options = new LinkedHashMap<>(Map.of("name", "re_lu", "threshold", 0.0));
            options.put("negative_slope", slope);
            Map<String, Object> act = operation("ReLU", "re_lu", options, List.of(tensor("masking", 0, 0)));
            act.put("module", "keras.src.activations.activations");
            Map<String, Object> lstmSpec = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of(), H));
            lstmSpec.put("name", "lstm");
            lstmSpec.put("inbound_nodes", List.of(call(List.of(tensor("re_lu", 0, 0)), null)));
            JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "act",
                    "layers", List.of(input("x"), masking, act, lstmSpec), "input_layers", List.of(List.of("x", 0, 0)),
                    "output_layers", List.of(List.of("lstm", 0, 0)))));
            Path file = dir.resolve("activation_op_" + slope + ".keras");
            KerasFileWriter.writeKeras(file, "3.10.0", config, Map.of("lstm/cell", lw), Map.of());
            if (!Double.valueOf(0.0).equals(slope)) {
                assertRefusal(file, "'re_lu' (ReLU)", "negative_slope");
                continue;
            }
            Compare.assertClose("relu operation, then an unmasked LSTM", expected, KerasModelLoader.load(file).model()
                    .predict(x), Tolerance.FP32);
        }
    }

    /**
     * Dot-product self-attention written with operations over an LSTM's sequence: softmax(h·hᵀ)·h,
     * as Keras 3 ops (Matmul, Transpose, Softmax) and as tf.keras TFOpLambda layers (tf.linalg.matmul
     * with transpose_b, tf.nn.softmax); both equal the Attention layer's dot scores.
     */
    @Test
    void attentionWrittenWithOperations() throws IOException {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Model seq = Model.sequential("seq").input(-1, I).add(lstm).build();
        Tensor x = random.uniform(1, 2, T, I);
        Tensor h = seq.predict(x);
        Tensor expected = new Attention(null, Attention.Score.DOT, false, false, false)
                .call(List.of(h, h), Arrays.asList(null, null)).get(0);

        Map<String, Object> lstmSpec = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of("return_sequences", true), H));
        lstmSpec.put("name", "lstm");
        lstmSpec.put("inbound_nodes", List.of(call(List.of(tensor("x", 0, 0)), null)));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "k3",
                "layers", List.of(input("x"), lstmSpec,
                        operation("Transpose", "transpose", Map.of("name", "transpose", "axes", List.of(0, 2, 1)),
                                List.of(tensor("lstm", 0, 0))),
                        operation("Matmul", "matmul", Map.of("name", "matmul"),
                                List.of(tensor("lstm", 0, 0), tensor("transpose", 0, 0))),
                        operation("Softmax", "softmax", Map.of("name", "softmax", "axis", -1),
                                List.of(tensor("matmul", 0, 0))),
                        operation("Matmul", "matmul_1", Map.of("name", "matmul_1"),
                                List.of(tensor("softmax", 0, 0), tensor("lstm", 0, 0)))),
                "input_layers", List.of(List.of("x", 0, 0)), "output_layers", List.of(List.of("matmul_1", 0, 0)))));
        Path archive = dir.resolve("ops_attention.keras");
        KerasFileWriter.writeKeras(archive, config, Map.of("lstm/cell", lw));
        Compare.assertClose("Keras 3 ops attention", expected, KerasModelLoader.load(archive).model().predict(x),
                Tolerance.FP32);

        String json = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"k2\", \"layers\": ["
                + input2("x") + ","
                + "{\"name\": \"lstm\", \"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm\", \"units\": 3,"
                + " \"return_sequences\": true}, \"inbound_nodes\": [[[\"x\", 0, 0, {}]]]},"
                + opLambda("TFOpLambda", "tf.linalg.matmul", "linalg.matmul",
                        "[\"lstm\", 0, 0, {\"b\": [\"lstm\", 0, 0], \"transpose_b\": true}]") + ","
                + opLambda("TFOpLambda", "tf.nn.softmax", "nn.softmax", "[\"tf.linalg.matmul\", 0, 0, {\"axis\": -1}]") + ","
                + opLambda("TFOpLambda", "tf.linalg.matmul_1", "linalg.matmul",
                        "[\"tf.nn.softmax\", 0, 0, {\"b\": [\"lstm\", 0, 0]}]")
                + "], \"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"tf.linalg.matmul_1\", 0, 0]]}}";
        Path file = dir.resolve("ops_attention.h5");
        KerasFileWriter.writeHdf5(file, "2.11.0", parse(json), Map.of("lstm", recurrentH5Weights("lstm", "lstm_cell", lw)));
        Compare.assertClose("tf.keras TFOpLambda attention", expected, KerasModelLoader.load(file).model().predict(x),
                Tolerance.FP32);
    }

    /** The same MaLSTM as tf.keras 2 saves it: TFOpLambda / SlicingOpLambda layers, a number as a first argument. */
    @Test
    void keras2TfOpLambdaLayers() {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Model branch = Model.sequential("branch").input(-1, I).add(lstm).build();
        String whole = "{\"start\": null, \"stop\": null, \"step\": null}";
        String json = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"malstm\", \"layers\": ["
                + input2("a") + "," + input2("b") + ","
                + "{\"name\": \"lstm\", \"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm\", \"units\": 3,"
                + " \"return_sequences\": true}, \"inbound_nodes\": [[[\"a\", 0, 0, {}]], [[\"b\", 0, 0, {}]]]},"
                + opLambda("SlicingOpLambda", "tf.__operators__.getitem", "__operators__.getitem",
                        "[\"lstm\", 0, 0, {\"slice_spec\": [" + whole + ", -1, " + whole + "]}]") + ","
                + opLambda("SlicingOpLambda", "tf.__operators__.getitem_1", "__operators__.getitem",
                        "[\"lstm\", 1, 0, {\"slice_spec\": [" + whole + ", -1]}]") + ","
                + opLambda("TFOpLambda", "tf.math.subtract", "math.subtract", "[\"tf.__operators__.getitem\", 0, 0,"
                        + " {\"y\": [\"tf.__operators__.getitem_1\", 0, 0], \"name\": null}]") + ","
                + opLambda("TFOpLambda", "tf.math.abs", "math.abs", "[\"tf.math.subtract\", 0, 0, {\"name\": null}]") + ","
                + opLambda("TFOpLambda", "tf.math.reduce_sum", "math.reduce_sum",
                        "[\"tf.math.abs\", 0, 0, {\"axis\": 1, \"keepdims\": true, \"name\": null}]") + ","
                + opLambda("TFOpLambda", "tf.math.negative", "math.negative", "[\"tf.math.reduce_sum\", 0, 0, {}]") + ","
                + opLambda("TFOpLambda", "tf.math.exp", "math.exp", "[\"tf.math.negative\", 0, 0, {\"name\": null}]") + ","
                + opLambda("TFOpLambda", "tf.math.subtract_1", "math.subtract",
                        "[\"_CONSTANT_VALUE\", -1, 1.0, {\"y\": [\"tf.math.exp\", 0, 0], \"name\": null}]") + ","
                + opLambda("TFOpLambda", "tf.concat", "concat", "[[\"tf.__operators__.getitem\", 0, 0, {\"axis\": -1,"
                        + " \"name\": \"concat\"}], [\"tf.__operators__.getitem_1\", 0, 0, {\"axis\": -1, \"name\": \"concat\"}]]")
                + "], \"input_layers\": [[\"a\", 0, 0], [\"b\", 0, 0]],"
                + " \"output_layers\": [[\"tf.math.exp\", 0, 0], [\"tf.math.subtract_1\", 0, 0], [\"tf.concat\", 0, 0]]}}";
        Path file = dir.resolve("malstm_tfk.h5");
        KerasFileWriter.writeHdf5(file, "2.11.0", parse(json), Map.of("lstm", recurrentH5Weights("lstm", "lstm_cell", lw)));
        LoadedModel loaded = KerasModelLoader.load(file);
        Tensor a = random.uniform(1, 3, T, I);
        Tensor b = random.uniform(1, 3, T, I);
        List<Tensor> out = loaded.model().predict(List.of(a, b));
        Tensor seqA = branch.predict(a);
        Tensor seqB = branch.predict(b);
        assertMaLstm(seqA, seqB, out);
        for (int n = 0; n < 2; n++) {
            for (int j = 0; j < H; j++) {
                assertEquals(seqA.get(n, T - 1, j), out.get(2).get(n, j), 0f, "tf.concat, first part");
                assertEquals(seqB.get(n, T - 1, j), out.get(2).get(n, H + j), 0f, "tf.concat, second part");
            }
        }

        String unsupported = json.replace("\"function\": \"math.abs\"", "\"function\": \"math.cumsum\"");
        Path other = dir.resolve("cumsum.h5");
        KerasFileWriter.writeHdf5(other, "2.11.0", parse(unsupported), Map.of("lstm", recurrentH5Weights("lstm", "lstm_cell", lw)));
        assertRefusal(other, "layer 'tf.math.abs' (tf.math.cumsum)", "tf.math.reduce_sum");
    }

    /** exp(-sum|a_last - b_last|) and 1 minus it, from each branch's sequence output. */
    private static void assertMaLstm(Tensor seqA, Tensor seqB, List<Tensor> out) {
        int batch = seqA.dim(0);
        float[] sim = new float[batch];
        float[] dis = new float[batch];
        for (int n = 0; n < batch; n++) {
            float sum = 0;
            for (int j = 0; j < H; j++) {
                sum += Math.abs(seqA.get(n, T - 1, j) - seqB.get(n, T - 1, j));
            }
            sim[n] = (float) Math.exp(-sum);
            dis[n] = 1f - sim[n];
        }
        Compare.assertClose("exp(-|a - b|_1)", Tensor.wrap(sim, batch, 1), out.get(0), Tolerance.FP32);
        Compare.assertClose("1 - exp(...)", Tensor.wrap(dis, batch, 1), out.get(1), Tolerance.FP32);
    }

    private static String opLambda(String cls, String name, String function, String node) {
        return "{\"name\": \"" + name + "\", \"class_name\": \"" + cls + "\", \"config\": {\"name\": \"" + name + "\","
                + " \"trainable\": true, \"dtype\": \"float32\", \"function\": \"" + function + "\"},"
                + " \"inbound_nodes\": [" + node + "]}";
    }

    /** Keras 3's any(x, axis=-1), as Masking computes its mask. */
    private static Map<String, Object> anyOp(String name, String from) {
        return operation("Any", name, Map.of("name", name, "axis", -1, "keepdims", false), List.of(tensor(from, 0, 0)));
    }

    /**
     * A time-series model with an adapted Normalization in front: Keras 3 stores mean, variance and
     * the int64 count as its vars; tf.keras may carry mean and variance in the config instead.
     */
    @Test
    void normalizationInFrontOfARecurrentLayer() throws IOException {
        Tensor mean = random.uniform(1, I);
        Tensor variance = Tensor.of(positive(I), I);
        Normalization norm = new Normalization("normalization", new int[] {-1}, false);
        norm.setWeights(List.of(mean, variance));
        Gru gru = Gru.builder(H).name("gru").build();
        List<Tensor> gw = randomWeights(gru, I);
        gru.setWeights(gw);
        Model java = Model.sequential("java").input(-1, I).add(norm).add(gru).build();
        Tensor x = random.uniform(3, 2, T, I);
        Tensor expected = java.predict(x);

        List<Map<String, Object>> layers = List.of(
                spec("InputLayer", "input", Map.of("batch_shape", nullFirst(-1, I))),
                spec("Normalization", "normalization", Map.of("axis", List.of(-1), "invert", false)),
                spec("Identity", "identity", Map.of()),
                layerSpec("GRU", "gru", Map.of("reset_after", true), H));
        Path archive = dir.resolve("normalized.keras");
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("normalization", List.of(mean, variance));
        weights.put("gru/cell", gw);
        KerasFileWriter.writeKeras(archive, JSON.valueToTree(Map.of("class_name", "Sequential",
                "config", Map.of("name", "k3", "layers", layers))), weights, Map.of("normalization", 5000L));
        LoadedModel fromArchive = KerasModelLoader.load(archive);
        Compare.assertIdentical("Keras 3 adapted Normalization", expected, fromArchive.model().predict(x));
        assertTrue(fromArchive.model().summary().contains("normalization (Normalization)"));

        List<Object> meanList = new ArrayList<>();
        List<Object> varList = new ArrayList<>();
        for (int k = 0; k < I; k++) {
            meanList.add((double) mean.data()[k]);
            varList.add((double) variance.data()[k]);
        }
        Map<String, Object> given = spec("Normalization", "normalization", Map.of("axis", List.of(-1),
                "mean", meanList, "variance", varList, "batch_input_shape", nullFirst(-1, I)));
        Path h5 = dir.resolve("normalized_config.h5");
        KerasFileWriter.writeHdf5(h5, "2.12.0", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                Map.of("name", "k2", "layers", List.of(given, layerSpec("GRU", "gru", Map.of("reset_after", true), H))))),
                Map.of("gru", recurrentH5Weights("gru", "gru_cell", gw)));
        Compare.assertIdentical("tf.keras Normalization(mean, variance)", expected,
                KerasModelLoader.load(h5).model().predict(x));
    }

    /**
     * The attention block of a popular Keras tutorial repository in a tf.keras file (LSTM, Permute,
     * Dense(T, softmax), Permute, Multiply, Flatten, Dense), and a Keras 3 Sequential with the 1-D
     * reshaping layers (UpSampling1D, ZeroPadding1D, Cropping1D) in front of a GRU.
     */
    @Test
    void permuteAndTimeReshapingLayers() throws IOException {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Dense att = Dense.builder(T).name("attention_probs").activation("softmax").build();
        List<Tensor> aw = List.of(random.uniform(0.5, T, T), random.uniform(0.5, T));
        att.setWeights(aw);
        Dense out = Dense.builder(1).name("out").build();
        List<Tensor> ow = List.of(random.uniform(0.5, T * H, 1), random.uniform(0.5, 1));
        out.setWeights(ow);
        Model java = Model.functional("java").input("x", T, I).add(lstm, "x")
                .add(new dev.rnnrt.layers.Permute("permute", 2, 1), "lstm").add(att, "permute")
                .add(new dev.rnnrt.layers.Permute("attention_vec", 2, 1), "attention_probs")
                .add(dev.rnnrt.layers.Merge.of("multiply", dev.rnnrt.layers.Merge.Mode.MULTIPLY), "lstm", "attention_vec")
                .add(dev.rnnrt.layers.Flatten.named("flatten", false), "multiply").add(out, "flatten")
                .outputs("out").build();
        String json = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"att\", \"layers\": ["
                + input2("x") + ","
                + "{\"name\": \"lstm\", \"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm\", \"units\": 3,"
                + " \"return_sequences\": true}, \"inbound_nodes\": [[[\"x\", 0, 0, {}]]]},"
                + "{\"name\": \"permute\", \"class_name\": \"Permute\", \"config\": {\"name\": \"permute\", \"dims\": [2, 1]},"
                + " \"inbound_nodes\": [[[\"lstm\", 0, 0, {}]]]},"
                + "{\"name\": \"attention_probs\", \"class_name\": \"Dense\", \"config\": {\"name\": \"attention_probs\","
                + " \"units\": " + T + ", \"activation\": \"softmax\"}, \"inbound_nodes\": [[[\"permute\", 0, 0, {}]]]},"
                + "{\"name\": \"attention_vec\", \"class_name\": \"Permute\", \"config\": {\"name\": \"attention_vec\","
                + " \"dims\": [2, 1]}, \"inbound_nodes\": [[[\"attention_probs\", 0, 0, {}]]]},"
                + "{\"name\": \"multiply\", \"class_name\": \"Multiply\", \"config\": {\"name\": \"multiply\"},"
                + " \"inbound_nodes\": [[[\"lstm\", 0, 0, {}], [\"attention_vec\", 0, 0, {}]]]},"
                + "{\"name\": \"flatten\", \"class_name\": \"Flatten\", \"config\": {\"name\": \"flatten\"},"
                + " \"inbound_nodes\": [[[\"multiply\", 0, 0, {}]]]},"
                + "{\"name\": \"out\", \"class_name\": \"Dense\", \"config\": {\"name\": \"out\", \"units\": 1},"
                + " \"inbound_nodes\": [[[\"flatten\", 0, 0, {}]]]}],"
                + " \"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"out\", 0, 0]]}}";
        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        weights.put("lstm", recurrentH5Weights("lstm", "lstm_cell", lw));
        weights.put("attention_probs", new KerasFileWriter.LayerWeights().put("attention_probs/kernel:0", aw.get(0))
                .put("attention_probs/bias:0", aw.get(1)));
        weights.put("out", new KerasFileWriter.LayerWeights().put("out/kernel:0", ow.get(0)).put("out/bias:0", ow.get(1)));
        Path file = dir.resolve("attention_block.h5");
        KerasFileWriter.writeHdf5(file, "2.4.0", parse(json), weights);
        Tensor x = random.uniform(1, 2, T, I);
        Compare.assertIdentical("attention block", java.predict(x), KerasModelLoader.load(file).model().predict(x));

        Gru gru = Gru.builder(H).name("gru").build();
        List<Tensor> gw = randomWeights(gru, I);
        gru.setWeights(gw);
        Model resized = Model.sequential("java").input(-1, I).add(dev.rnnrt.layers.TimeResize.upSampling("up", 2))
                .add(dev.rnnrt.layers.TimeResize.zeroPadding("pad", 1, 2))
                .add(dev.rnnrt.layers.TimeResize.cropping("crop", 2, 0)).add(gru).build();
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k3",
                "layers", List.of(spec("InputLayer", "input", Map.of("batch_shape", nullFirst(-1, I))),
                        spec("UpSampling1D", "up", Map.of("size", 2)),
                        spec("ZeroPadding1D", "pad", Map.of("padding", List.of(1, 2))),
                        spec("Cropping1D", "crop", Map.of("cropping", List.of(2, 0))),
                        layerSpec("GRU", "gru", Map.of("reset_after", true), H)))));
        Path archive = dir.resolve("resized.keras");
        KerasFileWriter.writeKeras(archive, config, Map.of("gru/cell", gw));
        Compare.assertIdentical("UpSampling1D, ZeroPadding1D, Cropping1D", resized.predict(x),
                KerasModelLoader.load(archive).model().predict(x));
    }

    /**
     * LSTM, then MultiHeadAttention over its sequence (self-attention, causal), pooled, Dense: in a
     * Keras 3 archive (the EinsumDense weights under query_dense, …) and a tf.keras file (query as
     * the call's entry, value in its keyword arguments, eight weight arrays in order).
     */
    @Test
    void multiHeadAttentionAfterARecurrentLayer() throws IOException {
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        dev.rnnrt.layers.MultiHeadAttention mha = new dev.rnnrt.layers.MultiHeadAttention("multi_head_attention", 2, 4,
                4, true, -1, true, false);
        List<Tensor> mw = List.of(random.uniform(0.5, H, 2, 4), random.uniform(0.5, 2, 4), random.uniform(0.5, H, 2, 4),
                random.uniform(0.5, 2, 4), random.uniform(0.5, H, 2, 4), random.uniform(0.5, 2, 4),
                random.uniform(0.5, 2, 4, H), random.uniform(0.5, H));
        mha.setWeights(mw);
        GlobalPooling1D pool = new GlobalPooling1D("pool", Pooling1D.Mode.AVERAGE, false);
        Model java = Model.functional("java").input("x", T, I).add(lstm, "x").add(mha, "lstm", "lstm")
                .add(pool, "multi_head_attention").outputs("pool").build();
        Tensor x = random.uniform(1, 2, T, I);
        Tensor expected = java.predict(x);

        Map<String, Object> in = new LinkedHashMap<>(spec("InputLayer", "x", Map.of("batch_shape", nullFirst(T, I))));
        in.put("name", "x");
        in.put("inbound_nodes", List.of());
        Map<String, Object> lstmSpec = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of("return_sequences", true), H));
        lstmSpec.put("name", "lstm");
        lstmSpec.put("inbound_nodes", List.of(call(List.of(tensor("x", 0, 0)), null)));
        Map<String, Object> mhaCfg = new LinkedHashMap<>();
        mhaCfg.put("num_heads", 2);
        mhaCfg.put("key_dim", 4);
        mhaCfg.put("value_dim", 4);
        mhaCfg.put("dropout", 0.0);
        mhaCfg.put("use_bias", true);
        mhaCfg.put("output_shape", null);
        mhaCfg.put("attention_axes", null);
        Map<String, Object> mhaSpec = new LinkedHashMap<>(spec("MultiHeadAttention", "multi_head_attention", mhaCfg));
        mhaSpec.put("name", "multi_head_attention");
        mhaSpec.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("lstm", 0, 0), tensor("lstm", 0, 0)),
                "kwargs", Map.of("use_causal_mask", true))));
        Map<String, Object> poolSpec = new LinkedHashMap<>(spec("GlobalAveragePooling1D", "pool",
                Map.of("data_format", "channels_last", "keepdims", false)));
        poolSpec.put("name", "pool");
        poolSpec.put("inbound_nodes", List.of(call(List.of(tensor("multi_head_attention", 0, 0)), null)));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "k3",
                "layers", List.of(in, lstmSpec, mhaSpec, poolSpec),
                "input_layers", List.of(List.of("x", 0, 0)), "output_layers", List.of(List.of("pool", 0, 0)))));
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("lstm/cell", lw);
        String[] parts = {"query_dense", "key_dense", "value_dense", "output_dense"};
        for (int p = 0; p < 4; p++) {
            weights.put("multi_head_attention/" + parts[p], List.of(mw.get(2 * p), mw.get(2 * p + 1)));
        }
        Path archive = dir.resolve("mha.keras");
        KerasFileWriter.writeKeras(archive, config, weights);
        Compare.assertIdentical("Keras 3 MultiHeadAttention", expected, KerasModelLoader.load(archive).model().predict(x));

        String json = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"k2\", \"layers\": ["
                + input2("x") + ","
                + "{\"name\": \"lstm\", \"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm\", \"units\": 3,"
                + " \"return_sequences\": true}, \"inbound_nodes\": [[[\"x\", 0, 0, {}]]]},"
                + "{\"name\": \"multi_head_attention\", \"class_name\": \"MultiHeadAttention\", \"config\": {"
                + "\"name\": \"multi_head_attention\", \"num_heads\": 2, \"key_dim\": 4, \"value_dim\": 4,"
                + " \"output_shape\": null, \"attention_axes\": null, \"use_bias\": true},"
                + " \"inbound_nodes\": [[[\"lstm\", 0, 0, {\"value\": [\"lstm\", 0, 0], \"use_causal_mask\": true}]]]},"
                + "{\"name\": \"pool\", \"class_name\": \"GlobalAveragePooling1D\", \"config\": {\"name\": \"pool\"},"
                + " \"inbound_nodes\": [[[\"multi_head_attention\", 0, 0, {}]]]}],"
                + " \"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"pool\", 0, 0]]}}";
        KerasFileWriter.LayerWeights mhaW = new KerasFileWriter.LayerWeights();
        String[] names = {"query", "key", "value", "attention_output"};
        for (int p = 0; p < 4; p++) {
            mhaW.put("multi_head_attention/" + names[p] + "/kernel:0", mw.get(2 * p))
                    .put("multi_head_attention/" + names[p] + "/bias:0", mw.get(2 * p + 1));
        }
        Map<String, KerasFileWriter.LayerWeights> h5 = new LinkedHashMap<>();
        h5.put("lstm", recurrentH5Weights("lstm", "lstm_cell", lw));
        h5.put("multi_head_attention", mhaW);
        Path file = dir.resolve("mha.h5");
        KerasFileWriter.writeHdf5(file, "2.12.0", parse(json), h5);
        Compare.assertIdentical("tf.keras MultiHeadAttention", expected, KerasModelLoader.load(file).model().predict(x));
    }

    /**
     * Masks into MultiHeadAttention, each file under its Keras version's rule: a Keras 3 archive
     * (Embedding(mask_zero) into self-attention, the query_mask and value_mask Keras recorded
     * checked; without returned scores Keras 3.9 runs dot_product_attention, with them its masked
     * softmax) and tf.keras files (Masking into self-attention: ignored by 2.9, used from 2.10). The
     * outputs include masked query steps, where the rules differ.
     */
    @Test
    void maskedMultiHeadAttentionFollowsTheFilesKerasVersion() throws IOException {
        Tensor table = random.uniform(3, 7, I);
        List<Tensor> mw = attentionWeights(2);     // large query and key kernels: the rules differ in fully masked rows
        Tensor ids = Tensor.of(new float[] {1, 2, 3, 4, 0, 0, 5, 6, 0, 0, 0, 0}, 2, T);
        Map<dev.rnnrt.layers.MultiHeadAttention.MaskRule, Tensor> byRule = new java.util.EnumMap<>(
                dev.rnnrt.layers.MultiHeadAttention.MaskRule.class);
        for (dev.rnnrt.layers.MultiHeadAttention.MaskRule rule : dev.rnnrt.layers.MultiHeadAttention.MaskRule.values()) {
            Embedding emb = Embedding.of("embedding", 7, I, true, Initializer.zeros());
            emb.setWeights(List.of(table));
            dev.rnnrt.layers.MultiHeadAttention mha = new dev.rnnrt.layers.MultiHeadAttention("mha", 2, 4, 4, true, -1,
                    false, false, rule, dev.rnnrt.backend.cpu.reference.RecurrentReference.INSTANCE);
            mha.setWeights(mw);
            byRule.put(rule, Model.functional("java").input("ids", T).add(emb, "ids").add(mha, "embedding", "embedding")
                    .outputs("mha").build().predict(ids));
        }
        List<Tensor> distinct = new ArrayList<>(byRule.values());
        for (int a = 0; a < distinct.size(); a++) {
            for (int b = a + 1; b < distinct.size(); b++) {
                double d = 0;
                for (int k = 0; k < distinct.get(a).size(); k++) {
                    d = Math.max(d, Math.abs(distinct.get(a).data()[k] - distinct.get(b).data()[k]));
                }
                assertTrue(d > 1e-3, "two mask rules give the same outputs here; the checks below would prove nothing");
            }
        }
        // version, what the call or config sets, the rule Keras followed
        String[][] variants = {{"3.9.2", "plain", "UNIFORM"}, {"3.9.2", "scores", "MINUS_1E9"},
                {"3.9.2", "dropout", "MINUS_1E9"}, {"3.6.0", "plain", "MINUS_1E9"}, {"3.10.0", "scores", "ZEROS"},
                {"3.12.0", "dropout", "ZEROS"}, {"3.12.0", "plain", "UNIFORM"}, {"3.9.2", "unrecorded", null}};
        for (String[] variant : variants) {
            boolean records = dev.rnnrt.api.KerasVersion.parse(variant[0]).minor() < 10;   // 3.0-3.9 record masks
            Map<String, Object> kwargs = new LinkedHashMap<>();
            if (records) {
                kwargs.put("query_mask", variant[1].equals("unrecorded") ? null : tensor("not_equal", 0));
                kwargs.put("value_mask", tensor("not_equal", 0));
            }
            if (variant[1].equals("scores")) {
                kwargs.put("return_attention_scores", true);
            }
            List<Object> layers = new ArrayList<>(maskedEmbeddingSpecs());
            layers.add(selfAttentionSpec("mha", variant[1].equals("dropout") ? 0.1 : 0.0, kwargs));
            JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "k3",
                    "layers", layers, "input_layers", List.of(List.of("ids", 0, 0)),
                    "output_layers", List.of(List.of("mha", 0, 0)))));
            Map<String, List<Tensor>> weights = new LinkedHashMap<>();
            weights.put("embedding", List.of(table));
            putAttentionWeights(weights, "multi_head_attention", mw);
            String where = "Keras " + variant[0] + ", " + variant[1];
            Path file = dir.resolve("mha_masked_" + variant[0] + "_" + variant[1] + ".keras");
            KerasFileWriter.writeKeras(file, variant[0], config, weights, Map.of());
            if (variant[2] == null) {
                assertRefusal(file, "layer 'mha'", "with no mask for its input 'embedding'");
                continue;
            }
            Compare.assertIdentical(where, byRule.get(dev.rnnrt.layers.MultiHeadAttention.MaskRule.valueOf(variant[2])),
                    KerasModelLoader.load(file).model().predict(ids));
        }

        Tensor x = paddedInput();
        for (String version : List.of("2.9.0", "2.12.0")) {
            String json = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"k2\", \"layers\": ["
                    + input2("x") + ","
                    + "{\"name\": \"masking\", \"class_name\": \"Masking\", \"config\": {\"name\": \"masking\","
                    + " \"mask_value\": 0.0}, \"inbound_nodes\": [[[\"x\", 0, 0, {}]]]},"
                    + "{\"name\": \"mha\", \"class_name\": \"MultiHeadAttention\", \"config\": {"
                    + "\"name\": \"mha\", \"num_heads\": 2, \"key_dim\": 4, \"value_dim\": 4,"
                    + " \"output_shape\": null, \"attention_axes\": null, \"use_bias\": true, \"dropout\": 0.0},"
                    + " \"inbound_nodes\": [[[\"masking\", 0, 0, {\"value\": [\"masking\", 0, 0]}]]]}],"
                    + " \"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"mha\", 0, 0]]}}";
            KerasFileWriter.LayerWeights mhaW = new KerasFileWriter.LayerWeights();
            String[] names = {"query", "key", "value", "attention_output"};
            for (int p = 0; p < 4; p++) {
                mhaW.put("mha/" + names[p] + "/kernel:0", mw.get(2 * p)).put("mha/" + names[p] + "/bias:0", mw.get(2 * p + 1));
            }
            Path file = dir.resolve("mha_masked_" + version + ".h5");
            KerasFileWriter.writeHdf5(file, version, parse(json), Map.of("mha", mhaW));
            dev.rnnrt.layers.MultiHeadAttention.MaskRule rule = version.equals("2.9.0")
                    ? dev.rnnrt.layers.MultiHeadAttention.MaskRule.IGNORED
                    : dev.rnnrt.layers.MultiHeadAttention.MaskRule.MINUS_1E9;
            dev.rnnrt.layers.MultiHeadAttention mha = new dev.rnnrt.layers.MultiHeadAttention("mha", 2, 4, 4, true, -1,
                    false, false, rule, dev.rnnrt.backend.cpu.reference.RecurrentReference.INSTANCE);
            mha.setWeights(mw);
            Model built = Model.functional("java").input("x", T, I).add(Masking.of("masking", 0.0), "x")
                    .add(mha, "masking", "masking").outputs("mha").build();
            Tensor loaded = KerasModelLoader.load(file).model().predict(x);
            Compare.assertIdentical("tf.keras " + version, built.predict(x), loaded);
            if (rule == dev.rnnrt.layers.MultiHeadAttention.MaskRule.IGNORED) {
                Tensor unmasked = mha.call(List.of(x, x), java.util.Arrays.asList(null, null)).get(0);
                Compare.assertIdentical("tf.keras 2.9 uses no mask", unmasked, loaded);
            }
        }
    }

    /**
     * The residual of a transformer block, Add()([x, MultiHeadAttention()(x, x)]) over a masked x,
     * then GlobalAveragePooling1D: Keras 3.10+'s attention removes x's mask as it runs, so the Add
     * (run after it) sees none and passes none on, and the pooling averages every step; Keras 3.7
     * passes the OR of the masks on, and the pooling averages the kept steps. Keras 3.8-3.9 gave the
     * pooling its recorded mask (the OR) while the Add's output had none: the kept steps again. Two
     * readers that neither depends on the other (Keras' order of execution decides) are refused in 3.8+.
     */
    @Test
    void keras38AttentionRemovesItsInputsMasks() throws IOException {
        Tensor table = random.uniform(1, 7, I);
        List<Tensor> mw = attentionWeights(0.5);
        Tensor ids = Tensor.of(new float[] {1, 2, 3, 4, 0, 0, 5, 6, 0, 0, 0, 0}, 2, T);
        int[] lengths = {4, 2};
        for (String version : List.of("3.10.0", "3.10.0 after Dropout", "3.8.0", "3.7.0", "parallel")) {
            // 3.8-3.9: the Add's output has no mask, but the pooling gets its recorded one (the OR)
            boolean strips = !version.equals("3.7.0") && !version.equals("3.8.0");
            boolean dropout = version.endsWith("Dropout");
            dev.rnnrt.layers.MultiHeadAttention.MaskRule rule = dev.rnnrt.layers.MultiHeadAttention.MaskRule.UNIFORM;
            Embedding emb = Embedding.of("embedding", 7, I, true, Initializer.zeros());
            emb.setWeights(List.of(table));
            dev.rnnrt.layers.MultiHeadAttention attention = new dev.rnnrt.layers.MultiHeadAttention("mha", 2, 4, 4, true,
                    -1, false, false, rule, dev.rnnrt.backend.cpu.reference.RecurrentReference.INSTANCE);
            attention.setWeights(mw);
            List<Tensor> parts = Model.functional("java").input("ids", T).add(emb, "ids")
                    .add(attention, "embedding", "embedding").outputs("embedding", "mha").build().predict(List.of(ids));
            double[] expected = new double[2 * I];
            for (int b = 0; b < 2; b++) {
                int steps = strips ? T : lengths[b];
                for (int t = 0; t < steps; t++) {
                    for (int f = 0; f < I; f++) {
                        int k = (b * T + t) * I + f;
                        expected[b * I + f] += (parts.get(0).data()[k] + parts.get(1).data()[k]) / steps;
                    }
                }
            }
            List<Object> layers = new ArrayList<>(maskedEmbeddingSpecs());
            if (dropout) {   // at inference Keras' Dropout gives back its input tensor, whose mask the attention removes
                Map<String, Object> drop = new LinkedHashMap<>(spec("Dropout", "dropout", Map.of("rate", 0.1)));
                drop.put("name", "dropout");
                drop.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("embedding", 0)), "kwargs", Map.of())));
                layers.add(drop);
            }
            List<String> attentionNames = version.equals("parallel") ? List.of("mha", "mha_1") : List.of("mha");
            boolean records = !version.startsWith("3.10.0");     // 3.0-3.9 record the masks
            for (String n : attentionNames) {
                Map<String, Object> kwargs = new LinkedHashMap<>();
                if (records) {
                    kwargs.put("query_mask", tensor("not_equal", 0));
                    kwargs.put("value_mask", tensor("not_equal", 0));
                }
                layers.add(selfAttentionSpec(n, 0.0, kwargs, dropout ? "dropout" : "embedding"));
            }
            Map<String, Object> add = new LinkedHashMap<>(spec("Add", "add", Map.of()));
            add.put("name", "add");
            List<Object> addArgs = new ArrayList<>(List.of(tensor("embedding", 0), tensor("mha", 0)));
            if (version.equals("parallel")) {
                addArgs.add(tensor("mha_1", 0));
            }
            add.put("inbound_nodes", List.of(Map.of("args", List.of(addArgs), "kwargs", Map.of())));
            Map<String, Object> pool = new LinkedHashMap<>(spec("GlobalAveragePooling1D", "pool",
                    Map.of("data_format", "channels_last", "keepdims", false)));
            pool.put("name", "pool");
            // Keras 3.0-3.9 record the mask the pooling got while the model was built, which the
            // attention had not removed: the Add's OR of its inputs' masks
            Map<String, Object> or = operation("LogicalOr", "logical_or", Map.of("name", "logical_or"),
                    List.of(tensor("not_equal", 0), tensor("not_equal", 0)));
            pool.put("inbound_nodes", List.of(call(List.of(tensor("add", 0)), records ? tensor("logical_or", 0) : null)));
            if (records) {
                layers.add(or);
            }
            layers.add(add);
            layers.add(pool);
            JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "block",
                    "layers", layers, "input_layers", List.of(List.of("ids", 0, 0)),
                    "output_layers", List.of(List.of("pool", 0, 0)))));
            Map<String, List<Tensor>> weights = new LinkedHashMap<>();
            weights.put("embedding", List.of(table));
            for (int a = 0; a < attentionNames.size(); a++) {
                putAttentionWeights(weights, "multi_head_attention" + (a == 0 ? "" : "_" + a), mw);
            }
            Path file = dir.resolve("block_" + version.replace(' ', '_') + ".keras");
            KerasFileWriter.writeKeras(file, version.equals("parallel") ? "3.9.2" : version.split(" ")[0], config, weights,
                    Map.of());
            if (version.equals("parallel")) {
                assertRefusal(file, "'mha", "both read the masked 'embedding", "neither depends on the other");
                continue;
            }
            Compare.assertClose("Keras " + version, new int[] {2, I}, expected,
                    KerasModelLoader.load(file).model().predict(ids), Tolerance.FP32);
        }
    }

    /**
     * Keras 3.8-3.9: a second MultiHeadAttention on the residual Add takes its query's mask from the
     * tensor (emptied at run time), whatever its saved call recorded; rnnrt does not follow that, and
     * refuses the model rather than mask the query.
     */
    @Test
    void keras38SecondAttentionOnTheResidualIsRefused() throws IOException {
        List<Object> layers = new ArrayList<>(maskedEmbeddingSpecs());
        Map<String, Object> kwargs = new LinkedHashMap<>();
        kwargs.put("query_mask", tensor("not_equal", 0));
        kwargs.put("value_mask", tensor("not_equal", 0));
        layers.add(selfAttentionSpec("mha", 0.0, kwargs, "embedding"));
        layers.add(operation("LogicalOr", "logical_or", Map.of("name", "logical_or"),
                List.of(tensor("not_equal", 0), tensor("not_equal", 0))));
        Map<String, Object> add = new LinkedHashMap<>(spec("Add", "add", Map.of()));
        add.put("name", "add");
        add.put("inbound_nodes", List.of(Map.of("args", List.of(List.of(tensor("embedding", 0), tensor("mha", 0))),
                "kwargs", Map.of())));
        layers.add(add);
        Map<String, Object> kw2 = new LinkedHashMap<>();
        kw2.put("query_mask", tensor("logical_or", 0));
        kw2.put("value_mask", tensor("logical_or", 0));
        layers.add(selfAttentionSpec("mha_2", 0.0, kw2, "add"));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "block",
                "layers", layers, "input_layers", List.of(List.of("ids", 0, 0)),
                "output_layers", List.of(List.of("mha_2", 0, 0)))));
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("embedding", List.of(random.uniform(1, 7, I)));
        putAttentionWeights(weights, "multi_head_attention", attentionWeights(0.5));
        putAttentionWeights(weights, "multi_head_attention_1", attentionWeights(0.5));
        Path file = dir.resolve("second_attention.keras");
        KerasFileWriter.writeKeras(file, "3.8.0", config, weights, Map.of());
        assertRefusal(file, "'mha_2'", "mask");
    }

    /**
     * A mask reaching a layer that does not use masks: tf.keras from 2.4 and Keras 3 stop it there,
     * and the layer computes over the masked steps too (GlobalMaxPooling1D takes the padded steps'
     * outputs, which repeat the last real one), with a warning naming the layer; standalone Keras
     * raised, and tf.keras before 2.4 is not assumed either way, so those files are refused.
     * tf.keras' Normalization did not support masking (the mask stops there), Keras 3's keeps it.
     */
    @Test
    void masksStopAtLayersThatDoNotUseThem() throws IOException {
        Tensor table = random.uniform(1, 7, I);
        Embedding emb = Embedding.of("embedding", 7, I, true, Initializer.zeros());
        emb.setWeights(List.of(table));
        Lstm lstm = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Tensor ids = Tensor.of(new float[] {1, 2, 3, 4, 0, 0, 5, 6, 1, 0, 0, 0}, 2, T);
        Tensor sequence = Model.sequential("java").input(T).add(emb).add(lstm).build().predict(ids);
        double[] maxOverAllSteps = new double[2 * H];
        java.util.Arrays.fill(maxOverAllSteps, Double.NEGATIVE_INFINITY);
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < T; t++) {
                for (int h = 0; h < H; h++) {
                    maxOverAllSteps[b * H + h] = Math.max(maxOverAllSteps[b * H + h], sequence.data()[(b * T + t) * H + h]);
                }
            }
        }
        Map<String, Object> embCfg = new LinkedHashMap<>(Map.of("input_dim", 7, "output_dim", I, "mask_zero", true));
        embCfg.put("batch_input_shape", nullFirst(T));
        List<Object> layers = List.of(spec("Embedding", "embedding", embCfg),
                layerSpec("LSTM", "lstm", Map.of("return_sequences", true), H),
                spec("GlobalMaxPooling1D", "pool", Map.of("data_format", "channels_last")));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "s",
                "layers", layers)));
        Map<String, KerasFileWriter.LayerWeights> h5 = new LinkedHashMap<>();
        h5.put("embedding", new KerasFileWriter.LayerWeights().put("embedding/embeddings:0", table));
        h5.put("lstm", recurrentH5Weights("lstm", "lstm_cell", lw));
        for (String version : List.of("2.9.0", "2.2.4", "2.3.0-tf")) {
            Path file = dir.resolve("max_pool_" + version + ".h5");
            KerasFileWriter.writeHdf5(file, version, config, h5);
            if (!version.equals("2.9.0")) {
                assertRefusal(file, "Layer 'pool'", "does not support masking", "'embedding'");
                continue;
            }
            LoadedModel loaded = KerasModelLoader.load(file);
            Compare.assertClose("tf.keras 2.9: max over every step", new int[] {2, H}, maxOverAllSteps,
                    loaded.model().predict(ids), Tolerance.FP32);
            assertTrue(loaded.warnings().stream().anyMatch(w -> w.contains("Layer 'pool' (GlobalMaxPooling1D) does not "
                    + "use masks") && w.contains("'embedding'")), loaded.warnings().toString());
        }
        Map<String, List<Tensor>> k3 = new LinkedHashMap<>();
        k3.put("embedding", List.of(table));
        k3.put("lstm/cell", lw);
        Path archive = dir.resolve("max_pool.keras");
        KerasFileWriter.writeKeras(archive, JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of(
                "name", "s", "layers", List.of(spec("InputLayer", "input", Map.of("batch_shape", nullFirst(T))),
                        spec("Embedding", "embedding", Map.of("input_dim", 7, "output_dim", I, "mask_zero", true)),
                        layers.get(1), layers.get(2))))), k3);
        Compare.assertClose("Keras 3: max over every step", new int[] {2, H}, maxOverAllSteps,
                KerasModelLoader.load(archive).model().predict(ids), Tolerance.FP32);

        // Masking -> Normalization -> GlobalAveragePooling1D: tf.keras averages every step, Keras 3 the kept ones
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 0, 0}, 1, 3, 2);
        Map<String, Object> maskCfg = new LinkedHashMap<>(Map.of("mask_value", 0.0));
        maskCfg.put("batch_input_shape", nullFirst(3, 2));
        Map<String, Object> normCfg = new LinkedHashMap<>(Map.of("axis", List.of(-1), "mean", List.of(0.5, 0.5),
                "variance", List.of(4.0, 4.0)));
        for (String version : List.of("2.9.0", "3.6.0")) {
            JsonNode norm = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "n",
                    "layers", List.of(spec("Masking", "masking", maskCfg), spec("Normalization", "normalization", normCfg),
                            spec("GlobalAveragePooling1D", "gap", Map.of("data_format", "channels_last"))))));
            Path file = dir.resolve("norm_" + version + ".h5");
            KerasFileWriter.writeHdf5(file, version, norm, Map.of());
            // (x - 0.5) / 2 averaged over steps 0..2 (tf.keras) or 0..1 (Keras 3)
            double[] expected = version.equals("2.9.0") ? new double[] {(0.5 + 2.5 - 0.5) / 2 / 3, (1.5 + 3.5 - 0.5) / 2 / 3}
                    : new double[] {(0.5 + 2.5) / 2 / 2, (1.5 + 3.5) / 2 / 2};
            Compare.assertClose("Normalization's mask, Keras " + version, new int[] {1, 2}, expected,
                    KerasModelLoader.load(file).model().predict(x), Tolerance.FP32);
        }
    }

    /** Keras 1.2's UpSampling1D(length) and ZeroPadding1D(padding={"left_pad", "right_pad"}). */
    @Test
    void keras1UpSamplingLengthAndPaddingDict() {
        Map<String, Object> up = new LinkedHashMap<>(Map.of("length", 3));
        up.put("batch_input_shape", nullFirst(4, 2));
        Map<String, Object> pad = new LinkedHashMap<>(Map.of("padding", Map.of("left_pad", 3, "right_pad", 0)));
        pad.put("batch_input_shape", nullFirst(2, 1));
        Path upFile = dir.resolve("keras1_up.h5");
        KerasFileWriter.writeHdf5(upFile, "1.2.2", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                List.of(spec("UpSampling1D", "up", up)))), Map.of());
        Tensor steps = Tensor.of(new float[] {1, 1, 2, 2, 3, 3, 4, 4}, 1, 4, 2);
        Tensor y = KerasModelLoader.load(upFile).model().predict(steps);
        assertArrayEquals(new int[] {1, 12, 2}, y.shape());
        assertEquals(4f, y.data()[22]);
        Path padFile = dir.resolve("keras1_pad.h5");
        KerasFileWriter.writeHdf5(padFile, "1.2.2", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                List.of(spec("ZeroPadding1D", "pad", pad)))), Map.of());
        assertArrayEquals(new float[] {0, 0, 0, 5, 6},
                KerasModelLoader.load(padFile).model().predict(Tensor.of(new float[] {5, 6}, 1, 2, 1)).data());
        Map<String, Object> leftOnly = new LinkedHashMap<>(Map.of("padding", Map.of("left_pad", 2)));
        leftOnly.put("batch_input_shape", nullFirst(2, 1));
        KerasFileWriter.writeHdf5(padFile, "1.2.2", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                List.of(spec("ZeroPadding1D", "pad", leftOnly)))), Map.of());
        assertArrayEquals(new float[] {0, 0, 5, 6},            // Keras 1.2: a side left out is 0
                KerasModelLoader.load(padFile).model().predict(Tensor.of(new float[] {5, 6}, 1, 2, 1)).data());
    }

    /**
     * Keras 3 nested Functional models as Keras 3 numbers them: a base model (LSTM inside) called on
     * two inputs, call 0 a model output (output_layers counts the model's own first node: ["base",
     * 1, 0]) and call 1 read by a Dense (inbound nodes count from 0: ["base", 1, 0] too); a second
     * nested model with an inner layer of the same name; an Embedding(mask_zero) in front whose mask
     * Keras passes into the nested model (whose config recorded "mask": null when built alone).
     */
    @Test
    void keras3NestedFunctionalCallsNamesAndMasks() throws IOException {
        Embedding emb = Embedding.of("embedding", 9, I, true, Initializer.zeros());
        Tensor ew = random.uniform(0.8, 9, I);
        emb.setWeights(List.of(ew));
        Lstm baseLstm = Lstm.builder(H).name("lstm").build();
        List<Tensor> bw = randomWeights(baseLstm, I);
        baseLstm.setWeights(bw);
        Gru otherGru = Gru.builder(H).name("lstm").build();       // same inner name, other nested model
        List<Tensor> gw = randomWeights(otherGru, I);
        otherGru.setWeights(gw);
        Dense head = Dense.builder(2).name("head").build();
        List<Tensor> hw = List.of(random.uniform(0.5, H, 2), random.uniform(0.5, 2));
        head.setWeights(hw);
        Model onA = Model.sequential("a").input(T).add(emb).add(baseLstm).build();
        Model onB = Model.sequential("b").input(T).add(emb).add(baseLstm).build();
        Model other = Model.sequential("o").input(T).add(emb).add(otherGru).build();

        Map<String, Object> embSpec = new LinkedHashMap<>(spec("Embedding", "embedding",
                Map.of("input_dim", 9, "output_dim", I, "mask_zero", true)));
        embSpec.put("name", "embedding");
        embSpec.put("inbound_nodes", List.of(call(List.of(tensor("a", 0, 0)), null), call(List.of(tensor("b", 0, 0)), null)));
        Map<String, Object> lstmKwargs = new LinkedHashMap<>();
        lstmKwargs.put("mask", null);                              // built alone, on an unmasked Input
        Map<String, Object> innerLstm = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of(), H));
        innerLstm.put("name", "lstm");
        innerLstm.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("base_in", 0, 0)), "kwargs", lstmKwargs)));
        Map<String, Object> base = new LinkedHashMap<>(spec("Functional", "base", Map.of(
                "layers", List.of(input("base_in"), innerLstm),
                "input_layers", List.of(List.of("base_in", 0, 0)), "output_layers", List.of(List.of("lstm", 0, 0)))));
        base.put("name", "base");
        base.put("inbound_nodes", List.of(
                Map.of("args", List.of(tensor("embedding", 0, 0)), "kwargs", Map.of("mask", tensor("not_equal", 0, 0))),
                Map.of("args", List.of(tensor("embedding", 1, 0)), "kwargs", Map.of("mask", tensor("not_equal_1", 0, 0)))));
        Map<String, Object> innerGru = new LinkedHashMap<>(layerSpec("GRU", "lstm", Map.of("reset_after", true), H));
        innerGru.put("name", "lstm");
        innerGru.put("inbound_nodes", List.of(call(List.of(tensor("other_in", 0, 0)), null)));
        Map<String, Object> otherModel = new LinkedHashMap<>(spec("Functional", "other", Map.of(
                "layers", List.of(input("other_in"), innerGru),
                "input_layers", List.of(List.of("other_in", 0, 0)), "output_layers", List.of(List.of("lstm", 0, 0)))));
        otherModel.put("name", "other");
        otherModel.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("embedding", 0, 0)),
                "kwargs", Map.of("mask", tensor("not_equal", 0, 0)))));
        Map<String, Object> headSpec = new LinkedHashMap<>(spec("Dense", "head", Map.of("units", 2)));
        headSpec.put("inbound_nodes", List.of(call(List.of(tensor("base", 1, 0)), null)));     // call 1
        Map<String, Object> configMap = Map.of("class_name", "Functional", "config", Map.of("name", "outer",
                "layers", List.of(idsInput("a"), idsInput("b"),
                        operation("NotEqual", "not_equal", Map.of("name", "not_equal"), List.of(tensor("a", 0, 0), 0)),
                        operation("NotEqual", "not_equal_1", Map.of("name", "not_equal_1"), List.of(tensor("b", 0, 0), 0)),
                        embSpec, base, otherModel, headSpec),
                "input_layers", List.of(List.of("a", 0, 0), List.of("b", 0, 0)),
                "output_layers", List.of(List.of("base", 1, 0), List.of("head", 0, 0), List.of("other", 1, 0))));
        JsonNode config = JSON.valueToTree(configMap);
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("embedding", List.of(ew));
        weights.put("functional/layers/lstm/cell", bw);
        weights.put("functional_1/layers/gru/cell", gw);
        weights.put("dense", hw);
        Path file = dir.resolve("nested_calls.keras");
        KerasFileWriter.writeKeras(file, config, weights);

        Model loaded = KerasModelLoader.load(file).model();
        float[] a = new float[2 * T];
        float[] b = new float[2 * T];
        for (int k = 0; k < a.length; k++) {          // row 0 of each padded at the end
            a[k] = k % T < (k < T ? 3 : T) ? 1 + k % 7 : 0;
            b[k] = k % T < (k < T ? 4 : T - 1) ? 1 + (3 * k) % 8 : 0;
        }
        Tensor ta = Tensor.wrap(a, 2, T);
        Tensor tb = Tensor.wrap(b, 2, T);
        List<Tensor> out = loaded.predict(List.of(ta, tb));
        Compare.assertIdentical("output_layers ['base', 1, 0]: call 0, on a", onA.predict(ta), out.get(0));
        Compare.assertIdentical("Dense on ['base', 1, 0]: call 1, on b", head.call(List.of(onB.predict(tb)),
                Arrays.asList((dev.rnnrt.api.Mask) null)).get(0), out.get(1));
        Compare.assertIdentical("the other nested model", other.predict(ta), out.get(2));
        assertTrue(loaded.callNames().containsAll(List.of("base/lstm", "base#1/lstm", "other/lstm")),
                loaded.callNames().toString());

        // "mask": [null], a list: Keras refills only a bare None with the input's mask, so the inner
        // LSTM ran unmasked on the masked embedding, which rnnrt would mask: refused
        lstmKwargs.put("mask", Arrays.asList((Object) null));
        Path listed = dir.resolve("nested_listed_none.keras");
        KerasFileWriter.writeKeras(listed, JSON.valueToTree(configMap), weights);
        assertRefusal(listed, "called layer 'base/lstm' with no mask for its input 'embedding'",
                "rnnrt's rules give that input one");
    }

    /**
     * Keras 3.4+ merges combine masks with keras.ops, and the next layer's call records that
     * combination: two Embedding(mask_zero) branches through LSTMs, a merge, and an LSTM over it. Add
     * records logical_or of the two masks; Concatenate records any(concatenate([...])) of the masks
     * broadcast to the inputs (expand_dims and broadcast_to up to Keras 3.11, logical_or with
     * zeros_like from 3.12). These load and equal the model built in Java; a logical_and, or a
     * combination passed by hand to a layer that does not follow a merge, is refused.
     */
    @Test
    void keras3MergedMasks() throws IOException {
        Map<String, Object> orMask = operation("LogicalOr", "logical_or", Map.of("name", "logical_or"),
                List.of(tensor("not_equal", 0, 0), tensor("not_equal_1", 0, 0)));
        checkMergedMask("Add", List.of(orMask), tensor("logical_or", 0, 0), null);

        List<Map<String, Object>> broadcastForm = new ArrayList<>();
        List<Map<String, Object>> zerosForm = new ArrayList<>();
        for (String m : List.of("not_equal", "not_equal_1")) {
            String x = m.equals("not_equal") ? "lstm" : "lstm_1";
            broadcastForm.add(operation("ExpandDims", "expand_dims_" + m, Map.of("name", "expand_dims_" + m, "axis", -1),
                    List.of(tensor(m, 0, 0))));
            broadcastForm.add(operation("BroadcastTo", "broadcast_to_" + m, Map.of("name", "broadcast_to_" + m,
                    "shape", nullFirst(T, H)), List.of(tensor("expand_dims_" + m, 0, 0), nullFirst(T, H))));
            zerosForm.add(operation("ExpandDims", "expand_dims_" + m, Map.of("name", "expand_dims_" + m, "axis", -1),
                    List.of(tensor(m, 0, 0))));
            zerosForm.add(operation("ZerosLike", "zeros_like_" + m, Map.of("name", "zeros_like_" + m, "dtype", "bool"),
                    List.of(tensor(x, 0, 0))));
            zerosForm.add(operation("LogicalOr", "or_" + m, Map.of("name", "or_" + m),
                    List.of(tensor("expand_dims_" + m, 0, 0), tensor("zeros_like_" + m, 0, 0))));
        }
        broadcastForm.add(operation("Concatenate", "concatenate_masks", Map.of("name", "concatenate_masks", "axis", -1),
                List.of(List.of(tensor("broadcast_to_not_equal", 0, 0), tensor("broadcast_to_not_equal_1", 0, 0)))));
        zerosForm.add(operation("Concatenate", "concatenate_masks", Map.of("name", "concatenate_masks", "axis", -1),
                List.of(List.of(tensor("or_not_equal", 0, 0), tensor("or_not_equal_1", 0, 0)))));
        for (List<Map<String, Object>> form : List.of(broadcastForm, zerosForm)) {
            form.add(operation("Any", "any_masks", Map.of("name", "any_masks", "axis", -1, "keepdims", false),
                    List.of(tensor("concatenate_masks", 0, 0))));
            checkMergedMask("Concatenate", form, tensor("any_masks", 0, 0), null);
        }

        Map<String, Object> andMask = operation("LogicalAnd", "logical_and", Map.of("name", "logical_and"),
                List.of(tensor("not_equal", 0, 0), tensor("not_equal_1", 0, 0)));
        checkMergedMask("Add", List.of(andMask), tensor("logical_and", 0, 0), "passed by hand");
        checkMergedMask("Add", List.of(orMask, operation("LogicalOr", "or_again", Map.of("name", "or_again"),
                List.of(tensor("not_equal", 0, 0), tensor("not_equal", 0, 0)))), tensor("or_again", 0, 0),
                "but rnnrt's rules give that input");
        // Concatenate along time joins the masks (not an OR): such recorded masks are refused
        List<Map<String, Object>> timeJoin = new ArrayList<>();
        for (String m : List.of("not_equal_1", "not_equal")) {     // the halves swapped
            timeJoin.add(operation("ExpandDims", "expand_dims_" + m, Map.of("name", "expand_dims_" + m, "axis", -1),
                    List.of(tensor(m, 0, 0))));
        }
        timeJoin.add(operation("Concatenate", "concatenate_masks", Map.of("name", "concatenate_masks", "axis", 1),
                List.of(List.of(tensor("expand_dims_not_equal_1", 0, 0), tensor("expand_dims_not_equal", 0, 0)))));
        timeJoin.add(operation("Any", "any_masks", Map.of("name", "any_masks", "axis", -1, "keepdims", false),
                List.of(tensor("concatenate_masks", 0, 0))));
        checkMergedMask("Concatenate", 1, timeJoin, tensor("any_masks", 0, 0), "lstm_2");
        // one branch's mask alone, where Add gives the OR of both: refused
        checkMergedMask("Add", List.of(), tensor("not_equal", 0, 0), "but rnnrt's rules give that input");
        // a crafted chain or(x, x) of 41 links: read once per tensor, refused at once
        List<Map<String, Object>> chain = new ArrayList<>();
        String previous = "not_equal";
        for (int k = 0; k < 41; k++) {
            chain.add(operation("LogicalOr", "chain_" + k, Map.of("name", "chain_" + k),
                    List.of(tensor(previous, 0, 0), tensor(previous, 0, 0))));
            previous = "chain_" + k;
        }
        String last = previous;
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
                () -> checkMergedMask("Add", chain, tensor(last, 0, 0), "but rnnrt's rules give that input"));
    }

    /**
     * Merged masks reach layers through other layers and further merges: Add of two masked
     * branches, Add of that and a third (or(or(m_a, m_b), m_c)), a Dropout, then an LSTM; and a
     * Keras 3 Sequential passing Embedding(mask_zero)'s mask into a nested Functional model whose
     * config recorded "mask": null when it was built alone.
     */
    @Test
    void keras3MasksThroughNestedMergesAndModels() throws IOException {
        String[] ids = {"a", "b", "c"};
        List<Object> layers = new ArrayList<>();
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        dev.rnnrt.model.ModelBuilder java = Model.functional("java");
        for (int k = 0; k < 3; k++) {
            String emb = "embedding_" + k;
            String lstm = "lstm_" + k;
            String ne = "not_equal_" + k;
            layers.add(idsInput(ids[k]));
            layers.add(operation("NotEqual", ne, Map.of("name", ne), List.of(tensor(ids[k], 0, 0), 0)));
            Map<String, Object> e = new LinkedHashMap<>(spec("Embedding", emb, Map.of("input_dim", 9, "output_dim", I,
                    "mask_zero", true)));
            e.put("inbound_nodes", List.of(call(List.of(tensor(ids[k], 0, 0)), null)));
            Map<String, Object> l = new LinkedHashMap<>(layerSpec("LSTM", lstm, Map.of("return_sequences", true), H));
            l.put("inbound_nodes", List.of(call(List.of(tensor(emb, 0, 0)), tensor(ne, 0, 0))));
            layers.add(e);
            layers.add(l);
            Embedding je = Embedding.of(emb, 9, I, true, Initializer.zeros());
            Tensor ew = random.uniform(0.8, 9, I);
            je.setWeights(List.of(ew));
            Lstm jl = Lstm.builder(H).name(lstm).returnSequences(true).build();
            List<Tensor> lw = randomWeights(jl, I);
            jl.setWeights(lw);
            java.input(ids[k], T).add(je, ids[k]).add(jl, emb);
            weights.put(k == 0 ? "embedding" : "embedding_" + k, List.of(ew));
            weights.put(k == 0 ? "lstm/cell" : "lstm_" + k + "/cell", lw);
        }
        layers.add(operation("LogicalOr", "or_1", Map.of("name", "or_1"),
                List.of(tensor("not_equal_0", 0, 0), tensor("not_equal_1", 0, 0))));
        layers.add(operation("LogicalOr", "or_2", Map.of("name", "or_2"),
                List.of(tensor("or_1", 0, 0), tensor("not_equal_2", 0, 0))));
        Map<String, Object> add1 = new LinkedHashMap<>(spec("Add", "add", Map.of()));
        add1.put("inbound_nodes", List.of(Map.of("args", List.of(List.of(tensor("lstm_0", 0, 0), tensor("lstm_1", 0, 0))),
                "kwargs", Map.of("mask", List.of(tensor("not_equal_0", 0, 0), tensor("not_equal_1", 0, 0))))));
        Map<String, Object> add2 = new LinkedHashMap<>(spec("Add", "add_1", Map.of()));
        add2.put("inbound_nodes", List.of(Map.of("args", List.of(List.of(tensor("add", 0, 0), tensor("lstm_2", 0, 0))),
                "kwargs", Map.of("mask", List.of(tensor("or_1", 0, 0), tensor("not_equal_2", 0, 0))))));
        Map<String, Object> drop = new LinkedHashMap<>(spec("Dropout", "dropout", Map.of("rate", 0.3)));
        drop.put("inbound_nodes", List.of(call(List.of(tensor("add_1", 0, 0)), tensor("or_2", 0, 0))));
        Map<String, Object> top = new LinkedHashMap<>(layerSpec("LSTM", "lstm_top", Map.of(), H));
        top.put("inbound_nodes", List.of(call(List.of(tensor("dropout", 0, 0)), tensor("or_2", 0, 0))));
        layers.addAll(List.of(add1, add2, drop, top));
        Lstm jt = Lstm.builder(H).name("lstm_top").build();
        List<Tensor> tw = randomWeights(jt, H);
        jt.setWeights(tw);
        weights.put("lstm_3/cell", tw);
        Model expectedModel = java.add(dev.rnnrt.layers.Merge.of("add", dev.rnnrt.layers.Merge.Mode.ADD), "lstm_0", "lstm_1")
                .add(dev.rnnrt.layers.Merge.of("add_1", dev.rnnrt.layers.Merge.Mode.ADD), "add", "lstm_2")
                .add(dev.rnnrt.layers.InferenceNoOp.of("dropout", "Dropout", ""), "add_1").add(jt, "dropout")
                .outputs("lstm_top").build();
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "three",
                "layers", layers, "input_layers", List.of(List.of("a", 0, 0), List.of("b", 0, 0), List.of("c", 0, 0)),
                "output_layers", List.of(List.of("lstm_top", 0, 0)))));
        Path file = dir.resolve("three_branches.keras");
        KerasFileWriter.writeKeras(file, config, weights);
        List<Tensor> in = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            float[] v = new float[2 * T];
            for (int n = 0; n < v.length; n++) {
                v[n] = n % T < 1 + (k + n / T) % T ? 1 + (n * (k + 2)) % 8 : 0;
            }
            in.add(Tensor.wrap(v, 2, T));
        }
        Compare.assertIdentical("or(or(a, b), c) through Dropout", expectedModel.predict(in).get(0),
                KerasModelLoader.load(file).model().predict(in).get(0));

        // Sequential: Embedding(mask_zero), then a nested Functional built alone ("mask": null inside)
        Embedding emb = Embedding.of("embedding", 9, I, true, Initializer.zeros());
        Tensor ew = random.uniform(0.8, 9, I);
        emb.setWeights(List.of(ew));
        Lstm inner = Lstm.builder(H).name("lstm").build();
        List<Tensor> iw = randomWeights(inner, I);
        inner.setWeights(iw);
        Model flat = Model.sequential("flat").input(T).add(emb).add(inner).build();
        Map<String, Object> kwargs = new LinkedHashMap<>();
        kwargs.put("mask", null);
        Map<String, Object> innerSpec = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of(), H));
        innerSpec.put("inbound_nodes", List.of(Map.of("args", List.of(tensor("f_in", 0, 0)), "kwargs", kwargs)));
        Map<String, Object> functional = spec("Functional", "functional", Map.of("layers", List.of(input("f_in"), innerSpec),
                "input_layers", List.of(List.of("f_in", 0, 0)), "output_layers", List.of(List.of("lstm", 0, 0))));
        JsonNode seq = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "seq", "layers",
                List.of(spec("InputLayer", "input", Map.of("batch_shape", nullFirst(T))),
                        spec("Embedding", "embedding", Map.of("input_dim", 9, "output_dim", I, "mask_zero", true)),
                        functional))));
        Map<String, List<Tensor>> sw = new LinkedHashMap<>();
        sw.put("embedding", List.of(ew));
        sw.put("functional/layers/lstm/cell", iw);
        Path nested = dir.resolve("sequential_nested.keras");
        KerasFileWriter.writeKeras(nested, seq, sw);
        Tensor x = in.get(0);
        Compare.assertIdentical("Embedding mask into a nested model", flat.predict(x),
                KerasModelLoader.load(nested).model().predict(x));
    }

    /**
     * Concatenate of a masked and an unmasked input: Keras 3.4+ counts the unmasked one as all steps
     * kept (ones_like), so the joined mask keeps every step; rnnrt gives the same. The recorded tree
     * with ones_like loads; a recorded or(m, m) (the masked input's mask alone) is refused.
     */
    @Test
    void keras3ConcatenateWithAnUnmaskedInputAndEqualMasks() throws IOException {
        Embedding emb = Embedding.of("embedding", 9, I, true, Initializer.zeros());
        Tensor ew = random.uniform(0.8, 9, I);
        emb.setWeights(List.of(ew));
        Lstm l1 = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> lw1 = randomWeights(l1, I);
        l1.setWeights(lw1);
        Lstm top = Lstm.builder(H).name("lstm_1").build();
        List<Tensor> lw2 = randomWeights(top, H + I);
        top.setWeights(lw2);
        Model java = Model.functional("java").input("ids", T).input("x", T, I).add(emb, "ids").add(l1, "embedding")
                .add(dev.rnnrt.layers.Merge.concatenate("concatenate", -1), "lstm", "x").add(top, "concatenate")
                .outputs("lstm_1").build();
        for (boolean byHand : new boolean[] {false, true}) {
            Map<String, Object> e = new LinkedHashMap<>(spec("Embedding", "embedding", Map.of("input_dim", 9,
                    "output_dim", I, "mask_zero", true)));
            e.put("inbound_nodes", List.of(call(List.of(tensor("ids", 0, 0)), null)));
            Map<String, Object> l = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of("return_sequences", true), H));
            l.put("inbound_nodes", List.of(call(List.of(tensor("embedding", 0, 0)), tensor("not_equal", 0, 0))));
            Map<String, Object> masks = new LinkedHashMap<>();
            masks.put("mask", Arrays.asList(tensor("not_equal", 0, 0), null));
            Map<String, Object> cat = new LinkedHashMap<>(spec("Concatenate", "concatenate", Map.of("axis", -1)));
            cat.put("inbound_nodes", List.of(Map.of("args", List.of(List.of(tensor("lstm", 0, 0), tensor("x", 0, 0))),
                    "kwargs", masks)));
            Map<String, Object> t = new LinkedHashMap<>(layerSpec("LSTM", "lstm_1", Map.of(), H));
            t.put("inbound_nodes", List.of(call(List.of(tensor("concatenate", 0, 0)),
                    tensor(byHand ? "or_by_hand" : "any_masks", 0, 0))));
            List<Object> layers = new ArrayList<>(List.of(idsInput("ids"), input("x"),
                    operation("NotEqual", "not_equal", Map.of("name", "not_equal"), List.of(tensor("ids", 0, 0), 0)),
                    e, l,
                    operation("ExpandDims", "expand_dims", Map.of("name", "expand_dims", "axis", -1),
                            List.of(tensor("not_equal", 0, 0))),
                    operation("BroadcastTo", "broadcast_to", Map.of("name", "broadcast_to", "shape", nullFirst(T, H)),
                            List.of(tensor("expand_dims", 0, 0), nullFirst(T, H))),
                    operation("OnesLike", "ones_like", Map.of("name", "ones_like", "dtype", "bool"),
                            List.of(tensor("x", 0, 0))),
                    operation("Concatenate", "concatenate_masks", Map.of("name", "concatenate_masks", "axis", -1),
                            List.of(List.of(tensor("broadcast_to", 0, 0), tensor("ones_like", 0, 0)))),
                    operation("Any", "any_masks", Map.of("name", "any_masks", "axis", -1, "keepdims", false),
                            List.of(tensor("concatenate_masks", 0, 0))),
                    operation("LogicalOr", "or_by_hand", Map.of("name", "or_by_hand"),
                            List.of(tensor("not_equal", 0, 0), tensor("not_equal", 0, 0))),
                    cat, t));
            JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "cat",
                    "layers", layers, "input_layers", List.of(List.of("ids", 0, 0), List.of("x", 0, 0)),
                    "output_layers", List.of(List.of("lstm_1", 0, 0)))));
            Map<String, List<Tensor>> weights = new LinkedHashMap<>();
            weights.put("embedding", List.of(ew));
            weights.put("lstm/cell", lw1);
            weights.put("lstm_1/cell", lw2);
            Path file = dir.resolve("concat_unmasked_" + byHand + ".keras");
            KerasFileWriter.writeKeras(file, config, weights);
            if (byHand) {
                assertRefusal(file, "'lstm_1'", "but rnnrt's rules give that input the mask all steps");
                continue;
            }
            float[] ids = new float[2 * T];
            for (int k = 0; k < ids.length; k++) {
                ids[k] = k % T < 3 ? 1 + k % 8 : 0;
            }
            List<Tensor> in = List.of(Tensor.wrap(ids, 2, T), random.uniform(1, 2, T, I));
            Compare.assertIdentical("Concatenate with an unmasked input", java.predict(in).get(0),
                    KerasModelLoader.load(file).model().predict(in).get(0));
        }
    }

    /**
     * One variant of {@link #keras3MergedMasks}: the file with these mask operations and this mask
     * recorded for the top LSTM; loads and equals Java's model, or is refused with {@code refusal}.
     */
    private void checkMergedMask(String merge, List<Map<String, Object>> maskOps, Object topMask, String refusal)
            throws IOException {
        checkMergedMask(merge, -1, maskOps, topMask, refusal);
    }

    private void checkMergedMask(String merge, int axis, List<Map<String, Object>> maskOps, Object topMask,
                                 String refusal) throws IOException {
        boolean concat = merge.equals("Concatenate");
        Embedding e1 = Embedding.of("embedding", 9, I, true, Initializer.zeros());
        Embedding e2 = Embedding.of("embedding_1", 9, I, true, Initializer.zeros());
        Tensor w1 = random.uniform(0.8, 9, I);
        Tensor w2 = random.uniform(0.8, 9, I);
        e1.setWeights(List.of(w1));
        e2.setWeights(List.of(w2));
        Lstm l1 = Lstm.builder(H).name("lstm").returnSequences(true).build();
        Lstm l2 = Lstm.builder(H).name("lstm_1").returnSequences(true).build();
        Lstm top = Lstm.builder(H).name("lstm_2").build();
        List<Tensor> lw1 = randomWeights(l1, I);
        List<Tensor> lw2 = randomWeights(l2, I);
        List<Tensor> lw3 = randomWeights(top, concat && axis == -1 ? 2 * H : H);
        l1.setWeights(lw1);
        l2.setWeights(lw2);
        top.setWeights(lw3);
        String mergeName = concat ? "concatenate" : "add";
        Model java = Model.functional("java").input("a", T).input("b", T).add(e1, "a").add(e2, "b")
                .add(l1, "embedding").add(l2, "embedding_1")
                .add(concat ? dev.rnnrt.layers.Merge.concatenate(mergeName, axis)
                        : dev.rnnrt.layers.Merge.of(mergeName, dev.rnnrt.layers.Merge.Mode.ADD), "lstm", "lstm_1")
                .add(top, mergeName).outputs("lstm_2").build();

        Map<String, Object> emb1 = new LinkedHashMap<>(spec("Embedding", "embedding",
                Map.of("input_dim", 9, "output_dim", I, "mask_zero", true)));
        emb1.put("inbound_nodes", List.of(call(List.of(tensor("a", 0, 0)), null)));
        Map<String, Object> emb2 = new LinkedHashMap<>(spec("Embedding", "embedding_1",
                Map.of("input_dim", 9, "output_dim", I, "mask_zero", true)));
        emb2.put("inbound_nodes", List.of(call(List.of(tensor("b", 0, 0)), null)));
        Map<String, Object> s1 = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of("return_sequences", true), H));
        s1.put("inbound_nodes", List.of(call(List.of(tensor("embedding", 0, 0)), tensor("not_equal", 0, 0))));
        Map<String, Object> s2 = new LinkedHashMap<>(layerSpec("LSTM", "lstm_1", Map.of("return_sequences", true), H));
        s2.put("inbound_nodes", List.of(call(List.of(tensor("embedding_1", 0, 0)), tensor("not_equal_1", 0, 0))));
        Map<String, Object> mergeSpec = new LinkedHashMap<>(spec(merge, mergeName, concat ? Map.of("axis", axis) : Map.of()));
        mergeSpec.put("inbound_nodes", List.of(Map.of("args", List.of(List.of(tensor("lstm", 0, 0), tensor("lstm_1", 0, 0))),
                "kwargs", Map.of("mask", List.of(tensor("not_equal", 0, 0), tensor("not_equal_1", 0, 0))))));
        Map<String, Object> s3 = new LinkedHashMap<>(layerSpec("LSTM", "lstm_2", Map.of(), H));
        s3.put("inbound_nodes", List.of(call(List.of(tensor(mergeName, 0, 0)), topMask)));
        List<Object> layers = new ArrayList<>(List.of(idsInput("a"), idsInput("b"),
                operation("NotEqual", "not_equal", Map.of("name", "not_equal"), List.of(tensor("a", 0, 0), 0)),
                operation("NotEqual", "not_equal_1", Map.of("name", "not_equal_1"), List.of(tensor("b", 0, 0), 0)),
                emb1, emb2, s1, s2));
        layers.addAll(maskOps);
        layers.add(mergeSpec);
        layers.add(s3);
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "merged",
                "layers", layers, "input_layers", List.of(List.of("a", 0, 0), List.of("b", 0, 0)),
                "output_layers", List.of(List.of("lstm_2", 0, 0)))));
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("embedding", List.of(w1));
        weights.put("embedding_1", List.of(w2));
        weights.put("lstm/cell", lw1);
        weights.put("lstm_1/cell", lw2);
        weights.put("lstm_2/cell", lw3);
        Path file = dir.resolve("merged_" + merge + axis + "_" + maskOps.size() + "_" + (refusal != null) + ".keras");
        KerasFileWriter.writeKeras(file, config, weights);
        if (refusal != null) {
            assertRefusal(file, refusal);
            return;
        }
        float[] a = new float[3 * T];
        float[] b = new float[3 * T];
        for (int k = 0; k < a.length; k++) {   // different padding per branch, some steps padded in both
            a[k] = k % T < 2 + k / T ? 1 + k % 8 : 0;
            b[k] = k % T < 4 - k / T ? 1 + (5 * k) % 8 : 0;
        }
        List<Tensor> in = List.of(Tensor.wrap(a, 3, T), Tensor.wrap(b, 3, T));
        Compare.assertIdentical(merge + " of two masked branches, then an LSTM", java.predict(in).get(0),
                KerasModelLoader.load(file).model().predict(in).get(0));
    }

    /**
     * Hierarchical models: TimeDistributed(LSTM) over [batch, sentences, words, features] in a
     * tf.keras file, and TimeDistributed(Bidirectional(GRU)) in a Keras 3 archive (weights under
     * time_distributed/layer/forward_layer/cell); each step's sequence runs through the wrapped layer.
     */
    @Test
    void timeDistributedRecurrentLayers() throws IOException {
        int steps = 3;
        Lstm words = Lstm.builder(H).name("lstm").build();
        List<Tensor> ww = randomWeights(words, I);
        words.setWeights(ww);
        Lstm sentences = Lstm.builder(5).name("lstm_1").build();
        List<Tensor> sw = randomWeights(sentences, H);
        sentences.setWeights(sw);
        Tensor x = random.uniform(1, 2, steps, T, I);
        Tensor perStep = words.call(x.reshape(2 * steps, T, I)).output();
        Tensor expected = sentences.call(perStep.reshape(2, steps, H)).output();

        Map<String, Object> td = spec("TimeDistributed", "time_distributed", Map.of("layer",
                layerSpec("LSTM", "lstm", Map.of(), H), "batch_input_shape", nullFirst(steps, T, I)));
        Map<String, KerasFileWriter.LayerWeights> h5 = new LinkedHashMap<>();
        KerasFileWriter.LayerWeights tdw = new KerasFileWriter.LayerWeights();
        String[] names = {"kernel:0", "recurrent_kernel:0", "bias:0"};
        for (int k = 0; k < 3; k++) {
            tdw.put("time_distributed/lstm/lstm_cell/" + names[k], ww.get(k));
        }
        h5.put("time_distributed", tdw);
        h5.put("lstm_1", recurrentH5Weights("lstm_1", "lstm_cell_1", sw));
        Path file = dir.resolve("hierarchical.h5");
        KerasFileWriter.writeHdf5(file, "2.12.0", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                Map.of("name", "han", "layers", List.of(td, layerSpec("LSTM", "lstm_1", Map.of(), 5))))), h5);
        Compare.assertIdentical("TimeDistributed(LSTM), then LSTM", expected, KerasModelLoader.load(file).model().predict(x));

        Bidirectional bi = Bidirectional.of("bidirectional", Gru.builder(H).name("gru").build(),
                Bidirectional.MergeMode.CONCAT, null);
        List<Tensor> fw = randomWeights(bi.forwardLayer(), I);
        List<Tensor> bw = randomWeights(bi.backwardLayer(), I);
        bi.forwardLayer().setWeights(fw);
        bi.backwardLayer().setWeights(bw);
        Tensor biExpected = bi.call(List.of(x.reshape(2 * steps, T, I)), Arrays.asList((dev.rnnrt.api.Mask) null))
                .get(0).reshape(2, steps, 2 * H);
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k3",
                "layers", List.of(spec("InputLayer", "input", Map.of("batch_shape", nullFirst(steps, T, I))),
                        spec("TimeDistributed", "time_distributed", Map.of("layer", spec("Bidirectional",
                                "bidirectional", Map.of("layer", layerSpec("GRU", "gru", Map.of("reset_after", true), H),
                                        "merge_mode", "concat"))))))));
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("time_distributed/layer/forward_layer/cell", fw);
        weights.put("time_distributed/layer/backward_layer/cell", bw);
        Path archive = dir.resolve("td_bidirectional.keras");
        KerasFileWriter.writeKeras(archive, config, weights);
        Compare.assertIdentical("TimeDistributed(Bidirectional(GRU))", biExpected,
                KerasModelLoader.load(archive).model().predict(x));

        // a [batch, steps] mask (Masking, then TimeDistributed(RepeatVector) to 4-D) cannot reach the wrapped LSTM
        IllegalArgumentException masked = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Model.sequential("m").input(steps, I).add(Masking.of("mask", 0.0))
                        .add(TimeDistributed.of("repeat", dev.rnnrt.layers.RepeatVector.of("rv", T)))
                        .add(TimeDistributed.of("td", Lstm.builder(H).name("l").build())).build());
        assertTrue(masked.getMessage().contains("'td'") && masked.getMessage().contains("does not support masking"),
                masked.getMessage());

        // tf.keras passes TimeDistributed(Embedding(mask_zero))'s per-step masks on: refused
        Map<String, Object> tdEmb = spec("TimeDistributed", "td_emb", Map.of("layer", spec("Embedding", "embedding",
                Map.of("input_dim", 9, "output_dim", I, "mask_zero", true)), "batch_input_shape", nullFirst(steps, T)));
        Map<String, Object> tdLstm = spec("TimeDistributed", "td_lstm", Map.of("layer", layerSpec("LSTM", "lstm", Map.of(), H)));
        Map<String, KerasFileWriter.LayerWeights> ew = new LinkedHashMap<>();
        ew.put("td_emb", new KerasFileWriter.LayerWeights().put("td_emb/embeddings:0", random.uniform(1, 9, I)));
        Path embFile = dir.resolve("td_embedding.h5");
        KerasFileWriter.writeHdf5(embFile, "2.12.0", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                Map.of("name", "han", "layers", List.of(tdEmb, tdLstm)))), ew);
        assertRefusal(embFile, "'td_emb'", "mask", "Keras 3");
        // Keras 2.0-2.1's TimeDistributed had no compute_mask: it passed on only the incoming mask, none here
        Tensor table = random.uniform(1, 9, I);
        Map<String, KerasFileWriter.LayerWeights> w216 = new LinkedHashMap<>();
        w216.put("td_emb", new KerasFileWriter.LayerWeights().put("td_emb/embeddings:0", table));
        Path k216 = dir.resolve("td_embedding_216.h5");
        KerasFileWriter.writeHdf5(k216, "2.1.6", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                Map.of("name", "han", "layers", List.of(tdEmb)))), w216);
        Model loaded = KerasModelLoader.load(k216).model();
        assertTrue(!loaded.carriesMask("td_emb"), "no mask after TimeDistributed in Keras 2.1.6");
        float[] ids = new float[2 * steps * T];
        for (int k = 0; k < ids.length; k++) {
            ids[k] = (k * 7) % 9;
        }
        Embedding lookup = Embedding.of("e", 9, I, false, dev.rnnrt.layers.Initializer.zeros());
        lookup.setWeights(List.of(table));
        Compare.assertIdentical("TimeDistributed(Embedding) in Keras 2.1.6", lookup.call(List.of(Tensor.of(ids,
                2 * steps, T)), null).get(0).reshape(2, steps, T, I), loaded.predict(Tensor.of(ids, 2, steps, T)));
        // standalone Keras 2.2-2.3 computes the inner mask only without a fixed batch size
        // (TimeDistributed.compute_mask: "if input_shape[0]: return mask")
        Path k224 = dir.resolve("td_embedding_224.h5");
        KerasFileWriter.writeHdf5(k224, "2.2.4", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                Map.of("name", "han", "layers", List.of(tdEmb)))), w216);
        assertRefusal(k224, "'td_emb'", "mask");
        Map<String, Object> tdEmbFixed = spec("TimeDistributed", "td_emb", Map.of("layer", spec("Embedding", "embedding",
                Map.of("input_dim", 9, "output_dim", I, "mask_zero", true)), "batch_input_shape", List.of(2, steps, T)));
        Path k224fixed = dir.resolve("td_embedding_224_fixed.h5");
        KerasFileWriter.writeHdf5(k224fixed, "2.2.4", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                Map.of("name", "han", "layers", List.of(tdEmbFixed)))), w216);
        Model fixed = KerasModelLoader.load(k224fixed).model();
        assertTrue(!fixed.carriesMask("td_emb"), "no mask after TimeDistributed with a fixed batch in Keras 2.2.4");
        Compare.assertIdentical("TimeDistributed(Embedding), fixed batch, Keras 2.2.4", loaded.predict(Tensor.of(ids, 2,
                steps, T)), fixed.predict(Tensor.of(ids, 2, steps, T)));
        // with another input whose batch size is open, the wrapper's own input may be open: refused
        String twoInputs = "{\"class_name\": \"Model\", \"config\": {\"name\": \"m\", \"layers\": ["
                + "{\"name\": \"fixed\", \"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [2, "
                + steps + ", " + T + "], \"name\": \"fixed\"}, \"inbound_nodes\": []},"
                + "{\"name\": \"open\", \"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, "
                + steps + ", " + T + "], \"name\": \"open\"}, \"inbound_nodes\": []},"
                + "{\"name\": \"td_emb\", \"class_name\": \"TimeDistributed\", \"config\": {\"name\": \"td_emb\", "
                + "\"layer\": {\"class_name\": \"Embedding\", \"config\": {\"name\": \"embedding\", \"input_dim\": 9, "
                + "\"output_dim\": " + I + ", \"mask_zero\": true}}}, \"inbound_nodes\": [[[\"open\", 0, 0, {}]]]}],"
                + "\"input_layers\": [[\"fixed\", 0, 0], [\"open\", 0, 0]], \"output_layers\": [[\"td_emb\", 0, 0]]}}";
        Path mixed = dir.resolve("td_embedding_224_mixed.h5");
        KerasFileWriter.writeHdf5(mixed, "2.2.4", JSON.valueToTree(parse(twoInputs)), w216);
        assertRefusal(mixed, "'td_emb'", "mask");
        // a nested model that fixes the batch runs on the outer model's tensors, whose batch is open
        JsonNode nestedFixed = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "outer",
                "layers", List.of(spec("InputLayer", "ids", Map.of("batch_input_shape", nullFirst(steps, T))),
                        Map.of("class_name", "Sequential", "config", Map.of("name", "inner", "layers",
                                List.of(tdEmbFixed)))))));
        Path nestedFile = dir.resolve("td_embedding_224_nested.h5");
        Map<String, KerasFileWriter.LayerWeights> nestedWeights = new LinkedHashMap<>();
        nestedWeights.put("inner", new KerasFileWriter.LayerWeights().put("td_emb/embeddings:0", table));
        KerasFileWriter.writeHdf5(nestedFile, "2.2.4", nestedFixed, nestedWeights);
        assertRefusal(nestedFile, "'", "mask");
        // tf.keras passes it on for its own layers whatever the batch size
        Path tf = dir.resolve("td_embedding_tf_fixed.h5");
        KerasFileWriter.writeHdf5(tf, "2.9.0", JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                Map.of("name", "han", "layers", List.of(tdEmbFixed)))), w216);
        assertRefusal(tf, "'td_emb'", "mask");
    }

    /** tf.keras 2: one GRU called on two inputs (Keras 2 inbound node lists), its weights stored once. */
    @Test
    void keras2SharedLayer() {
        Gru gru = Gru.builder(H).name("gru").build();
        List<Tensor> gw = randomWeights(gru, I);
        gru.setWeights(gw);
        String json = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"m\", \"layers\": ["
                + "{\"name\": \"a\", \"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, null, 4], \"name\": \"a\"}, \"inbound_nodes\": []},"
                + "{\"name\": \"b\", \"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, null, 4], \"name\": \"b\"}, \"inbound_nodes\": []},"
                + "{\"name\": \"gru\", \"class_name\": \"GRU\", \"config\": {\"name\": \"gru\", \"units\": 3, \"reset_after\": true},"
                + " \"inbound_nodes\": [[[\"a\", 0, 0, {}]], [[\"b\", 0, 0, {}]]]},"
                + "{\"name\": \"add\", \"class_name\": \"Add\", \"config\": {\"name\": \"add\"},"
                + " \"inbound_nodes\": [[[\"gru\", 0, 0, {}], [\"gru\", 1, 0, {}]]]}],"
                + "\"input_layers\": [[\"a\", 0, 0], [\"b\", 0, 0]], \"output_layers\": [[\"add\", 0, 0], [\"gru\", 1, 0]]}}";
        Path file = dir.resolve("shared_gru.h5");
        KerasFileWriter.writeHdf5(file, "2.9.0", JSON.valueToTree(parse(json)),
                Map.of("gru", recurrentH5Weights("gru", "gru_cell", gw)));
        Model loaded = KerasModelLoader.load(file).model();
        Tensor a4 = random.uniform(1, 2, 4, I);
        Tensor b = random.uniform(1, 2, 4, I);
        Tensor onB = gru.call(b).output();
        List<Tensor> out = loaded.predict(List.of(a4, b));
        Compare.assertIdentical("the call on b", onB, out.get(1));
        float[] sum = gru.call(a4).output().data().clone();
        for (int k = 0; k < sum.length; k++) {
            sum[k] += onB.data()[k];
        }
        Compare.assertIdentical("add of both calls", Tensor.wrap(sum, 2, H), out.get(0));
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** A shared layer called with other call options (Attention's use_causal_mask) than its first call is refused. */
    @Test
    void sharedLayerWithOtherCallOptionsIsRefused() throws IOException {
        Map<String, Object> att = new LinkedHashMap<>(spec("Attention", "attention",
                Map.of("use_scale", false, "score_mode", "dot", "dropout", 0.0)));
        att.put("inbound_nodes", List.of(
                Map.of("args", List.of(List.of(tensor("q", 0, 0), tensor("v", 0, 0))), "kwargs", Map.of()),
                Map.of("args", List.of(List.of(tensor("v", 0, 0), tensor("q", 0, 0))),
                        "kwargs", Map.of("use_causal_mask", true))));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "att",
                "layers", List.of(input("q"), input("v"), att),
                "input_layers", List.of(List.of("q", 0, 0), List.of("v", 0, 0)),
                "output_layers", List.of(List.of("attention", 0, 0), List.of("attention", 1, 0)))));
        Path file = dir.resolve("shared_attention.keras");
        KerasFileWriter.writeKeras(file, config, Map.of());
        assertRefusal(file, "layer 'attention' is called again ('attention#1')", "use_causal_mask=True",
                "separate layer");
    }

    /**
     * Keras 3.0.5-3.11 masked Attention's scores with the value mask lacking its query axis
     * (keras-team/keras#21483): right for one sequence at a time only. Files of those versions load
     * with a warning; the numbers are the 3.12+ rule, which is theirs at batch 1.
     */
    @Test
    void attentionWithAValueMaskWarnsForKeras305To311() throws IOException {
        Map<String, Object> mask = new LinkedHashMap<>(spec("Masking", "mv", Map.of("mask_value", 0.0)));
        mask.put("inbound_nodes", List.of(call(List.of(tensor("v", 0)), null)));
        Map<String, Object> att = new LinkedHashMap<>(spec("Attention", "attention",
                Map.of("use_scale", false, "score_mode", "dot", "dropout", 0.0)));
        att.put("inbound_nodes", List.of(call(List.of(List.of(tensor("q", 0), tensor("mv", 0))), null)));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "att",
                "layers", List.of(input("q"), input("v"), mask, att),
                "input_layers", List.of(List.of("q", 0, 0), List.of("v", 0, 0)),
                "output_layers", List.of(List.of("attention", 0, 0)))));
        Tensor q = random.uniform(1, 2, 3, I);
        float[] v = random.uniform(1, 2, 4, I).data();
        java.util.Arrays.fill(v, 3 * I, 4 * I, 0f);              // sequence 0's last step is padding
        Tensor expected = null;
        for (String version : List.of("3.0.4", "3.0.5", "3.10.0", "3.11.3", "3.12.0")) {
            Path file = dir.resolve("attention_" + version + ".keras");
            KerasFileWriter.writeKeras(file, version, config, Map.of(), Map.of());
            LoadedModel m = KerasModelLoader.load(file);
            boolean affected = !version.equals("3.0.4") && !version.equals("3.12.0");
            assertEquals(affected, m.warnings().stream().anyMatch(w -> w.contains("'attention'")
                    && w.contains("keras-team/keras#21483")), version + ": " + m.warnings());
            Tensor y = m.model().predict(List.of(q, Tensor.of(v, 2, 4, I))).get(0);
            if (expected == null) {
                expected = y;
            }
            Compare.assertIdentical("Keras " + version, expected, y);
        }
    }

    /** A Keras 3 call node: positional args, and the mask Keras passed (null: none recorded). */
    private static Map<String, Object> call(List<Object> args, Object mask) {
        Map<String, Object> kwargs = new LinkedHashMap<>();
        if (mask != null) {
            kwargs.put("training", false);
            kwargs.put("mask", mask);
        }
        return Map.of("args", args, "kwargs", kwargs);
    }

    /** An InputLayer of token ids [batch, T]. */
    private static Map<String, Object> idsInput(String name) {
        Map<String, Object> s = new LinkedHashMap<>(spec("InputLayer", name, Map.of("batch_shape", nullFirst(T))));
        s.put("name", name);
        s.put("inbound_nodes", List.of());
        return s;
    }

    /** save_weights + to_json: weights matched to the architecture's layers by name. */
    @Test
    void weightsOnlyFileWithArchitectureJson() {
        Gru gru = Gru.builder(H).name("gru_a").resetAfter(false).returnSequences(true).build();
        List<Tensor> gw = randomWeights(gru, I);
        gru.setWeights(gw);
        Dense dense = Dense.builder(2).name("head").build();
        Tensor dk = random.uniform(0.5, H, 2);
        Tensor db = random.uniform(0.5, 2);
        dense.setWeights(List.of(dk, db));
        Model java = Model.sequential("java").input(-1, I).add(gru).add(TimeDistributed.of("td", dense)).build();

        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        weights.put("gru_a", new KerasFileWriter.LayerWeights().put("gru_a/kernel:0", gw.get(0))
                .put("gru_a/recurrent_kernel:0", gw.get(1)).put("gru_a/bias:0", gw.get(2)));
        weights.put("td", new KerasFileWriter.LayerWeights().put("td/kernel:0", dk).put("td/bias:0", db));
        weights.put("unused_layer", new KerasFileWriter.LayerWeights().put("unused_layer/w:0", random.uniform(1, 3)));
        Path file = dir.resolve("weights.h5");
        KerasFileWriter.writeWeightsOnly(file, "2.1.6", weights);
        // Keras 2.1: a Sequential config is a bare list, and GRU has no reset_after key (False)
        String json = "{\"class_name\": \"Sequential\", \"config\": ["
                + "{\"class_name\": \"GRU\", \"config\": {\"name\": \"gru_a\", \"units\": 3, \"return_sequences\": true,"
                + " \"activation\": \"tanh\", \"recurrent_activation\": \"sigmoid\", \"batch_input_shape\": [null, null, 4]}},"
                + "{\"class_name\": \"TimeDistributed\", \"config\": {\"name\": \"td\", \"layer\": {\"class_name\": \"Dense\","
                + " \"config\": {\"name\": \"head\", \"units\": 2, \"activation\": \"linear\"}}}}]}";
        LoadedModel loaded = KerasModelLoader.loadWeights(file, json);
        assertEquals("weights-only HDF5 + JSON", loaded.format());
        Tensor x = random.uniform(1, 2, 5, I);
        Compare.assertIdentical("weights-only", java.predict(x), loaded.model().predict(x));

        // an architecture that names the GRU otherwise: the names disagree, which is what the error says
        ModelLoadException e = org.junit.jupiter.api.Assertions.assertThrows(ModelLoadException.class,
                () -> KerasModelLoader.loadWeights(file, json.replace("gru_a", "gru_b")));
        assertTrue(e.getMessage().contains("layer 'gru_b' (GRU)") && e.getMessage().contains("no weights under the name "
                + "'gru_b'") && e.getMessage().contains("[gru_a, td, unused_layer]")
                && !e.getMessage().contains("truncated"), e.getMessage());
    }

    /**
     * tf.keras 2.12-2.14 .keras archives keep the layers' groups under
     * _layer_checkpoint_dependencies; 2.12 and 2.13 count a layer with weights twice in the keys
     * (lstm, lstm_2), 2.14 once (lstm, lstm_1). A layer without weights has an empty group.
     */
    @Test
    void tfKerasArchivesWithLayerCheckpointDependencies() throws IOException {
        Lstm first = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> w1 = randomWeights(first, I);
        first.setWeights(w1);
        Lstm second = Lstm.builder(5).name("lstm_1").build();
        List<Tensor> w2 = randomWeights(second, H);
        second.setWeights(w2);
        Dense dense = Dense.builder(2).name("dense").build();
        List<Tensor> dw = List.of(random.uniform(0.5, 5, 2), random.uniform(0.5, 2));
        dense.setWeights(dw);
        Model java = Model.sequential("java").input(-1, I).add(first).add(second).add(dense).build();

        Map<String, Object> in = Map.of("module", "keras.layers", "class_name", "InputLayer",
                "config", Map.of("batch_input_shape", nullFirst(-1, I), "name", "input_1"), "registered_name", "InputLayer");
        List<Object> layers = new ArrayList<>(List.of(in));
        for (Map<String, Object> l : List.of(layerSpec("LSTM", "lstm", Map.of("return_sequences", true), H),
                spec("Dropout", "dropout", Map.of("rate", 0.5)), layerSpec("LSTM", "lstm_1", Map.of(), 5),
                spec("Dense", "dense", Map.of("units", 2)))) {
            Map<String, Object> m = new LinkedHashMap<>(l);
            m.put("module", "keras.layers");
            layers.add(m);
        }
        JsonNode config = JSON.valueToTree(Map.of("module", "keras", "class_name", "Sequential",
                "config", Map.of("name", "sequential", "layers", layers)));
        Tensor x = random.uniform(1, 2, T, I);
        for (String version : List.of("2.13.1", "2.14.0")) {
            Map<String, List<Tensor>> weights = new LinkedHashMap<>();
            weights.put("lstm/cell", w1);
            weights.put("dropout", List.of());
            weights.put((version.equals("2.13.1") ? "lstm_2" : "lstm_1") + "/cell", w2);
            weights.put("dense", dw);
            Path file = dir.resolve("tf_keras_" + version + ".keras");
            KerasFileWriter.writeKeras(file, version, config, weights, Map.of(), "_layer_checkpoint_dependencies");
            Compare.assertIdentical("tf.keras " + version, java.predict(x), KerasModelLoader.load(file).model().predict(x));

            // the LSTMs in a nested Sequential: its layers' groups below its own _layer_checkpoint_dependencies
            Map<String, Object> inner = Map.of("module", "keras", "class_name", "Sequential", "config",
                    Map.of("name", "sequential", "layers", layers.subList(0, 4)));
            JsonNode outer = JSON.valueToTree(Map.of("module", "keras", "class_name", "Sequential", "config",
                    Map.of("name", "outer", "layers", List.of(inner, layers.get(4)))));
            Map<String, List<Tensor>> nested = new LinkedHashMap<>();
            weights.forEach((k, v) -> nested.put(k.equals("dense") ? k : "sequential/_layer_checkpoint_dependencies/" + k, v));
            Path nestedFile = dir.resolve("tf_keras_nested_" + version + ".keras");
            KerasFileWriter.writeKeras(nestedFile, version, outer, nested, Map.of(), "_layer_checkpoint_dependencies");
            Compare.assertIdentical("tf.keras " + version + ", nested", java.predict(x),
                    KerasModelLoader.load(nestedFile).model().predict(x));
        }
    }

    /**
     * Keras 1 keeps an LSTM's and a GRU's weights per gate, saved in the order of its
     * trainable_weights (LSTM: i, c, f, o; GRU: z, r, h), named "lstm_1_W_i" on Theano and
     * "lstm_1_W_i:0" (TensorFlow's variable names) on TensorFlow. Keras 2 joins them as i, f, c, o
     * and z, r, h.
     */
    @Test
    void keras1PerGateWeightsOnBothBackends() {
        Tensor x = random.uniform(1, 3, T, I);
        for (String cls : List.of("LSTM", "GRU")) {
            boolean lstm = cls.equals("LSTM");
            String[] saved = lstm ? new String[] {"i", "c", "f", "o"} : new String[] {"z", "r", "h"};
            String[] keras2 = lstm ? new String[] {"i", "f", "c", "o"} : new String[] {"z", "r", "h"};
            Map<String, Tensor[]> gate = new LinkedHashMap<>();
            for (String g : saved) {
                gate.put(g, new Tensor[] {random.uniform(0.6, I, H), random.uniform(0.6, H, H), random.uniform(0.6, H)});
            }
            List<Tensor> joined = joinGates(gate, keras2);
            RecurrentLayer expected = lstm
                    ? Lstm.builder(H).name("rnn_1").recurrentActivation(Activation.HARD_SIGMOID_KERAS2).build()
                    : Gru.builder(H).name("rnn_1").resetAfter(false).recurrentActivation(Activation.HARD_SIGMOID_KERAS2)
                            .build();
            expected.setWeights(joined);
            Model java = Model.sequential("java").input(-1, I).add(expected).build();

            Map<String, Object> cfg = new LinkedHashMap<>(Map.of("output_dim", H, "return_sequences", false,
                    "activation", "tanh", "inner_activation", "hard_sigmoid", "consume_less", "cpu"));
            cfg.put("batch_input_shape", nullFirst(T, I));
            JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", List.of(spec(cls, "rnn_1", cfg))));
            for (String backend : List.of("theano", "tensorflow")) {
                KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
                String index = backend.equals("tensorflow") ? ":0" : "";
                for (String g : saved) {
                    lw.put("rnn_1_W_" + g + index, gate.get(g)[0]).put("rnn_1_U_" + g + index, gate.get(g)[1])
                            .put("rnn_1_b_" + g + index, gate.get(g)[2]);
                }
                Path file = dir.resolve("keras1_" + cls + "_" + backend + ".h5");
                KerasFileWriter.writeHdf5(file, "1.2.2", backend, config, Map.of("rnn_1", lw));
                Compare.assertIdentical(cls + " on " + backend, java.predict(x), KerasModelLoader.load(file).model().predict(x));
            }
        }
    }

    /**
     * Keras 1 per-gate weights whose shapes do not fit together (a gate's W with other rows, a b
     * of rank 2, a U of rank 3: a damaged file) are refused naming the layer and the shapes; they
     * were copied out of their arrays' bounds (ArrayIndexOutOfBoundsException) or read wrongly.
     */
    @Test
    void keras1PerGateWeightsThatDoNotFitAreRefused() {
        Map<String, Object> cfg = new LinkedHashMap<>(Map.of("output_dim", H, "return_sequences", false,
                "activation", "tanh", "inner_activation", "hard_sigmoid", "consume_less", "cpu"));
        cfg.put("batch_input_shape", nullFirst(T, I));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", List.of(spec("LSTM", "rnn_1", cfg))));
        String[][] cases = {{"W", "f", "rows"}, {"b", "c", "rank2"}, {"U", "o", "rank3"}};
        for (String[] c : cases) {
            KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
            for (String g : new String[] {"i", "c", "f", "o"}) {
                Tensor w = random.uniform(0.6, I, H);
                Tensor u = random.uniform(0.6, H, H);
                Tensor b = random.uniform(0.6, H);
                if (g.equals(c[1])) {
                    switch (c[2]) {
                        case "rows" -> w = random.uniform(0.6, I + 1, H);
                        case "rank2" -> b = random.uniform(0.6, 1, H);
                        default -> u = random.uniform(0.6, H, H, 1);
                    }
                }
                lw.put("rnn_1_W_" + g, w).put("rnn_1_U_" + g, u).put("rnn_1_b_" + g, b);
            }
            Path file = dir.resolve("keras1_bad_" + c[2] + ".h5");
            KerasFileWriter.writeHdf5(file, "1.2.2", "theano", config, Map.of("rnn_1", lw));
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> KerasModelLoader.load(file), c[2]);
            assertTrue(e.getMessage().contains("rnn_1") && e.getMessage().contains(c[0] + "_" + c[1] + " [")
                    && e.getMessage().contains("do not fit together"), e.getMessage());
        }
    }

    /**
     * Keras 1 Bidirectional(LSTM) with per-gate weights: 24 arrays, the forward layer's 12 then the
     * backward's, each half converted as its layer's (Keras 2's convert_nested_bidirectional).
     */
    @Test
    void keras1BidirectionalWithPerGateWeights() {
        String[] saved = {"i", "c", "f", "o"};
        String[] keras2 = {"i", "f", "c", "o"};
        Map<String, Object> lstm = new LinkedHashMap<>(Map.of("output_dim", H, "return_sequences", true,
                "activation", "tanh", "inner_activation", "hard_sigmoid", "consume_less", "cpu"));
        lstm.put("name", "lstm_1");
        Map<String, Object> biCfg = new LinkedHashMap<>(Map.of("merge_mode", "concat",
                "layer", Map.of("class_name", "LSTM", "config", lstm)));
        biCfg.put("batch_input_shape", nullFirst(T, I));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential",
                "config", List.of(spec("Bidirectional", "bidirectional_1", biCfg))));
        Bidirectional expected = Bidirectional.of("bidirectional_1", Lstm.builder(H).name("lstm_1")
                .recurrentActivation(Activation.HARD_SIGMOID_KERAS2).returnSequences(true).build(),
                Bidirectional.MergeMode.CONCAT, null);
        for (String backend : List.of("theano", "tensorflow")) {
            KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
            for (String direction : List.of("forward", "backward")) {
                Map<String, Tensor[]> gate = new LinkedHashMap<>();
                for (String g : saved) {
                    Tensor[] w = {random.uniform(0.6, I, H), random.uniform(0.6, H, H), random.uniform(0.6, H)};
                    gate.put(g, w);
                    String prefix = direction + "_lstm_1_";
                    String index = backend.equals("tensorflow") ? ":0" : "";
                    lw.put(prefix + "W_" + g + index, w[0]).put(prefix + "U_" + g + index, w[1])
                            .put(prefix + "b_" + g + index, w[2]);
                }
                List<Tensor> joined = joinGates(gate, keras2);
                (direction.equals("forward") ? expected.forwardLayer() : expected.backwardLayer()).setWeights(joined);
            }
            Model java = Model.sequential("java").input(-1, I).add(expected).build();
            Path file = dir.resolve("keras1_bidirectional_" + backend + ".h5");
            KerasFileWriter.writeHdf5(file, "1.2.2", backend, config, Map.of("bidirectional_1", lw));
            Tensor x = random.uniform(1, 2, T, I);
            Compare.assertIdentical("Keras 1 Bidirectional on " + backend, java.predict(x),
                    KerasModelLoader.load(file).model().predict(x));

            KerasFileWriter.LayerWeights short22 = new KerasFileWriter.LayerWeights();
            lw.byName.entrySet().stream().limit(22).forEach(e -> short22.put(e.getKey(), e.getValue()));
            KerasFileWriter.writeHdf5(file, "1.2.2", backend, config, Map.of("bidirectional_1", short22));
            assertRefusal(file, "'bidirectional_1'", "found 22 weight arrays", "needs 6", "per-gate arrays");
        }
    }

    /** Matrices (or vectors) side by side along their last axis. */
    private static Tensor joinColumns(List<Tensor> blocks) {
        int rows = blocks.get(0).rank() == 1 ? 1 : blocks.get(0).dim(0);
        int cols = blocks.get(0).dim(-1);
        float[] out = new float[rows * cols * blocks.size()];
        for (int b = 0; b < blocks.size(); b++) {
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    out[r * cols * blocks.size() + b * cols + c] = blocks.get(b).data()[r * cols + c];
                }
            }
        }
        return rows == 1 && blocks.get(0).rank() == 1 ? Tensor.of(out, out.length) : Tensor.of(out, rows, out.length / rows);
    }

    /**
     * Keras 3's save_weights ({@code *.weights.h5}): the layout of an archive's model.weights.h5,
     * no layer_names, no keras_version (nor does Keras 3's to_json record one: read as Keras 3);
     * tf.keras 2.13's, below _layer_checkpoint_dependencies, with its to_json's keras_version.
     */
    @Test
    void keras3WeightsFileWithArchitectureJson() {
        LstmDense m = lstmDense();
        List<Tensor> lw = m.lstmWeights();
        List<Tensor> dw = m.denseWeights();
        Model java = m.model();
        Map<String, List<Tensor>> weights = new LinkedHashMap<>();
        weights.put("lstm/cell", lw);
        weights.put("dense", dw);
        Tensor x = random.uniform(1, 2, T, I);

        Map<String, Object> in = new LinkedHashMap<>(spec("InputLayer", "input_layer", Map.of("batch_shape", nullFirst(-1, I))));
        in.put("module", "keras.layers");
        Map<String, Object> rnn = new LinkedHashMap<>(layerSpec("LSTM", "lstm", Map.of(), H));
        rnn.put("module", "keras.layers");
        Map<String, Object> head = new LinkedHashMap<>(spec("Dense", "dense", Map.of("units", 2)));
        head.put("module", "keras.layers");
        String json = JSON.valueToTree(Map.of("module", "keras", "class_name", "Sequential",
                "config", Map.of("name", "sequential", "layers", List.of(in, rnn, head)))).toString();
        Path file = dir.resolve("model.weights.h5");
        KerasFileWriter.writeKeras3Weights(file, weights, "layers");
        LoadedModel loaded = KerasModelLoader.loadWeights(file, json);
        assertEquals("Keras 3 weights HDF5 + JSON", loaded.format());
        assertTrue(loaded.warnings().size() == 1 && loaded.warnings().get(0).contains("reading it as Keras 3"),
                loaded.warnings().toString());
        Compare.assertIdentical("Keras 3 weights", java.predict(x), loaded.model().predict(x));

        Path tfKeras = dir.resolve("tf_keras.weights.h5");
        KerasFileWriter.writeKeras3Weights(tfKeras, weights, "_layer_checkpoint_dependencies");
        String tfJson = JSON.valueToTree(Map.of("class_name", "Sequential", "keras_version", "2.13.1",
                "backend", "tensorflow", "config", Map.of("name", "sequential", "layers", List.of(in, rnn, head))))
                .toString();
        LoadedModel tf = KerasModelLoader.loadWeights(tfKeras, tfJson);
        assertEquals("2.13.1", tf.kerasVersion());
        assertTrue(tf.warnings().isEmpty(), tf.warnings().toString());
        Compare.assertIdentical("tf.keras 2.13 weights", java.predict(x), tf.model().predict(x));

        // an architecture with a second Dense at the end: Keras 3 keys it dense_1, which the file lacks
        Map<String, Object> extra = new LinkedHashMap<>(spec("Dense", "extra", Map.of("units", 2)));
        extra.put("module", "keras.layers");
        String other = JSON.valueToTree(Map.of("module", "keras", "class_name", "Sequential",
                "config", Map.of("name", "sequential", "layers", List.of(in, rnn, head, extra)))).toString();
        ModelLoadException e = org.junit.jupiter.api.Assertions.assertThrows(ModelLoadException.class,
                () -> KerasModelLoader.loadWeights(file, other));
        assertTrue(e.getMessage().contains("layer 'extra' (Dense)") && e.getMessage().contains("no group dense_1 below layers")
                && e.getMessage().contains("[lstm, dense]") && !e.getMessage().contains("truncated"), e.getMessage());
    }

    /**
     * Keras 1.2's save_weights records neither keras_version nor backend; its to_json records
     * keras_version, whose rules then apply: here Keras 1's TensorFlow loop, whose masked steps
     * output the state, which Bidirectional concatenates (Keras 2.2+ gives zeros there).
     */
    @Test
    void keras1WeightsOnlyFileTakesTheVersionFromItsJson() {
        Map<String, Object> lstm = new LinkedHashMap<>(Map.of("output_dim", 2, "return_sequences", true,
                "activation", "tanh", "inner_activation", "hard_sigmoid", "consume_less", "gpu"));
        lstm.put("name", "lstm_1");
        Map<String, Object> masking = spec("Masking", "masking_1", Map.of("mask_value", 0.0,
                "batch_input_shape", nullFirst(T, I)));
        Map<String, Object> bi = spec("Bidirectional", "bidirectional_1", Map.of("merge_mode", "concat",
                "layer", Map.of("class_name", "LSTM", "config", lstm)));
        KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
        for (String d : List.of("forward", "backward")) {
            lw.put(d + "_lstm_1_W", random.uniform(1, I, 8)).put(d + "_lstm_1_U", random.uniform(1, 2, 8))
                    .put(d + "_lstm_1_b", random.uniform(1, 8));
        }
        Map<String, KerasFileWriter.LayerWeights> weights = Map.of("bidirectional_1", lw);
        Path full = dir.resolve("keras1_full.h5");
        KerasFileWriter.writeHdf5(full, "1.2.2", "tensorflow", JSON.valueToTree(Map.of("class_name", "Sequential",
                "config", List.of(masking, bi))), weights);
        Path weightsOnly = dir.resolve("keras1_weights.h5");
        KerasFileWriter.writeWeightsOnly(weightsOnly, null, weights);
        String json = JSON.valueToTree(Map.of("class_name", "Sequential", "keras_version", "1.2.2",
                "config", List.of(masking, bi))).toString();

        LoadedModel loaded = KerasModelLoader.loadWeights(weightsOnly, json);
        assertEquals("1.2.2", loaded.kerasVersion());
        Tensor x = paddedInput();
        Tensor expected = KerasModelLoader.load(full).model().predict(x);
        Compare.assertIdentical("Keras 1 weights + JSON", expected, loaded.model().predict(x));
        // the steps that tell the versions apart: sequence 0's padded last two steps are not zeros
        assertTrue(expected.data()[(T - 1) * 4] != 0f, Arrays.toString(expected.data()));
        assertTrue(loaded.warnings().stream().noneMatch(w -> w.contains("does not say which Keras")),
                loaded.warnings().toString());
    }

    /**
     * A Sequential model whose layers give no input shape, built with model.build(shape): Keras
     * 2.2.3+ and tf.keras record that shape as build_input_shape, its first axis the batch axis.
     */
    @Test
    void sequentialWithOnlyABuildInputShape() {
        LstmDense m = lstmDense();
        List<Tensor> lw = m.lstmWeights();
        List<Tensor> dw = m.denseWeights();
        Model java = m.model();
        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        weights.put("lstm", recurrentH5Weights("lstm", "lstm_cell", lw));
        weights.put("dense", new KerasFileWriter.LayerWeights().put("dense/kernel:0", dw.get(0)).put("dense/bias:0", dw.get(1)));
        Tensor x = random.uniform(1, 3, T, I);
        for (String version : List.of("2.2.4-tf", "2.3.1", "2.6.0")) {
            JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "s",
                    "layers", List.of(layerSpec("LSTM", "lstm", Map.of(), H), spec("Dense", "dense", Map.of("units", 2))),
                    "build_input_shape", nullFirst(-1, I))));
            Path file = dir.resolve("built_" + version + ".h5");
            KerasFileWriter.writeHdf5(file, version, config, weights);
            Model loaded = KerasModelLoader.load(file).model();
            Compare.assertIdentical("build_input_shape, " + version, java.predict(x), loaded.predict(x));
        }
    }

    /**
     * CuDNNLSTM and CuDNNGRU (Keras 2.0.9-2.3, tf.keras 1.x) always compute with sigmoid gates and
     * tanh, as cuDNN does, also in files older than Keras 2.3, whose LSTM and GRU default to
     * hard_sigmoid; their weights are in cuDNN's layout.
     */
    @Test
    void cudnnLayersComputeWithSigmoidGates() {
        for (String version : List.of("2.1.5", "2.2.4")) {
            for (String cls : List.of("CuDNNLSTM", "CuDNNGRU")) {
                boolean lstm = cls.equals("CuDNNLSTM");
                int gates = lstm ? 4 : 3;
                Tensor k = random.uniform(0.6, I, gates * H);
                Tensor u = random.uniform(0.6, H, gates * H);
                Tensor b = random.uniform(0.6, 2 * gates * H);
                List<Tensor> converted = WeightConversions.fromCudnn(List.of(k, u, b), gates, H, !lstm);
                RecurrentLayer expected = lstm
                        ? Lstm.builder(H).name("c").recurrentActivation(Activation.SIGMOID).activation(Activation.TANH)
                                .returnSequences(true).build()
                        : Gru.builder(H).name("c").resetAfter(true).recurrentActivation(Activation.SIGMOID)
                                .activation(Activation.TANH).returnSequences(true).build();
                expected.setWeights(converted);
                Model java = Model.sequential("java").input(-1, I).add(expected).build();

                Map<String, Object> cfg = new LinkedHashMap<>(Map.of("units", H, "return_sequences", true));
                cfg.put("batch_input_shape", nullFirst(-1, I));
                JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", List.of(spec(cls, "c", cfg))));
                Map<String, KerasFileWriter.LayerWeights> weights = Map.of("c", new KerasFileWriter.LayerWeights()
                        .put("c/kernel:0", k).put("c/recurrent_kernel:0", u).put("c/bias:0", b));
                Path file = dir.resolve(cls + version + ".h5");
                KerasFileWriter.writeHdf5(file, version, config, weights);

                RecurrentLayer loaded = (RecurrentLayer) KerasModelLoader.load(file).model().layers().get(0);
                String where = cls + " in Keras " + version;
                assertEquals(Activation.SIGMOID, loaded instanceof Lstm l ? l.recurrentActivation()
                        : ((Gru) loaded).recurrentActivation(), where);
                Tensor x = random.uniform(1, 2, T, I);
                Compare.assertIdentical(where, java.predict(x), KerasModelLoader.load(file).model().predict(x));
            }
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private Tensor paddedInput() {
        Tensor x = random.uniform(1, 3, T, I);
        float[] d = x.data();
        java.util.Arrays.fill(d, (0 * T + 4) * I, T * I, 0f); // sequence 0: last two steps padded
        java.util.Arrays.fill(d, (1 * T) * I, (1 * T + 1) * I, 0f); // sequence 1: first step padded
        return x;
    }

    private static RecurrentLayer javaLayer(String cls, Map<String, Object> cfg) {
        RecurrentLayerBuilder<?> b = switch (cls) {
            case "LSTM" -> {
                Lstm.Builder l = Lstm.builder(H);
                if ("hard_sigmoid".equals(cfg.get("recurrent_activation"))) {
                    l.recurrentActivation(Activation.HARD_SIGMOID_KERAS2); // a Keras 2 file
                }
                yield l;
            }
            case "GRU" -> {
                Gru.Builder g = Gru.builder(H).resetAfter((Boolean) cfg.get("reset_after"));
                if ("hard_sigmoid".equals(cfg.get("recurrent_activation"))) {
                    g.recurrentActivation(Activation.HARD_SIGMOID_KERAS2);
                }
                yield g;
            }
            default -> SimpleRnn.builder(H);
        };
        b.name("rnn").returnSequences((Boolean) cfg.get("return_sequences"))
                .goBackwards(Boolean.TRUE.equals(cfg.get("go_backwards")))
                .useBias(!Boolean.FALSE.equals(cfg.get("use_bias")))
                .zeroOutputForMask(Boolean.TRUE.equals(cfg.get("zero_output_for_mask")));
        if (cfg.containsKey("activation")) {
            b.activation(Activation.named((String) cfg.get("activation"), dev.rnnrt.api.KerasVersion.KERAS_2));
        }
        return b.build();
    }

    /** A recurrent layer's weights as tf.keras 2 writes them: "layer/cell/kernel:0", … */
    /** Keras 1's per-gate kernel, recurrent kernel and bias, each joined along columns in Keras 2's gate order. */
    private static List<Tensor> joinGates(Map<String, Tensor[]> gate, String[] order) {
        List<Tensor> joined = new ArrayList<>();
        for (int part = 0; part < 3; part++) {
            List<Tensor> blocks = new ArrayList<>();
            for (String g : order) {
                blocks.add(gate.get(g)[part]);
            }
            joined.add(joinColumns(blocks));
        }
        return joined;
    }

    /** An LSTM(H) on I features, then Dense(2), with random weights: the model and each layer's weights. */
    private record LstmDense(Model model, List<Tensor> lstmWeights, List<Tensor> denseWeights) {
    }

    private LstmDense lstmDense() {
        Lstm lstm = Lstm.builder(H).name("lstm").build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Dense dense = Dense.builder(2).name("dense").build();
        List<Tensor> dw = List.of(random.uniform(0.5, H, 2), random.uniform(0.5, 2));
        dense.setWeights(dw);
        return new LstmDense(Model.sequential("java").input(-1, I).add(lstm).add(dense).build(), lw, dw);
    }

    private static KerasFileWriter.LayerWeights recurrentH5Weights(String layer, String cell, List<Tensor> w) {
        KerasFileWriter.LayerWeights rw = new KerasFileWriter.LayerWeights();
        String[] names = {"kernel:0", "recurrent_kernel:0", "bias:0"};
        for (int k = 0; k < w.size(); k++) {
            rw.put(layer + "/" + cell + "/" + names[k], w.get(k));
        }
        return rw;
    }

    private List<Tensor> randomWeights(RecurrentLayer layer, int inputSize) {
        RecurrentLayer probe = layer;
        probe.build(inputSize);
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : probe.getWeights()) {
            out.add(random.uniform(0.6, t.shape()));
        }
        return out;
    }

    private static Map<String, Object> layerSpec(String cls, String name, Map<String, Object> opts, int units) {
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("units", units);
        cfg.put("activation", "tanh");
        if (!cls.equals("SimpleRNN")) {
            cfg.put("recurrent_activation", "sigmoid");
        }
        cfg.put("use_bias", true);
        cfg.put("return_sequences", false);
        cfg.put("return_state", false);
        cfg.put("go_backwards", false);
        cfg.put("stateful", false);
        cfg.put("unroll", false);
        cfg.putAll(opts);
        return spec(cls, name, cfg);
    }

    private static Map<String, Object> spec(String cls, String name, Map<String, Object> cfg) {
        Map<String, Object> c = new LinkedHashMap<>(cfg);
        c.put("name", name);
        return Map.of("class_name", cls, "config", c);
    }

    private static Map<String, Object> input(String name) {
        Map<String, Object> s = new LinkedHashMap<>(spec("InputLayer", name, Map.of("batch_shape", nullFirst(-1, I))));
        s.put("name", name);
        s.put("inbound_nodes", List.of());
        return s;
    }

    private static Map<String, Object> tensor(String layer, int index) {
        return tensor(layer, 0, index);
    }

    /** Output {@code index} of call {@code node} of a layer (Keras' keras_history). */
    private static Map<String, Object> tensor(String layer, int node, int index) {
        return Map.of("class_name", "__keras_tensor__",
                "config", Map.of("shape", nullFirst(-1, H), "dtype", "float32", "keras_history", List.of(layer, node, index)));
    }

    private static List<Object> withOps(List<Object> first, List<Map<String, Object>> ops, List<Object> rest) {
        List<Object> out = new ArrayList<>(first);
        out.addAll(ops);
        out.addAll(rest);
        return out;
    }

    /** [null, d1, d2, …] with -1 written as null. */
    private static List<Object> nullFirst(int... dims) {
        List<Object> out = new ArrayList<>();
        out.add(null);
        for (int d : dims) {
            out.add(d < 0 ? null : d);
        }
        return out;
    }
}
