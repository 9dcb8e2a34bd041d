package dev.rnnrt.backend.cpu;

/**
 * How many timesteps the fast CPU path projects at once, per thread: the input projection of a
 * chunk of steps is one GEMM, [rows · steps, I] × [I, width], whose result the steps then read.
 * Two forces decide it. The GEMM wants many rows, or each pass over W (read from L3 when it is
 * large) feeds too few FMAs: at least {@code minRows} rows. The steps want the result still in L2
 * when they read it: at most {@code projFloats} floats. Where the two disagree (a large layer at
 * batch 16, where even {@code minRows} rows are bigger than L2), the GEMM wins.
 *
 * <p>Measured on the build machine (JMH, LSTM, against one chunk of up to 16 MiB per thread, the
 * plan before): H = 128, T = 256 at B = 16 and 128 from 3.7 to 3.3 ms and from 27.8 to 25.4 ms;
 * H = 512, B = 128, T = 32 from 42.4 to 39.1 ms; H = 1024, B = 16, T = 32 from 24.0 to 21.8 ms;
 * batch 1 unchanged. A 256 KiB cap without the row floor made that last shape slower (23.8 to
 * 29.5 ms): hence the floor.
 *
 * @param projFloats the projection floats a chunk should stay within
 * @param minRows    the fewest GEMM rows (rows · steps) a chunk should have
 */
record ChunkPlan(int projFloats, int minRows) {

    /** 256 KiB of projections (a quarter of a 1 MiB L2), and at least 128 GEMM rows. */
    static final ChunkPlan DEFAULT = new ChunkPlan(1 << 16, 128);

    ChunkPlan {
        if (projFloats < 1 || minRows < 1) {
            throw new IllegalArgumentException("A chunk plan needs positive limits, got projFloats=" + projFloats
                    + ", minRows=" + minRows + ".");
        }
    }

    /** Steps per chunk for {@code rows} batch rows, {@code width} projected columns and {@code time} steps. */
    int steps(int rows, int width, int time) {
        long byRows = (minRows + rows - 1) / rows;
        long bySize = projFloats / ((long) rows * width);
        return (int) Math.max(1, Math.min(time, Math.max(byRows, bySize)));
    }
}
