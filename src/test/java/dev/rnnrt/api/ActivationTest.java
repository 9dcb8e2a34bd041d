package dev.rnnrt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.KerasActivationFormulas;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Each activation against PyTorch's (fixtures/recurrent/activations.json, from make_fixtures.py),
 * and those Keras 3.7 to 3.10 added against formulas written independently in
 * {@link KerasActivationFormulas}.
 */
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
        assertEquals(Activation.values().length, FIXTURE_NAMES.size() + KerasActivationFormulas.added().size(),
                "every activation has a fixture or an independent formula");
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
        // Keras' activation=None, as configs write it or as a Java caller gives it
        assertEquals(Activation.LINEAR, Activation.named(null, v));
        assertEquals(Activation.LINEAR, Activation.named("None", v));
        assertEquals(Activation.LINEAR, Activation.named("", v));
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

    /**
     * GELU in its negative tail and tanh_shrink near 0, where the textbook formulas cancel
     * (1 + erf(x/√2) loses every digit below x ≈ -8, x - tanh(x) every digit near |x| = 1e-8), to a
     * relative 1e-12 of values computed with mpmath at 50 digits from the same doubles.
     */
    @Test
    void geluAndTanhShrinkKeepTheirDigitsWhereTheirFormulasCancel() {
        double[][] tanhShrink = {
            {1e-9, 3.333333333333334e-28}, {-3e-7, -8.9999999999996748e-21}, {2e-5, 2.6666666662400007e-15},
            {-1e-3, -3.3333320000005399e-10}, {0.0999, 0.00033101299058795089}, {0.1, 0.00033200537504418294},
            {-0.35, -0.013624455663667784}, {1.7, 0.76459092939690098}, {-6.0, -5.0000122883492044}};
        double[][] gelu = {
            {-2.0, -0.045500263896358414}, {-4.5, -1.5289529061285272e-5}, {-7.0, -8.958687807200845e-12},
            {-9.0, -1.0157295653584566e-18}, {-12.0, -2.1317785344932148e-32}, {-20.0, -5.5072482372124674e-88},
            {-30.0, -1.4720141781444561e-196}, {-0.3, -0.11462657334331421}, {0.8, 0.6305156811332827},
            {3.0, 2.9959503059051097}};
        for (double[] p : tanhShrink) {
            assertEquals(p[1], Activation.TANH_SHRINK.apply(p[0]), 1e-12 * Math.abs(p[1]), "tanh_shrink at " + p[0]);
        }
        for (double[] p : gelu) {
            assertEquals(p[1], Activation.GELU.apply(p[0]), 1e-12 * Math.abs(p[1]), "gelu at " + p[0]);
        }
        assertEquals(-0.0, Activation.GELU.apply(-40), 1e-300, "underflows to 0");
        assertTrue(Double.isNaN(Activation.GELU.apply(Double.NaN)));
        assertTrue(Double.isNaN(Activation.TANH_SHRINK.apply(Double.NaN)));
    }

    /**
     * The sign of a zero result as Keras' formulas give it: x - tanh(x) is +0 at x = ±0 and where
     * x³/3 underflows (x - x), x * Φ(x) keeps the sign of x (-0 at x = -0 and in GELU's underflowed
     * tail).
     */
    @Test
    void geluAndTanhShrinkGiveZerosOfKerasSign() {
        for (double x : new double[] {0.0, -0.0, 1e-200, -1e-200, Double.MIN_VALUE, -Double.MIN_VALUE}) {
            assertEquals(0.0, Activation.TANH_SHRINK.apply(x), "tanh_shrink at " + x); // equal bits: +0
        }
        assertEquals(-0.0, Activation.GELU.apply(-0.0));
        assertEquals(0.0, Activation.GELU.apply(0.0));
        assertEquals(-0.0, Activation.GELU.apply(-40));
    }

    /**
     * erfc on both sides of each seam of its formulas (±2.5, 1.5) and where 1 - erf(x) would cancel
     * (erfc down to 4e-4 at x = 2.5: a relative 3e-12 there), to a relative 1e-14 of mpmath values at
     * 60 digits from the same doubles; and GELU where it takes erfc there (x = -3.5, -3.25).
     */
    @Test
    void erfcKeepsItsDigitsOnBothSidesOfItsSeams() {
        double[][] erfc = {
            {-2.5, 1.999593047982555}, {Math.nextUp(-2.5), 1.999593047982555}, {-1.2, 1.9103139782296354},
            {0.3, 0.67137324054087258}, {1.4, 0.047714880237351204}, {Math.nextDown(1.5), 0.033894853524689299},
            {1.5, 0.033894853524689273}, {2.0, 0.0046777349810472658}, {2.25, 0.0014627165866811517},
            {2.45, 0.00053058011225105391}, {Math.nextDown(2.5), 0.00040695201744495991},
            {2.5, 0.00040695201744495894}, {4.0, 1.5417257900280019e-8}, {12.0, 1.3562611692059042e-64},
            {26.0, 5.6631924088561428e-296}};
        for (double[] p : erfc) {
            assertEquals(p[1], Erf.erfc(p[0]), 1e-14 * p[1], "erfc at " + p[0]);
        }
        assertEquals(-0.00081420177662433763, Activation.GELU.apply(-3.5), 1e-14 * 0.00081420177662433763);
        assertEquals(-0.0018753313877699929, Activation.GELU.apply(-3.25), 1e-14 * 0.0018753313877699929);
    }

    /**
     * The activations Keras 3.7 to 3.10 added, at random inputs: uniform over [-3, 3], within a few
     * float32 and float64 ulps of the thresholds (±0.5, ±1) and of 0, and large magnitudes up to
     * 1e300, where each must stay finite (Keras' value is finite there, or overflows only in its
     * float32 arithmetic).
     */
    @Test
    void addedActivationsMatchIndependentFormulas() {
        List<Double> xs = new ArrayList<>();
        Random r = new Random(20250701L);
        for (int k = 0; k < 2000; k++) {
            xs.add(-3 + 6 * r.nextDouble());
        }
        for (double edge : new double[] {-1, -0.5, 0, 0.5, 1}) {
            xs.add(edge);
            double up = edge;
            double down = edge;
            float upF = (float) edge;
            float downF = (float) edge;
            for (int k = 0; k < 4; k++) {
                up = Math.nextUp(up);
                down = Math.nextDown(down);
                upF = Math.nextUp(upF);
                downF = Math.nextDown(downF);
                xs.add(up);
                xs.add(down);
                xs.add((double) upF);
                xs.add((double) downF);
            }
            for (int k = 0; k < 50; k++) {
                xs.add(edge + 1e-3 * r.nextGaussian());
            }
        }
        xs.add(-0.0);
        for (int k = 0; k < 500; k++) {
            double magnitude = Math.pow(10, 300 * r.nextDouble());
            xs.add(r.nextBoolean() ? magnitude : -magnitude);
        }
        for (double big : new double[] {20, 40, 88, 89, 200, 710, 750, 1e10, 1.8e19, 1e20, Float.MAX_VALUE, 1e200}) {
            xs.add(big);
            xs.add(-big);
        }
        for (Map.Entry<Activation, DoubleUnaryOperator> e : KerasActivationFormulas.added().entrySet()) {
            Activation a = e.getKey();
            for (double x : xs) {
                double expected = e.getValue().applyAsDouble(x);
                double actual = a.apply(x);
                assertTrue(Double.isFinite(expected), a + "(" + x + ") formula");
                assertTrue(Double.isFinite(actual), a + "(" + x + ") = " + actual);
                assertEquals(expected, actual, 1e-12 * Math.max(1.0, Math.abs(expected)), a + "(" + x + ")");
            }
        }
    }

    /** The values at and beside the thresholds, as Keras' comparisons (>, <, <=, >=) give them. */
    @Test
    void addedActivationsAtTheirThresholds() {
        double above = Math.nextUp(0.5);
        assertEquals(0.0, Activation.HARD_SHRINK.apply(0.5), 0.0, "|x| > 0.5 is strict");
        assertEquals(0.0, Activation.HARD_SHRINK.apply(-0.5), 0.0);
        assertEquals(above, Activation.HARD_SHRINK.apply(above), 0.0);
        assertEquals(-above, Activation.HARD_SHRINK.apply(-above), 0.0);
        assertEquals(0.0, Activation.SOFT_SHRINK.apply(0.5), 0.0);
        assertEquals(0.0, Activation.SOFT_SHRINK.apply(-0.5), 0.0);
        assertEquals(0.25, Activation.SOFT_SHRINK.apply(0.75), 0.0);
        assertEquals(-0.25, Activation.SOFT_SHRINK.apply(-0.75), 0.0);
        assertEquals(0.0, Activation.SPARSE_PLUS.apply(-1), 0.0);
        assertEquals(0.25, Activation.SPARSE_PLUS.apply(0), 0.0);
        assertEquals(1.0, Activation.SPARSE_PLUS.apply(1), 0.0);
        assertEquals(0.0, Activation.SPARSE_SIGMOID.apply(-1), 0.0);
        assertEquals(0.5, Activation.SPARSE_SIGMOID.apply(0), 0.0);
        assertEquals(1.0, Activation.SPARSE_SIGMOID.apply(1), 0.0);
        assertEquals(-1.0, Activation.HARD_TANH.apply(-1), 0.0);
        assertEquals(1.0, Activation.HARD_TANH.apply(1), 0.0);
        assertEquals(1.0, Activation.HARD_TANH.apply(7), 0.0);
        assertEquals(1.0, Activation.SQUAREPLUS.apply(0), 0.0, "sqrt(b) / 2 with b = 4");
        assertEquals(0.0, Activation.CELU.apply(0), 0.0);
        assertEquals(Math.expm1(-2), Activation.CELU.apply(-2), 1e-16, "alpha = 1");
        assertEquals(-Math.log(2), Activation.LOG_SIGMOID.apply(0), 1e-16);
        assertEquals(0.0, Activation.TANH_SHRINK.apply(0), 0.0);
        // large and negative: Keras' float32 (x + sqrt(x² + 4)) / 2 cancels to 0 or overflows; the value is 1/|x|
        assertEquals(1e-20, Activation.SQUAREPLUS.apply(-1e20), 1e-32);
        assertEquals(-1e20, Activation.LOG_SIGMOID.apply(-1e20), 0.0);
        // up to the end of the double range, where x + sqrt(x² + b) itself passes Double.MAX_VALUE
        assertEquals(Double.MAX_VALUE, Activation.SQUAREPLUS.apply(Double.MAX_VALUE), 0.0);
        assertEquals(1e308, Activation.SQUAREPLUS.apply(1e308), 0.0);
        assertEquals(1 / 1e308, Activation.SQUAREPLUS.apply(-1e308), 1e-322);
    }

    @Test
    void addedActivationsByName() {
        Map<String, Activation> names = Map.of("celu", Activation.CELU, "hard_shrink", Activation.HARD_SHRINK,
                "hard_tanh", Activation.HARD_TANH, "log_sigmoid", Activation.LOG_SIGMOID,
                "soft_shrink", Activation.SOFT_SHRINK, "sparse_plus", Activation.SPARSE_PLUS,
                "sparse_sigmoid", Activation.SPARSE_SIGMOID, "squareplus", Activation.SQUAREPLUS,
                "tanh_shrink", Activation.TANH_SHRINK);
        for (Map.Entry<String, Activation> e : names.entrySet()) {
            assertEquals(e.getValue(), Activation.named(e.getKey(), KerasVersion.KERAS_3));
            assertEquals(e.getValue(), Activation.named("keras.activations." + e.getKey(), KerasVersion.KERAS_3));
            assertTrue(Activation.supportedNames().contains(e.getKey()), e.getKey());
        }
    }

    /** threshold needs arguments; glu and sparsemax are not element-wise: each refused, saying so. */
    @Test
    void thresholdGluAndSparsemaxAreRefusedSayingWhy() {
        Map<String, List<String>> why = Map.of(
                "threshold", List.of("'threshold'", "threshold(x, threshold, default_value)", "no defaults"),
                "glu", List.of("'glu'", "not element-wise", "a * sigmoid(b)"),
                "sparsemax", List.of("'sparsemax'", "not element-wise", "simplex"));
        for (Map.Entry<String, List<String>> e : why.entrySet()) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> Activation.named(e.getKey(), KerasVersion.KERAS_3));
            for (String part : e.getValue()) {
                assertTrue(ex.getMessage().contains(part), ex.getMessage());
            }
            assertFalse(Activation.supportedNames().contains(e.getKey()), e.getKey());
        }
    }
}
