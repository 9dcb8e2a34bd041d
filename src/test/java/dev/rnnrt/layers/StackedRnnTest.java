package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.Activation;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.StackingReference;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keras' RNN(StackedRNNCells) against fixtures/recurrent/stacked_cells_cases.json, made
 * independently by make_stacked_cells_fixtures.py (the Keras loop over the stacked cells, checked
 * against torch.nn.LSTM(num_layers=n) where that applies): masks, go_backwards with a mask (the
 * later cells read the mask reversed), initial states, zero_output_for_mask, mixed cells.
 */
class StackedRnnTest {

    private static final JsonNode CASES = Fixtures.json("fixtures/recurrent/stacked_cells_cases.json").get("cases");

    @Test
    void wrappersRunCopiesOfTheLayersGivenWithTheWeightsTheyHadThen() {
        RandomTensors r = new RandomTensors(5507L);
        Tensor x = r.uniform(1, 2, 4, 3);
        Lstm cell = Lstm.builder(2).build();
        List<Tensor> first = List.of(r.uniform(0.5, 3, 8), r.uniform(0.5, 2, 8), r.uniform(0.5, 8));
        cell.setWeights(first);
        StackedRnn stack = StackedRnn.builder(cell).build();
        Lstm plain = Lstm.builder(2).build();
        Bidirectional bi = Bidirectional.of(plain);
        plain.build(3);
        Tensor before = stack.call(List.of(x), null).get(0);
        cell.setWeights(List.of(r.uniform(0.5, 3, 8), r.uniform(0.5, 2, 8), r.uniform(0.5, 8)));
        // the stack kept the weights the cell had when it was built; the cell's new ones do not reach it
        Compare.assertIdentical("seed 5507, stack output", before, stack.call(List.of(x), null).get(0));
        Compare.assertIdentical("seed 5507, stack kernel", first.get(0), stack.cells().get(0).getWeights().get(0));
        assertTrue(plain.isBuilt() && !bi.forwardLayer().isBuilt(), "building the passed layer builds no direction");
        stack.setWeights(cell.getWeights());
        Compare.assertIdentical("seed 5507, weights set on the stack reach it", cell.call(x).output(),
                stack.call(List.of(x), null).get(0));
    }

    @Test
    void everyFixtureCaseOnEachCpuBackend() {
        int checkedAgainstTorch = 0;
        for (JsonNode c : CASES) {
            if (c.path("bidirectional").asBoolean(false)) {
                continue;                                       // bidirectionalStacks
            }
            for (RecurrentBackend backend : new RecurrentBackend[] {RecurrentReference.INSTANCE, RecurrentCpu.INSTANCE,
                    new StackingReference()}) {
                StackedRnn stack = fromCase(c, backend);
                List<Tensor> inputs = new ArrayList<>();
                inputs.add(Fixtures.tensor(c.get("input")));
                List<Tensor> init = Fixtures.tensors(c.get("initial_state"));
                if (init != null) {
                    inputs.addAll(init);
                }
                Mask mask = Fixtures.mask(c.get("mask"));
                List<Tensor> out = stack.call(inputs, java.util.Collections.singletonList(mask));
                JsonNode expected = c.get("expected");
                assertEquals(expected.size(), out.size(), c.get("name").asText());
                for (int k = 0; k < out.size(); k++) {
                    JsonNode e = expected.get(k);
                    Compare.assertClose(c.get("name").asText() + " output " + k + " on " + backend.name(),
                            Fixtures.shape(e), Fixtures.doubles(e), out.get(k), Tolerance.FP32);
                }
            }
            checkedAgainstTorch += c.get("checked_against_torch_module").asBoolean() ? 1 : 0;
        }
        assertTrue(CASES.size() >= 14 && checkedAgainstTorch >= 4, "fixture cases missing");
    }

