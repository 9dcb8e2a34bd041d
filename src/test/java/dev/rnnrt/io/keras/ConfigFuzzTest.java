package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rnnrt.testing.RandomTensors;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates model configs node by node — a value replaced by null, a number, a string, an empty list
 * or object, or removed — in the graph features a config can use (nested models, shared layers,
 * operations between layers, recorded masks, attention, stacked cells, TimeDistributed around a
 * model), and checks that every load either
 * succeeds or fails with a ModelLoadException: never another exception or a hang. For a longer
 * hunt: {@code -Drnnrt.fuzz.mutations=N} per config, {@code -Drnnrt.fuzz.seed=S}.
 */
class ConfigFuzzTest {

    private static final long SEED = Long.getLong("rnnrt.fuzz.seed", 20261201L);
    private static final int MUTATIONS_PER_CONFIG = Integer.getInteger("rnnrt.fuzz.mutations", 400);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** tf.keras: a nested functional base network called twice, TFOpLambda operations, a shared Dense. */
    private static final String KERAS2 = """
            {"class_name": "Functional", "config": {"name": "m", "layers": [
             {"name": "a", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 2], "name": "a"}, "inbound_nodes": []},
             {"name": "b", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 2], "name": "b"}, "inbound_nodes": []},
             {"name": "base", "class_name": "Functional", "config": {"name": "base", "layers": [
               {"name": "x", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 4, 2], "name": "x"}, "inbound_nodes": []},
               {"name": "lstm", "class_name": "LSTM", "config": {"name": "lstm", "units": 3, "return_sequences": true},
                "inbound_nodes": [[["x", 0, 0, {}]]]}],
              "input_layers": [["x", 0, 0]], "output_layers": [["lstm", 0, 0]]},
              "inbound_nodes": [[["a", 0, 0, {}]], [["b", 0, 0, {}]]]},
             {"name": "tf.__operators__.getitem", "class_name": "SlicingOpLambda", "config": {"name": "tf.__operators__.getitem",
              "function": "__operators__.getitem"}, "inbound_nodes": [["base", 1, 0, {"slice_spec": [{"start": null, "stop": null,
              "step": null}, -1]}]]},
             {"name": "tf.math.subtract", "class_name": "TFOpLambda", "config": {"name": "tf.math.subtract",
              "function": "math.subtract"}, "inbound_nodes": [["tf.__operators__.getitem", 0, 0, {"y": 1.5, "name": null}]]},
             {"name": "dense", "class_name": "Dense", "config": {"name": "dense", "units": 2},
              "inbound_nodes": [[["tf.math.subtract", 0, 0, {}]], [["tf.math.subtract", 0, 0, {}]]]}],
             "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["dense", 0, 0], ["base", 2, 0], ["dense", 1, 0]]}}
            """;

    /** Keras 3: Masking's recorded mask operations, keras.ops between layers, a nested Sequential, MultiHeadAttention. */
    private static final String KERAS3 = """
            {"class_name": "Functional", "config": {"name": "k3", "layers": [
             {"name": "x", "class_name": "InputLayer", "config": {"batch_shape": [null, 4, 2], "name": "x"}, "inbound_nodes": []},
             {"module": "keras.src.ops.numpy", "class_name": "NotEqual", "name": "not_equal", "config": {"name": "not_equal"},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}, 0.0], "kwargs": {}}]},
             {"module": "keras.src.ops.numpy", "class_name": "Any", "name": "any", "config": {"name": "any", "axis": -1, "keepdims": false},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["not_equal", 0, 0]}}], "kwargs": {}}]},
             {"name": "masking", "class_name": "Masking", "config": {"name": "masking", "mask_value": 0.0},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}], "kwargs": {}}]},
             {"name": "sequential", "class_name": "Sequential", "config": {"name": "sequential", "layers": [
               {"class_name": "InputLayer", "config": {"batch_shape": [null, 4, 2], "name": "s_in"}},
               {"class_name": "LSTM", "config": {"name": "lstm", "units": 3, "return_sequences": true}}]},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["masking", 0, 0]}}],
               "kwargs": {"mask": {"class_name": "__keras_tensor__", "config": {"keras_history": ["any", 0, 0]}}}}]},
             {"name": "mha", "class_name": "MultiHeadAttention", "config": {"name": "mha", "num_heads": 2, "key_dim": 2},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["get_item", 0, 0]}},
               {"class_name": "__keras_tensor__", "config": {"keras_history": ["get_item", 0, 0]}}], "kwargs": {"use_causal_mask": true}}]},
             {"module": "keras.src.ops.numpy", "class_name": "GetItem", "name": "get_item", "config": {"name": "get_item"},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["sequential", 0, 0]}},
               [{"class_name": "__slice__", "config": {"start": null, "stop": null, "step": null}},
                {"class_name": "__slice__", "config": {"start": 1, "stop": null, "step": null}}]], "kwargs": {}}]},
             {"module": "keras.src.ops.numpy", "class_name": "Mean", "name": "mean", "config": {"name": "mean", "axis": 1, "keepdims": false},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["mha", 0, 0]}}], "kwargs": {}}]}],
             "input_layers": [["x", 0, 0]], "output_layers": [["mean", 0, 0]]}}
            """;

