package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;
import java.util.Locale;

/**
 * Keras {@code MaxPooling1D} and {@code AveragePooling1D} (channels last): [batch, timesteps,
 * channels] to [batch, timesteps', channels], each output step the max or mean of a window of
 * {@code pool_size} steps, windows {@code strides} apart. Padding {@code valid} (whole windows only)
 * or {@code same} (T' = ceil(T / strides), the padding split as TensorFlow splits it, the smaller
 * half first); padded positions never count: not in a max, not in a mean's divisor. Takes no mask
 * (standalone Keras raised on one; tf.keras 2.4+ and Keras 3 drop it: {@code
 * ModelBuilder.dropUnusedMasks}).
 */
public final class Pooling1D extends Layer {

    /** Max or mean over each window. */
    public enum Mode {
        MAX("MaxPooling1D"), AVERAGE("AveragePooling1D");

        private final String kerasName;

        Mode(String kerasName) {
            this.kerasName = kerasName;
        }

        public String kerasName() {
            return kerasName;
        }
    }

    private final Mode mode;
    private final int poolSize;
    private final int stride;
    private final String padding;

    /**
     * @param strides 0 for Keras' default, {@code pool_size}
     * @param padding "valid" or "same"
     */
    public Pooling1D(String name, Mode mode, int poolSize, int strides, String padding) {
        super(name != null ? name : uniqueName(mode == Mode.MAX ? "max_pooling1d" : "average_pooling1d"));
        this.mode = java.util.Objects.requireNonNull(mode, "mode");
        this.padding = padding == null ? "valid" : padding.toLowerCase(Locale.ROOT);
        if (poolSize < 1 || strides < 0) {
            throw new IllegalArgumentException(describe() + ": pool_size must be positive and strides positive (or "
                    + "left out); got " + poolSize + ", " + strides + ".");
        }
        if (!this.padding.equals("valid") && !this.padding.equals("same")) {
            throw new IllegalArgumentException(describe() + ": padding '" + padding
                    + "' is not supported; use valid or same.");
        }
        this.poolSize = poolSize;
        this.stride = strides == 0 ? poolSize : strides;
    }

    @Override
    public String className() {
        return mode.kerasName();
    }

    @Override
    public boolean supportsMasking() {
        return false;
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        checkRank(x, 2, "[batch, timesteps, channels]");
        if (x[0] >= 0 && outTime(x[0]) < 1) {
            throw new IllegalArgumentException(tooShort(x[0]));
        }
        return List.of(new int[] {x[0] < 0 ? -1 : outTime(x[0]), x[1]});
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        if (x.rank() != 3) {
            throw new IllegalArgumentException(describe() + " expects input [batch, timesteps, channels]; got "
                    + Tensor.shapeString(x.shape()) + ".");
        }
        int batch = x.dim(0);
        int time = x.dim(1);
        int channels = x.dim(2);
        int outT = outTime(time);
        if (outT < 1) {
            throw new IllegalArgumentException(tooShort(time));
        }
        int padLeft = padding.equals("same") ? Math.max(0, (outT - 1) * stride + poolSize - time) / 2 : 0;
        float[] in = x.data();
        float[] y = new float[batch * outT * channels];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < outT; t++) {
                int from = Math.max(0, t * stride - padLeft);
                int to = Math.min(time, t * stride - padLeft + poolSize);
                int o = (b * outT + t) * channels;
                for (int c = 0; c < channels; c++) {
                    double acc = mode == Mode.MAX ? Double.NEGATIVE_INFINITY : 0.0;
                    for (int s = from; s < to; s++) {
                        float v = in[(b * time + s) * channels + c];
                        acc = mode == Mode.MAX ? Math.max(acc, v) : acc + v;
                    }
                    y[o + c] = (float) (mode == Mode.MAX ? acc : acc / (to - from));
                }
            }
        }
        return List.of(Tensor.wrap(y, batch, outT, channels));
    }

    @Override
    public String describeOptions() {
        return "pool_size=" + poolSize + ", strides=" + stride + ", padding=" + padding;
    }

    private int outTime(int time) {
        return padding.equals("valid") ? (time < poolSize ? 0 : (time - poolSize) / stride + 1)
                : (time + stride - 1) / stride;
    }

    private String tooShort(int time) {
        return describe() + " needs at least " + poolSize + " timesteps with padding 'valid'; got " + time + ".";
    }
}
