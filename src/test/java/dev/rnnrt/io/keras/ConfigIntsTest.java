package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Integer config fields (sizes, units, kernel_size, …): whole numbers in int's range or a refusal. */
class ConfigIntsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SEED = 4417L;

    @TempDir
    Path dir;

    /** Weights for Conv1D(filters 4, kernel_size 3) on 2 channels, then LSTM(units 3); the same in every file. */
    private final Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();

    ConfigIntsTest() {
        RandomTensors random = new RandomTensors(SEED);
        weights.put("conv", new KerasFileWriter.LayerWeights().put("conv/kernel:0", random.uniform(0.5, 3, 2, 4))
                .put("conv/bias:0", random.uniform(0.5, 4)));
        weights.put("lstm", new KerasFileWriter.LayerWeights().put("lstm/kernel:0", random.uniform(0.5, 4, 12))
                .put("lstm/recurrent_kernel:0", random.uniform(0.5, 3, 12)).put("lstm/bias:0", random.uniform(0.5, 12)));
    }

    /** Conv1D 'conv' (causal) then LSTM 'lstm', with the given field values, saved as Keras 2.2.4 would. */
    private Path file(String name, Object units, Object kernelSize, Object filters, List<Object> shape) {
        Map<String, Object> conv = new LinkedHashMap<>();
        conv.put("name", "conv");
        conv.put("filters", filters);
        conv.put("kernel_size", List.of(kernelSize));
        conv.put("padding", "causal");
        conv.put("batch_input_shape", shape);
        Map<String, Object> lstm = new LinkedHashMap<>();
        lstm.put("name", "lstm");
        lstm.put("units", units);
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "s", "layers",
                List.of(Map.of("class_name", "Conv1D", "config", conv), Map.of("class_name", "LSTM", "config", lstm)))));
        Path p = dir.resolve(name);
        KerasFileWriter.writeHdf5(p, "2.2.4", config, weights);
        return p;
    }

    private static void assertRefused(Path p, String... parts) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> KerasModelLoader.load(p), p.toString());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message lacks '" + part + "': " + e.getMessage());
        }
        assertTrue(e.getMessage().contains("expected a whole number"), e.getMessage());
    }

    /** Keras 1 and 2 keep a whole float the user passed (units=3.0): it is read as that integer. */
    @Test
    void wholeFloatsAreReadAsTheirIntegers() {
        Path ints = file("ints.h5", 3, 3, 4, Arrays.asList(null, 5, 2));
        Path floats = file("floats.h5", 3.0, 3.0, 4.0, Arrays.asList(null, 5.0, 2.0));
        Tensor x = new RandomTensors(SEED + 1).uniform(1, 2, 5, 2);
        Tensor expected = KerasModelLoader.load(ints).model().predict(x);
        Compare.assertIdentical("units=3.0 reads as units=3", expected, KerasModelLoader.load(floats).model().predict(x));
    }

    @Test
    void sizesOutsideIntAreRefusedNotWrapped() {
        assertRefused(file("huge.h5", 3, 3, 4, Arrays.asList(null, 5, 1L << 40)), "huge.h5", "'conv'",
                "batch_input_shape", "1099511627776");
        assertRefused(file("wraps.h5", 3, 3, 4, Arrays.asList(null, 5, 4294967297L)), "wraps.h5", "'conv'",
                "4294967297");     // asInt() made it 1
        assertRefused(file("units_huge.h5", 4294967299L, 3, 4, Arrays.asList(null, 5, 2)), "'lstm'", "units is 4294967299");
    }

    @Test
    void fractionsStringsAndBooleansAreRefused() {
        assertRefused(file("units.h5", 3.5, 3, 4, Arrays.asList(null, 5, 2)), "units.h5", "layer 'lstm' (LSTM)",
                "units is 3.5");    // was read as 3
        assertRefused(file("units_text.h5", "3", 3, 4, Arrays.asList(null, 5, 2)), "'lstm'", "units is \"3\"");
        assertRefused(file("kernel_text.h5", 3, "3", 4, Arrays.asList(null, 5, 2)), "layer 'conv' (Conv1D)",
                "kernel_size is \"3\"");
        assertRefused(file("kernel.h5", 3, 3.7, 4, Arrays.asList(null, 5, 2)), "'conv'", "kernel_size is 3.7");
        assertRefused(file("filters.h5", 3, 3, true, Arrays.asList(null, 5, 2)), "'conv'", "filters is true");
        assertRefused(file("shape_text.h5", 3, 3, 4, Arrays.asList(null, "5", 2)), "'conv'", "batch_input_shape",
                "\"5\"");
        assertRefused(file("shape.h5", 3, 3, 4, Arrays.asList(null, 5, 2.5)), "'conv'", "2.5");
    }

    /** Conv1D 'conv' then LSTM 'lstm' as a Keras 2.2.4 functional Model, the LSTM's inbound entry ["conv", node, tensor, {}]. */
    private Path functional(String name, Object node, Object tensor) {
        Map<String, Object> conv = new LinkedHashMap<>();
        conv.put("name", "conv");
        conv.put("filters", 4);
        conv.put("kernel_size", List.of(3));
        conv.put("padding", "causal");
        List<Object> layers = List.of(
                Map.of("name", "x", "class_name", "InputLayer", "inbound_nodes", List.of(),
                        "config", Map.of("name", "x", "batch_input_shape", Arrays.asList(null, 5, 2))),
                Map.of("name", "conv", "class_name", "Conv1D", "config", conv,
                        "inbound_nodes", List.of(List.of(List.of("x", 0, 0, Map.of())))),
                Map.of("name", "lstm", "class_name", "LSTM", "config", Map.of("name", "lstm", "units", 3),
                        "inbound_nodes", List.of(List.of(List.of("conv", node, tensor, Map.of())))));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Model", "config", Map.of("name", "m", "layers", layers,
                "input_layers", List.of(List.of("x", 0, 0)), "output_layers", List.of(List.of("lstm", 0, 0)))));
        Path p = dir.resolve(name);
        KerasFileWriter.writeHdf5(p, "2.2.4", config, weights);
        return p;
    }

    /** Keras 2's inbound_nodes hold the node and tensor index as integers: anything else is refused, not read as 0. */
    @Test
    void inboundNodeIndicesAreIntegersOrRefused() {
        Tensor x = new RandomTensors(SEED + 2).uniform(1, 2, 5, 2);
        Compare.assertIdentical("the functional model is the sequential one",
                KerasModelLoader.load(file("seq.h5", 3, 3, 4, Arrays.asList(null, 5, 2))).model().predict(x),
                KerasModelLoader.load(functional("fn.h5", 0, 0)).model().predict(x));
        assertRefused(functional("node_text.h5", "0", 0), "node_text.h5", "an input of layer 'lstm'",
                "the node index in [\"conv\",\"0\",0,{}] is \"0\"");
        assertRefused(functional("node_half.h5", 0.5, 0), "'lstm'", "the node index", "is 0.5");
        assertRefused(functional("tensor_wraps.h5", 0, 4294967296L), "'lstm'", "the tensor index",
                "is 4294967296");     // asInt() made it 0
    }

    /**
     * Masking then LSTM 'lstm' as Keras 3 saves it: the LSTM called on keras_history ["masking",
     * node, 0] with the mask Any(NotEqual(x, 0), axis) computed.
     */
    private Path keras3(String name, Object node, Object anyAxis) throws java.io.IOException {
        List<Object> layers = List.of(
                Map.of("name", "x", "class_name", "InputLayer", "inbound_nodes", List.of(),
                        "config", Map.of("name", "x", "batch_shape", Arrays.asList(null, null, 2))),
                operation("NotEqual", "not_equal", Map.of("name", "not_equal"), List.of(tensor("x", 0), 0.0)),
                operation("Any", "any", Map.of("axis", anyAxis, "keepdims", false), List.of(tensor("not_equal", 0))),
                Map.of("name", "masking", "class_name", "Masking", "config", Map.of("name", "masking", "mask_value", 0.0),
                        "inbound_nodes", List.of(Map.of("args", List.of(tensor("x", 0)), "kwargs", Map.of()))),
                Map.of("name", "lstm", "class_name", "LSTM", "config", Map.of("name", "lstm", "units", 3),
                        "inbound_nodes", List.of(Map.of("args", List.of(tensor("masking", node)),
                                "kwargs", Map.of("mask", tensor("any", 0))))));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "m",
                "layers", layers, "input_layers", List.of(List.of("x", 0, 0)), "output_layers", List.of(List.of("lstm", 0, 0)))));
        RandomTensors random = new RandomTensors(SEED + 3);
        Path p = dir.resolve(name);
        KerasFileWriter.writeKeras(p, config, Map.of("lstm/cell",
                List.of(random.uniform(0.5, 2, 12), random.uniform(0.5, 3, 12), random.uniform(0.5, 12))));
        return p;
    }

    private static Map<String, Object> tensor(String layer, Object node) {
        return Map.of("class_name", "__keras_tensor__", "config", Map.of("shape", List.of(), "dtype", "float32",
                "keras_history", List.of(layer, node, 0)));
    }

    private static Map<String, Object> operation(String cls, String name, Map<String, Object> config, List<Object> args) {
        return Map.of("module", "keras.src.ops.numpy", "class_name", cls, "config", config, "registered_name", cls,
                "name", name, "inbound_nodes", List.of(Map.of("args", args, "kwargs", Map.of())));
    }

    /** Keras 3's keras_history holds integers: anything else is refused, not read as 0. */
    @Test
    void kerasHistoryIndicesAreIntegersOrRefused() throws java.io.IOException {
        KerasModelLoader.load(keras3("ok.keras", 0, -1)).model();
        assertRefused(keras3("history_wraps.keras", 4294967296L, -1), "history_wraps.keras", "an input of layer 'lstm'",
                "the node index", "is 4294967296");     // asInt() made it 0
    }

    /** The axis of Masking's recorded mask, any(not_equal(x, 0), axis=-1), is an integer: anything else is refused. */
    @Test
    void maskAxesAreIntegersOrRefused() throws java.io.IOException {
        assertRefused(keras3("axis_text.keras", 0, "-1"), "axis_text.keras", "operation 'any' (Any)",
                "axis is \"-1\"");                    // asInt() made it -1
        assertRefused(keras3("axis_wraps.keras", 0, 4294967295L), "operation 'any' (Any)",
                "axis is 4294967295");                  // asInt() made it -1
    }
}
