package dev.rnnrt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Embedding;
import dev.rnnrt.layers.Initializer;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Merge;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.StackingReference;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A layer called at several places of a model (Keras' shared layers): each call computes what a
 * separate layer with the same weights computes, masks included, and the weights count once.
 */
class SharedLayerTest {

    private static final int VOCAB = 11;
    private static final int E = 5;
    private static final int H = 4;
    private static final int T = 7;

    private final RandomTensors random = new RandomTensors(90210L);

    /** Token ids in [1, VOCAB) with a random number of trailing zeros (padding) per row. */
    private static Tensor ids(long seed, int batch) {
        Random r = new Random(seed);
        float[] v = new float[batch * T];
        for (int b = 0; b < batch; b++) {
            int len = 1 + r.nextInt(T);
            for (int t = 0; t < len; t++) {
                v[b * T + t] = 1 + r.nextInt(VOCAB - 1);
            }
        }
        return Tensor.wrap(v, batch, T);
    }

    private Embedding embedding(String name) {
        Embedding emb = Embedding.of(name, VOCAB, E, true, Initializer.zeros());
        emb.setWeights(List.of(random.uniform(0.8, VOCAB, E)));
        return emb;
    }

    private Lstm lstm(String name, boolean sequences) {
        Lstm l = Lstm.builder(H).name(name).returnSequences(sequences).build();
        ModelTest.randomize(random, l, E);
        return l;
    }

    private Dense dense(String name, int in, int units) {
        Dense d = Dense.builder(units).name(name).activation("tanh").build();
        ModelTest.randomize(random, d, in);
        return d;
    }

    private static <L extends Layer> L copyOf(L source, L target) {
        if (source instanceof Lstm s && target instanceof Lstm t) {
            t.setWeights(s.getWeights());
        } else if (source instanceof Dense s && target instanceof Dense t) {
            t.setWeights(s.getWeights());
        } else if (source instanceof Embedding s && target instanceof Embedding t) {
            t.setWeights(s.getWeights());
        } else {
            throw new AssertionError("no copy for " + source.describe());
        }
        return target;
    }

    /** A layer called on its own and inside TimeDistributed shares its weights: Keras counts them once. */
    @Test
    void aLayerCalledOnItsOwnAndThroughTimeDistributedIsCountedOnce() {
        Dense d = Dense.builder(4).name("d").build();
        Model m = Model.functional("m").input("seq", -1, 3).input("vec", 3)
                .add(TimeDistributed.of("td", d), "seq").add(d, "vec").outputs("td", "d").build();
        assertEquals(3 * 4 + 4, m.parameterCount());
        assertTrue(m.summary().contains("Total params: 16"), m.summary());
        // TimeDistributed around its own layer counts that layer
        Model own = Model.functional("own").input("seq", -1, 3)
                .add(TimeDistributed.of("td", Dense.builder(4).name("e").build()), "seq").outputs("td").build();
        assertEquals(16, own.parameterCount());
    }

    /**
     * A Siamese encoder: one Embedding(mask_zero) and one LSTM applied to two padded inputs, their
     * difference through a Dense head. It must equal the same graph with each call a separate
     * layer holding the same weights (the masks of the two calls differ).
     */
    @Test
    void siameseEncoderEqualsSeparateLayersWithTheSameWeights() {
        Embedding emb = embedding("emb");
        Lstm enc = lstm("enc", false);
        Dense head = dense("head", H, 1);
        Model shared = Model.functional("siamese").input("a", T).input("b", T)
                .add(emb, "a").add(enc, "emb")
                .addCall("emb_b", emb, "b").addCall("enc_b", enc, "emb_b")
                .add(Merge.of("diff", Merge.Mode.SUBTRACT), "enc", "enc_b")
                .add(head, "diff").outputs("head", "enc_b").build();
        Model separate = Model.functional("twins").input("a", T).input("b", T)
                .add(emb, "a").add(enc, "emb")
                .add(copyOf(emb, Embedding.of("emb_b", VOCAB, E, true, Initializer.zeros())), "b")
                .add(copyOf(enc, Lstm.builder(H).name("enc_b").build()), "emb_b")
                .add(Merge.of("diff", Merge.Mode.SUBTRACT), "enc", "enc_b")
                .add(head, "diff").outputs("head", "enc_b").build();

        List<Tensor> in = List.of(ids(1, 6), ids(2, 6));
        List<Tensor> expected = separate.predict(in);
        List<Tensor> actual = shared.predict(in);
        Compare.assertIdentical("head", expected.get(0), actual.get(0));
        Compare.assertIdentical("second call of the encoder", expected.get(1), actual.get(1));
        // swapped inputs: the second call now reads the first input, as the separate model's twin does
        Tensor swapped = shared.predict(List.of(in.get(1), in.get(0))).get(1);
        Compare.assertIdentical("the second call on the first input",
                separate.predict(List.of(in.get(1), in.get(0))).get(1), swapped);
        assertTrue(!java.util.Arrays.equals(swapped.data(), actual.get(1).data()), "the calls see their own inputs");

        assertEquals(List.of("emb", "enc", "diff", "head"), shared.layers().stream().map(Layer::name).toList());
        assertEquals(List.of("emb", "enc", "emb_b", "enc_b", "diff", "head"), shared.callNames(), "declared order");
        long once = emb.parameterCount() + enc.parameterCount() + head.parameterCount();
        assertEquals(once, shared.parameterCount(), "shared weights count once");
        assertEquals(once + emb.parameterCount() + enc.parameterCount(), separate.parameterCount());
        String summary = shared.summary();
        assertTrue(summary.contains("enc_b (call of 'enc')") && summary.contains("emb_b (call of 'emb')"), summary);
        assertTrue(shared.carriesMask("emb_b") && "emb_b".equals(shared.maskOrigin("emb_b")), summary);
    }

    /** Shared recurrent stacks and a shared TimeDistributed head, on a backend that runs stacks. */
    @Test
    void sharedCallsInsideStacksAndBidirectional() {
        StackingReference rec = new StackingReference();
        Lstm inner = Lstm.builder(H).name("inner").returnSequences(true).backend(rec).build();
        Bidirectional bi = Bidirectional.of("bi", inner, Bidirectional.MergeMode.CONCAT, null);
        bi.forwardLayer().build(E);
        bi.backwardLayer().build(E);
        ModelTest.randomize(random, bi.forwardLayer(), E);
        ModelTest.randomize(random, bi.backwardLayer(), E);
        Lstm top = Lstm.builder(H).name("top").returnSequences(true).backend(rec).build();
        ModelTest.randomize(random, top, 2 * H);
        Dense d = dense("d", H, 3);
        TimeDistributed td = TimeDistributed.of("td", d);
        Model shared = Model.functional("two_branches").input("x", T, E).input("y", T, E)
                .add(bi, "x").add(top, "bi").add(td, "top")
                .addCall("bi_y", bi, "y").addCall("top_y", top, "bi_y").addCall("td_y", td, "top_y")
                .add(Merge.of("sum", Merge.Mode.ADD), "td", "td_y").outputs("sum", "td_y").build();

        Tensor x = random.uniform(1, 3, T, E);
        Tensor y = random.uniform(1, 3, T, E);
        Model alone = Model.functional("one").input("x", T, E).add(bi, "x").add(top, "bi").add(td, "top")
                .outputs("td").build();
        Tensor fromX = alone.predict(x);
        Tensor fromY = alone.predict(y);
        List<Tensor> out = shared.predict(List.of(x, y));
        Compare.assertIdentical("the y branch", fromY, out.get(1));
        float[] sum = fromX.data().clone();
        for (int k = 0; k < sum.length; k++) {
            sum[k] += fromY.data()[k];
        }
        Compare.assertIdentical("x branch + y branch", Tensor.wrap(sum, fromX.shape()), out.get(0));
        assertEquals(List.of("bi..td", "bi_y..td_y"), shared.stackedRuns(), "each branch is one stack call");
        rec.log.clear();
        shared.predict(List.of(x, y));
        assertEquals(2, rec.log.size(), rec.log.toString());
        assertTrue(shared.summary().contains("top_y (call of 'top')"), shared.summary());
        assertEquals(shared.parameterCount(), alone.parameterCount());
    }

    @Test
    void wrongUsesAreRefusedWithTheCallNamed() {
        Lstm enc = lstm("enc", false);
        assertMessage(() -> Model.functional("m").input("a", T, E).add(enc, "a").add(enc, "a"),
                "added twice", "addCall");
        assertMessage(() -> Model.functional("m").input("a", T, E).input("b", T, E)
                        .add(lstm("other", false), "a").addCall("enc_b", enc, "b").outputs("enc_b").build(),
                "'enc_b'", "not in the model", "add(layer");
        assertMessage(() -> Model.functional("m").input("a", T, E).input("b", T, E + 1)
                        .add(enc, "a").addCall("enc_b", enc, "b").outputs("enc", "enc_b").build(),
                "'enc'", "call 'enc_b'", "[batch, timesteps, " + E + "]");
        assertMessage(() -> Model.functional("m").input("a", T, E).add(enc, "a").addCall("enc", enc, "a"),
                "already has an input or layer named 'enc'");
        Lstm stateful = Lstm.builder(H).name("st").stateful(true).build();
        assertMessage(() -> Model.functional("m").input("a", T, E).input("b", T, E)
                        .add(stateful, "a").addCall("st_b", stateful, "b"),
                "stateful", "'st_b'");
        Model ok = Model.functional("m").input("a", T, E).input("b", T, E)
                .add(enc, "a").addCall("enc_b", enc, "b").outputs("enc_b").build();
        assertMessage(() -> ok.maskOrigin("enc_c"), "no layer or layer call 'enc_c'", "enc, enc_b");
        assertEquals(RecurrentReference.INSTANCE, enc.backend());
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
    }
}
