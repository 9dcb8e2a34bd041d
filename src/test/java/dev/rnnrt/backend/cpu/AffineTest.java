package dev.rnnrt.backend.cpu;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.cpu.reference.DenseReference;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Dense's affine map on the fast CPU path (its SGEMM, the kernel packed once per tensor, rows split
 * across threads) against the float64 reference: odd shapes, with and without bias, every SGEMM
 * and thread count; new weights are used at once; a Dense layer given the backend computes with it.
 */
class AffineTest {

    @Test
    void matchesTheReferenceOnEveryShapeSgemmAndThreadCount() {
        RandomTensors r = new RandomTensors(9201L);
        for (Sgemm gemm : new Sgemm[] {Sgemm.best(), Sgemm.plain()}) {
            for (int threads : new int[] {1, 2, 3}) {
                RecurrentCpu cpu = RecurrentCpu.create(gemm, threads);
                for (int[] shape : new int[][] {{1, 1, 1}, {3, 5, 7}, {17, 9, 33}, {40, 64, 10}, {129, 31, 70}}) {
                    int rows = shape[0];
                    int in = shape[1];
                    int units = shape[2];
                    for (boolean withBias : new boolean[] {true, false}) {
                        Tensor x = r.uniform(1, rows, in);
                        Tensor kernel = r.uniform(1 / Math.sqrt(in), in, units);
                        Tensor bias = withBias ? r.uniform(0.5, units) : null;
                        float[] expected = DenseReference.affine(x.data(), rows, in, kernel.data(),
                                bias == null ? null : bias.data(), units);
                        float[] actual = cpu.affine(x.data(), rows, kernel, bias);
                        Compare.assertClose(cpu.name() + " rows=" + rows + " in=" + in + " units=" + units
                                + (withBias ? "" : " no bias"), Tensor.wrap(expected, rows, units),
                                Tensor.wrap(actual, rows, units), Tolerance.FP32);
                    }
                }
            }
        }
    }

    @Test
    void newWeightsAreUsedAndADenseLayerComputesWithItsBackend() {
        RandomTensors r = new RandomTensors(9202L);
        Dense fast = Dense.builder(12).activation("relu").backend(RecurrentCpu.INSTANCE).build();
        Dense reference = Dense.builder(12).activation("relu").build();
        Tensor x = r.uniform(1, 37, 5, 20);
        for (int round = 0; round < 3; round++) {
            List<Tensor> w = List.of(r.uniform(0.3, 20, 12), r.uniform(0.3, 12));
            fast.setWeights(w);
            reference.setWeights(w);
            Compare.assertClose("round " + round, reference.apply(x), fast.apply(x), Tolerance.FP32);
        }
    }
}
