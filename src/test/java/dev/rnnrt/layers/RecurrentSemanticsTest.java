package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Sequences;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Keras rules that relate one call to another: time_major, stateful, defaults, no-ops. */
class RecurrentSemanticsTest {

    private static final long SEED = 20261122L;

    /** Each cell kind with random weights, distinct per unit. */
    private static List<Supplier<RecurrentLayerBuilder<?>>> builders(int units) {
        return List.of(() -> Lstm.builder(units), () -> Gru.builder(units), () -> Gru.builder(units).resetAfter(false),
                () -> SimpleRnn.builder(units));
    }

    private static <L extends RecurrentLayer> L withRandomWeights(L layer, int inputSize, RandomTensors r) {
        layer.build(inputSize);
        List<Tensor> w = new ArrayList<>();
        for (Tensor t : layer.getWeights()) {
            w.add(r.uniform(0.6, t.shape()));
        }
        layer.setWeights(w);
        return layer;
    }

    @Test
    void timeMajorIsTheTransposedBatchMajorCall() {
        RandomTensors r = new RandomTensors(SEED);
        for (Supplier<RecurrentLayerBuilder<?>> b : builders(3)) {
            RecurrentLayer batchMajor = withRandomWeights(b.get().returnSequences(true).returnState(true).build(), 4, r);
            RecurrentLayer timeMajor = b.get().returnSequences(true).returnState(true).timeMajor(true).build();
            timeMajor.setWeights(batchMajor.getWeights());
            Tensor x = r.uniform(1.0, 2, 5, 4);
            Mask mask = r.mask(2, 5, 0.7);
            RecurrentOutput expected = batchMajor.call(x, null, mask);
            RecurrentOutput actual = timeMajor.call(x.swapFirstAxes(), null, mask.transpose());
            Compare.assertIdentical("time_major sequence, seed " + SEED, expected.output().swapFirstAxes(), actual.output());
            Compare.assertIdentical("time_major state", expected.h(), actual.h());
        }
    }

    @Test
    void timeMajorBidirectionalIsTheTransposedBatchMajorOne() {
        RandomTensors r = new RandomTensors(SEED + 7);
        for (Bidirectional.MergeMode mode : Bidirectional.MergeMode.values()) {
            Bidirectional batchMajor = Bidirectional.of("bm", Lstm.builder(3).returnSequences(true).returnState(true).build(), mode, null);
            Bidirectional timeMajor = Bidirectional.of("tm", Lstm.builder(3).returnSequences(true).returnState(true).timeMajor(true).build(),
                    mode, null);
            batchMajor.build(4);
            List<Tensor> w = new ArrayList<>();
            for (Tensor t : batchMajor.getWeights()) {
                w.add(r.uniform(0.6, t.shape()));
            }
            batchMajor.setWeights(w);
            timeMajor.build(4);
            timeMajor.setWeights(w);
            Tensor x = r.uniform(1.0, 2, 5, 4);
            List<Tensor> expected = batchMajor.call(List.of(x), null);
            List<Tensor> actual = timeMajor.call(List.of(x.swapFirstAxes()), null);
            for (int k = 0; k < expected.size(); k++) {
                // the sequence outputs are [T, B, ...]; the states [B, H] either way
                boolean sequence = k == 0 || k == 1 && mode == Bidirectional.MergeMode.NONE;
                Compare.assertIdentical("time_major Bidirectional " + mode + " output " + k,
                        sequence ? expected.get(k).swapFirstAxes() : expected.get(k), actual.get(k));
            }
        }
    }

