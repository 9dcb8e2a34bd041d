package dev.rnnrt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.testing.Fixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each activation against PyTorch's (fixtures/recurrent/activations.json, from make_fixtures.py). */
class ActivationTest {

    private static final Map<String, Activation> FIXTURE_NAMES = Map.ofEntries(
            Map.entry("linear", Activation.LINEAR), Map.entry("tanh", Activation.TANH),
            Map.entry("sigmoid", Activation.SIGMOID), Map.entry("hard_sigmoid_keras2", Activation.HARD_SIGMOID_KERAS2),
            Map.entry("hard_sigmoid_keras3", Activation.HARD_SIGMOID_KERAS3), Map.entry("relu", Activation.RELU),
            Map.entry("relu6", Activation.RELU6), Map.entry("leaky_relu", Activation.LEAKY_RELU),
            Map.entry("elu", Activation.ELU), Map.entry("selu", Activation.SELU),
            Map.entry("softsign", Activation.SOFTSIGN), Map.entry("softplus", Activation.SOFTPLUS),
            Map.entry("swish", Activation.SWISH), Map.entry("hard_silu", Activation.HARD_SILU),
            Map.entry("mish", Activation.MISH), Map.entry("gelu", Activation.GELU),
            Map.entry("exponential", Activation.EXPONENTIAL));

    @Test
    void everyActivationMatchesTorch() {
        JsonNode fixture = Fixtures.json("fixtures/recurrent/activations.json");
        JsonNode xs = fixture.get("x");
        assertEquals(Activation.values().length, FIXTURE_NAMES.size(), "every activation has a fixture");
        for (Map.Entry<String, Activation> e : FIXTURE_NAMES.entrySet()) {
            JsonNode values = fixture.get("values").get(e.getKey());
            for (int k = 0; k < xs.size(); k++) {
                double x = xs.get(k).asDouble();
                double expected = values.get(k).asDouble();
                double actual = e.getValue().apply(x);
                double tol = 1e-12 * Math.max(1.0, Math.abs(expected));
                assertEquals(expected, actual, tol, e.getKey() + "(" + x + ")");
            }
        }
    }

    @Test
    void hardSigmoidDependsOnKerasVersion() {
        assertEquals(Activation.HARD_SIGMOID_KERAS2, Activation.named("hard_sigmoid", KerasVersion.parse("2.15.0")));
        assertEquals(Activation.HARD_SIGMOID_KERAS2, Activation.named("hard_sigmoid", KerasVersion.parse("1.2.2")));
        assertEquals(Activation.HARD_SIGMOID_KERAS3, Activation.named("hard_sigmoid", KerasVersion.parse("3.9.2")));
        // the definitions differ: at x = 1, 0.7 (Keras 2) against 4/6 (Keras 3)
        assertEquals(0.7, Activation.HARD_SIGMOID_KERAS2.apply(1.0), 1e-15);
        assertEquals(4.0 / 6.0, Activation.HARD_SIGMOID_KERAS3.apply(1.0), 1e-15);
    }

    @Test
    void namesAndAliases() {
        KerasVersion v = KerasVersion.KERAS_3;
        assertEquals(Activation.SWISH, Activation.named("silu", v));
        assertEquals(Activation.SWISH, Activation.named("swish", v));
        assertEquals(Activation.HARD_SILU, Activation.named("hard_swish", v));
        assertEquals(Activation.TANH, Activation.named("TANH", v));
        assertEquals(Activation.LINEAR, Activation.named("linear", v));
        for (Activation a : Activation.values()) {
            assertEquals(a.kerasName().equals("hard_sigmoid") ? Activation.HARD_SIGMOID_KERAS3 : a,
                    Activation.named(a.kerasName(), v));
        }
    }

    @Test
    void unknownNameListsTheSupportedOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Activation.named("tanhh", KerasVersion.KERAS_3));
        assertTrue(e.getMessage().contains("'tanhh'"), e.getMessage());
        assertTrue(e.getMessage().contains("sigmoid") && e.getMessage().contains("gelu"), e.getMessage());
    }

    @Test
    void aVersionIsRequired() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Activation.named("hard_sigmoid", null));
        assertTrue(e.getMessage().contains("Keras 2") && e.getMessage().contains("Keras 3"), e.getMessage());
    }

    @Test
    void sigmoidAndSoftplusDoNotOverflow() {
        assertEquals(0.0, Activation.SIGMOID.apply(-1000), 0.0);
        assertEquals(1.0, Activation.SIGMOID.apply(1000), 0.0);
        assertEquals(1000.0, Activation.SOFTPLUS.apply(1000), 1e-9);
        assertEquals(1.0, Activation.GELU.apply(1.0) / (0.5 * (1 + 0.6826894921370859)), 1e-15);
    }
}
