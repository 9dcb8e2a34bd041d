package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.Sgemm;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Conv1dReference;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Conv1D (windows laid out in blocks and multiplied by the kernel on the backend's affine map)
 * against conv1d_cases.json, made independently with PyTorch's conv1d (every padding, kernel sizes
 * 1–4, strides, dilations, inputs shorter than the dilated kernel), and against taps written out
 * directly on shapes that span several blocks, on the reference and both fast-path SGEMMs.
 */
class Conv1DTest {

    private static final String[] PADDINGS = {"valid", "same", "causal"};

    @Test
    void matchesTheIndependentFixturesOnEveryBackend() {
        JsonNode cases = Fixtures.json("fixtures/layers/conv1d_cases.json").get("cases");
        assertEquals(60, cases.size(), "fixture cases");
        for (RecurrentBackend backend : List.of(RecurrentReference.INSTANCE, RecurrentCpu.INSTANCE,
                RecurrentCpu.create(Sgemm.plain(), 3))) {
            double tolerance = backend == RecurrentReference.INSTANCE ? Tolerance.REFERENCE : Tolerance.FP32;
            for (JsonNode c : cases) {
                Conv1D conv = new Conv1D(null, c.get("filters").asInt(), c.get("kernel_size").asInt(),
                        c.get("strides").asInt(), c.get("dilation_rate").asInt(), c.get("padding").asText(),
                        OutputActivation.named(c.get("activation").asText(), KerasVersion.KERAS_3),
                        c.get("use_bias").asBoolean(), backend);
                conv.setWeights(Fixtures.tensors(c.get("weights")));
                Tensor x = Fixtures.tensor(c.get("input"));
                Tensor y = conv.call(List.of(x), null).get(0);
                JsonNode e = c.get("expected");
                Compare.assertClose(c.get("name").asText() + " on " + backend.name(), Fixtures.shape(e),
                        Fixtures.doubles(e), y, tolerance);
                assertEquals(List.of(y.dim(1), y.dim(2)), boxed(conv.outputShapes(List.of(new int[] {x.dim(1), x.dim(2)}))
                        .get(0)), c.get("name").asText() + ": outputShapes agrees with call");
            }
        }
    }

    @Test
    void manyBlocksOfWindowsMatchTheDirectTaps() {
        RandomTensors r = new RandomTensors(5301L);
        // {batch, time, channels, filters, kernel, stride, dilation}; rows = batch·T' span several blocks
        int[][] shapes = {{9, 900, 48, 40, 5, 1, 1}, {6, 3000, 128, 33, 3, 2, 1}, {20, 1000, 17, 64, 4, 1, 3},
                {4, 2100, 130, 10, 1, 1, 1}, {2, 100000, 1, 64, 3, 3, 1}};
        for (int[] s : shapes) {
            Tensor x = r.uniform(1, s[0], s[1], s[2]);
            Tensor kernel = r.uniform(1 / Math.sqrt(s[2] * s[4]), s[4], s[2], s[3]);
            Tensor bias = r.uniform(0.5, s[3]);
            for (String padding : PADDINGS) {
                Conv1D fast = conv(s, padding, RecurrentCpu.INSTANCE, kernel, bias);
                Tensor y = fast.call(List.of(x), null).get(0);
                int outT = y.dim(1);
                int span = (s[4] - 1) * s[6];
                int padLeft = switch (padding) {
                    case "causal" -> span;
                    case "same" -> Math.max(0, (outT - 1) * s[5] + span + 1 - s[1]) / 2;
                    default -> 0;
                };
                assertEquals(padding.equals("valid") ? (s[1] - span - 1) / s[5] + 1 : (s[1] + s[5] - 1) / s[5], outT,
                        "output length, padding " + padding);
                float[] expected = Conv1dReference.conv(x.data(), s[0], s[1], s[2], kernel.data(), s[4], s[3],
                        bias.data(), s[5], s[6], padLeft, outT);
                String what = "shape " + java.util.Arrays.toString(s) + " padding " + padding + " seed " + r.seed();
                assertTrue((long) s[0] * outT * (s[2] * s[4] + s[3]) > Conv1D.BLOCK_FLOATS || s[4] == 1,
                        what + ": should span more than one block");
                Compare.assertClose(what, Tensor.wrap(expected, s[0], outT, s[3]), y, Tolerance.FP32);
            }
        }
    }

    @Test
    void newWeightsAreUsedAtOnce() {
        RandomTensors r = new RandomTensors(5302L);
        int[] s = {3, 40, 6, 5, 3, 1, 1};
        Tensor x = r.uniform(1, 3, 40, 6);
        Conv1D fast = conv(s, "same", RecurrentCpu.INSTANCE, r.uniform(0.4, 3, 6, 5), r.uniform(0.5, 5));
        for (int round = 0; round < 3; round++) {
            Tensor kernel = r.uniform(0.4, 3, 6, 5);
            Tensor bias = r.uniform(0.5, 5);
            fast.setWeights(List.of(kernel, bias));
            Tensor expected = conv(s, "same", RecurrentReference.INSTANCE, kernel, bias).call(List.of(x), null).get(0);
            Compare.assertClose("round " + round, expected, fast.call(List.of(x), null).get(0), Tolerance.FP32);
        }
        assertSame(RecurrentCpu.INSTANCE, fast.backend());
    }