    @Test
    void statefulCallsEqualOneCallOverTheWholeSequence() {
        RandomTensors r = new RandomTensors(SEED + 1);
        for (Supplier<RecurrentLayerBuilder<?>> b : builders(4)) {
            RecurrentLayer whole = withRandomWeights(b.get().returnSequences(true).build(), 3, r);
            RecurrentLayer stateful = b.get().returnSequences(true).stateful(true).build();
            stateful.setWeights(whole.getWeights());
            Tensor x = r.uniform(1.0, 2, 6, 3);
            Tensor first = Sequences.slice(x, 0, 4);
            Tensor second = Sequences.slice(x, 4, 6);
            Tensor expected = whole.call(x).output();
            Tensor y1 = stateful.call(first).output();
            Tensor y2 = stateful.call(second).output();
            Compare.assertClose(stateful + " first chunk", Sequences.slice(expected, 0, 4), y1, Tolerance.FP32);
            Compare.assertClose(stateful + " second chunk", Sequences.slice(expected, 4, 6), y2, Tolerance.FP32);

            // after a reset it starts from zeros again
            stateful.resetStates();
            Compare.assertIdentical("after reset", y1, stateful.call(first).output());
            assertEquals(stateful.stateCount(), stateful.states().size());
        }
    }

    /** The states a stateful call returns are the caller's: writing into them leaves the next call as it was. */
    @Test
    void statesAStatefulCallReturnsAreNotTheOnesItCarries() {
        RandomTensors r = new RandomTensors(SEED + 7);
        for (Supplier<RecurrentLayerBuilder<?>> b : builders(3)) {
            RecurrentLayer untouched = withRandomWeights(b.get().returnState(true).stateful(true).build(), 2, r);
            RecurrentLayer written = b.get().returnState(true).stateful(true).build();
            written.setWeights(untouched.getWeights());
            Tensor first = r.uniform(1, 2, 4, 2);
            Tensor second = r.uniform(1, 2, 3, 2);
            untouched.call(first);
            RecurrentOutput out = written.call(first);
            for (Tensor state : out.states()) {
                java.util.Arrays.fill(state.data(), 5f);    // e.g. post-processing the returned state in place
            }
            Compare.assertIdentical(written + ", the call after", untouched.call(second).output(),
                    written.call(second).output());
        }
    }

    @Test
    void statefulResetWithExplicitStatesActsAsInitialState() {
        RandomTensors r = new RandomTensors(SEED + 2);
        Lstm plain = withRandomWeights(Lstm.builder(3).build(), 2, r);
        Lstm stateful = Lstm.builder(3).stateful(true).build();
        stateful.setWeights(plain.getWeights());
        List<Tensor> init = List.of(r.uniform(1, 2, 3), r.uniform(1, 2, 3));
        Tensor x = r.uniform(1, 2, 4, 2);
        stateful.resetStates(init);
        Compare.assertIdentical("reset_states(states)", plain.call(x, init, null).output(), stateful.call(x).output());
    }

    @Test
    void aLayerThatIsNotStatefulGivesTheSameResultTwice() {
        RandomTensors r = new RandomTensors(SEED + 3);
        for (Supplier<RecurrentLayerBuilder<?>> b : builders(3)) {
            RecurrentLayer layer = withRandomWeights(b.get().returnSequences(true).build(), 2, r);
            Tensor x = r.uniform(1, 3, 4, 2);
            Compare.assertIdentical(layer.describe(), layer.call(x).output(), layer.call(x).output());
        }
    }

    @Test
    void dropoutHasNoEffectAtInference() {
        RandomTensors r = new RandomTensors(SEED + 4);
        Gru plain = withRandomWeights(Gru.builder(3).returnSequences(true).build(), 2, r);
        Gru dropped = Gru.builder(3).returnSequences(true).dropout(0.5).recurrentDropout(0.3).build();
        dropped.setWeights(plain.getWeights());
        Tensor x = r.uniform(1, 2, 5, 2);
        Compare.assertIdentical("dropout", plain.call(x).output(), dropped.call(x).output());
        assertEquals(0.5, dropped.dropout());
        assertEquals(0.3, dropped.recurrentDropout());
    }

