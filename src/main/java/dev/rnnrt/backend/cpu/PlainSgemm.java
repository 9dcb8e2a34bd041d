package dev.rnnrt.backend.cpu;

/**
 * The SGEMM used when the JDK's Vector API is not available (the JVM was started without
 * {@code --add-modules jdk.incubator.vector}): blocked plain loops. C2 does not vectorise these
 * well: 8.7 GFLOP/s on one core of the AMD EPYC (AVX-512) build machine for 128×512×2048,
 * against about 130 for {@link VectorSgemm} on packed panels (2026-11-22).
 */
final class PlainSgemm implements Sgemm {

    /** Columns of B and C per block: 4 rows of C (4 × 512 floats = 8 KiB) stay in L1. */
    static final int NB = 512;
    /** Rows of B per block: a 256 × 512 panel of B (512 KiB) stays in L2. */
    static final int KB = 256;

    static final PlainSgemm INSTANCE = new PlainSgemm();

    private PlainSgemm() {
    }

    @Override
    public String name() {
        return "plain-java";
    }

    /**
     * C[m, n] (+)= A[m, k] · B[k, n].
     *
     * @param a      A's values, row i at {@code aOff + i·lda}
     * @param b      B's values, row p at {@code bOff + p·ldb}
     * @param c      C's values, row i at {@code cOff + i·ldc}; modified
     * @param accumulate add to C instead of overwriting it
     */
    @Override
    public void multiply(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff,
                                int ldc, int m, int n, int k, boolean accumulate) {
        if (!accumulate) {
            for (int i = 0; i < m; i++) {
                java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
            }
        }
        for (int j0 = 0; j0 < n; j0 += NB) {
            int nb = Math.min(NB, n - j0);
            for (int p0 = 0; p0 < k; p0 += KB) {
                int kb = Math.min(KB, k - p0);
                int i = 0;
                for (; i + 4 <= m; i += 4) {
                    block4(a, aOff + i * lda + p0, lda, b, bOff + p0 * ldb + j0, ldb, c, cOff + i * ldc + j0, ldc, nb, kb);
                }
                for (; i < m; i++) {
                    block1(a, aOff + i * lda + p0, b, bOff + p0 * ldb + j0, ldb, c, cOff + i * ldc + j0, nb, kb);
                }
            }
        }
    }

    @Override
    public PackedB pack(float[] b, int bOff, int ldb, int k, int n) {
        return new PackedB(b, bOff, ldb, k, n, 0);
    }

    @Override
    public void multiply(float[] a, int aOff, int lda, PackedB b, float[] c, int cOff, int ldc, int m,
                         boolean accumulate) {
        multiply(a, aOff, lda, b.data(), b.offset(), b.ld(), c, cOff, ldc, m, b.n(), b.k(), accumulate);
    }

    /** Four rows of C over one panel: c[r][j] += Σ_p a[r][p]·b[p][j]. */
    private static void block4(float[] a, int ao, int lda, float[] b, int bo, int ldb, float[] c, int co, int ldc,
                               int nb, int kb) {
        int c0 = co;
        int c1 = co + ldc;
        int c2 = co + 2 * ldc;
        int c3 = co + 3 * ldc;
        for (int p = 0; p < kb; p++) {
            float a0 = a[ao + p];
            float a1 = a[ao + lda + p];
            float a2 = a[ao + 2 * lda + p];
            float a3 = a[ao + 3 * lda + p];
            int br = bo + p * ldb;
            for (int j = 0; j < nb; j++) {
                float bv = b[br + j];
                c[c0 + j] += a0 * bv;
                c[c1 + j] += a1 * bv;
                c[c2 + j] += a2 * bv;
                c[c3 + j] += a3 * bv;
            }
        }
    }

    private static void block1(float[] a, int ao, float[] b, int bo, int ldb, float[] c, int co, int nb, int kb) {
        for (int p = 0; p < kb; p++) {
            float av = a[ao + p];
            int br = bo + p * ldb;
            for (int j = 0; j < nb; j++) {
                c[co + j] += av * b[br + j];
            }
        }
    }
}
