package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentCall;
import dev.rnnrt.backend.RecurrentResult;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Bidirectional.MergeMode;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Bidirectional hands its two directions to the backend in one {@link RecurrentBackend#forwardAll}
 * call (the CUDA backend runs them on two streams): the results are those of calling each
 * direction on its own, whatever order the backend runs them in, with masks, initial states,
 * return_state, time_major and stateful layers.
 */
class BidirectionalTogetherTest {

    /** The reference, recording what it is asked; forwardAll runs the calls in reverse order. */
    private static final class Recording implements RecurrentBackend {
        final List<String> log = new ArrayList<>();

        @Override
        public String name() {
            return "recording reference";
        }

        @Override
        public RecurrentResult forward(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState) {
            log.add("forward " + (loop.goBackwards() ? "backwards" : "forwards"));
            return RecurrentReference.INSTANCE.forward(cell, loop, x, mask, initialState);
        }

        @Override
        public List<RecurrentResult> forwardAll(List<RecurrentCall> calls) {
            StringBuilder line = new StringBuilder("forwardAll");
            List<RecurrentResult> out = new ArrayList<>(Collections.nCopies(calls.size(), (RecurrentResult) null));
            for (int k = calls.size() - 1; k >= 0; k--) {
                RecurrentCall c = calls.get(k);
                out.set(k, RecurrentReference.INSTANCE.forward(c.cell(), c.loop(), c.x(), c.mask(), c.initialState()));
            }
            for (RecurrentCall c : calls) {
                line.append(c.loop().goBackwards() ? " backwards" : " forwards");
            }
            log.add(line.toString());
            return out;
        }
    }

    private static final List<Function<Integer, RecurrentLayerBuilder<?>>> CELLS = List.of(
            Lstm::builder, h -> Gru.builder(h).resetAfter(true), h -> Gru.builder(h).resetAfter(false),
            SimpleRnn::builder);

    @Test
    void bothDirectionsGoToTheBackendInOneCallAndGiveTheirOwnResults() {
        RandomTensors r = new RandomTensors(411L);
        for (Function<Integer, RecurrentLayerBuilder<?>> cell : CELLS) {
            for (MergeMode mode : MergeMode.values()) {
                for (boolean masked : new boolean[] {false, true}) {
                    Recording rec = new Recording();
                    Bidirectional together = Bidirectional.of("bi", cell.apply(5).returnSequences(true).returnState(true)
                            .backend(rec).build(), mode, null);
                    Bidirectional alone = Bidirectional.of("bi", cell.apply(5).returnSequences(true).returnState(true)
                            .backend(RecurrentReference.INSTANCE).build(), mode, null);
                    sameRandomWeights(r, 3, together, alone);
                    Tensor x = r.uniform(1, 4, 6, 3);
                    List<Tensor> inputs = new ArrayList<>(List.of(x));
                    int states = together.forwardLayer().stateCount() + together.backwardLayer().stateCount();
                    for (int k = 0; k < states; k++) {
                        inputs.add(r.uniform(0.5, 4, 5));
                    }
                    List<Mask> masks = masked ? List.of(r.mask(4, 6, 0.7)) : List.of();
                    String what = together.forwardLayer().className() + " " + mode + (masked ? " masked" : "");
                    assertIdentical(what, alone.call(inputs, masks), together.call(inputs, masks));
                    assertEquals(List.of("forwardAll forwards backwards"), rec.log, what + ": calls to the backend");
                }
            }
        }
    }

    @Test
    void timeMajorDirectionsTogetherEqualThemAlone() {
        RandomTensors r = new RandomTensors(412L);
        Recording rec = new Recording();
        Bidirectional together = Bidirectional.of(Lstm.builder(4).returnSequences(true).timeMajor(true).backend(rec)
                .build());
        Bidirectional alone = Bidirectional.of(Lstm.builder(4).returnSequences(true).timeMajor(true)
                .backend(RecurrentReference.INSTANCE).build());
        sameRandomWeights(r, 2, together, alone);
        List<Tensor> x = List.of(r.uniform(1, 7, 3, 2));
        assertIdentical("time_major", alone.call(x, List.of()), together.call(x, List.of()));
        assertEquals(List.of("forwardAll forwards backwards"), rec.log);
    }

    @Test
    void statefulDirectionsCarryTheirStatesThroughJointCalls() {
        RandomTensors r = new RandomTensors(413L);
        Recording rec = new Recording();
        Bidirectional together = Bidirectional.of(Gru.builder(6).stateful(true).returnState(true).backend(rec).build());
        Bidirectional alone = Bidirectional.of(Gru.builder(6).stateful(true).returnState(true)
                .backend(RecurrentReference.INSTANCE).build());
        sameRandomWeights(r, 3, together, alone);
        for (int call = 0; call < 3; call++) {
            List<Tensor> x = List.of(r.uniform(1, 2, 5, 3));
            assertIdentical("stateful call " + call, alone.call(x, List.of()), together.call(x, List.of()));
        }
        together.resetState();
        alone.resetState();
        List<Tensor> x = List.of(r.uniform(1, 2, 5, 3));
        assertIdentical("stateful call after resetState", alone.call(x, List.of()), together.call(x, List.of()));
        assertEquals(Collections.nCopies(4, "forwardAll forwards backwards"), rec.log);
        // a carried batch of 2 does not fit a batch of 3: the message of a single stateful layer
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> together.call(List.of(r.uniform(1, 3, 5, 3)), List.of()));
        assertTrue(e.getMessage().contains("holds states for a batch of 2 sequences; got a batch of 3"), e.getMessage());
    }

    @Test
    void directionsOnDifferentBackendsRunOneAfterTheOther() {
        RandomTensors r = new RandomTensors(414L);
        Recording rec = new Recording();
        Bidirectional mixed = Bidirectional.of("bi", Lstm.builder(4).returnSequences(true).backend(rec).build(),
                MergeMode.CONCAT, Lstm.builder(4).returnSequences(true).goBackwards(true)
                        .backend(RecurrentReference.INSTANCE).build());
        Bidirectional alone = Bidirectional.of(Lstm.builder(4).returnSequences(true)
                .backend(RecurrentReference.INSTANCE).build());
        sameRandomWeights(r, 3, mixed, alone);
        List<Tensor> x = List.of(r.uniform(1, 2, 5, 3));
        assertIdentical("mixed backends", alone.call(x, List.of()), mixed.call(x, List.of()));
        assertEquals(List.of("forward forwards"), rec.log);
    }

    @Test
    void aBadInputFailsBeforeEitherDirectionRuns() {
        Recording rec = new Recording();
        Bidirectional bi = Bidirectional.of(Lstm.builder(4).backend(rec).build());
        bi.build(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bi.call(List.of(Tensor.wrap(new float[2 * 5 * 7], 2, 5, 7)), List.of()));
        assertTrue(e.getMessage().contains("[batch, timesteps, 3]") && e.getMessage().contains("[2, 5, 7]"),
                e.getMessage());
        assertEquals(List.of(), rec.log);
    }

    /** Builds both for {@code in} features and gives them the same random weights. */
    private static void sameRandomWeights(RandomTensors r, int in, Bidirectional a, Bidirectional b) {
        a.build(in);
        b.build(in);
        List<Tensor> w = new ArrayList<>();
        for (Tensor t : a.getWeights()) {
            w.add(r.uniform(0.6, t.shape()));
        }
        a.setWeights(w);
        b.setWeights(w);
    }

    private static void assertIdentical(String what, List<Tensor> expected, List<Tensor> actual) {
        assertEquals(expected.size(), actual.size(), what + ": number of outputs");
        for (int k = 0; k < expected.size(); k++) {
            Compare.assertIdentical(what + " output " + k, expected.get(k), actual.get(k));
        }
    }
}
