package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.Tolerance;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * MultiHeadAttention against multi_head_attention_cases.json, made independently with numpy's
 * einsum (self and cross attention, a separate key, value_dim and output_shape, causal masks with
 * equal and longer queries, no biases), the scores output, shapes, and what it refuses.
 */
class MultiHeadAttentionTest {

    static MultiHeadAttention fromCase(JsonNode c, boolean scores) {
        return fromCase(c, scores, dev.rnnrt.backend.cpu.reference.RecurrentReference.INSTANCE);
    }

    static MultiHeadAttention fromCase(JsonNode c, boolean scores, dev.rnnrt.backend.RecurrentBackend backend) {
        MultiHeadAttention m = new MultiHeadAttention(null, c.get("num_heads").asInt(), c.get("key_dim").asInt(),
                c.get("value_dim").asInt(), c.get("use_bias").asBoolean(),
                c.get("output_shape").isNull() ? -1 : c.get("output_shape").asInt(), c.get("causal").asBoolean(), scores,
                backend);
        m.setWeights(Fixtures.tensors(c.get("weights")));
        return m;
    }

    @Test
    void everyCaseMatchesTheIndependentFixtures() {
        JsonNode cases = Fixtures.json("fixtures/layers/multi_head_attention_cases.json").get("cases");
        assertEquals(7, cases.size(), "fixture cases");
        for (JsonNode c : cases) {
            String where = c.get("name").asText();
            List<Tensor> in = Fixtures.tensors(c.get("inputs"));
            MultiHeadAttention m = fromCase(c, true);
            List<Tensor> out = m.call(in, Collections.nCopies(in.size(), (Mask) null));
            JsonNode e = c.get("expected");
            Compare.assertClose(where, Fixtures.shape(e), Fixtures.doubles(e), out.get(0), Tolerance.FP32);
            JsonNode s = c.get("scores");
            Compare.assertClose(where + " scores", Fixtures.shape(s), Fixtures.doubles(s), out.get(1), Tolerance.FP32);
            List<int[]> shapes = new java.util.ArrayList<>();
            for (Tensor t : in) {
                shapes.add(Arrays.copyOfRange(t.shape(), 1, 3));
            }
            List<int[]> declared = m.outputShapes(shapes);
            assertArrayEquals(Arrays.copyOfRange(out.get(0).shape(), 1, 3), declared.get(0), where);
            assertArrayEquals(Arrays.copyOfRange(out.get(1).shape(), 1, 4), declared.get(1), where);
            Tensor alone = fromCase(c, false).call(in, Collections.nCopies(in.size(), (Mask) null)).get(0);
            Compare.assertIdentical(where + " without scores", out.get(0), alone);
        }
    }

    /** The projections on the fast CPU path's SGEMM: within fp32 tolerance of the fixtures, on larger random shapes too. */
    @Test
    void fastPathProjectionsMatch() {
        JsonNode cases = Fixtures.json("fixtures/layers/multi_head_attention_cases.json").get("cases");
        for (JsonNode c : cases) {
            List<Tensor> in = Fixtures.tensors(c.get("inputs"));
            Tensor y = fromCase(c, false, RecurrentCpu.INSTANCE).call(in, Collections.nCopies(in.size(), (Mask) null)).get(0);
            JsonNode e = c.get("expected");
            Compare.assertClose(c.get("name").asText() + " fast path", Fixtures.shape(e), Fixtures.doubles(e), y,
                    Tolerance.FP32);
        }
        dev.rnnrt.testing.RandomTensors r = new dev.rnnrt.testing.RandomTensors(8080L);
        MultiHeadAttention ref = new MultiHeadAttention("m", 4, 16, 8, true, 48, false, false);
        MultiHeadAttention fast = new MultiHeadAttention("m", 4, 16, 8, true, 48, false, false, RecurrentCpu.INSTANCE);
        List<Tensor> w = List.of(r.uniform(0.3, 40, 4, 16), r.uniform(0.3, 4, 16), r.uniform(0.3, 40, 4, 16),
                r.uniform(0.3, 4, 16), r.uniform(0.3, 40, 4, 8), r.uniform(0.3, 4, 8), r.uniform(0.3, 4, 8, 48),
                r.uniform(0.3, 48));
        ref.setWeights(w);
        fast.setWeights(w);
        List<Tensor> in = List.of(r.uniform(1, 6, 37, 40), r.uniform(1, 6, 29, 40));
        Compare.assertClose("H=4, key_dim=16, 37 x 29 steps", ref.call(in, Arrays.asList(null, null)).get(0),
                fast.call(in, Arrays.asList(null, null)).get(0), Tolerance.FP32);
    }

    @Test
    void masksAndMismatchedShapesAreRefused() {
        JsonNode c = Fixtures.json("fixtures/layers/multi_head_attention_cases.json").get("cases").get(0);
        MultiHeadAttention m = fromCase(c, false);
        IllegalArgumentException masked = assertThrows(IllegalArgumentException.class,
                () -> Model.functional("m").input("x", -1, 4).add(Masking.of("mask", 0.0), "x")
                        .add(m, "mask", "mask").outputs(m.name()).build());
        assertTrue(masked.getMessage().contains("does not support masking"), masked.getMessage());
        IllegalArgumentException features = assertThrows(IllegalArgumentException.class,
                () -> m.outputShapes(List.of(new int[] {5, 3}, new int[] {5, 4})));
        assertTrue(features.getMessage().contains("query [batch, timesteps, 4]"), features.getMessage());
        IllegalArgumentException weights = assertThrows(IllegalArgumentException.class,
                () -> new MultiHeadAttention("w", 2, 3, 3, true, -1, false, false)
                        .setWeights(List.of(Tensor.zeros(4, 2, 3))));
        assertTrue(weights.getMessage().contains("'w'") && weights.getMessage().contains("8 weights"),
                weights.getMessage());
    }
}