    /** Keras 2.0.9-2.2.2 order: the same computation, states taken and returned last cell first. */
    @Test
    void reversedStateOrderListsTheLastCellsStatesFirst() {
        JsonNode c = byName("mixed_mask_go_backwards_initial_state");   // LSTM (h, c), GRU (h), SimpleRNN (h)
        StackedRnn inOrder = fromCase(c, RecurrentReference.INSTANCE);
        StackedRnn reversed = StackedRnn.builder(inOrder.cells().stream().map(l -> (RecurrentLayer) plain(l)).toList())
                .name("reversed").returnSequences(true).returnState(true).goBackwards(true).reverseStateOrder(true).build();
        reversed.setWeights(inOrder.getWeights());
        List<Tensor> init = Fixtures.tensors(c.get("initial_state"));        // h1, c1, h2, h3
        Tensor x = Fixtures.tensor(c.get("input"));
        List<Mask> mask = java.util.Collections.singletonList(Fixtures.mask(c.get("mask")));
        List<Tensor> expected = inOrder.call(List.of(x, init.get(0), init.get(1), init.get(2), init.get(3)), mask);
        List<Tensor> actual = reversed.call(List.of(x, init.get(3), init.get(2), init.get(0), init.get(1)), mask);
        Compare.assertIdentical("sequence", expected.get(0), actual.get(0));
        int[] from = {4, 3, 1, 2};                                            // h3, h2, h1, c1
        for (int k = 0; k < 4; k++) {
            Compare.assertIdentical("returned state " + k, expected.get(from[k]), actual.get(k + 1));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> reversed.call(List.of(x, init.get(0)), mask));
        assertTrue(e.getMessage().contains("the last cell's first ([h] of 4, [h] of 3, [h, c] of 5)"), e.getMessage());
        assertTrue(reversed.describeOptions().contains("last cell first"), reversed.describeOptions());
    }

    /**
     * Keras 2.2.3-2.2.4's TensorFlow loop: a stack's masked step outputs its first cell's state h;
     * the first cell's own output sequence is that state at every step (held at masked steps, the
     * initial state before its first unmasked step under maskedOutputIsState).
     */
    @Test
    void maskedStepsCanOutputTheFirstCellsState() {
        RandomTensors r = new RandomTensors(5504L);
        for (boolean backwards : new boolean[] {false, true}) {
            for (boolean sequences : new boolean[] {true, false}) {
                StackedRnn stack = StackedRnn.builder(Lstm.builder(3).maskedOutputIsState(true).build(),
                                Gru.builder(3).maskedOutputIsState(true).build())
                        .returnSequences(sequences).goBackwards(backwards).maskedOutputIsFirstCellState(true).build();
                stack.build(2);
                List<Tensor> w = new ArrayList<>();
                for (Tensor t : stack.getWeights()) {
                    w.add(r.uniform(0.6, t.shape()));
                }
                stack.setWeights(w);
                Lstm first = Lstm.builder(3).returnSequences(true).goBackwards(backwards).maskedOutputIsState(true).build();
                first.setWeights(w.subList(0, 3));
                StackedRnn usual = StackedRnn.builder(plain(stack.cells().get(0)), plain(stack.cells().get(1)))
                        .returnSequences(sequences).goBackwards(backwards).build();
                usual.setWeights(w);
                Tensor x = r.uniform(1, 3, 6, 2);
                List<Tensor> init = List.of(r.uniform(0.5, 3, 3), r.uniform(0.5, 3, 3), r.uniform(0.5, 3, 3));
                Mask mask = Mask.of(new boolean[][] {{false, true, true, false, true, false}, {true, true, true, true, true, true},
                    {false, false, false, false, false, false}});
                List<Mask> m = java.util.Collections.singletonList(mask);
                List<Tensor> in = List.of(x, init.get(0), init.get(1), init.get(2));
                float[] want = usual.call(in, m).get(0).data().clone();
                float[] cell0 = first.call(x, init.subList(0, 2), mask).output().data();
                for (int b = 0; b < 3; b++) {
                    for (int p = 0; p < 6; p++) {
                        boolean masked = !mask.get(b, backwards ? 5 - p : p);
                        if (masked && (sequences || p == 5)) {
                            System.arraycopy(cell0, (b * 6 + p) * 3, want, sequences ? (b * 6 + p) * 3 : b * 3, 3);
                        }
                    }
                }
                Compare.assertIdentical("first cell's state at masked steps, backwards=" + backwards + ", sequences="
                        + sequences, Tensor.wrap(want, sequences ? new int[] {3, 6, 3} : new int[] {3, 3}),
                        stack.call(in, m).get(0));
            }
        }
        StackedRnn unequal = StackedRnn.builder(Lstm.builder(3).build(), Gru.builder(2).build())
                .maskedOutputIsFirstCellState(true).build();
        unequal.build(2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> unequal.call(
                List.of(r.uniform(1, 1, 3, 2)), java.util.Collections.singletonList(Mask.of(new boolean[][] {{true, false, true}}))));
        assertTrue(e.getMessage().contains("same units") && e.getMessage().contains("3 and 2"), e.getMessage());
    }

