package dev.rnnrt.backend.cpu;

/**
 * Single-precision matrix multiply, row-major: {@code C[m, n] (+)= A[m, k] · B[k, n]}, each
 * matrix given by an array, an offset and a leading dimension (the distance between rows), so
 * that column slices of a weight matrix (one gate's block) need no copy. Single-threaded:
 * callers split the work.
 */
public interface Sgemm {

    /** A short name for benchmark tables. */
    String name();

    /**
     * @param a          A, row i at {@code aOff + i·lda}; not modified
     * @param b          B, row p at {@code bOff + p·ldb}; not modified
     * @param c          C, row i at {@code cOff + i·ldc}; modified
     * @param accumulate add to C instead of overwriting it
     */
    void multiply(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                  int m, int n, int k, boolean accumulate);

    /** B [k, n] (row p at {@code bOff + p·ldb}) prepared for {@link #multiply(float[], int, int, PackedB, float[], int, int, int, boolean)}; B is not modified. */
    PackedB pack(float[] b, int bOff, int ldb, int k, int n);

    /** C[m, n] (+)= A[m, k] · B, with B as {@link #pack} prepared it. */
    void multiply(float[] a, int aOff, int lda, PackedB b, float[] c, int cOff, int ldc, int m, boolean accumulate);

    /** The fastest SGEMM this JVM can run: the Vector API one when jdk.incubator.vector is present. */
    static Sgemm best() {
        return Holder.BEST;
    }

    /** The plain-Java SGEMM. */
    static Sgemm plain() {
        return PlainSgemm.INSTANCE;
    }

    /** Decides once. */
    final class Holder {
        static final Sgemm BEST = choose();

        private Holder() {
        }

        private static Sgemm choose() {
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                return PlainSgemm.INSTANCE;
            }
            try {
                return (Sgemm) Class.forName("dev.rnnrt.backend.cpu.VectorSgemm").getField("INSTANCE").get(null);
            } catch (ReflectiveOperationException | LinkageError e) {
                return PlainSgemm.INSTANCE;
            }
        }
    }
}
