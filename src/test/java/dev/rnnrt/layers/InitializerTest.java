package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Tensor;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class InitializerTest {

    @Test
    void constants() {
        assertArrayEquals(new float[6], Initializer.zeros().sample(2, 3));
        float[] ones = Initializer.ones().sample(4);
        for (float v : ones) {
            assertEquals(1f, v);
        }
        for (float v : Initializer.constant(0.1).sample(3, 2)) {
            assertEquals(0.1f, v);
        }
    }

    /** A hand-written initializer that gives the wrong number of values, or none, is named by the layer it builds. */
    @Test
    void anInitializerGivingTheWrongCountIsNamedByTheLayer() {
        Initializer three = shape -> new float[] {0.25f, -0.5f, 0.75f};
        Initializer none = shape -> null;
        Tensor x = Tensor.of(new float[] {0.5f, -1.5f, 2f, 0.25f}, 1, 2, 2);
        assertNamed(() -> Dense.builder(2).name("head").kernelInitializer(three).build().apply(x),
                "Layer 'head' (Dense)", "kernel_initializer returned 3 values", "[2, 2]", "holds 4");
        assertNamed(() -> Dense.builder(2).name("head").biasInitializer(none).build().apply(x),
                "Layer 'head' (Dense)", "bias_initializer returned nothing", "[2]");
        assertNamed(() -> Embedding.of("words", 4, 2, false, three), "Layer 'words' (Embedding)",
                "embeddings_initializer returned 3 values", "[4, 2]", "holds 8");
        // LSTM's unit_forget_bias draws the bias in two parts, each checked
        assertNamed(() -> Lstm.builder(2).name("enc").biasInitializer(three).build().call(x),
                "Layer 'enc' (LSTM, units=2)", "bias_initializer returned 3 values", "[2]");
        assertNamed(() -> Gru.builder(2).name("dec").recurrentInitializer(none).build().call(x),
                "Layer 'dec' (GRU, units=2)", "recurrent_initializer returned nothing", "[2, 6]");
    }

    private static void assertNamed(org.junit.jupiter.api.function.Executable call, String... parts) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void seededInitializersAreDeterministicAndSeedDependent() {
        List<java.util.function.LongFunction<Initializer>> makers = List.of(Initializer::glorotUniform,
                s -> Initializer.orthogonal(1.0, s), s -> Initializer.randomUniform(-0.05, 0.05, s),
                s -> Initializer.randomNormal(0.0, 0.05, s));
        for (java.util.function.LongFunction<Initializer> make : makers) {
            float[] a = make.apply(7).sample(5, 12);
            assertArrayEquals(a, make.apply(7).sample(5, 12));
            assertFalse(Arrays.equals(a, make.apply(8).sample(5, 12)));
        }
        assertFalse(Arrays.equals(Initializer.glorotUniform().sample(8, 8), Initializer.glorotUniform().sample(8, 8)),
                "unseeded draws differ");
    }

    /**
     * Without a seed every call draws fresh values (Keras' seed=None), so layers made from one
     * configuration get their own weights: the two directions of a Bidirectional layer (Keras recreates
     * the backward one from the forward one's config), layers from one builder. With a seed every call
     * gives the same values, as a Keras initializer with an int seed does.
     */
    @Test
    void unseededInitializersDrawFreshValuesOnEveryCall() {
        for (Initializer unseeded : List.of(Initializer.glorotUniform(), Initializer.orthogonal(),
                Initializer.randomUniform(), Initializer.randomNormal(), Initializer.named("glorot_uniform"))) {
            assertFalse(Arrays.equals(unseeded.sample(5, 12), unseeded.sample(5, 12)), unseeded.toString());
        }
        Initializer seeded = Initializer.glorotUniform(21);
        assertArrayEquals(seeded.sample(5, 12), seeded.sample(5, 12));

        for (RecurrentLayer layer : List.<RecurrentLayer>of(Lstm.builder(4).build(), Gru.builder(4).build(),
                SimpleRnn.builder(4).build())) {
            Bidirectional bi = Bidirectional.of(layer, Bidirectional.MergeMode.SUM);
            bi.build(3);
            List<Tensor> f = bi.forwardLayer().getWeights();
            List<Tensor> b = bi.backwardLayer().getWeights();
            assertFalse(Arrays.equals(f.get(0).data(), b.get(0).data()), layer.className() + " kernels");
            assertFalse(Arrays.equals(f.get(1).data(), b.get(1).data()), layer.className() + " recurrent kernels");
        }
        BidirectionalStack stack = BidirectionalStack.of("bs", StackedRnn.builder(Lstm.builder(4).build(),
                Lstm.builder(4).build()).name("s").build(), Bidirectional.MergeMode.CONCAT, true);
        stack.build(3);
        assertFalse(Arrays.equals(stack.forwardLayer().getWeights().get(0).data(),
                stack.backwardLayer().getWeights().get(0).data()));
        Dense.Builder one = Dense.builder(3);
        Dense d1 = one.build();
        Dense d2 = one.build();
        d1.build(3);
        d2.build(3);
        assertFalse(Arrays.equals(d1.getWeights().get(0).data(), d2.getWeights().get(0).data()));

        // seeded: both directions get the seed's values, as both Keras directions get the config's seed
        Bidirectional same = Bidirectional.of(Lstm.builder(4).kernelInitializer(Initializer.glorotUniform(5))
                .recurrentInitializer(Initializer.orthogonal(1.0, 6)).build());
        same.build(3);
        for (int k = 0; k < 3; k++) {
            assertArrayEquals(same.forwardLayer().getWeights().get(k).data(),
                    same.backwardLayer().getWeights().get(k).data(), "weight " + k);
        }
    }

    @Test
    void glorotUniformStaysWithinItsLimitAndFillsIt() {
        int fanIn = 40;
        int fanOut = 160;
        double limit = Math.sqrt(6.0 / (fanIn + fanOut));
        float[] w = Initializer.glorotUniform(3).sample(fanIn, fanOut);
        double max = 0;
        double sumSq = 0;
        for (float v : w) {
            assertTrue(Math.abs(v) <= limit, "value " + v + " beyond " + limit);
            max = Math.max(max, Math.abs(v));
            sumSq += v * v;
        }
        assertTrue(max > 0.95 * limit);
        // the variance of U(-l, l) is l²/3
        assertEquals(limit * limit / 3, sumSq / w.length, 0.05 * limit * limit / 3);
    }

    @Test
    void orthogonalRowsForWideAndColumnsForTallWeights() {
        // an LSTM recurrent kernel [H, 4H] gets orthonormal rows
        assertOrthonormal(Initializer.orthogonal(1.0, 11).sample(6, 24), 6, 24, true, 1.0);
        // a tall [12, 5] weight gets orthonormal columns, scaled by the gain
        assertOrthonormal(Initializer.orthogonal(2.0, 12).sample(12, 5), 12, 5, false, 2.0);
        // square
        assertOrthonormal(Initializer.orthogonal(1.0, 13).sample(7, 7), 7, 7, true, 1.0);
    }

    @Test
    void randomUniformAndNormalHaveTheirMoments() {
        float[] u = Initializer.randomUniform(-0.5, 1.5, 5).sample(100, 100);
        double mean = 0;
        for (float v : u) {
            assertTrue(v >= -0.5 && v < 1.5);
            mean += v;
        }
        assertEquals(0.5, mean / u.length, 0.02);
        float[] n = Initializer.randomNormal(1.0, 0.5, 5).sample(100, 100);
        double m = 0;
        double sq = 0;
        for (float v : n) {
            m += v;
            sq += v * v;
        }
        m /= n.length;
        assertEquals(1.0, m, 0.02);
        assertEquals(0.5, Math.sqrt(sq / n.length - m * m), 0.02);
    }

    @Test
    void namesAsKerasWritesThem() {
        assertArrayEquals(new float[4], Initializer.named("zeros").sample(4));
        assertArrayEquals(new float[4], Initializer.named("Zeros").sample(4));
        assertEquals(1f, Initializer.named("ones").sample(1)[0]);
        for (String name : List.of("glorot_uniform", "GlorotUniform", "orthogonal", "Orthogonal", "random_uniform",
                "RandomUniform", "random_normal", "RandomNormal", "constant")) {
            assertEquals(12, Initializer.named(name).sample(3, 4).length, name);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Initializer.named("he_uniformm"));
        assertTrue(e.getMessage().contains("'he_uniformm'") && e.getMessage().contains("glorot_uniform"),
                e.getMessage());
    }

    @Test
    void layersUseTheirInitializers() {
        Lstm lstm = Lstm.builder(3).kernelInitializer(Initializer.glorotUniform(1))
                .recurrentInitializer(Initializer.orthogonal(1.0, 2)).biasInitializer(Initializer.constant(0.25))
                .build();
        lstm.build(4);
        List<Tensor> w = lstm.getWeights();
        assertArrayEquals(Initializer.glorotUniform(1).sample(4, 12), w.get(0).data());
        assertArrayEquals(Initializer.orthogonal(1.0, 2).sample(3, 12), w.get(1).data());
        // unit_forget_bias: [init(H), ones(H), init(2H)]
        assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f, 1, 1, 1, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f},
                w.get(2).data());

        Lstm plain = Lstm.builder(2).unitForgetBias(false).biasInitializer(Initializer.constant(0.5)).build();
        plain.build(1);
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, plain.getWeights().get(2).data());

        Gru gru = Gru.builder(2).biasInitializer(Initializer.ones()).build();
        gru.build(3);
        assertArrayEquals(new int[] {2, 6}, gru.getWeights().get(2).shape());
        Gru old = Gru.builder(2).resetAfter(false).build();
        old.build(3);
        assertArrayEquals(new int[] {6}, old.getWeights().get(2).shape());
    }

    private static void assertOrthonormal(float[] w, int rows, int cols, boolean byRows, double gain) {
        int n = byRows ? rows : cols;
        int len = byRows ? cols : rows;
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                double dot = 0;
                for (int k = 0; k < len; k++) {
                    double x = byRows ? w[a * cols + k] : w[k * cols + a];
                    double y = byRows ? w[b * cols + k] : w[k * cols + b];
                    dot += x * y;
                }
                assertEquals(a == b ? gain * gain : 0.0, dot, 1e-5, "dot(" + a + ", " + b + ")");
            }
        }
    }
}
