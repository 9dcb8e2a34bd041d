package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Conv1D, PReLU, BatchNormalization and LayerNormalization refuse weights for another channel
 * count at setWeights, where the input's is known (weights set before, or the model the layer was
 * built in), naming the layer, the weight, the expected and the actual shape, as Dense and the
 * recurrent layers do; weights that fit are taken and used.
 */
class WeightChannelsTest {

    private static final long SEED = 7101L;

    @Test
    void conv1dRefusesAKernelForOtherChannelsThanItsModelGives() {
        RandomTensors r = new RandomTensors(SEED);
        Conv1D conv = new Conv1D("conv", 5, 3, 1, 1, "causal", OutputActivation.named("linear", KerasVersion.KERAS_3), true);
        Model model = Model.sequential("m").input(-1, 4).add(conv).build();
        assertRefused(() -> conv.setWeights(List.of(r.uniform(0.5, 3, 3, 5), r.uniform(0.5, 5))),
                "Layer 'conv' (Conv1D): weight 'kernel' must have shape [3, 4, 5]; got [3, 3, 5]");
        Tensor kernel = r.uniform(0.5, 3, 4, 5);
        Tensor bias = r.uniform(0.5, 5);
        conv.setWeights(List.of(kernel, bias));
        Tensor x = r.uniform(1, 2, 6, 4);
        Conv1D alone = new Conv1D("alone", 5, 3, 1, 1, "causal", OutputActivation.named("linear", KerasVersion.KERAS_3), true);
        alone.setWeights(List.of(kernel, bias));
        Compare.assertClose("seed " + SEED, alone.call(List.of(x), null).get(0), model.predict(x), Tolerance.FP32);
        // weights set before fix C for a layer in no model too
        assertRefused(() -> alone.setWeights(List.of(r.uniform(0.5, 3, 6, 5), r.uniform(0.5, 5))),
                "Layer 'alone' (Conv1D): weight 'kernel' must have shape [3, 4, 5]; got [3, 6, 5]");
    }

    @Test
    void preluRefusesAnAlphaThatDoesNotFitItsModelsInput() {
        RandomTensors r = new RandomTensors(SEED + 1);
        PRelu prelu = new PRelu("prelu");
        Model model = Model.sequential("m").input(6, 4).add(prelu).build();
        assertRefused(() -> prelu.setWeights(List.of(r.uniform(0.5, 1, 3))),
                "Layer 'prelu' (PReLU): weight 'alpha' must have shape [6, 4], the shape of its inputs [batch, 6, 4]",
                "got [1, 3]");
        assertRefused(() -> prelu.setWeights(List.of(r.uniform(0.5, 4))), "must have shape [6, 4]", "got [4]");
        Tensor alpha = r.uniform(0.5, 1, 4);
        prelu.setWeights(List.of(alpha));
        Tensor x = r.uniform(1, 2, 6, 4);
        float[] y = model.predict(x).data();
        for (int i = 0; i < y.length; i++) {
            float v = x.data()[i];
            float want = v > 0 ? v : alpha.data()[i % 4] * v;
            assertTrue(Math.abs(y[i] - want) <= 1e-6f * Math.abs(want), "seed " + (SEED + 1) + ", element " + i);
        }
    }

    @Test
    void normalizationsRefuseWeightsForOtherFeaturesThanTheirModelGives() {
        RandomTensors r = new RandomTensors(SEED + 2);
        BatchNormalization bn = new BatchNormalization("bn", -1, 1e-3, true, true);
        LayerNormalization ln = new LayerNormalization("ln", -1, 1e-3, true, true);
        Model model = Model.sequential("m").input(-1, 4).add(bn).add(ln).build();
        assertRefused(() -> bn.setWeights(List.of(r.uniform(1, 3), r.uniform(1, 3), r.uniform(1, 3), r.uniform(1, 3))),
                "Layer 'bn' (BatchNormalization): weight 'gamma' must have shape [4]; got [3]");
        assertRefused(() -> ln.setWeights(List.of(r.uniform(1, 5), r.uniform(1, 5))),
                "Layer 'ln' (LayerNormalization): weight 'gamma' must have shape [4]; got [5]");
        Tensor variance = Tensor.of(new float[] {0.5f, 1, 1.5f, 2}, 4);
        List<Tensor> bnWeights = List.of(r.uniform(1, 4), r.uniform(1, 4), r.uniform(1, 4), variance);
        bn.setWeights(bnWeights);
        List<Tensor> lnWeights = List.of(r.uniform(1, 4), r.uniform(1, 4));
        ln.setWeights(lnWeights);
        Tensor x = r.uniform(1, 2, 3, 4);
        BatchNormalization bnAlone = new BatchNormalization("bn2", -1, 1e-3, true, true);
        bnAlone.setWeights(bnWeights);
        LayerNormalization lnAlone = new LayerNormalization("ln2", -1, 1e-3, true, true);
        lnAlone.setWeights(lnWeights);
        Tensor expected = lnAlone.call(List.of(bnAlone.call(List.of(x), Collections.singletonList(null)).get(0)),
                Collections.singletonList(null)).get(0);
        Compare.assertClose("seed " + (SEED + 2), expected, model.predict(x), Tolerance.FP32);
        // weights set before fix the size for a layer in no model too
        assertRefused(() -> bnAlone.setWeights(List.of(r.uniform(1, 2), r.uniform(1, 2), r.uniform(1, 2), r.uniform(1, 2))),
                "Layer 'bn2' (BatchNormalization): weight 'gamma' must have shape [4]; got [2]");
    }