    @Test
    void inputsAndStatesAreNotModified() {
        RandomTensors r = new RandomTensors(SEED + 5);
        Lstm lstm = withRandomWeights(Lstm.builder(2).returnSequences(true).build(), 3, r);
        Tensor x = r.uniform(1, 2, 3, 3);
        float[] before = x.toArray();
        List<Tensor> init = List.of(r.uniform(1, 2, 2), r.uniform(1, 2, 2));
        float[] h0 = init.get(0).toArray();
        lstm.call(x, init, Mask.all(2, 3));
        assertArrayEquals(before, x.data());
        assertArrayEquals(h0, init.get(0).data());
    }

    @Test
    void weightsAreCopiedInAndOut() {
        RandomTensors r = new RandomTensors(SEED + 6);
        SimpleRnn rnn = SimpleRnn.builder(2).build();
        float[] k = r.uniform(1, 3, 2).toArray();
        Tensor kernel = Tensor.wrap(k, 3, 2);
        rnn.setWeights(List.of(kernel, r.uniform(1, 2, 2), r.uniform(1, 2)));
        k[0] = 99f;
        assertFalse(rnn.getWeights().get(0).get(0, 0) == 99f);
        rnn.getWeights().get(0).data()[1] = 77f;
        assertFalse(rnn.getWeights().get(0).get(0, 1) == 77f);
    }

    @Test
    void kerasDefaults() {
        Lstm lstm = Lstm.builder(4).build();
        assertEquals(Activation.TANH, lstm.activation());
        assertEquals(Activation.SIGMOID, lstm.recurrentActivation());
        assertTrue(lstm.unitForgetBias());
        assertTrue(lstm.useBias());
        assertFalse(lstm.returnSequences() || lstm.returnState() || lstm.goBackwards() || lstm.stateful()
                || lstm.timeMajor() || lstm.zeroOutputForMask());
        assertTrue(Gru.builder(2).build().resetAfter());
        Gru old = Gru.builder(2).kerasVersion(KerasVersion.parse("2.2.4")).build();
        assertFalse(old.resetAfter());
        assertEquals(Activation.HARD_SIGMOID_KERAS2, old.recurrentActivation());
        assertEquals(Activation.SIGMOID, Gru.builder(2).kerasVersion(KerasVersion.parse("2.3.1")).build()
                .recurrentActivation());
        // a name given before the version still means what that version says
        assertEquals(Activation.HARD_SIGMOID_KERAS2, Lstm.builder(1).recurrentActivation("hard_sigmoid")
                .kerasVersion(KerasVersion.KERAS_2).build().recurrentActivation());
    }

    @Test
    void defaultNamesAreNumberedAsKerasNumbersThem() {
        String a = SimpleRnn.builder(1).build().name();
        String b = SimpleRnn.builder(1).build().name();
        assertTrue(a.startsWith("simple_rnn") && b.startsWith("simple_rnn_"), a + ", " + b);
        assertFalse(a.equals(b));
        assertEquals("encoder", Lstm.builder(1).name("encoder").build().name());
    }

    @Test
    void goBackwardsIsTheForwardLayerOnTheReversedInput() {
        RandomTensors r = new RandomTensors(SEED + 7);
        for (Supplier<RecurrentLayerBuilder<?>> b : builders(3)) {
            RecurrentLayer forward = withRandomWeights(b.get().returnSequences(true).build(), 2, r);
            RecurrentLayer backward = b.get().returnSequences(true).goBackwards(true).build();
            backward.setWeights(forward.getWeights());
            Tensor x = r.uniform(1, 2, 5, 2);
            Compare.assertIdentical(backward.describe(), forward.call(Sequences.reverseTime(x)).output(), backward.call(x).output());
        }
    }