    /** Keras 3: RNN(StackedRNNCells([LSTMCell, GRUCell])) returning its states, a Masking layer in front. */
    private static final String KERAS3_STACKED = """
            {"class_name": "Functional", "config": {"name": "st", "layers": [
             {"name": "x", "class_name": "InputLayer", "config": {"batch_shape": [null, 4, 2], "name": "x"}, "inbound_nodes": []},
             {"name": "rnn", "class_name": "RNN", "config": {"name": "rnn", "return_sequences": true, "return_state": true,
              "go_backwards": true, "stateful": false, "unroll": false, "zero_output_for_mask": false,
              "cell": {"module": "keras.layers", "class_name": "StackedRNNCells", "config": {"name": "stacked_rnn_cells",
               "cells": [{"module": "keras.layers", "class_name": "LSTMCell", "config": {"name": "lstm_cell", "units": 3,
                 "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true, "unit_forget_bias": true}},
                {"module": "keras.layers", "class_name": "GRUCell", "config": {"name": "gru_cell", "units": 2,
                 "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true, "reset_after": true}}]}}},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}], "kwargs": {}}]}],
             "input_layers": [["x", 0, 0]], "output_layers": [["rnn", 0, 0], ["rnn", 0, 3]]}}
            """;

    /** Keras 3: Bidirectional around RNN(StackedRNNCells([LSTMCell, GRUCell])), merge_mode sum. */
    private static final String KERAS3_BI_STACKED = """
            {"class_name": "Functional", "config": {"name": "bs", "layers": [
             {"name": "x", "class_name": "InputLayer", "config": {"batch_shape": [null, 4, 2], "name": "x"}, "inbound_nodes": []},
             {"name": "bi", "class_name": "Bidirectional", "config": {"name": "bi", "merge_mode": "sum", "layer":
              {"class_name": "RNN", "config": {"name": "rnn", "return_sequences": true, "return_state": false,
               "cell": {"class_name": "StackedRNNCells", "config": {"name": "stacked_rnn_cells",
                "cells": [{"class_name": "LSTMCell", "config": {"name": "lstm_cell", "units": 3}},
                 {"class_name": "GRUCell", "config": {"name": "gru_cell", "units": 2, "reset_after": true}}]}}}}},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}], "kwargs": {}}]}],
             "input_layers": [["x", 0, 0]], "output_layers": [["bi", 0, 0]]}}
            """;

