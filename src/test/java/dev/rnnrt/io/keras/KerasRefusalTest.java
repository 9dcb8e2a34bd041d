package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.testing.RandomTensors;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** What the loader refuses, and how it says so. */
class KerasRefusalTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final RandomTensors random = new RandomTensors(77);

    /** Runs {@code load}: it must throw a ModelLoadException whose message holds every part. */
    static ModelLoadException assertRefused(Executable load, String... parts) {
        ModelLoadException e = assertThrows(ModelLoadException.class, load);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
        return e;
    }

    @SafeVarargs
    private final JsonNode sequential(Map<String, Object>... layers) {
        return JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "s", "layers", List.of(layers))));
    }

    private static Map<String, Object> layer(String cls, String name, Map<String, Object> cfg) {
        Map<String, Object> c = new LinkedHashMap<>(cfg);
        c.put("name", name);
        return Map.of("class_name", cls, "config", c);
    }

    private Path lstmFile(String name, Map<String, Object> extraLayer, Tensor kernel) {
        Map<String, Object> lstm = layer("LSTM", "lstm", Map.of("units", 3, "batch_input_shape", Arrays.asList(null, 5, 2)));
        JsonNode config = extraLayer == null ? sequential(lstm) : sequential(lstm, extraLayer);
        Map<String, KerasFileWriter.LayerWeights> w = new LinkedHashMap<>();
        w.put("lstm", new KerasFileWriter.LayerWeights().put("lstm/kernel:0", kernel)
                .put("lstm/recurrent_kernel:0", random.uniform(1, 3, 12)).put("lstm/bias:0", random.uniform(1, 12)));
        Path p = dir.resolve(name);
        KerasFileWriter.writeHdf5(p, "2.2.4", config, w);
        return p;
    }

    @Test
    void lambdaLayersAreRefused() {
        Path p = lstmFile("lambda.h5", layer("Lambda", "lambda_1", Map.of("function", "4wEAAAAAAAAA")), random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(p), "lambda.h5", "'lambda_1'", "Lambda", "never runs code",
                "Supported layers");
    }

    @Test
    void customLayersAreRefusedNamingTheClass() {
        Path p = lstmFile("custom.h5", layer("AttentionWeightedAverage", "attention", Map.of()), random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(p), "'attention'", "'AttentionWeightedAverage'", "custom layer",
                "LSTM, GRU");
    }

    /** A mask that stops inside the model TimeDistributed runs on each step is reported too. */
    @Test
    void masksStoppingInsideATimeDistributedModelAreReported() {
        dev.rnnrt.model.Model inner = dev.rnnrt.model.Model.functional("sentence").dropUnusedMasks(true)
                .input("words", 5, 2).add(dev.rnnrt.layers.Masking.of("mask", 0.0), "words")
                .add(dev.rnnrt.layers.Flatten.named("flat"), "mask").outputs("flat").build();
        dev.rnnrt.model.Model outer = dev.rnnrt.model.Model.functional("doc").input("doc", 3, 5, 2)
                .add(dev.rnnrt.layers.TimeDistributed.of("td", new dev.rnnrt.model.NestedModel("enc", "Functional",
                        inner)), "doc").outputs("td").build();
        List<String> dropped = KerasModelLoader.masksDropped(outer);
        assertEquals(1, dropped.size(), dropped.toString());
        assertTrue(dropped.get(0).contains("'td'") && dropped.get(0).contains("'flat' (Flatten)")
                && dropped.get(0).contains("'mask'"), dropped.get(0));
    }

    /** Keras 1's Merge and TimeDistributedDense are built-in layers rnnrt does not read: said so, not "custom". */
    @Test
    void keras1MergeAndTimeDistributedDenseAreNamedAsKeras1Layers() {
        Path merge = lstmFile("merge.h5", layer("Merge", "merge_1", Map.of("mode", "concat")), random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(merge), "'merge_1'", "Keras 1's Merge", "Concatenate, Add");
        Path tdd = lstmFile("tdd.h5", layer("TimeDistributedDense", "tdd_1", Map.of("output_dim", 2)),
                random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(tdd), "'tdd_1'", "Keras 1's TimeDistributedDense",
                "TimeDistributed(Dense)");
    }

    /** A Keras 3 object spec: module, class_name, config, registered_name (null for Keras' public classes). */
    private static Map<String, Object> keras3(String module, String cls, String registered, Map<String, Object> cfg) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("module", module);
        m.put("class_name", cls);
        m.put("config", cfg);
        m.put("registered_name", registered);
        return m;
    }

    /** A Keras 3 Sequential x -> &lt;middle&gt; -> Dense in a .keras archive, the LSTM weights under lstm/cell. */
    @SuppressWarnings("unchecked")
    private Path keras3Archive(String file, Map<String, Object> model, Map<String, Object> middle) throws IOException {
        Map<String, Object> cfg = new LinkedHashMap<>((Map<String, Object>) model.get("config"));
        cfg.put("layers", List.of(
                keras3("keras.layers", "InputLayer", null, Map.of("batch_shape", Arrays.asList(null, 5, 2), "name", "x")),
                middle, keras3("keras.layers", "Dense", null, Map.of("name", "dense", "units", 1))));
        Map<String, Object> m = new LinkedHashMap<>(model);
        m.put("config", cfg);
        RandomTensors same = new RandomTensors(11);        // the same weights in every file
        Map<String, List<Tensor>> w = new LinkedHashMap<>();
        w.put("lstm/cell", List.of(same.uniform(1, 2, 12), same.uniform(1, 3, 12), same.uniform(1, 12)));
        w.put("dense", List.of(same.uniform(1, 3, 1), same.uniform(1, 1)));
        Path p = dir.resolve(file);
        KerasFileWriter.writeKeras(p, JSON.valueToTree(m), w);
        return p;
    }

    /**
     * Keras 3 records each class's module and registered_name: a custom class named after a built-in
     * (a subclass of LSTM called LSTM) is Keras building that package's code, so it is refused.
     */
    @Test
    void keras3CustomClassesWithBuiltInNamesAreRefused() throws IOException {
        Map<String, Object> seq = keras3("keras", "Sequential", null, Map.of("name", "sequential"));
        Map<String, Object> lstmCfg = Map.of("name", "lstm", "units", 3);
        Path custom = keras3Archive("custom.keras", seq, keras3("my_project.layers", "LSTM", "my_project>LSTM", lstmCfg));
        assertRefused(() -> KerasModelLoader.load(custom), "custom.keras", "layer 'lstm' (LSTM)",
                "module 'my_project.layers'", "registered as 'my_project>LSTM'", "custom class", "never runs code");
        Path registered = keras3Archive("registered.keras", seq, keras3("keras.layers", "LSTM", "my_project>LSTM", lstmCfg));
        assertRefused(() -> KerasModelLoader.load(registered), "layer 'lstm' (LSTM)", "registered as 'my_project>LSTM'");
        Path unregistered = keras3Archive("main.keras", seq, keras3("__main__", "LSTM", "LSTM", lstmCfg));
        assertRefused(() -> KerasModelLoader.load(unregistered), "layer 'lstm' (LSTM)", "module '__main__'");
        Path cell = keras3Archive("cell.keras", seq, keras3("keras.layers", "RNN", null, Map.of("name", "lstm",
                "cell", keras3("my_project.cells", "LSTMCell", "my_project>LSTMCell", Map.of("name", "c", "units", 3)))));
        assertRefused(() -> KerasModelLoader.load(cell), "layer 'lstm' (RNN), its cell", "module 'my_project.cells'");
        Path model = keras3Archive("model.keras", keras3("my_project.models", "Sequential", "my_project>Sequential",
                Map.of("name", "sequential")), keras3("keras.layers", "LSTM", null, lstmCfg));
        assertRefused(() -> KerasModelLoader.load(model), "the model (Sequential)", "module 'my_project.models'");

        // Keras' own classes: public ones (no registered_name) and those it does not export (their class name)
        Tensor x = random.uniform(1, 2, 5, 2);
        Path own = keras3Archive("own.keras", seq, keras3("keras.layers", "LSTM", null, lstmCfg));
        Path internal = keras3Archive("internal.keras", keras3("keras.src.models.sequential", "Sequential", "Sequential",
                Map.of("name", "sequential")), keras3("keras.src.layers.rnn.lstm", "LSTM", "LSTM", lstmCfg));
        dev.rnnrt.testing.Compare.assertIdentical("Keras' own classes", KerasModelLoader.load(own).model().predict(x),
                KerasModelLoader.load(internal).model().predict(x));
    }

    /**
     * Keras 3 activations rnnrt does not compute, named in an archive: threshold (its arguments have
     * no defaults), glu and sparsemax (not element-wise), each refused naming the layer and why.
     */
    @Test
    void keras3ActivationsThatAreNotElementwiseOrNeedArgumentsAreRefused() throws IOException {
        Map<String, Object> seq = keras3("keras", "Sequential", null, Map.of("name", "sequential"));
        Path sparsemax = keras3Archive("sparsemax.keras", seq, keras3("keras.layers", "LSTM", null,
                Map.of("name", "lstm", "units", 3, "activation", "sparsemax")));
        assertRefused(() -> KerasModelLoader.load(sparsemax), "sparsemax.keras", "layer 'lstm' (LSTM)",
                "'sparsemax'", "not element-wise", "probability simplex");
        Path glu = keras3Archive("glu.keras", seq, keras3("keras.layers", "LSTM", null,
                Map.of("name", "lstm", "units", 3, "recurrent_activation", "glu")));
        assertRefused(() -> KerasModelLoader.load(glu), "glu.keras", "layer 'lstm' (LSTM)", "'glu'",
                "not element-wise", "a * sigmoid(b)");
        Path threshold = keras3Archive("threshold.keras", seq, keras3("keras.layers", "LSTM", null,
                Map.of("name", "lstm", "units", 3, "activation", "threshold")));
        assertRefused(() -> KerasModelLoader.load(threshold), "threshold.keras", "layer 'lstm' (LSTM)", "'threshold'",
                "threshold(x, threshold, default_value)", "no defaults");
        Path layer = keras3Archive("activation_glu.keras", seq, keras3("keras.layers", "Activation", null,
                Map.of("name", "activation", "activation", "glu")));
        assertRefused(() -> KerasModelLoader.load(layer), "activation_glu.keras", "'activation'", "'glu'",
                "not element-wise");
    }

    @Test
    void conv1dOptionsRnnrtDoesNotComputeAreRefused() {
        Map<String, Object> conv = Map.of("filters", 4, "kernel_size", List.of(3), "padding", "causal");
        Map<String, Object> grouped = new LinkedHashMap<>(conv);
        grouped.put("groups", 2);
        Path g = lstmFile("grouped.h5", layer("Conv1D", "conv_g", grouped), random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(g), "grouped.h5", "'conv_g'", "groups=2", "groups=1 only");
        Map<String, Object> first = new LinkedHashMap<>(conv);
        first.put("data_format", "channels_first");
        Path f = lstmFile("first.h5", layer("Conv1D", "conv_f", first), random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(f), "'conv_f'", "channels_first", "channels_last");
    }

    @Test
    void normalizationOptionsRnnrtDoesNotComputeAreRefused() {
        Path keras1 = dir.resolve("keras1_bn.h5");
        KerasFileWriter.writeHdf5(keras1, "1.2.2", sequential(
                layer("LSTM", "lstm", Map.of("output_dim", 3, "batch_input_shape", Arrays.asList(null, 5, 2))),
                layer("BatchNormalization", "bn", Map.of("mode", 0, "axis", -1))), Map.of());
        assertRefused(() -> KerasModelLoader.load(keras1), "'bn'", "Keras 1", "save it again");
        Path time = lstmFile("bn_time.h5", layer("BatchNormalization", "bn_t", Map.of("axis", List.of(1, 2))),
                random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(time), "'bn_t'", "axis [1,2]", "last axis");
        Path rms = lstmFile("rms.h5", layer("LayerNormalization", "ln", Map.of("rms_scaling", true)),
                random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(rms), "'ln'", "rms_scaling");
        Path first = lstmFile("pool_first.h5", layer("GlobalAveragePooling1D", "gap",
                Map.of("data_format", "channels_first")), random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(first), "'gap'", "channels_first");
    }

    @Test
    void inputShapesThatAreNotListsAreRefusedByName() {
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("units", 3);
        cfg.put("batch_input_shape", null);
        Path nullShape = dir.resolve("null_shape.h5");
        KerasFileWriter.writeHdf5(nullShape, "2.4.0", sequential(layer("LSTM", "lstm", cfg)), Map.of());
        assertRefused(() -> KerasModelLoader.load(nullShape), "null_shape.h5", "'lstm'", "batch_input_shape is null", "expected a list");
        Path scalarShape = dir.resolve("scalar_shape.h5");
        KerasFileWriter.writeHdf5(scalarShape, "2.4.0", sequential(layer("LSTM", "lstm", Map.of("units", 3,
                "input_shape", 5))), Map.of());
        assertRefused(() -> KerasModelLoader.load(scalarShape), "input_shape is 5", "expected a list");
    }

    @Test
    void rnnWrappersAroundCustomCellsAreRefused() {
        Map<String, Object> cell = Map.of("class_name", "LSTMCell", "config", Map.of("units", 3, "name", "c"));
        Map<String, Object> odd = Map.of("class_name", "MinimalRNNCell", "config", Map.of("units", 3));
        Map<String, Object> stacked = Map.of("class_name", "StackedRNNCells", "config", Map.of("cells", List.of(cell, odd)));
        Path p = lstmFile("stacked.h5", layer("RNN", "rnn", Map.of("cell", stacked)), random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(p), "'rnn'", "cell 1 of its StackedRNNCells is 'MinimalRNNCell'",
                "LSTMCell, GRUCell and SimpleRNNCell");
        Map<String, Object> empty = Map.of("class_name", "StackedRNNCells", "config", Map.of("cells", List.of()));
        Path none = lstmFile("stacked_empty.h5", layer("RNN", "rnn1", Map.of("cell", empty)), random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(none), "'rnn1'", "lists no cells");
        Path custom = lstmFile("custom_cell.h5", layer("RNN", "rnn2", Map.of("cell", odd)), random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(custom), "'rnn2'", "MinimalRNNCell");
        // the stack itself loads; without weights in the file it says which it needs
        Map<String, Object> two = Map.of("class_name", "StackedRNNCells", "config", Map.of("cells", List.of(cell, cell)));
        Path noWeights = lstmFile("stacked_no_weights.h5", layer("RNN", "rnn3", Map.of("cell", two)),
                random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(noWeights), "'rnn3'", "no weights", "rnn3/c/kernel",
                "rnn3/c_1/recurrent_kernel");
    }

    /** A Bidirectional whose backward_layer is no recurrent layer is refused saying what it is. */
    @Test
    void aBackwardLayerThatIsNotRecurrentIsNamed() {
        Map<String, Object> forward = Map.of("class_name", "LSTM", "config", Map.of("units", 3, "name", "fw"));
        Map<String, Object> dense = Map.of("class_name", "Dense", "config", Map.of("units", 3, "name", "dn"));
        Path p = lstmFile("backward_dense.h5", layer("Bidirectional", "bi",
                Map.of("layer", forward, "backward_layer", dense)), random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.load(p), "'bi' (Bidirectional)", "backward_layer is Layer 'dn' (Dense",
                "must be a SimpleRNN, LSTM or GRU layer (or an RNN around one such cell)");
    }

    /** An architecture that is not a model's config, or none at all, is named as such. */
    @Test
    void anArchitectureWithoutAModelClassIsNamedAsSuch() {
        Path weights = KerasTestFiles.path("textgenrnn_cudnnlstm_weights_only_k215.h5");
        for (String json : new String[] {"{}", "[]", "{\"config\": {\"layers\": []}}"}) {
            ModelLoadException e = assertRefused(() -> KerasModelLoader.loadWeights(weights, json),
                    "textgenrnn_cudnnlstm_weights_only_k215.h5", "has no class_name", "model.to_json()");
            assertTrue(!e.getMessage().contains("''"), e.getMessage());
        }
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> KerasModelLoader.loadWeights(weights, null));
        assertEquals("architectureJson", e.getMessage());
    }

    @Test
    void textgenrnnWholeModelIsRefusedAtItsCustomLayer() {
        String architecture = "{\"class_name\": \"Model\", \"config\": {\"name\": \"textgenrnn\", \"layers\": ["
                + "{\"name\": \"input\", \"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 40], \"name\": \"input\"}, \"inbound_nodes\": []},"
                + "{\"name\": \"embedding\", \"class_name\": \"Embedding\", \"config\": {\"name\": \"embedding\", \"input_dim\": 465, \"output_dim\": 100}, \"inbound_nodes\": [[[\"input\", 0, 0, {}]]]},"
                + "{\"name\": \"rnn_1\", \"class_name\": \"LSTM\", \"config\": {\"name\": \"rnn_1\", \"units\": 128, \"return_sequences\": true}, \"inbound_nodes\": [[[\"embedding\", 0, 0, {}]]]},"
                + "{\"name\": \"rnn_2\", \"class_name\": \"LSTM\", \"config\": {\"name\": \"rnn_2\", \"units\": 128, \"return_sequences\": true}, \"inbound_nodes\": [[[\"rnn_1\", 0, 0, {}]]]},"
                + "{\"name\": \"rnn_concat\", \"class_name\": \"Concatenate\", \"config\": {\"name\": \"rnn_concat\", \"axis\": -1}, \"inbound_nodes\": [[[\"embedding\", 0, 0, {}], [\"rnn_1\", 0, 0, {}], [\"rnn_2\", 0, 0, {}]]]},"
                + "{\"name\": \"attention\", \"class_name\": \"AttentionWeightedAverage\", \"config\": {\"name\": \"attention\"}, \"inbound_nodes\": [[[\"rnn_concat\", 0, 0, {}]]]},"
                + "{\"name\": \"output\", \"class_name\": \"Dense\", \"config\": {\"name\": \"output\", \"units\": 465, \"activation\": \"softmax\"}, \"inbound_nodes\": [[[\"attention\", 0, 0, {}]]]}],"
                + "\"input_layers\": [[\"input\", 0, 0]], \"output_layers\": [[\"output\", 0, 0]]}}";
        Path weights = KerasTestFiles.path("textgenrnn_cudnnlstm_weights_only_k215.h5");
        assertRefused(() -> KerasModelLoader.loadWeights(weights, architecture), "'attention'", "AttentionWeightedAverage");
        // and the file alone is not a model
        assertRefused(() -> KerasModelLoader.load(weights), "weights only", "loadWeights");
    }

    @Test
    void weightShapesThatDisagreeWithTheConfig() {
        Path p = lstmFile("shape.h5", null, random.uniform(1, 2, 8)); // an LSTM(3) kernel is [2, 12]
        assertRefused(() -> KerasModelLoader.load(p), "shape.h5", "'lstm'", "'kernel'", "[I, 12]", "[2, 8]",
                "disagree with the model config");
        Path wrongInput = lstmFile("input.h5", null, random.uniform(1, 7, 12)); // the config says 2 features
        assertRefused(() -> KerasModelLoader.load(wrongInput), "input.h5", "'lstm'", "[batch, timesteps, 7]", "[batch, 5, 2]");
    }

    @Test
    void missingWeightsAndWrongCounts() {
        Map<String, Object> lstm = layer("LSTM", "lstm", Map.of("units", 3, "batch_input_shape", Arrays.asList(null, 5, 2)));
        Path none = dir.resolve("none.h5");
        KerasFileWriter.writeHdf5(none, "2.2.4", sequential(lstm), Map.of("other", new KerasFileWriter.LayerWeights()
                .put("other/x:0", random.uniform(1, 2))));
        assertRefused(() -> KerasModelLoader.load(none), "'lstm'", "no weights", "needs 3", "kernel, recurrent_kernel, bias");
        Path two = dir.resolve("two.h5");
        KerasFileWriter.writeHdf5(two, "2.2.4", sequential(lstm), Map.of("lstm", new KerasFileWriter.LayerWeights()
                .put("lstm/kernel:0", random.uniform(1, 2, 12)).put("lstm/recurrent_kernel:0", random.uniform(1, 3, 12))));
        assertRefused(() -> KerasModelLoader.load(two), "'lstm'", "found 2 weight arrays", "needs 3");
    }

    @Test
    void weightsForALayerBuiltWithoutWeightsAreRefused() {
        Map<String, Object> lstm = layer("LSTM", "lstm", Map.of("units", 3, "return_sequences", true,
                "batch_input_shape", Arrays.asList(null, 5, 2)));
        Map<String, Object> norm = layer("LayerNormalization", "ln", Map.of("axis", -1, "center", false, "scale", false));
        Path file = dir.resolve("norm.h5");
        KerasFileWriter.writeHdf5(file, "2.9.0", sequential(lstm, norm), Map.of(
                "lstm", new KerasFileWriter.LayerWeights().put("lstm/kernel:0", random.uniform(1, 2, 12))
                        .put("lstm/recurrent_kernel:0", random.uniform(1, 3, 12)).put("lstm/bias:0", random.uniform(1, 12)),
                "ln", new KerasFileWriter.LayerWeights().put("ln/gamma:0", random.uniform(1, 3))));
        assertRefused(() -> KerasModelLoader.load(file), "layer 'ln'", "1 weight array(s) (ln/gamma:0)",
                "without weights", "disagree");
    }

    /** Keras 3 quantized layers are refused; mixed precision loads with one warning per policy. */
    @Test
    void quantizedLayersAreRefusedAndMixedPrecisionIsNamed() {
        Map<String, Object> lstm = new java.util.LinkedHashMap<>(layer("LSTM", "lstm", Map.of("units", 3,
                "batch_input_shape", Arrays.asList(null, 5, 2), "dtype", Map.of("module", "keras",
                        "class_name", "DTypePolicy", "config", Map.of("name", "mixed_float16")))));
        Map<String, Object> dense = layer("Dense", "dense", Map.of("units", 2, "dtype", Map.of("module", "keras",
                "class_name", "DTypePolicy", "config", Map.of("name", "mixed_float16"))));
        Map<String, KerasFileWriter.LayerWeights> weights = new java.util.LinkedHashMap<>();
        weights.put("lstm", new KerasFileWriter.LayerWeights().put("lstm/kernel:0", random.uniform(1, 2, 12))
                .put("lstm/recurrent_kernel:0", random.uniform(1, 3, 12)).put("lstm/bias:0", random.uniform(1, 12)));
        weights.put("dense", new KerasFileWriter.LayerWeights().put("dense/kernel:0", random.uniform(1, 3, 2))
                .put("dense/bias:0", random.uniform(1, 2)));
        Path mixed = dir.resolve("mixed.h5");
        KerasFileWriter.writeHdf5(mixed, "2.12.0", sequential(lstm, dense), weights);
        LoadedModel m = KerasModelLoader.load(mixed);
        assertEquals(1, m.warnings().size(), m.warnings().toString());
        assertTrue(m.warnings().get(0).contains("'mixed_float16'") && m.warnings().get(0).contains("float16"),
                m.warnings().get(0));

        Map<String, Object> quantized = layer("Dense", "dense", Map.of("units", 2, "dtype", Map.of("module", "keras",
                "class_name", "QuantizedDTypePolicy", "config", Map.of("name", "int8_from_float32",
                        "source_name", "float32"))));
        Map<String, Object> plain = layer("LSTM", "lstm", Map.of("units", 3, "batch_input_shape", Arrays.asList(null, 5, 2)));
        Path q = dir.resolve("quantized.h5");
        KerasFileWriter.writeHdf5(q, "2.12.0", sequential(plain, quantized), weights);
        assertRefused(() -> KerasModelLoader.load(q), "layer 'dense'", "quantized", "int8_from_float32");
        Map<String, Object> awq = layer("Dense", "dense", Map.of("units", 2, "dtype", Map.of("module", "keras",
                "class_name", "AWQDTypePolicy", "config", Map.of("name", "awq/4/128_from_float32"))));
        Path a = dir.resolve("awq.h5");
        KerasFileWriter.writeHdf5(a, "2.12.0", sequential(plain, awq), weights);
        assertRefused(() -> KerasModelLoader.load(a), "layer 'dense'", "quantized", "awq/4/128_from_float32");
        // Keras 3.4+ writes {"mode", "source_name"} and no name
        Map<String, Object> modeOnly = layer("Dense", "dense", Map.of("units", 2, "dtype", Map.of("module", "keras",
                "class_name", "QuantizedDTypePolicy", "config", Map.of("mode", "int8", "source_name", "float32"))));
        Path mo = dir.resolve("mode_only.h5");
        KerasFileWriter.writeHdf5(mo, "2.12.0", sequential(plain, modeOnly), weights);
        assertRefused(() -> KerasModelLoader.load(mo), "layer 'dense'", "quantized", "int8");
    }

    /** A malformed operation layer (an empty call) is a ModelLoadException, not an exception from inside. */
    @Test
    void malformedOperationNodesAreLoadErrors() {
        String json = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"m\", \"layers\": ["
                + "{\"name\": \"x\", \"class_name\": \"InputLayer\", \"config\": {\"batch_input_shape\": [null, 4, 2],"
                + " \"name\": \"x\"}, \"inbound_nodes\": []},"
                + "{\"name\": \"tf.math.abs\", \"class_name\": \"TFOpLambda\", \"config\": {\"name\": \"tf.math.abs\","
                + " \"function\": \"math.abs\"}, \"inbound_nodes\": [[[]]]}],"
                + " \"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"tf.math.abs\", 0, 0]]}}";
        Path weights = lstmFile("op_weights.h5", null, random.uniform(1, 2, 12));
        assertRefused(() -> KerasModelLoader.loadWeights(weights, json), "tf.math.abs");
    }

    /**
     * A tf.keras functional graph x -> LSTM -> BatchNormalization -> Dropout -> Dense, the call of
     * layer {@code trainingOn} saved with the keyword {@code training} (none where null).
     */
    private Path trainingGraph(String file, String version, double lstmDropout, double dropoutRate, String trainingOn,
                               Object training) {
        return trainingGraph(file, version, lstmDropout, dropoutRate, trainingOn, training, true);
    }

    private Path trainingGraph(String file, String version, double lstmDropout, double dropoutRate, String trainingOn,
                               Object training, boolean normTrainable) {
        List<Object> layers = new java.util.ArrayList<>();
        Map<String, Object> in = new LinkedHashMap<>(layer("InputLayer", "x", Map.of("batch_input_shape",
                Arrays.asList(null, 5, 2))));
        in.put("name", "x");
        in.put("inbound_nodes", List.of());
        layers.add(in);
        String previous = "x";
        for (Map<String, Object> spec : List.of(
                layer("LSTM", "lstm", Map.of("units", 3, "return_sequences", true, "dropout", lstmDropout)),
                layer("BatchNormalization", "bn", Map.of("axis", -1, "epsilon", 0.001, "trainable", normTrainable)),
                layer("Dropout", "drop", Map.of("rate", dropoutRate)),
                layer("Dense", "dense", Map.of("units", 2)))) {
            String name = (String) ((Map<?, ?>) spec.get("config")).get("name");
            Map<String, Object> kwargs = new LinkedHashMap<>();
            if (name.equals(trainingOn)) {
                kwargs.put("training", training);
            }
            Map<String, Object> s = new LinkedHashMap<>(spec);
            s.put("name", name);
            s.put("inbound_nodes", List.of(List.of(List.of(previous, 0, 0, kwargs))));
            layers.add(s);
            previous = name;
        }
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "m",
                "layers", layers, "input_layers", List.of(List.of("x", 0, 0)),
                "output_layers", List.of(List.of("dense", 0, 0)))));
        RandomTensors w = new RandomTensors(5);            // the same weights in every file
        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        weights.put("lstm", new KerasFileWriter.LayerWeights().put("lstm/lstm_cell/kernel:0", w.uniform(1, 2, 12))
                .put("lstm/lstm_cell/recurrent_kernel:0", w.uniform(1, 3, 12)).put("lstm/lstm_cell/bias:0", w.uniform(1, 12)));
        weights.put("bn", new KerasFileWriter.LayerWeights().put("bn/gamma:0", w.uniform(1, 3))
                .put("bn/beta:0", w.uniform(1, 3)).put("bn/moving_mean:0", w.uniform(1, 3))
                .put("bn/moving_variance:0", Tensor.of(new float[] {0.5f, 1f, 2f}, 3)));
        weights.put("dense", new KerasFileWriter.LayerWeights().put("dense/kernel:0", w.uniform(1, 3, 2))
                .put("dense/bias:0", w.uniform(1, 2)));
        Path p = dir.resolve(file);
        KerasFileWriter.writeHdf5(p, version, config, weights);
        return p;
    }

    /**
     * Keras 2 and tf.keras predict with the training=True a call was saved with: BatchNormalization
     * then uses the batch's statistics, dropout and noise are random. Such calls are refused; calls
     * with training=False, or training=True on layers it does not change, load as inference.
     */
    @Test
    void trainingTrueCallsAreRefusedWhereTheyChangeTheOutputs() {
        assertRefused(() -> KerasModelLoader.load(trainingGraph("bn.h5", "2.6.0", 0, 0.5, "bn", true)),
                "bn.h5", "layer 'bn' (BatchNormalization)", "training=True", "statistics of each batch",
                "without training=True");
        // standalone Keras 2.3 had no such rule: its frozen BatchNormalization still takes the batch's statistics
        assertRefused(() -> KerasModelLoader.load(trainingGraph("bn_frozen_k23.h5", "2.3.1", 0, 0.5, "bn", true, false)),
                "layer 'bn' (BatchNormalization)", "statistics of each batch");
        assertRefused(() -> KerasModelLoader.load(trainingGraph("drop.h5", "2.2.4", 0, 0.5, "drop", true)),
                "layer 'drop' (Dropout)", "training=True", "rate=0.5", "random");
        assertRefused(() -> KerasModelLoader.load(trainingGraph("lstm.h5", "2.6.0", 0.25, 0.5, "lstm", 1)),
                "layer 'lstm' (LSTM)", "training=True", "dropout=0.25", "random");

        Path plain = trainingGraph("plain.h5", "2.6.0", 0.25, 0.5, null, null);
        Tensor x = random.uniform(1, 4, 5, 2);
        Tensor expected = KerasModelLoader.load(plain).model().predict(x);
        for (Path same : List.of(trainingGraph("bn_false.h5", "2.6.0", 0.25, 0.5, "bn", false),
                trainingGraph("dense_true.h5", "2.6.0", 0.25, 0.5, "dense", true),
                trainingGraph("lstm_no_dropout.h5", "2.6.0", 0, 0.5, "lstm", true),
                trainingGraph("drop_rate_0.h5", "2.6.0", 0.25, 0, "drop", true),
                trainingGraph("keras3.h5", "3.9.2", 0.25, 0.5, "bn", true),
                // tf.keras 2.3-tf+ runs a frozen BatchNormalization in inference mode whatever training says
                trainingGraph("bn_frozen.h5", "2.6.0", 0.25, 0.5, "bn", true, false),
                trainingGraph("bn_frozen_tf23.h5", "2.3.0-tf", 0.25, 0.5, "bn", true, false))) {
            dev.rnnrt.testing.Compare.assertIdentical(same.getFileName().toString(), expected,
                    KerasModelLoader.load(same).model().predict(x));
        }
    }

    /** tf.keras passes a nested model's training=True on to its layers. */
    @Test
    void trainingTrueOnANestedModelIsRefusedWhereItsLayersUseIt() {
        Map<String, Object> inner = Map.of("class_name", "Sequential", "config", Map.of("name", "inner", "layers",
                List.of(layer("InputLayer", "inner_in", Map.of("batch_input_shape", Arrays.asList(null, 5, 2))),
                        layer("GaussianNoise", "noise", Map.of("stddev", 0.1)), layer("Dense", "d", Map.of("units", 2)))));
        Map<String, Object> in = new LinkedHashMap<>(layer("InputLayer", "x", Map.of("batch_input_shape",
                Arrays.asList(null, 5, 2))));
        in.put("name", "x");
        in.put("inbound_nodes", List.of());
        Map<String, Object> nested = new LinkedHashMap<>(inner);
        nested.put("name", "inner");
        nested.put("inbound_nodes", List.of(List.of(List.of("x", 0, 0, Map.of("training", true)))));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "m",
                "layers", List.of(in, nested), "input_layers", List.of(List.of("x", 0, 0)),
                "output_layers", List.of(List.of("inner", 1, 0)))));
        Path p = dir.resolve("nested.h5");
        KerasFileWriter.writeHdf5(p, "2.8.0", config, Map.of());
        assertRefused(() -> KerasModelLoader.load(p), "layer 'inner' (Sequential)", "training=True",
                "its layer 'noise' (GaussianNoise)", "stddev=0.1", "random");
    }

    @Test
    void nonFiniteWeightsLoadWithAWarning() {
        Tensor kernel = random.uniform(1, 2, 12);
        kernel.data()[3] = Float.NaN;
        kernel.data()[5] = Float.POSITIVE_INFINITY;
        LoadedModel m = KerasModelLoader.load(lstmFile("nan.h5", null, kernel));
        assertEquals(1, m.warnings().size(), m.warnings().toString());
        assertTrue(m.warnings().get(0).contains("'lstm'") && m.warnings().get(0).contains("2 of 24"),
                m.warnings().get(0));
    }

    @Test
    void filesThatAreNotModels() throws IOException {
        Path text = dir.resolve("notes.h5");
        Files.writeString(text, "not a model");
        assertRefused(() -> KerasModelLoader.load(text), "notes.h5", "neither an HDF5 file", "zip");
        assertRefused(() -> KerasModelLoader.load(dir.resolve("missing.keras")), "missing.keras", "no such file");
        assertRefused(() -> KerasModelLoader.load(dir), "is a folder");
        Path truncated = dir.resolve("truncated.h5");
        byte[] whole = Files.readAllBytes(KerasTestFiles.path("masking_lstm_k220.h5"));
        Files.write(truncated, Arrays.copyOf(whole, whole.length / 3));
        assertRefused(() -> KerasModelLoader.load(truncated), "truncated.h5");
        Path badJson = dir.resolve("badjson.h5");
        KerasFileWriter.writeHdf5(badJson, "2.2.4", JSON.valueToTree(Map.of("class_name", "Sequential")), Map.of());
        assertRefused(() -> KerasModelLoader.load(badJson), "badjson.h5", "no layers");
    }

    @Test
    void archiveEntriesOutsideTheRootAreRefused() throws IOException {
        Path evil = dir.resolve("evil.keras");
        try (OutputStream out = Files.newOutputStream(evil); ZipOutputStream zip = new ZipOutputStream(out)) {
            KerasFileWriter.entry(zip, "config.json", "{}".getBytes(StandardCharsets.UTF_8));
            KerasFileWriter.entry(zip, "../../etc/cron.d/evil", "x".getBytes(StandardCharsets.UTF_8));
        }
        assertRefused(() -> KerasModelLoader.load(evil), "evil.keras", "'../../etc/cron.d/evil'", "outside the archive root");
        Path missing = dir.resolve("incomplete.keras");
        try (OutputStream out = Files.newOutputStream(missing); ZipOutputStream zip = new ZipOutputStream(out)) {
            KerasFileWriter.entry(zip, "metadata.json", "{}".getBytes(StandardCharsets.UTF_8));
        }
        assertRefused(() -> KerasModelLoader.load(missing), "incomplete.keras", "no config.json");
    }

    @Test
    void oversizedArchiveEntriesAreRefusedWithoutReadingThemWhole() throws IOException {
        Path big = dir.resolve("big.keras");
        byte[] chunk = new byte[1 << 20];
        Arrays.fill(chunk, (byte) ' ');
        try (OutputStream out = Files.newOutputStream(big); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new java.util.zip.ZipEntry("config.json"));
            for (long written = 0; written <= KerasArchive.MAX_JSON_BYTES; written += chunk.length) {
                zip.write(chunk);
            }
            zip.closeEntry();
        }
        assertRefused(() -> KerasModelLoader.load(big), "big.keras", "config.json", "more than");
    }
}
