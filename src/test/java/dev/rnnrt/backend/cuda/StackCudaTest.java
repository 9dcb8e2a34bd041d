package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.StackedRnn;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.StackModels;
import dev.rnnrt.testing.StackModels.Recipe;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Stacked layers and their Dense heads on the CUDA backend as one stack call (values kept on the
 * device, only the last output copied back) against the same model layer by layer on the CPU
 * reference: every recipe of {@link StackModels} (every cell, go_backwards, masks, Bidirectional
 * layers with every merge mode on two streams, Dense between and after recurrent layers, softmax
 * last, six layers: more shapes than the backend keeps; with and without a mask), at a batch
 * that takes the fused step kernels and one that takes cuBLAS, graphs on and off, TF32, each
 * called again on new values (graphs replayed); repeated calls give the same bits and no device
 * memory is lost.
 */
@Tag("gpu")
class StackCudaTest {

    @Test
    void everyRecipeAgainstTheReferenceWithGraphs() {
        GpuAvailable.assume();
        try (RecurrentCuda cuda = RecurrentCuda.open(false, true)) {
            everyRecipe(cuda, new RandomTensors(601L), Tolerance.FP32);
        }
    }

    @Test
    void everyRecipeAgainstTheReferenceWithoutGraphs() {
        GpuAvailable.assume();
        try (RecurrentCuda cuda = RecurrentCuda.open(false, false)) {
            everyRecipe(cuda, new RandomTensors(602L), Tolerance.FP32);
        }
    }

    @Test
    void everyRecipeAgainstTheReferenceInTf32() {
        GpuAvailable.assume();
        try (RecurrentCuda cuda = RecurrentCuda.open(true, true)) {
            everyRecipe(cuda, new RandomTensors(603L), Tolerance.TF32);
        }
    }

    private static void everyRecipe(RecurrentCuda cuda, RandomTensors r, double tolerance) {
        for (Recipe recipe : StackModels.recipes(24)) {
            for (int batch : new int[] {3, 40}) {
                for (boolean masked : new boolean[] {false, true}) {
                    String what = recipe.name() + " B=" + batch + (masked ? " masked" : " without a mask");
                    Model dev = recipe.build(cuda, masked);
                    Model ref = recipe.build(RecurrentReference.INSTANCE, masked);
                    assertEquals(recipe.runs(), dev.stackedRuns(), what);
                    Tensor x = StackModels.input(r, batch, 19, masked);
                    StackModels.sameRandomWeights(r, x, dev, ref);
                    long before = cuda.stackCalls();
                    Compare.assertClose(what, ref.predict(x), dev.predict(x), tolerance);
                    assertEquals(before + 1, cuda.stackCalls(), what + ": one stack call");
                    // the same shapes and weights on new values (and a new mask): kept workspaces,
                    // graphs replayed, so every upload, state reset and copy between stages must happen again
                    Tensor x2 = StackModels.input(r, batch, 19, masked);
                    Compare.assertClose(what + ", new values", ref.predict(x2), dev.predict(x2), tolerance);
                    assertEquals(before + 2, cuda.stackCalls(), what + ": one stack call again");
                }
            }
        }
    }

    @Test
    void largeStackAgainstTheReference() {
        GpuAvailable.assume();
        RandomTensors r = new RandomTensors(604L);
        try (RecurrentCuda cuda = RecurrentCuda.open(false, true)) {
            Model dev = large(cuda);
            Model ref = large(RecurrentReference.INSTANCE);
            Tensor x = r.uniform(1, 24, 40, 96);
            StackModels.sameRandomWeights(r, x, dev, ref);
            Compare.assertClose("LSTM 256 / GRU 256 / LSTM 128 with Dense heads", ref.predict(x), dev.predict(x),
                    Tolerance.FP32);
        }
    }

