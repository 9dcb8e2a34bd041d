package dev.rnnrt.layers;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.KerasVersion;
import java.util.Objects;

/**
 * The activation of a Dense or Activation layer: any element-wise {@link Activation}, or
 * {@code softmax} / {@code log_softmax} over the last axis, which are not element-wise.
 */
public final class OutputActivation {

    private enum Kind { ELEMENTWISE, SOFTMAX, LOG_SOFTMAX }

    private final Kind kind;
    private final Activation elementwise;

    private OutputActivation(Kind kind, Activation elementwise) {
        this.kind = kind;
        this.elementwise = elementwise;
    }

    /** An element-wise activation. */
    public static OutputActivation of(Activation activation) {
        return new OutputActivation(Kind.ELEMENTWISE, Objects.requireNonNull(activation, "activation"));
    }

    /** {@code softmax} over the last axis. */
    public static OutputActivation softmax() {
        return new OutputActivation(Kind.SOFTMAX, null);
    }

    /** The activation a Keras config names ("softmax", "log_softmax", or any name {@link Activation} knows). */
    public static OutputActivation named(String name, KerasVersion version) {
        String key = name == null ? "" : name.trim().toLowerCase(java.util.Locale.ROOT);
        if (key.equals("softmax")) {
            return softmax();
        }
        if (key.equals("log_softmax")) {
            return new OutputActivation(Kind.LOG_SOFTMAX, null);
        }
        return of(Activation.named(name, version));
    }

    /** The Keras name. */
    public String kerasName() {
        switch (kind) {
            case SOFTMAX:
                return "softmax";
            case LOG_SOFTMAX:
                return "log_softmax";
            default:
                return elementwise.kerasName();
        }
    }

    /** True for an element-wise activation; false for softmax and log_softmax. */
    public boolean isElementwise() {
        return kind == Kind.ELEMENTWISE;
    }

    /** The element-wise activation; LINEAR for softmax and log_softmax, which {@link #isElementwise()} tells apart. */
    public Activation elementwise() {
        return kind == Kind.ELEMENTWISE ? elementwise : Activation.LINEAR;
    }

    /** True for {@code linear}: the values pass unchanged. */
    public boolean isLinear() {
        return kind == Kind.ELEMENTWISE && elementwise == Activation.LINEAR;
    }

    /** Applies the activation in place to row-major values whose last axis has {@code lastDim} entries. */
    public void applyInPlace(float[] values, int lastDim) {
        if (kind == Kind.ELEMENTWISE) {
            if (elementwise != Activation.LINEAR) {
                for (int k = 0; k < values.length; k++) {
                    values[k] = (float) elementwise.apply(values[k]);
                }
            }
            return;
        }
        for (int row = 0; row + lastDim <= values.length; row += lastDim) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < lastDim; k++) {
                max = Math.max(max, values[row + k]);
            }
            double sum = 0;
            for (int k = 0; k < lastDim; k++) {
                sum += Math.exp(values[row + k] - max);
            }
            for (int k = 0; k < lastDim; k++) {
                double shifted = values[row + k] - max;
                values[row + k] = (float) (kind == Kind.SOFTMAX ? Math.exp(shifted) / sum : shifted - Math.log(sum));
            }
        }
    }

    @Override
    public String toString() {
        return kerasName();
    }
}
