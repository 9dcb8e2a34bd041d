package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Permute, ZeroPadding1D, Cropping1D and UpSampling1D against reshaping_cases.json, made with
 * numpy's transpose, pad, slicing and repeat; shapes, masks refused, errors.
 */
class ReshapingLayersTest {

    private static Layer fromCase(JsonNode c) {
        JsonNode sizes = c.path("sizes");
        return switch (c.get("layer").asText()) {
            case "Permute" -> {
                int[] dims = new int[c.get("dims").size()];
                for (int k = 0; k < dims.length; k++) {
                    dims[k] = c.get("dims").get(k).asInt();
                }
                yield new Permute(null, dims);
            }
            case "ZeroPadding1D" -> TimeResize.zeroPadding(null, sizes.get(0).asInt(), sizes.get(1).asInt());
            case "Cropping1D" -> TimeResize.cropping(null, sizes.get(0).asInt(), sizes.get(1).asInt());
            default -> TimeResize.upSampling(null, sizes.get(0).asInt());
        };
    }

    @Test
    void everyCaseMatchesTheIndependentFixtures() {
        JsonNode cases = Fixtures.json("fixtures/layers/reshaping_cases.json").get("cases");
        assertEquals(12, cases.size(), "fixture cases");
        for (JsonNode c : cases) {
            Layer layer = fromCase(c);
            Tensor x = Fixtures.tensor(c.get("x"));
            Tensor y = layer.call(List.of(x), Arrays.asList((Mask) null)).get(0);
            Compare.assertIdentical(c.get("name").asText(), Fixtures.tensor(c.get("expected")), y);
            int[] declared = layer.outputShapes(List.of(Arrays.copyOfRange(x.shape(), 1, x.rank()))).get(0);
            assertArrayEquals(Arrays.copyOfRange(y.shape(), 1, y.rank()), declared, c.get("name").asText());
        }
    }

    /** The attention block of Keras tutorials: Permute((2, 1)), Dense(T, softmax), Permute((2, 1)), Multiply. */
    @Test
    void handWrittenAttentionBlockRuns() {
        Dense scores = Dense.builder(4).name("scores").activation("softmax").build();
        scores.build(4);
        Model m = Model.functional("attention_block").input("x", 4, 3)
                .add(new Permute("swap", 2, 1), "x").add(scores, "swap").add(new Permute("back", 2, 1), "scores")
                .add(Merge.of("weighted", Merge.Mode.MULTIPLY), "x", "back").outputs("weighted").build();
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 1, 4, 3);
        Tensor y = m.predict(x);
        assertArrayEquals(new int[] {1, 4, 3}, y.shape());
        Tensor swapped = new Permute(null, 2, 1).call(List.of(x), Arrays.asList((Mask) null)).get(0);
        assertEquals(x.get(0, 2, 1), swapped.get(0, 1, 2), 0f);
    }

    @Test
    void masksAndBadShapesAreRefused() {
        IllegalArgumentException masked = assertThrows(IllegalArgumentException.class,
                () -> Model.sequential("m").input(-1, 3).add(Masking.of(0.0)).add(new Permute("p", 2, 1)).build());
        assertTrue(masked.getMessage().contains("'p'") && masked.getMessage().contains("does not support masking"),
                masked.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Permute("bad", 1, 3));
        IllegalArgumentException crop = assertThrows(IllegalArgumentException.class,
                () -> TimeResize.cropping("crop", 2, 2).outputShapes(List.of(new int[] {4, 3})));
        assertTrue(crop.getMessage().contains("'crop'") && crop.getMessage().contains("longer than 4"), crop.getMessage());
        IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                () -> TimeResize.zeroPadding("pad", 1, 1).outputShapes(List.of(new int[] {3})));
        assertTrue(rank.getMessage().contains("'pad'"), rank.getMessage());
    }
}
