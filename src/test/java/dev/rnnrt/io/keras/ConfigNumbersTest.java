package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The numbers of layer configs: NaN and the infinities as Python's json module writes them (bare
 * NaN, Infinity, -Infinity tokens, which are not JSON), and values that are not numbers, refused
 * rather than read as Keras' default.
 */
class ConfigNumbersTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final RandomTensors random = new RandomTensors(4242);
    private final Tensor kernel = random.uniform(0.5, 2, 12);
    private final Tensor recurrent = random.uniform(0.5, 3, 12);
    private final Tensor bias = random.uniform(0.5, 12);

    private static Map<String, Object> layer(String cls, String name, Map<String, Object> cfg) {
        Map<String, Object> c = new LinkedHashMap<>(cfg);
        c.put("name", name);
        return Map.of("class_name", cls, "config", c);
    }

    /** Sequential: [before], LSTM(3, return_sequences) over [5, 2], [after]; tf.keras 2.15. */
    private Path model(String file, Map<String, Object> before, Map<String, Object> after) {
        List<Map<String, Object>> layers = new ArrayList<>();
        Map<String, Object> lstmCfg = new LinkedHashMap<>(Map.of("units", 3, "return_sequences", true));
        if (before == null) {
            lstmCfg.put("batch_input_shape", Arrays.asList(null, 5, 2));
        } else {
            Map<String, Object> first = new LinkedHashMap<>(before);
            @SuppressWarnings("unchecked")
            Map<String, Object> cfg = new LinkedHashMap<>((Map<String, Object>) first.get("config"));
            cfg.put("batch_input_shape", Arrays.asList(null, 5, 2));
            first.put("config", cfg);
            layers.add(first);
        }
        layers.add(layer("LSTM", "lstm", lstmCfg));
        if (after != null) {
            layers.add(after);
        }
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "s", "layers", layers)));
        Map<String, KerasFileWriter.LayerWeights> w = new LinkedHashMap<>();
        w.put("lstm", new KerasFileWriter.LayerWeights().put("lstm/kernel:0", kernel)
                .put("lstm/recurrent_kernel:0", recurrent).put("lstm/bias:0", bias));
        Path p = dir.resolve(file);
        KerasFileWriter.writeHdf5(p, "2.15.0", config, w);
        return p;
    }

    /** As {@link #model}, without a layer before the LSTM, as a Keras 3 ".keras" archive. */
    private Path keras3Model(String file, Map<String, Object> after) throws java.io.IOException {
        Map<String, Object> lstmCfg = new LinkedHashMap<>(Map.of("units", 3, "return_sequences", true));
        lstmCfg.put("batch_input_shape", Arrays.asList(null, 5, 2));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "s",
                "layers", List.of(layer("LSTM", "lstm", lstmCfg), after))));
        Path p = dir.resolve(file);
        KerasFileWriter.writeKeras(p, config, Map.of("lstm/cell", List.of(kernel, recurrent, bias)));
        return p;
    }

    /**
     * LeakyReLU with both alpha (Keras 2's name) and negative_slope: Keras 3 takes alpha
     * (keras/src/layers/activations/leaky_relu.py: a given alpha replaces negative_slope); Keras 2
     * does not load such a config.
     */
    @Test
    void leakyReluTakesAlphaOverNegativeSlopeAsKeras3Does() throws java.io.IOException {
        Tensor x = random.uniform(1, 4, 5, 2);
        Map<String, Object> both = new LinkedHashMap<>();
        both.put("negative_slope", 0.5);
        both.put("alpha", 0.1);
        Tensor actual = KerasModelLoader.load(keras3Model("both.keras", layer("LeakyReLU", "leaky", both)))
                .model().predict(x);
        Tensor alpha = KerasModelLoader.load(keras3Model("alpha.keras",
                layer("LeakyReLU", "leaky", Map.of("negative_slope", 0.1)))).model().predict(x);
        Tensor slope = KerasModelLoader.load(keras3Model("slope.keras",
                layer("LeakyReLU", "leaky", Map.of("negative_slope", 0.5)))).model().predict(x);
        Compare.assertIdentical("LeakyReLU(negative_slope=0.5, alpha=0.1) as negative_slope=0.1", alpha, actual);
        assertTrue(Compare.relativeError(toDouble(slope), alpha.data()) > 1e-3, "the two slopes differ on these inputs");
    }

    private static double[] toDouble(Tensor t) {
        double[] d = new double[t.size()];
        for (int k = 0; k < d.length; k++) {
            d[k] = t.data()[k];
        }
        return d;
    }

    /**
     * Masking(mask_value=NaN) masks nothing (Keras' inputs != NaN is true everywhere, NaN inputs
     * included), and ReLU(max_value=Infinity) is a plain relu: the files hold the bare tokens.
     */
    @Test
    void nanAndInfinityAsPythonWritesThemLoadAndActAsInKeras() {
        Tensor x = random.uniform(1, 4, 5, 2);
        Path plain = model("plain.h5", null, layer("ReLU", "relu", Map.of()));
        Path masked = model("nan_mask.h5", layer("Masking", "masking", Map.of("mask_value", Double.NaN)),
                layer("ReLU", "relu", Map.of("max_value", Double.POSITIVE_INFINITY, "negative_slope", 0.0)));
        String json = KerasFileWriter.pythonJson(JSON.valueToTree(Map.of("v", Double.NaN, "w", Double.NEGATIVE_INFINITY)));
        assertTrue(json.contains("NaN") && !json.contains("\"NaN\"") && json.contains("-Infinity"), json);
        Tensor expected = KerasModelLoader.load(plain).model().predict(x);
        Tensor actual = KerasModelLoader.load(masked).model().predict(x);
        Compare.assertClose("Masking(NaN) and ReLU(max_value=Infinity)", expected, actual, Tolerance.FP32);
        // a step of NaN features is not masked either: sequence 0 turns NaN from it on, the others do not move
        float[] v = x.toArray();
        v[2] = Float.NaN;
        v[3] = Float.NaN;
        float[] out = KerasModelLoader.load(masked).model().predict(Tensor.wrap(v, 4, 5, 2)).data();
        for (int k = 0; k < out.length; k++) {
            int sequence = k / 15;
            int step = k / 3 % 5;
            if (sequence == 0 && step >= 1) {
                assertTrue(Float.isNaN(out[k]), "sequence 0, step " + step + " after its NaN step: " + out[k]);
            } else {
                assertEquals(actual.data()[k], out[k], 1e-5 * (1 + Math.abs(actual.data()[k])), "element " + k);
            }
        }
    }

    @Test
    void aNumberThatIsNullOrTextIsRefusedNamingTheLayer() {
        Path theta = model("theta.h5", null, layer("ThresholdedReLU", "thresholded", Map.of("theta", "null")));
        // a Keras 2.0-2.4 ThresholdedReLU saved with theta=None; tf.keras 2.4+ refuses it itself
        JsonNode nullTheta = JSON.createObjectNode().set("theta", JSON.nullNode());
        Path thetaNull = model("theta_null.h5", null, layer("ThresholdedReLU", "thresholded", JSON.convertValue(nullTheta,
                JSON.getTypeFactory().constructMapType(Map.class, String.class, Object.class))));
        Path alpha = model("alpha.h5", null, layer("LeakyReLU", "leaky", Map.of("alpha", "0.5")));
        Path epsilon = model("epsilon.h5", null, layer("LayerNormalization", "norm", Map.of("epsilon", List.of(1e-3))));
        for (Object[] c : new Object[][] {
            {theta, "'thresholded' (ThresholdedReLU): theta is \"null\"; expected a number (Keras' default is 1.0)"},
            {thetaNull, "'thresholded' (ThresholdedReLU): theta is null; expected a number (Keras' default is 1.0)"},
            {alpha, "'leaky' (LeakyReLU): alpha is \"0.5\"; expected a number (Keras' default is 0.3)"},
            {epsilon, "'norm' (LayerNormalization): epsilon is [0.001]; expected a number"}}) {
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> KerasModelLoader.load((Path) c[0]));
            assertTrue(e.getMessage().contains((String) c[1]), e.getMessage());
        }
    }
}