    /** A cell as the stack took it: the same cell options, default loop options, the same weights. */
    private static RecurrentLayer plain(RecurrentLayer cell) {
        RecurrentLayer p = cell.recreate(cell.name().substring(cell.name().indexOf('/') + 1),
                new RecurrentLayer.LoopOptions(false, false, false, false, false));
        p.setWeights(cell.getWeights());
        return p;
    }

    /**
     * Bidirectional(RNN(StackedRNNCells)) against the fixtures: the backward stack with its own
     * weights and go_backwards, its sequence reversed back, merged (concat, sum, ave, none), states
     * forward then backward, masked steps zeros with return_sequences (Keras 2.4+ and 3); and with
     * an explicit backward_layer of other cells and units (cases with backward_cells), also one
     * whose forward layer reads the steps in reverse.
     */
    @Test
    void bidirectionalStacks() {
        int n = 0;
        int explicit = 0;
        for (JsonNode c : CASES) {
            if (!c.path("bidirectional").asBoolean(false)) {
                continue;
            }
            for (RecurrentBackend backend : new RecurrentBackend[] {RecurrentReference.INSTANCE, RecurrentCpu.INSTANCE,
                    new StackingReference()}) {
                StackedRnn stack = fromCase(c, backend, c.get("cells").size());
                JsonNode mode = c.get("merge_mode");
                Bidirectional.MergeMode m = Bidirectional.MergeMode.named(mode.isNull() ? null : mode.asText());
                BidirectionalStack bi = c.has("backward_cells")
                        ? BidirectionalStack.of("bi", stack, m, fromCase(backwardCase(c), backend, 0), true)
                        : BidirectionalStack.of("bi", stack, m, true);
                List<Tensor> w = new ArrayList<>();
                for (JsonNode cw : c.get("weights")) {
                    w.add(Fixtures.tensor(cw.get("kernel")));
                    w.add(Fixtures.tensor(cw.get("recurrent_kernel")));
                    if (cw.has("bias")) {
                        w.add(Fixtures.tensor(cw.get("bias")));
                    }
                }
                bi.setWeights(w);
                List<Tensor> inputs = new ArrayList<>();
                inputs.add(Fixtures.tensor(c.get("input")));
                List<Tensor> init = Fixtures.tensors(c.get("initial_state"));
                if (init != null) {
                    inputs.addAll(init);
                }
                List<Tensor> out = bi.call(inputs, java.util.Collections.singletonList(Fixtures.mask(c.get("mask"))));
                JsonNode expected = c.get("expected");
                assertEquals(expected.size(), out.size(), c.get("name").asText());
                for (int k = 0; k < out.size(); k++) {
                    Compare.assertClose(c.get("name").asText() + " output " + k + " on " + backend.name(),
                            Fixtures.shape(expected.get(k)), Fixtures.doubles(expected.get(k)), out.get(k), Tolerance.FP32);
                }
                List<int[]> shapes = bi.outputShapes(List.of(new int[] {-1, inputs.get(0).dim(2)}));
                assertEquals(out.size(), shapes.size(), "outputShapes gives as many outputs as call");
                for (int k = 0; k < out.size(); k++) {
                    assertEquals(out.get(k).dim(out.get(k).rank() - 1), shapes.get(k)[shapes.get(k).length - 1],
                            c.get("name").asText() + " output " + k + ": outputShapes' last axis");
                }
            }
            n++;
            explicit += c.has("backward_cells") ? 1 : 0;
        }
        assertEquals(7, n, "bidirectional fixture cases");
        assertEquals(4, explicit, "fixture cases with a backward_layer");
    }

