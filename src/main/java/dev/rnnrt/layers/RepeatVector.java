package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/** Keras {@code RepeatVector(n)}: [batch, features] to [batch, n, features]. Takes no mask. */
public final class RepeatVector extends Layer {

    private final int n;

    private RepeatVector(String name, int n) {
        super(name != null ? name : uniqueName("repeat_vector"));
        if (n < 1) {
            throw new IllegalArgumentException("RepeatVector: n must be a positive integer; got " + n + ".");
        }
        this.n = n;
    }

    public static RepeatVector of(int n) {
        return new RepeatVector(null, n);
    }

    public static RepeatVector of(String name, int n) {
        return new RepeatVector(name, n);
    }

    @Override
    public String className() {
        return "RepeatVector";
    }

    @Override
    public boolean supportsMasking() {
        return false;
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        checkRank(x, 1, "[batch, features]");
        return List.of(new int[] {n, x[0]});
    }

    /** x is [B, F]; returns [B, n, F]. */
    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        if (x.rank() != 2) {
            throw new IllegalArgumentException(describe() + " expects input [batch, features]; got "
                    + Tensor.shapeString(x.shape()) + ".");
        }
        int b = x.dim(0);
        int f = x.dim(1);
        float[] out = new float[valueCount(b, n, f)];
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < n; t++) {
                System.arraycopy(x.data(), i * f, out, (i * n + t) * f, f);
            }
        }
        return List.of(Tensor.wrap(out, b, n, f));
    }

    @Override
    public String describeOptions() {
        return "n=" + n;
    }
}
