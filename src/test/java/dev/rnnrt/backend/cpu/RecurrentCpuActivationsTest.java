package dev.rnnrt.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.OutputActivation;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.RecurrentOutput;
import dev.rnnrt.testing.ActivationRoles;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.KerasActivationFormulas;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The activations Keras 3.7 to 3.10 added, on the fast CPU path against the float64 reference:
 * each as the activation and as the recurrent_activation of LSTM, GRU (either reset_after) and
 * SimpleRNN, and in a Dense layer on the backend's SGEMM. The vector gates do not take them, so
 * these run the scalar loop in {@link RecurrentCpu}; units below, at and past a vector's lanes.
 */
class RecurrentCpuActivationsTest {

    static List<Activation> added() {
        return new ArrayList<>(KerasActivationFormulas.added().keySet());
    }

    /**
     * The scalar loop's own sigmoid and tanh (one Math.exp each) to a relative 1e-13 of the JDK's,
     * from |x| = 1e-30 to 40 in quarter octaves, both signs: tanh's (1 - e)/(1 + e) alone loses
     * digits near 0 (a relative 5e-5 at 1e-12).
     */
    @Test
    void scalarSigmoidAndTanhKeepTheirDigitsNearZero() {
        for (int k = -400; k <= 22; k++) {
            for (double sign : new double[] {1, -1}) {
                double x = sign * Math.pow(2, k / 4.0);
                double tanh = Math.tanh(x);
                assertEquals(tanh, RecurrentCpu.apply(Activation.TANH, x), 1e-13 * Math.abs(tanh), "tanh at " + x);
                double sigmoid = 1 / (1 + Math.exp(-x));
                assertEquals(sigmoid, RecurrentCpu.apply(Activation.SIGMOID, x), 1e-13 * sigmoid, "sigmoid at " + x);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("added")
    void asActivationAndRecurrentActivation(Activation a) {
        // one role at a time (ActivationRoles)
        List<IntFunction<RecurrentLayerBuilder<?>>> cells = ActivationRoles.of(a);
        RandomTensors r = new RandomTensors(5150L + a.ordinal());
        RecurrentBackend[] fast = {RecurrentCpu.INSTANCE, RecurrentCpu.create(Sgemm.plain(), 2)};
        // the vector gates take none of them: the scalar loop runs them
        for (CellKind kind : CellKind.values()) {
            assertFalse(FusedGates.covers(cell(kind, a, Activation.SIGMOID)), kind + " " + a);
            if (kind != CellKind.SIMPLE_RNN) {
                assertFalse(FusedGates.covers(cell(kind, Activation.TANH, a)), kind + " gates " + a);
            }
        }
        for (int c = 0; c < cells.size(); c++) {
            for (RecurrentBackend be : fast) {
                compare(r, cells.get(c), be, 4, 9, 5, 37, true, c % 2 == 0, true);
                compare(r, cells.get(c), be, 3, 6, 3, 5, false, c % 2 == 1, false);
            }
            // batch 1 on two threads: the units split across them
            compare(r, cells.get(c), RecurrentCpu.create(Sgemm.best(), 2), 1, 12, 8, 70, true, false, true);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("added")
    void inADenseLayerOnTheBackendsSgemm(Activation a) {
        RandomTensors r = new RandomTensors(6150L + a.ordinal());
        Dense ref = Dense.builder(11).activation(OutputActivation.of(a)).build();
        Dense fast = Dense.builder(11).activation(OutputActivation.of(a)).backend(RecurrentCpu.INSTANCE).build();
        Tensor x = r.uniform(2.5, 3, 7, 13);
        ref.build(13);
        List<Tensor> w = List.of(r.uniform(0.6, 13, 11), r.uniform(0.6, 11));
        ref.setWeights(w);
        fast.setWeights(w);
        Compare.assertClose(a + " Dense", ref.apply(x), fast.apply(x), Tolerance.FP32);
    }

    private static CellSpec cell(CellKind kind, Activation activation, Activation recurrentActivation) {
        return new CellSpec(kind, 1, activation, recurrentActivation, true, Tensor.zeros(1, kind.gates()),
                Tensor.zeros(1, kind.gates()), null);
    }

    private static void compare(RandomTensors r, IntFunction<RecurrentLayerBuilder<?>> cell,
                                RecurrentBackend fast, int b, int t, int i, int h, boolean masked, boolean backwards,
                                boolean withState) {
        RecurrentLayer ref = cell.apply(h).returnSequences(true).returnState(true).goBackwards(backwards).build();
        ref.build(i);
        // the input drives the pre-activations across every threshold (±0.5, ±1) of the new activations;
        // the recurrent kernel is small, as several of them are unbounded gates (squareplus, hard_shrink,
        // log_sigmoid): with a larger one the recurrence grows without bound and any two float32 orders
        // of summation drift apart, whatever the activation code
        double[] scales = {1.5 / Math.sqrt(i), 0.4 / Math.sqrt(h), 0.5};
        List<Tensor> w = new ArrayList<>();
        List<Tensor> shapes = ref.getWeights();
        for (int k = 0; k < shapes.size(); k++) {
            w.add(r.uniform(scales[k], shapes.get(k).shape()));
        }
        ref.setWeights(w);
        RecurrentLayer fastLayer = cell.apply(h).returnSequences(true).returnState(true).goBackwards(backwards)
                .backend(fast).build();
        fastLayer.setWeights(w);
        Tensor x = r.uniform(2, b, t, i);
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
        String ctx = ref.className() + " " + ref.describe() + " " + fast.name() + " B=" + b + " T=" + t + " I=" + i
                + " H=" + h + " mask=" + masked + " backwards=" + backwards + " state=" + withState;
        for (int k = 0; k < expected.asList().size(); k++) {
            Compare.assertClose(ctx + " output " + k, expected.asList().get(k), actual.asList().get(k), Tolerance.FP32);
        }
    }
}