    /**
     * Keras hands the forward layer the first half of initial_state: with a backward stack of fewer
     * states (LSTM's h, c against GRU's h) no split fits, and the call is refused before either runs.
     */
    @Test
    void initialStatesAreRefusedWhereTheStacksHaveDifferentNumbersOfStates() {
        RandomTensors r = new RandomTensors(5504L);
        StackedRnn forward = StackedRnn.builder(Lstm.builder(3).build()).name("f").returnSequences(true).build();
        StackedRnn backward = StackedRnn.builder(Gru.builder(3).build()).name("b").returnSequences(true)
                .goBackwards(true).build();
        BidirectionalStack bi = BidirectionalStack.of("bi", forward, Bidirectional.MergeMode.SUM, backward, true);
        bi.build(2);
        Tensor x = r.uniform(1, 2, 4, 2);
        List<Tensor> in = List.of(x, r.uniform(1, 2, 3), r.uniform(1, 2, 3), r.uniform(1, 2, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bi.call(in, java.util.Collections.singletonList(null)));
        assertTrue(e.getMessage().contains("'bi'") && e.getMessage().contains("splits the list in half")
                && e.getMessage().contains("forward stack has 2 states and the backward stack 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> bi.outputShapes(List.of(new int[] {-1, 4, 2},
                new int[] {-1, 3}, new int[] {-1, 3}, new int[] {-1, 3})));
        assertEquals(1, bi.call(List.of(x), java.util.Collections.singletonList(null)).size(), "without states it runs");
    }

    /** A backward_layer case's backward stack as a case of its own: its cells, go_backwards the opposite. */
    private static JsonNode backwardCase(JsonNode c) {
        com.fasterxml.jackson.databind.node.ObjectNode b = c.deepCopy();
        b.set("cells", c.get("backward_cells"));
        ((com.fasterxml.jackson.databind.node.ObjectNode) b.get("options")).put("go_backwards",
                !c.get("options").get("go_backwards").asBoolean());
        return b;
    }

    /** As Keras' from_config: the forward stack keeps the wrapped stack's weights, the backward one gets its own. */
    @Test
    void aBidirectionalStackCopiesTheWeightsToTheForwardStackOnly() {
        StackedRnn stack = fromCase(byName("lstm2_sequences_state"), RecurrentReference.INSTANCE);
        BidirectionalStack bi = BidirectionalStack.of("bi", stack, Bidirectional.MergeMode.CONCAT, true);
        List<Tensor> want = stack.getWeights();
        List<Tensor> got = bi.forwardLayer().getWeights();
        for (int k = 0; k < want.size(); k++) {
            Compare.assertIdentical("forward weight " + k, want.get(k), got.get(k));
        }
        assertTrue(!bi.backwardLayer().cells().get(0).isBuilt(), "the backward stack has no weights until built");
        assertTrue(bi.backwardLayer().goBackwards() && !bi.forwardLayer().goBackwards());
    }

