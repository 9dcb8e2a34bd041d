package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A tensor operation a Keras functional model applies between layers: Keras 3's {@code keras.ops}
 * calls ({@code x[:, -1, :]}, {@code ops.abs(a - b)}, {@code ops.mean(x, axis=1)}) and tf.keras'
 * TFOpLambda layers for the same functions. Numpy semantics; axes count the batch axis as 0, as in
 * Keras, and an operation may not reduce, slice or concatenate along the batch axis.
 *
 * <p>Keras passes no mask through operations: a masked input is accepted and its mask dropped.
 */
public final class TensorOp extends Layer {

    /** Element-wise functions of one tensor. */
    public enum Unary {
        ABS("absolute"), NEGATIVE("negative"), EXP("exp"), LOG("log"), SQRT("sqrt"), SQUARE("square"),
        TANH("tanh"), SIGMOID("sigmoid"), RELU("relu");

        private final String kerasName;

        Unary(String kerasName) {
            this.kerasName = kerasName;
        }

        float apply(float x) {
            return switch (this) {
                case ABS -> Math.abs(x);
                case NEGATIVE -> -x;
                case EXP -> (float) Math.exp(x);
                case LOG -> (float) Math.log(x);
                case SQRT -> (float) Math.sqrt(x);
                case SQUARE -> x * x;
                case TANH -> (float) Math.tanh(x);
                case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
                case RELU -> x > 0 ? x : 0f;
            };
        }
    }

    /** Element-wise functions of two tensors (numpy broadcasting), or of a tensor and a number. */
    public enum Binary {
        ADD("add"), SUBTRACT("subtract"), MULTIPLY("multiply"), DIVIDE("divide"), MAXIMUM("maximum"),
        MINIMUM("minimum");

        private final String kerasName;

        Binary(String kerasName) {
            this.kerasName = kerasName;
        }

        float apply(float a, float b) {
            return switch (this) {
                case ADD -> a + b;
                case SUBTRACT -> a - b;
                case MULTIPLY -> a * b;
                case DIVIDE -> a / b;
                case MAXIMUM -> Float.isNaN(a) || Float.isNaN(b) ? Float.NaN : Math.max(a, b);
                case MINIMUM -> Float.isNaN(a) || Float.isNaN(b) ? Float.NaN : Math.min(a, b);
            };
        }
    }

    /** Reductions along axes. */
    public enum Reduce {
        SUM("sum"), MEAN("mean"), MAX("max"), MIN("min");

        private final String kerasName;

        Reduce(String kerasName) {
            this.kerasName = kerasName;
        }
    }

    /**
     * One entry of a subscript: an index (removes the axis), a slice (start, stop, step: null for
     * Python's default), {@code ...} or {@code None} (a new axis of size 1).
     */
    public record Index(Kind kind, int index, Integer start, Integer stop, Integer step) {
        public enum Kind { INDEX, SLICE, ELLIPSIS, NEW_AXIS }

        public static Index at(int index) {
            return new Index(Kind.INDEX, index, null, null, null);
        }

        public static Index slice(Integer start, Integer stop, Integer step) {
            if (step != null && step == 0) {
                throw new IllegalArgumentException("A slice step must not be zero.");
            }
            return new Index(Kind.SLICE, 0, start, stop, step);
        }

        public static Index all() {
            return slice(null, null, null);
        }

        public static Index ellipsis() {
            return new Index(Kind.ELLIPSIS, 0, null, null, null);
        }

        public static Index newAxis() {
            return new Index(Kind.NEW_AXIS, 0, null, null, null);
        }

        boolean whole() {
            return kind == Kind.SLICE && (start == null || start == 0) && stop == null && (step == null || step == 1);
        }

        @Override
        public String toString() {
            return switch (kind) {
                case INDEX -> Integer.toString(index);
                case ELLIPSIS -> "...";
                case NEW_AXIS -> "None";
                case SLICE -> (start == null ? "" : start) + ":" + (stop == null ? "" : stop)
                        + (step == null ? "" : ":" + step);
            };
        }
    }

    private enum Op { UNARY, BINARY, REDUCE, SLICE, CONCATENATE, EXPAND_DIMS, SQUEEZE, SOFTMAX, TRANSPOSE, MATMUL }

