package dev.rnnrt.backend.cpu;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import dev.rnnrt.backend.RecurrentResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The fast CPU path for batches smaller than the thread count (batch 1 above all), where splitting
 * the batch would leave cores idle: the units are split instead. Each part owns units [u0, u1) of
 * every gate. Per step it multiplies the whole h by its own columns of U (packed once per layer
 * and part), applies the gates to its units and writes them into the other of two h buffers; one
 * barrier per step then lets every part read the whole new h. The input projection is split the
 * same way. Taken for LSTM and GRU (reset_after) with tanh/sigmoid, the cells the vector gates
 * cover. The products and their order of summation are those of the batch-split path.
 */
final class SplitUnits {

    /** Each part needs at least this many units, or the barrier costs more than the split saves. */
    static final int MIN_UNITS_PER_PART = 64;

    /** One part's share: its units, and its columns of W and U (and of the biases). */
    record Part(int u0, int u1, PackedB kernel, PackedB recurrent, float[] inputBias, float[] recurrentBias) {
        int units() {
            return u1 - u0;
        }
    }

    private SplitUnits() {
    }

    /** Whether a call with this batch takes the split path on {@code threads} threads. */
    static boolean applies(CellSpec cell, int batch, int threads, FusedGates gates) {
        boolean cellCovered = cell.kind() == CellKind.LSTM || cell.kind() == CellKind.GRU && cell.resetAfter();
        return gates != null && threads > 1 && batch < threads && cellCovered && FusedGates.covers(cell)
                && cell.units() >= MIN_UNITS_PER_PART * threads;
    }

    /** Splits the units into {@code parts} ranges and packs each range's gate columns of W and U. */
    static Part[] plan(CellSpec cell, Sgemm gemm, int parts) {
        int h = cell.units();
        int gates = cell.kind().gates();
        int in = cell.inputSize();
        float[] bias = cell.bias() == null ? null : cell.bias().data();
        boolean recurrentBias = bias != null && cell.kind() == CellKind.GRU;
        Part[] out = new Part[parts];
        for (int k = 0; k < parts; k++) {
            int u0 = boundary(h, k, parts);
            int u1 = boundary(h, k + 1, parts);
            int width = gates * (u1 - u0);
            float[] w = columns(cell.kernel().data(), in, h, gates, u0, u1, 0);
            float[] u = columns(cell.recurrentKernel().data(), h, h, gates, u0, u1, 0);
            out[k] = new Part(u0, u1, gemm.pack(w, 0, width, in, width), gemm.pack(u, 0, width, h, width),
                    bias == null ? null : columns(bias, 1, h, gates, u0, u1, 0),
                    recurrentBias ? columns(bias, 1, h, gates, u0, u1, gates * h) : null);
        }
        return out;
    }

    /**
     * Where part k's units start: an even share rounded to a multiple of {@value #ALIGN}, so that
     * each part's units fall on the same vector lanes of the gate code as in one whole pass and its
     * columns on whole SGEMM panels.
     */
    static int boundary(int units, int k, int parts) {
        if (k == parts) {
            return units;
        }
        return (int) Math.round((double) units * k / parts / ALIGN) * ALIGN;
    }

    /** Part boundaries fall on multiples of this many units (a vector and a panel). */
    static final int ALIGN = 32;

    /** Of m [rows, gates·H] (from offset), the columns q·H + [u0, u1) of each gate q, side by side. */
    private static float[] columns(float[] m, int rows, int h, int gates, int u0, int u1, int offset) {
        int hu = u1 - u0;
        float[] out = new float[rows * gates * hu];
        for (int r = 0; r < rows; r++) {
            for (int q = 0; q < gates; q++) {
                System.arraycopy(m, offset + r * gates * h + q * h + u0, out, (r * gates + q) * hu, hu);
            }
        }
        return out;
    }

    /** Runs the parts: part 0 on the calling thread, the others through {@code submit}. */
    static RecurrentResult run(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState,
                               Part[] parts, Sgemm gemm, FusedGates gates, ChunkPlan chunks,
                               java.util.function.Function<Callable<Void>, java.util.concurrent.Future<Void>> submit) {
        Shared s = new Shared(cell, loop, x, mask, initialState, parts.length);
        List<java.util.concurrent.Future<Void>> futures = new ArrayList<>();
        try {
            for (int k = 1; k < parts.length; k++) {
                Part part = parts[k];
                futures.add(submit.apply(() -> {
                    s.work(part, gemm, gates, chunks);
                    return null;
                }));
            }
            s.work(parts[0], gemm, gates, chunks);
        } catch (RuntimeException | Error e) {
            // a part failed, or a part could not be submitted (the parts already running would wait for it
            // for ever): break the barrier, wait below for every part to stop, then report the first failure
            s.failure.compareAndSet(null, e);
            s.barrier.breakIt();
        }
        boolean interrupted = false;
        for (java.util.concurrent.Future<Void> f : futures) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;     // stop the parts, but wait for them: the pool is this run's until then
                    s.failure.compareAndSet(null, new IllegalStateException("Interrupted while running "
                            + cell.kind().kerasName(), e));
                    s.barrier.breakIt();
                } catch (java.util.concurrent.ExecutionException e) {
                    break;                  // recorded in s.failure by the part that failed first
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable failed = s.failure.get();
        if (failed instanceof RuntimeException r) {
            throw r;
        }
        if (failed instanceof Error err) {
            throw err;
        }
        return s.result();
    }

