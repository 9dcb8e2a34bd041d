package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Keras' preprocessing {@code Normalization} (as adapted on data): {@code y = (x − mean) /
 * max(sqrt(variance), 1e-7)}, or with {@code invert} {@code y = mean + x · max(sqrt(variance),
 * 1e-7)}, each step in float32 as Keras computes it. The statistics have one value per position
 * along the kept axes (Keras' {@code axis}, default the last; none: one value for the whole
 * input). Weights: mean and variance (Keras also stores the count of samples adapted on, which
 * the output does not use). Keeps the mask, as Keras 3 does; tf.keras' Normalization did not
 * support masking (the mask stopped there), which {@code keepsMask = false} follows.
 */
public final class Normalization extends Layer {

    /** Keras' {@code backend.epsilon()}, the least divisor. */
    static final float EPSILON = 1e-7f;

    private final int[] axes;          // Keras axes kept (batch axis = 0; negative from the end)
    private final boolean invert;
    private final boolean keepsMask;
    private volatile float[][] stats;  // mean, variance; each the size of the kept axes' product
    private volatile int[] statsShape;

    /**
     * @param axes   the axes with their own statistics, counting the batch axis as 0 (negative: from
     *               the end); empty for one mean and variance over everything
     * @param invert Keras' {@code invert}: undo the normalization instead
     */
    public Normalization(String name, int[] axes, boolean invert) {
        this(name, axes, invert, true);
    }

    /** @param keepsMask Keras 3's (true) or tf.keras' (false: no masking support) */
    public Normalization(String name, int[] axes, boolean invert, boolean keepsMask) {
        super(name != null ? name : uniqueName("normalization"));
        this.axes = axes.clone();
        this.invert = invert;
        this.keepsMask = keepsMask;
    }

    @Override
    public boolean supportsMasking() {
        return keepsMask;
    }

    @Override
    public String className() {
        return "Normalization";
    }

    /**
     * Sets [mean, variance] (a third array, Keras' count, is accepted and not used), each shaped as
     * the kept axes, or scalars; copied.
     */
    public void setWeights(List<Tensor> weights) {
        if (weights == null || weights.size() < 2 || weights.size() > 3) {
            throw new IllegalArgumentException(describe() + " takes 2 weights (mean, variance) and optionally the "
                    + "count; got " + (weights == null ? 0 : weights.size()) + ".");
        }
        if (weights.get(0) == null || weights.get(1) == null) {
            throw new IllegalArgumentException(describe() + ": weight '" + (weights.get(0) == null ? "mean" : "variance")
                    + "' is null.");
        }
        Tensor mean = weights.get(0);
        Tensor variance = weights.get(1);
        if (!Arrays.equals(mean.shape(), variance.shape())) {
            throw new IllegalArgumentException(describe() + ": mean " + Tensor.shapeString(mean.shape())
                    + " and variance " + Tensor.shapeString(variance.shape()) + " must have the same shape.");
        }
        statsShape = mean.shape().clone();
        stats = new float[][] {mean.data().clone(), variance.data().clone()};
    }

    /** Whether the mean and variance are set (from the weights, or from Keras' config). */
    public boolean hasStatistics() {
        return stats != null;
    }

    /** Which axes of an input of this rank (batch included) have their own statistics. */
    private boolean[] kept(int rank) {
        boolean[] k = new boolean[rank];
        for (int a : axes) {
            int d = a < 0 ? a + rank : a;
            if (d < 1 || d >= rank) {
                throw new IllegalArgumentException(describe() + ": axis " + a + " is " + (d == 0 ? "the batch axis"
                        : "out of range") + " for a rank-" + rank + " input (batch axis included).");
            }
            k[d] = true;
        }
        return k;
    }

    /** The kept axes' sizes of an input shape (batch included), in order. */
    private int[] keptDims(int[] shape) {
        boolean[] k = kept(shape.length);
        List<Integer> dims = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            if (k[d]) {
                dims.add(shape[d]);
            }
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Statistics of this shape fit kept axes of these sizes: the same shape, or one value (a scalar). */
    private void checkStatistics(int[] keptDims, int[] inputShape, boolean batchIncluded) {
        int[] s = statsShape;
        if (s == null) {
            return;
        }
        int count = 1;
        for (int d : s) {
            count *= d;
        }
        boolean ok = count == 1 || s.length == keptDims.length;
        for (int d = 0; ok && d < s.length && count != 1; d++) {
            ok = keptDims[d] < 0 || keptDims[d] == s[d];
        }
        if (!ok) {
            throw new IllegalArgumentException(describe() + " has statistics of shape " + Tensor.shapeString(s)
                    + " for axes " + Arrays.toString(axes) + "; the input " + (batchIncluded
                    ? Tensor.shapeString(inputShape) : shapeText(inputShape)) + " has " + Arrays.toString(keptDims)
                    + " there.");
        }
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        int[] full = new int[x.length + 1];
        full[0] = -1;
        System.arraycopy(x, 0, full, 1, x.length);
        checkStatistics(keptDims(full), x, false);
        return List.of(x.clone());
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        float[][] st = stats;
        if (st == null) {
            throw new IllegalStateException(describe() + " has no statistics; set its weights (mean, variance) first.");
        }
        int[] shape = x.shape();
        boolean[] k = kept(shape.length);
        checkStatistics(keptDims(shape), shape, true);
        boolean scalar = st[0].length == 1;
        // the statistics' index of each element: its coordinates along the kept axes, row-major
        int[] strides = new int[shape.length];
        int stride = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            strides[d] = k[d] && !scalar ? stride : 0;
            if (k[d]) {
                stride *= shape[d];
            }
        }
        float[] in = x.data();
        float[] out = new float[in.length];
        float[] divisor = new float[st[1].length];
        for (int s = 0; s < divisor.length; s++) {
            divisor[s] = Math.max((float) Math.sqrt(st[1][s]), EPSILON);
        }
        int[] idx = new int[shape.length];
        for (int e = 0; e < in.length; e++) {
            int s = 0;
            for (int d = 0; d < shape.length; d++) {
                s += idx[d] * strides[d];
            }
            out[e] = invert ? st[0][s] + in[e] * divisor[s] : (in[e] - st[0][s]) / divisor[s];
            for (int d = shape.length - 1; d >= 0 && ++idx[d] == shape[d]; d--) {
                idx[d] = 0;
            }
        }
        return List.of(Tensor.wrap(out, shape));
    }

    @Override
    public long parameterCount() {
        float[][] st = stats;
        return st == null ? 0 : 2L * st[0].length + 1;
    }

    @Override
    public String describeOptions() {
        return "axis=" + Arrays.toString(axes) + (invert ? ", invert=True" : "");
    }
}