    /**
     * Keras' RNN(StackedRNNCells) on the device: without a mask, or with one and forwards, its cells
     * run as one stack call; with go_backwards and a mask (the later cells read the mask reversed),
     * cell by cell. Each against the reference, returned states included where asked for.
     */
    @Test
    void stackedCellsAgainstTheReference() {
        GpuAvailable.assume();
        RandomTensors r = new RandomTensors(606L);
        try (RecurrentCuda cuda = RecurrentCuda.open(false, true)) {
            for (boolean backwards : new boolean[] {false, true}) {
                for (boolean masked : new boolean[] {false, true}) {
                    for (boolean states : new boolean[] {false, true}) {
                        for (int batch : new int[] {3, 40}) {
                            String what = "stacked cells, go_backwards=" + backwards + (masked ? ", masked" : "")
                                    + (states ? ", states returned" : "") + ", B=" + batch;
                            StackedRnn dev = stackedCells(cuda, backwards, states);
                            StackedRnn ref = stackedCells(RecurrentReference.INSTANCE, backwards, states);
                            dev.build(10);
                            List<Tensor> w = new ArrayList<>();
                            for (Tensor t : dev.getWeights()) {
                                w.add(r.uniform(0.4, t.shape()));
                            }
                            dev.setWeights(w);
                            ref.setWeights(w);
                            Tensor x = r.uniform(1, batch, 13, 10);
                            List<Mask> mask = java.util.Collections.singletonList(masked ? r.mask(batch, 13, 0.7) : null);
                            long before = cuda.stackCalls();
                            List<Tensor> expected = ref.call(List.of(x), mask);
                            List<Tensor> actual = dev.call(List.of(x), mask);
                            assertEquals(expected.size(), actual.size(), what);
                            for (int k = 0; k < expected.size(); k++) {
                                Compare.assertClose(what + ", output " + k, expected.get(k), actual.get(k), Tolerance.FP32);
                            }
                            boolean oneCall = !states && !(backwards && masked);
                            assertEquals(before + (oneCall ? 1 : 0), cuda.stackCalls(), what + ": stack calls");
                        }
                    }
                }
            }
        }
    }

    /**
     * Files of Keras' old TensorFlow loop: masked steps before the first unmasked one output the
     * initial state (maskedOutputIsState), for a layer given initial states and a Bidirectional one on
     * two lanes, on the device as on the reference.
     */
    @Test
    void maskedStepsThatOutputTheStateAgainstTheReference() {
        GpuAvailable.assume();
        RandomTensors r = new RandomTensors(607L);
        try (RecurrentCuda cuda = RecurrentCuda.open(false, true)) {
            for (int batch : new int[] {3, 40}) {
                dev.rnnrt.layers.RecurrentLayer d = Gru.builder(16).returnSequences(true).maskedOutputIsState(true)
                        .backend(cuda).build();
                dev.rnnrt.layers.RecurrentLayer ref = Gru.builder(16).returnSequences(true).maskedOutputIsState(true)
                        .build();
                d.build(8);
                List<Tensor> w = new ArrayList<>();
                for (Tensor t : d.getWeights()) {
                    w.add(r.uniform(0.4, t.shape()));
                }
                d.setWeights(w);
                ref.setWeights(w);
                Tensor x = r.uniform(1, batch, 9, 8);
                boolean[][] keep = new boolean[batch][9];
                for (int b = 0; b < batch; b++) {
                    for (int t = 0; t < 9; t++) {
                        keep[b][t] = t >= b % 4;                // 0 to 3 leading masked steps
                    }
                }
                Mask mask = Mask.of(keep);
                List<Tensor> h0 = List.of(r.uniform(0.5, batch, 16));
                Compare.assertClose("GRU given h0, B=" + batch, ref.call(x, h0, mask).output(),
                        d.call(x, h0, mask).output(), Tolerance.FP32);
                dev.rnnrt.layers.Bidirectional bd = dev.rnnrt.layers.Bidirectional.of("bi", Lstm.builder(12)
                        .returnSequences(true).maskedOutputIsState(true).backend(cuda).build(),
                        dev.rnnrt.layers.Bidirectional.MergeMode.CONCAT, null, false);
                dev.rnnrt.layers.Bidirectional br = dev.rnnrt.layers.Bidirectional.of("bi", Lstm.builder(12)
                        .returnSequences(true).maskedOutputIsState(true).build(),
                        dev.rnnrt.layers.Bidirectional.MergeMode.CONCAT, null, false);
                bd.build(8);
                List<Tensor> bw = new ArrayList<>();
                for (Tensor t : bd.getWeights()) {
                    bw.add(r.uniform(0.4, t.shape()));
                }
                bd.setWeights(bw);
                br.setWeights(bw);
                List<Tensor> in = new ArrayList<>(List.of(x));
                for (int k = 0; k < 4; k++) {
                    in.add(r.uniform(0.5, batch, 12));
                }
                Compare.assertClose("Bidirectional LSTM given states, B=" + batch,
                        br.call(in, java.util.Collections.singletonList(mask)).get(0),
                        bd.call(in, java.util.Collections.singletonList(mask)).get(0), Tolerance.FP32);
            }
        }
    }