    private final Op op;
    private final Unary unary;
    private final Binary binary;
    private final Float constant;       // BINARY with a number
    private final boolean constantFirst;
    private final Reduce reduce;
    private final int[] axes;           // REDUCE, CONCATENATE, EXPAND_DIMS, SQUEEZE, SOFTMAX (Keras axes)
    private final boolean keepdims;
    private final List<Index> key;      // SLICE

    private TensorOp(String name, Op op, Unary unary, Binary binary, Float constant, boolean constantFirst,
                     Reduce reduce, int[] axes, boolean keepdims, List<Index> key) {
        super(name);
        this.op = op;
        this.unary = unary;
        this.binary = binary;
        this.constant = constant;
        this.constantFirst = constantFirst;
        this.reduce = reduce;
        this.axes = axes;
        this.keepdims = keepdims;
        this.key = key;
    }

    /** {@code f(x)} element-wise. */
    public static TensorOp unary(String name, Unary f) {
        return new TensorOp(name, Op.UNARY, Objects.requireNonNull(f), null, null, false, null, null, false, null);
    }

    /** {@code f(a, b)} element-wise with numpy broadcasting (two inputs). */
    public static TensorOp binary(String name, Binary f) {
        return new TensorOp(name, Op.BINARY, null, Objects.requireNonNull(f), null, false, null, null, false, null);
    }

    /** {@code f(x, c)}, or {@code f(c, x)} with {@code constantFirst}, for a number c (one input). */
    public static TensorOp binary(String name, Binary f, float c, boolean constantFirst) {
        return new TensorOp(name, Op.BINARY, null, Objects.requireNonNull(f), c, constantFirst, null, null, false, null);
    }

    /** {@code ops.sum(x, axis, keepdims)} and the like, along the given axes (not the batch axis). */
    public static TensorOp reduce(String name, Reduce f, boolean keepdims, int... axes) {
        if (axes.length == 0) {
            throw new IllegalArgumentException("Operation '" + name + "': " + f.kerasName + " over every axis would "
                    + "reduce the batch axis too; give the axes (e.g. axis=1).");
        }
        return new TensorOp(name, Op.REDUCE, null, null, null, false, Objects.requireNonNull(f), axes.clone(), keepdims,
                null);
    }

    /** {@code x[key]}: indices, slices, {@code ...} and new axes; the batch axis must be taken whole. */
    public static TensorOp slice(String name, List<Index> key) {
        List<Index> k = List.copyOf(key);
        if (k.stream().filter(i -> i.kind() == Index.Kind.ELLIPSIS).count() > 1) {
            throw new IllegalArgumentException("Operation '" + name + "': a subscript has at most one '...'; got "
                    + k + ".");
        }
        return new TensorOp(name, Op.SLICE, null, null, null, false, null, null, false, k);
    }

    /** {@code ops.concatenate(xs, axis)} along a non-batch axis. */
    public static TensorOp concatenate(String name, int axis) {
        return new TensorOp(name, Op.CONCATENATE, null, null, null, false, null, new int[] {axis}, false, null);
    }

    /** {@code ops.expand_dims(x, axis)}. */
    public static TensorOp expandDims(String name, int axis) {
        return new TensorOp(name, Op.EXPAND_DIMS, null, null, null, false, null, new int[] {axis}, false, null);
    }

    /** {@code ops.squeeze(x, axis)}: removes the given axes, each of size 1. */
    public static TensorOp squeeze(String name, int... axes) {
        if (axes.length == 0) {
            throw new IllegalArgumentException("Operation '" + name + "': squeeze needs its axis; without one it "
                    + "would depend on the batch size.");
        }
        return new TensorOp(name, Op.SQUEEZE, null, null, null, false, null, axes.clone(), false, null);
    }

