package dev.rnnrt.api;

/**
 * A boolean mask over the first two axes of a recurrent input: {@code [batch, timesteps]}
 * (or {@code [timesteps, batch]} for a time-major layer). {@code true} means the step is
 * processed; {@code false} means it is skipped, as Keras' {@code mask} argument does.
 * Immutable.
 */
public final class Mask {

    private final boolean[] data;
    private final int rows;
    private final int cols;

    private Mask(boolean[] data, int rows, int cols) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    /** A mask from nested arrays {@code [rows][cols]}; copied, and every row must have the same length. */
    public static Mask of(boolean[][] values) {
        int r = values.length;
        for (int i = 0; i < r; i++) {
            if (values[i] == null) {
                throw new IllegalArgumentException("Mask row " + i + " is null; every row must be an array of the "
                        + "same length.");
            }
        }
        int c = r == 0 ? 0 : values[0].length;
        boolean[] d = new boolean[count(r, c)];
        for (int i = 0; i < r; i++) {
            if (values[i].length != c) {
                throw new IllegalArgumentException("Ragged mask: row 0 has " + c + " steps but row " + i + " has "
                        + values[i].length + ". Every row must have the same length.");
            }
            System.arraycopy(values[i], 0, d, i * c, c);
        }
        return new Mask(d, r, c);
    }

    /**
     * A mask from row-major values; copied.
     *
     * @throws IllegalArgumentException if a dimension is negative or {@code rows × cols} is not the
     *                                  number of values
     */
    public static Mask of(boolean[] values, int rows, int cols) {
        int n = count(rows, cols);
        if (n != values.length) {
            throw new IllegalArgumentException("A mask of shape [" + rows + ", " + cols + "] holds " + n
                    + " values but " + values.length + " were given.");
        }
        return new Mask(values.clone(), rows, cols);
    }

    /**
     * A mask with every step set.
     *
     * @throws IllegalArgumentException if a dimension is negative or the mask would not fit one array
     */
    public static Mask all(int rows, int cols) {
        boolean[] d = new boolean[count(rows, cols)];
        java.util.Arrays.fill(d, true);
        return new Mask(d, rows, cols);
    }

    /**
     * The mask of right-padded sequences: row {@code i} keeps its first {@code lengths[i]} steps.
     *
     * @param cols the number of timesteps, at least every length
     * @throws IllegalArgumentException if {@code cols} is negative, a length is outside [0, cols], or
     *                                  the mask would not fit one array
     */
    public static Mask fromLengths(int[] lengths, int cols) {
        boolean[] d = new boolean[count(lengths.length, cols)];
        for (int i = 0; i < lengths.length; i++) {
            if (lengths[i] < 0 || lengths[i] > cols) {
                throw new IllegalArgumentException("Sequence " + i + " has length " + lengths[i]
                        + "; lengths must be between 0 and the number of timesteps, " + cols + ".");
            }
            java.util.Arrays.fill(d, i * cols, i * cols + lengths[i], true);
        }
        return new Mask(d, lengths.length, cols);
    }

    /** The number of values of a [rows, cols] mask, checked as Tensor checks its shapes. */
    private static int count(int rows, int cols) {
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("Mask shape [" + rows + ", " + cols + "] has a negative dimension.");
        }
        long n = (long) rows * cols;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Mask shape [" + rows + ", " + cols + "] holds more values than one "
                    + "Java array can (2^31 - 9). Split the input into batches.");
        }
        return (int) n;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** The shape, {@code [rows, cols]}. */
    public int[] shape() {
        return new int[] {rows, cols};
    }

    public boolean get(int row, int col) {
        if (row < 0 || row >= rows || col < 0 || col >= cols) {
            throw new IndexOutOfBoundsException("Mask index [" + row + ", " + col + "] is outside shape ["
                    + rows + ", " + cols + "].");
        }
        return data[row * cols + col];
    }

    /** The mask with its two axes swapped, as between batch-major and time-major layouts. */
    public Mask transpose() {
        boolean[] d = new boolean[data.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                d[j * rows + i] = data[i * cols + j];
            }
        }
        return new Mask(d, cols, rows);
    }
}
