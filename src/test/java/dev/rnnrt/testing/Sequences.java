package dev.rnnrt.testing;

import dev.rnnrt.api.Tensor;
import java.util.List;

/** Time-axis helpers for [B, T, F] tensors in tests. */
public final class Sequences {

    private Sequences() {
    }

    /** x[:, from:to, :] */
    public static Tensor slice(Tensor x, int from, int to) {
        int b = x.dim(0);
        int t = x.dim(1);
        int f = x.dim(2);
        float[] out = new float[b * (to - from) * f];
        for (int i = 0; i < b; i++) {
            System.arraycopy(x.data(), (i * t + from) * f, out, i * (to - from) * f, (to - from) * f);
        }
        return Tensor.wrap(out, b, to - from, f);
    }

    /** x[from:to] along the batch axis, any rank. */
    public static Tensor rows(Tensor x, int from, int to) {
        int[] shape = x.shape();
        int per = x.size() / shape[0];
        shape[0] = to - from;
        return Tensor.wrap(java.util.Arrays.copyOfRange(x.data(), from * per, to * per), shape);
    }

    /** x[:, ::-1, :] */
    public static Tensor reverseTime(Tensor x) {
        int b = x.dim(0);
        int t = x.dim(1);
        int f = x.dim(2);
        float[] out = new float[x.size()];
        for (int i = 0; i < b; i++) {
            for (int s = 0; s < t; s++) {
                System.arraycopy(x.data(), (i * t + s) * f, out, (i * t + (t - 1 - s)) * f, f);
            }
        }
        return Tensor.wrap(out, b, t, f);
    }

    /** [B, F] tensors, one per step, to [B, T, F]. */
    public static Tensor stack(List<Tensor> steps) {
        int b = steps.get(0).dim(0);
        int f = steps.get(0).dim(1);
        int t = steps.size();
        float[] out = new float[b * t * f];
        for (int s = 0; s < t; s++) {
            for (int i = 0; i < b; i++) {
                System.arraycopy(steps.get(s).data(), i * f, out, (i * t + s) * f, f);
            }
        }
        return Tensor.wrap(out, b, t, f);
    }
}
