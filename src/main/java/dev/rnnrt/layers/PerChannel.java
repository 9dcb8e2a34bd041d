package dev.rnnrt.layers;

import dev.rnnrt.api.Tensor;
import java.util.List;

/** Checks shared by the layers whose weights are vectors over the last axis (the normalizations). */
final class PerChannel {

    private PerChannel() {
    }

    /** The weights named {@code names}, each [C] with one C, in float64; a clear error otherwise. */
    static double[][] values(String layer, List<String> names, List<Tensor> weights) {
        if (weights == null || weights.size() != names.size()) {
            throw new IllegalArgumentException(layer + " has " + names.size() + " weight(s) (" + String.join(", ", names)
                    + "); got " + (weights == null ? 0 : weights.size()) + ".");
        }
        double[][] out = new double[names.size()][];
        for (int k = 0; k < out.length; k++) {
            Tensor w = weights.get(k);
            int channels = weights.get(0) == null ? -1 : weights.get(0).size();
            if (w == null || w.rank() != 1 || w.size() != channels) {
                throw new IllegalArgumentException(layer + ": weight '" + names.get(k) + "' must have shape ["
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

    /** The input shape (without the batch axis) must end with {@code channels} (0: not known yet). */
    static void checkShape(String layer, int channels, int[] shapeWithoutBatch) {
        int n = shapeWithoutBatch.length;
        if (n < 1 || shapeWithoutBatch[n - 1] < 1 || (channels > 0 && shapeWithoutBatch[n - 1] != channels)) {
            throw new IllegalArgumentException(layer + " normalizes the last axis"
                    + (channels > 0 ? ", of " + channels + " features" : "") + "; got input " + Layer.shapeText(shapeWithoutBatch)
                    + ".");
        }
    }

    /** {@code axis} (batch axis 0, or -1) must be the last axis of inputs of this shape (without the batch axis). */
    static void checkAxis(String layer, int axis, int[] shapeWithoutBatch) {
        if (axis != -1 && axis != shapeWithoutBatch.length) {
            throw new IllegalArgumentException(layer + ": axis " + axis + " is not the last axis of its input "
                    + Layer.shapeText(shapeWithoutBatch) + " (that is " + shapeWithoutBatch.length
                    + "); rnnrt normalizes the last axis only.");
        }
    }

    /** x must be [batch, …, channels], and {@code axis} its last axis. */
    static void checkInput(String layer, int axis, int channels, Tensor x) {
        if (x.rank() >= 2) {
            checkAxis(layer, axis, java.util.Arrays.copyOfRange(x.shape(), 1, x.rank()));
        }
        if (x.rank() < 2 || channels < 1 || x.dim(-1) != channels) {
            throw new IllegalArgumentException(layer + " expects input [batch, ..., " + channels + "]; got "
                    + Tensor.shapeString(x.shape()) + ".");
        }
    }
}
