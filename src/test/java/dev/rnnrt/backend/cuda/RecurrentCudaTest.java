package dev.rnnrt.backend.cuda;

import org.junit.jupiter.api.Tag;

/** The CUDA backend with each step launched on the stream (no graph) against the fixtures. */
@Tag("gpu")
class RecurrentCudaTest extends CudaBackendContract {

    @Override
    RecurrentCuda openBackend() {
        return RecurrentCuda.open(false, false);
    }
}
