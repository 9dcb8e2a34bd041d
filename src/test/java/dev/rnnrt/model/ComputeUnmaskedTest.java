package dev.rnnrt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.BidirectionalStack;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Masking;
import dev.rnnrt.layers.StackedRnn;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.StackModels;
import dev.rnnrt.testing.StackingReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ModelBuilder#computeUnmasked}: the call computes every step (Keras 3's recurrent layers
 * given initial_state and no mask=...), and the layer after it still gets the input's mask.
 */
class ComputeUnmaskedTest {

    private static final int F = 3;
    private static final int T = 6;
    private static final int B = 4;
    private final RandomTensors random = new RandomTensors(20261202L);

    /** A layer that returns sequences, with its initial states' sizes. */
    private record Case(Layer layer, int[] stateSizes) {
    }

    private List<Case> cases() {
        Lstm lstm = Lstm.builder(5).name("rnn").returnSequences(true).build();
        Bidirectional bi = Bidirectional.of("rnn", Gru.builder(4).returnSequences(true).build(),
                Bidirectional.MergeMode.CONCAT, null);
        StackedRnn stack = StackedRnn.builder(Lstm.builder(4).build(), Gru.builder(3).build()).name("rnn")
                .returnSequences(true).build();
        BidirectionalStack biStack = BidirectionalStack.of("rnn", StackedRnn.builder(Gru.builder(3).build(),
                Gru.builder(2).build()).returnSequences(true).build(), Bidirectional.MergeMode.SUM, true);
        return List.of(new Case(lstm, new int[] {5, 5}), new Case(bi, new int[] {4, 4}),
                new Case(stack, new int[] {4, 4, 3}), new Case(biStack, new int[] {3, 2, 3, 2}));
    }

    @Test
    void computesEveryStepAndPassesTheMaskOn() {
        for (Case c : cases()) {
            Layer rnn = c.layer();
            Lstm reader = Lstm.builder(2).name("reader").build();
            ModelBuilder b = Model.functional("m").input("x", -1, F);
            List<String> rnnInputs = new ArrayList<>(List.of("masking"));
            for (int k = 0; k < c.stateSizes().length; k++) {
                b.input("s" + k, c.stateSizes()[k]);
                rnnInputs.add("s" + k);
            }
            Model model = b.add(Masking.of("masking", 0.0), "x").add(rnn, rnnInputs.toArray(new String[0]))
                    .add(reader, "rnn").computeUnmasked("rnn").outputs("rnn", "reader").build();
            randomize(rnn);
            randomize(reader);

            Tensor x = random.uniform(1, B, T, F);
            boolean[] keep = new boolean[B * T];
            java.util.Arrays.fill(keep, true);
            for (int t = 3; t < T; t++) {            // row 1: the last three steps padded
                java.util.Arrays.fill(x.data(), (T + t) * F, (T + t + 1) * F, 0f);
                keep[T + t] = false;
            }
            java.util.Arrays.fill(x.data(), 2 * T * F, (2 * T + 1) * F, 0f);   // row 2: the first step
            keep[2 * T] = false;
            Mask mask = Mask.of(keep, B, T);
            List<Tensor> in = new ArrayList<>(List.of(x));
            for (int size : c.stateSizes()) {
                in.add(random.uniform(1, B, size));
            }
            List<Tensor> out = model.predict(in);

            Tensor unmasked = rnn.call(in, Collections.nCopies(in.size(), null)).get(0);
            List<Mask> masks = new ArrayList<>(Collections.nCopies(in.size(), null));
            masks.set(0, mask);
            Tensor masked = rnn.call(in, masks).get(0);
            String where = rnn.describe();
            Compare.assertIdentical(where, unmasked, out.get(0));
            assertTrue(Compare.relativeError(toDouble(masked), out.get(0).data()) > 1e-3, where + ": the mask would change the output");
            Compare.assertIdentical(where + ": the reader gets the mask", reader.call(List.of(unmasked),
                    Collections.singletonList(mask)).get(0), out.get(1));
            assertTrue(model.carriesMask("rnn"), where + ": the output still carries the mask");
            assertTrue(model.summary().contains("and passes the mask on (Keras 3: initial_state given, no mask=): rnn\n"),
                    model.summary());
        }
    }