    /**
     * Each stack's [2048, 1000, 1000] sequence fits a Java array, the concatenated [2048, 1000, 2000]
     * does not: refused before either stack runs or is built.
     */
    @Test
    void aMergedSequencePastAJavaArrayIsRefusedBeforeEitherStackRuns() {
        StackedRnn stack = StackedRnn.builder(SimpleRnn.builder(1000).build()).name("s").returnSequences(true).build();
        BidirectionalStack bi = BidirectionalStack.of("bi", stack, Bidirectional.MergeMode.CONCAT, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bi.call(List.of(Tensor.zeros(2048, 1000, 1)), java.util.Collections.singletonList(null)));
        assertTrue(e.getMessage().contains("'bi'") && e.getMessage().contains("[2048, 1000, 2000]")
                && e.getMessage().contains("smaller batches"), e.getMessage());
        assertTrue(!bi.forwardLayer().cells().get(0).isBuilt() && !bi.backwardLayer().cells().get(0).isBuilt());
    }

    @Test
    void aStackOnABackendThatKeepsStacksIsOneStackCallUnlessTheLaterCellsReadAReversedMask() {
        JsonNode plain = byName("lstm2_sequences_state");
        StackingReference rec = new StackingReference();
        StackedRnn returnsStates = fromCase(plain, rec);
        returnsStates.call(List.of(Fixtures.tensor(plain.get("input"))), java.util.Collections.singletonList(null));
        assertEquals(List.of("forward LSTM", "forward LSTM"), rec.log, "returned states: cell by cell");

        JsonNode last = byName("lstm3");
        rec.log.clear();
        StackedRnn stack = fromCase(last, rec);
        List<Tensor> out = stack.call(List.of(Fixtures.tensor(last.get("input"))), java.util.Collections.singletonList(null));
        assertEquals(List.of("stack LSTM LSTM LSTM"), rec.log);
        Compare.assertClose("lstm3 as one stack call", Fixtures.shape(last.get("expected").get(0)),
                Fixtures.doubles(last.get("expected").get(0)), out.get(0), Tolerance.FP32);

        // go_backwards with a mask: the second cell reads the mask reversed, which a stack call cannot say
        RandomTensors r = new RandomTensors(5501L);
        StackedRnn backwards = StackedRnn.builder(Lstm.builder(3).backend(rec).build(), Gru.builder(2).backend(rec).build())
                .name("b").returnSequences(true).goBackwards(true).build();
        backwards.build(4);
        Tensor x = r.uniform(1, 2, 5, 4);
        rec.log.clear();
        backwards.call(List.of(x), java.util.Collections.singletonList(r.mask(2, 5, 0.6)));
        assertEquals(List.of("forward LSTM", "forward GRU"), rec.log);
        rec.log.clear();
        backwards.call(List.of(x), java.util.Collections.singletonList(null));
        assertEquals(List.of("stack LSTM GRU"), rec.log, "without a mask go_backwards stacks");
    }

