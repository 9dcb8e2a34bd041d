package dev.rnnrt.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Embedding;
import dev.rnnrt.layers.Flatten;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Masking;
import dev.rnnrt.layers.Merge;
import dev.rnnrt.layers.RepeatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad graphs fail when the model is built, naming the layers involved. */
class GraphErrorsTest {

    private static void assertMessage(Executable build, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void shapeMismatchBetweenLayers() {
        Lstm second = Lstm.builder(4).name("second").build();
        second.build(7); // weights for 7 features, but the first layer gives 5
        assertMessage(() -> Model.sequential("m").input(-1, 3)
                        .add(Lstm.builder(5).name("first").returnSequences(true).build()).add(second).build(),
                "'second'", "[batch, timesteps, 7]", "[batch, ?, 5]", "'first'");
        // an RNN after a layer that dropped the time axis
        assertMessage(() -> Model.sequential("m2").input(-1, 3)
                        .add(Gru.builder(5).name("encoder").build())
                        .add(Gru.builder(2).name("decoder").build()).build(),
                "'decoder'", "[batch, timesteps, features]", "[batch, 5]", "'encoder'");
        assertMessage(() -> Model.functional("m3").input("a", -1, 3).input("b", -1, 4)
                        .add(Merge.of("sum", Merge.Mode.ADD), "a", "b").outputs("sum").build(),
                "'sum' (Add)", "equal shapes", "[batch, ?, 3]", "[batch, ?, 4]");
    }

    @Test
    void aMaskIsNamedAfterTheLayerThatMadeItLast() {
        // a second Masking makes a new mask (Keras' Masking.compute_mask ignores the incoming one)
        assertMessage(() -> Model.sequential("m").input(5, 3)
                        .add(Masking.of("mask1", 0.0))
                        .add(Lstm.builder(3).name("lstm").returnSequences(true).build())
                        .add(Masking.of("mask2", 0.0))
                        .add(Flatten.named("flatten")).build(),
                "'flatten'", "made by layer 'mask2'");
        Model m = Model.sequential("m").input(5, 3)
                .add(Masking.of("mask1", 0.0))
                .add(Lstm.builder(3).name("lstm").returnSequences(true).build())
                .add(Masking.of("mask2", 0.0))
                .add(Lstm.builder(2).name("last").build()).build();
        assertTrue(m.maskOrigin("lstm").equals("mask1") && m.maskOrigin("mask2").equals("mask2"),
                m.maskOrigin("lstm") + " " + m.maskOrigin("mask2"));
    }

    @Test
    void aTimeDistributedModelTakesNoMaskWhateverItsClassIsCalled() {
        for (String cls : new String[] {"Functional", "Encoder"}) {
            Model inner = Model.functional("enc").input("v", 3)
                    .add(Dense.builder(2).name("d").build(), "v").outputs("d").build();
            assertMessage(() -> Model.functional("doc").input("x", -1, 3)
                            .add(Masking.of("mk", 0.0), "x")
                            .add(dev.rnnrt.layers.TimeDistributed.of("td", new NestedModel("enc", cls, inner)), "mk")
                            .outputs("td").build(),
                    "'td'", "does not support masking", "'mk'");
        }
    }

    @Test
    void nullReferencesAndCallsThatLeadToNoOutput() {
        Dense d = Dense.builder(2).name("d").build();
        assertMessage(() -> Model.functional("m").input("x", 3).add(d, (String) null), "'d'", "null input");
        assertMessage(() -> Model.functional("m").input("x", 3).outputs("x", null), "output number 1 is null");
    }

    @Test
    void aCallThatLeadsToNoOutputDoesNotRun() {
        // Keras' Model(inputs, outputs) holds only the layers between them: an Embedding on a branch no
        // output reads never sees the ids, which are past its vocabulary
        Dense head = Dense.builder(2).name("head").build();
        Model m = Model.functional("m").input("x", 4)
                .add(head, "x")
                .add(Embedding.of("unused", 3, 2, false, dev.rnnrt.layers.Initializer.zeros()), "x")
                .outputs("head").build();
        float[] ids = new dev.rnnrt.testing.RandomTensors(5).uniform(1, 2, 4).data();
        for (int k = 0; k < ids.length; k++) {
            ids[k] = 7 + Math.round(Math.abs(ids[k]) * 3);
        }
        dev.rnnrt.api.Tensor x = dev.rnnrt.api.Tensor.wrap(ids, 2, 4);
        dev.rnnrt.testing.Compare.assertIdentical("head", head.call(java.util.List.of(x), null).get(0), m.predict(x));
    }

    @Test
    void maskReachingALayerThatCannotTakeOne() {
        assertMessage(() -> Model.sequential("m").input(5, 3)
                        .add(Masking.of("masking", 0.0))
                        .add(Lstm.builder(4).name("lstm").returnSequences(true).build())
                        .add(Flatten.named("flatten")).build(),
                "'flatten' (Flatten) does not support masking", "'masking'");
        assertMessage(() -> Model.sequential("m2").input(6)
                        .add(Embedding.of(10, 4, true)).add(Flatten.named("flat2")).build(),
                "'flat2'", "does not support masking", "'embedding");
        // a recurrent layer without return_sequences drops the mask: no error
        Model.sequential("ok").input(-1, 3).add(Masking.of(0.0)).add(Lstm.builder(4).build())
                .add(RepeatVector.of(2)).build();
    }

    /**
     * With dropUnusedMasks (tf.keras 2.4+ and Keras 3), the mask stops at such a layer, which then
     * computes over every step, and masksDropped names it; the Softmax layer and TimeDistributed
     * around a recurrent layer, which Keras gives the mask, are refused still.
     */
    @Test
    void masksDroppedWhereAsked() {
        Masking masking = Masking.of("masking", 0.0);
        Flatten flatten = Flatten.named("flatten");
        Model m = Model.functional("drop").dropUnusedMasks(true).input("x", 3, 2).add(masking, "x")
                .add(flatten, "masking").add(Dense.builder(1).name("d").build(), "flatten").outputs("d").build();
        assertTrue(m.masksDropped().size() == 1 && m.masksDropped().get(0).contains("'flatten' (Flatten)")
                && m.masksDropped().get(0).contains("'masking'"), m.masksDropped().toString());
        assertTrue(!m.carriesMask("flatten"), "no mask after the layer that dropped it");
        dev.rnnrt.api.Tensor x = dev.rnnrt.api.Tensor.of(new float[] {1, 2, 0, 0, 3, 4}, 1, 3, 2);
        assertTrue(java.util.Arrays.equals(x.data(), Model.functional("f").dropUnusedMasks(true).input("x", 3, 2)
                .add(Masking.of("mk", 0.0), "x").add(Flatten.named("fl"), "mk").outputs("fl").build().predict(x).data()),
                "Flatten passes every step on");
        assertMessage(() -> Model.functional("soft").dropUnusedMasks(true).input("x", -1, 4)
                        .add(Masking.of("mk", 0.0), "x").add(dev.rnnrt.layers.ActivationLayer.softmaxLayer("soft"), "mk")
                        .outputs("soft").build(),
                "'soft'", "does not support masking");
        assertTrue(!dev.rnnrt.layers.TimeDistributed.of("td", Lstm.builder(2).build()).kerasDropsMask(),
                "TimeDistributed(LSTM) is refused a mask either way");
        assertTrue(Model.sequential("none").input(-1, 3).add(Lstm.builder(2).build()).build().masksDropped().isEmpty());
    }

    /**
     * A text classifier as tf.keras 2.4+ and Keras 3 run it: Embedding(mask_zero), a Bidirectional
     * LSTM whose masked steps output zeros, then GlobalMaxPooling1D, which takes no mask and so takes
     * the maximum over every step, padded ones too (a row of padding pools the zeros).
     */
    @Test
    void aLayerWhoseMaskIsDroppedComputesOverEveryStep() {
        dev.rnnrt.testing.RandomTensors r = new dev.rnnrt.testing.RandomTensors(77);
        Embedding emb = Embedding.of("emb", 6, 3, true, dev.rnnrt.layers.Initializer.zeros());
        emb.setWeights(java.util.List.of(r.uniform(1, 6, 3)));
        Bidirectional bi = Bidirectional.of(Lstm.builder(2).name("lstm").returnSequences(true).build());
        bi.build(3);
        java.util.List<dev.rnnrt.api.Tensor> w = new java.util.ArrayList<>();
        for (dev.rnnrt.api.Tensor t : bi.getWeights()) {
            w.add(r.uniform(0.8, t.shape()));
        }
        bi.setWeights(w);
        dev.rnnrt.layers.GlobalPooling1D pool = new dev.rnnrt.layers.GlobalPooling1D("pool",
                dev.rnnrt.layers.Pooling1D.Mode.MAX, false);
        Model dropping = Model.functional("classifier").dropUnusedMasks(true).input("ids", -1).add(emb, "ids")
                .add(bi, "emb").add(pool, bi.name()).outputs("pool").build();
        assertTrue(dropping.masksDropped().size() == 1 && dropping.masksDropped().get(0).contains("'pool'"),
                dropping.masksDropped().toString());
        // rows: leading padding, trailing padding, all padding
        dev.rnnrt.api.Tensor ids = dev.rnnrt.api.Tensor.of(new float[] {0, 0, 3, 5, 1, 2, 4, 0, 0, 0, 0, 0}, 3, 4);
        dev.rnnrt.api.Tensor seq = bi.call(java.util.List.of(emb.call(java.util.List.of(ids), null).get(0)),
                java.util.List.of(emb.outputMasks(java.util.List.of(ids), null, null).get(0))).get(0);
        float[] expected = new float[3 * 4];
        for (int b = 0; b < 3; b++) {
            for (int c = 0; c < 4; c++) {
                float max = Float.NEGATIVE_INFINITY;
                for (int t = 0; t < 4; t++) {
                    max = Math.max(max, seq.data()[(b * 4 + t) * 4 + c]);
                }
                expected[b * 4 + c] = max;
            }
        }
        dev.rnnrt.testing.Compare.assertIdentical("max over every step", dev.rnnrt.api.Tensor.of(expected, 3, 4),
                dropping.predict(ids));
        // called directly with a mask, GlobalMaxPooling1D ignores it too
        dev.rnnrt.testing.Compare.assertIdentical("direct call", dev.rnnrt.api.Tensor.of(expected, 3, 4),
                pool.call(java.util.List.of(seq), java.util.List.of(emb.outputMasks(java.util.List.of(ids), null, null)
                        .get(0))).get(0));
    }

    /** A layer that does not use masks and records the masks each call was given. */
    private static final class MaskRecorder extends dev.rnnrt.layers.Layer {
        final java.util.List<dev.rnnrt.api.Mask> seen = new java.util.ArrayList<>();

        MaskRecorder() {
            super("recorder");
        }

        @Override
        public String className() {
            return "Recorder";
        }

        @Override
        public boolean supportsMasking() {
            return false;
        }

        @Override
        public java.util.List<int[]> outputShapes(java.util.List<int[]> inputShapes) {
            return java.util.List.of(inputShapes.get(0));
        }

        @Override
        public java.util.List<dev.rnnrt.api.Tensor> call(java.util.List<dev.rnnrt.api.Tensor> inputs,
                                                        java.util.List<dev.rnnrt.api.Mask> masks) {
            seen.addAll(masks);
            return java.util.List.of(inputs.get(0));
        }
    }

    /** Where a mask is dropped, the layer that does not use masks is given none (not the mask it would ignore). */
    @Test
    void aLayerThatDoesNotUseMasksIsGivenNone() {
        MaskRecorder recorder = new MaskRecorder();
        Model m = Model.functional("m").dropUnusedMasks(true).input("x", -1, 3)
                .add(dev.rnnrt.layers.Masking.of("masking", 0.0), "x").add(recorder, "masking").outputs("recorder")
                .build();
        m.predict(new dev.rnnrt.testing.RandomTensors(5).uniform(1, 2, 4, 3));
        assertTrue(recorder.seen.size() == 1 && recorder.seen.get(0) == null, recorder.seen.toString());
    }

    @Test
    void cycle() {
        assertMessage(() -> Model.functional("loop").input("x", -1, 3)
                        .add(Merge.of("join", Merge.Mode.CONCATENATE), "x", "b")
                        .add(Lstm.builder(3).name("a").returnSequences(true).build(), "join")
                        .add(Dense.builder(3).name("b").build(), "a")
                        .outputs("b").build(),
                "Model 'loop' has a cycle", "'join'", "'a'", "'b'");
    }

    @Test
    void missingInput() {
        assertMessage(() -> Model.functional("m").input("x", -1, 3)
                        .add(Lstm.builder(3).name("lstm").build(), "x")
                        .add(Dense.builder(2).name("dense").build(), "lstm_9")
                        .outputs("dense").build(),
                "Layer 'dense' takes input 'lstm_9'", "neither an input nor a layer", "x, lstm");
        assertMessage(() -> Model.functional("m2").input("x", -1, 3)
                        .add(Lstm.builder(3).name("lstm").build(), "x").outputs("lstm[1]").build(),
                "'lstm[1]'", "1 output(s)");
        assertMessage(() -> Model.functional("m3").input("x", -1, 3)
                        .add(Lstm.builder(3).name("lstm").build(), "x")
                        .add(Dense.builder(3).name("dense").build(), "lstm[2]").outputs("dense").build(),
                "'dense'", "'lstm[2]'", "1 output(s)");
        assertMessage(() -> Model.functional("m4").input("x", -1, 3)
                        .add(Lstm.builder(3).name("lstm").build(), "x").outputs("nothing").build(),
                "output 'nothing'", "neither an input nor a layer");
    }

    @Test
    void namesAndCounts() {
        assertMessage(() -> Model.functional("m").input("x", -1, 3)
                        .add(Lstm.builder(3).name("x").build(), "x"),
                "already has an input or layer named 'x'");
        Lstm lstm = Lstm.builder(3).name("once").returnSequences(true).build();
        assertMessage(() -> Model.functional("m").input("x", -1, 3).add(lstm, "x").add(lstm, "once"),
                "added twice");
        assertMessage(() -> Model.functional("m").input("x", -1, 3)
                        .add(Lstm.builder(3).name("enc").build(), "x", "x", "x", "x").outputs("enc").build(),
                "'enc'", "1 to 3 input(s)", "given 4");
        assertMessage(() -> Model.functional("m").input("x", -1, 3)
                        .add(Lstm.builder(3).name("enc2").build(), "x", "x").outputs("enc2").build(),
                "'enc2'", "initial_state");
        assertMessage(() -> Model.sequential("seq").input(-1, 3)
                        .add(Lstm.builder(3).name("with_state").returnState(true).build()).build(),
                "'with_state'", "3 outputs", "functional");
        assertMessage(() -> Model.sequential("none").add(Lstm.builder(3).build()).build(), "no input shape");
        assertMessage(() -> Model.functional("nothing").input("x", 3).build(), "no outputs");
    }

    @Test
    void bidirectionalBackwardLayerMustMirrorTheForwardOne() {
        assertMessage(() -> Bidirectional.of("bi", Lstm.builder(3).build(), Bidirectional.MergeMode.CONCAT,
                        Lstm.builder(3).name("back").build()),
                "'back'", "go_backwards=True");
        assertMessage(() -> Bidirectional.of("bi", Lstm.builder(3).returnSequences(true).build(),
                        Bidirectional.MergeMode.CONCAT, Lstm.builder(3).name("back2").goBackwards(true).build()),
                "'back2'", "return_sequences");
        assertMessage(() -> Bidirectional.MergeMode.named("max"), "'max'", "concat, sum, mul, ave, None");
    }
}
