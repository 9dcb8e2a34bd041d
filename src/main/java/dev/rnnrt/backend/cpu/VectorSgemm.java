package dev.rnnrt.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * SGEMM on the JDK's Vector API (jdk.incubator.vector): B is packed into panels of two vectors'
 * width, stored row after row, and a 12-row × 2-vector register tile of C (24 accumulators; 8 rows
 * and 16 without AVX-512's 32 registers or for k above {@value #WIDE_TILE_MAX_K}) accumulates
 * the whole of k with FMAs, each load of B feeding 12 of them. On the AMD EPYC (Zen 5, AVX-512)
 * build machine the 8-row tile ran [128, 512] × [512, 2048] at about 240 GFLOP/s on one core,
 * against about 175 with a 4-row tile, 60 reading B in place and 8.7 for the plain loops
 * (2026-11-22; a single-thread timing loop, best of 30 runs of 0.2 s). On an AMD EPYC (Zen 4)
 * machine, whose cores run AVX-512 at half that width, the 12-row tile took it from 2.95–2.99 ms
 * to 2.65–2.69 ms per product on each core with both busy (90 to 100 GFLOP/s per core, of 107
 * that the cores' FMAs did in that run; 2026-12-01, JMH {@code SgemmPeakBenchmark}, 2 forks,
 * each version twice, alternately).
 * Only loaded when the JVM has the module ({@code --add-modules jdk.incubator.vector}).
 */
public final class VectorSgemm implements Sgemm {

    public static final VectorSgemm INSTANCE = new VectorSgemm();

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * 512-bit vectors mean AVX-512 and its 32 vector registers: room for the 12-row tile. With fewer
     * (AVX2 has 16) its accumulators would spill: there the tiles start at 8 rows.
     */
    private static final boolean WIDE_TILE = S.vectorBitSize() >= 512;
    /**
     * Past this k the 12-row tile loses to the 8-row one: on the Zen 4 machine [128, 1024] ×
     * [1024, 4096] took 13.2–15.0 ms per product on each core with it and 11.5–11.8 with 8 rows,
     * while at k = 128 and 512 the 12 rows were 5% and 10% faster (SgemmPeakBenchmark, alternate runs).
     */
    static final int WIDE_TILE_MAX_K = 512;

    private VectorSgemm() {
    }

    @Override
    public String name() {
        return "vector-api-" + (L * 32) + "bit";
    }

    /** Packs B, then runs the packed kernel: callers that multiply by the same B many times pack it once. */
    @Override
    public void multiply(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                         int m, int n, int k, boolean accumulate) {
        multiply(a, aOff, lda, pack(b, bOff, ldb, k, n), c, cOff, ldc, m, accumulate);
    }

    /** Panels of 2L columns, each [k, 2L] contiguous; the last one padded with zeros. */
    @Override
    public PackedB pack(float[] b, int bOff, int ldb, int k, int n) {
        int w = 2 * L;
        int panels = (n + w - 1) / w;
        float[] p = new float[panels * k * w];
        for (int blk = 0; blk < panels; blk++) {
            int j = blk * w;
            int cols = Math.min(w, n - j);
            for (int q = 0; q < k; q++) {
                System.arraycopy(b, bOff + q * ldb + j, p, (blk * k + q) * w, cols);
            }
        }
        return new PackedB(p, 0, 0, k, n, w);
    }

    /**
     * C[m, n] (+)= A · B over packed panels: a 12 × 2L register tile with AVX-512, then 8 × 2L, then
     * 4 × 2L, then single rows for the rest of m, accumulates the whole of k with contiguous loads of
     * B. The 12-row, 4-row and single-row tiles are methods of their own: with all three in one method C2 ran out of
     * inlining budget on some call profiles (GRU, batch 1), left the FMAs of the 8-row tile as
     * calls to the Vector API's Java fallback and allocated ~30 MB per call.
     */
    @Override
    public void multiply(float[] a, int aOff, int lda, PackedB b, float[] c, int cOff, int ldc, int m,
                         boolean accumulate) {
        if (b.panelWidth() != 2 * L) {
            throw new IllegalArgumentException("B was packed for another SGEMM (panel width " + b.panelWidth() + ").");
        }
        int k = b.k();
        int n = b.n();
        float[] bp = b.data();
        for (int j = 0, blk = 0; j < n; j += 2 * L, blk++) {
            int base = blk * k * 2 * L;
            boolean full = j + 2 * L <= n;
            if (!full) {
                partialPanel(a, aOff, lda, bp, base, k, c, cOff, ldc, j, n, m, accumulate);
                continue;
            }
            // the 12-row tile only for panels written over, to keep it small enough for C2 (below),
            // and only for k up to WIDE_TILE_MAX_K
            int i = WIDE_TILE && !accumulate && k <= WIDE_TILE_MAX_K
                    ? rows12(a, aOff, lda, bp, base, k, c, cOff, ldc, j, m) : 0;
            for (; i + 8 <= m; i += 8) {
                FloatVector c00 = FloatVector.zero(S);
                FloatVector c01 = FloatVector.zero(S);
                FloatVector c10 = FloatVector.zero(S);
                FloatVector c11 = FloatVector.zero(S);
                FloatVector c20 = FloatVector.zero(S);
                FloatVector c21 = FloatVector.zero(S);
                FloatVector c30 = FloatVector.zero(S);
                FloatVector c31 = FloatVector.zero(S);
                FloatVector c40 = FloatVector.zero(S);
                FloatVector c41 = FloatVector.zero(S);
                FloatVector c50 = FloatVector.zero(S);
                FloatVector c51 = FloatVector.zero(S);
                FloatVector c60 = FloatVector.zero(S);
                FloatVector c61 = FloatVector.zero(S);
                FloatVector c70 = FloatVector.zero(S);
                FloatVector c71 = FloatVector.zero(S);
                int ao = aOff + i * lda;
                for (int p = 0; p < k; p++) {
                    int br = base + p * 2 * L;
                    FloatVector b0 = FloatVector.fromArray(S, bp, br);
                    FloatVector b1 = FloatVector.fromArray(S, bp, br + L);
                    FloatVector a0 = FloatVector.broadcast(S, a[ao + 0 * lda + p]);
                    c00 = a0.fma(b0, c00);
                    c01 = a0.fma(b1, c01);
                    FloatVector a1 = FloatVector.broadcast(S, a[ao + 1 * lda + p]);
                    c10 = a1.fma(b0, c10);
                    c11 = a1.fma(b1, c11);
                    FloatVector a2 = FloatVector.broadcast(S, a[ao + 2 * lda + p]);
                    c20 = a2.fma(b0, c20);
                    c21 = a2.fma(b1, c21);
                    FloatVector a3 = FloatVector.broadcast(S, a[ao + 3 * lda + p]);
                    c30 = a3.fma(b0, c30);
                    c31 = a3.fma(b1, c31);
                    FloatVector a4 = FloatVector.broadcast(S, a[ao + 4 * lda + p]);
                    c40 = a4.fma(b0, c40);
                    c41 = a4.fma(b1, c41);
                    FloatVector a5 = FloatVector.broadcast(S, a[ao + 5 * lda + p]);
                    c50 = a5.fma(b0, c50);
                    c51 = a5.fma(b1, c51);
                    FloatVector a6 = FloatVector.broadcast(S, a[ao + 6 * lda + p]);
                    c60 = a6.fma(b0, c60);
                    c61 = a6.fma(b1, c61);
                    FloatVector a7 = FloatVector.broadcast(S, a[ao + 7 * lda + p]);
                    c70 = a7.fma(b0, c70);
                    c71 = a7.fma(b1, c71);
                }
                int co = cOff + i * ldc + j;
                if (!accumulate) {
                    // stores written out here, not in a helper: vectors passed to a method that C2 does
                    // not inline get boxed, which showed as ~100 MB/op of garbage in JMH's GC profiler
                    c00.intoArray(c, co + 0 * ldc);
                    c01.intoArray(c, co + 0 * ldc + L);
                    c10.intoArray(c, co + 1 * ldc);
                    c11.intoArray(c, co + 1 * ldc + L);
                    c20.intoArray(c, co + 2 * ldc);
                    c21.intoArray(c, co + 2 * ldc + L);
                    c30.intoArray(c, co + 3 * ldc);
                    c31.intoArray(c, co + 3 * ldc + L);
                    c40.intoArray(c, co + 4 * ldc);
                    c41.intoArray(c, co + 4 * ldc + L);
                    c50.intoArray(c, co + 5 * ldc);
                    c51.intoArray(c, co + 5 * ldc + L);
                    c60.intoArray(c, co + 6 * ldc);
                    c61.intoArray(c, co + 6 * ldc + L);
                    c70.intoArray(c, co + 7 * ldc);
                    c71.intoArray(c, co + 7 * ldc + L);
                } else {
                    store(c, co + 0 * ldc, c00, c01, accumulate);
                    store(c, co + 1 * ldc, c10, c11, accumulate);
                    store(c, co + 2 * ldc, c20, c21, accumulate);
                    store(c, co + 3 * ldc, c30, c31, accumulate);
                    store(c, co + 4 * ldc, c40, c41, accumulate);
                    store(c, co + 5 * ldc, c50, c51, accumulate);
                    store(c, co + 6 * ldc, c60, c61, accumulate);
                    store(c, co + 7 * ldc, c70, c71, accumulate);
                }
            }
            i = rows4(a, aOff, lda, bp, base, k, c, cOff, ldc, j, i, m, accumulate);
            rows1(a, aOff, lda, bp, base, k, c, cOff, ldc, j, i, m, accumulate);
        }
    }

    /** The largest partial-panel buffer a thread keeps between calls (floats: 4 MiB). */
    private static final int MAX_KEPT_PARTIAL = 1 << 20;

    /** Per thread: the columns of the last, partial panel of C, two vectors wide (grown when needed). */
    private static final ThreadLocal<float[]> PARTIAL = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * The last panel of C when n is not a multiple of 2L: computed whole (B's panel is zero-padded)
     * into a per-thread buffer with plain stores, then its n − j valid columns copied to C. With
     * masked stores instead, C2 ran these tiles through the Vector API's Java fallback: about 1 MB
     * of garbage per recurrent step at H = 100 (gate width 400) and 95 MB per call of a Dense with
     * 1000 units on 4096 rows.
     */
    private static void partialPanel(float[] a, int aOff, int lda, float[] bp, int base, int k, float[] c, int cOff,
                                     int ldc, int j, int n, int m, boolean accumulate) {
        int w = 2 * L;
        int cols = n - j;
        float[] t = PARTIAL.get();
        if (t.length < m * w) {
            t = new float[m * w];
            if (t.length <= MAX_KEPT_PARTIAL) {
                PARTIAL.set(t);     // kept for the next call; a larger one (a Dense over many rows) is not
            }
        }
        if (accumulate) {
            for (int r = 0; r < m; r++) {
                System.arraycopy(c, cOff + r * ldc + j, t, r * w, cols);
            }
        }
        int i = rows4(a, aOff, lda, bp, base, k, t, 0, w, 0, 0, m, accumulate);
        rows1(a, aOff, lda, bp, base, k, t, 0, w, 0, i, m, accumulate);
        for (int r = 0; r < m; r++) {
            System.arraycopy(t, r * w, c, cOff + r * ldc + j, cols);
        }
    }

    /**
     * Rows 0, 12, … of a whole panel of C at column j, written over, 12 at a time (24 accumulators,
     * with the two B vectors and a broadcast 27 of the 32 vector registers of AVX-512); returns the
     * first row left over. Only plain stores: with the masked and accumulating ones too, the method
     * grew past what C2 inlines in one compilation, and on some call profiles (GRU, batch 1) the
     * later FMAs stayed calls to the Vector API's Java fallback, allocating ~48 MB per call.
     */
    private static int rows12(float[] a, int aOff, int lda, float[] bp, int base, int k, float[] c, int cOff, int ldc,
                              int j, int m) {
        int i = 0;
        for (; i + 12 <= m; i += 12) {
            FloatVector c00 = FloatVector.zero(S);
            FloatVector c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S);
            FloatVector c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S);
            FloatVector c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S);
            FloatVector c31 = FloatVector.zero(S);
            FloatVector c40 = FloatVector.zero(S);
            FloatVector c41 = FloatVector.zero(S);
            FloatVector c50 = FloatVector.zero(S);
            FloatVector c51 = FloatVector.zero(S);
            FloatVector c60 = FloatVector.zero(S);
            FloatVector c61 = FloatVector.zero(S);
            FloatVector c70 = FloatVector.zero(S);
            FloatVector c71 = FloatVector.zero(S);
            FloatVector c80 = FloatVector.zero(S);
            FloatVector c81 = FloatVector.zero(S);
            FloatVector c90 = FloatVector.zero(S);
            FloatVector c91 = FloatVector.zero(S);
            FloatVector ca0 = FloatVector.zero(S);
            FloatVector ca1 = FloatVector.zero(S);
            FloatVector cb0 = FloatVector.zero(S);
            FloatVector cb1 = FloatVector.zero(S);
            int ao = aOff + i * lda;
            for (int p = 0; p < k; p++) {
                int br = base + p * 2 * L;
                FloatVector b0 = FloatVector.fromArray(S, bp, br);
                FloatVector b1 = FloatVector.fromArray(S, bp, br + L);
                FloatVector a0 = FloatVector.broadcast(S, a[ao + 0 * lda + p]);
                c00 = a0.fma(b0, c00);
                c01 = a0.fma(b1, c01);
                FloatVector a1 = FloatVector.broadcast(S, a[ao + 1 * lda + p]);
                c10 = a1.fma(b0, c10);
                c11 = a1.fma(b1, c11);
                FloatVector a2 = FloatVector.broadcast(S, a[ao + 2 * lda + p]);
                c20 = a2.fma(b0, c20);
                c21 = a2.fma(b1, c21);
                FloatVector a3 = FloatVector.broadcast(S, a[ao + 3 * lda + p]);
                c30 = a3.fma(b0, c30);
                c31 = a3.fma(b1, c31);
                FloatVector a4 = FloatVector.broadcast(S, a[ao + 4 * lda + p]);
                c40 = a4.fma(b0, c40);
                c41 = a4.fma(b1, c41);
                FloatVector a5 = FloatVector.broadcast(S, a[ao + 5 * lda + p]);
                c50 = a5.fma(b0, c50);
                c51 = a5.fma(b1, c51);
                FloatVector a6 = FloatVector.broadcast(S, a[ao + 6 * lda + p]);
                c60 = a6.fma(b0, c60);
                c61 = a6.fma(b1, c61);
                FloatVector a7 = FloatVector.broadcast(S, a[ao + 7 * lda + p]);
                c70 = a7.fma(b0, c70);
                c71 = a7.fma(b1, c71);
                FloatVector a8 = FloatVector.broadcast(S, a[ao + 8 * lda + p]);
                c80 = a8.fma(b0, c80);
                c81 = a8.fma(b1, c81);
                FloatVector a9 = FloatVector.broadcast(S, a[ao + 9 * lda + p]);
                c90 = a9.fma(b0, c90);
                c91 = a9.fma(b1, c91);
                FloatVector a10 = FloatVector.broadcast(S, a[ao + 10 * lda + p]);
                ca0 = a10.fma(b0, ca0);
                ca1 = a10.fma(b1, ca1);
                FloatVector a11 = FloatVector.broadcast(S, a[ao + 11 * lda + p]);
                cb0 = a11.fma(b0, cb0);
                cb1 = a11.fma(b1, cb1);
            }
            int co = cOff + i * ldc + j;
            c00.intoArray(c, co + 0 * ldc);
            c01.intoArray(c, co + 0 * ldc + L);
            c10.intoArray(c, co + 1 * ldc);
            c11.intoArray(c, co + 1 * ldc + L);
            c20.intoArray(c, co + 2 * ldc);
            c21.intoArray(c, co + 2 * ldc + L);
            c30.intoArray(c, co + 3 * ldc);
            c31.intoArray(c, co + 3 * ldc + L);
            c40.intoArray(c, co + 4 * ldc);
            c41.intoArray(c, co + 4 * ldc + L);
            c50.intoArray(c, co + 5 * ldc);
            c51.intoArray(c, co + 5 * ldc + L);
            c60.intoArray(c, co + 6 * ldc);
            c61.intoArray(c, co + 6 * ldc + L);
            c70.intoArray(c, co + 7 * ldc);
            c71.intoArray(c, co + 7 * ldc + L);
            c80.intoArray(c, co + 8 * ldc);
            c81.intoArray(c, co + 8 * ldc + L);
            c90.intoArray(c, co + 9 * ldc);
            c91.intoArray(c, co + 9 * ldc + L);
            ca0.intoArray(c, co + 10 * ldc);
            ca1.intoArray(c, co + 10 * ldc + L);
            cb0.intoArray(c, co + 11 * ldc);
            cb1.intoArray(c, co + 11 * ldc + L);
        }
        return i;
    }

    /** Rows i0, i0 + 4, … of C's whole panel at column j, 4 at a time; returns the first row left over. */
    private static int rows4(float[] a, int aOff, int lda, float[] bp, int base, int k, float[] c, int cOff, int ldc,
                              int j, int i0, int m, boolean accumulate) {
        int i = i0;
        for (; i + 4 <= m; i += 4) {
            FloatVector c00 = FloatVector.zero(S);
            FloatVector c01 = FloatVector.zero(S);
            FloatVector c10 = FloatVector.zero(S);
            FloatVector c11 = FloatVector.zero(S);
            FloatVector c20 = FloatVector.zero(S);
            FloatVector c21 = FloatVector.zero(S);
            FloatVector c30 = FloatVector.zero(S);
            FloatVector c31 = FloatVector.zero(S);
            int ao = aOff + i * lda;
            for (int p = 0; p < k; p++) {
                int br = base + p * 2 * L;
                FloatVector b0 = FloatVector.fromArray(S, bp, br);
                FloatVector b1 = FloatVector.fromArray(S, bp, br + L);
                FloatVector a0 = FloatVector.broadcast(S, a[ao + 0 * lda + p]);
                c00 = a0.fma(b0, c00);
                c01 = a0.fma(b1, c01);
                FloatVector a1 = FloatVector.broadcast(S, a[ao + 1 * lda + p]);
                c10 = a1.fma(b0, c10);
                c11 = a1.fma(b1, c11);
                FloatVector a2 = FloatVector.broadcast(S, a[ao + 2 * lda + p]);
                c20 = a2.fma(b0, c20);
                c21 = a2.fma(b1, c21);
                FloatVector a3 = FloatVector.broadcast(S, a[ao + 3 * lda + p]);
                c30 = a3.fma(b0, c30);
                c31 = a3.fma(b1, c31);
            }
            int co = cOff + i * ldc + j;
            if (!accumulate) {
                // stores written out here, not in a helper: vectors passed to a method that C2 does
                // not inline get boxed, which showed as ~100 MB/op of garbage in JMH's GC profiler
                c00.intoArray(c, co + 0 * ldc);
                c01.intoArray(c, co + 0 * ldc + L);
                c10.intoArray(c, co + 1 * ldc);
                c11.intoArray(c, co + 1 * ldc + L);
                c20.intoArray(c, co + 2 * ldc);
                c21.intoArray(c, co + 2 * ldc + L);
                c30.intoArray(c, co + 3 * ldc);
                c31.intoArray(c, co + 3 * ldc + L);
            } else {
                store(c, co + 0 * ldc, c00, c01, accumulate);
                store(c, co + 1 * ldc, c10, c11, accumulate);
                store(c, co + 2 * ldc, c20, c21, accumulate);
                store(c, co + 3 * ldc, c30, c31, accumulate);
            }
        }
        return i;
    }

    /**
     * Rows i0 … m − 1 of C's panel at column j, one at a time. A single row is a matrix-vector
     * product (every step of a batch-1 call): four consecutive k feed four separate pairs of
     * accumulators, so that eight FMA chains are in flight, then the pairs are added. Against two
     * pairs, on the 2-core Zen 4 build machine with both cores at once (SgemmPeakBenchmark.multiply,
     * m = 1, three alternate runs each), this took [1, 512] × [512, 1024] from 35.7 to 29.2 µs and
     * [1, 1024] × [1024, 1024] from 72.5 to 52.4 µs (1.14–1.44x over k ∈ {128, 512, 1024},
     * n ∈ {512, 1024, 2048}); unrolling by eight was no faster. The panel is whole.
     */
    private static void rows1(float[] a, int aOff, int lda, float[] bp, int base, int k, float[] c, int cOff, int ldc,
                              int j, int i0, int m, boolean accumulate) {
        for (int i = i0; i < m; i++) {
            // four steps of k at a time into eight accumulators: with one row there is no reuse of a
            // B vector, so only more independent FMA chains keep the loads in flight
            FloatVector c0 = FloatVector.zero(S);
            FloatVector c1 = FloatVector.zero(S);
            FloatVector d0 = FloatVector.zero(S);
            FloatVector d1 = FloatVector.zero(S);
            FloatVector e0 = FloatVector.zero(S);
            FloatVector e1 = FloatVector.zero(S);
            FloatVector f0 = FloatVector.zero(S);
            FloatVector f1 = FloatVector.zero(S);
            int ao = aOff + i * lda;
            int p = 0;
            for (; p + 4 <= k; p += 4) {
                int br = base + p * 2 * L;
                FloatVector av = FloatVector.broadcast(S, a[ao + p]);
                FloatVector aw = FloatVector.broadcast(S, a[ao + p + 1]);
                FloatVector ax = FloatVector.broadcast(S, a[ao + p + 2]);
                FloatVector ay = FloatVector.broadcast(S, a[ao + p + 3]);
                c0 = av.fma(FloatVector.fromArray(S, bp, br), c0);
                c1 = av.fma(FloatVector.fromArray(S, bp, br + L), c1);
                d0 = aw.fma(FloatVector.fromArray(S, bp, br + 2 * L), d0);
                d1 = aw.fma(FloatVector.fromArray(S, bp, br + 3 * L), d1);
                e0 = ax.fma(FloatVector.fromArray(S, bp, br + 4 * L), e0);
                e1 = ax.fma(FloatVector.fromArray(S, bp, br + 5 * L), e1);
                f0 = ay.fma(FloatVector.fromArray(S, bp, br + 6 * L), f0);
                f1 = ay.fma(FloatVector.fromArray(S, bp, br + 7 * L), f1);
            }
            for (; p < k; p++) {
                int br = base + p * 2 * L;
                FloatVector av = FloatVector.broadcast(S, a[ao + p]);
                c0 = av.fma(FloatVector.fromArray(S, bp, br), c0);
                c1 = av.fma(FloatVector.fromArray(S, bp, br + L), c1);
            }
            c0 = c0.add(d0).add(e0.add(f0));
            c1 = c1.add(d1).add(e1.add(f1));
            if (!accumulate) {
                c0.intoArray(c, cOff + i * ldc + j);
                c1.intoArray(c, cOff + i * ldc + j + L);
            } else {
                store(c, cOff + i * ldc + j, c0, c1, true);
            }
        }
    }

    /** Stores two vectors of a row of a whole panel of C, added to what is there with {@code accumulate}. */
    private static void store(float[] c, int co, FloatVector v0, FloatVector v1, boolean accumulate) {
        if (accumulate) {
            v0 = v0.add(FloatVector.fromArray(S, c, co));
            v1 = v1.add(FloatVector.fromArray(S, c, co + L));
        }
        v0.intoArray(c, co);
        v1.intoArray(c, co + L);
    }
}
