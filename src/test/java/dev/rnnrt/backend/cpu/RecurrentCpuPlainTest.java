package dev.rnnrt.backend.cpu;

import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentBackendContract;
import dev.rnnrt.testing.Tolerance;

/** The fast CPU path with the plain-Java SGEMM (no Vector API) and three threads. */
class RecurrentCpuPlainTest extends RecurrentBackendContract {

    private static final RecurrentBackend BACKEND = RecurrentCpu.create(Sgemm.plain(), 3);

    @Override
    protected RecurrentBackend backend() {
        return BACKEND;
    }

    @Override
    protected double threshold() {
        return Tolerance.FP32;
    }
}
