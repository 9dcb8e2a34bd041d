package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/**
 * Keras {@code Masking(mask_value)}: a timestep whose features all equal {@code mask_value} is
 * masked, and its features are set to zero in the output (keras/src/layers/core/masking.py:
 * {@code outputs = inputs * any(inputs != mask_value, axis=-1)}).
 */
public final class Masking extends Layer {

    private final float maskValue;

    private Masking(String name, float maskValue) {
        super(name != null ? name : uniqueName("masking"));
        this.maskValue = maskValue;
    }

    /** {@code Masking(mask_value)}. */
    public static Masking of(double maskValue) {
        return new Masking(null, (float) maskValue);
    }

    /** A named {@code Masking(mask_value)}. */
    public static Masking of(String name, double maskValue) {
        return new Masking(name, (float) maskValue);
    }

    @Override
    public String className() {
        return "Masking";
    }

    public float maskValue() {
        return maskValue;
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        checkRank(x, 2, "[batch, timesteps, features]");
        return List.of(x.clone());
    }

    /** x is [B, T, F]. */
    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        checkTensor(x);
        boolean[] keep = keep(x);
        int f = x.dim(2);
        float[] out = x.toArray();
        for (int s = 0; s < keep.length; s++) {
            if (!keep[s]) {
                java.util.Arrays.fill(out, s * f, (s + 1) * f, 0f);
            }
        }
        return List.of(Tensor.wrap(out, x.shape()));
    }

    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        Tensor x = inputs.get(0);
        return List.of(Mask.of(keep(x), x.dim(0), x.dim(1)));
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        return List.of(true);
    }

    @Override
    public boolean makesMask() {
        return true;
    }

    @Override
    public String describeOptions() {
        return "mask_value=" + maskValue;
    }

    private void checkTensor(Tensor x) {
        if (x.rank() != 3) {
            throw new IllegalArgumentException(describe() + " expects input [batch, timesteps, features]; got "
                    + Tensor.shapeString(x.shape()) + ".");
        }
    }

    /** keep[b·T + t]: some feature differs from mask_value. */
    private boolean[] keep(Tensor x) {
        checkTensor(x);
        int steps = x.dim(0) * x.dim(1);
        int f = x.dim(2);
        boolean[] keep = new boolean[steps];
        float[] d = x.data();
        for (int s = 0; s < steps; s++) {
            for (int k = 0; k < f; k++) {
                if (d[s * f + k] != maskValue) {
                    keep[s] = true;
                    break;
                }
            }
        }
        return keep;
    }
}