    @Test
    void inAModelItKeepsTheMaskAndStatefulStacksCarryEveryCellsState() {
        RandomTensors r = new RandomTensors(5502L);
        StackedRnn stack = StackedRnn.builder(Lstm.builder(4).build(), SimpleRnn.builder(3).build()).name("rnn")
                .returnSequences(true).build();
        Model m = Model.sequential("m").input(-1, 2).add(Masking.of(0.0)).add(stack)
                .add(TimeDistributed.of(Dense.builder(2).build())).build();
        assertEquals("[batch, ?, 2]", Layer.shapeText(m.outputShapes().get(0)));
        assertEquals(4 * (2 + 4 + 1) * 4 + (4 + 3 + 1) * 3, stack.parameterCount());
        Tensor x = r.uniform(1, 2, 5, 2);
        Tensor y = m.predict(x);
        assertEquals(List.of(2, 5, 2), List.of(y.dim(0), y.dim(1), y.dim(2)));

        // stateful: two calls on halves give what one call over the whole sequence gives
        StackedRnn whole = StackedRnn.builder(Gru.builder(3).build(), Lstm.builder(2).build()).returnSequences(true)
                .build();
        whole.build(2);
        List<Tensor> w = new ArrayList<>();
        for (Tensor t : whole.getWeights()) {
            w.add(r.uniform(0.6, t.shape()));
        }
        whole.setWeights(w);
        StackedRnn stateful = StackedRnn.builder(Gru.builder(3).build(), Lstm.builder(2).build()).returnSequences(true)
                .stateful(true).build();
        stateful.setWeights(w);
        Tensor seq = r.uniform(1, 2, 6, 2);
        Tensor expected = whole.call(List.of(seq), java.util.Collections.singletonList(null)).get(0);
        Tensor first = stateful.call(List.of(dev.rnnrt.testing.Sequences.slice(seq, 0, 4)),
                java.util.Collections.singletonList(null)).get(0);
        Tensor second = stateful.call(List.of(dev.rnnrt.testing.Sequences.slice(seq, 4, 6)),
                java.util.Collections.singletonList(null)).get(0);
        Compare.assertClose("stateful first", dev.rnnrt.testing.Sequences.slice(expected, 0, 4), first, Tolerance.FP32);
        Compare.assertClose("stateful second", dev.rnnrt.testing.Sequences.slice(expected, 4, 6), second, Tolerance.FP32);
        stateful.resetState();
        Compare.assertIdentical("after reset", first, stateful.call(List.of(dev.rnnrt.testing.Sequences.slice(seq, 0, 4)),
                java.util.Collections.singletonList(null)).get(0));
    }

    @Test
    void timeDistributedRunsTheStackOverEachStepsOwnSequence() {
        RandomTensors r = new RandomTensors(5503L);
        StackedRnn stack = fromCase(byName("mixed_sequences_state"), RecurrentReference.INSTANCE);
        TimeDistributed td = TimeDistributed.of("td", stack);
        Tensor x = r.uniform(1, 2, 3, 6, 4);                // [batch, steps, time, features]
        List<Tensor> out = td.call(List.of(x), java.util.Collections.singletonList(null));
        assertEquals(5, out.size(), "the sequence and the four states (LSTM h, c; GRU h; SimpleRNN h), each per step");
        for (int b = 0; b < 2; b++) {
            for (int s = 0; s < 3; s++) {
                Tensor one = Tensor.of(java.util.Arrays.copyOfRange(x.data(), (b * 3 + s) * 24, (b * 3 + s + 1) * 24),
                        1, 6, 4);
                List<Tensor> want = stack.call(List.of(one), java.util.Collections.singletonList(null));
                for (int k = 0; k < want.size(); k++) {
                    Tensor got = out.get(k);
                    int per = want.get(k).size();
                    Compare.assertIdentical("step " + s + " of sequence " + b + ", output " + k, want.get(k).reshape(
                            want.get(k).shape()), Tensor.of(java.util.Arrays.copyOfRange(got.data(), (b * 3 + s) * per,
                            (b * 3 + s + 1) * per), want.get(k).shape()));
                }
            }
        }
        assertTrue(!td.supportsMasking(), "a [batch, steps] mask means nothing to the stack over each step's sequence");
    }

    @Test
    void badArgumentsNameTheStackTheCellAndTheShapes() {
        IllegalArgumentException loopOption = assertThrows(IllegalArgumentException.class, () -> StackedRnn.builder(
                Lstm.builder(3).returnSequences(true).build()).name("s").build());
        assertTrue(loopOption.getMessage().contains("'s'") && loopOption.getMessage().contains("return_sequences=True")
                && loopOption.getMessage().contains("Set them on the stack"), loopOption.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> StackedRnn.builder().build()).getMessage()
                .contains("at least one cell"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> StackedRnn.builder(Lstm.builder(3).build(), null)
                .build()).getMessage().contains("cell 1 is null"));

