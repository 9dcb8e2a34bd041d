package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Skips a GPU test, with the reason, where CUDA cannot be used. */
final class GpuAvailable {

    private GpuAvailable() {
    }

    static void assume() {
        CudaStatus s = CudaProbe.status();
        assumeTrue(s.usable(), () -> "no usable CUDA device here: " + s.describe());
    }
}
