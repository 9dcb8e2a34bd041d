package dev.rnnrt.backend.cpu;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The fast CPU backend. Same semantics as the reference ({@code RecurrentReference}), computed
 * the way fast RNN implementations are:
 * <ul>
 *   <li>the input projection of a chunk of timesteps ({@link ChunkPlan}) is one GEMM,
 *       [rows·steps, I] × [I, G]; the vector gates add the biases as they read it (the scalar
 *       gates, after the GEMM);</li>
 *   <li>each step is one recurrent GEMM, [rows, H] × [H, G], and one fused pass over the gates
 *       that applies the activations, updates the states, the mask and the output in place (GRU
 *       with reset_after=False adds the second, reset-gated product (r⊙h)·U_h);</li>
 *   <li>the batch is split across threads, each running its rows through every step, so steps
 *       need no synchronisation; a batch smaller than the thread count (batch 1) splits the units
 *       instead, with one barrier per step ({@link SplitUnits});</li>
 *   <li>the weights are packed for the SGEMM once per layer and kept while the layer lives; the
 *       other buffers are allocated once per call, none inside the time loop.</li>
 * </ul>
 * float32 storage; LSTM and GRU gates with tanh and sigmoid or hard_sigmoid (either Keras
 * version's), and SimpleRNN with tanh, relu, sigmoid or linear, run as Vector API lanes in float32
 * when the module is present ({@link FusedGates}), other activations as scalar float64. Safe to
 * call from several threads at once.
 */
public final class RecurrentCpu implements RecurrentBackend {

    /** The fastest SGEMM available and every core. */
    public static final RecurrentCpu INSTANCE = new RecurrentCpu(Sgemm.best(), Runtime.getRuntime().availableProcessors(),
            ChunkPlan.DEFAULT);

    private final Sgemm gemm;
    private final FusedGates gates;
    /** Packed weights per layer: weights never change under a CellSpec (setWeights makes a new one). */
    private final java.util.Map<CellSpec, Packed> packedCache =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
    /** Per-part packed columns for batches smaller than the thread count ({@link SplitUnits}). */
    private final java.util.Map<CellSpec, SplitUnits.Part[]> splitCache =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
    private final int threads;
    /** Steps per input projection. */
    private final ChunkPlan chunks;
    private volatile ExecutorService pool;
    /** Held by the one unit-split run that uses the pool at a time ({@link SplitUnits}). */
    private final java.util.concurrent.locks.ReentrantLock splitLock = new java.util.concurrent.locks.ReentrantLock();

    private RecurrentCpu(Sgemm gemm, int threads, ChunkPlan chunks) {
        this(gemm, gemm instanceof VectorSgemm ? FusedGates.available() : null, threads, chunks);
    }

    private RecurrentCpu(Sgemm gemm, FusedGates gates, int threads, ChunkPlan chunks) {
        this.gemm = gemm;
        this.gates = gates;
        this.threads = Math.max(1, threads);
        this.chunks = chunks;
    }

    /** With given gate code (tests run the unit-split path over an SGEMM of their own). */
    static RecurrentCpu create(Sgemm gemm, FusedGates gates, int threads) {
        return new RecurrentCpu(gemm, gates, threads, ChunkPlan.DEFAULT);
    }

    /** A backend with a given SGEMM and thread count (tests and benchmarks compare them). */
    public static RecurrentCpu create(Sgemm gemm, int threads) {
        return new RecurrentCpu(gemm, threads, ChunkPlan.DEFAULT);
    }

    /** As {@link #create(Sgemm, int)} with another chunk plan (tests force many small chunks). */
    static RecurrentCpu create(Sgemm gemm, int threads, ChunkPlan chunks) {
        return new RecurrentCpu(gemm, threads, chunks);
    }

    @Override
    public String name() {
        return "cpu-" + gemm.name() + "-" + threads + "t";
    }

    /** x is [B, T, I], mask [B, T] or null, states each [B, H]. */
    @Override
    public RecurrentResult forward(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState) {
        if (SplitUnits.applies(cell, x.dim(0), threads, gates)) {
            // fewer rows than threads: split the units across the threads instead of the batch
            SplitUnits.Part[] parts = splitCache.computeIfAbsent(cell, c -> SplitUnits.plan(c, gemm, threads));
            // one split run at a time: its parts wait for each other at every step, so two runs' parts
            // sharing the pool could each hold threads the other's parts wait for
            try {
                splitLock.lockInterruptibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting to run " + cell.kind().kerasName(), e);
            }
            try {
                return SplitUnits.run(cell, loop, x, mask, initialState, parts, gemm, gates, chunks,
                        task -> pool().submit(task));
            } finally {
                splitLock.unlock();
            }
        }
        int batch = x.dim(0);
        int time = x.dim(1);
        int units = cell.units();
        float[] seq = loop.returnSequences() ? new float[batch * time * units] : null;
        float[] last = new float[batch * units];
        int stateCount = cell.kind().stateCount();
        float[][] states = new float[stateCount][batch * units];
        int parts = Math.min(threads, batch);
        Packed packed = packedCache.computeIfAbsent(cell, this::pack);
        List<Future<?>> futures = new ArrayList<>();
        for (int p = 1; p < parts; p++) {
            int b0 = batch * p / parts;
            int b1 = batch * (p + 1) / parts;
            futures.add(pool().submit(() -> new Rows(cell, loop, x, mask, initialState, b0, b1)
                    .run(packed, seq, last, states)));
        }
        new Rows(cell, loop, x, mask, initialState, 0, batch / parts).run(packed, seq, last, states);
        await(futures, cell.kind().kerasName());
        Tensor out = seq != null ? Tensor.wrap(seq, batch, time, units) : Tensor.wrap(last, batch, units);
        List<Tensor> st = new ArrayList<>();
        for (float[] s : states) {
            st.add(Tensor.wrap(s, batch, units));
        }
        return new RecurrentResult(out, st);
    }

    /**
     * Dense's affine map on this backend's SGEMM: the kernel packed once per kernel tensor and kept
     * while it lives, the rows split across the threads ({@value #MIN_AFFINE_ROWS} at least each),
     * the bias added to each row. float32 accumulation, within 1e-5 of the float64 reference.
     */
    @Override
    public float[] affine(float[] x, int rows, Tensor kernel, Tensor bias) {
        int in = kernel.dim(0);
        int units = kernel.dim(1);
        PackedB packed = packedKernels.computeIfAbsent(kernel, k -> gemm.pack(k.data(), 0, units, in, units));
        float[] y = new float[rows * units];
        float[] b = bias == null ? null : bias.data();
        int parts = Math.max(1, Math.min(threads, rows / MIN_AFFINE_ROWS));
        List<Future<?>> futures = new ArrayList<>();
        for (int p = 1; p < parts; p++) {
            int r0 = rows * p / parts;
            int r1 = rows * (p + 1) / parts;
            futures.add(pool().submit(() -> affineRows(x, in, packed, b, y, units, r0, r1)));
        }
        affineRows(x, in, packed, b, y, units, 0, rows / parts);
        await(futures, "a Dense layer");
        return y;
    }

    /** Waits for the tasks; a task's RuntimeException or Error is rethrown as it was thrown. */
    private static void await(List<Future<?>> futures, String what) {
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while running " + what, e);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof RuntimeException r) {
                    throw r;
                }
                if (c instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(c);
            }
        }
    }

    /** Rows of Dense's output from a thread of its own. */
    static final int MIN_AFFINE_ROWS = 16;

    /** Packed Dense kernels, by tensor (identity): weights never change under a tensor. */
    private final java.util.Map<Tensor, PackedB> packedKernels =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    /** y[r0:r1] = x[r0:r1] · kernel (+ bias). */
    private void affineRows(float[] x, int in, PackedB kernel, float[] bias, float[] y, int units, int r0, int r1) {
        if (r1 <= r0) {
            return;
        }
        gemm.multiply(x, r0 * in, in, kernel, y, r0 * units, units, r1 - r0, false);
        if (bias != null) {
            for (int r = r0; r < r1; r++) {
                for (int u = 0; u < units; u++) {
                    y[r * units + u] += bias[u];
                }
            }
        }
    }

    /** The GEMMs' B operands, packed once per layer and shared by the threads (read only). */
    private record Packed(PackedB kernel, PackedB recurrent, PackedB recurrentH) {
    }

    /** W [I, G]; U [H, 0:width] (width 2H, z and r, for a GRU with reset_after=False); U_h = U[H, 2H:3H]. */
    private Packed pack(CellSpec cell) {
        int g = cell.gateWidth();
        int h = cell.units();
        boolean resetBefore = cell.kind() == CellKind.GRU && !cell.resetAfter();
        float[] u = cell.recurrentKernel().data();
        return new Packed(gemm.pack(cell.kernel().data(), 0, g, cell.inputSize(), g),
                gemm.pack(u, 0, g, h, resetBefore ? 2 * h : g),
                resetBefore ? gemm.pack(u, 2 * h, g, h, h) : null);
    }

    private ExecutorService pool() {
        ExecutorService p = pool;
        if (p == null) {
            synchronized (this) {
                if (pool == null) {
                    pool = Executors.newFixedThreadPool(threads - 1 > 0 ? threads - 1 : 1, r -> {
                        Thread t = new Thread(r, "rnnrt-cpu");
                        t.setDaemon(true);
                        return t;
                    });
                }
                p = pool;
            }
        }
        return p;
    }

    /** Rows [b0, b1) of the batch through every step, with their own workspace. */
    private final class Rows {
        private final CellSpec cell;
        private final LoopSpec loop;
        private final Tensor x;
        private final Mask mask;
        private final int b0;
        private final int rows;
        private final int time;
        private final int in;
        private final int units;
        private final int g;
        private final float[] h;
        private final float[] c;
        private final float[] out;
        /** Whether the vector gates run this cell ({@link FusedGates#covers}). */
        private final boolean vectorGates;
        /** [G], or [2, G] for a GRU with reset_after (input row, recurrent row); null without bias. */
        private final float[] bias;

        Rows(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState, int b0, int b1) {
            this.cell = cell;
            this.loop = loop;
            this.x = x;
            this.mask = mask;
            this.b0 = b0;
            this.rows = b1 - b0;
            this.time = x.dim(1);
            this.in = x.dim(2);
            this.units = cell.units();
            this.g = cell.gateWidth();
            this.h = slice(initialState.get(0), b0, rows, units);
            this.c = cell.kind() == CellKind.LSTM ? slice(initialState.get(1), b0, rows, units) : null;
            this.out = new float[rows * units];
            this.bias = cell.bias() == null ? null : cell.bias().data();
            this.vectorGates = gates != null && FusedGates.covers(cell);
        }

        /** seq is [B, T, H] or null; last [B, H]; states each [B, H]: this part writes its rows. */
        void run(Packed packed, float[] seq, float[] last, float[][] states) {
            if (rows == 0) {
                return;
            }
            boolean resetBefore = cell.kind() == CellKind.GRU && !cell.resetAfter();
            int recurrentWidth = resetBefore ? 2 * units : g; // z and r only, when the reset comes first
            int chunk = chunks.steps(rows, g, time);
            float[] xs = new float[rows * chunk * in];
            float[] proj = new float[rows * chunk * g];
            float[] rec = new float[rows * recurrentWidth];
            float[] rh = resetBefore ? new float[rows * units] : null;
            float[] hz = resetBefore ? new float[rows * units] : null;
            PackedB w = packed.kernel();
            PackedB u = packed.recurrent();
            PackedB uh = packed.recurrentH();
            float[] xd = x.data();

            for (int s0 = 0; s0 < time; s0 += chunk) {
                int steps = Math.min(chunk, time - s0);
                // gather the chunk's inputs in processing order: xs[(r·steps + s)·I]
                for (int r = 0; r < rows; r++) {
                    for (int s = 0; s < steps; s++) {
                        int t = timeOf(s0 + s);
                        System.arraycopy(xd, ((b0 + r) * time + t) * in, xs, (r * steps + s) * in, in);
                    }
                }
                // proj[rows·steps, G] = xs[rows·steps, I] · W[I, G] (+ b_input here, unless the vector
                // gates add the biases as they read proj and rec)
                gemm.multiply(xs, 0, in, w, proj, 0, g, rows * steps, false);
                if (bias != null && !vectorGates) {
                    addRow(proj, rows * steps, g, bias, 0);
                }
                for (int s = 0; s < steps; s++) {
                    int p = s0 + s;
                    int t = timeOf(p);
                    // rec[rows, width] = h[rows, H] · U[H, 0:width]
                    gemm.multiply(h, 0, units, u, rec, 0, recurrentWidth, rows, false);
                    if (cell.kind() == CellKind.GRU && cell.resetAfter() && bias != null && !vectorGates) {
                        addRow(rec, rows, g, bias, g); // the recurrent bias row
                    }
                    switch (cell.kind()) {
                        case LSTM -> lstmStep(proj, rec, s, steps, t);
                        case GRU -> {
                            if (resetBefore) {
                                gruResetBeforeStep(proj, rec, rh, hz, uh, s, steps, t);
                            } else {
                                gruResetAfterStep(proj, rec, s, steps, t);
                            }
                        }
                        default -> simpleStep(proj, rec, s, steps, t);
                    }
                    if (seq != null) {
                        for (int r = 0; r < rows; r++) {
                            System.arraycopy(out, r * units, seq, ((b0 + r) * time + p) * units, units);
                        }
                    }
                }
            }
            System.arraycopy(out, 0, last, b0 * units, rows * units);
            System.arraycopy(h, 0, states[0], b0 * units, rows * units);
            if (c != null) {
                System.arraycopy(c, 0, states[1], b0 * units, rows * units);
            }
        }

        private int timeOf(int p) {
            return loop.goBackwards() ? time - 1 - p : p;
        }

        private boolean keep(int r, int t) {
            return mask == null || mask.get(b0 + r, t);
        }

        /** A masked step: the states stay; the output repeats, or is zero with zero_output_for_mask. */
        private void masked(int r) {
            if (loop.zeroOutputForMask()) {
                java.util.Arrays.fill(out, r * units, (r + 1) * units, 0f);
            }
        }

        private void lstmStep(float[] proj, float[] rec, int s, int steps, int t) {
            Activation act = cell.activation();
            Activation ra = cell.recurrentActivation();
            for (int r = 0; r < rows; r++) {
                if (!keep(r, t)) {
                    masked(r);
                    continue;
                }
                int pr = (r * steps + s) * g;
                int rr = r * g;
                int hr = r * units;
                if (vectorGates) {
                    gates.lstm(proj, pr, rec, rr, bias, 0, c, h, hr, units, ra);
                    System.arraycopy(h, hr, out, hr, units);
                    continue;
                }
                for (int j = 0; j < units; j++) {
                    double i = apply(ra, proj[pr + j] + rec[rr + j]);
                    double f = apply(ra, proj[pr + units + j] + rec[rr + units + j]);
                    double cand = apply(act, proj[pr + 2 * units + j] + rec[rr + 2 * units + j]);
                    double o = apply(ra, proj[pr + 3 * units + j] + rec[rr + 3 * units + j]);
                    double cNext = f * c[hr + j] + i * cand;
                    c[hr + j] = (float) cNext;
                    h[hr + j] = (float) (o * apply(act, cNext));
                }
                System.arraycopy(h, hr, out, hr, units);
            }
        }

        private void gruResetAfterStep(float[] proj, float[] rec, int s, int steps, int t) {
            Activation act = cell.activation();
            Activation ra = cell.recurrentActivation();
            for (int r = 0; r < rows; r++) {
                if (!keep(r, t)) {
                    masked(r);
                    continue;
                }
                int pr = (r * steps + s) * g;
                int rr = r * g;
                int hr = r * units;
                if (vectorGates) {
                    gates.gruResetAfter(proj, pr, rec, rr, bias, 0, bias, g, h, hr, units, ra);
                    System.arraycopy(h, hr, out, hr, units);
                    continue;
                }
                for (int j = 0; j < units; j++) {
                    double z = apply(ra, proj[pr + j] + rec[rr + j]);
                    double rg = apply(ra, proj[pr + units + j] + rec[rr + units + j]);
                    double cand = apply(act, proj[pr + 2 * units + j] + rg * rec[rr + 2 * units + j]);
                    h[hr + j] = (float) (z * h[hr + j] + (1 - z) * cand);
                }
                System.arraycopy(h, hr, out, hr, units);
            }
        }

        /** rec holds h·U for z and r ([rows, 2H]); the candidate needs (r⊙h)·U_h, a second product. */
        private void gruResetBeforeStep(float[] proj, float[] rec, float[] rh, float[] hz, PackedB uh, int s, int steps,
                                        int t) {
            Activation act = cell.activation();
            Activation ra = cell.recurrentActivation();
            int w2 = 2 * units;
            for (int r = 0; r < rows; r++) {
                int pr = (r * steps + s) * g;
                if (vectorGates) {
                    gates.gruResetBeforeReset(proj, pr, rec, r * w2, bias, 0, h, r * units, rh, r * units, units, ra);
                    continue;
                }
                for (int j = 0; j < units; j++) {
                    double rg = apply(ra, proj[pr + units + j] + rec[r * w2 + units + j]);
                    rh[r * units + j] = (float) (rg * h[r * units + j]);
                }
            }
            // hz[rows, H] = (r⊙h)[rows, H] · U[H, 2H:3H]
            gemm.multiply(rh, 0, units, uh, hz, 0, units, rows, false);
            for (int r = 0; r < rows; r++) {
                if (!keep(r, t)) {
                    masked(r);
                    continue;
                }
                int pr = (r * steps + s) * g;
                int hr = r * units;
                if (vectorGates) {
                    gates.gruResetBeforeUpdate(proj, pr, rec, r * w2, bias, 0, hz, hr, h, hr, units, ra);
                    System.arraycopy(h, hr, out, hr, units);
                    continue;
                }
                for (int j = 0; j < units; j++) {
                    double z = apply(ra, proj[pr + j] + rec[r * w2 + j]);
                    double cand = apply(act, proj[pr + 2 * units + j] + hz[hr + j]);
                    h[hr + j] = (float) (z * h[hr + j] + (1 - z) * cand);
                }
                System.arraycopy(h, hr, out, hr, units);
            }
        }

        private void simpleStep(float[] proj, float[] rec, int s, int steps, int t) {
            Activation act = cell.activation();
            for (int r = 0; r < rows; r++) {
                if (!keep(r, t)) {
                    masked(r);
                    continue;
                }
                int pr = (r * steps + s) * g;
                int hr = r * units;
                if (vectorGates) {
                    gates.simple(proj, pr, rec, r * g, bias, 0, h, hr, units, act);
                    System.arraycopy(h, hr, out, hr, units);
                    continue;
                }
                for (int j = 0; j < units; j++) {
                    h[hr + j] = (float) apply(act, proj[pr + j] + rec[r * g + j]);
                }
                System.arraycopy(h, hr, out, hr, units);
            }
        }
    }

    /**
     * sigmoid and tanh through one Math.exp (an intrinsic), the rest as the reference defines them.
     * tanh below |x| = 0.01 is x - x³/3 + 2x⁵/15 - 17x⁷/315, where 1 - e^(-2|x|) would cancel (a
     * relative 5e-7 at |x| = 1e-10, 5e-5 at 1e-12, everything below 1e-17).
     */
    static double apply(Activation a, double x) {
        switch (a) {
            case SIGMOID:
                return 1.0 / (1.0 + Math.exp(-x));
            case TANH: {
                if (Math.abs(x) < 0.01) {
                    double x2 = x * x;
                    return x * (1.0 + x2 * (-1.0 / 3 + x2 * (2.0 / 15 + x2 * (-17.0 / 315))));
                }
                double e = Math.exp(-2.0 * Math.abs(x));
                double t = (1.0 - e) / (1.0 + e);
                return x < 0 ? -t : t;
            }
            case LINEAR:
                return x;
            default:
                return a.apply(x);
        }
    }

    /** m[r, 0:n] += v[off:off+n] for each of the rows. */
    private static void addRow(float[] m, int rowCount, int n, float[] v, int off) {
        for (int r = 0; r < rowCount; r++) {
            int base = r * n;
            for (int j = 0; j < n; j++) {
                m[base + j] += v[off + j];
            }
        }
    }

    /** Rows [b0, b0 + rows) of a [B, H] tensor, copied. */
    private static float[] slice(Tensor t, int b0, int rows, int units) {
        float[] out = new float[rows * units];
        System.arraycopy(t.data(), b0 * units, out, 0, rows * units);
        return out;
    }
}
