package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Attention (dot, concat) and AdditiveAttention against attention_cases.json, made independently
 * with PyTorch: with and without scale weights and a key, query and value masks (one query whose
 * every value step is masked), the causal mask, the attention weights as a second output; masks
 * through a model; the errors a user can meet.
 */
class AttentionTest {

    @Test
    void everyScoreModeMatchesTheIndependentFixtures() {
        JsonNode cases = Fixtures.json("fixtures/layers/attention_cases.json").get("cases");
        assertEquals(48, cases.size(), "fixture cases");
        for (JsonNode c : cases) {
            String name = c.get("name").asText();
            Attention.Score score = switch (c.get("mode").asText()) {
                case "dot" -> Attention.Score.DOT;
                case "concat" -> Attention.Score.CONCAT;
                default -> Attention.Score.ADDITIVE;
            };
            Attention attention = new Attention(null, score, c.get("use_scale").asBoolean(), c.get("causal").asBoolean(),
                    true);
            List<Tensor> weights = Fixtures.tensors(c.get("weights"));
            if (!weights.isEmpty()) {
                attention.setWeights(weights);
            }
            List<Tensor> inputs = Fixtures.tensors(c.get("inputs"));
            List<Mask> masks = new ArrayList<>(Arrays.asList(new Mask[inputs.size()]));
            JsonNode m = c.get("masks");
            if (!m.isNull()) {
                masks.set(0, Fixtures.mask(m.get(0)));
                masks.set(1, Fixtures.mask(m.get(1)));
            }
            List<Tensor> out = attention.call(inputs, masks);
            for (int k = 0; k < 2; k++) {
                JsonNode e = c.get("expected").get(k);
                Compare.assertClose(name + (k == 0 ? " result" : " weights"), Fixtures.shape(e), Fixtures.doubles(e),
                        out.get(k), Tolerance.REFERENCE);
            }
            List<int[]> shapes = new ArrayList<>();
            for (Tensor t : inputs) {
                shapes.add(Arrays.copyOfRange(t.shape(), 1, 3));
            }
            List<int[]> declared = attention.outputShapes(shapes);
            assertArrayEquals(Arrays.copyOfRange(out.get(0).shape(), 1, 3), declared.get(0), name);
            assertArrayEquals(Arrays.copyOfRange(out.get(1).shape(), 1, 3), declared.get(1), name);
        }
    }

    @Test
    void anEncoderDecoderWithAttentionPassesTheQueryMaskOn() {
        RandomTensors r = new RandomTensors(7101L);
        Lstm encoder = Lstm.builder(4).name("encoder").returnSequences(true).build();
        encoder.setWeights(List.of(r.uniform(0.5, 3, 16), r.uniform(0.5, 4, 16), r.uniform(0.5, 16)));
        Lstm decoder = Lstm.builder(4).name("decoder").returnSequences(true).build();
        decoder.setWeights(List.of(r.uniform(0.5, 3, 16), r.uniform(0.5, 4, 16), r.uniform(0.5, 16)));
        Attention attention = new Attention("attention", Attention.Score.DOT, false, false, false);
        Model model = Model.functional("seq2seq").input("source", -1, 3).input("target", -1, 3)
                .add(Masking.of("source_mask", 0.0), "source").add(Masking.of("target_mask", 0.0), "target")
                .add(encoder, "source_mask").add(decoder, "target_mask")
                .add(attention, "decoder", "encoder")
                .add(Merge.concatenate("join", -1), "decoder", "attention")
                .add(new GlobalPooling1D("pool", Pooling1D.Mode.AVERAGE, false), "join")
                .outputs("attention", "pool").build();
        Tensor source = r.uniform(1, 2, 6, 3);
        Tensor target = r.uniform(1, 2, 5, 3);
        for (int f = 0; f < 3; f++) {                   // padding: source row 0 ends at 4, target row 1 at 3
            source.data()[(0 * 6 + 4) * 3 + f] = 0;
            source.data()[(0 * 6 + 5) * 3 + f] = 0;
            target.data()[(1 * 5 + 3) * 3 + f] = 0;
            target.data()[(1 * 5 + 4) * 3 + f] = 0;
        }
        List<Tensor> out = model.predict(List.of(source, target));

        Mask sourceMask = Mask.fromLengths(new int[] {4, 6}, 6);
        Mask targetMask = Mask.fromLengths(new int[] {5, 3}, 5);
        Tensor enc = encoder.call(List.of(source), List.of(sourceMask)).get(0);
        Tensor dec = decoder.call(List.of(target), List.of(targetMask)).get(0);
        Tensor expected = attention.call(List.of(dec, enc), List.of(targetMask, sourceMask)).get(0);
        Compare.assertClose("attention over the encoder's unmasked steps", expected, out.get(0), Tolerance.REFERENCE);
        for (int f = 0; f < 4; f++) {
            assertEquals(0f, out.get(0).data()[(1 * 5 + 4) * 4 + f], "a masked query step gives zeros");
        }
        Tensor joined = Merge.concatenate("j", -1).call(List.of(dec, expected), List.of()).get(0);
        Tensor pooled = new GlobalPooling1D("p", Pooling1D.Mode.AVERAGE, false)
                .call(List.of(joined), List.of(targetMask)).get(0);
        Compare.assertClose("the query's mask reaches the pooling", pooled, out.get(1), Tolerance.REFERENCE);
        assertSame(targetMask, attention.outputMasks(List.of(dec, enc), List.of(targetMask, sourceMask),
                List.of(expected)).get(0));
        assertNull(new Attention(null, Attention.Score.DOT, false, false, true).outputMasks(List.of(dec, enc),
                List.of(targetMask, sourceMask), List.of(expected, expected)).get(1), "the weights carry no mask");
    }

