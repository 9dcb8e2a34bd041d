package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Keras {@code LayerNormalization} on the last axis: each position's features normalized by their
 * own mean and (population) variance, {@code y = (x − mean) / sqrt(variance + epsilon) · gamma +
 * beta}, statistics in float64. Weights in Keras' order: gamma (with {@code scale}), beta (with
 * {@code center}), each [features]. Keeps the mask.
 */
public final class LayerNormalization extends Layer {

    private final int axis;
    private final double epsilon;
    private final boolean center;
    private final boolean scale;
    /** gamma and beta (null where left out); null until set. */
    private volatile double[][] weights;
    private volatile int features;

    /** Without {@code center} and {@code scale} the layer has no weights and takes any number of features. */
    /**
     * @param axis the axis normalized, counting the batch axis as 0: -1 (the last, Keras' default) or
     *             the index of the last axis; no other axis is supported
     */
    public LayerNormalization(String name, int axis, double epsilon, boolean center, boolean scale) {
        super(name != null ? name : uniqueName("layer_normalization"));
        if (axis == 0 || axis < -1) {
            throw new IllegalArgumentException(describe() + ": axis " + axis + " is not supported; rnnrt normalizes "
                    + "the last axis (axis=-1).");
        }
        this.axis = axis;
        if (!(epsilon >= 0)) {
            throw new IllegalArgumentException(describe() + ": epsilon must be >= 0; got " + epsilon + ".");
        }
        this.epsilon = epsilon;
        this.center = center;
        this.scale = scale;
        if (!center && !scale) {
            weights = new double[][] {null, null};
        }
    }

    @Override
    public String className() {
        return "LayerNormalization";
    }

    /** The weight names, in Keras' order. */
    public List<String> weightNames() {
        List<String> names = new ArrayList<>();
        if (scale) {
            names.add("gamma");
        }
        if (center) {
            names.add("beta");
        }
        return names;
    }

    /** Sets the weights named by {@link #weightNames()}, each [features]; the values are copied. */
    public void setWeights(List<Tensor> values) {
        double[][] w = PerChannel.values(describe(), weightNames(), values);
        int k = 0;
        double[] gamma = scale ? w[k++] : null;
        double[] beta = center ? w[k] : null;
        features = w.length == 0 ? 0 : w[0].length;
        weights = new double[][] {gamma, beta};
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        PerChannel.checkAxis(describe(), axis, inputShapes.get(0));
        PerChannel.checkShape(describe(), features, inputShapes.get(0));
        return List.of(inputShapes.get(0).clone());
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        double[][] w = weights;
        if (w == null) {
            throw new IllegalStateException(describe() + " has no weights; set them first.");
        }
        int n = x.rank() < 2 ? 0 : x.dim(-1);
        PerChannel.checkInput(describe(), axis, features > 0 ? features : n, x);
        float[] in = x.data();
        float[] y = new float[in.length];
        for (int row = 0; row < in.length / Math.max(1, n); row++) {
            int o = row * n;
            double mean = 0;
            for (int c = 0; c < n; c++) {
                mean += in[o + c];
            }
            mean /= n;
            double variance = 0;
            for (int c = 0; c < n; c++) {
                double d = in[o + c] - mean;
                variance += d * d;
            }
            double inv = 1.0 / Math.sqrt(variance / n + epsilon);
            for (int c = 0; c < n; c++) {
                double v = (in[o + c] - mean) * inv;
                if (w[0] != null) {
                    v *= w[0][c];
                }
                if (w[1] != null) {
                    v += w[1][c];
                }
                y[o + c] = (float) v;
            }
        }
        return List.of(Tensor.wrap(y, x.shape()));
    }

    @Override
    public long parameterCount() {
        return (long) features * weightNames().size();
    }

    @Override
    public String describeOptions() {
        return (axis == -1 ? "" : "axis=" + axis + ", ") + "epsilon=" + epsilon + (center ? "" : ", center=False") + (scale ? "" : ", scale=False");
    }
}
