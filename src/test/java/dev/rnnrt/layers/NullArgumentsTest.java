package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.model.Model;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A null where an object is required fails at the call that gives it, naming the argument (or, for a
 * list of weights, which weight): not later, from deep inside, when the layer first runs or prints.
 */
class NullArgumentsTest {

    private static void assertMessage(Class<? extends Throwable> type, Executable call, String... parts) {
        Throwable e = assertThrows(type, call);
        for (String p : parts) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(p),
                    "message lacks '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void aMergeWithoutAModeIsRefusedWhenMade() {
        Throwable e = assertThrows(NullPointerException.class, () -> Merge.of("join", null));
        assertEquals("mode", e.getMessage());
        e = assertThrows(NullPointerException.class, () -> Merge.of(null, null));
        assertEquals("mode", e.getMessage());
    }

    @Test
    void aConv1DWithoutAnActivationIsRefusedWhenMade() {
        Throwable e = assertThrows(NullPointerException.class,
                () -> new Conv1D("conv", 2, 3, 1, 1, "valid", null, true));
        assertEquals("activation", e.getMessage());
    }

    @Test
    void aNullInputIsNamed() {
        Model m = Model.sequential("m").input(-1, 4).add(Dense.builder(2).build()).build();
        assertMessage(IllegalArgumentException.class, () -> m.predict((Tensor) null), "Model 'm'", "input 'm_input'",
                "null");
        assertMessage(IllegalArgumentException.class, () -> Dense.builder(2).name("head").build().apply(null),
                "Layer 'head' (Dense)", "null");
    }

    @Test
    void aNullWeightOfMultiHeadAttentionIsNamed() {
        MultiHeadAttention mha = new MultiHeadAttention("mha", 2, 3, 3, true, -1, false, false);
        Tensor[] weights = new Tensor[8];
        weights[0] = Tensor.of(new float[4 * 2 * 3], 4, 2, 3);
        assertMessage(IllegalArgumentException.class, () -> mha.setWeights(Arrays.asList(weights)),
                "Layer 'mha' (MultiHeadAttention)", "weight 1 (query/bias) is null");
    }

    @Test
    void aNullWeightIsCalledNullNotAWrongCount() {
        // one weight given, and null: "has 1 weight; got 1" would contradict itself
        assertMessage(IllegalArgumentException.class,
                () -> new PRelu("prelu").setWeights(Arrays.asList((Tensor) null)), "Layer 'prelu' (PReLU)",
                "'alpha' is null");
        assertMessage(IllegalArgumentException.class,
                () -> Embedding.of("words", 5, 2, false, Initializer.zeros()).setWeights(Arrays.asList((Tensor) null)),
                "Layer 'words' (Embedding)", "[5, 2]", "got null");
        Tensor mean = Tensor.of(new float[] {0.5f, -1.5f}, 2);
        assertMessage(IllegalArgumentException.class,
                () -> new Normalization("norm", new int[] {-1}, false).setWeights(Arrays.asList(mean, null)),
                "Layer 'norm' (Normalization)", "'variance' is null");
    }
}
