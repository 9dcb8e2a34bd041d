package dev.rnnrt.api;

import java.util.Arrays;
import java.util.Locale;

/**
 * A dense float32 tensor: a shape and its values in row-major (C) order.
 *
 * <p>Recurrent layers take batch-major input {@code [batch, timesteps, features]} unless a layer
 * is built with {@code timeMajor}. A tensor never changes its shape; its values are only changed
 * by code that owns the backing array ({@link #wrap} hands that ownership to the caller).
 * rnnrt never writes into a tensor a user passed in.
 */
public final class Tensor {

    private final int[] shape;
    private final float[] data;

    private Tensor(float[] data, int[] shape) {
        this.shape = shape;
        this.data = data;
    }

    /**
     * A tensor holding a copy of {@code values}.
     *
     * @param values row-major values; not modified, not retained
     * @param shape  the shape; its element count must equal {@code values.length}
     */
    public static Tensor of(float[] values, int... shape) {
        int[] s = checkShape(shape);
        checkCount(values.length, s);
        return new Tensor(values.clone(), s);
    }

    /** A tensor holding {@code values} rounded to float32. Not modified, not retained. */
    public static Tensor of(double[] values, int... shape) {
        int[] s = checkShape(shape);
        checkCount(values.length, s);
        float[] d = new float[values.length];
        for (int k = 0; k < d.length; k++) {
            d[k] = (float) values[k];
        }
        return new Tensor(d, s);
    }

    /**
     * A tensor backed by {@code values} without a copy: later writes to the array show through
     * the tensor. Use it to avoid a copy of large inputs; rnnrt itself never writes into it.
     */
    public static Tensor wrap(float[] values, int... shape) {
        int[] s = checkShape(shape);
        checkCount(values.length, s);
        return new Tensor(values, s);
    }

    /** A tensor of zeros. */
    public static Tensor zeros(int... shape) {
        int[] s = checkShape(shape);
        return new Tensor(new float[count(s)], s);
    }

