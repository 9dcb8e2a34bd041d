package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Keras' merge layers: {@code Concatenate(axis)}, {@code Add}, {@code Subtract}, {@code Multiply},
 * {@code Average}, {@code Maximum}, {@code Minimum}. Inputs of all but Concatenate must have equal
 * shapes.
 *
 * <p>What a merge does with masks changed between Keras versions ({@link MaskRule}): Keras 2 ANDs
 * them; Keras 3.0 to 3.3 pass none on; from Keras 3.4 (keras/src/layers/merging/base_merge.py)
 * the output mask is the OR of the inputs' masks, or none when an input has none, Concatenate
 * ORs them with an unmasked input counting as all true, Multiply takes a masked step of an input
 * as 1 (zeros where every input is masked) and Maximum / Minimum take a masked step of an input as
 * the other inputs' value. Concatenate along the time axis joins the masks (in Keras 2 and from
 * 3.4; Keras 3.0 to 3.3 pass none on there too).
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

    /** How a merge combines its inputs' masks: the rule of the Keras version that wrote the model. */
    public enum MaskRule {
        /** Keras 1 and 2 (tf.keras): the AND of the inputs' masks, an unmasked input counting as all true. */
        KERAS_2,
        /** Keras 3.0 to 3.3: merges pass no mask on (their mask handling was fixed in 3.4). */
        KERAS_3_0,
        /** Keras 3.4 and later: the OR of the masks (see the class comment); the builders' default. */
        KERAS_3_4;

        /** The rule of the Keras version that wrote a model. */
        public static MaskRule of(dev.rnnrt.api.KerasVersion version) {
            if (version.major() < 3) {
                return KERAS_2;
            }
            return version.major() == 3 && version.minor() < 4 ? KERAS_3_0 : KERAS_3_4;
        }
    }

    private final Mode mode;
    private final int axis; // Concatenate only; Keras' axis, -1 = last, counting the batch axis as 0
    private final MaskRule rule;

    private Merge(String name, Mode mode, int axis, MaskRule rule) {
        super(name != null ? name : uniqueName(java.util.Objects.requireNonNull(mode, "mode").baseName));
        this.mode = java.util.Objects.requireNonNull(mode, "mode");
        this.axis = axis;
        this.rule = java.util.Objects.requireNonNull(rule, "rule");
        if (mode == Mode.CONCATENATE && axis == 0) {
            throw new IllegalArgumentException("Concatenate cannot join along the batch axis (axis=0).");
        }
    }

    /** {@code Concatenate(axis=-1)}. */
    public static Merge concatenate() {
        return new Merge(null, Mode.CONCATENATE, -1, MaskRule.KERAS_3_4);
    }

    /** {@code Concatenate(axis)}, Keras' axis numbering (0 is the batch axis). */
    public static Merge concatenate(String name, int axis) {
        return new Merge(name, Mode.CONCATENATE, axis, MaskRule.KERAS_3_4);
    }

    /** {@code Concatenate(axis)} with the mask rule of a given Keras version. */
    public static Merge concatenate(String name, int axis, MaskRule rule) {
        return new Merge(name, Mode.CONCATENATE, axis, rule);
    }

    public static Merge add() {
        return of(null, Mode.ADD);
    }

    public static Merge multiply() {
        return of(null, Mode.MULTIPLY);
    }

    public static Merge average() {
        return of(null, Mode.AVERAGE);
    }

    /** Any mode under a given name (null for a generated one), with Keras 3.4's mask rule. */
    public static Merge of(String name, Mode mode) {
        return new Merge(name, mode, -1, MaskRule.KERAS_3_4);
    }

    /** Any mode with the mask rule of a given Keras version. */
    public static Merge of(String name, Mode mode, MaskRule rule) {
        return new Merge(name, mode, -1, rule);
    }

    /** What the merge does with masks. */
    public MaskRule maskRule() {
        return rule;
    }

    /** Concatenate's axis, as Keras counts it (batch axis 0, -1 the last). */
    public int axis() {
        return axis;
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
        if (rule == MaskRule.KERAS_3_4 && (mode == Mode.MULTIPLY || mode == Mode.MAXIMUM || mode == Mode.MINIMUM)
                && masks != null && masks.stream().anyMatch(java.util.Objects::nonNull)) {
            return List.of(maskedMerge(inputs, masks));
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
        if (rule == MaskRule.KERAS_3_0 || masks.stream().allMatch(java.util.Objects::isNull)) {
            return java.util.Collections.singletonList(null);
        }
        if (mode == Mode.CONCATENATE && joinsTime(inputs.get(0).rank())) {
            return java.util.Collections.singletonList(joinedMasks(inputs, masks));
        }
        boolean or = rule == MaskRule.KERAS_3_4;
        if (or && mode != Mode.CONCATENATE && masks.stream().anyMatch(java.util.Objects::isNull)) {
            return java.util.Collections.singletonList(null);
        }
        Mask result = null;
        for (Mask m : masks) {
            if (m == null) {
                if (or) {                       // Keras 3 Concatenate: an unmasked input is all true
                    Mask any = masks.stream().filter(java.util.Objects::nonNull).findFirst().orElseThrow();
                    return java.util.Collections.singletonList(Mask.all(any.rows(), any.cols()));
                }
                continue;
            }
            if (result == null) {
                result = m;
                continue;
            }
            boolean[] joined = new boolean[m.rows() * m.cols()];
            for (int i = 0; i < m.rows(); i++) {
                for (int j = 0; j < m.cols(); j++) {
                    joined[i * m.cols() + j] = or ? result.get(i, j) || m.get(i, j) : result.get(i, j) && m.get(i, j);
                }
            }
            result = Mask.of(joined, m.rows(), m.cols());
        }
        return java.util.Collections.singletonList(result);
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        if (rule == MaskRule.KERAS_3_0) {
            return List.of(false);
        }
        boolean all = !inputsMasked.contains(Boolean.FALSE);
        boolean any = inputsMasked.contains(Boolean.TRUE);
        return List.of(rule == MaskRule.KERAS_3_4 && mode != Mode.CONCATENATE ? all && any : any);
    }

    /** Concatenate along the time axis (axis 1 of [batch, time, features]): the masks are joined too. */
    private boolean joinsTime(int rankWithBatch) {
        return rankWithBatch >= 3 && (axis < 0 ? axis + rankWithBatch : axis) == 1;
    }

    /** The masks of inputs joined along time, an unmasked input all true. */
    private static Mask joinedMasks(List<Tensor> inputs, List<Mask> masks) {
        int rows = inputs.get(0).dim(0);
        int cols = 0;
        for (Tensor t : inputs) {
            cols += t.dim(1);
        }
        boolean[] joined = new boolean[rows * cols];
        int offset = 0;
        for (int k = 0; k < inputs.size(); k++) {
            int steps = inputs.get(k).dim(1);
            Mask m = masks.get(k);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < steps; j++) {
                    joined[i * cols + offset + j] = m == null || m.get(i, j);
                }
            }
            offset += steps;
        }
        return Mask.of(joined, rows, cols);
    }

    /**
     * Keras 3.4's Multiply, Maximum and Minimum with masks (base_merge._apply_merge_op_and_or_mask,
     * multiply._merge_function): a masked step of an input counts as 1 in a product, and as the
     * other side's value in a max or min; a product whose inputs are all masked is zero where every
     * mask is false.
     */
    private Tensor maskedMerge(List<Tensor> inputs, List<Mask> masks) {
        Tensor first = inputs.get(0);
        Mask any = masks.stream().filter(java.util.Objects::nonNull).findFirst().orElseThrow();
        int steps = any.rows() * any.cols();
        int per = first.size() / Math.max(1, steps);
        float[] out = new float[first.size()];
        if (mode == Mode.MULTIPLY) {
            boolean allMasked = masks.stream().allMatch(java.util.Objects::nonNull);
            for (int k = 0; k < out.length; k++) {
                int b = k / per / any.cols();
                int t = k / per % any.cols();
                double acc = 1;
                boolean kept = false;
                for (int i = 0; i < inputs.size(); i++) {
                    Mask m = masks.get(i);
                    boolean on = m == null || m.get(b, t);
                    acc *= on ? inputs.get(i).data()[k] : 1.0;
                    kept |= m != null && m.get(b, t);
                }
                out[k] = (float) (allMasked && !kept ? 0.0 : acc);
            }
            return Tensor.wrap(out, first.shape());
        }
        for (int k = 0; k < out.length; k++) {
            int b = k / per / any.cols();
            int t = k / per % any.cols();
            double output = first.data()[k];
            Mask m0 = masks.get(0);
            Boolean outputOn = m0 == null ? null : m0.get(b, t);   // null: the output has no mask
            for (int i = 1; i < inputs.size(); i++) {
                double x = inputs.get(i).data()[k];
                Mask mi = masks.get(i);
                Boolean xOn = mi == null ? null : mi.get(b, t);
                if (xOn != null && !xOn) {
                    x = output;
                }
                if (outputOn != null && !outputOn) {
                    output = x;
                }
                outputOn = xOn != null && outputOn != null ? (Boolean) (outputOn || xOn) : null;
                output = mode == Mode.MAXIMUM ? Math.max(output, x) : Math.min(output, x);
            }
            out[k] = (float) output;
        }
        return Tensor.wrap(out, first.shape());
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
        long total = 0;
        long joined = 0;
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
            joined += t.dim(a);
        }
        int[] shape = first.shape();
        long[] outShape = new long[rank];
        for (int d = 0; d < rank; d++) {
            outShape[d] = d == a ? joined : shape[d];
        }
        float[] out = new float[valueCount(outShape)];
        int stride = (int) total;
        int offset = 0;
        for (int k = 0; k < inputs.size(); k++) {
            float[] src = inputs.get(k).data();
            for (int o = 0; o < outer; o++) {
                System.arraycopy(src, o * inner[k], out, o * stride + offset, inner[k]);
            }
            offset += inner[k];
        }
        shape[a] = (int) joined;
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
