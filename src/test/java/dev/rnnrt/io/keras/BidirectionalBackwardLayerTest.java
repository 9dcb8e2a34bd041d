package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.BidirectionalStack;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.StackingReference;
import dev.rnnrt.testing.Tolerance;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Bidirectional(RNN([cells]), backward_layer=RNN([other cells], go_backwards=True))} from
 * files as each Keras writes them, against fixtures/recurrent/stacked_cells_cases.json (the cases
 * with backward_cells, computed by make_stacked_cells_fixtures.py from the Keras loop, independently
 * of rnnrt). Keras 3 saves backward_layer for every Bidirectional (a derived one too), named
 * "backward_…", its weights under backward_layer/cell/cells/&lt;key&gt;; tf.keras saves it only when
 * given, under its own name, and Keras 2 .h5 files list the forward stack's weights, then the
 * backward's (with frozen cells: both stacks' trainable cells, then both stacks' frozen ones).
 * Masked steps come from a Masking layer: the fixture input is zeroed there (the Keras loop
 * never reads a masked step's input).
 */
class BidirectionalBackwardLayerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNode CASES = Fixtures.json("fixtures/recurrent/stacked_cells_cases.json").get("cases");
    private static final List<String> EXPLICIT = List.of("backward_layer_lstm2_gru2_concat_mask",
            "backward_layer_forward_goes_backwards_none", "backward_layer_one_cell_ave_mask");
    private static final String[] KERAS2_NAMES = {"kernel:0", "recurrent_kernel:0", "bias:0"};

    @TempDir
    Path dir;

    /** Keras 3 .keras: backward_layer named backward_rnn, weights under forward_layer/ and backward_layer/. */
    @Test
    void keras3Archives() throws IOException {
        for (String name : EXPLICIT) {
            JsonNode c = byName(name);
            Path file = dir.resolve(name + ".keras");
            KerasFileWriter.writeKeras(file, graph(c, Format.KERAS3), keras3Weights(c, "bidirectional/"));
            checkAgainstFixture(c, file, "Keras 3");
        }
    }

    /** tf.keras 2.9 .h5: backward_layer under its own name (rnn_1), the weights forward stack first. */
    @Test
    void tfKerasHdf5Files() {
        for (String name : EXPLICIT) {
            JsonNode c = byName(name);
            Path file = dir.resolve(name + ".h5");
            KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
            List<Tensor> w = weights(c);
            List<String> names = keras2WeightNames(c);
            for (int k = 0; k < w.size(); k++) {
                lw.put(names.get(k), w.get(k));
            }
            KerasFileWriter.writeHdf5(file, "2.9.0", graph(c, Format.TF_KERAS), Map.of("bidirectional", lw));
            checkAgainstFixture(c, file, "tf.keras .h5");
        }
    }

    /** tf.keras 2.13 .keras: Keras 3's groups below _layer_checkpoint_dependencies, tf.keras' config. */
    @Test
    void tfKeras213Archives() throws IOException {
        for (String name : EXPLICIT) {
            JsonNode c = byName(name);
            Path file = dir.resolve(name + "_tfk213.keras");
            KerasFileWriter.writeKeras(file, "2.13.1", graph(c, Format.TF_KERAS), keras3Weights(c, "bidirectional/"),
                    Map.of(), "_layer_checkpoint_dependencies");
            checkAgainstFixture(c, file, "tf.keras 2.13 .keras");
        }
    }

    /** tf.keras 2.11 variables.h5: the same groups below layers. */
    @Test
    void tfKeras211Archives() throws IOException {
        JsonNode c = byName(EXPLICIT.get(0));
        // (tf.keras also wrote empty vars groups for the Bidirectional, each RNN, StackedRNNCells and the
        // unbuilt copy under layer/, which jhdf's writer cannot write here and read back)
        Map<String, List<Tensor>> groups = new LinkedHashMap<>(keras3Weights(c, "layers/bidirectional/"));
        Path file = dir.resolve("tfk211.keras");
        KerasFileWriter.writeTfKeras211(file, "2.11.0", graph(c, Format.TF_KERAS), groups, Map.of());
        checkAgainstFixture(c, file, "tf.keras 2.11 .keras");
    }

    /**
     * What Keras 3 writes for every Bidirectional around stacked cells, without a backward_layer
     * given: the forward layer as "layer" named forward_rnn, its derived copy as backward_layer
     * (the same cells, go_backwards=True) named backward_rnn. The numbers are the fixtures' (the
     * backward stack with weights of its own); the layers get Keras 3's names, as its
     * Bidirectional.__init__ gives them: "forward_" + the name without a "forward_" prefix, the
     * backward_layer its own (not forward_forward_rnn and backward_backward_rnn).
     */
    @Test
    void keras3DerivedBackwardLayersAndTheirNames() throws IOException {
        for (String name : List.of("bidirectional_mixed_mask", "bidirectional_grus_none")) {
            JsonNode c = byName(name);
            Path file = dir.resolve(name + ".keras");
            KerasFileWriter.writeKeras(file, graph(c, Format.KERAS3), keras3Weights(c, "bidirectional/"));
            checkAgainstFixture(c, file, "Keras 3, derived backward_layer");
            assertDirectionNames(file, "forward_rnn", "backward_rnn");
        }
        // tf.keras saves the layers as given (rnn, rnn_1) and names those it runs with the prefixes
        JsonNode c = byName(EXPLICIT.get(0));
        Path h5 = dir.resolve("names.h5");
        KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
        List<Tensor> w = weights(c);
        List<String> names = keras2WeightNames(c);
        for (int k = 0; k < w.size(); k++) {
            lw.put(names.get(k), w.get(k));
        }
        KerasFileWriter.writeHdf5(h5, "2.9.0", graph(c, Format.TF_KERAS), Map.of("bidirectional", lw));
        assertDirectionNames(h5, "forward_rnn", "backward_rnn_1");

        // Bidirectional(LSTM) as Keras 3 saves it: layer forward_lstm, backward_layer backward_lstm
        Map<String, Object> lstm = new LinkedHashMap<>();
        lstm.put("units", 2);
        lstm.put("return_sequences", true);
        Map<String, Object> fw = new LinkedHashMap<>(lstm);
        fw.put("go_backwards", false);
        Map<String, Object> bw = new LinkedHashMap<>(lstm);
        bw.put("go_backwards", true);
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("merge_mode", "concat");
        cfg.put("layer", spec("LSTM", "forward_lstm", fw, Format.KERAS3));
        cfg.put("backward_layer", spec("LSTM", "backward_lstm", bw, Format.KERAS3));
        Map<String, Object> bi = new LinkedHashMap<>(spec("Bidirectional", "bidirectional", cfg, Format.KERAS3));
        bi.put("name", "bidirectional");
        bi.put("inbound_nodes", List.of(node("x", Format.KERAS3)));
        Map<String, Object> input = new LinkedHashMap<>(spec("InputLayer", "x",
                Map.of("batch_shape", nullFirst(-1, 3)), Format.KERAS3));
        input.put("name", "x");
        input.put("inbound_nodes", List.of());
        JsonNode graph = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "m",
                "layers", List.of(input, bi), "input_layers", List.of(List.of("x", 0, 0)),
                "output_layers", List.of(List.of("bidirectional", 0, 0)))));
        dev.rnnrt.testing.RandomTensors r = new dev.rnnrt.testing.RandomTensors(808L);
        Map<String, List<Tensor>> lw3 = new LinkedHashMap<>();
        for (String d : new String[] {"forward_layer", "backward_layer"}) {
            lw3.put("bidirectional/" + d + "/cell", List.of(r.uniform(0.5, 3, 8), r.uniform(0.5, 2, 8),
                    r.uniform(0.5, 8)));
        }
        Path plain = dir.resolve("plain.keras");
        KerasFileWriter.writeKeras(plain, graph, lw3);
        dev.rnnrt.layers.Bidirectional b = null;
        for (dev.rnnrt.layers.Layer l : KerasModelLoader.load(plain).model().layers()) {
            b = l instanceof dev.rnnrt.layers.Bidirectional x ? x : b;
        }
        assertEquals("forward_lstm", b.forwardLayer().name(), "Bidirectional(LSTM): the forward layer's name");
        assertEquals("backward_lstm", b.backwardLayer().name(), "Bidirectional(LSTM): the backward layer's name");
    }

    private static void assertDirectionNames(Path file, String forward, String backward) {
        BidirectionalStack b = null;
        for (dev.rnnrt.layers.Layer l : KerasModelLoader.load(file).model().layers()) {
            b = l instanceof BidirectionalStack s ? s : b;
        }
        assertEquals(forward, b.forwardLayer().name(), file.getFileName() + ": the forward stack's name");
        assertEquals(backward, b.backwardLayer().name(), file.getFileName() + ": the backward stack's name");
        assertEquals(forward + "/" + b.forwardLayer().cells().get(0).name().substring(forward.length() + 1),
                b.forwardLayer().cells().get(0).name(), "its cells are named below it");
    }

    /**
     * Frozen cells, each stack its own (the forward stack's first cell, the backward stack's second):
     * a trainable layer lists both stacks' trainable cells, then both stacks' frozen cells.
     */
    @Test
    void eachStackFreezesItsOwnCells() {
        JsonNode c = byName("backward_layer_lstm2_gru2_concat_mask");
        ObjectWithFrozen frozen = new ObjectWithFrozen(new boolean[] {true, false}, new boolean[] {false, true});
        List<Tensor> w = weights(c);
        List<String> names = keras2WeightNames(c);
        // forward: cells 0 (frozen), 1; backward: cells 0, 1 (frozen); each cell 3 arrays
        int[] order = {1, 2, 0, 3};                          // fwd cell 1, bwd cell 0, then fwd cell 0, bwd cell 1
        KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
        for (int cell : order) {
            for (int j = 0; j < 3; j++) {
                lw.put(names.get(3 * cell + j), w.get(3 * cell + j));
            }
        }
        Path file = dir.resolve("frozen.h5");
        KerasFileWriter.writeHdf5(file, "2.9.0", graph(c, Format.TF_KERAS, frozen), Map.of("bidirectional", lw));
        checkAgainstFixture(c, file, "frozen cells per stack");

        // the same in a nested model before a Dense (return_state off): the nested model's list is every
        // trainable weight of its layers, then every frozen one, split among the layers by their counts
        JsonNode seq = c.get("expected").get(0);
        int[] shape = Fixtures.shape(seq);                                    // [B, T, F]
        int f = shape[2];
        double[] kernel = new double[f];
        for (int k = 0; k < f; k++) {
            kernel[k] = 0.45 * Math.sin(1.7 * k + 0.3);                       // distinct, signed
        }
        Tensor dk = Tensor.of(kernel, f, 1);
        Tensor db = Tensor.of(new double[] {0.05}, 1);
        KerasFileWriter.LayerWeights nested = new KerasFileWriter.LayerWeights();
        for (int cell : new int[] {1, 2}) {
            for (int j = 0; j < 3; j++) {
                nested.put(names.get(3 * cell + j), w.get(3 * cell + j));
            }
        }
        nested.put("dense/kernel:0", dk).put("dense/bias:0", db);
        for (int cell : new int[] {0, 3}) {
            for (int j = 0; j < 3; j++) {
                nested.put(names.get(3 * cell + j), w.get(3 * cell + j));
            }
        }
        com.fasterxml.jackson.databind.node.ObjectNode bi = JSON.valueToTree(bidirectional(c, Format.TF_KERAS, frozen));
        ((com.fasterxml.jackson.databind.node.ObjectNode) bi.at("/config/layer/config")).put("return_state", false);
        ((com.fasterxml.jackson.databind.node.ObjectNode) bi.at("/config/backward_layer/config")).put("return_state",
                false);
        Map<String, Object> inner = spec("Sequential", "inner", Map.of("layers", List.of(
                spec("InputLayer", "x", Map.of("batch_input_shape", nullFirst(-1, Fixtures.shape(c.get("input"))[2])),
                        Format.TF_KERAS),
                spec("Masking", "masking", Map.of("mask_value", 0.0), Format.TF_KERAS), bi,
                spec("Dense", "dense", Map.of("units", 1, "activation", "linear", "use_bias", true),
                        Format.TF_KERAS))), Format.TF_KERAS);
        JsonNode outer = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "outer",
                "layers", List.of(inner))));
        Path nestedFile = dir.resolve("frozen_nested.h5");
        KerasFileWriter.writeHdf5(nestedFile, "2.9.0", outer, Map.of("inner", nested));
        Tensor got = KerasModelLoader.load(nestedFile).model().predict(maskedInput(c));
        double[] e = Fixtures.doubles(seq);
        double[] want = new double[shape[0] * shape[1]];
        for (int i = 0; i < want.length; i++) {
            double v = db.data()[0];
            for (int k = 0; k < f; k++) {
                v += e[i * f + k] * kernel[k];
            }
            want[i] = v;
        }
        Compare.assertClose("frozen cells per stack, nested model", new int[] {shape[0], shape[1], 1}, want, got,
                Tolerance.FP32);
    }

    /**
     * The forward RNN itself frozen (RNN(cells, trainable=False): its cells' configs stay
     * trainable): tf.keras lists none of its weights as trainable, so a trainable Bidirectional
     * saves the backward stack's weights first, then the forward stack's.
     */
    @Test
    void aFrozenForwardRnnComesAfterTheBackwardStack() {
        JsonNode c = byName("backward_layer_lstm2_gru2_concat_mask");
        List<Tensor> w = weights(c);
        List<String> names = keras2WeightNames(c);
        KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
        for (int cell : new int[] {2, 3, 0, 1}) {                // backward cells, then the forward ones
            for (int j = 0; j < 3; j++) {
                lw.put(names.get(3 * cell + j), w.get(3 * cell + j));
            }
        }
        JsonNode g = graph(c, Format.TF_KERAS);
        ((com.fasterxml.jackson.databind.node.ObjectNode) g.at("/config/layers/2/config/layer/config"))
                .put("trainable", false);
        Path file = dir.resolve("frozen_forward_rnn.h5");
        KerasFileWriter.writeHdf5(file, "2.9.0", g, Map.of("bidirectional", lw));
        checkAgainstFixture(c, file, "forward RNN frozen");
    }

    /** Keras' checks on backward_layer, and what rnnrt refuses, each with the layer and the reason. */
    @Test
    void badBackwardLayersAreRefusedWithTheReason() {
        JsonNode c = byName("backward_layer_lstm2_gru2_concat_mask");
        refused(c, "same_direction", bw -> bw.put("go_backwards", false), "must have go_backwards=True");
        refused(c, "return_sequences", bw -> bw.put("return_sequences", false),
                "same return_sequences, return_state and stateful");
        refused(c, "return_state", bw -> bw.put("return_state", false),
                "same return_sequences, return_state and stateful");
        // sum needs equal widths: the forward stack ends with 4 units, the backward one with 2
        ObjectWithMode sum = new ObjectWithMode("sum");
        Path file = dir.resolve("sum.keras");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> {
            KerasFileWriter.writeKeras(file, graph(c, Format.KERAS3, null, sum), keras3Weights(c, "bidirectional/"));
            KerasModelLoader.load(file);
        });
        assertTrue(e.getMessage().contains("layer 'bidirectional' (Bidirectional)") && e.getMessage().contains("(4); got 2"),
                e.getMessage());
        // a stack with a backward LSTM layer: refused, saying what to do
        Map<String, Object> lstm = new LinkedHashMap<>();
        lstm.put("name", "backward_lstm");
        lstm.put("units", 2);
        lstm.put("return_sequences", true);
        lstm.put("return_state", true);
        lstm.put("go_backwards", true);
        Path mixed = dir.resolve("mixed.keras");
        ModelLoadException m = assertThrows(ModelLoadException.class, () -> {
            JsonNode g = graph(c, Format.KERAS3);
            ((com.fasterxml.jackson.databind.node.ObjectNode) g.at("/config/layers/2/config")).set("backward_layer",
                    JSON.valueToTree(Map.of("class_name", "LSTM", "config", lstm)));
            KerasFileWriter.writeKeras(mixed, g, keras3Weights(c, "bidirectional/"));
            KerasModelLoader.load(mixed);
        });
        assertTrue(m.getMessage().contains("backward_layer is Layer 'backward_lstm' (LSTM")
                && m.getMessage().contains("RNN of cells"), m.getMessage());
    }

    private void refused(JsonNode c, String name, java.util.function.Consumer<Map<String, Object>> change,
                         String expected) {
        Path file = dir.resolve(name + ".keras");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> {
            KerasFileWriter.writeKeras(file, graph(c, Format.KERAS3, null, null, change), keras3Weights(c, "bidirectional/"));
            KerasModelLoader.load(file);
        }, name);
        assertTrue(e.getMessage().contains("layer 'bidirectional' (Bidirectional)") && e.getMessage().contains(expected),
                name + ": " + e.getMessage());
    }

    // ---- the fixture case as a Keras file ----

    private enum Format { KERAS3, TF_KERAS }

    /** Frozen cells per direction (null: none). */
    private record ObjectWithFrozen(boolean[] forward, boolean[] backward) {
    }

    /** Another merge_mode than the case's. */
    private record ObjectWithMode(String mode) {
    }

    private static JsonNode byName(String name) {
        for (JsonNode c : CASES) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new IllegalStateException("no fixture case " + name);
    }

    /** The case's input with its masked steps zeroed, so that Masking(0.0) gives the case's mask. */
    private static Tensor maskedInput(JsonNode c) {
        Tensor x = Fixtures.tensor(c.get("input"));
        JsonNode mask = c.get("mask");
        if (mask.isNull()) {
            return x;
        }
        float[] v = x.data().clone();
        int steps = x.dim(1);
        int features = x.dim(2);
        for (int b = 0; b < x.dim(0); b++) {
            for (int t = 0; t < steps; t++) {
                if (!mask.get(b).get(t).asBoolean()) {
                    java.util.Arrays.fill(v, (b * steps + t) * features, (b * steps + t + 1) * features, 0f);
                }
            }
        }
        return Tensor.wrap(v, x.shape());
    }

    private static void checkAgainstFixture(JsonNode c, Path file, String what) {
        for (RecurrentBackend backend : new RecurrentBackend[] {RecurrentReference.INSTANCE, RecurrentCpu.INSTANCE,
                new StackingReference()}) {
            Model model = KerasModelLoader.load(file, backend).model();
            List<Tensor> got = model.predict(List.of(maskedInput(c)));
            JsonNode expected = c.get("expected");
            assertEquals(expected.size(), got.size(), what + ", " + c.get("name").asText() + ": outputs");
            for (int k = 0; k < got.size(); k++) {
                Compare.assertClose(what + ", " + c.get("name").asText() + " output " + k + " on " + backend.name(),
                        Fixtures.shape(expected.get(k)), Fixtures.doubles(expected.get(k)), got.get(k), Tolerance.FP32);
            }
        }
    }

    /** Every cell's weights, forward stack then backward, in Keras order. */
    private static List<Tensor> weights(JsonNode c) {
        List<Tensor> out = new ArrayList<>();
        for (JsonNode cw : c.get("weights")) {
            out.add(Fixtures.tensor(cw.get("kernel")));
            out.add(Fixtures.tensor(cw.get("recurrent_kernel")));
            out.add(Fixtures.tensor(cw.get("bias")));
        }
        return out;
    }

    /** Keras 3's groups: &lt;prefix&gt;forward_layer/cell/cells/&lt;key&gt;, the key counted per class in each stack. */
    private static Map<String, List<Tensor>> keras3Weights(JsonNode c, String prefix) {
        Map<String, List<Tensor>> out = new LinkedHashMap<>();
        List<Tensor> w = weights(c);
        int at = 0;
        for (String d : new String[] {"forward_layer", "backward_layer"}) {
            Map<String, Integer> used = new HashMap<>();
            for (JsonNode cell : d.equals("forward_layer") ? c.get("cells") : backwardCells(c)) {
                String base = cellClass(cell).equals("SimpleRNNCell") ? "simple_rnn_cell"
                        : cellClass(cell).toLowerCase(java.util.Locale.ROOT).replace("cell", "_cell");
                int n = used.merge(base, 1, Integer::sum) - 1;
                out.put(prefix + d + "/cell/cells/" + (n == 0 ? base : base + "_" + n), w.subList(at, at + 3));
                at += 3;
            }
        }
        return out;
    }

    /** tf.keras' weight names: bidirectional/forward_rnn/&lt;cell&gt;/kernel:0, …, bidirectional/backward_rnn_1/…. */
    private static List<String> keras2WeightNames(JsonNode c) {
        List<String> out = new ArrayList<>();
        List<String> cells = cellNames(c);
        int k = 0;
        for (String d : new String[] {"forward_rnn", "backward_rnn_1"}) {
            for (JsonNode ignored : d.equals("forward_rnn") ? c.get("cells") : backwardCells(c)) {
                for (String n : KERAS2_NAMES) {
                    out.add("bidirectional/" + d + "/" + cells.get(k) + "/" + n);
                }
                k++;
            }
        }
        return out;
    }

    /** The cells' names as Keras numbers them across the model: lstm_cell, lstm_cell_1, gru_cell, …. */
    private static List<String> cellNames(JsonNode c) {
        List<String> out = new ArrayList<>();
        Map<String, Integer> used = new HashMap<>();
        for (String d : new String[] {"cells", "backward_cells"}) {
            for (JsonNode cell : d.equals("cells") ? c.get("cells") : backwardCells(c)) {
                String base = cellClass(cell).equals("SimpleRNNCell") ? "simple_rnn_cell"
                        : cellClass(cell).toLowerCase(java.util.Locale.ROOT).replace("cell", "_cell");
                int n = used.merge(base, 1, Integer::sum) - 1;
                out.add(n == 0 ? base : base + "_" + n);
            }
        }
        return out;
    }

    /** The backward stack's cells: backward_cells, or for a case without, the forward stack's (Keras' derived copy). */
    private static JsonNode backwardCells(JsonNode c) {
        return c.has("backward_cells") ? c.get("backward_cells") : c.get("cells");
    }

    private static String cellClass(JsonNode cell) {
        return cell.get("layer").asText() + "Cell";
    }

    private static JsonNode graph(JsonNode c, Format format) {
        return graph(c, format, null, null, null);
    }

    private static JsonNode graph(JsonNode c, Format format, ObjectWithFrozen frozen) {
        return graph(c, format, frozen, null, null);
    }

    private static JsonNode graph(JsonNode c, Format format, ObjectWithFrozen frozen, ObjectWithMode mode) {
        return graph(c, format, frozen, mode, null);
    }

    /**
     * A functional model x → Masking(0.0) → Bidirectional, all the Bidirectional's outputs its
     * outputs, in the format's config and node layout.
     */
    private static JsonNode graph(JsonNode c, Format format, ObjectWithFrozen frozen, ObjectWithMode mode,
                                  java.util.function.Consumer<Map<String, Object>> changeBackward) {
        int features = Fixtures.shape(c.get("input"))[2];
        List<Object> layers = new ArrayList<>();
        Map<String, Object> input = new LinkedHashMap<>(spec("InputLayer", "x",
                format == Format.KERAS3 ? Map.of("batch_shape", nullFirst(-1, features))
                        : Map.of("batch_input_shape", nullFirst(-1, features)), format));
        input.put("name", "x");
        input.put("inbound_nodes", List.of());
        layers.add(input);
        Map<String, Object> masking = new LinkedHashMap<>(spec("Masking", "masking", Map.of("mask_value", 0.0), format));
        masking.put("name", "masking");
        masking.put("inbound_nodes", List.of(node("x", format)));
        layers.add(masking);
        Map<String, Object> bi = new LinkedHashMap<>(bidirectional(c, format, frozen, mode, changeBackward));
        bi.put("name", "bidirectional");
        bi.put("inbound_nodes", List.of(node("masking", format)));
        layers.add(bi);
        int outputs = c.get("expected").size();
        List<Object> outs = new ArrayList<>();
        for (int k = 0; k < outputs; k++) {
            outs.add(List.of("bidirectional", 0, k));
        }
        return JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "m", "layers", layers,
                "input_layers", List.of(List.of("x", 0, 0)), "output_layers", outs)));
    }

    private static Map<String, Object> bidirectional(JsonNode c, Format format, ObjectWithFrozen frozen) {
        return bidirectional(c, format, frozen, null, null);
    }

    /**
     * The Bidirectional's spec: Keras 3 names the layers forward_rnn and backward_rnn (its get_config
     * saves the layers it runs), tf.keras rnn and rnn_1 (the layers as given).
     */
    private static Map<String, Object> bidirectional(JsonNode c, Format format, ObjectWithFrozen frozen,
                                                     ObjectWithMode mode,
                                                     java.util.function.Consumer<Map<String, Object>> changeBackward) {
        boolean k3 = format == Format.KERAS3;
        List<String> names = cellNames(c);
        int nf = c.get("cells").size();
        boolean forwardBackwards = c.get("options").get("go_backwards").asBoolean();
        Map<String, Object> fw = rnn(k3 ? "forward_rnn" : "rnn", c.get("cells"), names.subList(0, nf), c,
                forwardBackwards, frozen == null ? null : frozen.forward(), format);
        Map<String, Object> bwCfg = rnnConfig(k3 ? "backward_rnn" : "rnn_1", backwardCells(c),
                names.subList(nf, names.size()), c, !forwardBackwards, frozen == null ? null : frozen.backward(), format);
        if (changeBackward != null) {
            changeBackward.accept(bwCfg);
        }
        Map<String, Object> cfg = new LinkedHashMap<>();
        JsonNode m = c.get("merge_mode");
        cfg.put("merge_mode", mode != null ? mode.mode() : m.isNull() ? null : m.asText());
        cfg.put("layer", fw);
        cfg.put("backward_layer", withModule(Map.of("class_name", "RNN", "config", bwCfg), format));
        return spec("Bidirectional", "bidirectional", cfg, format);
    }

    private static Map<String, Object> rnn(String name, JsonNode cells, List<String> cellNames, JsonNode c,
                                           boolean goBackwards, boolean[] frozen, Format format) {
        return withModule(Map.of("class_name", "RNN", "config",
                rnnConfig(name, cells, cellNames, c, goBackwards, frozen, format)), format);
    }

    private static Map<String, Object> rnnConfig(String name, JsonNode cells, List<String> cellNames, JsonNode c,
                                                 boolean goBackwards, boolean[] frozen, Format format) {
        List<Object> list = new ArrayList<>();
        for (int k = 0; k < cells.size(); k++) {
            JsonNode cell = cells.get(k);
            Map<String, Object> cfg = new LinkedHashMap<>();
            cfg.put("name", cellNames.get(k));
            cfg.put("units", cell.get("units").asInt());
            cfg.put("activation", cell.get("activation").asText());
            cfg.put("use_bias", cell.get("use_bias").asBoolean());
            if (!cell.get("layer").asText().equals("SimpleRNN")) {
                cfg.put("recurrent_activation", cell.get("recurrent_activation").asText());
            }
            if (cell.get("layer").asText().equals("GRU")) {
                cfg.put("reset_after", cell.get("reset_after").asBoolean());
            }
            if (frozen != null && frozen[k]) {
                cfg.put("trainable", false);
            }
            list.add(withModule(Map.of("class_name", cellClass(cell), "config", cfg), format));
        }
        JsonNode o = c.get("options");
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("name", name);
        cfg.put("return_sequences", o.get("return_sequences").asBoolean());
        cfg.put("return_state", o.get("return_state").asBoolean());
        cfg.put("go_backwards", goBackwards);
        cfg.put("stateful", false);
        cfg.put("unroll", false);
        // Keras 3 saves the option as Bidirectional forced it
        cfg.put("zero_output_for_mask", format == Format.KERAS3 && o.get("return_sequences").asBoolean());
        cfg.put("cell", withModule(Map.of("class_name", "StackedRNNCells", "config",
                Map.of("name", "stacked_rnn_cells", "cells", list)), format));
        return cfg;
    }

    private static Map<String, Object> withModule(Map<String, Object> spec, Format format) {
        Map<String, Object> out = new LinkedHashMap<>(spec);
        if (format == Format.KERAS3) {
            out.put("module", "keras.layers");
            out.put("registered_name", null);
        }
        return out;
    }

    private static Map<String, Object> spec(String cls, String name, Map<String, Object> cfg, Format format) {
        Map<String, Object> c = new LinkedHashMap<>(cfg);
        c.put("name", name);
        return withModule(Map.of("class_name", cls, "config", c), format);
    }

    private static Object node(String from, Format format) {
        if (format == Format.KERAS3) {
            return Map.of("args", List.of(Map.of("class_name", "__keras_tensor__", "config",
                    Map.of("keras_history", List.of(from, 0, 0)))), "kwargs", Map.of());
        }
        return List.of(List.of(from, 0, 0, Map.of()));
    }

    private static List<Object> nullFirst(int time, int features) {
        List<Object> s = new ArrayList<>();
        s.add(null);
        s.add(time < 0 ? null : time);
        s.add(features);
        return s;
    }
}
