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

    static Mask mask(JsonNode m) {
        if (m == null || m.isNull()) {
            return null;
        }
        boolean[][] v = new boolean[m.size()][];
        for (int b = 0; b < v.length; b++) {
            v[b] = new boolean[m.get(b).size()];
            for (int t = 0; t < v[b].length; t++) {
                v[b][t] = m.get(b).get(t).asInt() != 0;
            }
        }
        return Mask.of(v);
    }

    /**
     * Masked query, value and key under each Keras version's rule, against the fixtures: padded self
     * and cross attention, a key with its own mask, causal attention over leading padding, a
     * sequence with every value step masked, and fully masked rows with large scores (where taking
     * 1e9 off in float32 and exactly uniform weights differ). The output carries the query's mask,
     * except under IGNORED.
     */
    @Test
    void maskedInputsFollowEachKerasRule() {
        JsonNode cases = Fixtures.json("fixtures/layers/multi_head_attention_cases.json").get("masked_cases");
        assertEquals(6, cases.size(), "masked fixture cases");
        for (JsonNode c : cases) {
            List<Tensor> in = Fixtures.tensors(c.get("inputs"));
            List<Mask> masks = new java.util.ArrayList<>();
            c.get("masks").forEach(m -> masks.add(mask(m)));
            for (MultiHeadAttention.MaskRule rule : MultiHeadAttention.MaskRule.values()) {
                String where = c.get("name").asText() + ", " + rule;
                JsonNode e = c.get("expected").get(rule.name().toLowerCase(java.util.Locale.ROOT));
                for (boolean scores : new boolean[] {true, false}) {
                    MultiHeadAttention m = new MultiHeadAttention(null, c.get("num_heads").asInt(), c.get("key_dim").asInt(),
                            c.get("value_dim").asInt(), true, -1, c.get("causal").asBoolean(), scores, rule,
                            dev.rnnrt.backend.cpu.reference.RecurrentReference.INSTANCE);
                    m.setWeights(Fixtures.tensors(c.get("weights")));
                    List<Tensor> out = m.call(in, masks);
                    Compare.assertClose(where, Fixtures.shape(e.get("output")), Fixtures.doubles(e.get("output")),
                            out.get(0), Tolerance.FP32);
                    if (scores) {
                        Compare.assertClose(where + " scores", Fixtures.shape(e.get("scores")),
                                Fixtures.doubles(e.get("scores")), out.get(1), Tolerance.FP32);
                    }
                    List<Mask> outMasks = m.outputMasks(in, masks, out);
                    assertEquals(rule == MultiHeadAttention.MaskRule.IGNORED ? null : masks.get(0), outMasks.get(0), where);
                    if (scores) {
                        assertEquals(null, outMasks.get(1), where + ": the scores carry no mask");
                    }
                }
            }
        }
        // the rules must differ where the fixtures say they do, or the comparisons above prove nothing
        JsonNode large = cases.get(5).get("expected");
        for (String[] pair : new String[][] {{"minus_1e9", "uniform"}, {"uniform", "zeros"}, {"ignored", "uniform"}}) {
            double[] a = Fixtures.doubles(large.get(pair[0]).get("output"));
            double[] b = Fixtures.doubles(large.get(pair[1]).get("output"));
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            assertTrue(diff > 1e-2, pair[0] + " and " + pair[1] + " give the same outputs in the large-scores case");
        }
    }

    /** Which rule each Keras version follows; the scores output and dropout pick the path in Keras 3.7+. */
    @Test
    void maskRulesByKerasVersion() {
        java.util.function.BiFunction<String, boolean[], MultiHeadAttention.MaskRule> of = (v, f) ->
                MultiHeadAttention.MaskRule.of(dev.rnnrt.api.KerasVersion.parse(v), f[0], f[1]);
        boolean[] plain = {false, false};
        boolean[] scores = {true, false};
        boolean[] dropout = {false, true};
        assertEquals(MultiHeadAttention.MaskRule.IGNORED, of.apply("2.4.0", plain));
        assertEquals(MultiHeadAttention.MaskRule.IGNORED, of.apply("2.9.1", scores));
        assertEquals(MultiHeadAttention.MaskRule.MINUS_1E9, of.apply("2.10.0", plain));
        assertEquals(MultiHeadAttention.MaskRule.MINUS_1E9, of.apply("2.15.0", scores));
        assertEquals(MultiHeadAttention.MaskRule.MINUS_1E9, of.apply("3.6.0", plain));
        assertEquals(MultiHeadAttention.MaskRule.UNIFORM, of.apply("3.7.0", plain));
        assertEquals(MultiHeadAttention.MaskRule.MINUS_1E9, of.apply("3.9.2", scores));
        assertEquals(MultiHeadAttention.MaskRule.MINUS_1E9, of.apply("3.8.0", dropout));
        assertEquals(MultiHeadAttention.MaskRule.ZEROS, of.apply("3.10.0", scores));
        assertEquals(MultiHeadAttention.MaskRule.ZEROS, of.apply("3.15.1", dropout));
        assertEquals(MultiHeadAttention.MaskRule.UNIFORM, of.apply("3.15.1", plain));
        assertEquals(MultiHeadAttention.MaskRule.MINUS_1E9, of.apply("3.0.5", plain));
        assertEquals(MultiHeadAttention.MaskRule.MINUS_1E9, of.apply("2.16.1", plain));    // tf_keras
        assertEquals(MultiHeadAttention.MaskRule.UNIFORM, of.apply("3.8.0", plain));
        assertEquals(MultiHeadAttention.MaskRule.MINUS_1E9, of.apply("3.9.2", dropout));
    }

    /**
     * In a model, the output's mask reaches the next layer: pooling averages the kept query steps
     * only, except under IGNORED, where no mask leaves the layer and every step counts.
     */
    @Test
    void theQueryMaskReachesTheNextLayer() {
        JsonNode c = Fixtures.json("fixtures/layers/multi_head_attention_cases.json").get("masked_cases").get(0);
        Tensor x = Fixtures.tensors(c.get("inputs")).get(0);
        Mask keep = mask(c.get("masks").get(0));
        for (MultiHeadAttention.MaskRule rule : MultiHeadAttention.MaskRule.values()) {
            MultiHeadAttention m = new MultiHeadAttention("mha", c.get("num_heads").asInt(), c.get("key_dim").asInt(),
                    c.get("value_dim").asInt(), true, -1, false, false, rule,
                    dev.rnnrt.backend.cpu.reference.RecurrentReference.INSTANCE);
            m.setWeights(Fixtures.tensors(c.get("weights")));
            // Masking(0) gives exactly the fixture's mask once the padded steps are zeroed
            float[] padded = x.data().clone();
            int t = x.dim(1);
            int f = x.dim(2);
            for (int b = 0; b < x.dim(0); b++) {
                for (int s = 0; s < t; s++) {
                    if (!keep.get(b, s)) {
                        java.util.Arrays.fill(padded, (b * t + s) * f, (b * t + s + 1) * f, 0f);
                    }
                }
            }
            Tensor input = Tensor.wrap(padded, x.shape());
            Model model = Model.functional("m").input("x", -1, f).add(Masking.of("masking", 0.0), "x")
                    .add(m, "masking", "masking")
                    .add(new GlobalPooling1D("pool", Pooling1D.Mode.AVERAGE, false), "mha").outputs("pool").build();
            Tensor pooled = model.predict(input);
            Tensor y = m.call(List.of(input, input), Arrays.asList(keep, keep)).get(0);
            if (rule == MultiHeadAttention.MaskRule.IGNORED) {
                y = m.call(List.of(input, input), Arrays.asList(null, null)).get(0);
            }
            int out = y.dim(2);
            double[] expected = new double[x.dim(0) * out];
            for (int b = 0; b < x.dim(0); b++) {
                int n = 0;
                for (int s = 0; s < t; s++) {
                    if (rule == MultiHeadAttention.MaskRule.IGNORED || keep.get(b, s)) {
                        n++;
                        for (int o = 0; o < out; o++) {
                            expected[b * out + o] += y.data()[(b * t + s) * out + o];
                        }
                    }
                }
                for (int o = 0; o < out; o++) {
                    expected[b * out + o] /= n;
                }
            }
            Compare.assertClose(rule.toString(), new int[] {x.dim(0), out}, expected, pooled, Tolerance.FP32);
        }
    }

    @Test
    void mismatchedShapesAreRefused() {
        JsonNode c = Fixtures.json("fixtures/layers/multi_head_attention_cases.json").get("cases").get(0);
        MultiHeadAttention m = fromCase(c, false);
        IllegalArgumentException badMask = assertThrows(IllegalArgumentException.class,
                () -> m.call(Fixtures.tensors(c.get("inputs")), Arrays.asList(Mask.all(2, 4), null)));
        assertTrue(badMask.getMessage().contains("query's mask") && badMask.getMessage().contains("[2, 5]"),
                badMask.getMessage());
        IllegalArgumentException features = assertThrows(IllegalArgumentException.class,
                () -> m.outputShapes(List.of(new int[] {5, 3}, new int[] {5, 4})));
        assertTrue(features.getMessage().contains("query [batch, timesteps, 4]"), features.getMessage());
        IllegalArgumentException weights = assertThrows(IllegalArgumentException.class,
                () -> new MultiHeadAttention("w", 2, 3, 3, true, -1, false, false)
                        .setWeights(List.of(Tensor.zeros(4, 2, 3))));
        assertTrue(weights.getMessage().contains("'w'") && weights.getMessage().contains("8 weights"),
                weights.getMessage());
    }
    /** An output of 2^31 values from small inputs is refused before the projections run, naming the layer. */
    @Test
    void anOutputPastAJavaArrayIsRefusedBeforeRunning() {
        // output_shape 65536 on 32768 query steps: scores and context are small, the output is 2^31 values
        MultiHeadAttention m = new MultiHeadAttention("wide", 1, 1, 1, false, 65536, false, false);
        m.setWeights(List.of(Tensor.zeros(1, 1, 1), Tensor.zeros(1, 1, 1), Tensor.zeros(1, 1, 1),
                Tensor.zeros(1, 1, 65536)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.call(List.of(Tensor.zeros(1, 32768, 1), Tensor.zeros(1, 1, 1)), Arrays.asList(null, null)));
        assertTrue(e.getMessage().contains("'wide'") && e.getMessage().contains("[1, 32768, 65536]")
                && e.getMessage().contains("shorter sequences"), e.getMessage());
        // the same layer on 2 query steps runs
        assertArrayEquals(new int[] {1, 2, 65536},
                m.call(List.of(Tensor.zeros(1, 2, 1), Tensor.zeros(1, 1, 1)), Arrays.asList(null, null)).get(0).shape());
    }
}