    /**
     * A layer reused in a second model is held to the channel count of the first, as Keras' build
     * fixes it: the second model is refused when built, and the first keeps taking its weights.
     */
    @Test
    void aLayerReusedInAModelOfOtherChannelsIsRefusedThereAndKeepsTheFirst() {
        RandomTensors r = new RandomTensors(SEED + 3);
        Conv1D conv = new Conv1D("conv", 5, 3, 1, 1, "causal", OutputActivation.named("linear", KerasVersion.KERAS_3), true);
        BatchNormalization bn = new BatchNormalization("bn", -1, 1e-3, true, true);
        LayerNormalization ln = new LayerNormalization("ln", -1, 1e-3, true, true);
        Model first = Model.sequential("first").input(-1, 4).add(conv).add(bn).add(ln).build();
        assertRefused(() -> Model.sequential("second").input(-1, 6).add(conv).build(),
                "Layer 'conv' (Conv1D)", "built for inputs of 4 channels", "cannot take 6");
        assertRefused(() -> Model.sequential("second").input(-1, 3).add(bn).build(),
                "Layer 'bn' (BatchNormalization)", "built for inputs of 5 features", "cannot take 3");
        assertRefused(() -> Model.sequential("second").input(-1, 3).add(ln).build(),
                "Layer 'ln' (LayerNormalization)", "built for inputs of 5 features", "cannot take 3");
        Model.sequential("same").input(7, 4).add(conv).build();            // the same channels: taken
        Tensor kernel = r.uniform(0.5, 3, 4, 5);
        Tensor bias = r.uniform(0.5, 5);
        conv.setWeights(List.of(kernel, bias));
        List<Tensor> bnWeights = List.of(r.uniform(1, 5), r.uniform(1, 5), r.uniform(1, 5),
                Tensor.of(new float[] {0.5f, 1, 1.5f, 2, 2.5f}, 5));
        bn.setWeights(bnWeights);
        List<Tensor> lnWeights = List.of(r.uniform(1, 5), r.uniform(1, 5));
        ln.setWeights(lnWeights);
        Tensor x = r.uniform(1, 2, 6, 4);
        Conv1D conv2 = new Conv1D("conv2", 5, 3, 1, 1, "causal", OutputActivation.named("linear", KerasVersion.KERAS_3), true);
        conv2.setWeights(List.of(kernel, bias));
        BatchNormalization bn2 = new BatchNormalization("bn2", -1, 1e-3, true, true);
        bn2.setWeights(bnWeights);
        LayerNormalization ln2 = new LayerNormalization("ln2", -1, 1e-3, true, true);
        ln2.setWeights(lnWeights);
        Tensor expected = x;
        for (Layer l : List.<Layer>of(conv2, bn2, ln2)) {
            expected = l.call(List.of(expected), Collections.singletonList(null)).get(0);
        }
        Compare.assertClose("seed " + (SEED + 3), expected, first.predict(x), Tolerance.FP32);
    }

    /**
     * A PReLU reused in a second model keeps the first model's input shape for its alpha: the first
     * model's alpha is taken, one of another rank is refused when built.
     */
    @Test
    void aPreluReusedInASecondModelKeepsTheFirstModelsShape() {
        RandomTensors r = new RandomTensors(SEED + 4);
        PRelu prelu = new PRelu("prelu");
        Model first = Model.sequential("first").input(6, 4).add(prelu).build();
        assertRefused(() -> Model.sequential("second").input(4).add(prelu).build(),
                "Layer 'prelu' (PReLU) was built for inputs [batch, 6, 4]", "cannot take [batch, 4]");
        Model.sequential("second").input(7, 4).add(prelu).build();      // alpha [1, 4] would fit both
        Tensor alpha = r.uniform(0.5, 6, 4);
        prelu.setWeights(List.of(alpha));
        Tensor x = r.uniform(1, 2, 6, 4);
        float[] y = first.predict(x).data();
        for (int i = 0; i < y.length; i++) {
            float v = x.data()[i];
            float want = v > 0 ? v : alpha.data()[i % 24] * v;
            assertTrue(Math.abs(y[i] - want) <= 1e-6f * Math.abs(want), "seed " + (SEED + 4) + ", element " + i);
        }
    }

    private static void assertRefused(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
        }
    }
}