    /** Keras 3: TimeDistributed around a functional model (Embedding(mask_zero), GRU), then an LSTM. */
    private static final String KERAS3_TD_MODEL = """
            {"class_name": "Functional", "config": {"name": "hier", "layers": [
             {"name": "doc", "class_name": "InputLayer", "config": {"batch_shape": [null, 3, 5], "name": "doc"}, "inbound_nodes": []},
             {"name": "sentences", "class_name": "TimeDistributed", "config": {"name": "sentences", "layer": {
               "class_name": "Functional", "config": {"name": "encoder", "layers": [
                {"name": "words", "class_name": "InputLayer", "config": {"batch_shape": [null, 5], "name": "words"}, "inbound_nodes": []},
                {"name": "embedding", "class_name": "Embedding", "config": {"name": "embedding", "input_dim": 9, "output_dim": 2,
                 "mask_zero": true}, "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                 "config": {"keras_history": ["words", 0, 0]}}], "kwargs": {}}]},
                {"name": "gru", "class_name": "GRU", "config": {"name": "gru", "units": 3, "reset_after": true},
                 "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["embedding", 0, 0]}}],
                 "kwargs": {}}]}],
               "input_layers": [["words", 0, 0]], "output_layers": [["gru", 0, 0]]}}},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["doc", 0, 0]}}], "kwargs": {}}]},
             {"name": "lstm", "class_name": "LSTM", "config": {"name": "lstm", "units": 2},
              "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["sentences", 0, 0]}}],
              "kwargs": {}}]}],
             "input_layers": [["doc", 0, 0]], "output_layers": [["lstm", 0, 0]]}}
            """;

    @TempDir
    Path dir;

