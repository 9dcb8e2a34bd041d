package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.Collections;
import java.util.List;

/**
 * Keras {@code Embedding(input_dim, output_dim, mask_zero)}: integer ids [batch, timesteps] to
 * vectors [batch, timesteps, output_dim]. With {@code mask_zero}, id 0 is padding and masked.
 * The ids arrive as float values and must be whole numbers in [0, input_dim).
 */
public final class Embedding extends Layer {

    private final int inputDim;
    private final int outputDim;
    private final boolean maskZero;
    private volatile Tensor embeddings;

    private Embedding(String name, int inputDim, int outputDim, boolean maskZero, Initializer init) {
        super(name != null ? name : uniqueName("embedding"));
        if (inputDim < 1 || outputDim < 1) {
            throw new IllegalArgumentException("Embedding: input_dim and output_dim must be positive; got input_dim="
                    + inputDim + ", output_dim=" + outputDim + ".");
        }
        this.inputDim = inputDim;
        this.outputDim = outputDim;
        this.maskZero = maskZero;
        this.embeddings = Tensor.wrap(initialValues("embeddings_initializer", java.util.Objects.requireNonNull(init,
                "init"), inputDim, outputDim), inputDim, outputDim);
    }

    /** An embedding with Keras' default random_uniform initializer. */
    public static Embedding of(int inputDim, int outputDim, boolean maskZero) {
        return new Embedding(null, inputDim, outputDim, maskZero, Initializer.randomUniform());
    }

    /** A named embedding with the given initializer. */
    public static Embedding of(String name, int inputDim, int outputDim, boolean maskZero, Initializer init) {
        return new Embedding(name, inputDim, outputDim, maskZero, init);
    }

    @Override
    public String className() {
        return "Embedding";
    }

    public boolean maskZero() {
        return maskZero;
    }

    /** Sets [embeddings [input_dim, output_dim]]; copied. */
    public void setWeights(List<Tensor> weights) {
        if (weights == null || weights.size() != 1 || weights.get(0) == null
                || !weights.get(0).hasShape(inputDim, outputDim)) {
            throw new IllegalArgumentException(describe() + ": weight 'embeddings' must have shape [" + inputDim + ", "
                    + outputDim + "]; got " + (weights == null || weights.size() != 1
                    ? (weights == null ? 0 : weights.size()) + " weights"
                    : weights.get(0) == null ? "null" : Tensor.shapeString(weights.get(0).shape())) + ".");
        }
        embeddings = Tensor.of(weights.get(0).data(), inputDim, outputDim);
    }

    /** [embeddings [input_dim, output_dim]]; a copy. */
    public List<Tensor> getWeights() {
        return List.of(Tensor.of(embeddings.data(), inputDim, outputDim));
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        checkRank(x, 1, "[batch, timesteps] of integer ids");
        return List.of(new int[] {x[0], outputDim});
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor ids = inputs.get(0);
        if (ids.rank() != 2) {
            throw new IllegalArgumentException(describe() + " expects ids [batch, timesteps]; got "
                    + Tensor.shapeString(ids.shape()) + ".");
        }
        float[] e = embeddings.data();
        float[] out = new float[valueCount(ids.dim(0), ids.dim(1), outputDim)];
        for (int k = 0; k < ids.size(); k++) {
            int id = id(ids, k);
            System.arraycopy(e, id * outputDim, out, k * outputDim, outputDim);
        }
        return List.of(Tensor.wrap(out, ids.dim(0), ids.dim(1), outputDim));
    }

    /** With mask_zero, the mask is id != 0 (keras/src/layers/core/embedding.py, compute_mask). */
    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        if (!maskZero) {
            return Collections.singletonList(null);
        }
        Tensor ids = inputs.get(0);
        boolean[] m = new boolean[ids.size()];
        for (int k = 0; k < m.length; k++) {
            m[k] = ids.data()[k] != 0f;
        }
        return List.of(Mask.of(m, ids.dim(0), ids.dim(1)));
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        return List.of(maskZero);
    }

    @Override
    public boolean makesMask() {
        return maskZero;
    }

    @Override
    public boolean supportsMasking() {
        return false;
    }

    /** Keras' Embedding computes its own mask; a mask reaching it is refused. */
    @Override
    public boolean kerasDropsMask() {
        return false;
    }

    @Override
    public long parameterCount() {
        return (long) inputDim * outputDim;
    }

    @Override
    public String describeOptions() {
        return "input_dim=" + inputDim + ", output_dim=" + outputDim + (maskZero ? ", mask_zero=True" : "");
    }

    private int id(Tensor ids, int k) {
        float v = ids.data()[k];
        if (v != Math.rint(v) || v < 0 || v >= inputDim) {
            int[] shape = ids.shape();
            int[] at = new int[shape.length];
            for (int a = shape.length - 1, rest = k; a >= 0; a--) {
                at[a] = rest % shape[a];
                rest /= shape[a];
            }
            throw new InputValueException(describe() + ": id " + v, at, "is not a whole number in [0, " + inputDim
                    + "). Check the tokenizer's vocabulary size.");
        }
        return (int) v;
    }
}
