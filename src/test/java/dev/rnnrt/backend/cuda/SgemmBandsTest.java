package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bands of rows the fallback SGEMM (rnnrt's kernel where cuBLAS cannot load) runs a tall
 * product as: each within one launch's grid, together every row once, in order, up to the
 * tallest product a Java array allows (an input projection of B·T rows with one input feature).
 */
class SgemmBandsTest {

    @Test
    void bandsCoverEveryRowOnceWithinOneLaunchEach() {
        int max = CudaContext.MAX_SGEMM_ROWS;
        for (int m : new int[] {1, 15, 16, max - 1, max, max + 1, 3 * max, 1_060_000,
            // the last band of these starts within max of 2^31, where row + max no longer fits an int
            2_147_450_881, 2_147_483_000, Integer.MAX_VALUE - 8, Integer.MAX_VALUE}) {
            List<int[]> bands = CudaContext.sgemmBands(m);
            long next = 0;
            for (int[] band : bands) {
                assertEquals(next, band[0], "m=" + m + ": bands follow each other");
                assertTrue(band[1] >= 1 && band[1] <= max, "m=" + m + ": band of " + band[1] + " rows at " + band[0]);
                next += band[1];
            }
            assertEquals(m, next, "m=" + m + ": every row");
            assertEquals((m + (long) max - 1) / max, bands.size(), "m=" + m + ": band count");
        }
    }
}