    /** A [rows, cols] tensor from nested arrays; every row must have the same length. */
    public static Tensor of(float[][] rows) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        float[] d = new float[rows.length * cols];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r].length != cols) {
                throw new IllegalArgumentException("Ragged array: row 0 has " + cols
                        + " values but row " + r + " has " + rows[r].length + ". Every row must have the same length.");
            }
            System.arraycopy(rows[r], 0, d, r * cols, cols);
        }
        return new Tensor(d, new int[] {rows.length, cols});
    }

    /** A [batch, time, features] tensor from nested arrays; the array must not be ragged. */
    public static Tensor of(float[][][] values) {
        int b = values.length;
        int t = b == 0 ? 0 : values[0].length;
        int f = t == 0 ? 0 : values[0][0].length;
        float[] d = new float[b * t * f];
        int k = 0;
        for (int i = 0; i < b; i++) {
            if (values[i].length != t) {
                throw new IllegalArgumentException("Ragged array: [0] has " + t + " rows but [" + i + "] has "
                        + values[i].length + ". Every sequence must have the same length.");
            }
            for (int j = 0; j < t; j++) {
                if (values[i][j].length != f) {
                    throw new IllegalArgumentException("Ragged array: [0][0] has " + f + " values but [" + i + "]["
                            + j + "] has " + values[i][j].length + ". Every step must have the same length.");
                }
                System.arraycopy(values[i][j], 0, d, k, f);
                k += f;
            }
        }
        return new Tensor(d, new int[] {b, t, f});
    }

    /** The shape (a copy). */
    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** The size of one axis; negative axes count from the end, as in numpy. */
    public int dim(int axis) {
        int a = axis < 0 ? axis + shape.length : axis;
        if (a < 0 || a >= shape.length) {
            throw new IllegalArgumentException("Axis " + axis + " is out of range for a tensor of shape "
                    + shapeString(shape) + " (rank " + shape.length + ").");
        }
        return shape[a];
    }

    /** The number of values. */
    public int size() {
        return data.length;
    }

    /**
     * The backing row-major array, not a copy. Read it freely; write to it only if this tensor was
     * made by {@link #wrap} from an array you own, or rnnrt returned it (an output, a state, a copy
     * of weights): rnnrt keeps no reference to those, though an output may share its array with an
     * input it was given (a {@code Reshape}'s output, a {@code Dropout}'s).
     */
    public float[] data() {
        return data;
    }

    /** A copy of the values in row-major order. */
    public float[] toArray() {
        return data.clone();
    }

    /** The value at the given index, one coordinate per axis. */
    public float get(int... index) {
        return data[offset(index)];
    }

    /** The row-major position of an index; checks every coordinate. */
    public int offset(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("Index " + Arrays.toString(index) + " has " + index.length
                    + " coordinates; the tensor has shape " + shapeString(shape) + " and needs " + shape.length + ".");
        }
        int off = 0;
        for (int a = 0; a < shape.length; a++) {
            if (index[a] < 0 || index[a] >= shape[a]) {
                throw new IndexOutOfBoundsException("Index " + Arrays.toString(index) + " is outside shape "
                        + shapeString(shape) + " on axis " + a + ".");
            }
            off = off * shape[a] + index[a];
        }
        return off;
    }

    /** The same values with a new shape of the same element count; shares the backing array. */
    public Tensor reshape(int... newShape) {
        int[] s = checkShape(newShape);
        if (count(s) != data.length) {
            throw new IllegalArgumentException("Cannot reshape " + shapeString(shape) + " (" + data.length
                    + " values) to " + shapeString(s) + " (" + count(s) + " values).");
        }
        return new Tensor(data, s);
    }

    /**
     * Swaps the first two axes: [A, B, rest...] becomes [B, A, rest...], as between
     * batch-major [B, T, I] and time-major [T, B, I]. Returns a new tensor.
     */
    public Tensor swapFirstAxes() {
        if (shape.length < 2) {
            throw new IllegalArgumentException("Cannot swap the first two axes of a tensor of rank " + shape.length
                    + " (shape " + shapeString(shape) + "); it needs rank 2 or more.");
        }
        int a = shape[0];
        int b = shape[1];
        int inner = data.length / Math.max(1, a * b);
        if (a * b == 0) {
            inner = 0;
        }
        float[] out = new float[data.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(data, (i * b + j) * inner, out, (j * a + i) * inner, inner);
            }
        }
        int[] s = shape.clone();
        s[0] = b;
        s[1] = a;
        return new Tensor(out, s);
    }

    /** True when the shapes are equal. */
    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    /** A shape as Keras prints it in messages: {@code [8, 50, 31]}. */
    public static String shapeString(int... shape) {
        return Arrays.toString(shape);
    }

    /**
     * The values, nested in brackets along each axis as numpy lays them out: the values of the last
     * axis separated by one space, the rows of each axis above it by a line break (one blank line
     * more per further axis), inner brackets indented under outer ones. Each value is the digits of
     * {@link Float#toString(float)} rounded to at most 8 decimals, written out without an exponent
     * and without trailing zeros ({@code 1.}, {@code 0.5}, {@code 0.000015}), or {@code nan},
     * {@code inf}, {@code -inf}. Nothing else: no shape, no dtype.
     *
     * <p>It reads like numpy's print of a float32 array, but is not the same text: numpy pads the
     * values to one width ({@code [[1.  0.5]]} where this gives {@code [[1. 0.5]]}), switches to
     * scientific notation for very small or large values ({@code [1.e-09]} where this gives
     * {@code [0.]}), prints the sign of -0, and elides the middle of arrays of over 1000 values,
     * where this prints every value.
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        appendNested(sb, 0, 0);
        return sb.toString();
    }

    private int appendNested(StringBuilder sb, int axis, int pos) {
        if (shape.length == 0) {
            sb.append(format(data[0]));
            return pos + 1;
        }
        sb.append('[');
        for (int k = 0; k < shape[axis]; k++) {
            if (k > 0) {
                if (axis == shape.length - 1) {
                    sb.append(' ');
                } else {
                    sb.append("\n".repeat(shape.length - 1 - axis)).append(" ".repeat(axis + 1));
                }
            }
            if (axis == shape.length - 1) {
                sb.append(format(data[pos++]));
            } else {
                pos = appendNested(sb, axis + 1, pos);
            }
        }
        sb.append(']');
        return pos;
    }

    /** numpy's default for float32: the shortest digits that identify the value, at most 8 decimals. */
    private static String format(float v) {
        if (Float.isNaN(v) || Float.isInfinite(v)) {
            return Float.isNaN(v) ? "nan" : (v > 0 ? "inf" : "-inf");
        }
        java.math.BigDecimal d = new java.math.BigDecimal(Float.toString(v));
        if (d.scale() > 8) {
            d = d.setScale(8, java.math.RoundingMode.HALF_EVEN);
        }
        String s = d.stripTrailingZeros().toPlainString();
        return s.contains(".") ? s : s + "."; // numpy prints 1.0 as "1."
    }

    private static int[] checkShape(int[] shape) {
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("Shape " + shapeString(shape) + " has a negative dimension.");
            }
        }
        count(shape);
        return shape.clone();
    }

    private static void checkCount(int length, int[] shape) {
        int n = count(shape);
        if (n != length) {
            throw new IllegalArgumentException("Shape " + shapeString(shape) + " holds " + n + " values but "
                    + length + " were given.");
        }
    }

    private static int count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("Shape " + shapeString(shape)
                        + " holds more values than one Java array can (2^31 - 1). Split the input into batches.");
            }
        }
        return (int) n;
    }
}
