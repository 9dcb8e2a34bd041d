package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Keras {@code Dot(axes, normalize)}: per batch row, the dot product of two inputs along one axis of
 * each (Keras' batch_dot): [batch, m, n] · [batch, p, n] with axes (2, 2) gives [batch, m, p] (the
 * scores of hand-written attention), [batch, m, p] · [batch, p, d] with axes (2, 1) gives [batch, m,
 * d], and two [batch, n] give [batch, 1]. With {@code normalize} each input is first divided by its L2
 * norm along its axis (cosine similarity). Inputs of rank 2 or 3, batch axis included. Takes masks
 * and passes none on, as Keras does.
 */
public final class Dot extends Layer {

    private final int axis0;
    private final int axis1;
    private final boolean normalize;
    private final double maxInverseNorm;

    /** Axes count the batch axis as 0; -1 is the last. Normalizes as Keras 3 does. */
    public Dot(String name, int axis0, int axis1, boolean normalize) {
        this(name, axis0, axis1, normalize, 1e7);
    }

    /**
     * @param maxInverseNorm the largest factor normalize multiplies a vector by: 1e7 in Keras 3
     *                       (1 / epsilon), 1e6 in tf.keras (rsqrt of 1e-12); they differ only for
     *                       vectors whose norm is below 1e-6
     */
    public Dot(String name, int axis0, int axis1, boolean normalize, double maxInverseNorm) {
        super(name != null ? name : uniqueName("dot"));
        this.maxInverseNorm = maxInverseNorm;
        if (axis0 == 0 || axis1 == 0) {
            throw new IllegalArgumentException(describe() + ": cannot take the dot product along the batch axis (0).");
        }
        this.axis0 = axis0;
        this.axis1 = axis1;
        this.normalize = normalize;
    }

    @Override
    public String className() {
        return "Dot";
    }

    @Override
    public int minInputs() {
        return 2;
    }

    @Override
    public int maxInputs() {
        return 2;
    }

    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        return Collections.singletonList(null);
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        return List.of(false);
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        int[] y = inputShapes.get(1);
        int ax = axis(axis0, x.length, x, y);
        int ay = axis(axis1, y.length, x, y);
        if (x[ax] >= 0 && y[ay] >= 0 && x[ax] != y[ay]) {
            throw new IllegalArgumentException(describe() + ": the axes multiplied must have the same size; got "
                    + shapeText(x) + " along axis " + (ax + 1) + " and " + shapeText(y) + " along axis " + (ay + 1)
                    + ".");
        }
        return List.of(outShape(x, ax, y, ay));
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        Tensor y = inputs.get(1);
        int[] sx = Arrays.copyOfRange(x.shape(), 1, x.rank());
        int[] sy = Arrays.copyOfRange(y.shape(), 1, y.rank());
        int ax = axis(axis0, sx.length, sx, sy);
        int ay = axis(axis1, sy.length, sx, sy);
        if (x.dim(0) != y.dim(0) || sx[ax] != sy[ay]) {
            throw new IllegalArgumentException(describe() + " multiplies axis " + (ax + 1) + " of its first input by axis "
                    + (ay + 1) + " of its second; got " + Tensor.shapeString(x.shape()) + " and "
                    + Tensor.shapeString(y.shape()) + ".");
        }
        int batch = x.dim(0);
        int k = sx[ax];
        int fx = sx.length == 2 ? sx[1 - ax] : 1;      // the free extent of each input
        int fy = sy.length == 2 ? sy[1 - ay] : 1;
        float[] xd = normalize ? normalized(x.data(), batch, sx, ax) : x.data();
        float[] yd = normalize ? normalized(y.data(), batch, sy, ay) : y.data();
        float[] out = new float[valueCount(batch, fx, fy)];
        int xs = xd.length / Math.max(1, batch);
        int ys = yd.length / Math.max(1, batch);
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < fx; i++) {
                for (int j = 0; j < fy; j++) {
                    double acc = 0;
                    for (int c = 0; c < k; c++) {
                        acc += (double) xd[b * xs + at(sx, ax, i, c)] * yd[b * ys + at(sy, ay, j, c)];
                    }
                    out[(b * fx + i) * fy + j] = (float) acc;
                }
            }
        }
        int[] shape = outShape(sx, ax, sy, ay);
        int[] full = new int[shape.length + 1];
        full[0] = batch;
        System.arraycopy(shape, 0, full, 1, shape.length);
        return List.of(Tensor.wrap(out, full));
    }

    @Override
    public String describeOptions() {
        return "axes=(" + axis0 + ", " + axis1 + ")" + (normalize ? ", normalize=True" : "");
    }

    /** The axis among the input's own (batch axis left out), from Keras' numbering. */
    private int axis(int keras, int rankWithoutBatch, int[] x, int[] y) {
        if (rankWithoutBatch < 1 || rankWithoutBatch > 2) {
            throw new IllegalArgumentException(describe() + " takes inputs of rank 2 or 3 (batch axis included); got "
                    + shapeText(x) + " and " + shapeText(y) + ".");
        }
        int a = keras < 0 ? keras + rankWithoutBatch + 1 : keras;
        if (a < 1 || a > rankWithoutBatch) {
            throw new IllegalArgumentException(describe() + ": axis " + keras + " is out of range for inputs "
                    + shapeText(x) + " and " + shapeText(y) + ".");
        }
        return a - 1;
    }

    /** The index, within one batch row, of free index f and contracted index c. */
    private static int at(int[] s, int axis, int f, int c) {
        if (s.length == 1) {
            return c;
        }
        return axis == 1 ? f * s[1] + c : c * s[1] + f;
    }

    /** The shapes without the contracted axes, joined; [1] when nothing is left (Keras' batch_dot). */
    private static int[] outShape(int[] x, int ax, int[] y, int ay) {
        int[] out = new int[x.length + y.length - 2];
        int n = 0;
        for (int d = 0; d < x.length; d++) {
            if (d != ax) {
                out[n++] = x[d];
            }
        }
        for (int d = 0; d < y.length; d++) {
            if (d != ay) {
                out[n++] = y[d];
            }
        }
        return out.length == 0 ? new int[] {1} : out;
    }

    /** Keras' normalize along the axis: v · min(1 / sqrt(Σ v²), maxInverseNorm). */
    private float[] normalized(float[] v, int batch, int[] s, int axis) {
        float[] out = new float[v.length];
        int per = v.length / Math.max(1, batch);
        int k = s[axis];
        int free = s.length == 2 ? s[1 - axis] : 1;
        for (int b = 0; b < batch; b++) {
            for (int f = 0; f < free; f++) {
                double sum = 0;
                for (int c = 0; c < k; c++) {
                    double e = v[b * per + at(s, axis, f, c)];
                    sum += e * e;
                }
                double inv = Math.min(1 / Math.sqrt(sum), maxInverseNorm);
                for (int c = 0; c < k; c++) {
                    int i = b * per + at(s, axis, f, c);
                    out[i] = (float) (v[i] * inv);
                }
            }
        }
        return out;
    }
}
