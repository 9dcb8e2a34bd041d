package dev.rnnrt.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.StackCall;
import dev.rnnrt.backend.StackStage;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Flatten;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.StackModels;
import dev.rnnrt.testing.StackingReference;
import dev.rnnrt.testing.StackModels.Recipe;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A model hands runs of stacked layers to a backend that keeps stacks ({@link Stacks}) as one
 * {@link StackCall}: which runs it finds, that the result is the layer-by-layer one, and where runs
 * must break.
 */
class StacksTest {

    @Test
    void eachRunIsOneStackCallWithTheLayerByLayerResult() {
        RandomTensors r = new RandomTensors(7101L);
        List<String> expectedLogs = List.of(
                "stack LSTM GRU Dense(relu) Dense(linear)", // softmax: affine part on the backend, then the host
                "stack SimpleRNN LSTM Dense(tanh) Dense(linear)",
                "stack GRU Dense(linear) LSTM Dense(sigmoid)",
                "stack Bidirectional(LSTM,concat) Bidirectional(GRU,sum) Dense(swish) Bidirectional(SimpleRNN,mul)",
                "stack LSTM Bidirectional(GRU,ave) Dense(linear)",
                "stack LSTM Bidirectional(GRU,concat) Dense(linear)",
                "stack LSTM LSTM Bidirectional(LSTM,concat) Dense(linear)",
                "stack LSTM LSTM LSTM LSTM LSTM LSTM");
        List<Recipe> recipes = StackModels.recipes(8);
        for (int k = 0; k < recipes.size(); k++) {
            Recipe recipe = recipes.get(k);
            for (boolean masked : new boolean[] {false, true}) {
                StackingReference rec = new StackingReference();
                Model stacked = recipe.build(rec, masked);
                Model layered = recipe.build(RecurrentReference.INSTANCE, masked);
                assertEquals(recipe.runs(), stacked.stackedRuns(), recipe.name());
                assertEquals(List.of(), layered.stackedRuns(), "the reference runs layer by layer");
                assertTrue(stacked.summary().endsWith("Run as one stack each, values kept on the device: "
                        + String.join(", ", recipe.runs()) + "\n"), stacked.summary());
                assertTrue(!layered.summary().contains("one stack"), layered.summary());
                Tensor x = StackModels.input(r, 3, 9, masked);
                StackModels.sameRandomWeights(r, x, stacked, layered);
                rec.log.clear();
                Tensor expected = layered.predict(x);
                Tensor actual = stacked.predict(x);
                assertEquals(List.of(expectedLogs.get(k)), rec.log, recipe.name());
                Compare.assertIdentical(recipe.name() + (masked ? " masked" : ""), expected, actual);
            }
        }
    }