    /**
     * On a backend that keeps stacks, a call that computes unmasked neither starts nor joins a run
     * (a run computes every stage with the mask its first layer reads): the numbers are those of the
     * layers run one by one.
     */
    @Test
    void aCallThatComputesUnmaskedStaysOutOfStacks() {
        RandomTensors r = new RandomTensors(20261204L);
        for (String unmasked : new String[] {"a", "b"}) {
            StackingReference rec = new StackingReference();
            List<Model> pair = new ArrayList<>();
            for (RecurrentBackend be : new RecurrentBackend[] {rec, RecurrentReference.INSTANCE}) {
                pair.add(Model.functional("m").input("x", -1, StackModels.FEATURES)
                        .add(Masking.of("masking", 0.0), "x")
                        .add(Lstm.builder(5).name("a").returnSequences(true).backend(be).build(), "masking")
                        .add(Gru.builder(4).name("b").returnSequences(true).backend(be).build(), "a")
                        .add(Lstm.builder(3).name("c").returnSequences(true).backend(be).build(), "b")
                        .computeUnmasked(unmasked).outputs("c").build());
            }
            assertEquals(unmasked.equals("a") ? List.of("b..c") : List.of(), pair.get(0).stackedRuns(), unmasked);
            Tensor x = StackModels.input(r, 3, 7, true);
            StackModels.sameRandomWeights(r, x, pair.get(0), pair.get(1));
            Compare.assertIdentical("'" + unmasked + "' computes unmasked", pair.get(1).predict(x), pair.get(0).predict(x));
        }
    }

    /**
     * Summary names a call that computes unmasked only where its sequence input carries a mask:
     * without one, the call computes as any other does, and there is nothing to say.
     */
    @Test
    void summaryNamesTheCallOnlyWhereItsSequenceInputIsMasked() {
        for (boolean masked : new boolean[] {true, false}) {
            ModelBuilder b = Model.functional("m").input("x", -1, F).input("h", 5).input("c", 5);
            String seq = "x";
            if (masked) {
                b.add(Masking.of("masking", 0.0), "x");
                seq = "masking";
            }
            Model model = b.add(Lstm.builder(5).name("rnn").returnSequences(true).build(), seq, "h", "c")
                    .computeUnmasked("rnn").outputs("rnn").build();
            assertEquals(masked, model.summary().contains("Computes the masked steps too"), model.summary());
        }
    }

    @Test
    void unknownCallIsRefusedWithTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Model.functional("m")
                .input("x", -1, F).add(Lstm.builder(2).name("lstm").build(), "x").computeUnmasked("lstm_1")
                .outputs("lstm").build());
        assertTrue(e.getMessage().contains("'lstm_1'") && e.getMessage().contains("Known calls: lstm"), e.getMessage());
    }

    private static double[] toDouble(Tensor t) {
        double[] d = new double[t.data().length];
        for (int k = 0; k < d.length; k++) {
            d[k] = t.data()[k];
        }
        return d;
    }

    /** Weights drawn at random for the layer (built by the model). */
    private void randomize(Layer layer) {
        if (layer instanceof Lstm l) {
            l.setWeights(drawn(l.getWeights()));
        } else if (layer instanceof Bidirectional l) {
            l.setWeights(drawn(l.getWeights()));
        } else if (layer instanceof StackedRnn l) {
            l.setWeights(drawn(l.getWeights()));
        } else if (layer instanceof BidirectionalStack l) {
            l.setWeights(drawn(l.getWeights()));
        } else {
            throw new AssertionError(layer.describe());
        }
    }

    private List<Tensor> drawn(List<Tensor> like) {
        List<Tensor> w = new ArrayList<>();
        for (Tensor t : like) {
            w.add(random.uniform(0.6, t.shape()));
        }
        return w;
    }
}
