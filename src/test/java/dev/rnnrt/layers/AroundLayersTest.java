package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The layers around recurrent ones, on hand-checkable values. */
class AroundLayersTest {

    private static final List<Mask> NO_MASK = Collections.singletonList(null);

    @Test
    void denseActsOnTheLastAxis() {
        Dense dense = Dense.builder(2).activation(OutputActivation.of(Activation.RELU)).build();
        dense.setWeights(List.of(Tensor.of(new float[] {1, -1, 2, 0.5f}, 2, 2), Tensor.of(new float[] {0.5f, -4}, 2)));
        // x = [[1, 2], [3, -1]] as [1, 2, 2]: rows -> [1+4+0.5, -1+1-4] = [5.5, -4 -> 0]; [3-2+0.5, -3-0.5-4] = [1.5, 0]
        Tensor y = dense.apply(Tensor.of(new float[] {1, 2, 3, -1}, 1, 2, 2));
        assertArrayEquals(new int[] {1, 2, 2}, y.shape());
        assertArrayEquals(new float[] {5.5f, 0f, 1.5f, 0f}, y.data(), 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> dense.apply(Tensor.zeros(1, 3)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> dense.setWeights(List.of(Tensor.zeros(2, 3), Tensor.zeros(2))));
        assertTrue(e.getMessage().contains("'kernel'") && e.getMessage().contains("[2, 2]")
                && e.getMessage().contains("[2, 3]"), e.getMessage());
    }

    /**
     * Outputs of 2^31 values or more, from small inputs: each layer refuses them before it runs, naming
     * itself, the shape and what to do, where the int count of values used to wrap (to a negative size,
     * or with output_dim 65536 on 2^16 ids to 0).
     */
    @Test
    void denseIsNotBuiltForInputsWithoutFeatures() {
        Dense head = Dense.builder(3).name("head").build();
        for (int size : new int[] {0, -2}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> head.build(size));
            assertTrue(e.getMessage().contains("Layer 'head' (Dense)") && e.getMessage().contains("at least one feature")
                    && e.getMessage().contains("got " + size), e.getMessage());
        }
        // still unbuilt: weights for 4 features are taken
        head.setWeights(List.of(Tensor.of(new float[12], 4, 3), Tensor.of(new float[3], 3)));
        assertEquals(4, head.getWeights().get(0).dim(0));
    }

    @Test
    void outputsPastAJavaArrayAreRefusedBeforeRunning() {
        for (RecurrentBackend backend : List.of(RecurrentReference.INSTANCE, RecurrentCpu.INSTANCE)) {
            Dense wide = Dense.builder(65536).name("wide").backend(backend).build();
            assertTooLarge(() -> wide.apply(Tensor.zeros(1, 32768, 1)), "'wide'", "[1, 32768, 65536]");
            assertEquals(0, wide.parameterCount(), "no weights made before the refusal");
        }
        Embedding emb = Embedding.of("emb", 2, 65536, false, Initializer.zeros());
        assertTooLarge(() -> emb.call(List.of(Tensor.zeros(1, 32768)), NO_MASK), "'emb'", "[1, 32768, 65536]");
        assertTooLarge(() -> emb.call(List.of(Tensor.zeros(1, 65536)), NO_MASK), "'emb'", "[1, 65536, 65536]");
        RepeatVector repeat = RepeatVector.of("rv", 65536);
        assertTooLarge(() -> repeat.call(List.of(Tensor.zeros(1, 32768)), NO_MASK), "'rv'", "[1, 65536, 32768]");
        // 2048 inputs of 2^20 values (one array, passed 2048 times) join to 2^31, along features or time
        List<Tensor> parts = Collections.nCopies(2048, Tensor.zeros(1, 1, 1 << 20));
        assertTooLarge(() -> Merge.concatenate("cat", -1).call(parts, List.of()), "'cat'", "[1, 1, 2147483648]");
        List<Tensor> steps = Collections.nCopies(2048, Tensor.zeros(1, 1 << 20, 1));
        assertTooLarge(() -> Merge.concatenate("cat_t", 1).call(steps, List.of()), "'cat_t'", "[1, 2147483648, 1]");
        // under the limit they still join
        Tensor joined = Merge.concatenate().call(Collections.nCopies(3, Tensor.of(new float[] {1, 2}, 1, 1, 2)),
                List.of()).get(0);
        assertArrayEquals(new int[] {1, 1, 6}, joined.shape());
        assertArrayEquals(new float[] {1, 2, 1, 2, 1, 2}, joined.data());
    }

