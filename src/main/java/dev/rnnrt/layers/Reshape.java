package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/** Keras {@code Reshape(target_shape)}: the same values per sequence in a new shape; one size may be -1. */
public final class Reshape extends Layer {

    private final int[] targetShape;

    public Reshape(String name, int... targetShape) {
        super(name != null ? name : uniqueName("reshape"));
        int unknown = 0;
        for (int d : targetShape) {
            if (d == -1) {
                unknown++;
            } else if (d < 1) {
                throw new IllegalArgumentException(describe() + ": target_shape " + java.util.Arrays.toString(targetShape)
                        + " has a size below 1; use positive sizes and at most one -1.");
            }
        }
        if (unknown > 1) {
            throw new IllegalArgumentException(describe() + ": target_shape may have at most one -1.");
        }
        this.targetShape = targetShape.clone();
    }

    @Override
    public String className() {
        return "Reshape";
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
                return List.of(targetShape.clone());
            }
            n *= d;
        }
        return List.of(resolve(n, shapeText(inputShapes.get(0))));
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        int per = x.size() / Math.max(1, x.dim(0));
        int[] t = resolve(per, Tensor.shapeString(x.shape()));
        int[] shape = new int[t.length + 1];
        shape[0] = x.dim(0);
        System.arraycopy(t, 0, shape, 1, t.length);
        return List.of(x.reshape(shape));
    }

    @Override
    public String describeOptions() {
        return "target_shape=" + java.util.Arrays.toString(targetShape);
    }

    private int[] resolve(int count, String inputText) {
        int known = 1;
        int unknownAt = -1;
        for (int k = 0; k < targetShape.length; k++) {
            if (targetShape[k] == -1) {
                unknownAt = k;
            } else {
                known *= targetShape[k];
            }
        }
        int[] out = targetShape.clone();
        if (unknownAt >= 0 && known > 0 && count % known == 0) {
            out[unknownAt] = count / known;
            return out;
        }
        if (unknownAt < 0 && known == count) {
            return out;
        }
        throw new IllegalArgumentException(describe() + " cannot reshape " + inputText + " (" + count
                + " values per sequence) to " + java.util.Arrays.toString(targetShape) + ".");
    }
}
