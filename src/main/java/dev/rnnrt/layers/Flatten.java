package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/** Keras {@code Flatten}: [batch, d1, d2, …] to [batch, d1·d2·…]. Takes no mask (Keras raises on one). */
public final class Flatten extends Layer {

    private Flatten(String name) {
        super(name != null ? name : uniqueName("flatten"));
    }

    public static Flatten create() {
        return new Flatten(null);
    }

    public static Flatten named(String name) {
        return new Flatten(name);
    }

    @Override
    public String className() {
        return "Flatten";
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
        return List.of(x.reshape(x.dim(0), x.size() / Math.max(1, x.dim(0))));
    }
}
