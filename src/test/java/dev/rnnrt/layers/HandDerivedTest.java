package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Known answers worked out by hand from the Keras equations, for tiny cells where each number can
 * be checked on paper. Weights differ per gate and per unit, so a swapped gate or unit fails.
 */
class HandDerivedTest {

    private static final double EPS = 1e-6;

    /** SimpleRNN, linear, I = H = 1: h1 = w·x1 + b, h2 = w·x2 + u·h1 + b. */
    @Test
    void simpleRnnLinearTwoSteps() {
        SimpleRnn rnn = SimpleRnn.builder(1).activation(Activation.LINEAR).returnSequences(true).build();
        rnn.setWeights(List.of(t(new float[] {2f}, 1, 1), t(new float[] {0.5f}, 1, 1), t(new float[] {-1f}, 1)));
        Tensor y = rnn.call(t(new float[] {3f, 4f}, 1, 2, 1)).output();
        // h1 = 2·3 − 1 = 5; h2 = 2·4 + 0.5·5 − 1 = 9.5
        assertEquals(5.0, y.get(0, 0, 0), EPS);
        assertEquals(9.5, y.get(0, 1, 0), EPS);
    }

    /** SimpleRNN, linear, two units: the recurrent kernel's rows are source units, columns target units. */
    @Test
    void simpleRnnRecurrentKernelOrientation() {
        SimpleRnn rnn = SimpleRnn.builder(2).activation(Activation.LINEAR).useBias(false).returnSequences(true)
                .build();
        // kernel [1, 2] = [1, 10]; recurrent [2, 2] = [[0, 1], [0, 0]]: unit 1 adds unit 0's previous value
        rnn.setWeights(List.of(t(new float[] {1f, 10f}, 1, 2), t(new float[] {0f, 1f, 0f, 0f}, 2, 2)));
        Tensor y = rnn.call(t(new float[] {1f, 2f}, 1, 2, 1)).output();
        // step 1: h = [1, 10]; step 2: h = [2, 20 + 1]
        assertEquals(1.0, y.get(0, 0, 0), EPS);
        assertEquals(10.0, y.get(0, 0, 1), EPS);
        assertEquals(2.0, y.get(0, 1, 0), EPS);
        assertEquals(21.0, y.get(0, 1, 1), EPS);
    }

    /**
     * LSTM, one unit, one step, linear activations and distinct gate weights:
     * z = x·[1, 2, 3, 4] + [0.1, 0.2, 0.3, 0.4] with x = 1 gives i = 1.1, f = 2.2, c̃ = 3.3, o = 4.4;
     * c' = f·c0 + i·c̃ = 2.2·0.5 + 1.1·3.3 = 4.73; h' = o·c' = 20.812. The h0 = 0 term vanishes.
     */
    @Test
    void lstmGateOrderIfco() {
        Lstm lstm = Lstm.builder(1).activation(Activation.LINEAR).recurrentActivation(Activation.LINEAR)
                .returnState(true).build();
        lstm.setWeights(List.of(t(new float[] {1, 2, 3, 4}, 1, 4), t(new float[] {5, 6, 7, 8}, 1, 4),
                t(new float[] {0.1f, 0.2f, 0.3f, 0.4f}, 4)));
        List<Tensor> out = lstm.call(t(new float[] {1f}, 1, 1, 1),
                List.of(Tensor.zeros(1, 1), t(new float[] {0.5f}, 1, 1)), null).asList();
        assertEquals(20.812, out.get(1).get(0, 0), 1e-5);
        assertEquals(4.73, out.get(2).get(0, 0), EPS);
    }

    /**
     * GRU, one unit, one step, linear activations, h0 = 2, x = 1, kernel [1, 2, 3] (z, r, h),
     * recurrent [0.5, 0.25, 0.125], bias [[0.1, 0.2, 0.3], [0.01, 0.02, 0.03]].
     * reset_after=True: z = 1 + 0.1 + 2·0.5 + 0.01 = 2.11; r = 2 + 0.2 + 0.5 + 0.02 = 2.72;
     * ĥ = 3 + 0.3 + r·(2·0.125 + 0.03) = 3.3 + 2.72·0.28 = 4.0616;
     * h' = z·h0 + (1 − z)·ĥ = 4.22 − 1.11·4.0616 = −0.288376.
     */
    @Test
    void gruResetAfterByHand() {
        Gru gru = Gru.builder(1).activation(Activation.LINEAR).recurrentActivation(Activation.LINEAR)
                .resetAfter(true).build();
        gru.setWeights(List.of(t(new float[] {1, 2, 3}, 1, 3), t(new float[] {0.5f, 0.25f, 0.125f}, 1, 3),
                t(new float[] {0.1f, 0.2f, 0.3f, 0.01f, 0.02f, 0.03f}, 2, 3)));
        Tensor h = gru.call(t(new float[] {1f}, 1, 1, 1), List.of(t(new float[] {2f}, 1, 1)), null).output();
        assertEquals(-0.288376, h.get(0, 0), EPS);
    }

