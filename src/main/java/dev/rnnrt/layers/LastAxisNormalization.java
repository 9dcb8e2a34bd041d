package dev.rnnrt.layers;

import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What Keras' BatchNormalization and LayerNormalization share: the last axis normalized, epsilon,
 * {@code center} (beta) and {@code scale} (gamma), weights that are vectors over that axis in
 * Keras' order, and the checks on them. Keeps the mask.
 */
abstract sealed class LastAxisNormalization extends Layer permits BatchNormalization, LayerNormalization {

    final int axis;
    final double epsilon;
    final boolean center;
    final boolean scale;
    /** The normalized axis' size in the model the layer was last built in ({@link #build(List)}); 0 while unknown. */
    private volatile int builtFeatures;

    /**
     * @param axis the axis normalized, counting the batch axis as 0: -1 (the last, Keras' default) or
     *             the index of the last axis; no other axis is supported
     */
    LastAxisNormalization(String name, String base, int axis, double epsilon, boolean center, boolean scale) {
        super(name != null ? name : uniqueName(base));
        if (axis == 0 || axis < -1) {
            throw new IllegalArgumentException(describe() + ": axis " + axis + " is not supported; rnnrt normalizes "
                    + "the last axis (axis=-1).");
        }
        if (!(epsilon >= 0)) {
            throw new IllegalArgumentException(describe() + ": epsilon must be >= 0; got " + epsilon + ".");
        }
        this.axis = axis;
        this.epsilon = epsilon;
        this.center = center;
        this.scale = scale;
    }

    /** The weight names, in Keras' order: gamma (with scale), beta (with center), then the layer's own. */
    public List<String> weightNames() {
        List<String> names = new ArrayList<>();
        if (scale) {
            names.add("gamma");
        }
        if (center) {
            names.add("beta");
        }
        names.addAll(statisticNames());
        return names;
    }

    /** Weights after gamma and beta (the moving statistics of BatchNormalization). */
    abstract List<String> statisticNames();

    /** The size of the normalized axis the weights fix; 0 while unknown or not fixed. */
    abstract int features();

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        checkAxis(x);
        int n = x.length;
        int features = features();
        if (n < 1 || x[n - 1] < 1 || (features > 0 && x[n - 1] != features)) {
            throw new IllegalArgumentException(describe() + " normalizes the last axis"
                    + (features > 0 ? ", of " + features + " features" : "") + "; got input " + shapeText(x) + ".");
        }
        return List.of(x.clone());
    }

    /**
     * Notes the size of the input's last axis, where known, so that setWeights can refuse weights of
     * another size. As Keras' build, the first model fixes it: a model that gives the layer another
     * size is refused.
     *
     * @throws IllegalArgumentException if the size is known (weights, or an earlier model) and differs
     */
    @Override
    public synchronized void build(List<int[]> inputShapes) {
        int c = lastAxis(inputShapes);
        if (c < 1) {
            return;
        }
        int known = features() > 0 ? features() : builtFeatures;
        if (known > 0 && known != c) {
            throw new IllegalArgumentException(describe() + " was built for inputs of " + known + " features; it cannot "
                    + "take " + c + ". Give it inputs of " + known + " features, or a new " + className()
                    + " layer for these.");
        }
        builtFeatures = c;
    }

    @Override
    public long parameterCount() {
        return (long) features() * weightNames().size();
    }

    @Override
    public String describeOptions() {
        return (axis == -1 ? "" : "axis=" + axis + ", ") + "epsilon=" + epsilon + (center ? "" : ", center=False")
                + (scale ? "" : ", scale=False");
    }

    /**
     * The weights named by {@link #weightNames()}, each [C] with one C, in float64; a clear error
     * otherwise. Where C is known (from the weights set before, or the model the layer was built in)
     * weights of another size are refused, naming the weight, the expected and the actual shape.
     */
    final double[][] vectors(List<Tensor> weights) {
        List<String> names = weightNames();
        if (weights == null || weights.size() != names.size()) {
            throw new IllegalArgumentException(describe() + " has " + names.size() + " weight(s) ("
                    + String.join(", ", names) + "); got " + (weights == null ? 0 : weights.size()) + ".");
        }
        int known = features() > 0 ? features() : builtFeatures;
        double[][] out = new double[names.size()][];
        for (int k = 0; k < out.length; k++) {
            Tensor w = weights.get(k);
            if (known > 0) {
                checkWeightShape(names.get(k), w, known);
            }
            int channels = weights.get(0) == null ? -1 : weights.get(0).size();
            if (w == null || w.rank() != 1 || w.size() != channels) {
                throw new IllegalArgumentException(describe() + ": weight '" + names.get(k) + "' must have shape ["
                        + (k == 0 ? "C" : Integer.toString(channels)) + "]" + (k == 0 ? "" : " like '" + names.get(0) + "'")
                        + "; got " + (w == null ? "null" : Tensor.shapeString(w.shape())) + ".");
            }
            out[k] = new double[channels];
            for (int c = 0; c < channels; c++) {
                out[k][c] = w.data()[c];
            }
        }
        return out;
    }

    /** x must be [batch, …, channels], with {@code axis} its last axis. */
    final void checkInput(int channels, Tensor x) {
        if (x.rank() >= 2) {
            checkAxis(Arrays.copyOfRange(x.shape(), 1, x.rank()));
        }
        if (x.rank() < 2 || channels < 1 || x.dim(-1) != channels) {
            throw new IllegalArgumentException(describe() + " expects input [batch, ..., " + channels + "]; got "
                    + Tensor.shapeString(x.shape()) + ".");
        }
    }

    private void checkAxis(int[] shapeWithoutBatch) {
        if (axis != -1 && axis != shapeWithoutBatch.length) {
            throw new IllegalArgumentException(describe() + ": axis " + axis + " is not the last axis of its input "
                    + shapeText(shapeWithoutBatch) + " (that is " + shapeWithoutBatch.length
                    + "); rnnrt normalizes the last axis only.");
        }
    }
}
