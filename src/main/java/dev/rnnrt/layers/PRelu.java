package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Keras {@code PReLU}: x above 0, alpha · x below, with alpha a weight shaped like the input
 * without the batch axis, of size 1 along the {@code shared_axes}. Keeps shape and mask.
 */
public final class PRelu extends Layer {

    private volatile Tensor alpha;
    /** The input shape without the batch axis of the first model the layer was built in; null while unknown. */
    private volatile int[] builtShape;

    public PRelu(String name) {
        super(name != null ? name : uniqueName("p_re_lu"));
    }

    @Override
    public String className() {
        return "PReLU";
    }

    /**
     * Notes the input shape of the first model the layer is built in, so that {@link #setWeights} can
     * refuse an alpha that does not fit it; a later model of another rank is refused (an alpha fits
     * one rank). A later model whose sizes differ along shared axes takes the same alpha, so its
     * sizes are checked against the alpha when it runs.
     */
    @Override
    public synchronized void build(List<int[]> inputShapes) {
        if (inputShapes.isEmpty()) {
            return;
        }
        int[] x = inputShapes.get(0);
        int[] known = builtShape;
        if (known == null) {
            builtShape = x.clone();
        } else if (known.length != x.length) {
            throw new IllegalArgumentException(describe() + " was built for inputs " + shapeText(known)
                    + "; it cannot take " + shapeText(x) + ", of another rank. Use a new PReLU layer for these.");
        }
    }

    /**
     * Sets [alpha], shaped like the input without the batch axis (1 along shared axes); copied. Where
     * the input shape is known (the layer was built in a model) an alpha that does not fit it is
     * refused, naming the layer, the weight and both shapes.
     */
    public void setWeights(List<Tensor> weights) {
        if (weights == null || weights.size() != 1) {
            throw new IllegalArgumentException(describe() + " has 1 weight (alpha); got "
                    + (weights == null ? 0 : weights.size()) + ".");
        }
        if (weights.get(0) == null) {
            throw new IllegalArgumentException(describe() + ": weight 'alpha' is null.");
        }
        Tensor a = weights.get(0);
        int[] known = builtShape;
        if (known != null) {
            check(a, known);
        }
        alpha = Tensor.of(a.data(), a.shape());
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        Tensor a = alpha;
        if (a != null) {
            check(a, inputShapes.get(0));
        }
        return List.of(inputShapes.get(0).clone());
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        Tensor a = alpha;
        if (a == null) {
            throw new IllegalStateException(describe() + " has no weights; set them first.");
        }
        int[] shape = Arrays.copyOfRange(x.shape(), 1, x.rank());
        check(a, shape);
        int per = x.size() / Math.max(1, x.dim(0));
        // the alpha index of each position within a row: its index with the shared axes (size 1) at 0
        int[] alphaIndex = new int[per];
        int[] dims = a.shape();
        for (int p = 0; p < per; p++) {
            int rest = p;
            int index = 0;
            int stride = 1;
            for (int d = shape.length - 1; d >= 0; d--) {
                int coordinate = rest % shape[d];
                rest /= shape[d];
                index += (dims[d] == 1 ? 0 : coordinate) * stride;
                stride *= dims[d];
            }
            alphaIndex[p] = index;
        }
        float[] in = x.data();
        float[] al = a.data();
        float[] y = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            float v = in[i];
            y[i] = v > 0 ? v : al[alphaIndex[i % per]] * v;
        }
        return List.of(Tensor.wrap(y, x.shape()));
    }

    @Override
    public long parameterCount() {
        Tensor a = alpha;
        return a == null ? 0 : a.size();
    }

    private void check(Tensor a, int[] shapeWithoutBatch) {
        boolean ok = a.rank() == shapeWithoutBatch.length;
        for (int d = 0; ok && d < a.rank(); d++) {
            ok = a.dim(d) == 1 || a.dim(d) == shapeWithoutBatch[d];
        }
        if (!ok) {
            String expected = shapeText(shapeWithoutBatch).replaceFirst("^\\[batch(, )?", "[");
            throw new IllegalArgumentException(describe() + ": weight 'alpha' must have shape " + expected
                    + ", the shape of its inputs " + shapeText(shapeWithoutBatch) + " without the batch axis (1 along "
                    + "shared axes); got " + Tensor.shapeString(a.shape()) + ".");
        }
    }
}
