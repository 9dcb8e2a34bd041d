package dev.rnnrt.backend.cpu;

import dev.rnnrt.api.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
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
            lstmLanes(proj, pr, rec, rr, bias, bo, c, h, hr, units, j, null, g);
        }
        if (full < units) {
            lstmLanes(proj, pr, rec, rr, bias, bo, c, h, hr, units, full, S.indexInRange(full, units), g);
        }
    }

    /**
     * Units j … j + lanes of one LSTM row; m null for a whole vector. Whole vectors go through plain
     * loads and stores: on JDK 17 the masked forms cost a third of the gate pass even with every
     * lane set (LSTM, H = 128: 3.0 against 2.0 ns per unit on the build machine).
     */
    private static void lstmLanes(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] c,
                                  float[] h, int hr, int units, int j, VectorMask<Float> m, int g) {
        FloatVector i = gate(pre(proj, pr, bias, bo, j, m).add(load(rec, rr + j, m)), g);
        FloatVector f = gate(pre(proj, pr + units, bias, bo + units, j, m).add(load(rec, rr + units + j, m)), g);
        FloatVector cand = pre(proj, pr + 2 * units, bias, bo + 2 * units, j, m)
                .add(load(rec, rr + 2 * units + j, m)).lanewise(VectorOperators.TANH);
        FloatVector o = gate(pre(proj, pr + 3 * units, bias, bo + 3 * units, j, m)
                .add(load(rec, rr + 3 * units + j, m)), g);
        FloatVector cNext = f.mul(load(c, hr + j, m)).add(i.mul(cand));
        store(cNext, c, hr + j, m);
        store(o.mul(cNext.lanewise(VectorOperators.TANH)), h, hr + j, m);
    }

    @Override
    public void gruResetAfter(float[] proj, int pr, float[] rec, int rr, float[] inBias, int io, float[] recBias,
                              int ro, float[] h, int hr, int units, Activation gate) {
        int g = code(gate);
        int full = units - units % S.length();
        for (int j = 0; j < full; j += S.length()) {
            gruLanes(proj, pr, rec, rr, inBias, io, recBias, ro, h, hr, units, j, null, g);
        }
        if (full < units) {
            gruLanes(proj, pr, rec, rr, inBias, io, recBias, ro, h, hr, units, full, S.indexInRange(full, units), g);
        }
    }

    /** Units j … j + lanes of one GRU (reset_after) row; m null for a whole vector. */
    private static void gruLanes(float[] proj, int pr, float[] rec, int rr, float[] inBias, int io, float[] recBias,
                                 int ro, float[] h, int hr, int units, int j, VectorMask<Float> m, int g) {
        FloatVector xz = pre(proj, pr, inBias, io, j, m);
        FloatVector xr = pre(proj, pr + units, inBias, io + units, j, m);
        FloatVector xh = pre(proj, pr + 2 * units, inBias, io + 2 * units, j, m);
        FloatVector uz = pre(rec, rr, recBias, ro, j, m);
        FloatVector ur = pre(rec, rr + units, recBias, ro + units, j, m);
        FloatVector uh = pre(rec, rr + 2 * units, recBias, ro + 2 * units, j, m);
        FloatVector z = gate(xz.add(uz), g);
        FloatVector r = gate(xr.add(ur), g);
        FloatVector cand = xh.add(r.mul(uh)).lanewise(VectorOperators.TANH);
        FloatVector hv = load(h, hr + j, m);
        store(z.mul(hv).add(z.neg().add(1f).mul(cand)), h, hr + j, m);
    }

    @Override
    public void gruResetBeforeReset(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] h, int hr,
                                    float[] rh, int ro, int units, Activation gate) {
        int g = code(gate);
        int full = units - units % S.length();
        for (int j = 0; j < full; j += S.length()) {
            resetLanes(proj, pr, rec, rr, bias, bo, h, hr, rh, ro, units, j, null, g);
        }
        if (full < units) {
            resetLanes(proj, pr, rec, rr, bias, bo, h, hr, rh, ro, units, full, S.indexInRange(full, units), g);
        }
    }

    /** Units j … j + lanes: r·h of one GRU (reset_after=False) row; m null for a whole vector. */
    private static void resetLanes(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] h, int hr,
                                   float[] rh, int ro, int units, int j, VectorMask<Float> m, int g) {
        FloatVector r = gate(pre(proj, pr + units, bias, bo + units, j, m).add(load(rec, rr + units + j, m)), g);
        store(r.mul(load(h, hr + j, m)), rh, ro + j, m);
    }

    @Override
    public void gruResetBeforeUpdate(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] hz,
                                     int zo, float[] h, int hr, int units, Activation gate) {
        int g = code(gate);
        int full = units - units % S.length();
        for (int j = 0; j < full; j += S.length()) {
            updateLanes(proj, pr, rec, rr, bias, bo, hz, zo, h, hr, units, j, null, g);
        }
        if (full < units) {
            updateLanes(proj, pr, rec, rr, bias, bo, hz, zo, h, hr, units, full, S.indexInRange(full, units), g);
        }
    }

    /** Units j … j + lanes: the new h of one GRU (reset_after=False) row; m null for a whole vector. */
    private static void updateLanes(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] hz, int zo,
                                    float[] h, int hr, int units, int j, VectorMask<Float> m, int g) {
        FloatVector z = gate(pre(proj, pr, bias, bo, j, m).add(load(rec, rr + j, m)), g);
        FloatVector cand = pre(proj, pr + 2 * units, bias, bo + 2 * units, j, m).add(load(hz, zo + j, m))
                .lanewise(VectorOperators.TANH);
        FloatVector hv = load(h, hr + j, m);
        store(z.mul(hv).add(z.neg().add(1f).mul(cand)), h, hr + j, m);
    }

    /** a[off + j:] + bias[bo + j:], or a alone when bias is null: in the order the bias passes used. */
    private static FloatVector pre(float[] a, int off, float[] bias, int bo, int j, VectorMask<Float> m) {
        FloatVector v = load(a, off + j, m);
        return bias == null ? v : v.add(load(bias, bo + j, m));
    }

    private static FloatVector load(float[] a, int at, VectorMask<Float> m) {
        return m == null ? FloatVector.fromArray(S, a, at) : FloatVector.fromArray(S, a, at, m);
    }

    private static void store(FloatVector v, float[] a, int at, VectorMask<Float> m) {
        if (m == null) {
            v.intoArray(a, at);
        } else {
            v.intoArray(a, at, m);
        }
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
        return g == RELU ? x.max(0f) : x;
    }

    @Override
    public void simple(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] h, int hr, int units,
                       Activation activation) {
        int g = code(activation);
        int full = units - units % S.length();
        for (int j = 0; j < full; j += S.length()) {
            store(gate(pre(proj, pr, bias, bo, j, null).add(load(rec, rr + j, null)), g), h, hr + j, null);
        }
        if (full < units) {
            VectorMask<Float> m = S.indexInRange(full, units);
            store(gate(pre(proj, pr, bias, bo, full, m).add(load(rec, rr + full, m)), g), h, hr + full, m);
        }
    }
}
