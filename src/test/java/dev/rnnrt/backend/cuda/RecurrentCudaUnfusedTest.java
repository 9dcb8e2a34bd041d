package dev.rnnrt.backend.cuda;

import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentBackendContract;
import dev.rnnrt.testing.Tolerance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/**
 * The CUDA backend with every step as a cuBLAS GEMM and a gate kernel (no fused step kernels, which
 * the default uses at small batches), against the fixtures. Skips without a GPU.
 */
@Tag("gpu")
class RecurrentCudaUnfusedTest extends RecurrentBackendContract {

    private static RecurrentCuda cuda;

    @BeforeAll
    static void open() {
        if (CudaProbe.status().usable()) {
            cuda = RecurrentCuda.open(false, false, 0);
        }
    }

    /** Per case, so that every skipped case is reported with the reason. */
    @BeforeEach
    void needsAGpu() {
        GpuAvailable.assume();
    }

    @AfterAll
    static void close() {
        if (cuda != null) {
            cuda.close();
        }
    }

    @Override
    protected RecurrentBackend backend() {
        return cuda;
    }

    @Override
    protected double threshold() {
        return Tolerance.FP32;
    }
}