    @Test
    void badInputNamesTheLayerAndTheShapes() {
        Conv1D conv = new Conv1D("feat", 4, 3, 1, 1, "valid", OutputActivation.named("relu", KerasVersion.KERAS_3),
                true, RecurrentCpu.INSTANCE);
        IllegalStateException unset = assertThrows(IllegalStateException.class,
                () -> conv.call(List.of(Tensor.zeros(1, 5, 2)), null));
        assertTrue(unset.getMessage().contains("feat") && unset.getMessage().contains("no weights"), unset.getMessage());
        IllegalArgumentException kernel = assertThrows(IllegalArgumentException.class,
                () -> conv.setWeights(List.of(Tensor.zeros(2, 2, 4), Tensor.zeros(4))));
        assertTrue(kernel.getMessage().contains("[3, C, 4]") && kernel.getMessage().contains("[2, 2, 4]"),
                kernel.getMessage());
        conv.setWeights(List.of(Tensor.zeros(3, 2, 4), Tensor.zeros(4)));
        IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                () -> conv.call(List.of(Tensor.zeros(1, 5, 3)), null));
        assertTrue(channels.getMessage().contains("[batch, timesteps, 2]") && channels.getMessage().contains("[1, 5, 3]"),
                channels.getMessage());
        IllegalArgumentException shortInput = assertThrows(IllegalArgumentException.class,
                () -> conv.call(List.of(Tensor.zeros(1, 2, 2)), null));
        assertTrue(shortInput.getMessage().contains("at least 3 timesteps"), shortInput.getMessage());
    }

    private static Conv1D conv(int[] s, String padding, RecurrentBackend backend, Tensor kernel, Tensor bias) {
        Conv1D c = new Conv1D(null, s[3], s[4], s[5], s[6], padding,
                OutputActivation.named("linear", KerasVersion.KERAS_3), true, backend);
        c.setWeights(List.of(kernel, bias));
        return c;
    }

    private static List<Integer> boxed(int[] a) {
        List<Integer> out = new ArrayList<>();
        for (int v : a) {
            out.add(v);
        }
        return out;
    }

    /**
     * How many steps each padding needs, as Keras computes the output length: 'valid' the kernel's
     * dilated span, 'same' and 'causal' one step (fewer steps than the kernel are fine); the message
     * says that number, for the static shape and for a call.
     */
    @Test
    void theStepsNeededAreThoseOfThePadding() {
        RandomTensors r = new RandomTensors(5303L);
        Tensor kernel = r.uniform(0.5, 3, 2, 4);
        Tensor bias = r.uniform(0.5, 4);
        for (String padding : new String[] {"causal", "same", "valid"}) {
            Conv1D conv = new Conv1D("conv", 4, 3, 1, 2, padding, OutputActivation.named("linear", KerasVersion.KERAS_3),
                    true);
            conv.setWeights(List.of(kernel, bias));
            int needed = padding.equals("valid") ? 5 : 1;       // (3 - 1) * 2 + 1 steps, or any step
            assertEquals(1, conv.outputShapes(List.of(new int[] {needed, 2})).get(0)[0], padding);
            assertEquals(1, conv.call(List.of(r.uniform(1, 2, needed, 2)), null).get(0).dim(1), padding);
            String want = "needs at least " + needed + (needed == 1 ? " timestep " : " timesteps ") + "with padding '"
                    + padding + "'";
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> conv.outputShapes(List.of(new int[] {needed - 1, 2})));
            assertTrue(shape.getMessage().contains(want) && shape.getMessage().contains("[batch, " + (needed - 1) + ", 2]"),
                    padding + ": " + shape.getMessage());
            IllegalArgumentException call = assertThrows(IllegalArgumentException.class,
                    () -> conv.call(List.of(Tensor.zeros(2, needed - 1, 2)), null));
            assertTrue(call.getMessage().contains(want) && call.getMessage().contains("got " + (needed - 1) + " timesteps"),
                    padding + ": " + call.getMessage());
            if (padding.equals("valid")) {
                assertTrue(call.getMessage().contains("(kernel_size - 1) * dilation_rate + 1 = 5")
                        && call.getMessage().contains("padding 'same' or 'causal'"), call.getMessage());
            }
        }
    }

    /** Too few steps for the kernel are refused when the model is built; null weights by name. */
    @Test
    void tooShortInputsAndNullWeightsAreRefused() {
        Conv1D conv = new Conv1D("conv", 2, 3, 1, 1, "valid", OutputActivation.named("linear", KerasVersion.KERAS_3), true);
        IllegalArgumentException shortInput = assertThrows(IllegalArgumentException.class,
                () -> conv.outputShapes(List.of(new int[] {2, 4})));
        assertTrue(shortInput.getMessage().contains("'conv'") && shortInput.getMessage().contains("at least 3 timesteps")
                && shortInput.getMessage().contains("[batch, 2, 4]"), shortInput.getMessage());
        assertEquals(1, conv.outputShapes(List.of(new int[] {3, 4})).get(0)[0]);
        IllegalArgumentException nulls = assertThrows(IllegalArgumentException.class,
                () -> conv.setWeights(java.util.Arrays.asList(null, null)));
        assertTrue(nulls.getMessage().contains("'conv'") && nulls.getMessage().contains("null"), nulls.getMessage());
    }
}
