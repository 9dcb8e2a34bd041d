package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend as it runs where cuBLAS cannot load: every GEMM (the input projection and each
 * step's recurrent product, no fused step kernels) on rnnrt's own SGEMM kernel, captured into
 * graphs, against the fixtures; and an input projection of more rows than one launch of that
 * kernel covers (grid y), which runs in bands, up to the tallest a Java array allows.
 */
@Tag("gpu")
class RecurrentCudaSgemmTest extends CudaBackendContract {

    @Override
    RecurrentCuda openBackend() {
        return RecurrentCuda.open(false, true, 0, false);
    }

    @Test
    void namesItsEngine() {
        assertEquals("cuda-sgemm_v1-fp32-graph", backend().name());
    }

    @Test
    void anInputProjectionTallerThanOneLaunch() {
        RandomTensors r = new RandomTensors(7301L);
        int batch = 5300;
        int steps = 200;                                   // 1,060,000 rows > 65,535 · 16
        Gru ref = Gru.builder(3).backend(RecurrentReference.INSTANCE).build();
        Gru dev = Gru.builder(3).backend(backend()).build();
        List<Tensor> w = List.of(r.uniform(0.5, 2, 9), r.uniform(0.5, 3, 9), r.uniform(0.5, 2, 9));
        ref.setWeights(w);
        dev.setWeights(w);
        Tensor x = r.uniform(1, batch, steps, 2);
        Tensor expected = ref.call(x).output();
        Tensor actual = dev.call(x).output();
        Compare.assertClose("GRU over 1,060,000 input rows", expected, actual, Tolerance.FP32);
    }

    /**
     * A product of nearly 2^31 rows (an input projection of B·T rows with one input feature): its
     * last band starts within one band of 2^31, where counting bands in int wrapped to a negative
     * row and the launch failed. Needs about 17.2 GB of free device memory.
     */
    @Test
    void aProductOfNearly2To31RowsRunsToItsLastRow() {
        int m = Integer.MAX_VALUE - 8;                     // the most values a Java array holds here
        long bytes = (long) m * Float.BYTES;
        try (CudaContext ctx = new CudaContext(false, false)) {
            long[] free = new long[1];
            long[] total = new long[1];
            JCudaDriver.cuMemGetInfo(free, total);
            assumeTrue(free[0] > 2 * bytes + (1L << 30), "needs " + (2 * bytes >> 20) + " MiB of free device memory");
            tallProduct(ctx, m);
        }
    }

    private static void tallProduct(CudaContext ctx, int m) {
        try (DeviceBuffer a = new DeviceBuffer("a", m);
             DeviceBuffer b = new DeviceBuffer("b", 1);
             DeviceBuffer c = new DeviceBuffer("c", m)) {
            JCudaDriver.cuMemsetD32(a.ptr(), Float.floatToRawIntBits(1.5f), m);
            JCudaDriver.cuMemsetD32(c.ptr(), Float.floatToRawIntBits(Float.NaN), m);
            b.upload(new float[] {2f}, 1);
            // c[m, 1] = a[m, 1] · b[1, 1]
            ctx.lane(0).gemm(a.ptr(), 1, b.ptr(), 1, c.ptr(), 1, m, 1, 1, false);
            ctx.synchronize();
            long lastBand = (long) (m - 1) / CudaContext.MAX_SGEMM_ROWS * CudaContext.MAX_SGEMM_ROWS;
            for (long row : new long[] {0, lastBand - 1, lastBand, m - 1L}) {
                float[] one = new float[1];
                JCudaDriver.cuMemcpyDtoH(Pointer.to(one), c.ptr().withByteOffset(row * Float.BYTES), Float.BYTES);
                assertEquals(3f, one[0], "row " + row);
            }
        }
    }
}