        StackedRnn s = StackedRnn.builder(Lstm.builder(3).build(), Gru.builder(2).build()).name("s").returnState(true)
                .build();
        s.build(4);
        IllegalArgumentException states = assertThrows(IllegalArgumentException.class,
                () -> s.outputShapes(List.of(new int[] {5, 4}, new int[] {3}, new int[] {3})));
        assertTrue(states.getMessage().contains("initial_state must be 3 tensors")
                && states.getMessage().contains("[h, c] of 3, [h] of 2"), states.getMessage());
        IllegalArgumentException features = assertThrows(IllegalArgumentException.class,
                () -> s.call(List.of(Tensor.zeros(2, 5, 6)), java.util.Collections.singletonList(null)));
        assertTrue(features.getMessage().contains("s/") && features.getMessage().contains("[batch, timesteps, 4]")
                && features.getMessage().contains("[2, 5, 6]"), features.getMessage());
        List<Tensor> w = new ArrayList<>(s.getWeights());
        w.set(3, Tensor.zeros(5, 6));                       // the GRU kernel must read the LSTM's 3 outputs
        IllegalArgumentException kernel = assertThrows(IllegalArgumentException.class, () -> s.setWeights(w));
        assertTrue(kernel.getMessage().contains("[3, 6]") && kernel.getMessage().contains("[5, 6]"), kernel.getMessage());
        List<int[]> shapes = s.outputShapes(List.of(new int[] {5, 4}));
        assertEquals("[[2], [3], [3], [2]]", shapes.stream().map(java.util.Arrays::toString).toList().toString(),
                "the last cell's output, then [h, c] of the LSTM and h of the GRU");
        assertEquals(3, s.stateCount());
    }

    private static JsonNode byName(String name) {
        for (JsonNode c : CASES) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new IllegalStateException("no fixture case " + name);
    }

    /** The case's stack on {@code backend}, with its weights. */
    static StackedRnn fromCase(JsonNode c, RecurrentBackend backend) {
        StackedRnn s = fromCase(c, backend, -1);
        List<Tensor> weights = new ArrayList<>();
        for (JsonNode w : c.get("weights")) {
            weights.add(Fixtures.tensor(w.get("kernel")));
            weights.add(Fixtures.tensor(w.get("recurrent_kernel")));
            if (w.has("bias")) {
                weights.add(Fixtures.tensor(w.get("bias")));
            }
        }
        s.setWeights(weights);
        return s;
    }

    /** The case's stack on {@code backend}, without weights ({@code unused}: a marker for the overload). */
    static StackedRnn fromCase(JsonNode c, RecurrentBackend backend, int unused) {
        List<RecurrentLayer> cells = new ArrayList<>();
        for (int k = 0; k < c.get("cells").size(); k++) {
            JsonNode cfg = c.get("cells").get(k);
            KerasVersion version = KerasVersion.parse(cfg.get("keras_version").asText());
            int units = cfg.get("units").asInt();
            RecurrentLayerBuilder<?> b = switch (cfg.get("layer").asText()) {
                case "LSTM" -> Lstm.builder(units).kerasVersion(version)
                        .recurrentActivation(Activation.named(cfg.get("recurrent_activation").asText(), version));
                case "GRU" -> Gru.builder(units).kerasVersion(version).resetAfter(cfg.get("reset_after").asBoolean())
                        .recurrentActivation(Activation.named(cfg.get("recurrent_activation").asText(), version));
                default -> SimpleRnn.builder(units);
            };
            b.activation(Activation.named(cfg.get("activation").asText(), version)).useBias(cfg.get("use_bias").asBoolean())
                    .backend(backend).name("cell" + k);
            cells.add(b.build());
        }
        JsonNode o = c.get("options");
        return StackedRnn.builder(cells).name(c.get("name").asText())
                .returnSequences(o.get("return_sequences").asBoolean()).returnState(o.get("return_state").asBoolean())
                .goBackwards(o.get("go_backwards").asBoolean())
                .zeroOutputForMask(o.get("zero_output_for_mask").asBoolean()).build();
    }
}
