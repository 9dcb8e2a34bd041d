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
    public void lstm(float[] proj, int pr, float[] rec, int rr, float[] bias, int bo, float[] c, float[] h, int hr,
                     int units) {
        for (int j = 0; j < units; j += S.length()) {
            VectorMask<Float> m = S.indexInRange(j, units);
            FloatVector i = sigmoid(pre(proj, pr, bias, bo, j, m).add(load(rec, rr, j, m)));
            FloatVector f = sigmoid(pre(proj, pr + units, bias, bo + units, j, m).add(load(rec, rr + units, j, m)));
            FloatVector cand = pre(proj, pr + 2 * units, bias, bo + 2 * units, j, m)
                    .add(load(rec, rr + 2 * units, j, m)).lanewise(VectorOperators.TANH);
            FloatVector o = sigmoid(pre(proj, pr + 3 * units, bias, bo + 3 * units, j, m)
                    .add(load(rec, rr + 3 * units, j, m)));
            FloatVector cNext = f.mul(FloatVector.fromArray(S, c, hr + j, m)).add(i.mul(cand));
            cNext.intoArray(c, hr + j, m);
            o.mul(cNext.lanewise(VectorOperators.TANH)).intoArray(h, hr + j, m);
        }
    }

    @Override
    public void gruResetAfter(float[] proj, int pr, float[] rec, int rr, float[] inBias, int io, float[] recBias,
                              int ro, float[] h, int hr, int units) {
        // written out rather than through pre(): with six calls C2 stopped inlining it here, and the
        // vectors it returned were boxed (63 MB per call of GRU H=512, B=1, T=32 in JMH's GC profiler)
        for (int j = 0; j < units; j += S.length()) {
            VectorMask<Float> m = S.indexInRange(j, units);
            FloatVector xz = FloatVector.fromArray(S, proj, pr + j, m);
            FloatVector xr = FloatVector.fromArray(S, proj, pr + units + j, m);
            FloatVector xh = FloatVector.fromArray(S, proj, pr + 2 * units + j, m);
            if (inBias != null) {
                xz = xz.add(FloatVector.fromArray(S, inBias, io + j, m));
                xr = xr.add(FloatVector.fromArray(S, inBias, io + units + j, m));
                xh = xh.add(FloatVector.fromArray(S, inBias, io + 2 * units + j, m));
            }
            FloatVector uz = FloatVector.fromArray(S, rec, rr + j, m);
            FloatVector ur = FloatVector.fromArray(S, rec, rr + units + j, m);
            FloatVector uh = FloatVector.fromArray(S, rec, rr + 2 * units + j, m);
            if (recBias != null) {
                uz = uz.add(FloatVector.fromArray(S, recBias, ro + j, m));
                ur = ur.add(FloatVector.fromArray(S, recBias, ro + units + j, m));
                uh = uh.add(FloatVector.fromArray(S, recBias, ro + 2 * units + j, m));
            }
            FloatVector z = sigmoid(xz.add(uz));
            FloatVector r = sigmoid(xr.add(ur));
            FloatVector cand = xh.add(r.mul(uh)).lanewise(VectorOperators.TANH);
            FloatVector hv = FloatVector.fromArray(S, h, hr + j, m);
            z.mul(hv).add(z.neg().add(1f).mul(cand)).intoArray(h, hr + j, m);
        }
    }

    /** a[off + j:] + bias[bo + j:], or a alone when bias is null: in the order the bias passes used. */
    private static FloatVector pre(float[] a, int off, float[] bias, int bo, int j, VectorMask<Float> m) {
        FloatVector v = load(a, off, j, m);
        return bias == null ? v : v.add(load(bias, bo, j, m));
    }

    private static FloatVector load(float[] a, int off, int j, VectorMask<Float> m) {
        return FloatVector.fromArray(S, a, off + j, m);
    }

    private static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }
}
