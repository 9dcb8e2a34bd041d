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

    /**
     * Calls from many threads at once on the unit-split path finish with the numbers of one call:
     * each run's parts wait for each other at every step, so two runs sharing the pool could each
     * hold the threads the other waits for (it hung in some runs with 4 threads before runs were
     * serialised).
     */
    @Test
    void concurrentCallsOnTheSplitPathFinish() throws Exception {
        Assumptions.assumeTrue(FusedGates.available() != null, "the split path needs the vector gates");
        RandomTensors r = new RandomTensors(909L);
        Lstm lstm = randomLstm(RecurrentCpu.create(Sgemm.best(), 4), 256, 6, r);
        Tensor x = r.uniform(1, 1, 4, 6);
        Tensor expected = lstm.call(x).output();
        java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(6);
        try {
            List<java.util.concurrent.Future<Tensor>> results = new java.util.ArrayList<>();
            for (int c = 0; c < 60; c++) {
                results.add(callers.submit(() -> lstm.call(x).output()));
            }
            for (java.util.concurrent.Future<Tensor> f : results) {
                Compare.assertClose("a concurrent call", expected, f.get(120, java.util.concurrent.TimeUnit.SECONDS),
                        SAME_PATH);    // interpreted and compiled vector tanh can differ in the last bit
            }
        } finally {
            callers.shutdownNow();
        }
    }

    /**
     * A part that fails on a pool thread: the caller gets that failure as it was thrown (not the
     * barrier's "another thread failed"), an Error as an Error, on the split and the batch-split
     * path; the backend works afterwards.
     */
    @Test
    void aWorkersFailureReachesTheCallerAsThrown() {
        Assumptions.assumeTrue(FusedGates.available() != null, "the split path needs the vector gates");
        java.util.concurrent.atomic.AtomicReference<RuntimeException> runtime = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<Error> error = new java.util.concurrent.atomic.AtomicReference<>();
        Sgemm failing = new Watching(Sgemm.best(), () -> {
            if (Thread.currentThread().getName().equals("rnnrt-cpu")) {
                RuntimeException e = runtime.getAndSet(null);
                if (e != null) {
                    throw e;
                }
                Error err = error.getAndSet(null);
                if (err != null) {
                    throw err;
                }
            }
        });
        RandomTensors r = new RandomTensors(17L);
        Lstm lstm = randomLstm(RecurrentCpu.create(failing, FusedGates.available(), 2), 128, 8, r);
        for (int batch : new int[] {1, 4}) {          // 1: units split across the threads; 4: rows split
            IllegalArgumentException original = new IllegalArgumentException("the original failure");
            runtime.set(original);
            RuntimeException got = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                    () -> lstm.call(r.uniform(1, batch, 30, 8)));
            org.junit.jupiter.api.Assertions.assertSame(original, got, "batch " + batch + ": " + got);
            OutOfMemoryError oom = new OutOfMemoryError("simulated");
            error.set(oom);
            org.junit.jupiter.api.Assertions.assertSame(oom, org.junit.jupiter.api.Assertions.assertThrows(
                    OutOfMemoryError.class, () -> lstm.call(r.uniform(1, batch, 30, 8))), "batch " + batch);
        }
        assertEquals(1, lstm.call(r.uniform(1, 1, 30, 8)).output().dim(0));
    }

    /**
     * Split runs take the pool one at a time: with run A held inside its first product (its parts
     * waiting at the barrier), run B does not start its products until A is done.
     */
    @Test
    void splitRunsTakeThePoolOneAtATime() throws Exception {
        Assumptions.assumeTrue(FusedGates.available() != null, "the split path needs the vector gates");
        java.util.concurrent.CountDownLatch aInside = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch releaseA = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<Thread> callerA = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<Thread> callerB = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean bStarted = new java.util.concurrent.atomic.AtomicBoolean();
        Sgemm watching = new Watching(Sgemm.best(), () -> {
            if (Thread.currentThread() == callerA.get() && aInside.getCount() > 0) {
                aInside.countDown();
                try {
                    releaseA.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (Thread.currentThread() == callerB.get()) {
                bStarted.set(true);
            }
        });
        RandomTensors r = new RandomTensors(31L);
        Lstm lstm = randomLstm(RecurrentCpu.create(watching, FusedGates.available(), 3), 192, 5, r);
        Tensor x = r.uniform(1, 1, 6, 5);
        java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.concurrent.Future<Tensor> a = callers.submit(() -> {
                callerA.set(Thread.currentThread());
                return lstm.call(x).output();
            });
            assertTrue(aInside.await(60, java.util.concurrent.TimeUnit.SECONDS), "run A reached its first product");
            java.util.concurrent.Future<Tensor> b = callers.submit(() -> {
                callerB.set(Thread.currentThread());
                return lstm.call(x).output();
            });
            Thread.sleep(300);
            assertFalse(bStarted.get(), "run B computed while run A held the pool");
            releaseA.countDown();
            Compare.assertClose("B after A", a.get(60, java.util.concurrent.TimeUnit.SECONDS),
                    b.get(60, java.util.concurrent.TimeUnit.SECONDS), SAME_PATH);
            assertTrue(bStarted.get());
        } finally {
            releaseA.countDown();
            callers.shutdownNow();
        }
    }

    /**
     * A part that cannot be submitted (the pool refuses it) stops the parts already running, which
     * would otherwise wait for it at the barrier for ever; the caller gets the refusal, and the pool's
     * threads are free again. An interrupted caller gets "Interrupted", with its interrupt flag set.
     */
    @Test
    void aRefusedPartOrAnInterruptStopsEveryPart() throws Exception {
        Assumptions.assumeTrue(FusedGates.available() != null, "the split path needs the vector gates");
        RandomTensors r = new RandomTensors(47L);
        CellSpec cell = new CellSpec(CellKind.LSTM, 192, Activation.TANH, Activation.SIGMOID, false,
                r.uniform(0.1, 5, 4 * 192), r.uniform(0.1, 192, 4 * 192), null);
        SplitUnits.Part[] parts = SplitUnits.plan(cell, Sgemm.best(), 3);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.concurrent.RejectedExecutionException refused =
                    new java.util.concurrent.RejectedExecutionException("simulated");
            java.util.concurrent.atomic.AtomicInteger submits = new java.util.concurrent.atomic.AtomicInteger();
            Tensor x = r.uniform(1, 1, 400, 5);
            List<Tensor> zeros = List.of(Tensor.zeros(1, 192), Tensor.zeros(1, 192));
            java.util.concurrent.RejectedExecutionException got = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.RejectedExecutionException.class, () -> SplitUnits.run(cell,
                            new dev.rnnrt.backend.LoopSpec(false, true, false), x, null, zeros, parts, Sgemm.best(),
                            FusedGates.available(), ChunkPlan.DEFAULT, task -> {
                                if (submits.incrementAndGet() == 2) {
                                    throw refused;
                                }
                                return pool.submit(task);
                            }));
            org.junit.jupiter.api.Assertions.assertSame(refused, got);
            assertEquals("free", pool.submit(() -> "free").get(30, java.util.concurrent.TimeUnit.SECONDS),
                    "the part that was running has stopped");

            Thread.currentThread().interrupt();
            IllegalStateException interrupted = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> SplitUnits.run(cell, new dev.rnnrt.backend.LoopSpec(false, true, false), x, null, zeros, parts,
                            Sgemm.best(), FusedGates.available(), ChunkPlan.DEFAULT, pool::submit));
            assertTrue(Thread.interrupted(), "the interrupt is kept");
            assertTrue(interrupted.getMessage().contains("Interrupted"), interrupted.getMessage());
            assertEquals("free", pool.submit(() -> "free").get(30, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    /** An SGEMM that runs a check before each product. */
    private static final class Watching implements Sgemm {
        private final Sgemm inner;
        private final Runnable before;

        Watching(Sgemm inner, Runnable before) {
            this.inner = inner;
            this.before = before;
        }

        @Override
        public String name() {
            return "watching";
        }

        @Override
        public void multiply(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                             int m, int n, int k, boolean accumulate) {
            before.run();
            inner.multiply(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, m, n, k, accumulate);
        }

        @Override
        public PackedB pack(float[] b, int bOff, int ldb, int k, int n) {
            return inner.pack(b, bOff, ldb, k, n);
        }

        @Override
        public void multiply(float[] a, int aOff, int lda, PackedB b, float[] c, int cOff, int ldc, int m,
                             boolean accumulate) {
            before.run();
            inner.multiply(a, aOff, lda, b, c, cOff, ldc, m, accumulate);
        }
    }

    /** An LSTM on {@code backend} with random weights for {@code input} features. */
    private static Lstm randomLstm(RecurrentCpu backend, int units, int input, RandomTensors r) {
        Lstm lstm = Lstm.builder(units).backend(backend).build();
        lstm.build(input);
        List<Tensor> w = new java.util.ArrayList<>();
        for (Tensor t : lstm.getWeights()) {
            w.add(r.uniform(0.1, t.shape()));
        }
        lstm.setWeights(w);
        return lstm;
    }
}