    @Test
    void anAdditiveScaleOfOneValueBroadcastsAsInTfKeras() {
        RandomTensors r = new RandomTensors(7102L);
        Tensor q = r.uniform(1, 2, 3, 4);
        Tensor v = r.uniform(1, 2, 5, 1);
        Tensor k = r.uniform(1, 2, 5, 4);
        Attention one = new Attention("a", Attention.Score.ADDITIVE, true, false, false);
        one.setWeights(List.of(Tensor.of(new float[] {0.7f}, 1)));
        Attention four = new Attention("b", Attention.Score.ADDITIVE, true, false, false);
        four.setWeights(List.of(Tensor.of(new float[] {0.7f, 0.7f, 0.7f, 0.7f}, 4)));
        Compare.assertIdentical("scale [1] as [0.7 x 4]", four.call(List.of(q, v, k), Arrays.asList(null, null, null)).get(0),
                one.call(List.of(q, v, k), Arrays.asList(null, null, null)).get(0));
    }

    /** tf.keras: a query of one feature against a scale sized by the value's features [dv]. */
    @Test
    void anAdditiveScaleSizedByTheValueBroadcastsOverAOneFeatureQuery() {
        RandomTensors r = new RandomTensors(7103L);
        Tensor q = r.uniform(1, 2, 3, 1);
        Tensor v = r.uniform(1, 2, 5, 3);
        Tensor k = r.uniform(1, 2, 5, 1);
        Attention three = new Attention("a", Attention.Score.ADDITIVE, true, false, false);
        three.setWeights(List.of(Tensor.of(new float[] {0.5f, 0.25f, 0.75f}, 3)));
        Attention summed = new Attention("b", Attention.Score.ADDITIVE, true, false, false);
        summed.setWeights(List.of(Tensor.of(new float[] {1.5f}, 1)));
        Compare.assertClose("scale [0.5, 0.25, 0.75] on one feature = scale [1.5]",
                summed.call(List.of(q, v, k), Arrays.asList(null, null, null)).get(0),
                three.call(List.of(q, v, k), Arrays.asList(null, null, null)).get(0), Tolerance.REFERENCE);
    }

