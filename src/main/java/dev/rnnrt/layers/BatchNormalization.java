package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/**
 * Keras {@code BatchNormalization} at inference, on the last axis: {@code y = (x − moving_mean) /
 * sqrt(moving_variance + epsilon) · gamma + beta} with the stored statistics (what Keras computes
 * when not training). Weights in Keras' order: gamma (with {@code scale}), beta (with
 * {@code center}), moving_mean, moving_variance, each [channels]. Keeps the mask.
 */
public final class BatchNormalization extends LastAxisNormalization {

    /** y = x · a + b per channel, from the weights (float64); null until set. */
    private volatile double[][] affine;

    /**
     * @param axis the axis normalized, counting the batch axis as 0: -1 (the last, Keras' default) or
     *             the index of the last axis; no other axis is supported
     */
    public BatchNormalization(String name, int axis, double epsilon, boolean center, boolean scale) {
        this(name, axis, epsilon, center, scale, false);
    }

    /**
     * @param renorm Keras' {@code renorm}: batch renormalization changes training only; its extra
     *               weights, after the moving statistics, are accepted and not used
     */
    public BatchNormalization(String name, int axis, double epsilon, boolean center, boolean scale, boolean renorm) {
        super(name, "batch_normalization", axis, epsilon, center, scale);
        this.renorm = renorm;
    }

    private final boolean renorm;

    /** Whether the layer was saved with Keras' renorm (extra weights after the moving statistics). */
    public boolean renorm() {
        return renorm;
    }

    @Override
    public String className() {
        return "BatchNormalization";
    }

    @Override
    List<String> statisticNames() {
        return List.of("moving_mean", "moving_variance");
    }

    @Override
    int features() {
        double[][] ab = affine;
        return ab == null ? 0 : ab[0].length;
    }

    /** Sets the weights named by {@link #weightNames()}, each [channels]; the values are copied. */
    public void setWeights(List<Tensor> weights) {
        int n = weightNames().size();
        double[][] w = vectors(renorm && weights != null && weights.size() > n ? weights.subList(0, n) : weights);
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
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        double[][] ab = affine;
        if (ab == null) {
            throw new IllegalStateException(describe() + " has no weights; set them first.");
        }
        int channels = ab[0].length;
        checkInput(channels, x);
        float[] in = x.data();
        float[] y = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            int c = i % channels;
            y[i] = (float) (in[i] * ab[0][c] + ab[1][c]);
        }
        return List.of(Tensor.wrap(y, x.shape()));
    }
}