    /**
     * {@code ops.transpose(x, axes)}: {@code axes} a permutation of all axes, the batch axis (0)
     * kept first.
     */
    public static TensorOp transpose(String name, int... perm) {
        int[] axes = perm.clone();
        for (int k = 0; k < axes.length; k++) {
            axes[k] = axes[k] < 0 ? axes[k] + axes.length : axes[k];     // as numpy, -1 is the last axis
        }
        int[] sorted = axes.clone();
        Arrays.sort(sorted);
        for (int k = 0; k < sorted.length; k++) {
            if (sorted[k] != k) {
                throw new IllegalArgumentException("Operation '" + name + "': transpose axes " + Arrays.toString(perm)
                        + " are not a permutation of 0.." + (axes.length - 1) + ".");
            }
        }
        if (axes.length == 0 || axes[0] != 0) {
            throw new IllegalArgumentException("Operation '" + name + "': transpose axes " + Arrays.toString(axes)
                    + " move the batch axis; rnnrt keeps it first.");
        }
        return new TensorOp(name, Op.TRANSPOSE, null, null, null, false, null, axes.clone(), false, null);
    }

    /**
     * {@code ops.matmul(a, b)} per batch row: [B, n, k] · [B, k, m] → [B, n, m], either operand
     * transposed first (tf.matmul's transpose_a, transpose_b).
     */
    public static TensorOp matmul(String name, boolean transposeA, boolean transposeB) {
        return new TensorOp(name, Op.MATMUL, null, null, null, false, null,
                new int[] {transposeA ? 1 : 0, transposeB ? 1 : 0}, false, null);
    }

    /** {@code ops.softmax(x, axis)}. */
    public static TensorOp softmax(String name, int axis) {
        return new TensorOp(name, Op.SOFTMAX, null, null, null, false, null, new int[] {axis}, false, null);
    }

    @Override
    public String className() {
        return "Operation";
    }

    @Override
    public String describeOptions() {
        return switch (op) {
            case UNARY -> unary.kerasName;
            case BINARY -> binary.kerasName + (constant == null ? "" : constantFirst ? "(" + constant + ", x)"
                    : "(x, " + constant + ")");
            case REDUCE -> reduce.kerasName + "(axis=" + axesText() + (keepdims ? ", keepdims=True" : "") + ")";
            case SLICE -> "x[" + String.join(", ", key.stream().map(Index::toString).toList()) + "]";
            case CONCATENATE -> "concatenate(axis=" + axes[0] + ")";
            case EXPAND_DIMS -> "expand_dims(axis=" + axes[0] + ")";
            case SQUEEZE -> "squeeze(axis=" + axesText() + ")";
            case SOFTMAX -> "softmax(axis=" + axes[0] + ")";
            case TRANSPOSE -> "transpose(axes=" + Arrays.toString(axes) + ")";
            case MATMUL -> "matmul(" + (axes[0] == 1 ? "transpose_a=True" : "") + (axes[0] == 1 && axes[1] == 1 ? ", " : "")
                    + (axes[1] == 1 ? "transpose_b=True" : "") + ")";
        };
    }

    private String axesText() {
        return axes.length == 1 ? Integer.toString(axes[0]) : Arrays.toString(axes);
    }

    @Override
    public String describe() {
        return "Operation '" + name() + "' (" + describeOptions() + ")";
    }

    @Override
    public int minInputs() {
        return op == Op.CONCATENATE ? 1 : op == Op.BINARY && constant == null || op == Op.MATMUL ? 2 : 1;
    }

