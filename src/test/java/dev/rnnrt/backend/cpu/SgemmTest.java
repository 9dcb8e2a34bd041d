package dev.rnnrt.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Both SGEMMs against a float64 triple loop, on odd shapes, offsets and leading dimensions. */
class SgemmTest {

    @Test
    void matchesANaiveProduct() {
        SplittableRandom r = new SplittableRandom(5);
        // m covers every row tile of the vector kernel (12 with AVX-512 up to its largest k, 8, 4, 1) and
        // their remainders
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {4, 33, 17}, {9, 70, 300}, {12, 40, 9}, {13, 129, 257}, {23, 65, 19},
            {29, 97, 33}, {45, 31, 64}, {64, 512, 31}, {25, 40, VectorSgemm.WIDE_TILE_MAX_K},
            {25, 40, VectorSgemm.WIDE_TILE_MAX_K + 1}};
        for (Sgemm gemm : new Sgemm[] {Sgemm.best(), Sgemm.plain()}) {
            for (int[] s : shapes) {
                for (boolean accumulate : new boolean[] {false, true}) {
                    int m = s[0];
                    int n = s[1];
                    int k = s[2];
                    int lda = k + 3;
                    int ldb = n + 5;
                    int ldc = n + 2;
                    float[] a = random(r, 2 + m * lda);
                    float[] b = random(r, 1 + k * ldb);
                    float[] c = random(r, 4 + m * ldc);
                    float[] c0 = c.clone();
                    float[] cPacked = c.clone();
                    gemm.multiply(a, 2, lda, b, 1, ldb, c, 4, ldc, m, n, k, accumulate);
                    gemm.multiply(a, 2, lda, gemm.pack(b, 1, ldb, k, n), cPacked, 4, ldc, m, accumulate);
                    for (int q = 0; q < c.length; q++) {
                        assertEquals(c[q], cPacked[q], 1e-5f * Math.max(1f, Math.abs(c[q])) * (float) Math.sqrt(k),
                                gemm.name() + " packed vs unpacked at " + q);
                    }
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double e = accumulate ? c0[4 + i * ldc + j] : 0;
                            for (int p = 0; p < k; p++) {
                                e += (double) a[2 + i * lda + p] * b[1 + p * ldb + j];
                            }
                            assertEquals(e, c[4 + i * ldc + j], 1e-5 * Math.max(1, Math.abs(e)) * Math.sqrt(k),
                                    gemm.name() + " " + m + "x" + n + "x" + k + " at " + i + "," + j);
                        }
                        // the padding between rows is untouched
                        for (int j = n; j < ldc && i < m - 1; j++) {
                            assertEquals(c0[4 + i * ldc + j], c[4 + i * ldc + j], gemm.name() + " padding");
                        }
                    }
                }
            }
        }
    }

    @Test
    void theVectorApiIsUsedWhenPresent() {
        boolean present = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        assertEquals(present, Sgemm.best() instanceof VectorSgemm, Sgemm.best().name());
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }
}
