package dev.rnnrt.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.BidirectionalStack;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Embedding;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Initializer;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Masking;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentOutput;
import dev.rnnrt.layers.StackedRnn;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Sequences;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Running models: the step API, batch prediction, threads, stateful models, summaries. */
class ModelTest {

    private static final long SEED = 424242L;

    static void randomize(RandomTensors r, RecurrentLayer layer, int inputSize) {
        layer.build(inputSize);
        List<Tensor> w = new ArrayList<>();
        for (Tensor t : layer.getWeights()) {
            w.add(r.uniform(0.5, t.shape()));
        }
        layer.setWeights(w);
    }

    static void randomize(RandomTensors r, Dense dense, int inputSize) {
        dense.build(inputSize);
        List<Tensor> w = new ArrayList<>();
        for (Tensor t : dense.getWeights()) {
            w.add(r.uniform(0.5, t.shape()));
        }
        dense.setWeights(w);
    }

    /**
     * The seed article's decoder loop, written with the step API: each step's output, through the
     * Dense head, is the next step's input, and the states carry over. Running the decoder once over
     * the whole sequence of inputs the loop fed it, from the same initial states, gives the same
     * outputs and final states.
     */
    @Test
    void decoderLoopWithTheStepApiEqualsTheWholeSequence() {
        RandomTensors r = new RandomTensors(SEED);
        int latentDim = 6;
        int features = 4;
        int batch = 3;
        int maxDecoderSeqLength = 7;
        Lstm encoder = Lstm.builder(latentDim).returnState(true).build();
        randomize(r, encoder, features);
        Lstm decoderLstm = Lstm.builder(latentDim).returnSequences(true).returnState(true).build();
        randomize(r, decoderLstm, features);
        Dense decoderDense = Dense.builder(features).activation("softmax").build();
        randomize(r, decoderDense, latentDim);

        List<Tensor> encoderStates = encoder.call(r.uniform(1, batch, 5, features)).states();

        // for _ in range(max_decoder_seq_length): outputs, h, c = decoder_lstm(inputs, initial_state=states) ...
        Tensor inputs = r.uniform(1, batch, features);
        List<Tensor> states = encoderStates;
        List<Tensor> fed = new ArrayList<>();
        List<Tensor> allOutputs = new ArrayList<>();
        for (int step = 0; step < maxDecoderSeqLength; step++) {
            fed.add(inputs);
            RecurrentOutput out = decoderLstm.step(inputs, states);
            Tensor outputs = decoderDense.apply(out.output());
            allOutputs.add(outputs);
            inputs = outputs;
            states = out.states();
        }

        RecurrentOutput whole = decoderLstm.call(Sequences.stack(fed), encoderStates, null);
        Tensor wholeOutputs = decoderDense.apply(whole.output());
        Compare.assertClose("decoder outputs, seed " + SEED, wholeOutputs, Sequences.stack(allOutputs), Tolerance.FP32);
        Compare.assertClose("decoder h", whole.h(), states.get(0), Tolerance.FP32);
        Compare.assertClose("decoder c", whole.c(), states.get(1), Tolerance.FP32);
    }

