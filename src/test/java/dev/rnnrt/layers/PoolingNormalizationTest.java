package dev.rnnrt.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D, GlobalAveragePooling1D, BatchNormalization
 * and LayerNormalization against pooling_norm_cases.json, made independently with PyTorch (every
 * padding and several pool sizes and strides, masked global averages, every center/scale
 * combination); masks through a model; the errors a user can meet.
 */
class PoolingNormalizationTest {

    @Test
    void everyLayerMatchesTheIndependentFixtures() {
        JsonNode cases = Fixtures.json("fixtures/layers/pooling_norm_cases.json").get("cases");
        assertEquals(46, cases.size(), "fixture cases");
        for (JsonNode c : cases) {
            String name = c.get("name").asText();
            Layer layer = switch (c.get("layer").asText()) {
                case "pooling" -> new Pooling1D(null, mode(c), c.get("pool_size").asInt(), c.get("strides").asInt(),
                        c.get("padding").asText());
                case "global" -> new GlobalPooling1D(null, mode(c), c.get("keepdims").asBoolean());
                case "batch_normalization" -> {
                    BatchNormalization bn = new BatchNormalization(null, -1, c.get("epsilon").asDouble(),
                            c.get("center").asBoolean(), c.get("scale").asBoolean());
                    bn.setWeights(Fixtures.tensors(c.get("weights")));
                    yield bn;
                }
                case "layer_normalization" -> {
                    LayerNormalization ln = new LayerNormalization(null, -1, c.get("epsilon").asDouble(),
                            c.get("center").asBoolean(), c.get("scale").asBoolean());
                    ln.setWeights(Fixtures.tensors(c.get("weights")));
                    yield ln;
                }
                default -> throw new IllegalStateException(name);
            };
            Tensor x = Fixtures.tensor(c.get("input"));
            Mask mask = Fixtures.mask(c.get("mask"));
            Tensor y = layer.call(List.of(x), Collections.singletonList(mask)).get(0);
            JsonNode e = c.get("expected");
            Compare.assertClose(name, Fixtures.shape(e), Fixtures.doubles(e), y, Tolerance.REFERENCE);
            int[] inShape = Arrays.copyOfRange(x.shape(), 1, x.rank());
            assertArrayEquals(Arrays.copyOfRange(y.shape(), 1, y.rank()), layer.outputShapes(List.of(inShape)).get(0),
                    name + ": outputShapes agrees with call");
        }
    }

    @Test
    void theGlobalAverageTakesTheModelsMaskAndPassesNoneOn() {
        RandomTensors r = new RandomTensors(6101L);
        Embedding embedding = Embedding.of("embedding", 9, 4, true, Initializer.zeros());
        embedding.setWeights(List.of(r.uniform(1, 9, 4)));
        Lstm lstm = Lstm.builder(3).name("lstm").returnSequences(true).build();
        lstm.setWeights(List.of(r.uniform(0.5, 4, 12), r.uniform(0.5, 3, 12), r.uniform(0.5, 12)));
        GlobalPooling1D average = new GlobalPooling1D("average", Pooling1D.Mode.AVERAGE, false);
        Dense dense = Dense.builder(2).name("dense").build();
        dense.setWeights(List.of(r.uniform(0.5, 3, 2), r.uniform(0.5, 2)));
        Model model = Model.sequential("pooled").input(5).add(embedding).add(lstm).add(average).add(dense).build();
        Tensor ids = Tensor.of(new float[] {3, 1, 4, 0, 0, 0, 2, 7, 1, 8, 5, 5, 5, 5, 5}, 3, 5);

        Mask mask = Mask.of(new boolean[][] {{true, true, true, false, false}, {false, true, true, true, true},
                {true, true, true, true, true}});
        Tensor seq = lstm.call(List.of(embedding.call(List.of(ids), Collections.singletonList(null)).get(0)),
                List.of(mask)).get(0);
        float[] mean = new float[3 * 3];
        for (int b = 0; b < 3; b++) {
            for (int u = 0; u < 3; u++) {
                double sum = 0;
                int n = 0;
                for (int t = 0; t < 5; t++) {
                    if (mask.get(b, t)) {
                        sum += seq.data()[(b * 5 + t) * 3 + u];
                        n++;
                    }
                }
                mean[b * 3 + u] = (float) (sum / n);
            }
        }
        Tensor expected = dense.apply(Tensor.wrap(mean, 3, 3));
        Compare.assertClose("Embedding(mask_zero) -> LSTM -> GlobalAveragePooling1D -> Dense", expected,
                model.predict(ids), Tolerance.REFERENCE);
        assertNull(average.outputMasks(List.of(seq), List.of(mask), List.of(expected)).get(0), "no mask passed on");
    }

