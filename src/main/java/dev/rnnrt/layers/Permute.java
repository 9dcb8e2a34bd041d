package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Keras {@code Permute(dims)}: reorders the axes after the batch axis; {@code dims} numbers them
 * from 1, e.g. (2, 1) swaps time and features, as hand-written attention does. Takes no mask
 * (neither Keras passes one through).
 */
public final class Permute extends Layer {

    private final int[] dims;

    /** @param dims a permutation of 1..n, n the input's rank without the batch axis */
    public Permute(String name, int... dims) {
        super(name != null ? name : uniqueName("permute"));
        int[] sorted = dims.clone();
        Arrays.sort(sorted);
        for (int k = 0; k < sorted.length; k++) {
            if (sorted[k] != k + 1) {
                throw new IllegalArgumentException("Permute '" + name() + "': dims " + Arrays.toString(dims)
                        + " must be a permutation of 1.." + dims.length + " (the axes after the batch axis).");
            }
        }
        this.dims = dims.clone();
    }

    @Override
    public String className() {
        return "Permute";
    }

    @Override
    public boolean supportsMasking() {
        return false;
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        checkRank(x, dims.length, "rank " + dims.length + " after the batch axis, for dims " + Arrays.toString(dims));
        int[] out = new int[dims.length];
        for (int k = 0; k < dims.length; k++) {
            out[k] = x[dims[k] - 1];
        }
        return List.of(out);
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        int[] shape = x.shape();
        if (shape.length != dims.length + 1) {
            throw new IllegalArgumentException(describe() + " expects rank " + (dims.length + 1) + " inputs (batch "
                    + "axis included) for dims " + Arrays.toString(dims) + "; got " + Tensor.shapeString(shape) + ".");
        }
        int[] perm = new int[dims.length + 1];          // the batch axis first, then dims (numbered from 1)
        System.arraycopy(dims, 0, perm, 1, dims.length);
        return List.of(TensorOp.transpose(x, perm));
    }

    @Override
    public String describeOptions() {
        return "dims=" + Arrays.toString(dims);
    }
}
