package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.testing.RandomTensors;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input fails at the public boundary with a message naming the layer, what was expected and what came. */
class RecurrentErrorsTest {

    private final RandomTensors random = new RandomTensors(99);

    private Lstm lstm() {
        Lstm lstm = Lstm.builder(3).name("encoder").build();
        lstm.build(2);
        return lstm;
    }

    private static void assertMessage(Class<? extends Throwable> type, Executable call, String... parts) {
        Throwable e = assertThrows(type, call);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void wrongRank() {
        assertMessage(IllegalArgumentException.class, () -> lstm().call(random.uniform(1, 3, 2)),
                "Layer 'encoder' (LSTM, units=3)", "[batch, timesteps, features]", "rank 2", "[3, 2]", "[1, 3, 2]");
        assertMessage(IllegalArgumentException.class, () -> lstm().call(random.uniform(1, 1, 3, 2, 1)),
                "'encoder'", "rank 4");
    }

    @Test
    void wrongFeatureSize() {
        assertMessage(IllegalArgumentException.class, () -> lstm().call(random.uniform(1, 8, 5, 7)),
                "'encoder'", "[batch, timesteps, 2]", "[8, 5, 7]");
    }

    @Test
    void anOutputLargerThanAJavaArrayIsRefusedBeforeAnyStepRuns() {
        // 2048 · 1024 · 1024 = 2^31 values of sequence output; the input itself is small
        Lstm wide = Lstm.builder(1024).name("wide").returnSequences(true).build();
        Tensor x = Tensor.zeros(2048, 1024, 1);
        assertMessage(IllegalArgumentException.class, () -> wide.call(x), "'wide'", "[2048, 1024, 1024]",
                "smaller batches");
        // each direction's [2048, 1000, 600] fits, the concatenated [2048, 1000, 1200] does not
        Bidirectional both = Bidirectional.of(Lstm.builder(600).name("enc").returnSequences(true).build());
        assertMessage(IllegalArgumentException.class, () -> both.call(List.of(Tensor.zeros(2048, 1000, 1)), null),
                "Bidirectional", "[2048, 1000, 1200]", "smaller batches");
    }

    @Test
    void emptyBatchOrTime() {
        assertMessage(IllegalArgumentException.class, () -> lstm().call(Tensor.zeros(2, 0, 2)),
                "'encoder'", "at least one", "[2, 0, 2]");
    }

    @Test
    void initialStateOfTheWrongCountOrShape() {
        Tensor x = random.uniform(1, 4, 5, 2);
        assertMessage(IllegalArgumentException.class, () -> lstm().call(x, List.of(random.uniform(1, 4, 3)), null),
                "'encoder'", "initial_state", "2 tensor(s) [h, c]", "got 1");
        assertMessage(IllegalArgumentException.class,
                () -> lstm().call(x, List.of(random.uniform(1, 4, 3), random.uniform(1, 3, 3)), null),
                "'encoder'", "initial_state[1]", "[4, 3]", "[3, 3]");
        Gru gru = Gru.builder(2).name("dec").build();
        assertMessage(IllegalArgumentException.class,
                () -> gru.call(x, List.of(random.uniform(1, 4, 2), random.uniform(1, 4, 2)), null),
                "'dec' (GRU, units=2)", "1 tensor(s) [h]", "got 2");
    }

    @Test
    void maskOfTheWrongShape() {
        Tensor x = random.uniform(1, 4, 5, 2);
        assertMessage(IllegalArgumentException.class, () -> lstm().call(x, Mask.all(5, 4)),
                "'encoder'", "[batch, timesteps] = [4, 5]", "[5, 4]");
        Lstm timeMajor = Lstm.builder(3).name("tm").timeMajor(true).build();
        // x read time-major is 4 timesteps of a batch of 5
        assertMessage(IllegalArgumentException.class, () -> timeMajor.call(x, Mask.all(5, 4)),
                "'tm'", "[timesteps, batch] = [4, 5]", "got [5, 4]");
    }

    @Test
    void unknownActivationOrInitializerName() {
        assertMessage(IllegalArgumentException.class, () -> Lstm.builder(3).activation("tanhh"),
                "'tanhh'", "Supported");
        assertMessage(IllegalArgumentException.class, () -> Gru.builder(3).recurrentActivation("sigmoidd"),
                "'sigmoidd'", "Supported");
        assertMessage(IllegalArgumentException.class, () -> SimpleRnn.builder(3).kernelInitializer("glorot"),
                "'glorot'", "glorot_uniform");
    }

    /** A builder's unknown name names the layer: its class, and its name once given, and the argument. */
    @Test
    void unknownNamesNameTheLayerAndTheArgument() {
        assertMessage(IllegalArgumentException.class, () -> Lstm.builder(4).name("enc").activation("tanhh"),
                "Layer 'enc' (LSTM, units=4)", "activation", "'tanhh'", "Supported");
        assertMessage(IllegalArgumentException.class, () -> Gru.builder(3).name("dec").recurrentActivation("sigmod"),
                "Layer 'dec' (GRU, units=3)", "recurrent_activation", "'sigmod'");
        assertMessage(IllegalArgumentException.class, () -> Lstm.builder(2).recurrentInitializer("orthogonall"),
                "LSTM layer (units=2)", "recurrent_initializer", "'orthogonall'", "glorot_uniform");
        assertMessage(IllegalArgumentException.class, () -> SimpleRnn.builder(5).name("s").kernelInitializer("he"),
                "Layer 's' (SimpleRNN, units=5)", "kernel_initializer", "'he'");
        assertMessage(IllegalArgumentException.class, () -> Gru.builder(3).biasInitializer("onez"),
                "GRU layer (units=3)", "bias_initializer", "'onez'");
        assertMessage(IllegalArgumentException.class, () -> Dense.builder(3).name("head").activation("softmaxx"),
                "Layer 'head' (Dense, units=3)", "activation", "'softmaxx'", "Supported");
        assertMessage(IllegalArgumentException.class, () -> Dense.builder(3).activation("softmaxx"),
                "Dense layer (units=3)", "'softmaxx'");
    }

    @Test
    void anExplicitBackwardLayerMustFitTheForwardOne() {
        Lstm three = Lstm.builder(3).name("f").returnSequences(true).build();
        Lstm fourBack = Lstm.builder(4).name("b").returnSequences(true).goBackwards(true).build();
        for (Bidirectional.MergeMode mode : List.of(Bidirectional.MergeMode.SUM, Bidirectional.MergeMode.MUL,
                Bidirectional.MergeMode.AVE)) {
            assertMessage(IllegalArgumentException.class, () -> Bidirectional.of("bi", three, mode, fourBack),
                    "merge_mode " + mode.name().toLowerCase(), "'b'", "units (3)", "got 4");
        }
        // concat and None take different units, as Keras does
        Bidirectional concat = Bidirectional.of("bi", three, Bidirectional.MergeMode.CONCAT, fourBack);
        assertTrue(concat.call(List.of(random.uniform(1, 2, 5, 2)), null).get(0).dim(2) == 7);
        Bidirectional.of("bi", three, Bidirectional.MergeMode.NONE, fourBack);
        assertMessage(IllegalArgumentException.class, () -> Bidirectional.of("bi", three, Bidirectional.MergeMode.CONCAT,
                Lstm.builder(3).name("s").returnSequences(true).goBackwards(true).stateful(true).build()),
                "'s'", "same stateful");
        assertMessage(IllegalArgumentException.class, () -> Bidirectional.of("bi", three, Bidirectional.MergeMode.CONCAT,
                Lstm.builder(3).name("g").returnSequences(true).build()), "'g'", "go_backwards=True");
        // Keras gives the forward layer the first half of initial_state: an LSTM's h, c and a GRU's h split so in none
        Bidirectional mixed = Bidirectional.of("bi", three, Bidirectional.MergeMode.CONCAT,
                Gru.builder(3).name("gb").returnSequences(true).goBackwards(true).build());
        List<Tensor> in = List.of(random.uniform(1, 2, 5, 2), random.uniform(1, 2, 3), random.uniform(1, 2, 3),
                random.uniform(1, 2, 3));
        assertMessage(IllegalArgumentException.class, () -> mixed.call(in, null), "'bi'", "splits the list in half",
                "has 2 states", "'backward_gb'");
        assertMessage(IllegalArgumentException.class, () -> mixed.outputShapes(List.of(new int[] {-1, 5, 2},
                new int[] {-1, 3}, new int[] {-1, 3}, new int[] {-1, 3})), "splits the list in half");
        assertTrue(mixed.call(List.of(in.get(0)), null).get(0).dim(2) == 6, "without initial_state it runs");
    }

    @Test
    void weightsOfTheWrongShapeOrCount() {
        Lstm l = Lstm.builder(3).name("enc2").build();
        assertMessage(IllegalArgumentException.class,
                () -> l.setWeights(List.of(random.uniform(1, 2, 8), random.uniform(1, 3, 12), random.uniform(1, 12))),
                "'enc2'", "'kernel'", "[I, 12]", "[2, 8]");
        assertMessage(IllegalArgumentException.class,
                () -> l.setWeights(List.of(random.uniform(1, 2, 12), random.uniform(1, 12, 3), random.uniform(1, 12))),
                "'enc2'", "'recurrent_kernel'", "[3, 12]", "[12, 3]");
        assertMessage(IllegalArgumentException.class,
                () -> l.setWeights(List.of(random.uniform(1, 2, 12), random.uniform(1, 3, 12), random.uniform(1, 2, 12))),
                "'enc2'", "'bias'", "[12]", "[2, 12]");
        assertMessage(IllegalArgumentException.class,
                () -> l.setWeights(List.of(random.uniform(1, 2, 12), random.uniform(1, 3, 12))),
                "'enc2'", "3 weights", "kernel, recurrent_kernel, bias", "got 2");
        Gru gru = Gru.builder(2).name("g").build(); // reset_after: bias [2, 6]
        assertMessage(IllegalArgumentException.class,
                () -> gru.setWeights(List.of(random.uniform(1, 4, 6), random.uniform(1, 2, 6), random.uniform(1, 6))),
                "'g'", "'bias'", "[2, 6]", "[6]");
        Lstm built = lstm();
        assertMessage(IllegalArgumentException.class,
                () -> built.setWeights(List.of(random.uniform(1, 5, 12), random.uniform(1, 3, 12), random.uniform(1, 12))),
                "'encoder'", "[2, 12]", "built for 2", "[5, 12]");
    }

    /**
     * Layers made of several recurrent layers check every weight before they set any: a bad one late
     * in the list leaves all the weights as they were. Both directions read the same input, so their
     * kernels must read as many features, built or not.
     */
    @Test
    void weightsOfSeveralLayersAreSetAllOrNothing() {
        Bidirectional bi = Bidirectional.of(Lstm.builder(2).name("enc").build());
        bi.build(3);
        List<Tensor> before = bi.getWeights();
        List<Tensor> badBackwardBias = List.of(random.uniform(1, 3, 8), random.uniform(1, 2, 8), random.uniform(1, 8),
                random.uniform(1, 3, 8), random.uniform(1, 2, 8), random.uniform(1, 7));
        assertMessage(IllegalArgumentException.class, () -> bi.setWeights(badBackwardBias),
                "'backward_enc'", "'bias'", "[8]", "[7]");
        assertUnchanged(before, bi.getWeights());

        Bidirectional fresh = Bidirectional.of(Lstm.builder(2).name("dec").build());
        List<Tensor> otherInput = List.of(random.uniform(1, 3, 8), random.uniform(1, 2, 8), random.uniform(1, 8),
                random.uniform(1, 5, 8), random.uniform(1, 2, 8), random.uniform(1, 8));
        assertMessage(IllegalArgumentException.class, () -> fresh.setWeights(otherInput),
                "Bidirectional", "backward weight 'kernel'", "[3, 8]", "[5, 8]");
        assertTrue(!fresh.forwardLayer().isBuilt() && !fresh.backwardLayer().isBuilt(), "nothing set");

        StackedRnn stack = StackedRnn.builder(Lstm.builder(2).build(), Lstm.builder(2).build()).name("st").build();
        stack.build(3);
        List<Tensor> stackBefore = stack.getWeights();
        List<Tensor> badSecondBias = List.of(random.uniform(1, 3, 8), random.uniform(1, 2, 8), random.uniform(1, 8),
                random.uniform(1, 2, 8), random.uniform(1, 2, 8), random.uniform(1, 9));
        assertMessage(IllegalArgumentException.class, () -> stack.setWeights(badSecondBias), "'st/", "'bias'", "[9]");
        assertUnchanged(stackBefore, stack.getWeights());

        BidirectionalStack bs = BidirectionalStack.of("bs", StackedRnn.builder(Gru.builder(2).build()).name("g")
                .build(), Bidirectional.MergeMode.CONCAT, true);
        bs.build(3);
        List<Tensor> bsBefore = bs.getWeights();
        List<Tensor> badBackward = List.of(random.uniform(1, 3, 6), random.uniform(1, 2, 6), random.uniform(1, 2, 6),
                random.uniform(1, 3, 6), random.uniform(1, 2, 5), random.uniform(1, 2, 6));
        assertMessage(IllegalArgumentException.class, () -> bs.setWeights(badBackward), "'recurrent_kernel'", "[2, 5]");
        assertUnchanged(bsBefore, bs.getWeights());
        BidirectionalStack unbuilt = BidirectionalStack.of("bs2", StackedRnn.builder(Gru.builder(2).build()).name("g2")
                .build(), Bidirectional.MergeMode.CONCAT, true);
        List<Tensor> mixed = List.of(random.uniform(1, 3, 6), random.uniform(1, 2, 6), random.uniform(1, 2, 6),
                random.uniform(1, 4, 6), random.uniform(1, 2, 6), random.uniform(1, 2, 6));
        assertMessage(IllegalArgumentException.class, () -> unbuilt.setWeights(mixed), "'bs2'", "[3, 6]", "[4, 6]");
        assertTrue(!unbuilt.forwardLayer().cells().get(0).isBuilt(), "nothing set");
    }

    private static void assertUnchanged(List<Tensor> before, List<Tensor> after) {
        for (int k = 0; k < before.size(); k++) {
            dev.rnnrt.testing.Compare.assertIdentical("weight " + k, before.get(k), after.get(k));
        }
    }

    @Test
    void badArguments() {
        assertMessage(IllegalArgumentException.class, () -> Lstm.builder(0).build(), "LSTM", "units", "got 0");
        assertMessage(IllegalArgumentException.class, () -> Gru.builder(2).dropout(1.5).build(),
                "GRU", "dropout", "1.5");
        assertMessage(IllegalStateException.class, () -> Lstm.builder(2).name("fresh").build().getWeights(),
                "'fresh'", "no weights");
        assertMessage(IllegalStateException.class, () -> lstm().resetStates(), "'encoder'", "not stateful");
    }

    @Test
    void statefulBatchSizeIsFixedUntilReset() {
        Gru gru = Gru.builder(2).name("s").stateful(true).build();
        gru.call(random.uniform(1, 4, 3, 2));
        assertMessage(IllegalArgumentException.class, () -> gru.call(random.uniform(1, 5, 3, 2)),
                "'s'", "batch of 4", "batch of 5", "resetStates()");
        gru.resetStates();
        gru.call(random.uniform(1, 5, 3, 2));
    }
}
