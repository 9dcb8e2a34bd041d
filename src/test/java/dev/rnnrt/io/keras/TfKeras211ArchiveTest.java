package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Activation;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Embedding;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Initializer;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Masking;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tf.keras 2.11's {@code .keras} archives (keras/saving/experimental/saving_lib.py at v2.11.0):
 * metadata.json ({@code keras_version} "2.11.0"), config.json (the model wrapped as
 * {@code {"module", "class_name", "config", "registered_name"}}, its layers in Keras 2's format) and
 * variables.h5, where each object the saving met walking the model's attributes in name order has
 * {@code <attribute path>/vars/<i>}: the layers first under {@code layers/<class>[_<n>]} (a dict
 * yielded its keys there, so Functional._layer_checkpoint_dependencies held no layers), a
 * recurrent layer's own empty vars and its cell's under {@code cell}, Bidirectional's under
 * {@code backward_layer}, {@code forward_layer} and the unbuilt {@code layer}, TimeDistributed's
 * under {@code layer}, a nested model's layers under its own {@code layers}, then {@code metrics}
 * and {@code optimizer}. Each loaded model must equal the same model built in Java with the same
 * weights, bit for bit; archives in another layout are refused, saying what is wrong.
 */
class TfKeras211ArchiveTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String VERSION = "2.11.0";
    private static final int I = 4;
    private static final int H = 3;
    private static final int T = 6;

    @TempDir
    Path dir;

    private final RandomTensors random = new RandomTensors(211);

    /** Sequential Embedding(mask_zero) -> LSTM -> Dense, compiled and trained (metrics, optimizer groups too). */
    @Test
    void sequentialEmbeddingLstmDense() throws IOException {
        Embedding emb = Embedding.of("embedding", 9, I, true, Initializer.zeros());
        Tensor table = random.uniform(1, 9, I);
        emb.setWeights(List.of(table));
        Lstm lstm = Lstm.builder(H).name("lstm").build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Dense dense = Dense.builder(2).name("dense").activation("softmax").build();
        List<Tensor> dw = List.of(random.uniform(0.5, H, 2), random.uniform(0.5, 2));
        dense.setWeights(dw);
        Model java = Model.sequential("java").input(T).add(emb).add(lstm).add(dense).build();

        Map<String, Object> seq = new LinkedHashMap<>();
        seq.put("name", "sequential");
        seq.put("layers", List.of(inputLayer("embedding_input", null, T), embedding("embedding", 9, I, true, T),
                lstm("lstm", H, false), dense("dense", 2, "softmax")));
        seq.put("compile_config", compileConfig());
        seq.put("build_input_shape", shape(null, T));
        JsonNode config = model("keras", "Sequential", seq, null);

        Map<String, List<Tensor>> groups = new LinkedHashMap<>();
        groups.put("layers/dense", dw);
        groups.put("layers/embedding", List.of(table));
        groups.put("layers/lstm", List.of());                       // the LSTM's own vars: none
        groups.put("layers/lstm/cell", lw);
        groups.put("metrics/mean", List.of(scalar(3), scalar(12)));
        groups.put("metrics/mean_metric_wrapper", List.of(scalar(7), scalar(12)));
        groups.put("optimizer", List.of(random.uniform(1, 9, I), random.uniform(1, 9, I)));
        Path file = dir.resolve("seq_2_11.keras");
        KerasFileWriter.writeTfKeras211(file, VERSION, config, groups, Map.of("optimizer", 12L));

        LoadedModel loaded = KerasModelLoader.load(file);
        assertEquals("tf.keras 2.11 archive", loaded.format());
        assertEquals(VERSION, loaded.kerasVersion());
        assertTrue(loaded.warnings().isEmpty(), loaded.warnings().toString());
        Tensor ids = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 0, 0, 2, 8, 6, 1}, 2, T);
        Compare.assertIdentical("tf.keras 2.11 Embedding -> LSTM -> Dense", java.predict(ids),
                loaded.model().predict(ids));
    }

    /**
     * Functional Input -> Masking -> Bidirectional(GRU) -> Dense -> Dense: the directions under
     * backward_layer and forward_layer (the unbuilt copy under layer has empty groups), the second
     * Dense keyed dense_1 whatever its name. 2.11's GRU.get_config always records reset_after; a
     * config without it (which rnnrt reads as a file from before Keras 2.3: False) next to reset_after
     * weights is refused, not run with the wrong gates.
     */
    @Test
    void functionalBidirectionalGru() throws IOException {
        Gru gru = Gru.builder(H).name("gru").resetAfter(true).build();
        Bidirectional bi = Bidirectional.of("bidirectional", gru, Bidirectional.MergeMode.CONCAT, null);
        List<Tensor> fw = randomWeights(bi.forwardLayer(), I);
        List<Tensor> bw = randomWeights(bi.backwardLayer(), I);
        bi.forwardLayer().setWeights(fw);
        bi.backwardLayer().setWeights(bw);
        Dense hidden = Dense.builder(5).name("hidden").activation("relu").build();
        List<Tensor> hw = List.of(random.uniform(0.5, 2 * H, 5), random.uniform(0.5, 5));
        hidden.setWeights(hw);
        Dense out = Dense.builder(2).name("out").build();
        List<Tensor> ow = List.of(random.uniform(0.5, 5, 2), random.uniform(0.5, 2));
        out.setWeights(ow);
        Model java = Model.functional("java").input("input_1", -1, I).add(Masking.of("masking", 0.0), "input_1")
                .add(bi, "masking").add(hidden, "bidirectional").add(out, "hidden").outputs("out").build();

        Map<String, Object> gruCfg = gru("gru", H, false);
        Map<String, Object> biCfg = base("bidirectional");
        biCfg.put("layer", Map.of("class_name", "GRU", "config", gruCfg));
        biCfg.put("merge_mode", "concat");
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", "model");
        fn.put("layers", List.of(
                node(inputLayer("input_1", null, null, I)),
                node(layer("Masking", masking("masking")), "input_1"),
                node(layer("Bidirectional", biCfg), "masking"),
                node(dense("hidden", 5, "relu"), "bidirectional"),
                node(dense("out", 2, "linear"), "hidden")));
        fn.put("input_layers", List.of(List.of("input_1", 0, 0)));
        fn.put("output_layers", List.of(List.of("out", 0, 0)));
        fn.put("build_input_shape", shape(null, null, I));
        JsonNode config = model("keras.engine.functional", "Functional", fn, "Functional");

        Map<String, List<Tensor>> groups = new LinkedHashMap<>();
        groups.put("layers/bidirectional", List.of());
        groups.put("layers/bidirectional/backward_layer", List.of());
        groups.put("layers/bidirectional/backward_layer/cell", bw);
        groups.put("layers/bidirectional/forward_layer", List.of());
        groups.put("layers/bidirectional/forward_layer/cell", fw);
        groups.put("layers/bidirectional/layer", List.of());
        groups.put("layers/bidirectional/layer/cell", List.of());
        groups.put("layers/dense", hw);
        groups.put("layers/dense_1", ow);
        groups.put("layers/input_layer", List.of());
        groups.put("layers/masking", List.of());
        Path file = dir.resolve("bigru_2_11.keras");
        KerasFileWriter.writeTfKeras211(file, VERSION, config, groups, Map.of());

        LoadedModel loaded = KerasModelLoader.load(file);
        assertTrue(loaded.warnings().isEmpty(), loaded.warnings().toString());
        Tensor x = paddedInput();
        Compare.assertIdentical("tf.keras 2.11 Masking -> Bidirectional(GRU) -> Dense -> Dense", java.predict(x),
                loaded.model().predict(x));

        gruCfg.remove("reset_after");
        Path edited = dir.resolve("bigru_no_reset_after.keras");
        KerasFileWriter.writeTfKeras211(edited, VERSION, model("keras.engine.functional", "Functional", fn,
                "Functional"), groups, Map.of());
        String msg = assertThrows(ModelLoadException.class, () -> KerasModelLoader.load(edited)).getMessage();
        assertTrue(msg.contains("layer 'bidirectional'") && msg.contains("bias") && msg.contains("[2, 9]"), msg);

        // the rules 2.11 follows where versions differ are tf.keras 2's
        KerasVersion v = KerasVersion.parse(VERSION);
        assertTrue(v.gruResetAfterDefault());
        assertEquals(Activation.HARD_SIGMOID_KERAS2, v.hardSigmoid());
        assertTrue(!v.maskedStepsOutputState() && v.bidirectionalZeroesMaskedOutputs() && v.dropsUnusedMasks());
    }

    /**
     * Stacked LSTMs with a Dropout between them and a TimeDistributed Dense: keys lstm, dropout,
     * lstm_1, time_distributed/layer; then the same LSTMs in a nested Sequential, whose layers' groups
     * lie under its own layers group (layers/sequential/layers/lstm/cell).
     */
    @Test
    void stackedLstmsTimeDistributedAndNested() throws IOException {
        Lstm first = Lstm.builder(H).name("lstm").returnSequences(true).build();
        List<Tensor> w1 = randomWeights(first, I);
        first.setWeights(w1);
        Lstm second = Lstm.builder(5).name("lstm_1").returnSequences(true).build();
        List<Tensor> w2 = randomWeights(second, H);
        second.setWeights(w2);
        Dense dense = Dense.builder(2).name("dense").build();
        List<Tensor> dw = List.of(random.uniform(0.5, 5, 2), random.uniform(0.5, 2));
        dense.setWeights(dw);
        Model java = Model.sequential("java").input(-1, I).add(Masking.of("masking", 0.0)).add(first).add(second)
                .add(TimeDistributed.of("time_distributed", dense)).build();

        Map<String, Object> td = base("time_distributed");
        td.put("layer", dense("dense", 2, "linear"));
        List<Object> layers = List.of(inputLayer("masking_input", null, null, I), layer("Masking", masking("masking")),
                lstm("lstm", H, true), layer("Dropout", dropout("dropout")), lstm("lstm_1", 5, true),
                layer("TimeDistributed", td));
        Map<String, Object> seq = new LinkedHashMap<>();
        seq.put("name", "sequential");
        seq.put("layers", layers);
        seq.put("build_input_shape", shape(null, null, I));
        Map<String, List<Tensor>> groups = new LinkedHashMap<>();
        groups.put("layers/dropout", List.of());
        groups.put("layers/lstm", List.of());
        groups.put("layers/lstm/cell", w1);
        groups.put("layers/lstm_1", List.of());
        groups.put("layers/lstm_1/cell", w2);
        groups.put("layers/masking", List.of());
        groups.put("layers/time_distributed", List.of());
        groups.put("layers/time_distributed/layer", dw);
        Path file = dir.resolve("stacked_2_11.keras");
        KerasFileWriter.writeTfKeras211(file, VERSION, model("keras", "Sequential", seq, null), groups, Map.of());
        Tensor x = paddedInput();
        LoadedModel loaded = KerasModelLoader.load(file);
        assertTrue(loaded.warnings().isEmpty(), loaded.warnings().toString());
        Compare.assertIdentical("tf.keras 2.11 LSTM -> Dropout -> LSTM -> TimeDistributed(Dense)", java.predict(x),
                loaded.model().predict(x));

        // Functional: Input -> Sequential(Masking, LSTM, Dropout, LSTM) -> TimeDistributed(Dense)
        Map<String, Object> inner = new LinkedHashMap<>(seq);
        inner.put("layers", layers.subList(0, 5));
        Map<String, Object> nestedSpec = new LinkedHashMap<>(Map.of("class_name", "Sequential", "config", inner));
        Map<String, Object> fn = new LinkedHashMap<>();
        fn.put("name", "model");
        fn.put("layers", List.of(node(inputLayer("input_1", null, null, I)), node(nestedSpec, "input_1"),
                node(layer("TimeDistributed", td), "sequential", 1)));
        fn.put("input_layers", List.of(List.of("input_1", 0, 0)));
        fn.put("output_layers", List.of(List.of("time_distributed", 0, 0)));
        Map<String, List<Tensor>> nested = new LinkedHashMap<>();
        nested.put("layers/input_layer", List.of());
        groups.forEach((k, v) -> nested.put(k.startsWith("layers/time_distributed") ? k
                : "layers/sequential/" + k, v));
        nested.put("layers/sequential", List.of());
        Path nestedFile = dir.resolve("nested_2_11.keras");
        KerasFileWriter.writeTfKeras211(nestedFile, VERSION, model("keras.engine.functional", "Functional", fn,
                "Functional"), nested, Map.of());
        LoadedModel loadedNested = KerasModelLoader.load(nestedFile);
        assertTrue(loadedNested.warnings().isEmpty(), loadedNested.warnings().toString());
        Compare.assertIdentical("tf.keras 2.11 nested Sequential", java.predict(x), loadedNested.model().predict(x));
    }

    /**
     * A frozen TimeDistributed around a model, inside a nested model: 2.11 keeps each layer's weights in
     * its own group (layers/sequential/layers/time_distributed/layer/layers/dense), whatever the layer's
     * trainable flag, so the model loads as the same model with the layer trainable does. (Only Keras 2's
     * HDF5, which lists a nested model's weights as one list ordered by trainability, cannot be split.)
     */
    @Test
    void frozenTimeDistributedModelInNestedModel() throws IOException {
        Dense dense = Dense.builder(2).name("dense").build();
        List<Tensor> dw = List.of(random.uniform(0.5, I, 2), random.uniform(0.5, 2));
        dense.setWeights(dw);
        Model java = Model.sequential("java").input(-1, I).add(TimeDistributed.of("time_distributed", dense)).build();

        // (the models' and the TimeDistributed's own empty vars groups left out: jhdf does not read back
        // an empty group it wrote beside these)
        Map<String, List<Tensor>> groups = Map.of("layers/sequential/layers/time_distributed/layer/layers/dense", dw);
        Tensor x = paddedInput();
        List<LoadedModel> loaded = new ArrayList<>();
        for (boolean trainable : new boolean[] {true, false}) {
            Path file = dir.resolve("frozen_td_" + trainable + ".keras");
            KerasFileWriter.writeTfKeras211(file, VERSION, timeDistributedModelInNestedModel(trainable), groups, Map.of());
            loaded.add(KerasModelLoader.load(file));
        }
        Compare.assertIdentical("tf.keras 2.11 TimeDistributed(Sequential(Dense)) in a nested Sequential",
                java.predict(x), loaded.get(0).model().predict(x));
        Compare.assertIdentical("the same, the TimeDistributed frozen", java.predict(x), loaded.get(1).model().predict(x));
    }

    /**
     * The same model in tf.keras 2.12-2.14 archives: model.weights.h5 keeps each layer's weights in its
     * own group too, below _layer_checkpoint_dependencies at each level
     * (_layer_checkpoint_dependencies/sequential/_layer_checkpoint_dependencies/time_distributed/layer/
     * _layer_checkpoint_dependencies/dense), so the frozen TimeDistributed loads as the trainable one does.
     */
    @Test
    void frozenTimeDistributedModelInNestedModelTfKeras212To214() throws IOException {
        Dense dense = Dense.builder(2).name("dense").build();
        List<Tensor> dw = List.of(random.uniform(0.5, I, 2), random.uniform(0.5, 2));
        dense.setWeights(dw);
        Model java = Model.sequential("java").input(-1, I).add(TimeDistributed.of("time_distributed", dense)).build();

        String deps = "_layer_checkpoint_dependencies";
        Map<String, List<Tensor>> weights = Map.of(
                "sequential/" + deps + "/time_distributed/layer/" + deps + "/dense", dw);
        Tensor x = paddedInput();
        for (String version : List.of("2.12.0", "2.13.1", "2.14.0")) {
            for (boolean trainable : new boolean[] {true, false}) {
                Path file = dir.resolve("frozen_td_" + version + "_" + trainable + ".keras");
                KerasFileWriter.writeKeras(file, version, timeDistributedModelInNestedModel(trainable), weights,
                        Map.of(), deps);
                LoadedModel loaded = KerasModelLoader.load(file);
                assertEquals(version, loaded.kerasVersion());
                Compare.assertIdentical("tf.keras " + version + " TimeDistributed(Sequential(Dense)) in a nested "
                        + "Sequential, trainable=" + trainable, java.predict(x), loaded.model().predict(x));
            }
        }
    }

    /**
     * Sequential(InputLayer, Sequential(InputLayer, TimeDistributed(Sequential(InputLayer, Dense))))
     * as tf.keras 2 configs it, the TimeDistributed's trainable flag as given.
     */
    private static JsonNode timeDistributedModelInNestedModel(boolean trainable) {
        Map<String, Object> innerModel = new LinkedHashMap<>();
        innerModel.put("name", "sequential_2");
        innerModel.put("layers", List.of(inputLayer("dense_input", null, I), dense("dense", 2, "linear")));
        Map<String, Object> td = base("time_distributed");
        td.put("trainable", trainable);
        td.put("layer", Map.of("class_name", "Sequential", "config", innerModel));
        Map<String, Object> middle = new LinkedHashMap<>();
        middle.put("name", "sequential_1");
        middle.put("layers", List.of(inputLayer("time_distributed_input", null, null, I), layer("TimeDistributed", td)));
        Map<String, Object> seq = new LinkedHashMap<>();
        seq.put("name", "sequential");
        seq.put("layers", List.of(inputLayer("sequential_1_input", null, null, I), layer("Sequential", middle)));
        return model("keras", "Sequential", seq, null);
    }

    /**
     * 2.11 wrote no "name" beside a layer's weights, so a name attribute on a vars group of
     * variables.h5 is not trusted: the groups are matched to layers by their keys (class and place)
     * alone. Here the first Dense's group (dense) carries the second Dense's name, which, trusted,
     * would hand that group's weights to both layers.
     */
    @Test
    void nameAttributesInVariablesAreIgnored() throws IOException {
        Lstm lstm = Lstm.builder(H).name("lstm").build();
        List<Tensor> lw = randomWeights(lstm, I);
        lstm.setWeights(lw);
        Dense hidden = Dense.builder(H).name("hidden").activation("tanh").build();
        List<Tensor> hw = List.of(random.uniform(0.5, H, H), random.uniform(0.5, H));
        hidden.setWeights(hw);
        Dense out = Dense.builder(H).name("out").build();
        List<Tensor> ow = List.of(random.uniform(0.5, H, H), random.uniform(0.5, H));
        out.setWeights(ow);
        Model java = Model.sequential("java").input(-1, I).add(lstm).add(hidden).add(out).build();

        Map<String, Object> seq = new LinkedHashMap<>();
        seq.put("name", "sequential");
        seq.put("layers", List.of(inputLayer("lstm_input", null, null, I), lstm("lstm", H, false),
                dense("hidden", H, "tanh"), dense("out", H, "linear")));
        Map<String, List<Tensor>> groups = new LinkedHashMap<>();
        groups.put("layers/dense", hw);
        groups.put("layers/dense_1", ow);
        groups.put("layers/lstm/cell", lw);
        Path file = dir.resolve("misnamed_2_11.keras");
        KerasFileWriter.writeTfKeras211(file, VERSION, model("keras", "Sequential", seq, null), groups, Map.of(),
                Map.of("layers/dense", "out"));
        LoadedModel loaded = KerasModelLoader.load(file);
        Tensor x = paddedInput();
        Compare.assertIdentical("tf.keras 2.11 with a misleading name attribute", java.predict(x),
                loaded.model().predict(x));
    }

    /** Archives that are not laid out as tf.keras 2.11 wrote them are refused, saying what is wrong. */
    @Test
    void wronglyLaidOutArchivesAreRefused() throws IOException {
        Lstm lstm = Lstm.builder(H).name("lstm").build();
        List<Tensor> lw = randomWeights(lstm, I);
        Lstm lstm1 = Lstm.builder(H).name("lstm_1").build();
        List<Tensor> lw1 = randomWeights(lstm1, H);
        List<Tensor> dw = List.of(random.uniform(0.5, H, 2), random.uniform(0.5, 2));
        Map<String, Object> seq = new LinkedHashMap<>();
        seq.put("name", "sequential");
        seq.put("layers", List.of(inputLayer("lstm_input", null, null, I), lstm("lstm", H, true), lstm("lstm_1", H, false),
                dense("dense", 2, "linear")));
        JsonNode config = model("keras", "Sequential", seq, null);
        Map<String, List<Tensor>> good = new LinkedHashMap<>();
        good.put("layers/lstm/cell", lw);
        good.put("layers/lstm_1/cell", lw1);
        good.put("layers/dense", dw);
        Path ok = dir.resolve("ok.keras");
        KerasFileWriter.writeTfKeras211(ok, VERSION, config, good, Map.of());
        KerasModelLoader.load(ok);

        // the groups under _layer_checkpoint_dependencies (tf.keras 2.12-2.14's place, in model.weights.h5)
        Map<String, List<Tensor>> later = new LinkedHashMap<>();
        good.forEach((k, v) -> later.put(k.replace("layers/", "_layer_checkpoint_dependencies/"), v));
        String msg = refused("later.keras", VERSION, config, later);
        assertTrue(msg.contains("variables.h5 has no 'layers' group") && msg.contains("_layer_checkpoint_dependencies")
                && msg.contains("2.12-2.14"), msg);

        // no layers group at all
        msg = refused("none.keras", VERSION, config, Map.of("weights/lstm", lw));
        assertTrue(msg.contains("no 'layers' group") && msg.contains("[weights]"), msg);

        // variables.h5 with another version in metadata.json, or none
        for (String version : new String[] {"2.12.0", "3.0.0", "2.10.0", null}) {
            msg = refused("v" + version + ".keras", version, config, good);
            assertTrue(msg.contains("variables.h5") && msg.contains("2.11") && (version == null
                    ? msg.contains("no metadata.json") : msg.contains("keras_version '" + version + "'")), msg);
        }

        // the second LSTM keyed as tf.keras 2.12-2.13 counted it (lstm_2): no group where 2.11 keeps it
        Map<String, List<Tensor>> twice = new LinkedHashMap<>(good);
        twice.remove("layers/lstm_1/cell");
        twice.put("layers/lstm_2/cell", lw1);
        msg = refused("twice.keras", VERSION, config, twice);
        assertTrue(msg.contains("layer 'lstm_1' (LSTM)") && msg.contains("no group lstm_1 below layers")
                && msg.contains("lstm_2") && msg.contains("tf.keras 2.11 keys"), msg);

        // an LSTM cell missing its bias
        Map<String, List<Tensor>> short2 = new LinkedHashMap<>(good);
        short2.put("layers/lstm/cell", lw.subList(0, 2));
        msg = refused("short.keras", VERSION, config, short2);
        assertTrue(msg.contains("layer 'lstm' (LSTM)"), msg);

        // both weights files: which one is the model's is not clear
        Path both = dir.resolve("both.keras");
        try (OutputStream out = Files.newOutputStream(both); ZipOutputStream zip = new ZipOutputStream(out)) {
            KerasFileWriter.entry(zip, "metadata.json", ("{\"keras_version\": \"" + VERSION + "\"}")
                    .getBytes(StandardCharsets.UTF_8));
            KerasFileWriter.entry(zip, "config.json", config.toString().getBytes(StandardCharsets.UTF_8));
            byte[] h5 = KerasFileWriter.tfKeras211Variables(good, Map.of());
            KerasFileWriter.entry(zip, "variables.h5", h5);
            KerasFileWriter.entry(zip, "model.weights.h5", h5);
        }
        msg = assertThrows(ModelLoadException.class, () -> KerasModelLoader.load(both)).getMessage();
        assertTrue(msg.contains("both model.weights.h5") && msg.contains("variables.h5"), msg);
    }

    // ---- helpers -------------------------------------------------------------------------------

    private String refused(String name, String version, JsonNode config, Map<String, List<Tensor>> groups)
            throws IOException {
        Path file = dir.resolve(name);
        KerasFileWriter.writeTfKeras211(file, version, config, groups, Map.of());
        return assertThrows(ModelLoadException.class, () -> KerasModelLoader.load(file)).getMessage();
    }

    private List<Tensor> randomWeights(RecurrentLayer layer, int inputSize) {
        layer.build(inputSize);
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : layer.getWeights()) {
            out.add(random.uniform(0.6, t.shape()));
        }
        return out;
    }

    /** Two sequences of T steps of I features: the first with its last two steps zero, the second its first. */
    private Tensor paddedInput() {
        Tensor x = random.uniform(1, 3, T, I);
        float[] d = x.data();
        Arrays.fill(d, 4 * I, T * I, 0f);
        Arrays.fill(d, T * I, (T + 1) * I, 0f);
        return x;
    }

    private static Tensor scalar(float v) {
        return Tensor.of(new float[] {v});
    }

    /** The archive's config.json: the model as 2.11's serialization_lib wrapped it. */
    private static JsonNode model(String module, String cls, Map<String, Object> config, String registeredName) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("module", module);
        m.put("class_name", cls);
        m.put("config", config);
        m.put("registered_name", registeredName);
        return JSON.valueToTree(m);
    }

    private static Map<String, Object> compileConfig() {
        Map<String, Object> adam = new LinkedHashMap<>();
        adam.put("name", "Adam");
        adam.put("weight_decay", null);
        adam.put("clipnorm", null);
        adam.put("global_clipnorm", null);
        adam.put("clipvalue", null);
        adam.put("use_ema", false);
        adam.put("ema_momentum", 0.99);
        adam.put("ema_overwrite_frequency", null);
        adam.put("jit_compile", true);
        adam.put("is_legacy_optimizer", false);
        adam.put("learning_rate", 0.001);
        adam.put("beta_1", 0.9);
        adam.put("beta_2", 0.999);
        adam.put("epsilon", 1e-07);
        adam.put("amsgrad", false);
        Map<String, Object> optimizer = new LinkedHashMap<>();
        optimizer.put("module", "keras.optimizers.experimental");
        optimizer.put("class_name", "Adam");
        optimizer.put("config", adam);
        optimizer.put("registered_name", null);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("optimizer", optimizer);
        c.put("loss", "sparse_categorical_crossentropy");
        c.put("metrics", List.of("accuracy"));
        c.put("loss_weights", null);
        c.put("weighted_metrics", null);
        c.put("run_eagerly", null);
        c.put("steps_per_execution", null);
        c.put("jit_compile", null);
        return c;
    }

    /** A layer in Keras 2's format, as 2.11's legacy serialization wrote each layer of a model. */
    private static Map<String, Object> layer(String cls, Map<String, Object> config) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("class_name", cls);
        m.put("config", config);
        return m;
    }

    /** A functional model's layer: its name and its one call on {@code from} (node {@code node} of it). */
    private static Map<String, Object> node(Map<String, Object> spec, String from, int node) {
        Map<String, Object> m = new LinkedHashMap<>(spec);
        Object cfg = spec.get("config");
        m.put("name", ((Map<?, ?>) cfg).get("name"));
        m.put("inbound_nodes", List.of(List.of(List.of(from, node, 0, Map.of()))));
        return m;
    }

    private static Map<String, Object> node(Map<String, Object> spec, String from) {
        return node(spec, from, 0);
    }

    private static Map<String, Object> node(Map<String, Object> spec) {
        Map<String, Object> m = new LinkedHashMap<>(spec);
        m.put("name", ((Map<?, ?>) spec.get("config")).get("name"));
        m.put("inbound_nodes", List.of());
        return m;
    }

    private static List<Object> shape(Integer... dims) {
        return Arrays.asList((Object[]) dims);
    }

    private static Map<String, Object> inputLayer(String name, Integer... batchShape) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("batch_input_shape", shape(batchShape));
        c.put("dtype", "float32");
        c.put("sparse", false);
        c.put("ragged", false);
        c.put("name", name);
        return layer("InputLayer", c);
    }

    private static Map<String, Object> base(String name) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("name", name);
        c.put("trainable", true);
        c.put("dtype", "float32");
        return c;
    }

    private static Map<String, Object> initializer(String cls, Map<String, Object> config) {
        return Map.of("class_name", cls, "config", config);
    }

    private static Map<String, Object> glorot() {
        Map<String, Object> seed = new LinkedHashMap<>();
        seed.put("seed", null);
        return initializer("GlorotUniform", seed);
    }

    private static Map<String, Object> embedding(String name, int inputDim, int outputDim, boolean maskZero, int steps) {
        Map<String, Object> c = base(name);
        c.put("batch_input_shape", shape(null, steps));
        c.put("input_dim", inputDim);
        c.put("output_dim", outputDim);
        Map<String, Object> uniform = new LinkedHashMap<>();
        uniform.put("minval", -0.05);
        uniform.put("maxval", 0.05);
        uniform.put("seed", null);
        c.put("embeddings_initializer", initializer("RandomUniform", uniform));
        c.put("embeddings_regularizer", null);
        c.put("activity_regularizer", null);
        c.put("embeddings_constraint", null);
        c.put("mask_zero", maskZero);
        c.put("input_length", null);
        return layer("Embedding", c);
    }

    private static Map<String, Object> recurrent(String name, int units, boolean returnSequences) {
        Map<String, Object> c = base(name);
        c.put("return_sequences", returnSequences);
        c.put("return_state", false);
        c.put("go_backwards", false);
        c.put("stateful", false);
        c.put("unroll", false);
        c.put("time_major", false);
        c.put("units", units);
        c.put("activation", "tanh");
        c.put("recurrent_activation", "sigmoid");
        c.put("use_bias", true);
        c.put("kernel_initializer", glorot());
        Map<String, Object> orth = new LinkedHashMap<>();
        orth.put("gain", 1.0);
        orth.put("seed", null);
        c.put("recurrent_initializer", initializer("Orthogonal", orth));
        c.put("bias_initializer", initializer("Zeros", Map.of()));
        return c;
    }

    private static void regularizersEtc(Map<String, Object> c) {
        for (String k : List.of("kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint")) {
            c.put(k, null);
        }
        c.put("dropout", 0.0);
        c.put("recurrent_dropout", 0.0);
    }

    private static Map<String, Object> lstm(String name, int units, boolean returnSequences) {
        Map<String, Object> c = recurrent(name, units, returnSequences);
        c.put("unit_forget_bias", true);
        regularizersEtc(c);
        c.put("implementation", 2);
        return layer("LSTM", c);
    }

    /** A GRU's config (not its spec): Bidirectional wraps it. */
    private static Map<String, Object> gru(String name, int units, boolean returnSequences) {
        Map<String, Object> c = recurrent(name, units, returnSequences);
        regularizersEtc(c);
        c.put("implementation", 2);
        c.put("reset_after", true);
        return c;
    }

    private static Map<String, Object> dense(String name, int units, String activation) {
        Map<String, Object> c = base(name);
        c.put("units", units);
        c.put("activation", activation);
        c.put("use_bias", true);
        c.put("kernel_initializer", glorot());
        c.put("bias_initializer", initializer("Zeros", Map.of()));
        for (String k : List.of("kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                "bias_constraint")) {
            c.put(k, null);
        }
        return layer("Dense", c);
    }

    private static Map<String, Object> masking(String name) {
        Map<String, Object> c = base(name);
        c.put("mask_value", 0.0);
        return c;
    }

    private static Map<String, Object> dropout(String name) {
        Map<String, Object> c = base(name);
        c.put("rate", 0.2);
        c.put("noise_shape", null);
        c.put("seed", null);
        return c;
    }
}
