package dev.rnnrt.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.testing.RandomTensors;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * {@link RecurrentFuzzContract}'s random cases on the fast CPU path, drawn among several SGEMMs,
 * thread counts, chunk plans, and with and without the vector gates; and the checks of the
 * comparison itself.
 */
class RecurrentCpuFuzzTest extends RecurrentFuzzContract {

    private static final List<RecurrentBackend> FAST = List.of(
            RecurrentCpu.INSTANCE,
            RecurrentCpu.create(Sgemm.plain(), 2),
            RecurrentCpu.create(Sgemm.best(), 1),
            RecurrentCpu.create(Sgemm.best(), 3),
            RecurrentCpu.create(Sgemm.best(), 4, new ChunkPlan(1, 1)),
            RecurrentCpu.create(Sgemm.best(), null, 2),
            RecurrentCpu.create(Sgemm.best(), FusedGates.available(), 2));

    @Override
    protected List<RecurrentBackend> fastBackends() {
        return FAST;
    }

    /**
     * An ill-conditioned output (rounding moves the reference by 1e-4) is left uncompared only
     * where the fast path is as near as rounding explains: a NaN or a far-off value still fails.
     * compareAll says whether all was compared (a stateful case makes no further calls otherwise).
     */
    @Test
    void anIllConditionedOutputStillFailsAFastPathThatRoundingCannotExplain() {
        RandomTensors r = new RandomTensors(SEED);
        Tensor ref = r.uniform(1, 3, 4);
        Supplier<List<Tensor>> perturbed = () -> List.of(scaled(ref, 1 + 1e-4));
        assertFalse(compareAll("rounding's size", List.of(ref), List.of(scaled(ref, 1 + 2e-4)), perturbed));
        assertTrue(compareAll("within the tolerance", List.of(ref), List.of(scaled(ref, 1 + 1e-6)), perturbed));
        float[] nan = ref.toArray();
        nan[5] = Float.NaN;
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> compareAll("a NaN", List.of(ref), List.of(Tensor.wrap(nan, 3, 4)), perturbed));
        assertTrue(e.getMessage().contains("a NaN output 0"), e.getMessage());
        Tensor far = Tensor.wrap(ref.toArray(), 3, 4);
        float[] noise = r.uniform(0.5, 3, 4).data();
        for (int k = 0; k < noise.length; k++) {
            far.data()[k] += noise[k];
        }
        org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> compareAll("far off", List.of(ref), List.of(far), perturbed));
    }

    /** An output whose reference left float32's range is not compared; the others still are. */
    @Test
    void anExplodingOutputLeavesTheOthersCompared() {
        RandomTensors r = new RandomTensors(SEED + 1);
        Tensor huge = scaled(r.uniform(1, 2, 3), 1e6);
        Tensor ref = r.uniform(1, 2, 3);
        assertFalse(compareAll("exploding output 0", List.of(huge, ref), List.of(scaled(huge, 1.5), ref), null));
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> compareAll("exploding output 0", List.of(huge, ref), List.of(huge, scaled(ref, -1)), null));
        assertTrue(e.getMessage().contains("output 1"), e.getMessage());
    }
}
