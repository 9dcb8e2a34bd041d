package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.Tolerance;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ReLU (max_value, negative_slope, threshold, values exactly at the threshold), LeakyReLU, ELU,
 * ThresholdedReLU, PReLU (shared axes) and Softmax against activation_layer_cases.json, made
 * independently with PyTorch; what they refuse.
 */
class AdvancedActivationTest {

    @Test
    void everyLayerMatchesTheIndependentFixtures() {
        JsonNode cases = Fixtures.json("fixtures/layers/activation_layer_cases.json").get("cases");
        assertEquals(18, cases.size(), "fixture cases");
        for (JsonNode c : cases) {
            Layer layer = switch (c.get("layer").asText()) {
                case "ReLU" -> AdvancedActivation.relu(null, c.get("max_value").isNull() ? null
                        : c.get("max_value").asDouble(), c.get("negative_slope").asDouble(), c.get("threshold").asDouble());
                case "LeakyReLU" -> AdvancedActivation.leakyRelu(null, c.get("alpha").asDouble());
                case "ELU" -> AdvancedActivation.elu(null, c.get("alpha").asDouble());
                case "ThresholdedReLU" -> AdvancedActivation.thresholdedRelu(null, c.get("theta").asDouble());
                case "PReLU" -> {
                    PRelu p = new PRelu(null);
                    p.setWeights(Fixtures.tensors(c.get("weights")));
                    yield p;
                }
                default -> ActivationLayer.softmaxLayer(null);
            };
            Tensor x = Fixtures.tensor(c.get("input"));
            JsonNode e = c.get("expected");
            Compare.assertClose(c.get("name").asText(), Fixtures.shape(e), Fixtures.doubles(e),
                    layer.call(List.of(x), Collections.singletonList(null)).get(0), Tolerance.REFERENCE);
        }
    }

    /** Keras casts the threshold to the input's float32 before comparing: 0.1f is not above 0.1. */
    @Test
    void thresholdsCompareInFloat32() {
        Tensor x = Tensor.of(new float[] {0.1f, 0.2f}, 1, 2);
        float[] relu = AdvancedActivation.relu(null, null, 0, 0.1).call(List.of(x), Collections.singletonList(null))
                .get(0).data();
        assertEquals(0f, relu[0], "ReLU(threshold=0.1) at 0.1f");
        assertEquals(0.2f, relu[1], "ReLU(threshold=0.1) at 0.2f");
        float[] thresholded = AdvancedActivation.thresholdedRelu(null, 0.1)
                .call(List.of(x), Collections.singletonList(null)).get(0).data();
        assertEquals(0f, thresholded[0], "ThresholdedReLU(theta=0.1) at 0.1f");
    }

    /**
     * Keras computes ThresholdedReLU as {@code inputs * cast(inputs > theta)}: a NaN or −∞ input
     * gives NaN (0 · x), +∞ stays +∞, and x below theta gives 0 of x's sign.
     */
    @Test
    void thresholdedReluMultipliesByTheComparisonAsKerasDoes() {
        multipliesByTheComparison(AdvancedActivation.thresholdedRelu(null, 0.5));
    }

    /**
     * Keras' relu with a threshold computes {@code x * cast(x > threshold)} too (Keras 2.2.3 to 3,
     * before the clip and the negative slope): a NaN or −∞ input gives NaN, +∞ stays +∞.
     */
    @Test
    void reluWithAThresholdMultipliesByTheComparisonAsKerasDoes() {
        multipliesByTheComparison(AdvancedActivation.relu(null, null, 0, 0.5));
    }

    /** x · (x > 0.5): NaN and −∞ give NaN, +∞ stays +∞, −0.7 gives −0, 0.9 stays. */
    private static void multipliesByTheComparison(AdvancedActivation layer) {
        Tensor x = Tensor.of(new float[] {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0.7f, 0.9f}, 1, 5);
        float[] y = layer.call(List.of(x), Collections.singletonList(null)).get(0).data();
        assertTrue(Float.isNaN(y[0]), "NaN in: " + y[0]);
        assertTrue(Float.isNaN(y[1]), "-inf in: " + y[1]);
        assertEquals(Float.POSITIVE_INFINITY, y[2]);
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(y[3]), "-0.7 in: " + y[3]);
        assertEquals(0.9f, y[4]);
    }

    @Test
    void badInputIsRefusedWithTheReason() {
        PRelu prelu = new PRelu("prelu");
        prelu.setWeights(List.of(Tensor.of(new float[] {0.1f, 0.2f, 0.3f}, 1, 3)));
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> prelu.call(List.of(Tensor.zeros(2, 5, 4)), Collections.singletonList(null)));
        assertTrue(shape.getMessage().contains("'prelu'") && shape.getMessage().contains("[1, 3]")
                && shape.getMessage().contains("[batch, 5, 4]"), shape.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AdvancedActivation.relu("r", -1.0, 0, 0));
        IllegalArgumentException masked = assertThrows(IllegalArgumentException.class,
                () -> Model.sequential("m").input(-1, 4).add(Masking.of("masking", 0.0))
                        .add(ActivationLayer.softmaxLayer("soft")).build());
        assertTrue(masked.getMessage().contains("'soft'") && masked.getMessage().contains("does not support masking"),
                masked.getMessage());
    }
}
