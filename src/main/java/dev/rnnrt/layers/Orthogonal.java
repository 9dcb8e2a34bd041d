package dev.rnnrt.layers;

import java.util.Random;

/**
 * Keras' orthogonal initializer (keras/src/initializers/random_initializers.py, Orthogonal):
 * flatten to [rows, cols], draw a normal [max, min] matrix A, take A = QR with R's diagonal made
 * positive, transpose Q when rows &lt; cols, scale by the gain.
 *
 * <p>The QR factor is computed with modified Gram-Schmidt run twice ("twice is enough"), which
 * gives orthonormal columns to float64 precision and yields R's diagonal positive by
 * construction, i.e. Keras' {@code q * sign(diag(r))}.
 */
final class Orthogonal {

    private Orthogonal() {
    }

    static float[] sample(Random random, double gain, int[] shape) {
        if (shape.length < 2) {
            throw new IllegalArgumentException("The orthogonal initializer needs a weight of rank 2 or more; got shape "
                    + java.util.Arrays.toString(shape) + ".");
        }
        int cols = shape[shape.length - 1];
        int rows = Initializer.count(shape) / Math.max(1, cols);
        int m = Math.max(rows, cols);
        int n = Math.min(rows, cols);
        // a is [m, n], column j at a[j][*]
        double[][] a = new double[n][m];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                a[j][i] = random.nextGaussian();
            }
        }
        for (int pass = 0; pass < 2; pass++) {
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < j; k++) {
                    double dot = 0;
                    for (int i = 0; i < m; i++) {
                        dot += a[k][i] * a[j][i];
                    }
                    for (int i = 0; i < m; i++) {
                        a[j][i] -= dot * a[k][i];
                    }
                }
                double norm = 0;
                for (int i = 0; i < m; i++) {
                    norm += a[j][i] * a[j][i];
                }
                norm = Math.sqrt(norm);
                for (int i = 0; i < m; i++) {
                    a[j][i] /= norm;
                }
            }
        }
        float[] w = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                // Q is [m, n]; when rows < cols the weight is Q transposed, [n, m].
                double q = rows >= cols ? a[c][r] : a[r][c];
                w[r * cols + c] = (float) (gain * q);
            }
        }
        return w;
    }
}
