package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Normalization against normalization_cases.json, made independently with numpy in float32 the way
 * Keras' call computes (kept axes: the last, time, both, a positive index, none; invert; a zero
 * variance, where the divisor is epsilon): equal to the bit.
 */
class NormalizationTest {

    @Test
    void everyCaseMatchesTheIndependentFixtures() {
        JsonNode cases = Fixtures.json("fixtures/layers/normalization_cases.json").get("cases");
        assertEquals(10, cases.size(), "fixture cases");
        for (JsonNode c : cases) {
            int[] axes = new int[c.get("axis").isNull() ? 0 : c.get("axis").size()];
            for (int k = 0; k < axes.length; k++) {
                axes[k] = c.get("axis").get(k).asInt();
            }
            Normalization n = new Normalization(null, axes, c.get("invert").asBoolean());
            n.setWeights(List.of(Fixtures.tensor(c.get("mean")), Fixtures.tensor(c.get("variance")),
                    Tensor.of(new float[] {1000f})));
            Tensor x = Fixtures.tensor(c.get("x"));
            Tensor y = n.call(List.of(x), Arrays.asList((dev.rnnrt.api.Mask) null)).get(0);
            Compare.assertIdentical(c.get("name").asText(), Fixtures.tensor(c.get("expected")), y);
            int[] shape = Arrays.copyOfRange(x.shape(), 1, x.rank());
            assertArrayEquals(shape, n.outputShapes(List.of(shape)).get(0), c.get("name").asText());
        }
    }

    @Test
    void statisticsThatDoNotFitTheInputAreRefused() {
        Normalization n = new Normalization("norm", new int[] {-1}, false);
        n.setWeights(List.of(Tensor.of(new float[] {0, 0, 0}, 3), Tensor.of(new float[] {1, 1, 1}, 3)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> n.outputShapes(List.of(new int[] {-1, 4})));
        assertTrue(e.getMessage().contains("'norm'") && e.getMessage().contains("[3]") && e.getMessage().contains("[4]"),
                e.getMessage());
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                () -> new Normalization("b", new int[] {0}, false).outputShapes(List.of(new int[] {3})));
        assertTrue(batch.getMessage().contains("batch axis"), batch.getMessage());
        IllegalStateException unset = assertThrows(IllegalStateException.class,
                () -> new Normalization("u", new int[] {-1}, false).call(List.of(Tensor.zeros(1, 3)),
                        Arrays.asList((dev.rnnrt.api.Mask) null)));
        assertTrue(unset.getMessage().contains("'u'"), unset.getMessage());
    }
}
