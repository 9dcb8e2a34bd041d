package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleUnaryOperator;

/**
 * Keras' activation layers with parameters (Keras 2's "advanced activations"): {@code ReLU},
 * {@code LeakyReLU}, {@code ELU} and {@code ThresholdedReLU}, element-wise, computed in float64 as
 * Keras defines them; keeps shape and mask. (For {@code PReLU}, whose slopes are weights, see
 * {@link PRelu}; for {@code Softmax}, {@link ActivationLayer}.)
 */
public final class AdvancedActivation extends Layer {

    private final String className;
    private final String options;
    private final DoubleUnaryOperator function;

    private AdvancedActivation(String name, String className, String options, DoubleUnaryOperator function) {
        super(name != null ? name : uniqueName(className.toLowerCase(Locale.ROOT)));
        this.className = className;
        this.options = options;
        this.function = function;
    }

    /**
     * Keras {@code ReLU(max_value, negative_slope, threshold)}: x above the threshold, clipped to
     * [0, max_value] when max_value is given; below it, negative_slope · (x − threshold).
     *
     * @param maxValue null for none
     */
    public static AdvancedActivation relu(String name, Double maxValue, double negativeSlope, double threshold) {
        if (maxValue != null && maxValue < 0 || negativeSlope < 0) {
            throw new IllegalArgumentException("ReLU: max_value and negative_slope must be >= 0; got " + maxValue
                    + " and " + negativeSlope + ".");
        }
        return new AdvancedActivation(name, "ReLU", "max_value=" + (maxValue == null ? "None" : maxValue)
                + ", negative_slope=" + negativeSlope + ", threshold=" + threshold, x -> {
                    // Keras' relu(x, negative_slope, max_value, threshold), step by step; the
                    // threshold and max_value are cast to the input's float32 before comparing
                    if (negativeSlope != 0 && maxValue == null && threshold == 0) {
                        return x > 0 ? x : negativeSlope * x;
                    }
                    double th = (float) threshold;
                    double negativePart = negativeSlope != 0 ? Math.max(0, th - x) : 0;
                    // x times (x > threshold), as Keras computes it: NaN and −∞ give NaN (0 · x), not 0
                    double y = th != 0 ? x * (x > th ? 1 : 0) : Math.max(0, x);
                    if (maxValue != null) {
                        y = Math.min(Math.max(y, 0), (float) (double) maxValue);
                    }
                    return y - negativeSlope * negativePart;
                });
    }

    /** Keras {@code LeakyReLU(alpha)} (Keras 3: {@code negative_slope}; both default to 0.3). */
    public static AdvancedActivation leakyRelu(String name, double alpha) {
        return new AdvancedActivation(name, "LeakyReLU", "negative_slope=" + alpha, x -> x > 0 ? x : alpha * x);
    }

    /** Keras {@code ELU(alpha)}: x above 0, alpha · (eˣ − 1) below. */
    public static AdvancedActivation elu(String name, double alpha) {
        return new AdvancedActivation(name, "ELU", "alpha=" + alpha, x -> x > 0 ? x : alpha * Math.expm1(x));
    }

    /**
     * Keras 2's {@code ThresholdedReLU(theta)}: x above theta, else 0, computed as Keras does, x
     * times (x > theta): NaN and −∞ give NaN (0 · x), not 0.
     */
    public static AdvancedActivation thresholdedRelu(String name, double theta) {
        return new AdvancedActivation(name, "ThresholdedReLU", "theta=" + theta, x -> x * (x > (float) theta ? 1 : 0));
    }

    @Override
    public String className() {
        return className;
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        return List.of(inputShapes.get(0).clone());
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        float[] in = x.data();
        float[] y = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            y[i] = (float) function.applyAsDouble(in[i]);
        }
        return List.of(Tensor.wrap(y, x.shape()));
    }

    @Override
    public String describeOptions() {
        return options;
    }
}
