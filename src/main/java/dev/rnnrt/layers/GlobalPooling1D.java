package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.Collections;
import java.util.List;

/**
 * Keras {@code GlobalMaxPooling1D} and {@code GlobalAveragePooling1D} (channels last): [batch,
 * timesteps, channels] to [batch, channels] ([batch, 1, channels] with {@code keepdims}), the max or
 * mean over all steps. The average takes a mask as Keras does: the mean of the unmasked steps only
 * (a row with every step masked gives NaN, Keras' 0 / 0); the max takes none (standalone Keras
 * raised on one; tf.keras 2.4+ and Keras 3 drop it and take the max over every step, which
 * {@code ModelBuilder.dropUnusedMasks} follows). Neither passes a mask on.
 */
public final class GlobalPooling1D extends Layer {

    private final Pooling1D.Mode mode;
    private final boolean keepdims;

    public GlobalPooling1D(String name, Pooling1D.Mode mode, boolean keepdims) {
        super(name != null ? name : uniqueName(mode == Pooling1D.Mode.MAX ? "global_max_pooling1d"
                : "global_average_pooling1d"));
        this.mode = java.util.Objects.requireNonNull(mode, "mode");
        this.keepdims = keepdims;
    }

    @Override
    public String className() {
        return mode == Pooling1D.Mode.MAX ? "GlobalMaxPooling1D" : "GlobalAveragePooling1D";
    }

    @Override
    public boolean supportsMasking() {
        return mode == Pooling1D.Mode.AVERAGE;
    }

    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        return Collections.nCopies(outputs.size(), null);
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        return Collections.nCopies(outputCount, false);
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        checkRank(x, 2, "[batch, timesteps, channels]");
        return List.of(keepdims ? new int[] {1, x[1]} : new int[] {x[1]});
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        if (x.rank() != 3 || x.dim(1) < 1) {
            throw new IllegalArgumentException(describe() + " expects input [batch, timesteps >= 1, channels]; got "
                    + Tensor.shapeString(x.shape()) + ".");
        }
        int batch = x.dim(0);
        int time = x.dim(1);
        int channels = x.dim(2);
        // Keras' GlobalAveragePooling1D averages the unmasked steps; GlobalMaxPooling1D takes no mask
        Mask mask = masks == null || masks.isEmpty() || mode == Pooling1D.Mode.MAX ? null : masks.get(0);
        if (mask != null && (mask.rows() != batch || mask.cols() != time)) {
            throw new IllegalArgumentException(describe() + ": mask must be [" + batch + ", " + time + "]; got ["
                    + mask.rows() + ", " + mask.cols() + "].");
        }
        float[] in = x.data();
        float[] y = new float[batch * channels];
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < channels; c++) {
                double acc = mode == Pooling1D.Mode.MAX ? Double.NEGATIVE_INFINITY : 0.0;
                int count = 0;
                for (int t = 0; t < time; t++) {
                    if (mask != null && !mask.get(b, t)) {
                        continue;
                    }
                    float v = in[(b * time + t) * channels + c];
                    acc = mode == Pooling1D.Mode.MAX ? Math.max(acc, v) : acc + v;
                    count++;
                }
                y[b * channels + c] = (float) (mode == Pooling1D.Mode.MAX ? acc : acc / count);
            }
        }
        return List.of(keepdims ? Tensor.wrap(y, batch, 1, channels) : Tensor.wrap(y, batch, channels));
    }

    @Override
    public String describeOptions() {
        return keepdims ? "keepdims=True" : "";
    }
}
