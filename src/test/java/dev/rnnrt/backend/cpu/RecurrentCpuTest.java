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

    /**
     * relu on the vector lanes as the reference defines it, x > 0 ? x : 0: a NaN input row gives the
     * reference's numbers (max(x, 0) kept NaN in every value of that row), and the other rows are untouched.
     */
    @org.junit.jupiter.api.Test
    void reluLanesTreatNaNAsTheReferenceDoes() {
        dev.rnnrt.testing.RandomTensors r = new dev.rnnrt.testing.RandomTensors(606L);
        dev.rnnrt.layers.SimpleRnn fast = dev.rnnrt.layers.SimpleRnn.builder(17).activation("relu")
                .returnSequences(true).backend(RecurrentCpu.INSTANCE).build();
        dev.rnnrt.layers.SimpleRnn ref = dev.rnnrt.layers.SimpleRnn.builder(17).activation("relu")
                .returnSequences(true).build();
        fast.build(4);
        java.util.List<dev.rnnrt.api.Tensor> w = new java.util.ArrayList<>();
        for (dev.rnnrt.api.Tensor t : fast.getWeights()) {
            w.add(r.uniform(0.5, t.shape()));
        }
        fast.setWeights(w);
        ref.setWeights(w);
        dev.rnnrt.api.Tensor x = r.uniform(1, 3, 3, 4);
        float[] d = x.data().clone();
        d[(1 * 3 + 1) * 4 + 2] = Float.NaN;          // row 1, step 1
        dev.rnnrt.api.Tensor withNaN = dev.rnnrt.api.Tensor.of(d, x.shape());
        dev.rnnrt.testing.Compare.assertClose("relu with a NaN input", ref.call(withNaN).output(),
                fast.call(withNaN).output(), Tolerance.FP32);
    }
}