    @Test
    void badInputNamesTheLayerAndTheShapes() {
        Attention dot = new Attention("att", Attention.Score.DOT, true, false, false);
        IllegalArgumentException shapes = assertThrows(IllegalArgumentException.class,
                () -> dot.call(List.of(Tensor.zeros(2, 3, 4), Tensor.zeros(2, 5, 6)), Arrays.asList(null, null)));
        assertTrue(shapes.getMessage().contains("'att'") && shapes.getMessage().contains("[2, 3, 4]")
                && shapes.getMessage().contains("[2, 5, 6]"), shapes.getMessage());
        IllegalArgumentException built = assertThrows(IllegalArgumentException.class,
                () -> dot.outputShapes(List.of(new int[] {3, 4}, new int[] {5, 6})));
        assertTrue(built.getMessage().contains("query's features (4)") && built.getMessage().contains("key's (6)"),
                built.getMessage());
        IllegalArgumentException weight = assertThrows(IllegalArgumentException.class,
                () -> dot.setWeights(List.of(Tensor.zeros(3))));
        assertTrue(weight.getMessage().contains("'scale'") && weight.getMessage().contains("scalar"), weight.getMessage());
        Attention additive = new Attention("add", Attention.Score.ADDITIVE, true, false, false);
        IllegalStateException unset = assertThrows(IllegalStateException.class,
                () -> additive.call(List.of(Tensor.zeros(1, 2, 3), Tensor.zeros(1, 2, 3)), Arrays.asList(null, null)));
        assertTrue(unset.getMessage().contains("'add'") && unset.getMessage().contains("no weights"), unset.getMessage());
    }

    /**
     * Keras 3.0.0 to 3.0.4 with use_causal_mask did not use the value's mask; the option gives
     * exactly the causal-only result there, and changes nothing without use_causal_mask. Masks of
     * the wrong shape are refused by name.
     */
    @Test
    void keras30CausalIgnoresTheValueMaskAndMaskShapesAreChecked() {
        RandomTensors r = new RandomTensors(3030L);
        Tensor q = r.uniform(1, 2, 4, 3);
        Tensor v = r.uniform(1, 2, 4, 3);
        Mask vm = Mask.fromLengths(new int[] {2, 4}, 4);
        Attention fixed = new Attention("a", Attention.Score.DOT, false, true, false);
        Attention keras30 = new Attention("a", Attention.Score.DOT, false, true, false, true, true);
        Tensor causalOnly = fixed.call(List.of(q, v), Arrays.asList(null, null)).get(0);
        Compare.assertIdentical("3.0.0-3.0.4", causalOnly, keras30.call(List.of(q, v), Arrays.asList(null, vm)).get(0));
        Tensor both = fixed.call(List.of(q, v), Arrays.asList(null, vm)).get(0);
        double[] ref = new double[both.size()];
        for (int i = 0; i < ref.length; i++) {
            ref[i] = both.data()[i];
        }
        assertTrue(Compare.relativeError(ref, causalOnly.data()) > 1e-3, "the value mask must matter here");
        Attention plain = new Attention("p", Attention.Score.DOT, false, false, false, true, true);
        Compare.assertIdentical("not causal", new Attention("p", Attention.Score.DOT, false, false, false)
                .call(List.of(q, v), Arrays.asList(null, vm)).get(0), plain.call(List.of(q, v), Arrays.asList(null, vm)).get(0));
        IllegalArgumentException wide = assertThrows(IllegalArgumentException.class,
                () -> fixed.call(List.of(q, v), Arrays.asList(null, Mask.all(2, 5))));
        assertTrue(wide.getMessage().contains("value's mask") && wide.getMessage().contains("[2, 4]")
                && wide.getMessage().contains("[2, 5]"), wide.getMessage());
        assertThrows(IllegalArgumentException.class, () -> fixed.call(List.of(q, v), Arrays.asList(Mask.all(1, 1), null)));
        Attention additive = new Attention("add", Attention.Score.ADDITIVE, true, false, false);
        additive.setWeights(List.of(r.uniform(1, 4)));
        IllegalArgumentException scale = assertThrows(IllegalArgumentException.class,
                () -> additive.outputShapes(List.of(new int[] {4, 3}, new int[] {4, 3})));
        assertTrue(scale.getMessage().contains("4 values") && scale.getMessage().contains("3 features"),
                scale.getMessage());
    }
}