    /**
     * The same GRU with reset_after=False and bias [0.1, 0.2, 0.3]: z = 1 + 0.1 + 1 = 2.1;
     * r = 2 + 0.2 + 0.5 = 2.7; ĥ = 3 + 0.3 + (r·h0)·0.125 = 3.3 + 0.675 = 3.975;
     * h' = 2.1·2 + (1 − 2.1)·3.975 = 4.2 − 4.3725 = −0.1725.
     */
    @Test
    void gruResetBeforeByHand() {
        Gru gru = Gru.builder(1).activation(Activation.LINEAR).recurrentActivation(Activation.LINEAR)
                .resetAfter(false).build();
        gru.setWeights(List.of(t(new float[] {1, 2, 3}, 1, 3), t(new float[] {0.5f, 0.25f, 0.125f}, 1, 3),
                t(new float[] {0.1f, 0.2f, 0.3f}, 3)));
        Tensor h = gru.call(t(new float[] {1f}, 1, 1, 1), List.of(t(new float[] {2f}, 1, 1)), null).output();
        assertEquals(-0.1725, h.get(0, 0), EPS);
    }

    /**
     * Masking with the linear SimpleRNN h' = x + h (w = u = 1, b = 0) on x = [1, 2, 3, 4] with
     * step 2 masked: outputs [1, 3, 3, 7] (the masked step repeats the previous output and the
     * state skips x = 3); with zero_output_for_mask [1, 3, 0, 7]. go_backwards processes 4, 3, 2, 1
     * with the mask reversed too: [4, 4, 6, 7].
     */
    @Test
    void maskAndGoBackwardsByHand() {
        Tensor x = t(new float[] {1, 2, 3, 4}, 1, 4, 1);
        Mask mask = Mask.of(new boolean[][] {{true, true, false, true}});
        assertSequence(new double[] {1, 3, 3, 7}, accumulator(false, false).call(x, mask).output());
        assertSequence(new double[] {1, 3, 0, 7}, accumulator(true, false).call(x, mask).output());
        assertSequence(new double[] {4, 4, 6, 7}, accumulator(false, true).call(x, mask).output());
    }

    /** A trailing masked step leaves the last output at the last unmasked step, or zeros with zero_output_for_mask. */
    @Test
    void lastOutputAfterTrailingPadding() {
        Tensor x = t(new float[] {1, 2, 3}, 1, 3, 1);
        Mask mask = Mask.fromLengths(new int[] {2}, 3);
        SimpleRnn keep = SimpleRnn.builder(1).activation(Activation.LINEAR).returnState(true).build();
        keep.setWeights(List.of(t(new float[] {1}, 1, 1), t(new float[] {1}, 1, 1), t(new float[] {0}, 1)));
        RecurrentOutput out = keep.call(x, mask);
        assertEquals(3.0, out.output().get(0, 0), EPS);
        assertEquals(3.0, out.h().get(0, 0), EPS);

        SimpleRnn zero = SimpleRnn.builder(1).activation(Activation.LINEAR).zeroOutputForMask(true)
                .returnState(true).build();
        zero.setWeights(keep.getWeights());
        RecurrentOutput z = zero.call(x, mask);
        assertEquals(0.0, z.output().get(0, 0), EPS);
        assertEquals(3.0, z.h().get(0, 0), EPS);
    }

    private static SimpleRnn accumulator(boolean zeroOutputForMask, boolean goBackwards) {
        SimpleRnn rnn = SimpleRnn.builder(1).activation(Activation.LINEAR).returnSequences(true)
                .zeroOutputForMask(zeroOutputForMask).goBackwards(goBackwards).build();
        rnn.setWeights(List.of(t(new float[] {1}, 1, 1), t(new float[] {1}, 1, 1), t(new float[] {0}, 1)));
        return rnn;
    }

    private static void assertSequence(double[] expected, Tensor y) {
        assertEquals(expected.length, y.dim(1));
        for (int k = 0; k < expected.length; k++) {
            assertEquals(expected[k], y.get(0, k, 0), EPS, "step " + k);
        }
    }

    private static Tensor t(float[] v, int... shape) {
        return Tensor.of(v, shape);
    }
}
