package dev.rnnrt.backend.cuda;

import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentBackendContract;
import dev.rnnrt.testing.Tolerance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/** The CUDA backend (fp32, each step launched on the stream, no graphs) against the independent fixtures. Skips without a GPU. */
@Tag("gpu")
class RecurrentCudaTest extends RecurrentBackendContract {

    private static RecurrentCuda cuda;

    @BeforeAll
    static void open() {
        if (CudaProbe.status().usable()) {
            cuda = RecurrentCuda.open(false, false);
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