    private static StackedRnn stackedCells(dev.rnnrt.backend.RecurrentBackend be, boolean backwards, boolean states) {
        return StackedRnn.builder(Lstm.builder(24).backend(be).build(), Gru.builder(16).backend(be).build(),
                        Lstm.builder(20).backend(be).build())
                .returnSequences(true).returnState(states).goBackwards(backwards).build();
    }

    private static Model large(dev.rnnrt.backend.RecurrentBackend be) {
        return Model.sequential("large").input(-1, 96)
                .add(Lstm.builder(256).returnSequences(true).backend(be).build())
                .add(Gru.builder(256).returnSequences(true).backend(be).build())
                .add(Dense.builder(192).activation("gelu").build())
                .add(Lstm.builder(128).backend(be).build())
                .add(Dense.builder(10).activation("softmax").build())
                .build();
    }

    /**
     * Two models in turn, one of six recurrent layers (more workspaces than the backend keeps, so
     * each call frees and allocates some, never one of the running stack) and one of three
     * Bidirectional layers (both lanes): every call gives the bits of the first, and the device
     * memory free after the first round is free after 100 more.
     */
    @Test
    void repeatedCallsGiveTheSameBitsAndKeepNoMoreMemory() {
        GpuAvailable.assume();
        RandomTensors r = new RandomTensors(605L);
        try (RecurrentCuda cuda = RecurrentCuda.open(false, true)) {
            Recipe six = StackModels.recipe(16, "six_lstms");
            Recipe heads = StackModels.recipe(16, "bidirectional");
            Model a = six.build(cuda);
            Model b = heads.build(cuda);
            Tensor xa = StackModels.input(r, 5, 11, true);
            Tensor xb = StackModels.input(r, 33, 11, false);
            StackModels.sameRandomWeights(r, xa, a);
            StackModels.sameRandomWeights(r, xb, b);
            Tensor firstA = a.predict(xa);
            Tensor firstB = b.predict(xb);
            // the weights drawn before sameRandomWeights are freed once the GC has cleared their
            // tensors and a call has run: do both before the snapshot, so only a leak can change it
            System.gc();
            Compare.assertIdentical("six layers, after a GC", firstA, a.predict(xa));
            Compare.assertIdentical("bidirectional, after a GC", firstB, b.predict(xb));
            long free = freeBytes();
            for (int k = 0; k < 100; k++) {
                Compare.assertIdentical("six layers, call " + k, firstA, a.predict(xa));
                Compare.assertIdentical("bidirectional, call " + k, firstB, b.predict(xb));
            }
            assertEquals(free, freeBytes(), "device memory free after the first round and after 100 more");
            assertTrue(cuda.stackCalls() >= 202, "stack calls: " + cuda.stackCalls());
        }
    }

    private static long freeBytes() {
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return free[0];
    }
}
