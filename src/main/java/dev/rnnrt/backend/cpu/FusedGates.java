package dev.rnnrt.backend.cpu;

/**
 * Vectorised gate math for the common case, tanh with sigmoid gates, one batch row at a time.
 * Implemented on the Vector API ({@link VectorGates}) when the JVM has jdk.incubator.vector;
 * {@link #available()} is null otherwise and the scalar loops in {@link RecurrentCpu} are used.
 */
interface FusedGates {

    /**
     * One LSTM row: z = (proj[pr:pr+4H] + bias[bo:bo+4H]) + rec[rr:rr+4H] (gates i, f, c, o; no
     * bias when it is null); c' = σ(f)·c + σ(i)·tanh(c̃); h' = σ(o)·tanh(c'); c and h updated in
     * place at hr. Gate q of each array starts q·units after its offset.
     */
    void lstm(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] c, float[] h, int hr,
              int units);

    /**
     * One GRU (reset_after) row, with x = proj + inBias and u = rec + recBias (either bias may be
     * null): z = σ(x_z + u_z), r = σ(x_r + u_r), ĥ = tanh(x_h + r·u_h), h' = z·h + (1 − z)·ĥ;
     * h updated in place at hr.
     */
    void gruResetAfter(float[] proj, int pr, float[] rec, int rr, float[] inBias, int io, float[] recBias, int ro,
                       float[] h, int hr, int units);

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
