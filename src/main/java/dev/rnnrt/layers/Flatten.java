package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/**
 * Keras {@code Flatten}: [batch, d1, d2, …] to [batch, d1·d2·…]. With {@code
 * data_format="channels_first"} Keras first moves axis 1 to the end ([batch, d2, …, d1]), which
 * changes the order of the values; so does this layer. Takes no mask (Keras raises on one).
 */
public final class Flatten extends Layer {

    private final boolean channelsFirst;

    private Flatten(String name, boolean channelsFirst) {
        super(name != null ? name : uniqueName("flatten"));
        this.channelsFirst = channelsFirst;
    }

    public static Flatten create() {
        return new Flatten(null, false);
    }

    public static Flatten named(String name) {
        return new Flatten(name, false);
    }

    /** Keras {@code Flatten(data_format=...)}: channels_first moves axis 1 to the end before flattening. */
    public static Flatten named(String name, boolean channelsFirst) {
        return new Flatten(name, channelsFirst);
    }

    @Override
    public String className() {
        return "Flatten";
    }

    @Override
    public String describeOptions() {
        return channelsFirst ? "data_format=channels_first" : "";
    }

    @Override
    public boolean supportsMasking() {
        return false;
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int n = 1;
        for (int d : inputShapes.get(0)) {
            if (d < 0) {
                throw new IllegalArgumentException(describe() + " needs every axis of its input known to flatten it; got "
                        + shapeText(inputShapes.get(0)) + ". Give the model's input a fixed number of timesteps.");
            }
            n *= d;
        }
        return List.of(new int[] {n});
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        int rows = x.dim(0);
        int per = x.size() / Math.max(1, rows);
        if (!channelsFirst || x.rank() < 3) {
            return List.of(x.reshape(rows, per));
        }
        int first = x.dim(1);                         // [batch, first, rest…] → [batch, rest…, first]
        int rest = per / Math.max(1, first);
        float[] in = x.data();
        float[] out = new float[in.length];
        for (int b = 0; b < rows; b++) {
            for (int i = 0; i < first; i++) {
                for (int r = 0; r < rest; r++) {
                    out[b * per + r * first + i] = in[b * per + i * rest + r];
                }
            }
        }
        return List.of(Tensor.wrap(out, rows, per));
    }
}