    @Test
    void everyMutationLoadsOrFailsCleanly() throws Exception {
        RandomTensors r = new RandomTensors(SEED);
        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        weights.put("base", new KerasFileWriter.LayerWeights().put("lstm/kernel:0", r.uniform(1, 2, 12))
                .put("lstm/recurrent_kernel:0", r.uniform(1, 3, 12)).put("lstm/bias:0", r.uniform(1, 12)));
        weights.put("dense", new KerasFileWriter.LayerWeights().put("dense/kernel:0", r.uniform(1, 3, 2))
                .put("dense/bias:0", r.uniform(1, 2)));
        Path file = dir.resolve("weights.h5");
        KerasFileWriter.writeWeightsOnly(file, "2.12.0", weights);
        Map<String, List<dev.rnnrt.api.Tensor>> k3 = new LinkedHashMap<>();
        k3.put("sequential/layers/lstm/cell", List.of(r.uniform(1, 2, 12), r.uniform(1, 3, 12), r.uniform(1, 12)));
        String[] parts = {"query_dense", "key_dense", "value_dense"};
        for (String part : parts) {
            k3.put("multi_head_attention/" + part, List.of(r.uniform(1, 3, 2, 2), r.uniform(1, 2, 2)));
        }
        k3.put("multi_head_attention/output_dense", List.of(r.uniform(1, 2, 2, 3), r.uniform(1, 3)));
        KerasModelLoader.loadWeights(file, KERAS2);               // the unmutated configs load
        KerasModelLoader.load(archive(JSON.readTree(KERAS3), k3, "k3.keras"));
        Map<String, List<dev.rnnrt.api.Tensor>> stacked = new LinkedHashMap<>();
        stacked.put("rnn/cell/cells/lstm_cell", List.of(r.uniform(1, 2, 12), r.uniform(1, 3, 12), r.uniform(1, 12)));
        stacked.put("rnn/cell/cells/gru_cell", List.of(r.uniform(1, 3, 6), r.uniform(1, 2, 6), r.uniform(1, 2, 6)));
        KerasModelLoader.load(archive(JSON.readTree(KERAS3_STACKED), stacked, "stacked.keras"));
        Map<String, List<dev.rnnrt.api.Tensor>> tdModel = new LinkedHashMap<>();
        tdModel.put("time_distributed/layer/layers/embedding", List.of(r.uniform(1, 9, 2)));
        tdModel.put("time_distributed/layer/layers/gru/cell", List.of(r.uniform(1, 2, 9), r.uniform(1, 3, 9),
                r.uniform(1, 2, 9)));
        tdModel.put("lstm/cell", List.of(r.uniform(1, 3, 8), r.uniform(1, 2, 8), r.uniform(1, 8)));
        KerasModelLoader.load(archive(JSON.readTree(KERAS3_TD_MODEL), tdModel, "td_model.keras"));
        Map<String, List<dev.rnnrt.api.Tensor>> biStacked = new LinkedHashMap<>();
        for (String dir : new String[] {"forward_layer", "backward_layer"}) {
            biStacked.put("bidirectional/" + dir + "/cell/cells/lstm_cell", List.of(r.uniform(1, 2, 12),
                    r.uniform(1, 3, 12), r.uniform(1, 12)));
            biStacked.put("bidirectional/" + dir + "/cell/cells/gru_cell", List.of(r.uniform(1, 3, 6),
                    r.uniform(1, 2, 6), r.uniform(1, 2, 6)));
        }
        KerasModelLoader.load(archive(JSON.readTree(KERAS3_BI_STACKED), biStacked, "bi_stacked.keras"));
        SplittableRandom random = new SplittableRandom(SEED);
        int refused = 0;
        int total = 0;
        for (String config : List.of(KERAS2, KERAS3, KERAS3_STACKED, KERAS3_TD_MODEL, KERAS3_BI_STACKED)) {
            for (int m = 0; m < MUTATIONS_PER_CONFIG; m++) {
                JsonNode root = JSON.readTree(config);
                String what = mutate(root, random);
                String text = root.toString();
                total++;
                Path k3File = config == KERAS2 ? null
                        : archive(root, config == KERAS3 ? k3 : config == KERAS3_STACKED ? stacked
                                : config == KERAS3_TD_MODEL ? tdModel : biStacked, "m" + m + ".keras");
                try {
                    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                        if (k3File != null) {
                            KerasModelLoader.load(k3File);
                        } else {
                            KerasModelLoader.loadWeights(file, text);
                        }
                    }, what);
                } catch (ModelLoadException e) {
                    refused++;
                    assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), what);
                } catch (Throwable t) {
                    fail("mutation '" + what + "' escaped as " + t + "\n" + text, t);
                }
            }
        }
        assertTrue(refused > total / 10 && refused < total, "refused " + refused + " of " + total);
    }

    /** A Keras 3 archive of this config and these weights (group path → vars). */
    private Path archive(JsonNode config, Map<String, List<dev.rnnrt.api.Tensor>> weights, String name) throws Exception {
        Path p = dir.resolve(name);
        KerasFileWriter.writeKeras(p, config, weights);
        return p;
    }

    /** Replaces or removes one node of the tree; says which. */
    private static String mutate(JsonNode root, SplittableRandom random) {
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        JsonNode parent = containers.get(random.nextInt(containers.size()));
        JsonNode[] values = {JsonNodeFactory.instance.nullNode(), JsonNodeFactory.instance.numberNode(-1),
            JsonNodeFactory.instance.numberNode(99999), JsonNodeFactory.instance.numberNode(2.5),
            JsonNodeFactory.instance.textNode(""), JsonNodeFactory.instance.textNode("lstm"),
            JsonNodeFactory.instance.arrayNode(), JsonNodeFactory.instance.objectNode(),
            JsonNodeFactory.instance.booleanNode(true)};
        boolean remove = random.nextInt(4) == 0;
        JsonNode value = values[random.nextInt(values.length)];
        if (parent instanceof ObjectNode o) {
            List<String> keys = new ArrayList<>();
            for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
                keys.add(it.next());
            }
            String key = keys.get(random.nextInt(keys.size()));
            if (remove) {
                o.remove(key);
                return "removed '" + key + "'";
            }
            o.set(key, value);
            return "'" + key + "' := " + value;
        }
        ArrayNode a = (ArrayNode) parent;
        int i = random.nextInt(a.size());
        if (remove) {
            a.remove(i);
            return "removed element " + i;
        }
        a.set(i, value);
        return "element " + i + " := " + value;
    }

    private static void collect(JsonNode node, List<JsonNode> out) {
        if (node.isContainerNode() && node.size() > 0) {
            out.add(node);
            node.forEach(child -> collect(child, out));
        }
    }
}
