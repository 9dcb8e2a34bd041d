package dev.rnnrt.backend.cuda;

import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentBackendContract;
import dev.rnnrt.testing.Tolerance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;

/**
 * The fixture contract for one way of opening the CUDA backend (fp32): opened once per class,
 * closed after it; every case skips, with the reason, where no GPU is usable.
 */
@Tag("gpu")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class CudaBackendContract extends RecurrentBackendContract {

    private RecurrentCuda cuda;

    /** The backend variant under test. */
    abstract RecurrentCuda openBackend();

    @BeforeAll
    void open() {
        if (CudaProbe.status().usable()) {
            cuda = openBackend();
        }
    }

    /** Per case, so that every skipped case is reported with the reason. */
    @BeforeEach
    void needsAGpu() {
        GpuAvailable.assume();
    }

    @AfterAll
    void close() {
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
