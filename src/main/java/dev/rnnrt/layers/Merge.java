package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Keras' merge layers: {@code Concatenate(axis)}, {@code Add}, {@code Multiply}, {@code Average}.
 * Inputs of Add, Multiply and Average must have equal shapes. The output mask is the AND of
 * the inputs' masks, an input without a mask counting as all true (keras/src/layers/merging/base_merge.py,
 * compute_mask).
 */
public final class Merge extends Layer {

    /** The merge operation. */
    public enum Mode {
        CONCATENATE("Concatenate", "concatenate"), ADD("Add", "add"), MULTIPLY("Multiply", "multiply"),
        AVERAGE("Average", "average"), SUBTRACT("Subtract", "subtract"), MAXIMUM("Maximum", "maximum"),
        MINIMUM("Minimum", "minimum");

        private final String className;
        private final String baseName;

        Mode(String className, String baseName) {
            this.className = className;
            this.baseName = baseName;
        }
    }

    private final Mode mode;
    private final int axis; // Concatenate only; Keras' axis, -1 = last, counting the batch axis as 0

    private Merge(String name, Mode mode, int axis) {
        super(name != null ? name : uniqueName(mode.baseName));
        this.mode = mode;
        this.axis = axis;
        if (mode == Mode.CONCATENATE && axis == 0) {
            throw new IllegalArgumentException("Concatenate cannot join along the batch axis (axis=0).");
        }
    }

    /** {@code Concatenate(axis=-1)}. */
    public static Merge concatenate() {
        return new Merge(null, Mode.CONCATENATE, -1);
    }

    /** {@code Concatenate(axis)}, Keras' axis numbering (0 is the batch axis). */
    public static Merge concatenate(String name, int axis) {
        return new Merge(name, Mode.CONCATENATE, axis);
    }

    public static Merge add() {
        return new Merge(null, Mode.ADD, -1);
    }

    public static Merge multiply() {
        return new Merge(null, Mode.MULTIPLY, -1);
    }

    public static Merge average() {
        return new Merge(null, Mode.AVERAGE, -1);
    }

    /** Any mode under a given name (null for a generated one). */
    public static Merge of(String name, Mode mode) {
        return new Merge(name, mode, -1);
    }

    public Mode mode() {
        return mode;
    }

    @Override
    public String className() {
        return mode.className;
    }

    @Override
    public int minInputs() {
        return 2;
    }

