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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * TensorOp against tensor_op_cases.json, made independently with numpy (subscripts, element-wise
 * functions, broadcasting, numbers on either side, reductions, concatenate, expand_dims, squeeze,
 * softmax); the declared shapes against the computed ones; masks dropped; errors.
 */
class TensorOpTest {

    static TensorOp fromCase(JsonNode c) {
        String name = c.get("name").asText();
        switch (c.get("op").asText()) {
            case "slice": {
                List<TensorOp.Index> key = new ArrayList<>();
                for (JsonNode k : c.get("key")) {
                    if (k.isTextual()) {
                        key.add(k.asText().equals("...") ? TensorOp.Index.ellipsis() : TensorOp.Index.newAxis());
                    } else if (k.isArray()) {
                        key.add(TensorOp.Index.slice(nullable(k.get(0)), nullable(k.get(1)), nullable(k.get(2))));
                    } else {
                        key.add(TensorOp.Index.at(k.asInt()));
                    }
                }
                return TensorOp.slice(name, key);
            }
            case "unary":
                return TensorOp.unary(name, unary(c.get("function").asText()));
            case "binary": {
                TensorOp.Binary f = TensorOp.Binary.valueOf(c.get("function").asText().toUpperCase(Locale.ROOT));
                return c.has("number") ? TensorOp.binary(name, f, (float) c.get("number").asDouble(),
                        c.get("number_first").asBoolean()) : TensorOp.binary(name, f);
            }
            case "reduce": {
                int[] axes = new int[c.get("axes").size()];
                for (int k = 0; k < axes.length; k++) {
                    axes[k] = c.get("axes").get(k).asInt();
                }
                return TensorOp.reduce(name, TensorOp.Reduce.valueOf(c.get("function").asText().toUpperCase(Locale.ROOT)),
                        c.get("keepdims").asBoolean(), axes);
            }
            case "concatenate":
                return TensorOp.concatenate(name, c.get("axis").asInt());
            case "expand_dims":
                return TensorOp.expandDims(name, c.get("axis").asInt());
            case "squeeze":
                return TensorOp.squeeze(name, c.get("axis").asInt());
            case "softmax":
                return TensorOp.softmax(name, c.get("axis").asInt());
            case "transpose": {
                int[] axes = new int[c.get("axes").size()];
                for (int k = 0; k < axes.length; k++) {
                    axes[k] = c.get("axes").get(k).asInt();
                }
                return TensorOp.transpose(name, axes);
            }
            case "matmul":
                return TensorOp.matmul(name, c.get("transpose_a").asBoolean(), c.get("transpose_b").asBoolean());
            default:
                throw new AssertionError(c.get("op").asText());
        }
    }

    private static Integer nullable(JsonNode v) {
        return v.isNull() ? null : v.asInt();
    }

    private static TensorOp.Unary unary(String f) {
        return f.equals("abs") ? TensorOp.Unary.ABS : TensorOp.Unary.valueOf(f.toUpperCase(Locale.ROOT));
    }

    @Test
    void everyCaseMatchesTheIndependentFixtures() {
        JsonNode cases = Fixtures.json("fixtures/layers/tensor_op_cases.json").get("cases");
        assertEquals(81, cases.size(), "fixture cases");
        for (JsonNode c : cases) {
            String where = c.get("name").asText();
            TensorOp op = fromCase(c);
            List<Tensor> in = Fixtures.tensors(c.get("inputs"));
            Tensor y = op.call(in, Collections.nCopies(in.size(), null)).get(0);
            JsonNode e = c.get("expected");
            int[] shape = Fixtures.shape(e);
            assertArrayEquals(shape, y.shape(), where + " shape");
            if (y.size() > 0) {
                Compare.assertClose(where, shape, Fixtures.doubles(e), y, Tolerance.REFERENCE);
            }
            List<int[]> withoutBatch = new ArrayList<>();
            for (Tensor t : in) {
                withoutBatch.add(Arrays.copyOfRange(t.shape(), 1, t.rank()));
            }
            int[] declared = op.outputShapes(withoutBatch).get(0);
            assertArrayEquals(Arrays.copyOfRange(y.shape(), 1, y.rank()), declared, where + " declared shape");
        }
    }

    /** With the time axis unknown, a slice along it has an unknown size and an index removes it. */
    @Test
    void shapesWithUnknownSizes() {
        TensorOp last = TensorOp.slice("last", List.of(TensorOp.Index.all(), TensorOp.Index.at(-1)));
        assertArrayEquals(new int[] {8}, last.outputShapes(List.of(new int[] {-1, 8})).get(0));
        TensorOp head = TensorOp.slice("head", List.of(TensorOp.Index.all(), TensorOp.Index.slice(0, 3, null)));
        assertArrayEquals(new int[] {-1, 8}, head.outputShapes(List.of(new int[] {-1, 8})).get(0));
        TensorOp mean = TensorOp.reduce("mean", TensorOp.Reduce.MEAN, false, 1);
        assertArrayEquals(new int[] {8}, mean.outputShapes(List.of(new int[] {-1, 8})).get(0));
        TensorOp cat = TensorOp.concatenate("cat", 1);
        assertArrayEquals(new int[] {-1, 8}, cat.outputShapes(List.of(new int[] {-1, 8}, new int[] {4, 8})).get(0));
    }