    /** The same loop through an inference decoder model whose states are inputs and outputs (Keras' decoder_model). */
    @Test
    void decoderModelStepByStepEqualsTheTrainingModel() {
        RandomTensors r = new RandomTensors(SEED + 1);
        Model training = ModelFixtureTest.EncoderDecoder.model("training");
        for (String n : List.of("encoder", "decoder")) {
            randomize(r, (RecurrentLayer) training.layer(n), 4);
        }
        Dense head = (Dense) ((TimeDistributed) training.layer("head")).inner();
        randomize(r, head, 3);

        Model encoderModel = Model.functional("encoder_model").input("encoder_inputs", -1, 4)
                .add(training.layer("encoder"), "encoder_inputs").outputs("encoder[1]", "encoder[2]").build();
        Model decoderModel = Model.functional("decoder_model")
                .input("decoder_inputs", -1, 4).input("h", 3).input("c", 3)
                .add(training.layer("decoder"), "decoder_inputs", "h", "c")
                .add(training.layer("head"), "decoder")
                .outputs("head", "decoder[1]", "decoder[2]").build();

        Tensor enc = r.uniform(1, 2, 5, 4);
        Tensor dec = r.uniform(1, 2, 6, 4);
        List<Tensor> expected = training.predict(List.of(enc, dec));

        List<Tensor> states = encoderModel.predict(List.of(enc));
        List<Tensor> steps = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            List<Tensor> out = decoderModel.predict(List.of(Sequences.slice(dec, t, t + 1), states.get(0), states.get(1)));
            steps.add(out.get(0).reshape(2, 4));
            states = out.subList(1, 3);
        }
        Compare.assertClose("decoder model outputs", expected.get(0), Sequences.stack(steps), Tolerance.FP32);
        Compare.assertClose("decoder model h", expected.get(1), states.get(0), Tolerance.FP32);
        Compare.assertClose("decoder model c", expected.get(2), states.get(1), Tolerance.FP32);
    }

    @Test
    void concurrentPredictFromEightThreadsIsIdenticalToOneThread() throws Exception {
        RandomTensors r = new RandomTensors(SEED + 2);
        Model model = bidirectionalTagger(r);
        List<Tensor> inputs = new ArrayList<>();
        List<Tensor> expected = new ArrayList<>();
        for (int k = 0; k < 8; k++) {
            Tensor x = r.uniform(1, 5, 9, 4);
            inputs.add(x);
            expected.add(model.predict(x));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            for (int round = 0; round < 3; round++) {
                List<Future<Tensor>> futures = new ArrayList<>();
                for (int k = 0; k < 8; k++) {
                    Tensor x = inputs.get(k);
                    futures.add(pool.submit((Callable<Tensor>) () -> model.predict(List.of(x), 2).get(0)));
                }
                for (int k = 0; k < 8; k++) {
                    Compare.assertIdentical("thread " + k, expected.get(k), futures.get(k).get());
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void predictInChunksEqualsOneBatch() {
        RandomTensors r = new RandomTensors(SEED + 3);
        Model model = bidirectionalTagger(r);
        Tensor x = r.uniform(1, 11, 6, 4);
        Tensor whole = model.predict(x);
        for (int batchSize : new int[] {1, 3, 4, 11, 50}) {
            Compare.assertIdentical("batch size " + batchSize, whole, model.predict(List.of(x), batchSize).get(0));
        }
    }

    /** A bad id found in a later chunk is placed among all the sequences given, as one batch places it. */
    @Test
    void predictInChunksPlacesABadValueAmongAllTheSequences() {
        Model model = Model.sequential("ids").input(-1).add(Embedding.of("emb", 5, 2, false, Initializer.ones()))
                .add(Lstm.builder(3).build()).build();
        float[] ids = new float[10 * 4];
        java.util.Arrays.fill(ids, 1);
        ids[7 * 4 + 2] = 9;       // sequence 7, step 2: past the vocabulary of 5
        Tensor x = Tensor.of(ids, 10, 4);
        dev.rnnrt.layers.InputValueException whole = assertThrows(dev.rnnrt.layers.InputValueException.class,
                () -> model.predict(x));
        assertArrayEquals(new int[] {7, 2}, whole.position());
        for (int batchSize : new int[] {1, 3, 4, 7, 8}) {
            dev.rnnrt.layers.InputValueException e = assertThrows(dev.rnnrt.layers.InputValueException.class,
                    () -> model.predict(List.of(x), batchSize));
            assertArrayEquals(new int[] {7, 2}, e.position(), "batch size " + batchSize);
            assertEquals(whole.getMessage(), e.getMessage(), "batch size " + batchSize);
        }
    }

    /**
     * Chunks of 16384 sequences each fit a Java array, all 32768 joined do not: refused before any chunk
     * runs, naming the model, the output and its shape (the time axis, unknown when the model was
     * built, taken from the inputs).
     */
    @Test
    void predictInChunksRefusesAJoinedOutputPastAJavaArrayBeforeRunning() {
        Model model = Model.sequential("ids").input(-1)
                .add(Embedding.of("emb", 2, 65536, false, Initializer.zeros())).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.predict(List.of(Tensor.zeros(32768, 1)), 16384));
        assertTrue(e.getMessage().contains("'ids'") && e.getMessage().contains("'emb'")
                && e.getMessage().contains("[32768, 1, 65536]") && e.getMessage().contains("smaller batches"),
                e.getMessage());
        Tensor ids = Tensor.of(new float[] {1, 0, 1, 1}, 4, 1);
        Compare.assertIdentical("joined under the limit", model.predict(ids), model.predict(List.of(ids), 3).get(0));
    }

    @Test
    void statefulModelCarriesStatesAcrossCallsUntilReset() {
        RandomTensors r = new RandomTensors(SEED + 4);
        Gru plainGru = Gru.builder(5).returnSequences(true).build();
        randomize(r, plainGru, 3);
        Gru statefulGru = Gru.builder(5).returnSequences(true).stateful(true).build();
        statefulGru.setWeights(plainGru.getWeights());
        Model plain = Model.sequential("plain").input(-1, 3).add(plainGru).build();
        Model stateful = Model.sequential("stateful").input(-1, 3).add(statefulGru).build();
        assertTrue(stateful.isStateful());

        Tensor x = r.uniform(1, 2, 8, 3);
        Tensor expected = plain.predict(x);
        Tensor first = stateful.predict(Sequences.slice(x, 0, 5));
        Tensor second = stateful.predict(Sequences.slice(x, 5, 8));
        Compare.assertClose("first call", Sequences.slice(expected, 0, 5), first, Tolerance.FP32);
        Compare.assertClose("second call continues", Sequences.slice(expected, 5, 8), second, Tolerance.FP32);
        stateful.resetStates();
        Compare.assertIdentical("after reset", first, stateful.predict(Sequences.slice(x, 0, 5)));
    }

    @Test
    void aStatefulModelsBatchesAllHoldItsBatchSizeCheckedBeforeAnythingRuns() {
        RandomTensors r = new RandomTensors(SEED + 41);
        Lstm plainLstm = Lstm.builder(4).returnSequences(true).build();
        randomize(r, plainLstm, 3);
        Lstm statefulLstm = Lstm.builder(4).returnSequences(true).stateful(true).build();
        statefulLstm.setWeights(plainLstm.getWeights());
        Model fixed = Model.sequential("fixed").batchSize(2).input(-1, 3).add(statefulLstm).build();
        assertEquals(2, fixed.fixedBatchSize().getAsInt());
        assertTrue(fixed.summary().contains("each call takes 2 sequences"), fixed.summary());

        // four sequences in batches of two: rows 2-3 go on from rows 0-1's states, as in Keras
        Tensor x = r.uniform(1, 4, 5, 3);
        Tensor expected0 = plainLstm.call(Sequences.rows(x, 0, 2)).output();
        Lstm carried = Lstm.builder(4).returnSequences(true).stateful(true).build();
        carried.setWeights(plainLstm.getWeights());
        carried.call(Sequences.rows(x, 0, 2));
        Tensor expected1 = carried.call(Sequences.rows(x, 2, 4)).output();
        Tensor y = fixed.predict(List.of(x), 2).get(0);
        Compare.assertIdentical("batch 0", expected0, Sequences.rows(y, 0, 2));
        Compare.assertIdentical("batch 1 continues batch 0", expected1, Sequences.rows(y, 2, 4));

        // another batch size, or a count that is not a multiple of it, is refused before any state moves
        fixed.resetStates();
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class, () -> fixed.predict(List.of(x)));
        assertTrue(one.getMessage().contains("fixed batch size of 2") && one.getMessage().contains("got 4")
                && one.getMessage().contains("predict(inputs, 2)"), one.getMessage());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> fixed.predict(List.of(x), 4));
        assertTrue(other.getMessage().contains("got batch size 4"), other.getMessage());
        Tensor five = r.uniform(1, 5, 5, 3);
        IllegalArgumentException ragged = assertThrows(IllegalArgumentException.class,
                () -> fixed.predict(List.of(five), 2));
        assertTrue(ragged.getMessage().contains("5 sequences are not a multiple of 2"), ragged.getMessage());
        Compare.assertIdentical("states untouched by the refusals", expected0,
                fixed.predict(List.of(Sequences.rows(x, 0, 2))).get(0));

        // without a fixed batch size: the first batch's size holds, and chunks must all be whole
        Lstm free = Lstm.builder(4).returnSequences(true).stateful(true).build();
        free.setWeights(plainLstm.getWeights());
        Model any = Model.sequential("any").input(-1, 3).add(free).build();
        assertTrue(any.fixedBatchSize().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> any.predict(List.of(five), 2));
        Compare.assertIdentical("chunks of 2", y, any.predict(List.of(x), 2).get(0));
        // a model without stateful layers takes any batch size, whatever it is fixed to
        Model plain = Model.sequential("plain").batchSize(2).input(-1, 3).add(plainLstm).build();
        Compare.assertIdentical("plain", plainLstm.call(five).output(), plain.predict(List.of(five), 2).get(0));
        assertThrows(IllegalArgumentException.class, () -> Model.sequential("zero").batchSize(0));

        // one sequence with batch size 2: not a multiple, said so (not "use predict(inputs, 2)")
        IllegalArgumentException single = assertThrows(IllegalArgumentException.class,
                () -> fixed.predict(List.of(Sequences.rows(x, 0, 1)), 2));
        assertTrue(single.getMessage().contains("1 sequences are not a multiple of 2"), single.getMessage());
        // a stateful layer on a branch no output reads does not run, so the model is not stateful
        Lstm unused = Lstm.builder(4).name("unused").stateful(true).build();
        Model dead = Model.functional("dead").batchSize(2).input("x", -1, 3).add(plainLstm, "x").add(unused, "x")
                .outputs(plainLstm.name()).build();
        assertTrue(!dead.isStateful());
        Compare.assertIdentical("dead branch", plainLstm.call(five).output(), dead.predict(List.of(five), 2).get(0));
    }

    @Test
    void predictChecksItsInputs() {
        RandomTensors r = new RandomTensors(SEED + 5);
        Model model = ModelFixtureTest.EncoderDecoder.model("seq2seq");
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> model.predict(List.of(r.uniform(1, 2, 5, 4))));
        assertTrue(count.getMessage().contains("'seq2seq' takes 2 input(s)") && count.getMessage().contains("got 1"),
                count.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> model.predict(List.of(r.uniform(1, 2, 5, 4), r.uniform(1, 2, 5, 3))));
        assertTrue(shape.getMessage().contains("'decoder_inputs'") && shape.getMessage().contains("[batch, ?, 4]")
                && shape.getMessage().contains("[2, 5, 3]"), shape.getMessage());
        IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                () -> model.predict(List.of(r.uniform(1, 2, 5, 4), r.uniform(1, 3, 5, 4))));
        assertTrue(batch.getMessage().contains("same batch size"), batch.getMessage());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> model.predict(List.of(r.uniform(1, 2, 5, 4), r.uniform(1, 2, 5, 4)), 0));
        assertTrue(size.getMessage().contains("batch size"), size.getMessage());
    }

    @Test
    void summaryShowsLayersShapesParametersAndOptions() {
        RandomTensors r = new RandomTensors(SEED + 6);
        Model model = bidirectionalTagger(r);
        String s = model.summary();
        assertTrue(s.contains("Model: \"tagger\""), s);
        assertTrue(s.contains("bidirectional (Bidirectional)") || s.contains("(Bidirectional)"), s);
        assertTrue(s.contains("[batch, ?, 12]"), s); // concat of 2 x 6 units
        assertTrue(s.contains("merge_mode=concat"), s);
        assertTrue(s.contains("return_sequences=True"), s);
        // Bidirectional LSTM(6) on 4 features: 2 x (4*24 + 6*24 + 24) = 528; Dense 12 -> 3: 39
        assertTrue(s.contains("528"), s);
        assertEquals(528 + 39, model.parameterCount());
        assertTrue(s.contains("Total params: 567"), s);
    }

    /**
     * build() makes every layer's weights, through wrappers at any depth, so parameterCount() and the
     * summary count them before the first predict, and predict keeps them.
     */
    @Test
    void buildMakesTheWeightsOfWrappedLayersAtAnyDepth() {
        // LSTM(4) on 3 features, then LSTM(4) on 4: 3*16 + 4*16 + 16 + 2 * (4*16) + 16 = 272 per stack, two stacks
        BidirectionalStack stacks = BidirectionalStack.of("bistk", StackedRnn.builder(Lstm.builder(4).build(),
                Lstm.builder(4).build()).name("stk").build(), Bidirectional.MergeMode.CONCAT, true);
        Model hierarchical = Model.sequential("hier").input(-1, -1, 3).add(TimeDistributed.of("td", stacks)).build();
        // Dense 3 -> 4: 16
        Model twice = Model.sequential("twice").input(-1, -1, 3)
                .add(TimeDistributed.of("outer", TimeDistributed.of(Dense.builder(4).build()))).build();
        // Bidirectional LSTM(2) on 3 features: 2 * (3*8 + 2*8 + 8) = 96, in a TimeDistributed in a TimeDistributed
        Model deep = Model.sequential("deep").input(-1, -1, -1, 3).add(TimeDistributed.of("td1",
                TimeDistributed.of(Bidirectional.of(Lstm.builder(2).build())))).build();
        RandomTensors r = new RandomTensors(SEED + 61);
        for (Object[] c : new Object[][] {{hierarchical, 544L, r.uniform(1, 2, 3, 5, 3)},
                {twice, 16L, r.uniform(1, 2, 3, 5, 3)}, {deep, 96L, r.uniform(1, 1, 2, 3, 4, 3)}}) {
            Model m = (Model) c[0];
            assertEquals(c[1], m.parameterCount(), m.name());
            assertTrue(m.summary().contains("Total params: " + c[1]), m.summary());
            m.predict((Tensor) c[2]);
            assertEquals(c[1], m.parameterCount(), m.name() + " after predict");
        }
    }

    private static Model bidirectionalTagger(RandomTensors r) {
        Bidirectional bi = Bidirectional.of(Lstm.builder(6).returnSequences(true).build());
        bi.build(4);
        randomize(r, bi.forwardLayer(), 4);
        randomize(r, bi.backwardLayer(), 4);
        Dense dense = Dense.builder(3).activation("softmax").build();
        randomize(r, dense, 12);
        return Model.sequential("tagger").input(-1, 4).add(Masking.of(0.0)).add(bi)
                .add(TimeDistributed.of(dense)).build();
    }




    @Test
    void layersListAndLookup() {
        Model model = ModelFixtureTest.EncoderDecoder.model("ed");
        List<String> names = new ArrayList<>();
        for (Layer l : model.layers()) {
            names.add(l.name());
        }
        assertEquals(List.of("encoder", "decoder", "head"), names);
        assertEquals(List.of("encoder_inputs", "decoder_inputs"), model.inputNames());
        assertEquals(List.of("head", "decoder[1]", "decoder[2]"), model.outputNames());
        assertArrayEquals(new int[] {-1, 4}, model.outputShapes().get(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.layer("dense"));
        assertTrue(e.getMessage().contains("encoder, decoder, head"), e.getMessage());
    }
}
