package dev.rnnrt.backend.cpu.reference;

import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentBackendContract;
import dev.rnnrt.testing.Tolerance;

/** The CPU reference against the independent fixtures. */
class RecurrentReferenceTest extends RecurrentBackendContract {

    @Override
    protected RecurrentBackend backend() {
        return RecurrentReference.INSTANCE;
    }

    @Override
    protected double threshold() {
        return Tolerance.REFERENCE;
    }
}
