package dev.rnnrt.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FusedGates} on the Vector API: the exponentials run as SIMD lanes (the JDK's vector math
 * intrinsics) instead of one Math.exp call per value. float32 throughout; sigmoid as
 * 1 / (1 + e^(−x)) and tanh as the JDK's lanewise TANH.
 */
public final class VectorGates implements FusedGates {

    public static final VectorGates INSTANCE = new VectorGates();

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorGates() {
    }

    @Override
    public void lstm(float[] proj, int pr, float[] rec, int rr, float[] c, float[] h, int hr, int units) {
        for (int j = 0; j < units; j += S.length()) {
            VectorMask<Float> m = S.indexInRange(j, units);
            FloatVector i = sigmoid(pre(proj, pr, rec, rr, j, m));
            FloatVector f = sigmoid(pre(proj, pr + units, rec, rr + units, j, m));
            FloatVector cand = pre(proj, pr + 2 * units, rec, rr + 2 * units, j, m).lanewise(VectorOperators.TANH);
            FloatVector o = sigmoid(pre(proj, pr + 3 * units, rec, rr + 3 * units, j, m));
            FloatVector cNext = f.mul(FloatVector.fromArray(S, c, hr + j, m)).add(i.mul(cand));
            cNext.intoArray(c, hr + j, m);
            o.mul(cNext.lanewise(VectorOperators.TANH)).intoArray(h, hr + j, m);
        }
    }

    @Override
    public void gruResetAfter(float[] proj, int pr, float[] rec, int rr, float[] h, int hr, int units) {
        for (int j = 0; j < units; j += S.length()) {
            VectorMask<Float> m = S.indexInRange(j, units);
            FloatVector z = sigmoid(pre(proj, pr, rec, rr, j, m));
            FloatVector r = sigmoid(pre(proj, pr + units, rec, rr + units, j, m));
            FloatVector cand = FloatVector.fromArray(S, proj, pr + 2 * units + j, m)
                    .add(r.mul(FloatVector.fromArray(S, rec, rr + 2 * units + j, m))).lanewise(VectorOperators.TANH);
            FloatVector hv = FloatVector.fromArray(S, h, hr + j, m);
            z.mul(hv).add(z.neg().add(1f).mul(cand)).intoArray(h, hr + j, m);
        }
    }

    private static FloatVector pre(float[] proj, int pr, float[] rec, int rr, int j, VectorMask<Float> m) {
        return FloatVector.fromArray(S, proj, pr + j, m).add(FloatVector.fromArray(S, rec, rr + j, m));
    }

    private static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }
}