    @Test
    void layersThatTakeNoMaskAreRefusedWhenOneReachesThem() {
        for (Layer noMask : List.of(new Pooling1D("pool", Pooling1D.Mode.MAX, 2, 0, "valid"),
                new GlobalPooling1D("pool", Pooling1D.Mode.MAX, false))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Model.sequential("m").input(-1, 4).add(Masking.of("masking", 0.0)).add(noMask).build());
            assertTrue(e.getMessage().contains("'pool'") && e.getMessage().contains("does not support masking")
                    && e.getMessage().contains("'masking'"), e.getMessage());
        }
        BatchNormalization bn = new BatchNormalization("bn", -1, 1e-3, true, true);
        bn.setWeights(List.of(Tensor.of(new float[] {1, 1, 1, 1}, 4), Tensor.zeros(4), Tensor.zeros(4), Tensor.of(new float[] {1, 1, 1, 1}, 4)));
        Model kept = Model.sequential("m").input(-1, 4).add(Masking.of("masking", 0.0)).add(bn)
                .add(new GlobalPooling1D("avg", Pooling1D.Mode.AVERAGE, false)).build();
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 0, 0, 0, 0}, 1, 2, 4);
        float scale = (float) (1 / Math.sqrt(1 + 1e-3));
        assertArrayEquals(new float[] {1 * scale, 2 * scale, 3 * scale, 4 * scale}, kept.predict(x).data(), 1e-6f,
                "BatchNormalization keeps the mask: the masked step is left out of the average");
    }

    @Test
    void batchRenormalizationUsesTheMovingStatisticsAndIgnoresItsOwnWeights() {
        RandomTensors r = new RandomTensors(6102L);
        List<Tensor> four = List.of(r.uniform(1, 5), r.uniform(0.5, 5), r.uniform(0.5, 5),
                Tensor.of(new float[] {0.5f, 1, 1.5f, 2, 2.5f}, 5));
        List<Tensor> seven = new java.util.ArrayList<>(four);
        seven.addAll(List.of(r.uniform(1, 5), r.uniform(1, 5), r.uniform(1, 5)));   // stddev, renorm mean / stddev
        BatchNormalization plain = new BatchNormalization("bn", -1, 1e-3, true, true);
        plain.setWeights(four);
        BatchNormalization renorm = new BatchNormalization("bn", -1, 1e-3, true, true, true);
        renorm.setWeights(seven);
        Tensor x = r.uniform(2, 3, 4, 5);
        Compare.assertIdentical("renorm at inference", plain.call(List.of(x), Collections.singletonList(null)).get(0),
                renorm.call(List.of(x), Collections.singletonList(null)).get(0));
        assertThrows(IllegalArgumentException.class, () -> plain.setWeights(seven), "without renorm: 7 weights refused");
    }

    @Test
    void badInputNamesTheLayerAndTheShapes() {
        Pooling1D pool = new Pooling1D("pool", Pooling1D.Mode.AVERAGE, 4, 0, "valid");
        IllegalArgumentException shortInput = assertThrows(IllegalArgumentException.class,
                () -> pool.call(List.of(Tensor.zeros(1, 3, 2)), Collections.singletonList(null)));
        assertTrue(shortInput.getMessage().contains("'pool'") && shortInput.getMessage().contains("at least 4 timesteps"),
                shortInput.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Pooling1D("p", Pooling1D.Mode.MAX, 2, 0, "causal"));

        BatchNormalization bn = new BatchNormalization("bn", -1, 1e-3, true, false);
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> bn.setWeights(List.of(Tensor.zeros(4), Tensor.zeros(4), Tensor.zeros(4), Tensor.zeros(4))));
        assertTrue(count.getMessage().contains("beta, moving_mean, moving_variance") && count.getMessage().contains("got 4"),
                count.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> bn.setWeights(List.of(Tensor.zeros(4), Tensor.zeros(3), Tensor.zeros(4))));
        assertTrue(shape.getMessage().contains("'moving_mean'") && shape.getMessage().contains("[4]")
                && shape.getMessage().contains("[3]"), shape.getMessage());
        bn.setWeights(List.of(Tensor.zeros(4), Tensor.zeros(4), Tensor.of(new float[] {1, 1, 1, 1}, 4)));
        IllegalArgumentException channels = assertThrows(IllegalArgumentException.class,
                () -> bn.call(List.of(Tensor.zeros(2, 5, 3)), Collections.singletonList(null)));
        assertTrue(channels.getMessage().contains("[batch, ..., 4]") && channels.getMessage().contains("[2, 5, 3]"),
                channels.getMessage());

        LayerNormalization overTime = new LayerNormalization("ln", 1, 1e-3, false, false);
        IllegalArgumentException axis = assertThrows(IllegalArgumentException.class,
                () -> overTime.outputShapes(List.of(new int[] {5, 4})));
        assertTrue(axis.getMessage().contains("axis 1") && axis.getMessage().contains("last axis"), axis.getMessage());
        IllegalArgumentException noWeights = assertThrows(IllegalArgumentException.class,
                () -> new LayerNormalization("ln", 0, 1e-3, true, true));
        assertTrue(noWeights.getMessage().contains("axis 0"), noWeights.getMessage());
    }

    private static Pooling1D.Mode mode(JsonNode c) {
        return c.get("mode").asText().equals("max") ? Pooling1D.Mode.MAX : Pooling1D.Mode.AVERAGE;
    }
}
