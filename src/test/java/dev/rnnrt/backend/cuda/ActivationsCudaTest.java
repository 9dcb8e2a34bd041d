package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.OutputActivation;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.RecurrentOutput;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.ActivationRoles;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.KerasActivationFormulas;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.StackModels;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The activation codes on the device: the activations Keras 3.7 to 3.10 added as the activation
 * and as the recurrent_activation of every cell, in the fused step kernels and in the GEMM + gate
 * kernels, and every activation in the Dense kernel of a stack; each against the float64
 * reference. (ActivationFormulasTest checks the same formulas compiled for the host.)
 */
@Tag("gpu")
class ActivationsCudaTest {

    @Test
    void addedActivationsInTheStepKernels() {
        GpuAvailable.assume();
        for (int fusedMaxBatch : new int[] {WorkspacePlan.FUSED_KERNEL_MAX_BATCH, 0}) {
            try (RecurrentCuda cuda = RecurrentCuda.open(false, false, fusedMaxBatch)) {
                RandomTensors r = new RandomTensors(7150L + fusedMaxBatch);
                for (Activation a : KerasActivationFormulas.added().keySet()) {
                    // one role at a time (ActivationRoles)
                    List<IntFunction<RecurrentLayerBuilder<?>>> cells = ActivationRoles.of(a);
                    for (IntFunction<RecurrentLayerBuilder<?>> cell : cells) {
                        compare(r, a, cell, cuda, 4, 9, 5, 37, true);
                        compare(r, a, cell, cuda, 3, 6, 3, 8, false);
                    }
                }
            }
        }
    }

    @Test
    void everyActivationInTheDenseKernelOfAStack() {
        GpuAvailable.assume();
        try (RecurrentCuda cuda = RecurrentCuda.open(false, true)) {
            RandomTensors r = new RandomTensors(7160L);
            for (Activation a : Activation.values()) {
                Model dev = denseStack(cuda, a);
                Model ref = denseStack(RecurrentReference.INSTANCE, a);
                assertEquals(List.of("lstm..head"), dev.stackedRuns(), a + ": one run, the Dense layers in it");
                Tensor x = StackModels.input(r, 5, 11, false);
                StackModels.sameRandomWeights(r, x, dev, ref);
                long before = cuda.stackCalls();
                Compare.assertClose(a + " in Dense on the device", ref.predict(x), dev.predict(x), Tolerance.FP32);
                assertEquals(before + 1, cuda.stackCalls(), a + ": one stack call");
            }
        }
    }

    private static Model denseStack(RecurrentBackend be, Activation a) {
        return Model.sequential("dense_" + a.name().toLowerCase()).input(-1, StackModels.FEATURES)
                .add(Lstm.builder(12).name("lstm").returnSequences(true).backend(be).build())
                .add(TimeDistributed.of("td", Dense.builder(9).activation(OutputActivation.of(a)).build()))
                .add(Gru.builder(10).name("gru").returnSequences(true).backend(be).build())
                .add(Dense.builder(7).name("head").activation(OutputActivation.of(a)).build())
                .build();
    }

    private static void compare(RandomTensors r, Activation a, IntFunction<RecurrentLayerBuilder<?>> cell,
                                RecurrentBackend gpu, int b, int t, int i, int h, boolean masked) {
        RecurrentLayer ref = cell.apply(h).returnSequences(true).returnState(true).goBackwards(t % 2 == 1).build();
        ref.build(i);
        // as in RecurrentCpuActivationsTest: the input drives the pre-activations across the
        // thresholds; the recurrent kernel is small, as several of the activations are unbounded gates
        double[] scales = {1.5 / Math.sqrt(i), 0.4 / Math.sqrt(h), 0.5};
        List<Tensor> shapes = ref.getWeights();
        List<Tensor> w = new ArrayList<>();
        for (int k = 0; k < shapes.size(); k++) {
            w.add(r.uniform(scales[k], shapes.get(k).shape()));
        }
        ref.setWeights(w);
        RecurrentLayer dev = cell.apply(h).returnSequences(true).returnState(true).goBackwards(t % 2 == 1)
                .backend(gpu).build();
        dev.setWeights(w);
        Tensor x = r.uniform(2, b, t, i);
        Mask mask = masked ? r.mask(b, t, 0.8) : null;
        List<Tensor> init = new ArrayList<>();
        for (int s = 0; s < ref.stateCount(); s++) {
            init.add(r.uniform(1, b, h));
        }
        RecurrentOutput expected = ref.call(x, init, mask);
        RecurrentOutput actual = dev.call(x, init, mask);
        for (int k = 0; k < expected.asList().size(); k++) {
            Compare.assertClose(a + ": " + ref.describe() + " " + gpu.name() + " B=" + b + " T=" + t + " I=" + i + " H=" + h
                    + " output " + k, expected.asList().get(k), actual.asList().get(k), Tolerance.FP32);
        }
    }
}