    private static void assertTooLarge(org.junit.jupiter.api.function.Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' missing from: " + e.getMessage());
        }
        // the advice fits the shape: smaller batches, or shorter sequences where the batch is one already
        assertTrue(e.getMessage().contains(e.getMessage().contains("output of shape [1,") ? "shorter sequences"
                : "smaller batches"), e.getMessage());
    }

    @Test
    void softmaxOverTheLastAxis() {
        OutputActivation softmax = OutputActivation.named("softmax", KerasVersion.KERAS_3);
        float[] v = {0f, (float) Math.log(3), 1000f, 1000f};
        softmax.applyInPlace(v, 2);
        assertArrayEquals(new float[] {0.25f, 0.75f, 0.5f, 0.5f}, v, 1e-6f);
        float[] l = {0f, (float) Math.log(3)};
        OutputActivation.named("log_softmax", KerasVersion.KERAS_3).applyInPlace(l, 2);
        assertEquals(Math.log(0.25), l[0], 1e-6);
    }

    @Test
    void timeDistributedDenseEqualsDenseOnEachStep() {
        Dense dense = Dense.builder(3).kernelInitializer(Initializer.glorotUniform(5))
                .biasInitializer(Initializer.constant(0.1)).build();
        TimeDistributed td = TimeDistributed.of(dense);
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 3, 2);
        Tensor y = td.call(List.of(x), NO_MASK).get(0);
        assertArrayEquals(new int[] {2, 3, 3}, y.shape());
        assertArrayEquals(dense.apply(x).data(), y.data());
        assertArrayEquals(new int[] {-1, 3}, td.outputShapes(List.of(new int[] {-1, 2})).get(0));
    }

    @Test
    void embeddingLooksUpRowsAndMasksZero() {
        Embedding e = Embedding.of("emb", 3, 2, true, Initializer.zeros());
        e.setWeights(List.of(Tensor.of(new float[] {0, 0, 1, 2, 3, 4}, 3, 2)));
        Tensor ids = Tensor.of(new float[] {2, 0, 1}, 1, 3);
        Tensor y = e.call(List.of(ids), NO_MASK).get(0);
        assertArrayEquals(new float[] {3, 4, 0, 0, 1, 2}, y.data());
        Mask m = e.outputMasks(List.of(ids), NO_MASK, List.of(y)).get(0);
        assertTrue(m.get(0, 0) && !m.get(0, 1) && m.get(0, 2));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> e.call(List.of(Tensor.of(new float[] {1, 3}, 1, 2)), NO_MASK));
        assertTrue(bad.getMessage().contains("'emb'") && bad.getMessage().contains("[0, 3)")
                && bad.getMessage().contains("[0, 1]"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> e.call(List.of(Tensor.of(new float[] {0.5f}, 1, 1)), NO_MASK));
        Embedding plain = Embedding.of(3, 2, false);
        assertNull(plain.outputMasks(List.of(ids), NO_MASK, List.of(y)).get(0));
    }

    @Test
    void aBadIdInsideTimeDistributedIsPlacedInTheWrappersInput() {
        // ids [4, 2, 3]: batch row 3, step 1, position 2 holds 9, past the vocabulary of 5
        float[] ids = new float[4 * 2 * 3];
        for (int k = 0; k < ids.length; k++) {
            ids[k] = k % 5;
        }
        ids[(3 * 2 + 1) * 3 + 2] = 9;
        Embedding inner = Embedding.of("emb", 5, 2, false, Initializer.zeros());
        InputValueException flat = assertThrows(InputValueException.class,
                () -> inner.call(List.of(Tensor.of(ids, 8, 3)), NO_MASK));
        assertArrayEquals(new int[] {7, 2}, flat.position());
        TimeDistributed td = TimeDistributed.of("td", inner);
        InputValueException e = assertThrows(InputValueException.class,
                () -> td.call(List.of(Tensor.of(ids, 4, 2, 3)), NO_MASK));
        assertArrayEquals(new int[] {3, 1, 2}, e.position());
        assertTrue(e.getMessage().contains("'td'") && e.getMessage().contains("'emb'")
                && e.getMessage().contains("id 9.0 at [3, 1, 2]"), e.getMessage());
    }

    @Test
    void maskingMasksStepsEqualToTheValueAndZeroesThem() {
        Masking masking = Masking.of(-1.0);
        Tensor x = Tensor.of(new float[] {1, -1, -1, -1, 0, 0}, 1, 3, 2);
        Tensor y = masking.call(List.of(x), NO_MASK).get(0);
        assertArrayEquals(new float[] {1, -1, 0, 0, 0, 0}, y.data());
        Mask m = masking.outputMasks(List.of(x), NO_MASK, List.of(y)).get(0);
        assertTrue(m.get(0, 0));
        assertTrue(!m.get(0, 1));
        assertTrue(m.get(0, 2)); // zeros differ from the mask value -1
    }

    @Test
    void mergeLayers() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 1, 2, 2);
        Tensor b = Tensor.of(new float[] {10, 20, 30, 40}, 1, 2, 2);
        assertArrayEquals(new float[] {11, 22, 33, 44}, Merge.add().call(List.of(a, b), List.of()).get(0).data());
        assertArrayEquals(new float[] {10, 40, 90, 160}, Merge.multiply().call(List.of(a, b), List.of()).get(0).data());
        assertArrayEquals(new float[] {5.5f, 11, 16.5f, 22}, Merge.average().call(List.of(a, b), List.of()).get(0).data());
        Tensor last = Merge.concatenate().call(List.of(a, b), List.of()).get(0);
        assertArrayEquals(new int[] {1, 2, 4}, last.shape());
        assertArrayEquals(new float[] {1, 2, 10, 20, 3, 4, 30, 40}, last.data());
        Tensor time = Merge.concatenate("c", 1).call(List.of(a, b), List.of()).get(0);
        assertArrayEquals(new int[] {1, 4, 2}, time.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 10, 20, 30, 40}, time.data());
        assertArrayEquals(new int[] {-1, 4}, Merge.concatenate().outputShapes(List.of(new int[] {-1, 1}, new int[] {-1, 3})).get(0));
        // Keras 2: masks are ANDed, an input without a mask counting as all true
        Mask m1 = Mask.of(new boolean[][] {{true, false}});
        Mask m2 = Mask.of(new boolean[][] {{false, false}});
        Merge add2 = Merge.of(null, Merge.Mode.ADD, Merge.MaskRule.KERAS_2);
        Mask and = add2.outputMasks(List.of(a, b), Arrays.asList(m1, null), List.of(a)).get(0);
        assertTrue(and.get(0, 0) && !and.get(0, 1));
        Mask both = add2.outputMasks(List.of(a, b), Arrays.asList(m1, m2), List.of(a)).get(0);
        assertTrue(!both.get(0, 0) && !both.get(0, 1));
        assertEquals(List.of(true), add2.outputsMasked(List.of(true, false), 1));
        // Keras 3.0-3.3: no mask passed on
        Merge add30 = Merge.of(null, Merge.Mode.ADD, Merge.MaskRule.of(KerasVersion.parse("3.3.3")));
        assertEquals(null, add30.outputMasks(List.of(a, b), Arrays.asList(m1, m2), List.of(a)).get(0));
        assertEquals(List.of(false), add30.outputsMasked(List.of(true, true), 1));
        assertEquals(Merge.MaskRule.KERAS_3_4, Merge.MaskRule.of(KerasVersion.parse("3.4.0")));
        assertEquals(Merge.MaskRule.KERAS_2, Merge.MaskRule.of(KerasVersion.parse("2.15.0")));
        assertThrows(IllegalArgumentException.class, () -> Merge.add().call(List.of(a), List.of()));
    }

    /**
     * Keras 3.4+ merges with masks: the cases of Keras' own merging_test.py (x1 masked by Masking,
     * x2 unmasked, then both masked), values and output masks as Keras asserts them.
     */
    @Test
    void keras3MergesWithMasksAsKerasTestsThem() {
        Tensor x1 = Tensor.of(new float[] {0, 0, 1, 2, 0, 0, 3, 4}, 1, 4, 2);
        Tensor x2 = Tensor.of(new float[] {0, 0, 0, 0, 1, 2, 3, 4}, 1, 4, 2);
        Tensor n1 = Tensor.of(new float[] {0, 0, -1, -2, 0, 0, -3, -4}, 1, 4, 2);
        Tensor n2 = Tensor.of(new float[] {0, 0, 0, 0, -1, -2, -3, -4}, 1, 4, 2);
        Mask m1 = Mask.of(new boolean[][] {{false, true, false, true}});
        Mask m2 = Mask.of(new boolean[][] {{false, false, true, true}});
        boolean[] or = {false, true, true, true};
        Object[][] cases = {
            {Merge.Mode.ADD, x1, x2, new float[] {0, 0, 1, 2, 1, 2, 6, 8}, new float[] {0, 0, 1, 2, 1, 2, 6, 8}},
            {Merge.Mode.SUBTRACT, x1, x2, new float[] {0, 0, 1, 2, -1, -2, 0, 0}, new float[] {0, 0, 1, 2, -1, -2, 0, 0}},
            {Merge.Mode.AVERAGE, x1, x2, new float[] {0, 0, .5f, 1, .5f, 1, 3, 4}, new float[] {0, 0, .5f, 1, .5f, 1, 3, 4}},
            {Merge.Mode.MULTIPLY, x1, x2, new float[] {0, 0, 0, 0, 1, 2, 9, 16}, new float[] {0, 0, 1, 2, 1, 2, 9, 16}},
            {Merge.Mode.MAXIMUM, n1, n2, new float[] {0, 0, 0, 0, -1, -2, -3, -4}, new float[] {0, 0, -1, -2, -1, -2, -3, -4}},
            {Merge.Mode.MINIMUM, x1, x2, new float[] {0, 0, 0, 0, 1, 2, 3, 4}, new float[] {0, 0, 1, 2, 1, 2, 3, 4}}};
        for (Object[] c : cases) {
            Merge merge = Merge.of(null, (Merge.Mode) c[0], Merge.MaskRule.KERAS_3_4);
            List<Tensor> in = List.of((Tensor) c[1], (Tensor) c[2]);
            List<Mask> oneMasked = Arrays.asList(m1, null);
            Tensor y = merge.call(in, oneMasked).get(0);
            assertArrayEquals((float[]) c[3], y.data(), 0f, c[0] + " with x2 unmasked");
            assertEquals(null, merge.outputMasks(in, oneMasked, List.of(y)).get(0), c[0] + ": no output mask");
            List<Mask> bothMasked = List.of(m1, m2);
            Tensor z = merge.call(in, bothMasked).get(0);
            assertArrayEquals((float[]) c[4], z.data(), 0f, c[0] + " with both masked");
            Mask out = merge.outputMasks(in, bothMasked, List.of(z)).get(0);
            for (int t = 0; t < 4; t++) {
                assertEquals(or[t], out.get(0, t), c[0] + ": the OR of the masks at step " + t);
            }
            assertEquals(List.of(false), merge.outputsMasked(List.of(true, false), 1));
            assertEquals(List.of(true), merge.outputsMasked(List.of(true, true), 1));
        }
        Merge time = Merge.concatenate("c", 1, Merge.MaskRule.KERAS_3_4);
        List<Tensor> in = List.of(x1, x2);
        Tensor joined = time.call(in, Arrays.asList(m1, null)).get(0);
        assertArrayEquals(new float[] {0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 1, 2, 3, 4}, joined.data(), 0f);
        Mask tm = time.outputMasks(in, Arrays.asList(m1, null), List.of(joined)).get(0);
        boolean[] expected = {false, true, false, true, true, true, true, true};
        for (int t = 0; t < 8; t++) {
            assertEquals(expected[t], tm.get(0, t), "Concatenate(axis=1) joins the masks, step " + t);
        }
        Merge features = Merge.concatenate("c", 2, Merge.MaskRule.KERAS_3_4);
        Mask fm = features.outputMasks(in, Arrays.asList(m1, null), List.of(joined)).get(0);
        for (int t = 0; t < 4; t++) {
            assertTrue(fm.get(0, t), "Concatenate(axis=2) with an unmasked input: all true, step " + t);
        }
    }

    @Test
    void subtractMaximumMinimum() {
        Tensor a = Tensor.of(new float[] {1, -2, 3, -4}, 1, 2, 2);
        Tensor b = Tensor.of(new float[] {-10, 20, 3, -40}, 1, 2, 2);
        Tensor c = Tensor.of(new float[] {5, 5, -5, -5}, 1, 2, 2);
        assertArrayEquals(new float[] {11, -22, 0, 36},
                Merge.of(null, Merge.Mode.SUBTRACT).call(List.of(a, b), List.of()).get(0).data());
        assertArrayEquals(new float[] {5, 20, 3, -4},
                Merge.of(null, Merge.Mode.MAXIMUM).call(List.of(a, b, c), List.of()).get(0).data());
        assertArrayEquals(new float[] {-10, -2, -5, -40},
                Merge.of(null, Merge.Mode.MINIMUM).call(List.of(a, b, c), List.of()).get(0).data());
        IllegalArgumentException three = assertThrows(IllegalArgumentException.class,
                () -> dev.rnnrt.model.Model.functional("m").input("a", 2).input("b", 2).input("c", 2)
                        .add(Merge.of("diff", Merge.Mode.SUBTRACT), "a", "b", "c").outputs("diff").build());
        assertTrue(three.getMessage().contains("'diff'") && three.getMessage().contains("takes 2"), three.getMessage());
    }

    @Test
    void repeatVectorFlattenAndNoOps() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        Tensor r = RepeatVector.of(3).call(List.of(x), NO_MASK).get(0);
        assertArrayEquals(new int[] {2, 3, 2}, r.shape());
        assertArrayEquals(new float[] {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}, r.data());
        Tensor f = Flatten.create().call(List.of(r), NO_MASK).get(0);
        assertArrayEquals(new int[] {2, 6}, f.shape());
        // channels_first: Keras moves axis 1 last first, [2, 3, 2] -> [2, 2, 3], then flattens
        Tensor seq = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 3, 2);
        assertArrayEquals(new float[] {1, 3, 5, 2, 4, 6, 7, 9, 11, 8, 10, 12},
                Flatten.named("cf", true).call(List.of(seq), NO_MASK).get(0).data());
        assertArrayEquals(new float[] {1, 2, 3, 4}, Flatten.named("cf", true).call(List.of(x), NO_MASK).get(0).data());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Flatten.named("fl").outputShapes(List.of(new int[] {-1, 4})));
        assertTrue(e.getMessage().contains("'fl'") && e.getMessage().contains("[batch, ?, 4]"), e.getMessage());
        for (InferenceNoOp op : List.of(InferenceNoOp.dropout(0.5), InferenceNoOp.spatialDropout1D(0.2),
                InferenceNoOp.gaussianNoise(0.1))) {
            assertSame(r, op.call(List.of(r), NO_MASK).get(0), op.className());
        }
        assertTrue(InferenceNoOp.spatialDropout1D(0.2).name().startsWith("spatial_dropout1d"));
        ActivationLayer tanh = ActivationLayer.of(OutputActivation.of(Activation.TANH));
        assertEquals((float) Math.tanh(2), tanh.call(List.of(x), NO_MASK).get(0).get(0, 1), 1e-7f);
    }
}