    @Test
    void runsBreakWhereAValueIsReadElsewhereOrALayerCannotJoin() {
        RandomTensors r = new RandomTensors(7102L);
        StackingReference rec = new StackingReference();
        StackingReference other = new StackingReference();
        List<Model> pair = new ArrayList<>();
        for (RecurrentBackend be : new RecurrentBackend[] {rec, RecurrentReference.INSTANCE}) {
            RecurrentBackend be2 = be == rec ? other : be;
            pair.add(Model.functional("breaks").input("x", 5, 4)
                    // a is read by b and is a model output: it runs alone; b..c is a run
                    .add(Lstm.builder(5).name("a").returnSequences(true).backend(be).build(), "x")
                    .add(Gru.builder(5).name("b").returnSequences(true).backend(be).build(), "a")
                    .add(Dense.builder(3).name("c").build(), "b")
                    // d returns its states; e has a backend of its own, so f does not join it
                    .add(Lstm.builder(4).name("d").returnSequences(true).returnState(true).backend(be).build(), "c")
                    .add(Lstm.builder(4).name("e").returnSequences(true).backend(be2).build(), "d")
                    .add(Lstm.builder(4).name("f").returnSequences(true).backend(be).build(), "e")
                    // f, Bidirectional and g are a run; Flatten is not a stage
                    .add(Bidirectional.of("bi", Lstm.builder(3).returnSequences(true).backend(be).build(),
                            Bidirectional.MergeMode.CONCAT, null), "f")
                    .add(Lstm.builder(3).name("g").returnSequences(true).backend(be).build(), "bi")
                    .add(Flatten.named("flat"), "g")
                    .outputs("a", "flat", "d[1]")
                    .build());
        }
        assertEquals(List.of("b..c", "f..g"), pair.get(0).stackedRuns());
        Tensor x = r.uniform(1, 2, 5, 4);
        StackModels.sameRandomWeights(r, x, pair.get(0), pair.get(1));
        rec.log.clear();
        other.log.clear();
        List<Tensor> expected = pair.get(1).predict(List.of(x));
        List<Tensor> actual = pair.get(0).predict(List.of(x));
        assertEquals(List.of("forward LSTM", "stack GRU Dense(linear)", "forward LSTM",
                "stack LSTM Bidirectional(LSTM,concat) LSTM"), rec.log);
        assertEquals(List.of("forward LSTM"), other.log);
        for (int k = 0; k < expected.size(); k++) {
            Compare.assertIdentical("output " + k, expected.get(k), actual.get(k));
        }
    }

    @Test
    void softmaxEndsARunAndAStatefulLayerRunsAloneCarryingItsStates() {
        RandomTensors r = new RandomTensors(7103L);
        StackingReference rec = new StackingReference();
        List<Model> pair = new ArrayList<>();
        for (RecurrentBackend be : new RecurrentBackend[] {rec, RecurrentReference.INSTANCE}) {
            pair.add(Model.sequential("softmax_stateful").input(-1, 3)
                    .add(Lstm.builder(4).name("l1").returnSequences(true).backend(be).build())
                    .add(Dense.builder(4).name("soft").activation("softmax").build())
                    .add(Gru.builder(4).name("l2").returnSequences(true).stateful(true).backend(be).build())
                    .add(Lstm.builder(5).name("l3").returnSequences(true).backend(be).build())
                    .add(Dense.builder(2).name("d4").activation("log_softmax").build())
                    .build());
        }
        assertEquals(List.of("l1..soft", "l3..d4"), pair.get(0).stackedRuns());
        Tensor x = r.uniform(1, 2, 6, 3);
        StackModels.sameRandomWeights(r, x, pair.get(0), pair.get(1));
        pair.get(0).resetStates();
        pair.get(1).resetStates();
        for (int call = 0; call < 3; call++) {
            rec.log.clear();
            Tensor expected = pair.get(1).predict(x);
            Tensor actual = pair.get(0).predict(x);
            assertEquals(List.of("stack LSTM Dense(linear)", "forward GRU", "stack LSTM Dense(linear)"), rec.log);
            Compare.assertIdentical("call " + call, expected, actual);
        }
    }

    @Test
    void aBidirectionalLayerIsAStageOnlyWithAMergeAndNothingButTheOutputWanted() {
        RecurrentBackend be = new StackingReference();
        assertTrue(Bidirectional.of(Lstm.builder(3).backend(be).build()).stackStage(2) != null);
        assertNull(Bidirectional.of("none", Lstm.builder(3).backend(be).build(), Bidirectional.MergeMode.NONE, null)
                .stackStage(2));
        assertNull(Bidirectional.of(Lstm.builder(3).returnState(true).backend(be).build()).stackStage(2));
        assertNull(Bidirectional.of(Lstm.builder(3).stateful(true).backend(be).build()).stackStage(2));
        assertNull(Bidirectional.of("mixed", Lstm.builder(3).backend(be).build(), Bidirectional.MergeMode.SUM,
                Lstm.builder(3).goBackwards(true).backend(RecurrentReference.INSTANCE).build()).stackStage(2));
        RecurrentLayer built = Lstm.builder(3).backend(be).build();
        Bidirectional other = Bidirectional.of(built);
        other.build(5);
        assertNull(other.stackStage(2), "built for 5 features");
    }

