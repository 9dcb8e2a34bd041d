package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/**
 * Keras {@code LayerNormalization} on the last axis: each position's features normalized by their
 * own mean and (population) variance, {@code y = (x − mean) / sqrt(variance + epsilon) · gamma +
 * beta}, statistics in float64. Weights in Keras' order: gamma (with {@code scale}), beta (with
 * {@code center}), each [features]; without either the layer has no weights and takes any number
 * of features. Keeps the mask.
 */
public final class LayerNormalization extends LastAxisNormalization {

    /** gamma and beta (null where left out); null until set. */
    private volatile double[][] weights;

    /**
     * @param axis the axis normalized, counting the batch axis as 0: -1 (the last, Keras' default) or
     *             the index of the last axis; no other axis is supported
     */
    public LayerNormalization(String name, int axis, double epsilon, boolean center, boolean scale) {
        super(name, "layer_normalization", axis, epsilon, center, scale);
        if (!center && !scale) {
            weights = new double[][] {null, null};
        }
    }

    @Override
    public String className() {
        return "LayerNormalization";
    }

    @Override
    List<String> statisticNames() {
        return List.of();
    }

    @Override
    int features() {
        double[][] w = weights;
        return w == null ? 0 : w[0] != null ? w[0].length : w[1] != null ? w[1].length : 0;
    }

    /** Sets the weights named by {@link #weightNames()}, each [features]; the values are copied. */
    public void setWeights(List<Tensor> values) {
        double[][] w = vectors(values);
        weights = new double[][] {scale ? w[0] : null, center ? w[w.length - 1] : null};
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
        checkInput(features() > 0 ? features() : n, x);
        float[] in = x.data();
        float[] y = new float[in.length];
        for (int o = 0; o < in.length; o += n) {
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
}
