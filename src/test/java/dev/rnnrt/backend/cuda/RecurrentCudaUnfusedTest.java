package dev.rnnrt.backend.cuda;

import org.junit.jupiter.api.Tag;

/**
 * The CUDA backend with every step as a cuBLAS GEMM and a gate kernel (no fused step kernels, which
 * the default uses at small batches), launched on the stream, against the fixtures.
 */
@Tag("gpu")
class RecurrentCudaUnfusedTest extends CudaBackendContract {

    @Override
    RecurrentCuda openBackend() {
        return RecurrentCuda.open(false, false, 0);
    }
}