    @Test
    void aRunWhoseInputDoesNotFitFallsBackToTheLayersAndTheirMessages() {
        StackingReference rec = new StackingReference();
        Model m = StackModels.recipes(4).get(2).build(rec);
        Stacks.Run run = new Stacks.Run(1, m.nodes().size() - 1, rec);
        RandomTensors r = new RandomTensors(7104L);
        assertNull(Stacks.call(run, m.nodes(), r.uniform(1, 2, 6), null), "rank 2");
        assertNull(Stacks.call(run, m.nodes(), r.uniform(1, 2, 3, StackModels.FEATURES), r.mask(2, 4, 0.5)), "mask");
        m.predict(r.uniform(1, 2, 3, StackModels.FEATURES)); // builds the layers for 6 features
        assertNull(Stacks.call(run, m.nodes(), r.uniform(1, 2, 3, 5), null), "5 features");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.predict(r.uniform(1, 2, 3, 5)));
        assertTrue(e.getMessage().contains("must have shape [batch, ?, 6]"), e.getMessage());
    }

    @Test
    void aStackCallNamesTheStageThatDoesNotFit() {
        RandomTensors r = new RandomTensors(7105L);
        RecurrentLayer l = Lstm.builder(4).build();
        l.build(3);
        RecurrentLayer last = Lstm.builder(4).build();
        last.build(4);
        StackStage lstm = l.stackStage(3);
        StackStage.Recurrent lastOnly = last.stackStage(4);
        StackStage dense = new StackStage.Dense(r.uniform(1, 4, 2), r.uniform(1, 2), Activation.RELU);
        Tensor x = r.uniform(1, 2, 5, 3);
        assertEquals("A stack starts with a recurrent or Bidirectional stage; got Dense.",
                assertThrows(IllegalArgumentException.class, () -> new StackCall(List.of(dense), x, null)).getMessage());
        assertEquals("Stage 2 of the stack (Recurrent) takes 4 features; the stage before gives 2.",
                assertThrows(IllegalArgumentException.class,
                        () -> new StackCall(List.of(lstm, dense, lastOnly), x, null)).getMessage());
        assertEquals("Stage 0 of the stack (Recurrent) takes 3 features; the input gives 4.",
                assertThrows(IllegalArgumentException.class,
                        () -> new StackCall(List.of(lstm), r.uniform(1, 2, 5, 4), null)).getMessage());
        assertEquals("The stack's mask must have shape [batch, timesteps] = [2, 5]; got [5, 2].",
                assertThrows(IllegalArgumentException.class,
                        () -> new StackCall(List.of(lstm), x, r.mask(5, 2, 0.5))).getMessage());
        assertArrayEquals(new int[] {2, 2}, new StackCall(List.of(lstm, dense), x, null).outputShape());
        RecurrentLayer seq = Lstm.builder(4).returnSequences(true).build();
        seq.build(3);
        assertArrayEquals(new int[] {2, 5, 2}, new StackCall(List.of(seq.stackStage(3), dense), x, null).outputShape());
        assertEquals("A Dense stage needs kernel [I, units] and bias [units] or none; got kernel [4, 2] and bias [3].",
                assertThrows(IllegalArgumentException.class,
                        () -> new StackStage.Dense(r.uniform(1, 4, 2), r.uniform(1, 3), Activation.RELU)).getMessage());
        assertEquals("Stage 1 of the stack is recurrent, but an earlier recurrent stage returns only its last step; "
                + "it needs return_sequences.", assertThrows(IllegalArgumentException.class,
                        () -> new StackCall(List.of(lastOnly, lastOnly), r.uniform(1, 2, 5, 4), null)).getMessage());
    }
}
