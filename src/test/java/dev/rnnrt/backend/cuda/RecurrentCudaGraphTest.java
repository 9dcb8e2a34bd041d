package dev.rnnrt.backend.cuda;

import org.junit.jupiter.api.Tag;

/** The CUDA backend as it opens by default (the step loop replayed as a CUDA graph) against the fixtures. */
@Tag("gpu")
class RecurrentCudaGraphTest extends CudaBackendContract {

    @Override
    RecurrentCuda openBackend() {
        return RecurrentCuda.open(false);
    }
}
