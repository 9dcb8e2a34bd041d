package dev.rnnrt.backend.cpu;

import dev.rnnrt.api.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FusedGates} on the Vector API: the exponentials run as SIMD lanes (the JDK's vector math
 * intrinsics) instead of one Math.exp call per value. float32 throughout; sigmoid as
 * 1 / (1 + e^(−x)), hard_sigmoid as clip(0.2·x + 0.5, 0, 1) (Keras 2) or min(max(x + 3, 0), 6) / 6
 * (Keras 3), tanh as the JDK's lanewise TANH.
 */
public final class VectorGates implements FusedGates {

    public static final VectorGates INSTANCE = new VectorGates();

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorGates() {
    }

    @Override
    public void lstm(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] c, float[] h, int hr,
                     int units, Activation gate) {
        int g = code(gate);
        int full = units - units % S.length();
        for (int j = 0; j < full; j += S.length()) {
            lstmLanes(proj, pr, rec, rr, bias, bo, c, h, hr, units, j, g);
        }
        for (int j = full; j < units; j++) {
            float i = gate(pre(proj, pr + j, bias, bo + j) + rec[rr + j], g);
            float f = gate(pre(proj, pr + units + j, bias, bo + units + j) + rec[rr + units + j], g);
            float cand = (float) Math.tanh(pre(proj, pr + 2 * units + j, bias, bo + 2 * units + j)
                    + rec[rr + 2 * units + j]);
            float o = gate(pre(proj, pr + 3 * units + j, bias, bo + 3 * units + j) + rec[rr + 3 * units + j], g);
            float cNext = f * c[hr + j] + i * cand;
            c[hr + j] = cNext;
            h[hr + j] = o * (float) Math.tanh(cNext);
        }
    }

    /**
     * Units j … j + lanes of one LSTM row. Only whole vectors go through the lanes; the units past
     * the last whole vector (H not a multiple of the lane count) run as scalar float code in the
     * callers. On JDK 17 masked loads and stores cost a third of the gate pass even with every lane
     * set (LSTM, H = 128: 3.0 against 2.0 ns per unit on the build machine), and for a partial tail
     * they ran through the Vector API's Java fallback: about 0.85 MB of garbage per step at H = 104.
     */
    private static void lstmLanes(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] c,
                                  float[] h, int hr, int units, int j, int g) {
        FloatVector i = gate(pre(proj, pr, bias, bo, j).add(load(rec, rr + j)), g);
        FloatVector f = gate(pre(proj, pr + units, bias, bo + units, j).add(load(rec, rr + units + j)), g);
        FloatVector cand = pre(proj, pr + 2 * units, bias, bo + 2 * units, j)
                .add(load(rec, rr + 2 * units + j)).lanewise(VectorOperators.TANH);
        FloatVector o = gate(pre(proj, pr + 3 * units, bias, bo + 3 * units, j)
                .add(load(rec, rr + 3 * units + j)), g);
        FloatVector cNext = f.mul(load(c, hr + j)).add(i.mul(cand));
        store(cNext, c, hr + j);
        store(o.mul(cNext.lanewise(VectorOperators.TANH)), h, hr + j);
    }

    @Override
    public void gruResetAfter(float[] proj, int pr, float[] rec, int rr, float[] inBias, int io, float[] recBias,
                              int ro, float[] h, int hr, int units, Activation gate) {
        int g = code(gate);
        int full = units - units % S.length();
        for (int j = 0; j < full; j += S.length()) {
            gruLanes(proj, pr, rec, rr, inBias, io, recBias, ro, h, hr, units, j, g);
        }
        for (int j = full; j < units; j++) {
            float z = gate(pre(proj, pr + j, inBias, io + j) + pre(rec, rr + j, recBias, ro + j), g);
            float r = gate(pre(proj, pr + units + j, inBias, io + units + j)
                    + pre(rec, rr + units + j, recBias, ro + units + j), g);
            float cand = (float) Math.tanh(pre(proj, pr + 2 * units + j, inBias, io + 2 * units + j)
                    + r * pre(rec, rr + 2 * units + j, recBias, ro + 2 * units + j));
            h[hr + j] = z * h[hr + j] + (1f - z) * cand;
        }
    }

    /** Units j … j + lanes of one GRU (reset_after) row. */
    private static void gruLanes(float[] proj, int pr, float[] rec, int rr, float[] inBias, int io, float[] recBias,
                                 int ro, float[] h, int hr, int units, int j, int g) {
        FloatVector xz = pre(proj, pr, inBias, io, j);
        FloatVector xr = pre(proj, pr + units, inBias, io + units, j);
        FloatVector xh = pre(proj, pr + 2 * units, inBias, io + 2 * units, j);
        FloatVector uz = pre(rec, rr, recBias, ro, j);
        FloatVector ur = pre(rec, rr + units, recBias, ro + units, j);
        FloatVector uh = pre(rec, rr + 2 * units, recBias, ro + 2 * units, j);
        FloatVector z = gate(xz.add(uz), g);
        FloatVector r = gate(xr.add(ur), g);
        FloatVector cand = xh.add(r.mul(uh)).lanewise(VectorOperators.TANH);
        FloatVector hv = load(h, hr + j);
        store(z.mul(hv).add(z.neg().add(1f).mul(cand)), h, hr + j);
    }

    @Override
    public void gruResetBeforeReset(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] h, int hr,
                                    float[] rh, int ro, int units, Activation gate) {
        int g = code(gate);
        int full = units - units % S.length();
        for (int j = 0; j < full; j += S.length()) {
            resetLanes(proj, pr, rec, rr, bias, bo, h, hr, rh, ro, units, j, g);
        }
        for (int j = full; j < units; j++) {
            float r = gate(pre(proj, pr + units + j, bias, bo + units + j) + rec[rr + units + j], g);
            rh[ro + j] = r * h[hr + j];
        }
    }

    /** Units j … j + lanes: r·h of one GRU (reset_after=False) row. */
    private static void resetLanes(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] h, int hr,
                                   float[] rh, int ro, int units, int j, int g) {
        FloatVector r = gate(pre(proj, pr + units, bias, bo + units, j).add(load(rec, rr + units + j)), g);
        store(r.mul(load(h, hr + j)), rh, ro + j);
    }

    @Override
    public void gruResetBeforeUpdate(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] hz,
                                     int zo, float[] h, int hr, int units, Activation gate) {
        int g = code(gate);
        int full = units - units % S.length();
        for (int j = 0; j < full; j += S.length()) {
            updateLanes(proj, pr, rec, rr, bias, bo, hz, zo, h, hr, units, j, g);
        }
        for (int j = full; j < units; j++) {
            float z = gate(pre(proj, pr + j, bias, bo + j) + rec[rr + j], g);
            float cand = (float) Math.tanh(pre(proj, pr + 2 * units + j, bias, bo + 2 * units + j) + hz[zo + j]);
            h[hr + j] = z * h[hr + j] + (1f - z) * cand;
        }
    }

    /** Units j … j + lanes: the new h of one GRU (reset_after=False) row. */
    private static void updateLanes(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] hz, int zo,
                                    float[] h, int hr, int units, int j, int g) {
        FloatVector z = gate(pre(proj, pr, bias, bo, j).add(load(rec, rr + j)), g);
        FloatVector cand = pre(proj, pr + 2 * units, bias, bo + 2 * units, j).add(load(hz, zo + j))
                .lanewise(VectorOperators.TANH);
        FloatVector hv = load(h, hr + j);
        store(z.mul(hv).add(z.neg().add(1f).mul(cand)), h, hr + j);
    }

    /** a[off + j:] + bias[bo + j:], or a alone when bias is null: in the order the bias passes used. */
    private static FloatVector pre(float[] a, int off, float[] bias, int bo, int j) {
        FloatVector v = load(a, off + j);
        return bias == null ? v : v.add(load(bias, bo + j));
    }

    /** One value of {@link #pre(float[], int, float[], int, int)}: a[at] + bias[bo], for the tail of a row. */
    private static float pre(float[] a, int at, float[] bias, int bo) {
        return bias == null ? a[at] : a[at] + bias[bo];
    }

    private static FloatVector load(float[] a, int at) {
        return FloatVector.fromArray(S, a, at);
    }

    private static void store(FloatVector v, float[] a, int at) {
        v.intoArray(a, at);
    }

    /** The activations these lanes compute, by code. */
    private static final int SIGMOID = 0;
    private static final int HARD_SIGMOID_KERAS2 = 1;
    private static final int HARD_SIGMOID_KERAS3 = 2;
    private static final int TANH = 3;
    private static final int RELU = 4;
    private static final int LINEAR = 5;

    private static int code(Activation a) {
        return switch (a) {
            case SIGMOID -> SIGMOID;
            case HARD_SIGMOID_KERAS2 -> HARD_SIGMOID_KERAS2;
            case HARD_SIGMOID_KERAS3 -> HARD_SIGMOID_KERAS3;
            case TANH -> TANH;
            case RELU -> RELU;
            case LINEAR -> LINEAR;
            default -> throw new IllegalArgumentException("The vector gates have no " + a.kerasName()
                    + " activation; FusedGates.covers says which they have.");
        };
    }

    /** The activation of code g, lanewise. */
    private static FloatVector gate(FloatVector x, int g) {
        if (g == SIGMOID) {
            return FloatVector.broadcast(S, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
        }
        if (g == HARD_SIGMOID_KERAS2) {
            return x.mul(0.2f).add(0.5f).max(0f).min(1f);
        }
        if (g == HARD_SIGMOID_KERAS3) {
            return x.add(3f).max(0f).min(6f).div(6f);
        }
        if (g == TANH) {
            return x.lanewise(VectorOperators.TANH);
        }
        // relu as the reference computes it, x > 0 ? x : 0 (max would keep a NaN)
        return g == RELU ? FloatVector.zero(S).blend(x, x.compare(VectorOperators.GT, 0f)) : x;
    }

    /** The activation of code g on one value, for the tail of a row (fewer units than a vector). */
    private static float gate(float x, int g) {
        if (g == SIGMOID) {
            return (float) (1.0 / (1.0 + Math.exp(-x)));
        }
        if (g == HARD_SIGMOID_KERAS2) {
            return Math.min(1f, Math.max(0f, 0.2f * x + 0.5f));
        }
        if (g == HARD_SIGMOID_KERAS3) {
            return Math.min(6f, Math.max(0f, x + 3f)) / 6f;
        }
        if (g == TANH) {
            return (float) Math.tanh(x);
        }
        return g == RELU ? (x > 0f ? x : 0f) : x;
    }

    @Override
    public void simple(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] h, int hr, int units,
                       Activation activation) {
        int g = code(activation);
        int full = units - units % S.length();
        for (int j = 0; j < full; j += S.length()) {
            store(gate(pre(proj, pr, bias, bo, j).add(load(rec, rr + j)), g), h, hr + j);
        }
        for (int j = full; j < units; j++) {
            h[hr + j] = gate(pre(proj, pr + j, bias, bo + j) + rec[rr + j], g);
        }
    }
}