    @Test
    void concurrentCallsOfOneLayerAgree() throws Exception {
        RandomTensors r = new RandomTensors(SEED + 8);
        Lstm lstm = withRandomWeights(Lstm.builder(8).returnSequences(true).build(), 5, r);
        Tensor x = r.uniform(1, 4, 10, 5);
        Tensor expected = lstm.call(x).output();
        List<Thread> threads = new ArrayList<>();
        List<Tensor> results = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int k = 0; k < 8; k++) {
            Thread t = new Thread(() -> results.add(lstm.call(x).output()));
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(8, results.size());
        for (Tensor y : results) {
            Compare.assertIdentical("concurrent call", expected, y);
        }
    }



    /**
     * maskedOutputIsState (Keras' TensorFlow loop up to 2.2.4): the steps before a sequence's first
     * unmasked one (in processing order) output the initial state; every other output, and the
     * states, are the default's. Without a mask, or with zero_output_for_mask, nothing changes.
     */
    @Test
    void maskedOutputIsStateChangesOnlyTheStepsBeforeTheFirstUnmaskedOne() {
        RandomTensors r = new RandomTensors(SEED + 7);
        for (Supplier<RecurrentLayerBuilder<?>> b : builders(3)) {
            for (boolean backwards : new boolean[] {false, true}) {
                RecurrentLayer plain = withRandomWeights(b.get().returnSequences(true).goBackwards(backwards).build(), 2, r);
                RecurrentLayer old = b.get().returnSequences(true).goBackwards(backwards).maskedOutputIsState(true).build();
                old.setWeights(plain.getWeights());
                Tensor x = r.uniform(1.0, 3, 5, 2);
                List<Tensor> init = new ArrayList<>();
                for (int k = 0; k < plain.stateCount(); k++) {
                    init.add(r.uniform(0.8, 3, 3));
                }
                // time steps masked: row 0 the first two, row 1 none, row 2 all
                Mask mask = Mask.of(new boolean[][] {{false, false, true, true, true}, {true, true, true, true, true},
                    {false, false, false, false, false}});
                RecurrentOutput want = plain.call(x, init, mask);
                RecurrentOutput got = old.call(x, init, mask);
                float[] expected = want.output().data().clone();
                float[] h0 = init.get(0).data();
                int[][] leading = {backwards ? new int[0] : new int[] {0, 1}, {}, {0, 1, 2, 3, 4}};
                for (int row = 0; row < 3; row++) {
                    for (int p : leading[row]) {
                        for (int j = 0; j < 3; j++) {
                            assertEquals(0f, expected[(row * 5 + p) * 3 + j], "the default gives zeros there");
                            expected[(row * 5 + p) * 3 + j] = h0[row * 3 + j];
                        }
                    }
                }
                Compare.assertIdentical(old + " backwards=" + backwards, Tensor.wrap(expected, 3, 5, 3), got.output());
                Compare.assertIdentical("states", want.h(), got.h());
                // the last output of an all-masked row is the initial state
                RecurrentLayer lastOnly = b.get().goBackwards(backwards).maskedOutputIsState(true).build();
                lastOnly.setWeights(plain.getWeights());
                Tensor last = lastOnly.call(x, init, mask).output();
                for (int j = 0; j < 3; j++) {
                    assertEquals(h0[2 * 3 + j], last.data()[2 * 3 + j], "all-masked row");
                }
                // no mask, or zero_output_for_mask: as the default
                Compare.assertIdentical("no mask", plain.call(x, init, null).output(), old.call(x, init, null).output());
                RecurrentLayer zeroing = b.get().returnSequences(true).goBackwards(backwards).zeroOutputForMask(true)
                        .maskedOutputIsState(true).build();
                zeroing.setWeights(plain.getWeights());
                RecurrentLayer zeroingDefault = b.get().returnSequences(true).goBackwards(backwards)
                        .zeroOutputForMask(true).build();
                zeroingDefault.setWeights(plain.getWeights());
                Compare.assertIdentical("zero_output_for_mask", zeroingDefault.call(x, init, mask).output(),
                        zeroing.call(x, init, mask).output());
            }
        }
    }
}
