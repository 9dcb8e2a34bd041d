package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentOutput;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The workspace kept across calls: a thousand calls with one shape allocate nothing and leak
 * nothing, give the same bits each time, and a changed shape gets a fresh workspace that is right.
 */
@Tag("gpu")
class RecurrentCudaReuseTest {

    @Test
    void aThousandCallsWithOneShapeLeakNothingAndAgree() {
        GpuAvailable.assume();
        RandomTensors r = new RandomTensors(77L);
        try (RecurrentCuda cuda = RecurrentCuda.open(false)) {
            RecurrentLayer layer = layer(cuda, r, 32, 64);
            Tensor x = r.uniform(1, 16, 20, 32);
            Mask mask = r.mask(16, 20, 0.8);
            RecurrentOutput first = layer.call(x, null, mask);
            long freeAfterFirst = freeBytes();
            for (int k = 0; k < 1000; k++) {
                RecurrentOutput again = layer.call(x, null, mask);
                assertArrayEquals(first.asList().get(0).data(), again.asList().get(0).data(), "call " + k);
            }
            assertEquals(freeAfterFirst, freeBytes(), "device memory free after the first call and after 1000 more");
        }
    }

    @Test
    void replacedWeightsAreFreedOnceTheirTensorsAreGone() throws InterruptedException {
        GpuAvailable.assume();
        RandomTensors r = new RandomTensors(80L);
        try (RecurrentCuda cuda = RecurrentCuda.open(false)) {
            RecurrentLayer layer = layer(cuda, r, 256, 256);
            Tensor x = r.uniform(1, 4, 5, 256);
            layer.call(x, null, null);
            long baseline = freeBytes();
            // each setWeights copies, so each call below uploads 2 MiB of new device weights (LSTM, I = H = 256)
            for (int k = 0; k < 200; k++) {
                List<Tensor> w = new ArrayList<>();
                for (Tensor t : layer.getWeights()) {
                    w.add(r.uniform(0.3, t.shape()));
                }
                layer.setWeights(w);
                layer.call(x, null, null);
            }
            for (int k = 0; k < 5; k++) {
                System.gc();
                Thread.sleep(50);
            }
            layer.call(x, null, null); // frees what the collector released
            long leaked = baseline - freeBytes();
            // without freeing, 200 uploads would hold about 400 MiB
            assertTrue(leaked < (16L << 20), "device memory still held after 200 setWeights: " + leaked + " bytes");
        }
    }

    @Test
    void aChangedShapeGetsItsOwnWorkspaceAndMatchesTheReference() {
        GpuAvailable.assume();
        RandomTensors r = new RandomTensors(78L);
        try (RecurrentCuda cuda = RecurrentCuda.open(false)) {
            RecurrentLayer dev = layer(cuda, r, 12, 24);
            RecurrentLayer ref = Lstm.builder(24).returnSequences(true).returnState(true)
                    .backend(RecurrentReference.INSTANCE).build();
            ref.build(12);
            ref.setWeights(dev.getWeights());
            for (int[] bt : new int[][] {{4, 9}, {7, 3}, {4, 9}, {1, 30}}) {
                Tensor x = r.uniform(1, bt[0], bt[1], 12);
                RecurrentOutput expected = ref.call(x, null, null);
                RecurrentOutput actual = dev.call(x, null, null);
                for (int k = 0; k < expected.asList().size(); k++) {
                    Compare.assertClose("B=" + bt[0] + " T=" + bt[1] + " output " + k, expected.asList().get(k),
                            actual.asList().get(k), Tolerance.FP32);
                }
            }
        }
    }

    @Test
    void shapesTakenInTurnGiveTheSameBitsEachRoundAndLeakNothing() {
        GpuAvailable.assume();
        RandomTensors r = new RandomTensors(81L);
        // more shapes than the backend keeps workspaces for, so that rounds evict and re-create them
        int[][] shapes = new int[RecurrentCuda.KEPT_WORKSPACES + 2][];
        for (int k = 0; k < shapes.length; k++) {
            shapes[k] = new int[] {1 + 7 * k, 3 + k};
        }
        try (RecurrentCuda cuda = RecurrentCuda.open(false)) {
            RecurrentLayer layer = layer(cuda, r, 12, 24);
            List<Tensor> inputs = new ArrayList<>();
            List<float[]> first = new ArrayList<>();
            for (int[] bt : shapes) {
                inputs.add(r.uniform(1, bt[0], bt[1], 12));
                first.add(layer.call(inputs.get(inputs.size() - 1), null, null).asList().get(0).data());
            }
            long afterFirstRound = freeBytes();
            for (int round = 0; round < 20; round++) {
                for (int k = 0; k < shapes.length; k++) {
                    assertArrayEquals(first.get(k), layer.call(inputs.get(k), null, null).asList().get(0).data(),
                            "round " + round + ", B=" + shapes[k][0] + " T=" + shapes[k][1]);
                }
            }
            assertEquals(afterFirstRound, freeBytes(), "device memory free after the first round and after 20 more");
        }
    }

    @Test
    void useAfterCloseSaysSo() {
        GpuAvailable.assume();
        RecurrentCuda cuda = RecurrentCuda.open(false);
        RecurrentLayer layer = layer(cuda, new RandomTensors(79L), 4, 8);
        cuda.close();
        cuda.close();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> layer.call(Tensor.wrap(new float[2 * 3 * 4], 2, 3, 4), null, null));
        assertEquals("The CUDA backend (RecurrentCuda) was used after it was closed. Close it (or the Backend.Opened "
                + "holding it) only once the layers and models built with it are done; to run again, open a new one "
                + "(Backend.CUDA.open()) and build or load the model with it.", e.getMessage());
    }

    private static RecurrentLayer layer(RecurrentCuda cuda, RandomTensors r, int in, int h) {
        RecurrentLayer layer = Lstm.builder(h).returnSequences(true).returnState(true).backend(cuda).build();
        layer.build(in);
        List<Tensor> w = new ArrayList<>();
        for (Tensor t : layer.getWeights()) {
            w.add(r.uniform(0.3, t.shape()));
        }
        layer.setWeights(w);
        return layer;
    }

    private static long freeBytes() {
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return free[0];
    }
}
