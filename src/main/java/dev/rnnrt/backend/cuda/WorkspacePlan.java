package dev.rnnrt.backend.cuda;

import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The device buffers one forward call needs for one shape, sized on the host so that the sizes are
 * tested without a GPU. Equal plans share a {@link Workspace}: a call with the shape of the last
 * one allocates nothing, and nothing is ever allocated inside the time loop.
 *
 * <p>Buffers (float32 element counts; B batch, T timesteps, I input features, H units, G gates·H):
 * <ul>
 *   <li>{@code x} [B·T, I], the input as given (batch-major);
 *   <li>{@code proj} [B·T, G], x·W for every step (the kernels add the input bias as they read it);
 *   <li>{@code rec} [B, G], the recurrent product h·U ([B, 2H] for GRU reset_after=False: z and r only);
 *   <li>{@code h}, {@code prev} [B, H]: the state and the previous output;
 *   <li>{@code c} [B, H], LSTM only;
 *   <li>{@code seq} [B, T, H], with return_sequences only;
 *   <li>{@code mask} B·T bytes rounded up to whole floats, with a mask only;
 *   <li>{@code z}, {@code rh}, {@code hz} [B, H], GRU reset_after=False only: z, r⊙h, (r⊙h)·U_h.
 * </ul>
 * With {@code fused} steps (one kernel per step computes h·U and the gates, see
 * cuda/recurrent_fused.cu) there is no {@code rec}, and {@code h2} [B, H] is h's second buffer: step p
 * reads one and writes the other.
 */
record WorkspacePlan(CellKind kind, boolean resetBefore, int batch, int timesteps, int inputSize, int units,
                     boolean sequences, boolean masked, boolean fused) {

    WorkspacePlan {
        if (batch < 1 || timesteps < 1 || inputSize < 1 || units < 1) {
            throw new IllegalArgumentException("A CUDA workspace needs B, T, I and H of at least 1; got B=" + batch
                    + ", T=" + timesteps + ", I=" + inputSize + ", H=" + units + ".");
        }
        long gates = kind.gates();
        // the kernels find sequence b's projection at b·T·G, with T·G an int
        if (timesteps * gates * units > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("The CUDA backend takes at most " + Integer.MAX_VALUE / (gates * units)
                    + " timesteps for " + kind.kerasName() + " with H=" + units + " (T·" + gates + "H must stay below 2^31); got T="
                    + timesteps + ". Run this layer on the CPU backend, or on shorter sequences.");
        }
    }

    /** The largest batch the fused step kernels take (FUSED_MAX_BATCH in cuda/recurrent_fused.cu). */
    static final int FUSED_KERNEL_MAX_BATCH = 128;
    /** Units per block of the fused step kernels (FUSED_UNITS in cuda/recurrent_fused.cu). */
    static final int FUSED_UNITS = 2;
    /**
     * The most bytes of h (B·H floats) the fused kernels copy into shared memory (FUSED_MAX_H_BYTES),
     * where the device allows that much.
     */
    static final int FUSED_MAX_H_BYTES = 40 * 1024;

    static WorkspacePlan of(CellSpec cell, LoopSpec loop, int batch, int timesteps, int inputSize, boolean masked) {
        return of(cell, loop, batch, timesteps, inputSize, masked, 0, 0);
    }

    /**
     * The plan, with fused steps when the cell has a fused kernel (LSTM, GRU with reset_after), the
     * batch is at most {@code fusedMaxBatch} (and the kernels' own limit), and h (B·H floats) fits
     * the kernels' shared memory, {@code fusedSharedBytes} (what the device gives them, at most
     * {@value #FUSED_MAX_H_BYTES}).
     */
    static WorkspacePlan of(CellSpec cell, LoopSpec loop, int batch, int timesteps, int inputSize, boolean masked,
                            int fusedMaxBatch, int fusedSharedBytes) {
        boolean resetBefore = cell.kind() == CellKind.GRU && !cell.resetAfter();
        boolean fusable = cell.kind() == CellKind.LSTM || cell.kind() == CellKind.GRU && cell.resetAfter();
        boolean fused = fusable && batch <= Math.min(fusedMaxBatch, FUSED_KERNEL_MAX_BATCH)
                && (long) batch * cell.units() * Float.BYTES <= Math.min(fusedSharedBytes, FUSED_MAX_H_BYTES);
        return new WorkspacePlan(cell.kind(), resetBefore, batch, timesteps, inputSize, cell.units(),
                loop.returnSequences(), masked, fused);
    }

    /** G: gates × H. */
    int gateWidth() {
        return switch (kind) {
            case SIMPLE_RNN -> units;
            case GRU -> 3 * units;
            case LSTM -> 4 * units;
        };
    }

    /** The width of the per-step recurrent GEMM's output: G, or 2H (z and r) for GRU reset_after=False. */
    int recurrentWidth() {
        return resetBefore ? 2 * units : gateWidth();
    }

    /** Buffer name → float32 element count, in allocation order. */
    Map<String, Long> sizes() {
        long b = batch;
        long t = timesteps;
        long h = units;
        Map<String, Long> s = new LinkedHashMap<>();
        s.put("x", t * b * inputSize);
        s.put("proj", t * b * gateWidth());
        if (!fused) {
            s.put("rec", b * recurrentWidth());
        }
        s.put("h", b * h);
        if (fused) {
            s.put("h2", b * h);
        }
        s.put("prev", b * h);
        if (kind == CellKind.LSTM) {
            s.put("c", b * h);
        }
        if (sequences) {
            s.put("seq", b * t * h);
        }
        if (masked) {
            s.put("mask", (b * t + 3) / 4);
        }
        if (resetBefore) {
            s.put("z", b * h);
            s.put("rh", b * h);
            s.put("hz", b * h);
        }
        return Collections.unmodifiableMap(s);
    }

    long totalBytes() {
        return sizes().values().stream().mapToLong(Long::longValue).sum() * Float.BYTES;
    }

    /** For error messages: the cell and its shapes. */
    String describe() {
        return kind.kerasName() + (resetBefore ? " (reset_after=False)" : "") + " B=" + batch + ", T=" + timesteps
                + ", I=" + inputSize + ", H=" + units + (fused ? ", fused steps" : "");
    }
}
