package dev.rnnrt.testing;

/** One named threshold per precision for ‖out − ref‖ / ‖ref‖. Never raised to make a test pass. */
public final class Tolerance {
    /** A float32 result against a float64 reference or fixture. */
    public static final double FP32 = 1e-5;
    /** The CPU reference (float64 inside, float32 out) against a float64 fixture. */
    public static final double REFERENCE = 1e-6;
    /** TF32 tensor-core GEMMs. */
    public static final double TF32 = 5e-3;

    private Tolerance() {
    }
}