    @Override
    public int maxInputs() {
        return op == Op.CONCATENATE ? Integer.MAX_VALUE : minInputs();
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        return Collections.nCopies(outputCount, false);
    }

    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        return Collections.nCopies(outputs.size(), null);
    }

    // ---- shapes: here with the batch axis first, its size -1 (unknown) in outputShapes -----------

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        List<int[]> full = new ArrayList<>();
        for (int[] s : inputShapes) {
            int[] f = new int[s.length + 1];
            f[0] = -1;
            System.arraycopy(s, 0, f, 1, s.length);
            full.add(f);
        }
        int[] out = shape(full);
        return List.of(Arrays.copyOfRange(out, 1, out.length));
    }

    /** The output shape (with the batch axis) for inputs of these shapes; -1 = unknown. */
    private int[] shape(List<int[]> in) {
        int[] x = in.get(0);
        switch (op) {
            case UNARY:
            case SOFTMAX:
                if (op == Op.SOFTMAX) {
                    nonBatchAxis(axes[0], x.length, "softmax along");
                }
                return x.clone();
            case BINARY:
                return constant != null ? x.clone() : broadcast(in.get(0), in.get(1));
            case REDUCE: {
                boolean[] reduced = reducedAxes(x.length);
                List<Integer> out = new ArrayList<>();
                for (int d = 0; d < x.length; d++) {
                    if (!reduced[d]) {
                        out.add(x[d]);
                    } else if (keepdims) {
                        out.add(1);
                    }
                }
                return out.stream().mapToInt(Integer::intValue).toArray();
            }
            case SLICE:
                return plan(x).outShape;
            case CONCATENATE: {
                int a = nonBatchAxis(axes[0], x.length, "concatenate along");
                int[] out = x.clone();
                for (int k = 1; k < in.size(); k++) {
                    int[] y = in.get(k);
                    if (y.length != x.length) {
                        throw new IllegalArgumentException(describe() + ": its inputs must have the same rank; got "
                                + full(x) + " and " + full(y) + ".");
                    }
                    for (int d = 1; d < x.length; d++) {
                        if (d != a && x[d] >= 0 && y[d] >= 0 && x[d] != y[d]) {
                            throw new IllegalArgumentException(describe() + ": its inputs must agree on every axis but "
                                    + a + "; got " + full(x) + " and " + full(y) + ".");
                        }
                    }
                    out[a] = out[a] < 0 || y[a] < 0 ? -1 : out[a] + y[a];
                }
                return out;
            }
            case EXPAND_DIMS: {
                int a = axes[0] < 0 ? axes[0] + x.length + 1 : axes[0];
                if (a < 1 || a > x.length) {
                    throw new IllegalArgumentException(describe() + ": axis " + axes[0] + " is out of range for input "
                            + full(x) + ", or is the batch axis.");
                }
                int[] out = new int[x.length + 1];
                for (int d = 0, s = 0; d < out.length; d++) {
                    out[d] = d == a ? 1 : x[s++];
                }
                return out;
            }
            case SQUEEZE: {
                boolean[] gone = new boolean[x.length];
                for (int ax : axes) {
                    int a = nonBatchAxis(ax, x.length, "squeeze");
                    if (x[a] >= 0 && x[a] != 1) {
                        throw new IllegalArgumentException(describe() + ": axis " + ax + " has size " + x[a]
                                + ", not 1, in input " + full(x) + ".");
                    }
                    gone[a] = true;
                }
                List<Integer> out = new ArrayList<>();
                for (int d = 0; d < x.length; d++) {
                    if (!gone[d]) {
                        out.add(x[d]);
                    }
                }
                return out.stream().mapToInt(Integer::intValue).toArray();
            }
            case TRANSPOSE: {
                if (x.length != axes.length) {
                    throw new IllegalArgumentException(describe() + ": the input has rank " + x.length + " (batch axis "
                            + "included), the axes " + axes.length + ".");
                }
                int[] out = new int[x.length];
                for (int d = 0; d < x.length; d++) {
                    out[d] = x[axes[d]];
                }
                return out;
            }
            case MATMUL: {
                int[] a = in.get(0);
                int[] b = in.get(1);
                if (a.length != 3 || b.length != 3) {
                    throw new IllegalArgumentException(describe() + ": rnnrt multiplies [batch, n, k] by [batch, k, m]; "
                            + "got " + full(a) + " and " + full(b) + ".");
                }
                int n = axes[0] == 1 ? a[2] : a[1];
                int ka = axes[0] == 1 ? a[1] : a[2];
                int kb = axes[1] == 1 ? b[2] : b[1];
                int m = axes[1] == 1 ? b[1] : b[2];
                if (ka >= 0 && kb >= 0 && ka != kb) {
                    throw new IllegalArgumentException(describe() + ": the inner sizes differ (" + ka + " and " + kb
                            + ") for inputs " + shapeText(Arrays.copyOfRange(a, 1, 3)) + " and "
                            + shapeText(Arrays.copyOfRange(b, 1, 3)) + ".");
                }
                return new int[] {a[0], n, m};
            }
            default:
                throw new IllegalStateException(op.toString());
        }
    }

    private int nonBatchAxis(int axis, int rank, String what) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 1 || a >= rank) {
            throw new IllegalArgumentException(describe() + ": cannot " + what + " axis " + axis + " of a rank-" + rank
                    + " input (batch axis included): " + (a == 0 ? "it is the batch axis" : "out of range") + ".");
        }
        return a;
    }

    private boolean[] reducedAxes(int rank) {
        boolean[] r = new boolean[rank];
        for (int ax : axes) {
            r[nonBatchAxis(ax, rank, reduce.kerasName + " along")] = true;
        }
        return r;
    }

    /** A shape whose first axis is the batch axis, as messages print shapes: [batch, 5, 4]. */
    private static String full(int[] shapeWithBatch) {
        return shapeText(Arrays.copyOfRange(shapeWithBatch, 1, shapeWithBatch.length));
    }

    private int[] broadcast(int[] a, int[] b) {
        if (a.length != b.length) {
            // numpy aligns trailing axes: the shorter tensor's batch axis would meet another axis, and each
            // sequence's result would depend on the other sequences of the batch and on the batch size
            throw new IllegalArgumentException(describe() + ": its inputs " + full(a) + " and " + full(b) + " have "
                    + "different ranks, so broadcasting would line the batch axis of one up with another axis of the "
                    + "other; rnnrt takes the batch axis whole. Expand the smaller one (ops.expand_dims) in Keras so "
                    + "that both have the batch axis first, and export the model again.");
        }
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int d = 0; d < rank; d++) {
            int x = d - (rank - a.length) >= 0 ? a[d - (rank - a.length)] : 1;
            int y = d - (rank - b.length) >= 0 ? b[d - (rank - b.length)] : 1;
            if (x == 1) {
                out[d] = y;
            } else if (y == 1 || x == y) {
                out[d] = x;
            } else if (x < 0 || y < 0) {
                out[d] = x < 0 ? y : x;
            } else {
                throw new IllegalArgumentException(describe() + ": shapes " + full(a) + " and " + full(b)
                        + " do not broadcast.");
            }
        }
        return out;
    }

    // ---- slicing ----------------------------------------------------------------------------------

    /** Per output axis: the input axis it reads and the input positions, or a new axis. */
    private static final class SlicePlan {
        int[] outShape;
        int[] fromAxis;       // -1 for a new axis
        int[][] positions;    // per output axis taken from the input: the input indices (null when not known yet)
        int[] fixedAxis;      // input axes fixed by an index
        int[] fixedAt;
    }

    /** Resolves the subscript against an input shape (sizes may be -1 when only shapes are known). */
    private SlicePlan plan(int[] x) {
        List<Index> k = new ArrayList<>(key);
        if (k.stream().noneMatch(i -> i.kind() == Index.Kind.ELLIPSIS)) {
            k.add(Index.ellipsis());
        }
        long consuming = k.stream().filter(i -> i.kind() == Index.Kind.INDEX || i.kind() == Index.Kind.SLICE).count();
        if (consuming > x.length) {
            throw new IllegalArgumentException(describe() + ": too many indices for an input of shape " + full(x)
                    + ".");
        }
        List<Integer> outShape = new ArrayList<>();
        List<Integer> fromAxis = new ArrayList<>();
        List<int[]> positions = new ArrayList<>();
        List<Integer> fixedAxis = new ArrayList<>();
        List<Integer> fixedAt = new ArrayList<>();
        int axis = 0;
        for (Index i : k) {
            switch (i.kind()) {
                case ELLIPSIS -> {
                    int take = x.length - (int) consuming;
                    for (int t = 0; t < take; t++, axis++) {
                        outShape.add(x[axis]);
                        fromAxis.add(axis);
                        positions.add(x[axis] < 0 ? null : range(0, x[axis], 1));
                    }
                }
                case NEW_AXIS -> {
                    if (outShape.isEmpty()) {
                        throw batchAxis(i);        // a new first axis would move the batch axis
                    }
                    outShape.add(1);
                    fromAxis.add(-1);
                    positions.add(null);
                }
                case INDEX -> {
                    if (axis == 0) {
                        throw batchAxis(i);
                    }
                    int n = x[axis];
                    if (n >= 0 && (i.index() >= n || i.index() < -n)) {
                        throw new IllegalArgumentException(describe() + ": index " + i.index() + " is out of range for "
                                + "axis " + axis + " of size " + n + " (input " + full(x) + ").");
                    }
                    fixedAxis.add(axis);
                    fixedAt.add(n < 0 ? i.index() : (i.index() < 0 ? i.index() + n : i.index()));
                    axis++;
                }
                case SLICE -> {
                    if (axis == 0 && !i.whole()) {
                        throw batchAxis(i);
                    }
                    int n = x[axis];
                    int[] p = n < 0 ? null : pythonSlice(i, n);
                    outShape.add(axis == 0 ? x[0] : p == null ? -1 : p.length);
                    fromAxis.add(axis);
                    positions.add(p);
                    axis++;
                }
            }
        }
        SlicePlan plan = new SlicePlan();
        plan.outShape = outShape.stream().mapToInt(Integer::intValue).toArray();
        plan.fromAxis = fromAxis.stream().mapToInt(Integer::intValue).toArray();
        plan.positions = positions.toArray(new int[0][]);
        plan.fixedAxis = fixedAxis.stream().mapToInt(Integer::intValue).toArray();
        plan.fixedAt = fixedAt.stream().mapToInt(Integer::intValue).toArray();
        return plan;
    }

    private IllegalArgumentException batchAxis(Index i) {
        return new IllegalArgumentException(describe() + ": the subscript '" + i + "' applies to the batch axis; rnnrt "
                + "takes the batch axis whole (':'), since it splits and joins batches itself.");
    }

    /** Python's slice(start, stop, step).indices(n), as the positions it selects. */
    private static int[] pythonSlice(Index s, int n) {
        int step = s.step() == null ? 1 : s.step();
        int start;
        int stop;
        if (step > 0) {
            start = s.start() == null ? 0 : clamp(s.start() < 0 ? s.start() + n : s.start(), 0, n);
            stop = s.stop() == null ? n : clamp(s.stop() < 0 ? s.stop() + n : s.stop(), 0, n);
        } else {
            start = s.start() == null ? n - 1 : clamp(s.start() < 0 ? s.start() + n : s.start(), -1, n - 1);
            stop = s.stop() == null ? -1 : clamp(s.stop() < 0 ? s.stop() + n : s.stop(), -1, n - 1);
        }
        return range(start, stop, step);
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    private static int[] range(int start, int stop, int step) {
        int count = step > 0 ? Math.max(0, (stop - start + step - 1) / step) : Math.max(0, (start - stop - step - 1) / -step);
        int[] out = new int[count];
        for (int k = 0; k < count; k++) {
            out[k] = start + k * step;
        }
        return out;
    }

    // ---- running ----------------------------------------------------------------------------------

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        List<int[]> shapes = new ArrayList<>();
        for (Tensor t : inputs) {
            shapes.add(t.shape());
        }
        int[] outShape = shape(shapes);
        Tensor x = inputs.get(0);
        Tensor out = switch (op) {
            case UNARY -> {
                float[] v = x.data();
                float[] o = new float[v.length];
                for (int k = 0; k < v.length; k++) {
                    o[k] = unary.apply(v[k]);
                }
                yield Tensor.wrap(o, outShape);
            }
            case BINARY -> constant != null ? withConstant(x, outShape) : broadcastApply(x, inputs.get(1), outShape);
            case REDUCE -> reduceApply(x);
            case SLICE -> sliceApply(x);
            case CONCATENATE -> concatenateApply(inputs, outShape);
            case EXPAND_DIMS, SQUEEZE -> Tensor.of(x.data(), outShape);
            case SOFTMAX -> softmaxApply(x);
            case TRANSPOSE -> transposeApply(x, outShape);
            case MATMUL -> matmulApply(x, inputs.get(1), outShape);
        };
        return List.of(out);
    }

    private Tensor withConstant(Tensor x, int[] outShape) {
        float[] v = x.data();
        float[] o = new float[v.length];
        float c = constant;
        for (int k = 0; k < v.length; k++) {
            o[k] = constantFirst ? binary.apply(c, v[k]) : binary.apply(v[k], c);
        }
        return Tensor.wrap(o, outShape);
    }

    private Tensor broadcastApply(Tensor a, Tensor b, int[] outShape) {
        int rank = outShape.length;
        int[] sa = stridesFor(a.shape(), rank);
        int[] sb = stridesFor(b.shape(), rank);
        int total = valueCount(toLong(outShape));
        float[] o = new float[total];
        float[] va = a.data();
        float[] vb = b.data();
        int[] idx = new int[rank];
        for (int k = 0; k < total; k++) {
            int ia = 0;
            int ib = 0;
            for (int d = 0; d < rank; d++) {
                ia += idx[d] * sa[d];
                ib += idx[d] * sb[d];
            }
            o[k] = binary.apply(va[ia], vb[ib]);
            for (int d = rank - 1; d >= 0 && ++idx[d] == outShape[d]; d--) {
                idx[d] = 0;
            }
        }
        return Tensor.wrap(o, outShape);
    }

    /** Row-major strides of a shape right-aligned to {@code rank} axes, 0 along broadcast axes. */
    private static int[] stridesFor(int[] shape, int rank) {
        int[] s = new int[rank];
        int stride = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d + rank - shape.length] = shape[d] == 1 ? 0 : stride;
            stride *= shape[d];
        }
        return s;
    }

    private static long[] toLong(int[] shape) {
        long[] l = new long[shape.length];
        for (int k = 0; k < shape.length; k++) {
            l[k] = shape[k];
        }
        return l;
    }

    private Tensor reduceApply(Tensor x) {
        int[] shape = x.shape();
        boolean[] reduced = reducedAxes(shape.length);
        int[] kept = shape.clone();
        for (int d = 0; d < shape.length; d++) {
            if (reduced[d]) {
                kept[d] = 1;
            }
        }
        int outCount = valueCount(toLong(kept));
        double[] acc = new double[outCount];
        int count = 1;
        for (int d = 0; d < shape.length; d++) {
            if (reduced[d]) {
                count *= shape[d];
            }
        }
        if (count == 0 && (reduce == Reduce.MAX || reduce == Reduce.MIN)) {
            throw new IllegalArgumentException(describe() + ": " + reduce.kerasName + " of an empty axis (input "
                    + Tensor.shapeString(shape) + ").");
        }
        Arrays.fill(acc, reduce == Reduce.MAX ? Double.NEGATIVE_INFINITY : reduce == Reduce.MIN
                ? Double.POSITIVE_INFINITY : 0.0);
        int[] so = stridesFor(kept, shape.length);
        float[] v = x.data();
        int[] idx = new int[shape.length];
        for (int k = 0; k < v.length; k++) {
            int o = 0;
            for (int d = 0; d < shape.length; d++) {
                o += idx[d] * so[d];
            }
            double e = v[k];
            acc[o] = switch (reduce) {
                case SUM, MEAN -> acc[o] + e;
                case MAX -> Double.isNaN(e) || Double.isNaN(acc[o]) ? Double.NaN : Math.max(acc[o], e);
                case MIN -> Double.isNaN(e) || Double.isNaN(acc[o]) ? Double.NaN : Math.min(acc[o], e);
            };
            for (int d = shape.length - 1; d >= 0 && ++idx[d] == shape[d]; d--) {
                idx[d] = 0;
            }
        }
        float[] out = new float[outCount];
        for (int k = 0; k < outCount; k++) {
            out[k] = (float) (reduce == Reduce.MEAN ? acc[k] / count : acc[k]);
        }
        List<Integer> outShape = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            if (!reduced[d] || keepdims) {
                outShape.add(kept[d]);
            }
        }
        return Tensor.wrap(out, outShape.stream().mapToInt(Integer::intValue).toArray());
    }

    private Tensor sliceApply(Tensor x) {
        int[] shape = x.shape();
        SlicePlan p = plan(shape);
        int[] strides = rowMajor(shape);
        int base = 0;
        for (int f = 0; f < p.fixedAxis.length; f++) {
            base += p.fixedAt[f] * strides[p.fixedAxis[f]];
        }
        int rank = p.outShape.length;
        int[] outShape = p.outShape.clone();
        outShape[0] = shape[0];
        int total = valueCount(toLong(outShape));
        float[] o = new float[total];
        float[] v = x.data();
        if (total > 0) {
            int[] idx = new int[rank];
            for (int k = 0; k < total; k++) {
                int off = base;
                for (int d = 0; d < rank; d++) {
                    int from = p.fromAxis[d];
                    if (from >= 0) {
                        off += (from == 0 ? idx[d] : p.positions[d][idx[d]]) * strides[from];
                    }
                }
                o[k] = v[off];
                for (int d = rank - 1; d >= 0 && ++idx[d] == outShape[d]; d--) {
                    idx[d] = 0;
                }
            }
        }
        return Tensor.wrap(o, outShape);
    }

    private static int[] rowMajor(int[] shape) {
        int[] s = new int[shape.length];
        int stride = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = stride;
            stride *= shape[d];
        }
        return s;
    }

    private Tensor concatenateApply(List<Tensor> inputs, int[] outShape) {
        int a = nonBatchAxis(axes[0], outShape.length, "concatenate along");
        int outer = 1;
        for (int d = 0; d < a; d++) {
            outer *= outShape[d];
        }
        float[] o = new float[valueCount(toLong(outShape))];
        int pos = 0;
        for (int r = 0; r < outer; r++) {
            for (Tensor t : inputs) {
                int chunk = t.size() / Math.max(1, outer);
                System.arraycopy(t.data(), r * chunk, o, pos, chunk);
                pos += chunk;
            }
        }
        return Tensor.wrap(o, outShape);
    }

    private Tensor transposeApply(Tensor x, int[] outShape) {
        return transpose(x, axes);
    }

    /** x with its axes reordered: output axis d is input axis {@code perm[d]} (numpy's transpose). */
    static Tensor transpose(Tensor x, int[] perm) {
        int rank = perm.length;
        int[] shape = x.shape();
        int[] inStrides = rowMajor(shape);
        int[] outShape = new int[rank];
        for (int d = 0; d < rank; d++) {
            outShape[d] = shape[perm[d]];
        }
        float[] v = x.data();
        float[] o = new float[v.length];
        int[] idx = new int[rank];
        for (int e = 0; e < o.length; e++) {
            int off = 0;
            for (int d = 0; d < rank; d++) {
                off += idx[d] * inStrides[perm[d]];
            }
            o[e] = v[off];
            for (int d = rank - 1; d >= 0 && ++idx[d] == outShape[d]; d--) {
                idx[d] = 0;
            }
        }
        return Tensor.wrap(o, outShape);
    }

    private Tensor matmulApply(Tensor a, Tensor b, int[] outShape) {
        if (a.dim(0) != b.dim(0)) {
            throw new IllegalArgumentException(describe() + ": its inputs have " + a.dim(0) + " and " + b.dim(0)
                    + " sequences; they must have the same batch size.");
        }
        int batch = outShape[0];
        int n = outShape[1];
        int m = outShape[2];
        int k = axes[0] == 1 ? a.dim(1) : a.dim(2);
        float[] va = a.data();
        float[] vb = b.data();
        float[] o = new float[valueCount(batch, n, m)];
        for (int r = 0; r < batch; r++) {
            int ao = r * a.dim(1) * a.dim(2);
            int bo = r * b.dim(1) * b.dim(2);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        float x = axes[0] == 1 ? va[ao + p * a.dim(2) + i] : va[ao + i * a.dim(2) + p];
                        float y = axes[1] == 1 ? vb[bo + j * b.dim(2) + p] : vb[bo + p * b.dim(2) + j];
                        s += (double) x * y;
                    }
                    o[(r * n + i) * m + j] = (float) s;
                }
            }
        }
        return Tensor.wrap(o, outShape);
    }

    private Tensor softmaxApply(Tensor x) {
        int[] shape = x.shape();
        int a = nonBatchAxis(axes[0], shape.length, "softmax along");
        int n = shape[a];
        int inner = 1;
        for (int d = a + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        int outer = x.size() / Math.max(1, n * inner);
        float[] v = x.data();
        float[] o = new float[v.length];
        for (int r = 0; r < outer; r++) {
            for (int i = 0; i < inner; i++) {
                int base = r * n * inner + i;
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < n; k++) {
                    max = Math.max(max, v[base + k * inner]);
                }
                double sum = 0;
                for (int k = 0; k < n; k++) {
                    sum += Math.exp(v[base + k * inner] - max);
                }
                for (int k = 0; k < n; k++) {
                    o[base + k * inner] = (float) (Math.exp(v[base + k * inner] - max) / sum);
                }
            }
        }
        return Tensor.wrap(o, shape);
    }
}
