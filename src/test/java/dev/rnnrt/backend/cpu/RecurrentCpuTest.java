package dev.rnnrt.backend.cpu;

import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentBackendContract;
import dev.rnnrt.testing.Tolerance;

/** The fast CPU path (best SGEMM, every core) against the independent fixtures. */
class RecurrentCpuTest extends RecurrentBackendContract {

    @Override
    protected RecurrentBackend backend() {
        return RecurrentCpu.INSTANCE;
    }

    @Override
    protected double threshold() {
        return Tolerance.FP32;
    }
}
