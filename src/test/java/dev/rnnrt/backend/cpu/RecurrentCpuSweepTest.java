package dev.rnnrt.backend.cpu;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.RecurrentOutput;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fast CPU path against the reference over every small shape (B, T, I, H in 1..5) and a
 * realistic one, with random weights, masks, initial states and go_backwards: every cell, GRU with
 * either reset_after, the gate activations the vector gates take (sigmoid, both hard_sigmoids) and
 * SimpleRNN with tanh, relu, sigmoid and one they do not take (elu, the scalar loop).
 */
class RecurrentCpuSweepTest {

    private static final long SEED = 8675309L;

    private interface Factory {
        RecurrentLayerBuilder<?> make(int units);
    }

    private static final List<Factory> CELLS = List.of(u -> Lstm.builder(u), u -> Gru.builder(u),
            u -> Gru.builder(u).resetAfter(false), u -> SimpleRnn.builder(u),
            // the gate activations of Keras 2 (hard_sigmoid, clip(0.2x + 0.5)) and Keras 3 (relu6(x + 3) / 6)
            u -> Lstm.builder(u).recurrentActivation(Activation.HARD_SIGMOID_KERAS2),
            u -> Gru.builder(u).resetAfter(false).recurrentActivation(Activation.HARD_SIGMOID_KERAS2),
            u -> Gru.builder(u).recurrentActivation(Activation.HARD_SIGMOID_KERAS3),
            u -> Lstm.builder(u).recurrentActivation(Activation.HARD_SIGMOID_KERAS3),
            u -> SimpleRnn.builder(u).activation(Activation.RELU),
            u -> SimpleRnn.builder(u).activation(Activation.SIGMOID),
            u -> SimpleRnn.builder(u).activation(Activation.ELU));

    @Test
    void everySmallShape() {
        RandomTensors r = new RandomTensors(SEED);
        RecurrentBackend[] fast = {RecurrentCpu.INSTANCE, RecurrentCpu.create(Sgemm.plain(), 2)};
        int n = 0;
        for (int b = 1; b <= 5; b++) {
            for (int t = 1; t <= 5; t++) {
                for (int i = 1; i <= 5; i++) {
                    for (int h = 1; h <= 5; h++) {
                        Factory f = CELLS.get(n % CELLS.size());
                        compare(r, f, fast[n % 2], b, t, i, h, n % 3 == 0, n % 4 == 1, n % 5 == 2);
                        n++;
                    }
                }
            }
        }
    }

    @Test
    void realisticShapes() {
        RandomTensors r = new RandomTensors(SEED + 1);
        for (Factory f : CELLS) {
            compare(r, f, RecurrentCpu.INSTANCE, 16, 20, 64, 96, true, true, false);
            compare(r, f, RecurrentCpu.INSTANCE, 7, 33, 40, 130, false, false, true);
            // batch 1 on two threads: the units split across them (SplitUnits) where the cell allows
            compare(r, f, RecurrentCpu.create(Sgemm.best(), 2), 1, 25, 48, 130, true, false, true);
        }
    }

    private static void compare(RandomTensors r, Factory f, RecurrentBackend fast, int b, int t, int i, int h,
                                boolean masked, boolean backwards, boolean withState) {
        RecurrentLayer ref = f.make(h).returnSequences(true).returnState(true).goBackwards(backwards)
                .zeroOutputForMask(masked && t % 2 == 0).build();
        ref.build(i);
        // weights at the scale trained models have (about 1/sqrt(fan-in), as glorot_uniform gives):
        // much larger recurrent weights make the recurrence chaotic, and any two float32 orders of
        // summation then drift apart over the steps
        double scale = Math.min(0.7, 1.5 / Math.sqrt(Math.max(i, h)));
        List<Tensor> w = new ArrayList<>();
        for (Tensor wt : ref.getWeights()) {
            w.add(r.uniform(scale, wt.shape()));
        }
        ref.setWeights(w);
        RecurrentLayer fastLayer = f.make(h).returnSequences(true).returnState(true).goBackwards(backwards)
                .zeroOutputForMask(masked && t % 2 == 0).backend(fast).build();
        fastLayer.setWeights(w);
        Tensor x = r.uniform(1.5, b, t, i);
        Mask mask = masked ? r.mask(b, t, 0.7) : null;
        List<Tensor> init = null;
        if (withState) {
            init = new ArrayList<>();
            for (int s = 0; s < ref.stateCount(); s++) {
                init.add(r.uniform(1, b, h));
            }
        }
        RecurrentOutput expected = ref.call(x, init, mask);
        RecurrentOutput actual = fastLayer.call(x, init, mask);
        String ctx = ref.className() + " " + fast.name() + " B=" + b + " T=" + t + " I=" + i + " H=" + h + " mask="
                + masked + " backwards=" + backwards + " state=" + withState + " seed=" + r.seed();
        for (int k = 0; k < expected.asList().size(); k++) {
            Compare.assertClose(ctx + " output " + k, expected.asList().get(k), actual.asList().get(k), Tolerance.FP32);
        }
    }
}
