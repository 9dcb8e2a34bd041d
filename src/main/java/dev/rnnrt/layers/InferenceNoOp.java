package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/**
 * Layers that only act in training and pass their input through at inference: Keras
 * {@code Dropout}, {@code SpatialDropout1D}, {@code GaussianNoise}, {@code GaussianDropout},
 * {@code AlphaDropout}, {@code ActivityRegularization}; and {@code Identity}, which always does.
 * Keeps shape and mask.
 */
public final class InferenceNoOp extends Layer {

    /** The Keras classes this stands for. */
    public static final List<String> CLASSES = List.of("Dropout", "SpatialDropout1D", "GaussianNoise",
            "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Identity");

    private final String className;
    private final String options;

    private InferenceNoOp(String name, String className, String options) {
        super(name != null ? name : uniqueName(snake(className)));
        if (!CLASSES.contains(className)) {
            throw new IllegalArgumentException("'" + className + "' is not an inference no-op layer; those are "
                    + String.join(", ", CLASSES) + ".");
        }
        this.className = className;
        this.options = options;
    }

    /** Keras {@code Dropout(rate)}. */
    public static InferenceNoOp dropout(double rate) {
        return new InferenceNoOp(null, "Dropout", "rate=" + rate);
    }

    /** Keras {@code SpatialDropout1D(rate)}. */
    public static InferenceNoOp spatialDropout1D(double rate) {
        return new InferenceNoOp(null, "SpatialDropout1D", "rate=" + rate);
    }

    /** Keras {@code GaussianNoise(stddev)}. */
    public static InferenceNoOp gaussianNoise(double stddev) {
        return new InferenceNoOp(null, "GaussianNoise", "stddev=" + stddev);
    }

    /** Any of {@link #CLASSES} by Keras class name, with the options to show in a summary. */
    public static InferenceNoOp of(String name, String className, String options) {
        return new InferenceNoOp(name, className, options);
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
        return List.of(inputs.get(0));
    }

    @Override
    public String describeOptions() {
        return options + " (no effect at inference)";
    }

    private static String snake(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT)
                .replace("spatial_dropout1_d", "spatial_dropout1d");
    }
}
