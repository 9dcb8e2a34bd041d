package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Dot against dot_cases.json, made independently with PyTorch's einsum (attention scores and
 * context, time axes, negative axes, vectors, matrix-vector both ways, each with and without
 * normalize); hand-written Luong attention through a model; errors.
 */
class DotTest {

    @Test
    void everyAxesCaseMatchesTheIndependentFixtures() {
        JsonNode cases = Fixtures.json("fixtures/layers/dot_cases.json").get("cases");
        assertEquals(14, cases.size(), "fixture cases");
        for (JsonNode c : cases) {
            Dot dot = new Dot(null, c.get("axes").get(0).asInt(), c.get("axes").get(1).asInt(),
                    c.get("normalize").asBoolean());
            List<Tensor> in = Fixtures.tensors(c.get("inputs"));
            Tensor y = dot.call(in, Arrays.asList(null, null)).get(0);
            JsonNode e = c.get("expected");
            Compare.assertClose(c.get("name").asText(), Fixtures.shape(e), Fixtures.doubles(e), y, Tolerance.REFERENCE);
            int[] declared = dot.outputShapes(List.of(Arrays.copyOfRange(in.get(0).shape(), 1, in.get(0).rank()),
                    Arrays.copyOfRange(in.get(1).shape(), 1, in.get(1).rank()))).get(0);
            assertArrayEquals(Arrays.copyOfRange(y.shape(), 1, y.rank()), declared, c.get("name").asText());
        }
    }

    /** Luong attention written with layers, as Keras tutorials do, equals the Attention layer. */
    @Test
    void handWrittenAttentionEqualsTheAttentionLayer() {
        RandomTensors r = new RandomTensors(7201L);
        Model byHand = Model.functional("luong").input("decoder", -1, 4).input("encoder", -1, 4)
                .add(new Dot("scores", 2, 2, false), "decoder", "encoder")
                .add(ActivationLayer.of("weights", OutputActivation.softmax()), "scores")
                .add(new Dot("context", 2, 1, false), "weights", "encoder")
                .outputs("context").build();
        Tensor decoder = r.uniform(1, 3, 5, 4);
        Tensor encoder = r.uniform(1, 3, 7, 4);
        Tensor expected = new Attention(null, Attention.Score.DOT, false, false, false)
                .call(List.of(decoder, encoder), Arrays.asList(null, null)).get(0);
        Compare.assertClose("Dot, softmax, Dot", expected, byHand.predict(List.of(decoder, encoder)).get(0),
                Tolerance.FP32);
    }

    @Test
    void normalizeCapsTheFactorAsEachKerasVersionDoes() {
        Tensor tiny = Tensor.of(new float[] {1e-7f, 0}, 1, 2);
        Tensor unit = Tensor.of(new float[] {1, 0}, 1, 2);
        float keras3 = new Dot(null, 1, 1, true).call(List.of(tiny, unit), Arrays.asList(null, null)).get(0).data()[0];
        float keras2 = new Dot(null, 1, 1, true, 1e6).call(List.of(tiny, unit), Arrays.asList(null, null)).get(0).data()[0];
        assertEquals(1.0f, keras3, 1e-6f, "Keras 3: 1e-7 times at most 1e7");
        assertEquals(0.1f, keras2, 1e-6f, "tf.keras: 1e-7 times at most 1e6");
    }

    @Test
    void anOutputTooLargeForAnArrayIsRefusedNamingTheLayer() {
        Dot outer = new Dot("outer", 2, 2, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> outer.call(List.of(Tensor.zeros(1, 50_000, 1), Tensor.zeros(1, 50_000, 1)), Arrays.asList(null, null)));
        // one sequence already: smaller batches would not help
        assertTrue(e.getMessage().contains("'outer'") && e.getMessage().contains("[1, 50000, 50000]")
                && e.getMessage().contains("shorter sequences") && !e.getMessage().contains("smaller batches"),
                e.getMessage());
    }

    @Test
    void badInputNamesTheLayerAndTheShapes() {
        Dot dot = new Dot("dot", 2, 2, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> dot.call(List.of(Tensor.zeros(2, 3, 4), Tensor.zeros(2, 5, 6)), Arrays.asList(null, null)));
        assertTrue(e.getMessage().contains("'dot'") && e.getMessage().contains("[2, 3, 4]")
                && e.getMessage().contains("[2, 5, 6]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Dot("d", 0, 1, false));
        IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                () -> dot.outputShapes(List.of(new int[] {2, 3, 4}, new int[] {2, 3, 4})));
        assertTrue(rank.getMessage().contains("rank 2 or 3"), rank.getMessage());
    }
}
