package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/**
 * Keras' 1-D reshaping layers along the time axis of [batch, timesteps, features]:
 * {@code ZeroPadding1D(padding=(before, after))} adds zero steps, {@code Cropping1D(cropping=
 * (before, after))} drops steps, {@code UpSampling1D(size)} repeats each step. They take no mask,
 * as in Keras.
 */
public final class TimeResize extends Layer {

    /** Which layer. */
    public enum Kind {
        ZERO_PADDING("ZeroPadding1D"), CROPPING("Cropping1D"), UP_SAMPLING("UpSampling1D");

        private final String className;

        Kind(String className) {
            this.className = className;
        }
    }

    private final Kind kind;
    private final int before;   // padding / cropping before, or the repeat count
    private final int after;

    private TimeResize(String name, Kind kind, int before, int after) {
        super(name);
        if (before < 0 || after < 0 || kind == Kind.UP_SAMPLING && before < 1) {
            throw new IllegalArgumentException(kind.className + " '" + name + "': " + (kind == Kind.UP_SAMPLING
                    ? "size must be at least 1; got " + before : "sizes must not be negative; got (" + before + ", "
                    + after + ")") + ".");
        }
        this.kind = kind;
        this.before = before;
        this.after = after;
    }

    /** {@code ZeroPadding1D(padding=(before, after))}. */
    public static TimeResize zeroPadding(String name, int before, int after) {
        return new TimeResize(name != null ? name : uniqueName("zero_padding1d"), Kind.ZERO_PADDING, before, after);
    }

    /** {@code Cropping1D(cropping=(before, after))}. */
    public static TimeResize cropping(String name, int before, int after) {
        return new TimeResize(name != null ? name : uniqueName("cropping1d"), Kind.CROPPING, before, after);
    }

    /** {@code UpSampling1D(size)}. */
    public static TimeResize upSampling(String name, int size) {
        return new TimeResize(name != null ? name : uniqueName("up_sampling1d"), Kind.UP_SAMPLING, size, 0);
    }

    @Override
    public String className() {
        return kind.className;
    }

    @Override
    public boolean supportsMasking() {
        return false;
    }

    private int length(int t) {
        if (t < 0) {
            return -1;
        }
        return switch (kind) {
            case ZERO_PADDING -> t + before + after;
            case CROPPING -> t - before - after;
            case UP_SAMPLING -> t * before;
        };
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        checkRank(x, 2, "[batch, timesteps, features]");
        int t = length(x[0]);
        if (x[0] >= 0 && t < 1) {
            throw tooShort(x[0]);
        }
        return List.of(new int[] {t, x[1]});
    }

    private IllegalArgumentException tooShort(int t) {
        return new IllegalArgumentException(describe() + ": cropping (" + before + ", " + after + ") leaves no steps of "
                + t + "; the input must be longer than " + (before + after) + " steps.");
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        if (x.rank() != 3) {
            throw new IllegalArgumentException(describe() + " expects [batch, timesteps, features]; got "
                    + Tensor.shapeString(x.shape()) + ".");
        }
        int b = x.dim(0);
        int t = x.dim(1);
        int f = x.dim(2);
        int out = length(t);
        if (out < 1) {
            throw tooShort(t);
        }
        float[] v = x.data();
        float[] o = new float[valueCount(b, out, f)];
        for (int n = 0; n < b; n++) {
            for (int s = 0; s < out; s++) {
                int from = switch (kind) {
                    case ZERO_PADDING -> s - before < 0 || s - before >= t ? -1 : s - before;
                    case CROPPING -> s + before;
                    case UP_SAMPLING -> s / before;
                };
                if (from >= 0) {
                    System.arraycopy(v, (n * t + from) * f, o, (n * out + s) * f, f);
                }
            }
        }
        return List.of(Tensor.wrap(o, b, out, f));
    }

    @Override
    public String describeOptions() {
        return kind == Kind.UP_SAMPLING ? "size=" + before
                : (kind == Kind.ZERO_PADDING ? "padding" : "cropping") + "=(" + before + ", " + after + ")";
    }
}