    /** A model: LSTM sequences, the last step by subscript, |a - b| of two branches, a Dense head; masks dropped. */
    @Test
    void operationsBetweenLayersInAModel() {
        RandomTensors r = new RandomTensors(4711L);
        Lstm lstm = Lstm.builder(4).name("lstm").returnSequences(true).build();
        lstm.build(3);
        List<Tensor> w = new ArrayList<>();
        for (Tensor t : lstm.getWeights()) {
            w.add(r.uniform(0.5, t.shape()));
        }
        lstm.setWeights(w);
        Model m = Model.functional("ops").input("a", -1, 3).input("b", -1, 3)
                .add(Masking.of("mask_a", 0.0), "a").add(lstm, "mask_a")
                .add(TensorOp.slice("last", List.of(TensorOp.Index.all(), TensorOp.Index.at(-1))), "lstm")
                .add(TensorOp.reduce("mean_b", TensorOp.Reduce.MEAN, false, 1), "b")
                .add(TensorOp.slice("first3", List.of(TensorOp.Index.ellipsis(), TensorOp.Index.slice(null, 3, null))),
                        "last")
                .add(TensorOp.binary("diff", TensorOp.Binary.SUBTRACT), "first3", "mean_b")
                .add(TensorOp.unary("abs", TensorOp.Unary.ABS), "diff")
                .outputs("abs", "last").build();
        assertTrue(!m.carriesMask("last"), "operations drop the mask");
        Tensor a = r.uniform(1, 2, 5, 3);
        java.util.Arrays.fill(a.data(), 3 * 3, 5 * 3, 0f);   // row 0: the last two steps masked
        Tensor b = r.uniform(1, 2, 6, 3);
        List<Tensor> out = m.predict(List.of(a, b));
        assertEquals(seqOf(lstm, a).get(0, 2, 0), out.get(1).get(0, 0), 0f, "masked steps repeat step 2's output");
        Tensor seq = Model.sequential("alone").input(-1, 3).add(Masking.of("m", 0.0)).add(lstm).build().predict(a);
        for (int n = 0; n < 2; n++) {
            for (int j = 0; j < 3; j++) {
                double mean = 0;
                for (int t = 0; t < 6; t++) {
                    mean += b.get(n, t, j);
                }
                mean /= 6;
                float lastStep = seq.get(n, 4, j);          // row 0: the output of step 2, repeated
                assertEquals(lastStep, out.get(1).get(n, j), 0f, "x[:, -1]");
                assertEquals(Math.abs(lastStep - mean), out.get(0).get(n, j), 1e-6, "|last - mean|");
            }
        }
    }

    private static Tensor seqOf(Lstm lstm, Tensor a) {
        return Model.sequential("again").input(-1, 3).add(Masking.of("m2", 0.0)).add(lstm).build().predict(a);
    }

    @Test
    void badUsesAreRefusedNamingTheOperation() {
        assertMessage(() -> TensorOp.slice("s", List.of(TensorOp.Index.at(0))).outputShapes(List.of(new int[] {5, 3})),
                "'s'", "batch axis");
        assertMessage(() -> TensorOp.slice("n", List.of(TensorOp.Index.newAxis(), TensorOp.Index.ellipsis()))
                .outputShapes(List.of(new int[] {5, 3})), "'n'", "batch axis");
        assertMessage(() -> TensorOp.slice("s", List.of(TensorOp.Index.all(), TensorOp.Index.at(7)))
                .outputShapes(List.of(new int[] {5, 3})), "index 7", "size 5");
        assertMessage(() -> TensorOp.reduce("r", TensorOp.Reduce.SUM, false, 0).outputShapes(List.of(new int[] {5})),
                "'r'", "batch axis");
        assertMessage(() -> TensorOp.reduce("r", TensorOp.Reduce.SUM, false), "'r'", "every axis");
        assertMessage(() -> TensorOp.binary("b", TensorOp.Binary.ADD)
                .outputShapes(List.of(new int[] {5, 3}, new int[] {4, 3})), "'b'", "[batch, 5, 3]", "[batch, 4, 3]",
                "do not broadcast");
        assertMessage(() -> TensorOp.binary("b", TensorOp.Binary.ADD)      // [B, 5, 4] + [B, 4]: B meets the 5
                .outputShapes(List.of(new int[] {5, 4}, new int[] {4})), "'b'", "different ranks", "batch axis");
        assertMessage(() -> TensorOp.concatenate("c", 0).outputShapes(List.of(new int[] {3}, new int[] {3})),
                "'c'", "batch axis");
        assertMessage(() -> TensorOp.squeeze("q", 1).outputShapes(List.of(new int[] {3})), "'q'", "size 3");
        assertMessage(() -> TensorOp.transpose("t", 1, 0, 2), "'t'", "batch axis");
        assertArrayEquals(new int[] {4, 3}, TensorOp.transpose("neg", 0, -1, 1).outputShapes(List.of(new int[] {3, 4})).get(0),
                "negative axes count from the end, as in numpy");
        assertMessage(() -> TensorOp.matmul("m", false, false).outputShapes(List.of(new int[] {3, 4}, new int[] {5, 2})),
                "'m'", "inner sizes differ");
        assertMessage(() -> TensorOp.slice("e", List.of(TensorOp.Index.ellipsis(), TensorOp.Index.ellipsis())),
                "'e'", "at most one");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
    }
}