    @Override
    public int maxInputs() {
        return mode == Mode.SUBTRACT ? 2 : Integer.MAX_VALUE;     // Keras: Subtract takes exactly two
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] first = inputShapes.get(0);
        if (mode != Mode.CONCATENATE) {
            for (int k = 1; k < inputShapes.size(); k++) {
                if (!compatible(first, inputShapes.get(k))) {
                    throw new IllegalArgumentException(describe() + " needs inputs of equal shapes; input 0 is "
                            + shapeText(first) + " but input " + k + " is " + shapeText(inputShapes.get(k)) + ".");
                }
            }
            return List.of(first.clone());
        }
        int a = concatAxis(first.length + 1) - 1; // without the batch axis
        int[] out = first.clone();
        for (int k = 1; k < inputShapes.size(); k++) {
            int[] s = inputShapes.get(k);
            if (s.length != first.length) {
                throw new IllegalArgumentException(describe() + " needs inputs of equal rank; input 0 is "
                        + shapeText(first) + " but input " + k + " is " + shapeText(s) + ".");
            }
            for (int d = 0; d < s.length; d++) {
                if (d != a && first[d] >= 0 && s[d] >= 0 && first[d] != s[d]) {
                    throw new IllegalArgumentException(describe() + " joins along axis " + (a + 1)
                            + "; the other axes must match, but input 0 is " + shapeText(first) + " and input " + k
                            + " is " + shapeText(s) + ".");
                }
            }
            out[a] = out[a] < 0 || s[a] < 0 ? -1 : out[a] + s[a];
        }
        return List.of(out);
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor first = inputs.get(0);
        if (mode == Mode.CONCATENATE) {
            return List.of(concat(inputs));
        }
        for (Tensor t : inputs) {
            if (!Arrays.equals(t.shape(), first.shape())) {
                throw new IllegalArgumentException(describe() + " needs inputs of equal shapes; got "
                        + Tensor.shapeString(first.shape()) + " and " + Tensor.shapeString(t.shape()) + ".");
            }
        }
        float[] out = new float[first.size()];
        for (int k = 0; k < out.length; k++) {
            double acc = first.data()[k];
            for (int i = 1; i < inputs.size(); i++) {
                float v = inputs.get(i).data()[k];
                acc = switch (mode) {
                    case MULTIPLY -> acc * v;
                    case SUBTRACT -> acc - v;
                    case MAXIMUM -> Math.max(acc, v);
                    case MINIMUM -> Math.min(acc, v);
                    default -> acc + v;
                };
            }
            out[k] = (float) (mode == Mode.AVERAGE ? acc / inputs.size() : acc);
        }
        return List.of(Tensor.wrap(out, first.shape()));
    }

    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        Mask result = null;
        for (Mask m : masks) {
            if (m == null) {
                continue;
            }
            if (result == null) {
                result = m;
                continue;
            }
            boolean[] and = new boolean[m.rows() * m.cols()];
            for (int i = 0; i < m.rows(); i++) {
                for (int j = 0; j < m.cols(); j++) {
                    and[i * m.cols() + j] = result.get(i, j) && m.get(i, j);
                }
            }
            result = Mask.of(and, m.rows(), m.cols());
        }
        return java.util.Collections.singletonList(result);
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        return List.of(inputsMasked.contains(Boolean.TRUE));
    }

    @Override
    public String describeOptions() {
        return mode == Mode.CONCATENATE ? "axis=" + axis : "";
    }

    private int concatAxis(int rankWithBatch) {
        int a = axis < 0 ? axis + rankWithBatch : axis;
        if (a <= 0 || a >= rankWithBatch) {
            throw new IllegalArgumentException(describe() + ": axis " + axis + " is out of range for inputs of rank "
                    + rankWithBatch + " (batch axis included).");
        }
        return a;
    }

    /** Joins along the concatenation axis; every other axis must match. */
    private Tensor concat(List<Tensor> inputs) {
        Tensor first = inputs.get(0);
        int rank = first.rank();
        int a = concatAxis(rank);
        int outer = 1;
        for (int d = 0; d < a; d++) {
            outer *= first.dim(d);
        }
        int total = 0;
        int[] inner = new int[inputs.size()];
        for (int k = 0; k < inputs.size(); k++) {
            Tensor t = inputs.get(k);
            if (t.rank() != rank) {
                throw new IllegalArgumentException(describe() + " needs inputs of equal rank; got "
                        + Tensor.shapeString(first.shape()) + " and " + Tensor.shapeString(t.shape()) + ".");
            }
            for (int d = 0; d < rank; d++) {
                if (d != a && t.dim(d) != first.dim(d)) {
                    throw new IllegalArgumentException(describe() + " joins along axis " + a
                            + "; the other axes must match, but got " + Tensor.shapeString(first.shape()) + " and "
                            + Tensor.shapeString(t.shape()) + ".");
                }
            }
            inner[k] = t.size() / Math.max(1, outer);
            total += inner[k];
        }
        float[] out = new float[outer * total];
        int offset = 0;
        for (int k = 0; k < inputs.size(); k++) {
            float[] src = inputs.get(k).data();
            for (int o = 0; o < outer; o++) {
                System.arraycopy(src, o * inner[k], out, o * total + offset, inner[k]);
            }
            offset += inner[k];
        }
        int[] shape = first.shape();
        int sum = 0;
        for (Tensor t : inputs) {
            sum += t.dim(a);
        }
        shape[a] = sum;
        return Tensor.wrap(out, shape);
    }

    private static boolean compatible(int[] a, int[] b) {
        if (a.length != b.length) {
            return false;
        }
        for (int d = 0; d < a.length; d++) {
            if (a[d] >= 0 && b[d] >= 0 && a[d] != b[d]) {
                return false;
            }
        }
        return true;
    }
}
