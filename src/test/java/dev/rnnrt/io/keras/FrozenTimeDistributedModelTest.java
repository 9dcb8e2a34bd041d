package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.BatchNormalization;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code TimeDistributed(Sequential([...]), trainable=False)} at the top of a Keras 2 .h5 file:
 * the TimeDistributed's group holds the model's weights as one list, in layer order in tf.keras
 * 2.6 to 2.15 (a frozen layer's non-trainable weights are its children's variables), trainable
 * ones first in standalone Keras (its wrapper hands the flag and the weights to the model). Two
 * BatchNormalization layers of the same shapes, with moving statistics of their own, take each
 * other's weights when the list is split the wrong way; expected outputs come from the layers set
 * by hand.
 */
class FrozenTimeDistributedModelTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int I = 3;
    private static final String[] BN = {"gamma", "beta", "moving_mean", "moving_variance"};

    @TempDir
    Path dir;

    private final RandomTensors random = new RandomTensors(20261202);

    @Test
    void tfKerasListsAFrozenTimeDistributedModelsWeightsInLayerOrder() {
        for (String version : List.of("2.6.0", "2.9.0", "2.15.0")) {
            List<List<Tensor>> w = List.of(normWeights(), normWeights());
            List<String> names = new ArrayList<>();
            List<Tensor> values = new ArrayList<>();
            for (int l = 0; l < 2; l++) {
                for (int k = 0; k < 4; k++) {
                    names.add("time_distributed/bn" + l + "/" + BN[k] + ":0");
                    values.add(w.get(l).get(k));
                }
            }
            Path file = write("tf_keras_" + version, version, names, values);
            Tensor x = random.uniform(1, 2, 4, I);
            Compare.assertIdentical(version + " frozen TimeDistributed(Sequential([BN, BN])): layer order",
                    expected(w).predict(x), KerasModelLoader.load(file).model().predict(x));
        }
    }

    @Test
    void standaloneKerasListsTheTrainableWeightsFirst() {
        for (String version : List.of("2.2.4", "2.3.1")) {
            List<List<Tensor>> w = List.of(normWeights(), normWeights());
            List<String> names = new ArrayList<>();
            List<Tensor> values = new ArrayList<>();
            for (int[] part : new int[][] {{0, 1}, {2, 3}}) {
                for (int l = 0; l < 2; l++) {
                    for (int k : part) {
                        names.add("time_distributed/bn" + l + "/" + BN[k] + ":0");
                        values.add(w.get(l).get(k));
                    }
                }
            }
            Path file = write("standalone_" + version, version, names, values);
            Tensor x = random.uniform(1, 2, 4, I);
            Compare.assertIdentical(version + " frozen TimeDistributed(Sequential([BN, BN])): trainable first",
                    expected(w).predict(x), KerasModelLoader.load(file).model().predict(x));
        }
    }

    /** tf.keras before 2.6 is not in the sources followed: refused where the two orders differ. */
    @Test
    void olderTfKerasIsRefusedWhereTheOrdersDiffer() {
        for (String version : List.of("2.2.4-tf", "2.4.0", "2.5.0")) {
            List<String> names = new ArrayList<>();
            List<Tensor> values = new ArrayList<>();
            for (int l = 0; l < 2; l++) {
                List<Tensor> w = normWeights();
                for (int k = 0; k < 4; k++) {
                    names.add("time_distributed/bn" + l + "/" + BN[k] + ":0");
                    values.add(w.get(k));
                }
            }
            Path file = write("old_" + version, version, names, values);
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> KerasModelLoader.load(file), version);
            assertTrue(e.getMessage().contains("layer 'time_distributed' (TimeDistributed)")
                    && e.getMessage().contains("frozen (trainable=False)")
                    && e.getMessage().contains("tf.keras 2.6 or later"), e.getMessage());
        }
    }

    /** Where both orders agree (layers without non-trainable weights), older tf.keras files load. */
    @Test
    void olderTfKerasLoadsWhereTheOrdersAgree() {
        Dense d0 = Dense.builder(I).name("d0").build();
        Dense d1 = Dense.builder(I).name("d1").build();
        List<Tensor> w0 = List.of(random.uniform(0.6, I, I), random.uniform(0.6, I));
        List<Tensor> w1 = List.of(random.uniform(0.6, I, I), random.uniform(0.6, I));
        d0.setWeights(w0);
        d1.setWeights(w1);
        Model java = Model.sequential("java").input(-1, I).add(d0).add(d1).build();
        List<Map<String, Object>> layers = List.of(
                spec("Dense", "d0", Map.of("units", I, "activation", "linear", "batch_input_shape",
                        nullFirst(I))),
                spec("Dense", "d1", Map.of("units", I, "activation", "linear")));
        KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights()
                .put("time_distributed/d0/kernel:0", w0.get(0)).put("time_distributed/d0/bias:0", w0.get(1))
                .put("time_distributed/d1/kernel:0", w1.get(0)).put("time_distributed/d1/bias:0", w1.get(1));
        Path file = dir.resolve("old_dense.h5");
        KerasFileWriter.writeHdf5(file, "2.4.0", config(layers), Map.of("time_distributed", lw));
        Tensor x = random.uniform(1, 2, 4, I);
        Compare.assertIdentical("2.4.0 frozen TimeDistributed(Sequential([Dense, Dense]))",
                java.predict(x), KerasModelLoader.load(file).model().predict(x));
    }

    /**
     * The same TimeDistributed inside a nested Sequential, after a trainable Dense: tf.keras 2.6 to
     * 2.15 list the nested model's weights as its trainable ones (the Dense's: the frozen
     * TimeDistributed has none), then its non-trainable ones (the TimeDistributed's model's, in layer
     * order). Older tf.keras and standalone Keras files of such a model are refused.
     */
    @Test
    void tfKerasListsAFrozenTimeDistributedModelInANestedModelInLayerOrder() {
        for (String version : List.of("2.6.0", "2.9.0", "2.15.0", "2.4.0", "2.3.1", "2.2.4-tf")) {
            Dense d = Dense.builder(I).name("d").build();
            List<Tensor> dw = List.of(random.uniform(0.6, I, I), random.uniform(0.6, I));
            d.setWeights(dw);
            List<List<Tensor>> w = List.of(normWeights(), normWeights());
            KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights()
                    .put("d/kernel:0", dw.get(0)).put("d/bias:0", dw.get(1));
            for (int l = 0; l < 2; l++) {
                for (int k = 0; k < 4; k++) {
                    lw.put("time_distributed/bn" + l + "/" + BN[k] + ":0", w.get(l).get(k));
                }
            }
            Map<String, Object> td = frozenTimeDistributed(List.of(
                    spec("BatchNormalization", "bn0", Map.of("axis", -1, "epsilon", 0.001, "center", true,
                            "scale", true, "batch_input_shape", nullFirst(I))),
                    spec("BatchNormalization", "bn1", Map.of("axis", -1, "epsilon", 0.001, "center", true,
                            "scale", true))));
            Map<String, Object> nested = spec("Sequential", "m", Map.of("layers", List.of(
                    spec("Dense", "d", Map.of("units", I, "activation", "linear", "batch_input_shape",
                            nullFirst(4, I))), td)));
            Path file = dir.resolve("nested_" + version + ".h5");
            KerasFileWriter.writeHdf5(file, version, JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                    Map.of("name", "outer", "layers", List.of(nested)))), Map.of("m", lw));
            if (version.equals("2.6.0") || version.equals("2.9.0") || version.equals("2.15.0")) {
                Tensor x = random.uniform(1, 2, 4, I);
                Compare.assertIdentical(version + " frozen TimeDistributed(Sequential([BN, BN])) in a nested model",
                        expected(d, w).predict(x), KerasModelLoader.load(file).model().predict(x));
            } else {
                ModelLoadException e = assertThrows(ModelLoadException.class, () -> KerasModelLoader.load(file),
                        version);
                assertTrue(e.getMessage().contains("layer 'm/time_distributed' (TimeDistributed)")
                        && e.getMessage().contains("inside a nested model")
                        && e.getMessage().contains("tf.keras 2.6 or later"), e.getMessage());
            }
        }
    }

    /**
     * A frozen TimeDistributed(Sequential([BN, BN])) inside the model of a trainable TimeDistributed at
     * the top, after a Dense: tf.keras 2.6 to 2.15 list the outer wrapper's weights as its model's
     * trainable ones (the Dense's), then its non-trainable ones (the inner wrapper's model's, in layer
     * order).
     */
    @Test
    void tfKerasListsAFrozenTimeDistributedInsideATrainableOneInLayerOrder() {
        for (String version : List.of("2.6.0", "2.15.0")) {
            Dense d = Dense.builder(I).name("d").build();
            List<Tensor> dw = List.of(random.uniform(0.6, I, I), random.uniform(0.6, I));
            d.setWeights(dw);
            List<List<Tensor>> w = List.of(normWeights(), normWeights());
            KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights()
                    .put("outer_td/d/kernel:0", dw.get(0)).put("outer_td/d/bias:0", dw.get(1));
            for (int l = 0; l < 2; l++) {
                for (int k = 0; k < 4; k++) {
                    lw.put("outer_td/time_distributed/bn" + l + "/" + BN[k] + ":0", w.get(l).get(k));
                }
            }
            Map<String, Object> td = frozenTimeDistributed(List.of(
                    spec("BatchNormalization", "bn0", Map.of("axis", -1, "epsilon", 0.001, "center", true,
                            "scale", true, "batch_input_shape", nullFirst(I))),
                    spec("BatchNormalization", "bn1", Map.of("axis", -1, "epsilon", 0.001, "center", true,
                            "scale", true))));
            Map<String, Object> innerModel = Map.of("class_name", "Sequential", "config", Map.of("name", "m",
                    "layers", List.of(spec("Dense", "d", Map.of("units", I, "activation", "linear",
                            "batch_input_shape", nullFirst(2, I))), td)));
            Map<String, Object> outer = spec("TimeDistributed", "outer_td", Map.of("layer", innerModel,
                    "batch_input_shape", nullFirst(3, 2, I)));
            Path file = dir.resolve("in_trainable_" + version + ".h5");
            KerasFileWriter.writeHdf5(file, version, JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                    Map.of("name", "outer", "layers", List.of(outer)))), Map.of("outer_td", lw));
            Tensor x = random.uniform(1, 2, 3, 2, I);
            Model exp = expected(d, w);
            Tensor flat = x.reshape(6, 2, I);
            Compare.assertIdentical(version + " frozen TimeDistributed in a trainable one",
                    exp.predict(flat).reshape(2, 3, 2, I), KerasModelLoader.load(file).model().predict(x));
        }
    }

    /**
     * A frozen TimeDistributed around Sequential([Sequential([bn0, bn1]), TimeDistributed(Sequential([bn2,
     * bn3]))]), at the top and inside a nested model: tf.keras 2.6 to 2.15 list the variables of the
     * wrapped model, so the model inside it in its own layer order (bn0's four weights, bn1's), and the
     * trainable TimeDistributed inside as its weights: its model's trainable ones, then its
     * non-trainable ones (bn2's and bn3's gamma and beta, then their moving statistics).
     */
    @Test
    void tfKerasListsModelsInsideAFrozenTimeDistributedModelAsTheirVariables() {
        for (String version : List.of("2.6.0", "2.15.0")) {
            for (boolean nested : new boolean[] {false, true}) {
                List<List<Tensor>> w = List.of(normWeights(), normWeights(), normWeights(), normWeights());
                String group = nested ? "m" : "time_distributed";
                String at = nested ? "time_distributed/" : "";
                KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
                for (int l = 0; l < 2; l++) {
                    for (int k = 0; k < 4; k++) {
                        lw.put(at + "inner/bn" + l + "/" + BN[k] + ":0", w.get(l).get(k));
                    }
                }
                for (int[] part : new int[][] {{0, 1}, {2, 3}}) {
                    for (int l = 2; l < 4; l++) {
                        for (int k : part) {
                            lw.put(at + "td2/bn" + l + "/" + BN[k] + ":0", w.get(l).get(k));
                        }
                    }
                }
                Map<String, Object> inner = spec("Sequential", "inner", Map.of("layers", List.of(
                        bnSpec("bn0", nullFirst(2, I)), bnSpec("bn1", null))));
                Map<String, Object> td2 = spec("TimeDistributed", "td2", Map.of("layer", Map.of("class_name",
                        "Sequential", "config", Map.of("name", "inner2", "layers", List.of(
                                bnSpec("bn2", nullFirst(I)), bnSpec("bn3", null))))));
                Map<String, Object> td = new LinkedHashMap<>(spec("TimeDistributed", "time_distributed",
                        new LinkedHashMap<>(Map.of("trainable", false, "layer", Map.of("class_name", "Sequential",
                                "config", Map.of("name", "wrapped", "layers", List.of(inner, td2)))))));
                Map<String, Object> top = nested
                        ? spec("Sequential", "m", Map.of("layers", List.of(withInput(td)))) : withInput(td);
                Path file = dir.resolve("deeper_" + version + "_" + nested + ".h5");
                KerasFileWriter.writeHdf5(file, version, JSON.valueToTree(Map.of("class_name", "Sequential",
                        "config", Map.of("name", "outer", "layers", List.of(top)))), Map.of(group, lw));
                Tensor x = random.uniform(1, 2, 4, 2, I);
                Model exp = expected(null, w);
                Compare.assertIdentical(version + (nested ? " nested" : " top") + ": models inside a frozen "
                        + "TimeDistributed", exp.predict(x.reshape(8, 2, I)).reshape(2, 4, 2, I),
                        KerasModelLoader.load(file).model().predict(x));
            }
        }
    }

    /** A BatchNormalization's Keras 2 config, with the model's input shape where not null. */
    private static Map<String, Object> bnSpec(String name, List<Integer> inputShape) {
        Map<String, Object> cfg = new LinkedHashMap<>(Map.of("axis", -1, "epsilon", 0.001, "center", true,
                "scale", true));
        if (inputShape != null) {
            cfg.put("batch_input_shape", inputShape);
        }
        return spec("BatchNormalization", name, cfg);
    }

    /** The TimeDistributed's spec taking [batch, 4, 2, I]. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> withInput(Map<String, Object> td) {
        Map<String, Object> cfg = new LinkedHashMap<>((Map<String, Object>) td.get("config"));
        cfg.put("batch_input_shape", nullFirst(4, 2, I));
        return Map.of("class_name", td.get("class_name"), "config", cfg);
    }

    /** The BatchNormalization layers (bn0, bn1, ...) as set by hand, run on each step. */
    private static Model expected(List<List<Tensor>> w) {
        return expected(null, w);
    }

    /** The same after {@code first}, where not null. */
    private static Model expected(Dense first, List<List<Tensor>> w) {
        dev.rnnrt.model.SequentialBuilder java = Model.sequential("java").input(-1, I);
        if (first != null) {
            java.add(first);
        }
        for (int l = 0; l < w.size(); l++) {
            BatchNormalization bn = new BatchNormalization("bn" + l, -1, 1e-3, true, true);
            bn.setWeights(w.get(l));
            java.add(bn);
        }
        return java.build();
    }

    private Path write(String name, String version, List<String> names, List<Tensor> values) {
        Map<String, Object> bn0 = spec("BatchNormalization", "bn0", Map.of("axis", -1, "epsilon", 0.001,
                "center", true, "scale", true, "batch_input_shape", nullFirst(I)));
        Map<String, Object> bn1 = spec("BatchNormalization", "bn1", Map.of("axis", -1, "epsilon", 0.001,
                "center", true, "scale", true));
        KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
        for (int k = 0; k < names.size(); k++) {
            lw.put(names.get(k), values.get(k));
        }
        Path file = dir.resolve(name + ".h5");
        KerasFileWriter.writeHdf5(file, version, config(List.of(bn0, bn1)), Map.of("time_distributed", lw));
        return file;
    }

    /** A Keras 2 Sequential holding TimeDistributed(Sequential(layers), trainable=False) over [batch, 4, I]. */
    @SuppressWarnings("unchecked")
    private static JsonNode config(List<Map<String, Object>> layers) {
        Map<String, Object> td = new LinkedHashMap<>(frozenTimeDistributed(layers));
        Map<String, Object> cfg = new LinkedHashMap<>((Map<String, Object>) td.get("config"));
        cfg.put("batch_input_shape", nullFirst(4, I));
        td.put("config", cfg);
        return JSON.valueToTree(Map.of("class_name", "Sequential", "config",
                Map.of("name", "outer", "layers", List.of(td))));
    }

    /** TimeDistributed(Sequential(layers), trainable=False), Keras 2's config. */
    private static Map<String, Object> frozenTimeDistributed(List<Map<String, Object>> layers) {
        return spec("TimeDistributed", "time_distributed", Map.of("trainable", false,
                "layer", Map.of("class_name", "Sequential", "config", Map.of("name", "inner", "layers", layers))));
    }

    private static Map<String, Object> spec(String cls, String name, Map<String, Object> cfg) {
        Map<String, Object> c = new LinkedHashMap<>(cfg);
        c.put("name", name);
        return Map.of("class_name", cls, "config", c);
    }

    private static List<Integer> nullFirst(int... dims) {
        List<Integer> out = new ArrayList<>();
        out.add(null);
        for (int d : dims) {
            out.add(d);
        }
        return out;
    }

    /** BatchNormalization's gamma, beta, moving mean and a positive moving variance, each [I]. */
    private List<Tensor> normWeights() {
        float[] v = random.uniform(0.5, I).data().clone();
        for (int k = 0; k < v.length; k++) {
            v[k] = Math.abs(v[k]) + 0.5f;
        }
        return new ArrayList<>(List.of(random.uniform(1, I), random.uniform(0.5, I), random.uniform(0.5, I),
                Tensor.of(v, I)));
    }
}