    /** The buffers all parts share; each part writes only its own units of them. */
    private static final class Shared {
        private final CellSpec cell;
        private final LoopSpec loop;
        private final Tensor x;
        private final Mask mask;
        private final int batch;
        private final int time;
        private final int units;
        /** h's two buffers: step p reads hs[p % 2] and writes hs[(p + 1) % 2]. */
        private final float[][] hs;
        private final float[] c;
        private final float[] out;
        private final float[] seq;
        private final SpinBarrier barrier;

        Shared(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState, int parts) {
            this.cell = cell;
            this.loop = loop;
            this.x = x;
            this.mask = mask;
            this.batch = x.dim(0);
            this.time = x.dim(1);
            this.units = cell.units();
            this.hs = new float[][] {initialState.get(0).toArray(), new float[batch * units]};
            this.c = cell.kind() == CellKind.LSTM ? initialState.get(1).toArray() : null;
            this.out = new float[batch * units];
            this.seq = loop.returnSequences() ? new float[batch * time * units] : null;
            this.barrier = new SpinBarrier(parts);
        }

        /** The first failure of any part: the one to report (the others only saw the barrier break). */
        private final java.util.concurrent.atomic.AtomicReference<Throwable> failure =
                new java.util.concurrent.atomic.AtomicReference<>();

        void work(Part part, Sgemm gemm, FusedGates gates, ChunkPlan chunks) {
            try {
                steps(part, gemm, gates, chunks);
            } catch (RuntimeException | Error e) {
                failure.compareAndSet(null, e);
                barrier.breakIt();
                throw e;
            }
        }

        private void steps(Part part, Sgemm gemm, FusedGates gates, ChunkPlan chunks) {
            int in = x.dim(2);
            int u0 = part.u0();
            int hu = part.units();
            int width = cell.kind().gates() * hu;
            boolean lstm = cell.kind() == CellKind.LSTM;
            int chunk = chunks.steps(batch, width, time);
            float[] xs = new float[batch * chunk * in];
            float[] proj = new float[batch * chunk * width];
            float[] rec = new float[batch * width];
            float[] xd = x.data();
            for (int s0 = 0; s0 < time; s0 += chunk) {
                int steps = Math.min(chunk, time - s0);
                for (int r = 0; r < batch; r++) {
                    for (int s = 0; s < steps; s++) {
                        System.arraycopy(xd, (r * time + timeOf(s0 + s)) * in, xs, (r * steps + s) * in, in);
                    }
                }
                // this part's columns of the projection: [batch·steps, I] · W[:, its columns] (the
                // gates add the bias)
                gemm.multiply(xs, 0, in, part.kernel(), proj, 0, width, batch * steps, false);
                for (int s = 0; s < steps; s++) {
                    int p = s0 + s;
                    int t = timeOf(p);
                    float[] hIn = hs[p % 2];
                    float[] hOut = hs[(p + 1) % 2];
                    // rec[batch, its columns] = h[batch, H] · U[:, its columns]
                    gemm.multiply(hIn, 0, units, part.recurrent(), rec, 0, width, batch, false);
                    for (int r = 0; r < batch; r++) {
                        int hr = r * units + u0;
                        System.arraycopy(hIn, hr, hOut, hr, hu); // the state stays where the step is masked
                        if (mask != null && !mask.get(r, t)) {
                            if (loop.zeroOutputForMask()) {
                                Arrays.fill(out, hr, hr + hu, 0f);
                            }
                        } else {
                            if (lstm) {
                                gates.lstm(proj, (r * steps + s) * width, rec, r * width, part.inputBias(), 0, c,
                                        hOut, hr, hu, cell.recurrentActivation());
                            } else {
                                gates.gruResetAfter(proj, (r * steps + s) * width, rec, r * width, part.inputBias(), 0,
                                        part.recurrentBias(), 0, hOut, hr, hu, cell.recurrentActivation());
                            }
                            System.arraycopy(hOut, hr, out, hr, hu);
                        }
                        if (seq != null) {
                            System.arraycopy(out, hr, seq, (r * time + p) * units + u0, hu);
                        }
                    }
                    // every part has written its units of hOut and read all of hIn
                    barrier.await();
                }
            }
        }

        private int timeOf(int p) {
            return loop.goBackwards() ? time - 1 - p : p;
        }

        RecurrentResult result() {
            List<Tensor> states = new ArrayList<>();
            states.add(Tensor.wrap(hs[time % 2], batch, units));
            if (c != null) {
                states.add(Tensor.wrap(c, batch, units));
            }
            Tensor output = seq != null ? Tensor.wrap(seq, batch, time, units) : Tensor.wrap(out, batch, units);
            return new RecurrentResult(output, states);
        }
    }

    /**
     * A barrier for a fixed number of threads that spins (a step takes microseconds, far less than
     * parking a thread). If one party fails it breaks the barrier, and the others stop waiting.
     */
    static final class SpinBarrier {
        private final int parties;
        private final AtomicInteger arrived = new AtomicInteger();
        private volatile int generation;
        private volatile boolean broken;

        SpinBarrier(int parties) {
            this.parties = parties;
        }

        void await() {
            int g = generation;
            if (arrived.incrementAndGet() == parties) {
                arrived.set(0);
                generation = g + 1;
                return;
            }
            int spins = 0;
            while (generation == g) {
                if (broken) {
                    throw new IllegalStateException("Another thread of this recurrent layer failed.");
                }
                if (Thread.currentThread().isInterrupted()) {
                    // the caller records this as the failure before breaking the barrier for the others
                    throw new IllegalStateException("Interrupted while running a recurrent layer.");
                }
                if (++spins < 10_000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield(); // more threads than cores: let the others run
                }
            }
        }

        void breakIt() {
            broken = true;
        }
    }
}
