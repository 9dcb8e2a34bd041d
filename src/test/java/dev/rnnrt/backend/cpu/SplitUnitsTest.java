package dev.rnnrt.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Batches smaller than the thread count split the units across threads: the numbers of the
 * batch-split path on one thread (same products, same order of summation; the JDK's vector exp and
 * tanh can differ in the last bit between their interpreted and compiled forms, so not bit for
 * bit) and of the reference, with masks, initial states, go_backwards and uneven unit ranges.
 */
class SplitUnitsTest {

    private static final List<IntFunction<RecurrentLayerBuilder<?>>> CELLS = List.of(Lstm::builder, Gru::builder);

    /** Split against one thread: last-bit differences in the gates only, carried over a few steps. */
    private static final double SAME_PATH = 1e-6;

    @Test
    void smallBatchesGiveTheNumbersOfOneThreadAndOfTheReference() {
        Assumptions.assumeTrue(FusedGates.available() != null, "the split path needs the vector gates");
        RandomTensors r = new RandomTensors(4711L);
        RecurrentCpu one = RecurrentCpu.create(Sgemm.best(), 1);
        // {threads, batch, time, input, units}: 200 and 195 units in 3 parts are uneven (64, 64, 72 / 64, 64, 67)
        int[][] cases = {{2, 1, 9, 20, 128}, {3, 2, 7, 33, 200}, {3, 1, 12, 5, 195}, {4, 3, 5, 17, 256}};
        for (int[] k : cases) {
            RecurrentCpu split = RecurrentCpu.create(Sgemm.best(), k[0]);
            for (IntFunction<RecurrentLayerBuilder<?>> cell : CELLS) {
                for (int variant = 0; variant < 2; variant++) {
                    boolean masked = variant == 1;
                    compare(r, cell, split, one, k[1], k[2], k[3], k[4], masked, /* backwards */ masked,
                            /* zero output */ masked && k[2] % 2 == 1);
                }
            }
        }
    }

    @Test
    void theSplitIsTakenOnlyWhereItPays() {
        Assumptions.assumeTrue(FusedGates.available() != null, "the split path needs the vector gates");
        FusedGates g = FusedGates.available();
        CellSpec lstm = spec(CellKind.LSTM, true, Activation.TANH);
        assertTrue(SplitUnits.applies(lstm, 1, 2, g));
        assertTrue(SplitUnits.applies(spec(CellKind.GRU, true, Activation.TANH), 1, 2, g));
        assertFalse(SplitUnits.applies(lstm, 2, 2, g), "as many rows as threads: the batch is split");
        assertFalse(SplitUnits.applies(lstm, 1, 1, g), "one thread");
        assertFalse(SplitUnits.applies(lstm, 1, 3, g), "fewer than 64 units per part");
        assertFalse(SplitUnits.applies(lstm, 1, 2, null), "no vector gates");
        assertFalse(SplitUnits.applies(spec(CellKind.GRU, false, Activation.TANH), 1, 2, g), "GRU reset_after=False");
        assertFalse(SplitUnits.applies(spec(CellKind.SIMPLE_RNN, true, Activation.TANH), 1, 2, g), "SimpleRNN");
        assertFalse(SplitUnits.applies(spec(CellKind.LSTM, true, Activation.RELU), 1, 2, g), "not tanh");
    }

    @Test
    void partsStartOnWholeVectorsAndCoverEveryUnitOnce() {
        for (int[] k : new int[][] {{128, 2}, {200, 3}, {195, 3}, {1024, 16}, {130, 2}}) {
            int units = k[0];
            int parts = k[1];
            assertEquals(0, SplitUnits.boundary(units, 0, parts));
            assertEquals(units, SplitUnits.boundary(units, parts, parts));
            for (int p = 0; p < parts; p++) {
                int u0 = SplitUnits.boundary(units, p, parts);
                int u1 = SplitUnits.boundary(units, p + 1, parts);
                assertEquals(0, u0 % SplitUnits.ALIGN, units + " units, part " + p);
                assertTrue(u1 > u0, units + " units, part " + p + " is empty");
            }
        }
    }

    @Test
    void aBrokenBarrierStopsTheWaitingThread() throws InterruptedException {
        SplitUnits.SpinBarrier barrier = new SplitUnits.SpinBarrier(2);
        AtomicReference<Throwable> seen = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                barrier.await();
            } catch (Throwable t) {
                seen.set(t);
            }
        });
        waiter.start();
        Thread.sleep(50);
        barrier.breakIt();
        waiter.join(5000);
        assertFalse(waiter.isAlive(), "the waiting thread is still spinning");
        assertTrue(seen.get() instanceof IllegalStateException, String.valueOf(seen.get()));
        assertEquals("Another thread of this recurrent layer failed.", seen.get().getMessage());
    }

    /** A cell of 128 units on 16 inputs (the weights do not matter to the decision). */
    private static CellSpec spec(CellKind kind, boolean resetAfter, Activation activation) {
        int g = kind.gates() * 128;
        return new CellSpec(kind, 128, activation, Activation.SIGMOID, resetAfter, Tensor.zeros(16, g),
                Tensor.zeros(128, g), null);
    }

    private static void compare(RandomTensors r, IntFunction<RecurrentLayerBuilder<?>> cell, RecurrentCpu split,
                                RecurrentCpu one, int b, int t, int i, int h, boolean masked, boolean backwards,
                                boolean zeroOutput) {
        SameWeights run = new SameWeights(r, () -> cell.apply(h).returnSequences(true).returnState(true)
                .goBackwards(backwards).zeroOutputForMask(zeroOutput), b, t, i, h, masked, split, one);
        List<Tensor> expected = run.outputs.get(0).asList();
        String ctx = run.className + " " + split.name() + " B=" + b + " T=" + t + " I=" + i + " H=" + h + " mask="
                + masked + " seed=" + r.seed();
        for (int k = 0; k < expected.size(); k++) {
            Tensor viaSplit = run.outputs.get(1).asList().get(k);
            Compare.assertClose(ctx + " output " + k + " vs one thread", run.outputs.get(2).asList().get(k),
                    viaSplit, SAME_PATH);
            Compare.assertClose(ctx + " output " + k, expected.get(k), viaSplit, Tolerance.FP32);
        }
    }
}
