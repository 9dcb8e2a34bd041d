package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend as it runs where cuBLAS cannot load: every GEMM (the input projection and each
 * step's recurrent product, no fused step kernels) on rnnrt's own SGEMM kernel, captured into
 * graphs, against the fixtures; and an input projection of more rows than one launch of that
 * kernel covers (grid y), which runs in bands.
 */
@Tag("gpu")
class RecurrentCudaSgemmTest extends CudaBackendContract {

    @Override
    RecurrentCuda openBackend() {
        return RecurrentCuda.open(false, true, 0, false);
    }

    @Test
    void namesItsEngine() {
        assertEquals("cuda-sgemm_v1-fp32-graph", backend().name());
    }

    @Test
    void anInputProjectionTallerThanOneLaunch() {
        RandomTensors r = new RandomTensors(7301L);
        int batch = 5300;
        int steps = 200;                                   // 1,060,000 rows > 65,535 · 16
        Gru ref = Gru.builder(3).backend(RecurrentReference.INSTANCE).build();
        Gru dev = Gru.builder(3).backend(backend()).build();
        List<Tensor> w = List.of(r.uniform(0.5, 2, 9), r.uniform(0.5, 3, 9), r.uniform(0.5, 2, 9));
        ref.setWeights(w);
        dev.setWeights(w);
        Tensor x = r.uniform(1, batch, steps, 2);
        Tensor expected = ref.call(x).output();
        Tensor actual = dev.call(x).output();
        Compare.assertClose("GRU over 1,060,000 input rows", expected, actual, Tolerance.FP32);
    }
}
