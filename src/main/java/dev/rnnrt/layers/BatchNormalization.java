package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Keras {@code BatchNormalization} at inference, on the last axis: {@code y = (x − moving_mean) /
 * sqrt(moving_variance + epsilon) · gamma + beta} with the stored statistics (what Keras computes
 * when not training). Weights in Keras' order: gamma (with {@code scale}), beta (with
 * {@code center}), moving_mean, moving_variance, each [channels]. Keeps the mask.
 */
public final class BatchNormalization extends Layer {

    private final int axis;
    private final double epsilon;
    private final boolean center;
    private final boolean scale;
    /** y = x · a + b per channel, from the weights (float64). */
    private volatile double[][] affine;

    /**
     * @param axis the axis normalized, counting the batch axis as 0: -1 (the last, Keras' default) or
     *             the index of the last axis; no other axis is supported
     */
    public BatchNormalization(String name, int axis, double epsilon, boolean center, boolean scale) {
        super(name != null ? name : uniqueName("batch_normalization"));
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
    }

    @Override
    public String className() {
        return "BatchNormalization";
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
        names.add("moving_mean");
        names.add("moving_variance");
        return names;
    }

    /** Sets the weights named by {@link #weightNames()}, each [channels]; the values are copied. */
    public void setWeights(List<Tensor> weights) {
        double[][] w = PerChannel.values(describe(), weightNames(), weights);
        int k = 0;
        double[] gamma = scale ? w[k++] : null;
        double[] beta = center ? w[k++] : null;
        double[] mean = w[k++];
        double[] variance = w[k];
        int channels = mean.length;
        double[] a = new double[channels];
        double[] b = new double[channels];
        for (int c = 0; c < channels; c++) {
            a[c] = (gamma == null ? 1.0 : gamma[c]) / Math.sqrt(variance[c] + epsilon);
            b[c] = (beta == null ? 0.0 : beta[c]) - mean[c] * a[c];
        }
        affine = new double[][] {a, b};
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        PerChannel.checkAxis(describe(), axis, inputShapes.get(0));
        double[][] ab = affine;
        PerChannel.checkShape(describe(), ab == null ? 0 : ab[0].length, inputShapes.get(0));
        return List.of(inputShapes.get(0).clone());
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        double[][] ab = affine;
        if (ab == null) {
            throw new IllegalStateException(describe() + " has no weights; set them first.");
        }
        int channels = ab[0].length;
        PerChannel.checkInput(describe(), axis, channels, x);
        float[] in = x.data();
        float[] y = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            int c = i % channels;
            y[i] = (float) (in[i] * ab[0][c] + ab[1][c]);
        }
        return List.of(Tensor.wrap(y, x.shape()));
    }

    @Override
    public long parameterCount() {
        double[][] ab = affine;
        return ab == null ? 0 : (long) ab[0].length * weightNames().size();
    }

    @Override
    public String describeOptions() {
        return (axis == -1 ? "" : "axis=" + axis + ", ") + "epsilon=" + epsilon + (center ? "" : ", center=False") + (scale ? "" : ", scale=False");
    }
}
