package dev.rnnrt.backend.cpu;

import dev.rnnrt.api.Activation;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.CellSpec;

/**
 * Vectorised gate math for the common cases, one batch row at a time: LSTM and GRU with tanh as
 * the activation and sigmoid or hard_sigmoid (either Keras version's) as the gates' recurrent
 * activation, SimpleRNN with tanh, relu, sigmoid or linear ({@link #covers}). Implemented on the
 * Vector API ({@link VectorGates}) when the JVM has jdk.incubator.vector; {@link #available()} is
 * null otherwise and the scalar loops in {@link RecurrentCpu} are used.
 */
interface FusedGates {

    /**
     * Whether these gates compute the cell: an LSTM or GRU with tanh and sigmoid or hard_sigmoid
     * gates, or a SimpleRNN with tanh, relu, sigmoid or linear.
     */
    static boolean covers(CellSpec cell) {
        Activation a = cell.activation();
        if (cell.kind() == CellKind.SIMPLE_RNN) {
            return a == Activation.TANH || a == Activation.RELU || a == Activation.SIGMOID || a == Activation.LINEAR;
        }
        Activation ra = cell.recurrentActivation();
        return a == Activation.TANH && (ra == Activation.SIGMOID || ra == Activation.HARD_SIGMOID_KERAS2
                || ra == Activation.HARD_SIGMOID_KERAS3);
    }

    /**
     * One SimpleRNN row: h' = activation((proj[pr:pr+H] + bias[bo:bo+H]) + rec[rr:rr+H]) (no bias
     * when it is null), written to h at hr.
     */
    void simple(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] h, int hr, int units,
                Activation activation);

    /**
     * One LSTM row: z = (proj[pr:pr+4H] + bias[bo:bo+4H]) + rec[rr:rr+4H] (gates i, f, c, o; no
     * bias when it is null); c' = σ(f)·c + σ(i)·tanh(c̃); h' = σ(o)·tanh(c'); c and h updated in
     * place at hr. Gate q of each array starts q·units after its offset; σ is {@code gate}.
     */
    void lstm(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] c, float[] h, int hr,
              int units, Activation gate);

    /**
     * One GRU (reset_after) row, with x = proj + inBias and u = rec + recBias (either bias may be
     * null): z = σ(x_z + u_z), r = σ(x_r + u_r), ĥ = tanh(x_h + r·u_h), h' = z·h + (1 − z)·ĥ;
     * h updated in place at hr; σ is {@code gate}.
     */
    void gruResetAfter(float[] proj, int pr, float[] rec, int rr, float[] inBias, int io, float[] recBias, int ro,
                       float[] h, int hr, int units, Activation gate);

    /**
     * The first half of a GRU (reset_after=False) row: r = σ(x_r + u_r) with x = proj + bias and u =
     * rec ([z, r], 2H wide), and rh[ro:ro+H] = r·h[hr:hr+H], the input of the second product.
     */
    void gruResetBeforeReset(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] h, int hr,
                             float[] rh, int ro, int units, Activation gate);

    /**
     * The second half: z = σ(x_z + u_z), ĥ = tanh(x_h + hz[zo:zo+H]) with hz = (r·h)·U_h, and
     * h' = z·h + (1 − z)·ĥ in place at hr.
     */
    void gruResetBeforeUpdate(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] hz, int zo,
                              float[] h, int hr, int units, Activation gate);

    /** The Vector API implementation, or null when the module is absent. */
    static FusedGates available() {
        return Holder.GATES;
    }

    /** Decides once. */
    final class Holder {
        static final FusedGates GATES = load();

        private Holder() {
        }

        private static FusedGates load() {
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                return null;
            }
            try {
                return (FusedGates) Class.forName("dev.rnnrt.backend.cpu.VectorGates").getField("INSTANCE").get(null);
            } catch (ReflectiveOperationException | LinkageError e) {
                return null;
            }
        }
    }
}
