package dev.rnnrt.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Bidirectional(LSTM / GRU / SimpleRNN)} with a frozen direction, in .h5 files as Keras
 * writes them: a layer's weights are its trainable weights, then its non-trainable ones, each list
 * the forward layer's then the backward layer's (tf.keras' base_layer.py gathers them from the two
 * child layers; Keras 3's layer.py filters its weights by each variable's trainable flag, set from
 * the cell that created it). A frozen forward layer with a trainable backward_layer is therefore
 * saved after it. Both directions have the same shapes and weights of their own, so reading them
 * the wrong way round gives other numbers; the expected model is built in Java with each
 * direction's weights set by hand.
 */
class BidirectionalFrozenDirectionTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int I = 4;
    private static final int H = 3;
    private static final String[] CLASSES = {"LSTM", "GRU", "SimpleRNN"};

    @TempDir
    Path dir;

    private final RandomTensors random = new RandomTensors(20260412);

    /** How one direction is written in the config. */
    private enum Direction {
        /** LSTM(…), trainable. */
        TRAINABLE,
        /** LSTM(…, trainable=False). */
        FROZEN,
        /** RNN(LSTMCell(…), trainable=False): the RNN frozen, its cell's config trainable. */
        FROZEN_RNN,
        /** RNN(LSTMCell(…, trainable=False)). */
        FROZEN_CELL
    }

    /** tf.keras 2.9 and 3.6 (model.save("m.h5")): a frozen forward layer's weights come after the backward's. */
    @Test
    void aFrozenForwardLayerIsSavedAfterATrainableBackwardLayer() {
        for (String version : List.of("2.9.0", "2.15.0", "3.6.0")) {
            for (String cls : CLASSES) {
                check(version, cls, Direction.FROZEN, Direction.TRAINABLE, true, true);
                check(version, cls, Direction.FROZEN_CELL, Direction.TRAINABLE, true, true);
            }
        }
        // tf.keras' RNN with trainable=False has no trainable weights; Keras 3 keeps its cell's weights trainable
        check("2.9.0", "GRU", Direction.FROZEN_RNN, Direction.TRAINABLE, true, true);
        check("3.6.0", "GRU", Direction.FROZEN_RNN, Direction.TRAINABLE, true, false);
    }

    /**
     * The forward layer first: a frozen backward layer, both frozen, and a frozen Bidirectional
     * (all its weights non-trainable, each direction in turn).
     */
    @Test
    void otherFrozenDirectionsKeepTheForwardLayerFirst() {
        for (String version : List.of("2.9.0", "3.6.0")) {
            for (String cls : CLASSES) {
                check(version, cls, Direction.TRAINABLE, Direction.FROZEN, true, false);
                check(version, cls, Direction.FROZEN, Direction.FROZEN, true, false);
                check(version, cls, Direction.FROZEN_CELL, Direction.FROZEN_CELL, true, false);
                check(version, cls, Direction.FROZEN, Direction.TRAINABLE, false, false);
                check(version, cls, Direction.TRAINABLE, Direction.FROZEN_CELL, false, false);
            }
        }
    }

    /**
     * A nested tf.keras model keeps one list: the trainable weights of its layers, then the
     * non-trainable ones. A frozen forward layer's weights are among the latter, a trainable
     * backward layer's among the former; a frozen LSTM without a backward_layer freezes both
     * directions. Standalone Keras 2.2.4's Bidirectional sets both directions' trainable to its own.
     */
    @Test
    void nestedModelsListAFrozenDirectionAmongTheNonTrainableWeights() {
        for (String cls : CLASSES) {
            nested("2.9.0", cls, true, new int[] {1, 2, 0});     // backward, Dense, then the frozen forward
            nested("2.9.0", cls, false, new int[] {2, 0, 1});    // Dense, then both frozen directions
            nested("2.2.4", cls, false, new int[] {0, 1, 2});    // all trainable
        }
    }

    /**
     * Keras 3's model.save("m.h5") of a frozen RNN([LSTMCell(trainable=False), LSTMCell()]), alone
     * and in a frozen Bidirectional: a frozen layer's non-trainable weights are its weights, cell by
     * cell (layer.py), not the trainable cell first as Keras 2 lists them. The cells have the same
     * shapes (units = input features), so the other order would swap them silently.
     */
    @Test
    void keras3FrozenStacksListTheirCellsInOrder() {
        for (boolean bidirectional : new boolean[] {false, true}) {
            List<dev.rnnrt.layers.StackedRnn> stacks = new ArrayList<>();
            for (int d = 0; d < (bidirectional ? 2 : 1); d++) {
                stacks.add(dev.rnnrt.layers.StackedRnn.builder(Lstm.builder(I).build(), Lstm.builder(I).build())
                        .name(d == 0 ? "rnn" : "backward_rnn").returnSequences(true).goBackwards(d == 1).build());
            }
            List<List<Tensor>> w = new ArrayList<>();
            for (dev.rnnrt.layers.StackedRnn s : stacks) {
                s.build(I);
                List<Tensor> sw = new ArrayList<>();
                for (Tensor t : s.getWeights()) {
                    sw.add(random.uniform(0.6, t.shape()));
                }
                s.setWeights(sw);
                w.add(sw);
            }
            dev.rnnrt.layers.Layer expected = bidirectional ? dev.rnnrt.layers.BidirectionalStack.of("bidirectional",
                    stacks.get(0), Bidirectional.MergeMode.CONCAT, stacks.get(1), true) : stacks.get(0);
            Model java = Model.sequential("java").input(-1, I).add(expected).build();

            List<Object> cells = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("name", "lstm_cell" + (k == 0 ? "" : "_1"));
                c.put("units", I);
                c.put("activation", "tanh");
                c.put("recurrent_activation", "sigmoid");
                c.put("use_bias", true);
                c.put("trainable", k == 1);
                cells.add(layer("LSTMCell", c, true));
            }
            Map<String, Object> rnn = new LinkedHashMap<>();
            rnn.put("name", "rnn");
            rnn.put("trainable", false);
            rnn.put("return_sequences", true);
            Map<String, Object> stacked = new LinkedHashMap<>();
            stacked.put("name", "stacked_rnn_cells");
            stacked.put("cells", cells);
            rnn.put("cell", layer("StackedRNNCells", stacked, true));
            Map<String, Object> top = layer("RNN", rnn, true);
            String name = "rnn";
            if (bidirectional) {
                Map<String, Object> bi = new LinkedHashMap<>();
                bi.put("name", "bidirectional");
                bi.put("trainable", false);
                bi.put("layer", top);
                Map<String, Object> back = new LinkedHashMap<>(rnn);
                back.put("name", "backward_rnn");
                back.put("go_backwards", true);
                bi.put("backward_layer", layer("RNN", back, true));
                top = layer("Bidirectional", bi, true);
                name = "bidirectional";
            }
            KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
            String[] names = {"kernel", "recurrent_kernel", "bias"};
            for (int d = 0; d < w.size(); d++) {
                for (int j = 0; j < w.get(d).size(); j++) {
                    lw.put(name + "/" + (d == 0 ? "forward_rnn" : "backward_rnn") + "/lstm_cell" + (j < 3 ? "" : "_1")
                            + "/" + names[j % 3], w.get(d).get(j));
                }
            }
            Path file = dir.resolve("keras3_frozen_stack_" + bidirectional + ".h5");
            KerasFileWriter.writeHdf5(file, "3.6.0", keras3Model(name, top), Map.of(name, lw));
            Tensor x = random.uniform(1, 3, 5, I);
            Compare.assertIdentical("Keras 3 frozen " + (bidirectional ? "Bidirectional(RNN(cells))" : "RNN(cells)")
                    + " with a frozen first cell", java.predict(x), KerasModelLoader.load(file).model().predict(x));
        }
    }

    /**
     * A trainable Bidirectional around two stacks of two LSTMCells with units = input features (so
     * that any two cells have the same shapes). tf.keras 2.9: a forward RNN(trainable=False) whose
     * first cell is frozen lists none of its weights as trainable, so the backward stack's come
     * first; its own list is its StackedRNNCells' weights, the trainable cell first. Keras 3.6: a
     * StackedRNNCells(trainable=False) leaves its cells' weights trainable (each cell creates its
     * own), so the forward stack's come first, cell by cell, then the backward stack's trainable
     * cell, then its frozen one.
     */
    @Test
    void trainableBidirectionalsAroundStacksListEachVariableAsKerasMarksIt() {
        // {direction, cell} in the file's order
        stacks("2.9.0", new boolean[] {true, false}, new boolean[][] {{true, false}, {false, false}}, false,
                new int[][] {{1, 0}, {1, 1}, {0, 1}, {0, 0}});
        stacks("3.6.0", new boolean[] {false, false}, new boolean[][] {{false, false}, {true, false}}, true,
                new int[][] {{0, 0}, {0, 1}, {1, 1}, {1, 0}});
    }

    /**
     * Keras 3's model.save("m.h5") of a model holding a nested Sequential [RNN(LSTMCell(I),
     * trainable=False), LSTM(I), TimeDistributed(Dense(I), trainable=False), Dense(I)]: the nested
     * model's list is its weights filtered by each variable's trainable flag, and the frozen RNN and
     * TimeDistributed leave their trainable cell's and layer's weights trainable (3.2+), so the list
     * is in layer order (in 3.0 and 3.1 too, which marked none). Same-shaped layers, so a frozen
     * layer read after the others swaps weights. A frozen LSTM in a 3.1 file is refused: 3.1 marked
     * its weights only if it was frozen after it was built, and saved the same config either way.
     */
    @Test
    void keras3NestedModelsListAFrozenWrappersTrainableWeightsAmongTheTrainableOnes() {
        dev.rnnrt.layers.Layer rnn = Lstm.builder(I).name("rnn").returnSequences(true).build();
        dev.rnnrt.layers.Layer lstm = Lstm.builder(I).name("lstm").returnSequences(true).build();
        Dense tdDense = Dense.builder(I).name("dense").build();
        Dense dense = Dense.builder(I).name("dense_1").build();
        List<Tensor> all = new ArrayList<>();
        for (RecurrentLayer r : List.of((RecurrentLayer) rnn, (RecurrentLayer) lstm)) {
            List<Tensor> w = randomWeights(r);
            r.setWeights(w);
            all.addAll(w);
        }
        for (Dense d : List.of(tdDense, dense)) {
            List<Tensor> w = List.of(random.uniform(0.6, I, I), random.uniform(0.6, I));
            d.setWeights(w);
            all.addAll(w);
        }
        Model java = Model.sequential("java").input(-1, I).add(rnn).add(lstm)
                .add(dev.rnnrt.layers.TimeDistributed.of("time_distributed", tdDense)).add(dense).build();

        Map<String, Object> cell = new LinkedHashMap<>();
        cell.put("name", "lstm_cell");
        cell.put("units", I);
        cell.put("trainable", true);
        Map<String, Object> rnnCfg = new LinkedHashMap<>();
        rnnCfg.put("name", "rnn");
        rnnCfg.put("trainable", false);
        rnnCfg.put("return_sequences", true);
        rnnCfg.put("cell", layer("LSTMCell", cell, true));
        Map<String, Object> lstmCfg = new LinkedHashMap<>();
        lstmCfg.put("name", "lstm");
        lstmCfg.put("units", I);
        lstmCfg.put("return_sequences", true);
        Map<String, Object> tdCfg = new LinkedHashMap<>();
        tdCfg.put("name", "time_distributed");
        tdCfg.put("trainable", false);
        tdCfg.put("layer", layer("Dense", Map.of("name", "dense", "units", I, "trainable", true), true));
        Map<String, Object> input = innerInput(-1, I);
        Map<String, Object> inner = layer("Sequential", Map.of("name", "inner", "trainable", true, "layers",
                List.of(input, layer("RNN", rnnCfg, true), layer("LSTM", lstmCfg, true),
                        layer("TimeDistributed", tdCfg, true),
                        layer("Dense", Map.of("name", "dense_1", "units", I), true))), true);
        KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
        String[] names = {"rnn/lstm_cell/kernel", "rnn/lstm_cell/recurrent_kernel", "rnn/lstm_cell/bias",
            "lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "lstm/lstm_cell/bias",
            "time_distributed/dense/kernel", "time_distributed/dense/bias", "dense_1/kernel", "dense_1/bias"};
        for (int k = 0; k < names.length; k++) {
            lw.put(names[k], all.get(k));
        }
        Tensor x = random.uniform(1, 3, 5, I);
        for (String version : List.of("3.1.0", "3.2.0", "3.6.0")) {
            Path file = dir.resolve("keras3_nested_frozen_wrappers_" + version + ".h5");
            KerasFileWriter.writeHdf5(file, version, keras3Model("inner", inner), Map.of("inner", lw));
            Compare.assertIdentical(version + " nested frozen RNN and TimeDistributed around trainable layers",
                    java.predict(x), KerasModelLoader.load(file).model().predict(x));
        }
        // an LSTM(trainable=False): 3.1 marked its weights only if it was frozen after it was built
        lstmCfg.put("trainable", false);
        Path old = dir.resolve("keras3_nested_frozen_lstm_3.1.0.h5");
        KerasFileWriter.writeHdf5(old, "3.1.0", keras3Model("inner", inner), Map.of("inner", lw));
        ModelLoadException e = org.junit.jupiter.api.Assertions.assertThrows(ModelLoadException.class,
                () -> KerasModelLoader.load(old));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("nested model 'inner'")
                && e.getMessage().contains("'inner/lstm' are frozen")
                && e.getMessage().contains("Keras 3.2 or later"), e.getMessage());
    }

    /**
     * Keras 3's model.save("m.h5") of a model holding a nested Sequential that is itself frozen
     * (trainable=False in its own config) around [BatchNormalization, LSTM(I, trainable=False),
     * BatchNormalization]: a frozen model's trainable_weights are empty and its non_trainable_weights
     * are its weights, layer by layer (layer.py), so the list is in layer order, moving statistics
     * included. Read as a split list (trainable weights, then moving statistics and the frozen
     * LSTM's), the weights come out shifted. The frozen LSTM does not make a 3.1 file ambiguous
     * here: the whole list is in layer order whichever way it was frozen.
     */
    @Test
    void keras3FrozenNestedModelsListTheirWeightsInLayerOrder() {
        dev.rnnrt.layers.BatchNormalization bn = new dev.rnnrt.layers.BatchNormalization("bn", -1, 1e-3, true, true);
        Lstm lstm = Lstm.builder(I).name("lstm").returnSequences(true).build();
        dev.rnnrt.layers.BatchNormalization bn1 = new dev.rnnrt.layers.BatchNormalization("bn_1", -1, 1e-3, true,
                true);
        List<Tensor> all = new ArrayList<>(normWeights());
        bn.setWeights(all);
        List<Tensor> lw = randomWeights(lstm);
        lstm.setWeights(lw);
        all.addAll(lw);
        List<Tensor> bw1 = normWeights();
        bn1.setWeights(bw1);
        all.addAll(bw1);
        Model java = Model.sequential("java").input(-1, I).add(bn).add(lstm).add(bn1).build();

        Map<String, Object> lstmCfg = new LinkedHashMap<>();
        lstmCfg.put("name", "lstm");
        lstmCfg.put("units", I);
        lstmCfg.put("return_sequences", true);
        lstmCfg.put("trainable", false);
        Map<String, Object> input = innerInput(-1, I);
        Map<String, Object> inner = layer("Sequential", Map.of("name", "inner", "trainable", false, "layers",
                List.of(input, batchNormalization("bn"), layer("LSTM", lstmCfg, true), batchNormalization("bn_1"))),
                true);
        KerasFileWriter.LayerWeights weights = new KerasFileWriter.LayerWeights();
        String[] names = {"bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance",
            "lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "lstm/lstm_cell/bias",
            "bn_1/gamma", "bn_1/beta", "bn_1/moving_mean", "bn_1/moving_variance"};
        for (int k = 0; k < names.length; k++) {
            weights.put(names[k], all.get(k));
        }
        Tensor x = random.uniform(1, 3, 5, I);
        for (String version : List.of("3.1.0", "3.2.0", "3.6.0")) {
            Path file = dir.resolve("keras3_frozen_nested_" + version + ".h5");
            KerasFileWriter.writeHdf5(file, version, keras3Model("inner", inner), Map.of("inner", weights));
            Compare.assertIdentical(version + " frozen nested model: its weights in layer order", java.predict(x),
                    KerasModelLoader.load(file).model().predict(x));
        }
    }

    /**
     * Keras 3's model.save("m.h5") of TimeDistributed(Sequential([BatchNormalization,
     * BatchNormalization]), trainable=False), made frozen: the TimeDistributed's own flag leaves its
     * model and layers trainable, but a frozen layer lists its weights in order (layer.py), so the
     * list is in layer order. The two BatchNormalization layers have the same shapes: split into
     * trainable weights and moving statistics, the first would take the second's gamma and beta as
     * its statistics.
     */
    @Test
    void keras3FrozenTimeDistributedAroundAModelListsItsWeightsInLayerOrder() {
        dev.rnnrt.layers.BatchNormalization bn = new dev.rnnrt.layers.BatchNormalization("bn", -1, 1e-3, true, true);
        dev.rnnrt.layers.BatchNormalization bn1 = new dev.rnnrt.layers.BatchNormalization("bn_1", -1, 1e-3, true,
                true);
        List<Tensor> all = new ArrayList<>(normWeights());
        bn.setWeights(all);
        List<Tensor> bw1 = normWeights();
        bn1.setWeights(bw1);
        all.addAll(bw1);
        Model java = Model.sequential("java").input(-1, I).add(bn).add(bn1).build();

        Map<String, Object> input = innerInput(I);
        Map<String, Object> model = layer("Sequential", Map.of("name", "inner", "trainable", true, "layers",
                List.of(input, batchNormalization("bn"), batchNormalization("bn_1"))),
                true);
        Map<String, Object> td = new LinkedHashMap<>();
        td.put("name", "time_distributed");
        td.put("trainable", false);
        td.put("layer", model);
        KerasFileWriter.LayerWeights weights = new KerasFileWriter.LayerWeights();
        String[] names = {"gamma", "beta", "moving_mean", "moving_variance"};
        for (int k = 0; k < all.size(); k++) {
            weights.put("time_distributed/" + (k < 4 ? "bn/" : "bn_1/") + names[k % 4], all.get(k));
        }
        Path file = dir.resolve("keras3_frozen_time_distributed_model.h5");
        KerasFileWriter.writeHdf5(file, "3.6.0", keras3Model("time_distributed", layer("TimeDistributed", td, true)),
                Map.of("time_distributed", weights));
        Tensor x = random.uniform(1, 3, 5, I);
        Compare.assertIdentical("frozen TimeDistributed around a model: its weights in layer order", java.predict(x),
                KerasModelLoader.load(file).model().predict(x));
    }

    /**
     * Keras 3's model.save("m.h5") of a nested Sequential made with trainable=False around a
     * trainable Bidirectional(LSTM(trainable=False), backward_layer=LSTM()): the frozen model lists
     * its weights in layer order, the Bidirectional's forward layer then its backward layer,
     * however the forward layer was frozen, so a 3.1 file is not ambiguous; in 3.6 too.
     */
    @Test
    void keras3FrozenNestedModelsListABidirectionalsDirectionsInOrder() {
        for (String version : List.of("3.1.0", "3.6.0")) {
            Bidirectional expected = javaBidirectional("LSTM");
            List<Tensor> fw = randomWeights(expected.forwardLayer());
            List<Tensor> bw = randomWeights(expected.backwardLayer());
            expected.forwardLayer().setWeights(fw);
            expected.backwardLayer().setWeights(bw);
            Model java = Model.sequential("java").input(-1, I).add(expected).build();
            Map<String, Object> bi = bidirectionalConfig(true, direction("LSTM", Direction.FROZEN, false, true),
                    direction("LSTM", Direction.TRAINABLE, true, true));
            Map<String, Object> input = innerInput(-1, I);
            Map<String, Object> inner = layer("Sequential", Map.of("name", "inner", "trainable", false, "layers",
                    List.of(input, layer("Bidirectional", bi, true))), true);
            KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
            putWeights(lw, "bidirectional/forward_lstm", "LSTM", true, fw);
            putWeights(lw, "bidirectional/backward_lstm", "LSTM", true, bw);
            Path file = dir.resolve("keras3_frozen_nested_bidirectional_" + version + ".h5");
            KerasFileWriter.writeHdf5(file, version, keras3Model("inner", inner), Map.of("inner", lw));
            Tensor x = random.uniform(1, 3, 5, I);
            Compare.assertIdentical(version + " frozen nested model around Bidirectional(frozen LSTM)",
                    java.predict(x), KerasModelLoader.load(file).model().predict(x));
        }
    }

    /**
     * Keras 3's model.save("m.h5") of a trainable TimeDistributed(Sequential([Dense, Dense(trainable=
     * False), Dense], trainable=False)): the model made frozen leaves its layers as they were made, so
     * the TimeDistributed, trainable, lists its weights by each variable's own flag (layer.py): the
     * first and last Dense's, then the frozen one's. The model's own flag does not count here; only a
     * frozen TimeDistributed lists them in layer order. The three Dense layers have the same shapes:
     * read in layer order, the second and third swap weights.
     */
    @Test
    void keras3TrainableTimeDistributedAroundAFrozenModelListsItsWeightsByTheirOwnFlags() {
        List<List<Tensor>> w = new ArrayList<>();
        dev.rnnrt.model.SequentialBuilder java = Model.sequential("java").input(-1, I);
        List<Object> layers = new ArrayList<>();
        layers.add(innerInput(I));
        for (int k = 0; k < 3; k++) {
            Dense d = Dense.builder(I).name("d" + k).build();
            List<Tensor> dw = List.of(random.uniform(0.6, I, I), random.uniform(0.6, I));
            d.setWeights(dw);
            java.add(d);
            w.add(dw);
            layers.add(layer("Dense", Map.of("name", "d" + k, "units", I, "activation", "linear",
                    "trainable", k != 1), true));
        }
        Map<String, Object> td = new LinkedHashMap<>();
        td.put("name", "time_distributed");
        td.put("trainable", true);
        td.put("layer", layer("Sequential", Map.of("name", "inner", "trainable", false, "layers", layers), true));
        KerasFileWriter.LayerWeights weights = new KerasFileWriter.LayerWeights();
        for (int k : new int[] {0, 2, 1}) {
            weights.put("time_distributed/d" + k + "/kernel", w.get(k).get(0))
                    .put("time_distributed/d" + k + "/bias", w.get(k).get(1));
        }
        Path file = dir.resolve("keras3_time_distributed_frozen_model.h5");
        KerasFileWriter.writeHdf5(file, "3.6.0", keras3Model("time_distributed", layer("TimeDistributed", td, true)),
                Map.of("time_distributed", weights));
        Tensor x = random.uniform(1, 3, 5, I);
        Compare.assertIdentical("trainable TimeDistributed around a frozen model: its weights by their own flags",
                java.build().predict(x), KerasModelLoader.load(file).model().predict(x));
    }

    /** BatchNormalization's gamma, beta, moving mean and a positive moving variance, each [I]. */
    private List<Tensor> normWeights() {
        Tensor variance = random.uniform(0.5, I);
        float[] v = variance.data().clone();
        for (int k = 0; k < v.length; k++) {
            v[k] = Math.abs(v[k]) + 0.5f;
        }
        return new ArrayList<>(List.of(random.uniform(1, I), random.uniform(0.5, I), random.uniform(0.5, I),
                Tensor.of(v, I)));
    }

    /**
     * Keras 3.0 and 3.1 marked the weights of a layer made with trainable=False trainable all the
     * same (_track_variable did not look at the layer), but those of a layer frozen after it was
     * built (layer.trainable = False) non-trainable, and both save the same config. A trainable
     * Bidirectional with a frozen forward layer (or cell) and a trainable backward_layer lists the
     * forward weights first in the first case, the backward ones first in the second: refused. A
     * frozen backward layer, or a frozen Bidirectional, lists them forward first either way.
     */
    @Test
    void keras31TopLevelLayersWithAFrozenPartBeforeATrainableOneAreRefused() {
        for (Direction forward : List.of(Direction.FROZEN, Direction.FROZEN_CELL)) {
            Map<String, Object> bi = bidirectionalConfig(true, direction("LSTM", forward, false, true),
                    direction("LSTM", Direction.TRAINABLE, true, true));
            KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
            Bidirectional shapes = javaBidirectional("LSTM");
            putWeights(lw, "bidirectional/forward_lstm", "LSTM", true, randomWeights(shapes.forwardLayer()));
            putWeights(lw, "bidirectional/backward_lstm", "LSTM", true, randomWeights(shapes.backwardLayer()));
            Path file = dir.resolve("keras31_bidirectional_" + forward + ".h5");
            KerasFileWriter.writeHdf5(file, "3.1.0", keras3Model("bidirectional",
                    Map.of("class_name", "Bidirectional", "config", bi)), Map.of("bidirectional", lw));
            ModelLoadException e = org.junit.jupiter.api.Assertions.assertThrows(ModelLoadException.class,
                    () -> KerasModelLoader.load(file), forward.toString());
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("layer 'bidirectional' (Bidirectional)")
                    && e.getMessage().contains("frozen after they were built")
                    && e.getMessage().contains("Keras 3.2 or later, or as a .keras file"), e.getMessage());
        }
        check("3.1.0", "LSTM", Direction.TRAINABLE, Direction.FROZEN, true, false);
        check("3.1.0", "LSTM", Direction.FROZEN, Direction.TRAINABLE, false, false);
        check("3.0.0", "GRU", Direction.FROZEN_RNN, Direction.TRAINABLE, true, false);
    }

    /**
     * Keras 3's MultiHeadAttention builds its EinsumDense sublayers without passing its trainable
     * on: made with trainable=False, its weights stay trainable and sit among a nested model's
     * trainable weights; frozen after it was built, the trainable setter marks them non-trainable.
     * Both save the same config, so a nested model [MultiHeadAttention(trainable=False), Dense] is
     * refused (in every Keras 3 version); in a nested model that is itself frozen the list is in
     * layer order either way.
     */
    @Test
    void keras3FrozenMultiHeadAttentionInANestedModelIsRefused() throws Exception {
        for (boolean modelTrainable : new boolean[] {true, false}) {
            String inner = """
                    {"module": "keras", "class_name": "Functional", "config": {"name": "inner", "trainable": %s,
                     "layers": [
                      {"module": "keras.layers", "class_name": "InputLayer", "name": "q",
                       "config": {"name": "q", "batch_shape": [null, null, 4]}, "inbound_nodes": []},
                      {"module": "keras.layers", "class_name": "MultiHeadAttention", "name": "mha",
                       "config": {"name": "mha", "trainable": false, "num_heads": 2, "key_dim": 2},
                       "inbound_nodes": [{"args": [
                        {"class_name": "__keras_tensor__", "config": {"keras_history": ["q", 0, 0]}},
                        {"class_name": "__keras_tensor__", "config": {"keras_history": ["q", 0, 0]}}], "kwargs": {}}]},
                      {"module": "keras.layers", "class_name": "Dense", "name": "dense",
                       "config": {"name": "dense", "units": 4},
                       "inbound_nodes": [{"args": [
                        {"class_name": "__keras_tensor__", "config": {"keras_history": ["mha", 0, 0]}}], "kwargs": {}}]}],
                     "input_layers": [["q", 0, 0]], "output_layers": [["dense", 0, 0]]}}
                    """.formatted(modelTrainable);
            @SuppressWarnings("unchecked")
            Map<String, Object> spec = JSON.readValue(inner, Map.class);
            KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
            String[] parts = {"query", "key", "value"};
            List<Tensor> mha = new ArrayList<>();
            for (String part : parts) {
                mha.add(random.uniform(0.5, I, 2, 2));
                mha.add(random.uniform(0.5, 2, 2));
                lw.put("mha/" + part + "/kernel", mha.get(mha.size() - 2));
                lw.put("mha/" + part + "/bias", mha.get(mha.size() - 1));
            }
            mha.add(random.uniform(0.5, 2, 2, I));
            mha.add(random.uniform(0.5, I));
            lw.put("mha/attention_output/kernel", mha.get(6));
            lw.put("mha/attention_output/bias", mha.get(7));
            List<Tensor> dense = List.of(random.uniform(0.5, I, I), random.uniform(0.5, I));
            lw.put("dense/kernel", dense.get(0));
            lw.put("dense/bias", dense.get(1));
            Path file = dir.resolve("keras3_nested_frozen_mha_" + modelTrainable + ".h5");
            JsonNode config = keras3Model("inner", spec);
            // Keras 3 numbers a nested Functional's calls from 1 in output_layers
            ((com.fasterxml.jackson.databind.node.ObjectNode) config.path("config")).set("output_layers",
                    JSON.valueToTree(List.of(List.of("inner", 1, 0))));
            KerasFileWriter.writeHdf5(file, "3.6.0", config, Map.of("inner", lw));
            if (!modelTrainable) {
                // the query, key and value projections have the same shapes: read out of order, they mix
                dev.rnnrt.layers.MultiHeadAttention m = new dev.rnnrt.layers.MultiHeadAttention("mha", 2, 2, 2, true,
                        -1, false, false);
                m.setWeights(mha);
                Dense d = Dense.builder(I).name("dense").build();
                d.setWeights(dense);
                Model java = Model.functional("java").input("q", -1, I).add(m, "q", "q").add(d, "mha")
                        .outputs("dense").build();
                Tensor x = random.uniform(1, 2, 3, I);
                Compare.assertIdentical("frozen nested model around a frozen MultiHeadAttention: layer order",
                        java.predict(x), KerasModelLoader.load(file).model().predict(x));
                continue;
            }
            ModelLoadException e = org.junit.jupiter.api.Assertions.assertThrows(ModelLoadException.class,
                    () -> KerasModelLoader.load(file));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("nested model 'inner'")
                    && e.getMessage().contains("'inner/mha' (MultiHeadAttention)")
                    && e.getMessage().contains("as a .keras file"), e.getMessage());
        }
    }

    /**
     * A Keras 2 model holding a nested Sequential [Dense, Sequential "inner" (trainable=False in
     * its own config, its Dense trainable: standalone Keras' model.trainable = False, or tf.keras'
     * Model(..., trainable=False), sets only the model's flag), Dense]. A frozen model has no
     * trainable weights, so the outer nested model lists the first and last Dense's weights, then
     * the inner model's. The three Dense layers have the same shapes: read in layer order, the inner
     * and the last Dense swap weights. The outermost model's own flag changes nothing.
     */
    @Test
    void keras2FrozenModelsInsideNestedModelsComeAmongTheNonTrainableWeights() {
        List<Dense> denses = new ArrayList<>();
        List<List<Tensor>> w = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            Dense d = Dense.builder(I).name("d" + k).build();
            List<Tensor> dw = List.of(random.uniform(0.6, I, I), random.uniform(0.6, I));
            d.setWeights(dw);
            denses.add(d);
            w.add(dw);
        }
        Model java = Model.sequential("java").input(-1, I).add(denses.get(0)).add(denses.get(1)).add(denses.get(2))
                .build();
        Tensor x = random.uniform(1, 3, 5, I);
        for (String version : List.of("2.2.4", "2.9.0")) {
            for (boolean outerTrainable : new boolean[] {true, false}) {
                Map<String, Object> inner = Map.of("class_name", "Sequential", "config", Map.of("name", "inner",
                        "trainable", false, "layers", List.of(
                                Map.of("class_name", "InputLayer", "config", Map.of("name", "input_2",
                                        "batch_input_shape", nullFirst(-1, I))),
                                denseSpec("d1", true))));
                Map<String, Object> outer = Map.of("class_name", "Sequential", "config", Map.of("name", "outer",
                        "trainable", outerTrainable, "layers", List.of(
                                Map.of("class_name", "InputLayer", "config", Map.of("name", "input_1",
                                        "batch_input_shape", nullFirst(-1, I))),
                                denseSpec("d0", true), inner, denseSpec("d2", true))));
                JsonNode config = keras2Model(List.of(outer));
                KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
                for (int k : new int[] {0, 2, 1}) {
                    lw.put("d" + k + "/kernel:0", w.get(k).get(0)).put("d" + k + "/bias:0", w.get(k).get(1));
                }
                Path file = dir.resolve("keras2_frozen_inner_" + version + "_" + outerTrainable + ".h5");
                KerasFileWriter.writeHdf5(file, version, config, Map.of("outer", lw));
                Compare.assertIdentical(version + " frozen model inside a nested model (outer trainable="
                        + outerTrainable + ")", java.predict(x), KerasModelLoader.load(file).model().predict(x));
            }
        }
    }

    private static Map<String, Object> denseSpec(String name, boolean trainable) {
        return Map.of("class_name", "Dense", "config", Map.of("name", name, "units", I, "activation", "linear",
                "trainable", trainable));
    }

    /**
     * Standalone Keras 2.0.9 to 2.3.1: a StackedRNNCells with trainable=False has no trainable
     * weights, but its non_trainable_weights list its trainable cells' weights first (recurrent.py),
     * so RNN(StackedRNNCells([LSTMCell(trainable=False), LSTMCell()], trainable=False)) saves the
     * second cell first, alone and in a Bidirectional (each direction in turn, both frozen whole).
     */
    @Test
    void standaloneKeras2FrozenStackedCellsListTheirTrainableCellFirst() {
        for (String version : List.of("2.1.6", "2.3.1")) {
            for (boolean bidirectional : new boolean[] {false, true}) {
                List<dev.rnnrt.layers.StackedRnn> stacks = new ArrayList<>();
                List<List<Tensor>> w = new ArrayList<>();
                for (int d = 0; d < (bidirectional ? 2 : 1); d++) {
                    dev.rnnrt.layers.StackedRnn s = dev.rnnrt.layers.StackedRnn.builder(Lstm.builder(I).build(),
                            Lstm.builder(I).build()).name(d == 0 ? "rnn" : "backward_rnn").returnSequences(true)
                            .goBackwards(d == 1).build();
                    s.build(I);
                    List<Tensor> sw = new ArrayList<>();
                    for (Tensor t : s.getWeights()) {
                        sw.add(random.uniform(0.6, t.shape()));
                    }
                    s.setWeights(sw);
                    stacks.add(s);
                    w.add(sw);
                }
                dev.rnnrt.layers.Layer expected = bidirectional ? dev.rnnrt.layers.BidirectionalStack.of(
                        "bidirectional", stacks.get(0), Bidirectional.MergeMode.CONCAT, stacks.get(1), true)
                        : stacks.get(0);
                Model java = Model.sequential("java").input(-1, I).add(expected).build();
                List<Object> cells = new ArrayList<>();
                for (int k = 0; k < 2; k++) {
                    Map<String, Object> c = new LinkedHashMap<>();
                    c.put("name", "lstm_cell_" + (k + 1));
                    c.put("units", I);
                    c.put("activation", "tanh");
                    c.put("recurrent_activation", "sigmoid");
                    c.put("use_bias", true);
                    c.put("implementation", 1);
                    c.put("trainable", k == 1);
                    cells.add(layer("LSTMCell", c, false));
                }
                Map<String, Object> stacked = new LinkedHashMap<>();
                stacked.put("name", "stacked_rnn_cells_1");
                stacked.put("trainable", false);
                stacked.put("cells", cells);
                Map<String, Object> rnn = new LinkedHashMap<>();
                rnn.put("name", "rnn_1");
                rnn.put("trainable", true);
                rnn.put("return_sequences", true);
                rnn.put("cell", layer("StackedRNNCells", stacked, false));
                Map<String, Object> top = layer("RNN", rnn, false);
                String name = "rnn_1";
                if (bidirectional) {
                    Map<String, Object> bi = new LinkedHashMap<>();
                    bi.put("name", "bidirectional_1");
                    bi.put("trainable", true);
                    bi.put("merge_mode", "concat");
                    bi.put("layer", top);
                    top = layer("Bidirectional", bi, false);
                    name = "bidirectional_1";
                }
                KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
                String[] names = {"kernel", "recurrent_kernel", "bias"};
                for (int d = 0; d < w.size(); d++) {
                    for (int cell : new int[] {1, 0}) {                  // the trainable cell first
                        for (int j = 0; j < 3; j++) {
                            lw.put(name + "/" + (bidirectional ? (d == 0 ? "forward_" : "backward_") : "") + "rnn_1/"
                                    + "lstm_cell_" + (cell + 1) + "/" + names[j] + ":0", w.get(d).get(3 * cell + j));
                        }
                    }
                }
                Path file = dir.resolve("standalone_frozen_stack_" + version + "_" + bidirectional + ".h5");
                KerasFileWriter.writeHdf5(file, version, keras2Model(List.of(top)), Map.of(name, lw));
                Tensor x = random.uniform(1, 3, 5, I);
                Compare.assertIdentical(version + " " + (bidirectional ? "Bidirectional(" : "") + "RNN(StackedRNNCells("
                        + "trainable=False)) with a frozen first cell" + (bidirectional ? ")" : ""), java.predict(x),
                        KerasModelLoader.load(file).model().predict(x));
            }
        }
    }

    /**
     * Bidirectional(RNN([LSTMCell, LSTMCell])) with an explicit backward_layer, trainable: RNN k has
     * trainable=False where {@code rnnFrozen[k]}, its cell j trainable=False where {@code
     * cellFrozen[k][j]}, its StackedRNNCells trainable=False where {@code stackFrozen} (forward only).
     */
    private void stacks(String version, boolean[] rnnFrozen, boolean[][] cellFrozen, boolean stackFrozen,
                        int[][] order) {
        boolean keras3 = version.startsWith("3");
        List<dev.rnnrt.layers.StackedRnn> stacks = new ArrayList<>();
        List<List<Tensor>> w = new ArrayList<>();
        List<Object> specs = new ArrayList<>();
        for (int d = 0; d < 2; d++) {
            dev.rnnrt.layers.StackedRnn s = dev.rnnrt.layers.StackedRnn.builder(Lstm.builder(I).build(),
                    Lstm.builder(I).build()).name(d == 0 ? "rnn" : "backward_rnn").returnSequences(true)
                    .goBackwards(d == 1).build();
            s.build(I);
            List<Tensor> sw = new ArrayList<>();
            for (Tensor t : s.getWeights()) {
                sw.add(random.uniform(0.6, t.shape()));
            }
            s.setWeights(sw);
            stacks.add(s);
            w.add(sw);
            List<Object> cells = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("name", "lstm_cell" + (k == 0 ? "" : "_1"));
                c.put("units", I);
                c.put("activation", "tanh");
                c.put("recurrent_activation", "sigmoid");
                c.put("use_bias", true);
                c.put("trainable", !cellFrozen[d][k]);
                cells.add(layer("LSTMCell", c, keras3));
            }
            Map<String, Object> stacked = new LinkedHashMap<>();
            stacked.put("name", "stacked_rnn_cells");
            stacked.put("trainable", !(stackFrozen && d == 0));
            stacked.put("cells", cells);
            Map<String, Object> rnn = new LinkedHashMap<>();
            rnn.put("name", d == 0 ? "rnn" : "backward_rnn");
            rnn.put("trainable", !rnnFrozen[d]);
            rnn.put("return_sequences", true);
            rnn.put("go_backwards", d == 1);
            rnn.put("cell", layer("StackedRNNCells", stacked, keras3));
            specs.add(layer("RNN", rnn, keras3));
        }
        Model java = Model.sequential("java").input(-1, I).add(dev.rnnrt.layers.BidirectionalStack.of("bidirectional",
                stacks.get(0), Bidirectional.MergeMode.CONCAT, stacks.get(1), true)).build();
        Map<String, Object> bi = bidirectionalConfig(true, specs.get(0), specs.get(1));
        Map<String, Object> top = layer("Bidirectional", bi, keras3);
        KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
        String[] names = {"kernel", "recurrent_kernel", "bias"};
        for (int[] o : order) {
            for (int j = 0; j < 3; j++) {
                lw.put("bidirectional/" + (o[0] == 0 ? "forward_rnn" : "backward_rnn") + "/lstm_cell"
                        + (o[1] == 0 ? "" : "_1") + "/" + names[j] + (keras3 ? "" : ":0"), w.get(o[0]).get(3 * o[1] + j));
            }
        }
        Path file = dir.resolve("stacks_" + version + ".h5");
        KerasFileWriter.writeHdf5(file, version, keras3 ? keras3Model("bidirectional", top) : keras2Model(List.of(top)),
                Map.of("bidirectional", lw));
        Tensor x = random.uniform(1, 3, 5, I);
        Compare.assertIdentical(version + " trainable Bidirectional around stacks", java.predict(x),
                KerasModelLoader.load(file).model().predict(x));
    }

    /**
     * Writes Bidirectional(forward, backward_layer=backward) as {@code version} saves it, the
     * directions' weights in the file backward first where {@code backwardFirst}, and checks the
     * loaded model against the same model built in Java.
     */
    private void check(String version, String cls, Direction forward, Direction backward, boolean trainable,
                       boolean backwardFirst) {
        String what = version + " Bidirectional(" + cls + " " + forward + ", backward_layer " + backward
                + (trainable ? "" : ", trainable=False") + ")" + (backwardFirst ? ", backward weights first" : "");
        Bidirectional expected = javaBidirectional(cls);
        List<Tensor> fw = randomWeights(expected.forwardLayer());
        List<Tensor> bw = randomWeights(expected.backwardLayer());
        expected.forwardLayer().setWeights(fw);
        expected.backwardLayer().setWeights(bw);
        Model java = Model.sequential("java").input(-1, I).add(expected).build();

        boolean keras3 = version.startsWith("3");
        Map<String, Object> bi = bidirectionalConfig(trainable, direction(cls, forward, false, keras3),
                direction(cls, backward, true, keras3));
        KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
        for (boolean back : backwardFirst ? new boolean[] {true, false} : new boolean[] {false, true}) {
            putWeights(lw, "bidirectional/" + (back ? "backward_" : "forward_") + cls.toLowerCase(), cls, keras3,
                    back ? bw : fw);
        }
        JsonNode config = keras3 ? keras3Model("bidirectional", Map.of("class_name", "Bidirectional", "config", bi))
                : keras2Model(List.of(Map.of("class_name", "Bidirectional", "config", bi)));
        Path file = dir.resolve("bidirectional_" + cls + "_" + forward + "_" + backward + "_" + trainable + "_"
                + version + ".h5");
        KerasFileWriter.writeHdf5(file, version, config, Map.of("bidirectional", lw));
        Tensor x = random.uniform(1, 3, 5, I);
        Compare.assertIdentical(what, java.predict(x), KerasModelLoader.load(file).model().predict(x));
    }

    /**
     * A Sequential holding a nested Sequential [Bidirectional(frozen cls, backward_layer trainable cls
     * where {@code explicitBackward}), Dense]; the nested model's list holds the forward layer's (0),
     * backward layer's (1) and Dense's (2) weights in {@code order}.
     */
    private void nested(String version, String cls, boolean explicitBackward, int[] order) {
        Bidirectional bi = javaBidirectional(cls);
        List<Tensor> fw = randomWeights(bi.forwardLayer());
        List<Tensor> bw = randomWeights(bi.backwardLayer());
        bi.forwardLayer().setWeights(fw);
        bi.backwardLayer().setWeights(bw);
        Dense dense = Dense.builder(2).name("dense").build();
        List<Tensor> dw = List.of(random.uniform(0.5, 2 * H, 2), random.uniform(0.5, 2));
        dense.setWeights(dw);
        Model java = Model.sequential("java").input(-1, I).add(bi).add(dense).build();

        Map<String, Object> biCfg = new LinkedHashMap<>();
        biCfg.put("name", "bidirectional");
        biCfg.put("merge_mode", "concat");
        biCfg.put("layer", direction(cls, Direction.FROZEN, false, false));
        if (explicitBackward) {
            biCfg.put("backward_layer", direction(cls, Direction.TRAINABLE, true, false));
        }
        Map<String, Object> inner = Map.of("class_name", "Sequential", "config", Map.of("name", "inner", "layers",
                List.of(Map.of("class_name", "InputLayer", "config", Map.of("name", "input_1",
                                "batch_input_shape", nullFirst(-1, I))),
                        Map.of("class_name", "Bidirectional", "config", biCfg),
                        Map.of("class_name", "Dense", "config", Map.of("name", "dense", "units", 2,
                                "activation", "linear")))));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "outer",
                "layers", List.of(inner))));
        KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
        for (int part : order) {
            if (part == 2) {
                lw.put("dense/kernel:0", dw.get(0)).put("dense/bias:0", dw.get(1));
            } else {
                putWeights(lw, "bidirectional/" + (part == 1 ? "backward_" : "forward_") + cls.toLowerCase(), cls,
                        false, part == 1 ? bw : fw);
            }
        }
        Path file = dir.resolve("nested_" + cls + "_" + explicitBackward + "_" + version + ".h5");
        KerasFileWriter.writeHdf5(file, version, config, Map.of("inner", lw));
        Tensor x = random.uniform(1, 3, 5, I);
        Compare.assertIdentical(version + " nested Bidirectional(" + cls + " frozen"
                + (explicitBackward ? ", backward_layer trainable" : "") + ")", java.predict(x),
                KerasModelLoader.load(file).model().predict(x));
    }

    /** Bidirectional(cls) in Java: both directions return sequences, the backward one goes backwards. */
    private static Bidirectional javaBidirectional(String cls) {
        return Bidirectional.of("bidirectional", javaLayer(cls, false), Bidirectional.MergeMode.CONCAT,
                javaLayer(cls, true));
    }

    private static RecurrentLayer javaLayer(String cls, boolean backwards) {
        String name = (backwards ? "backward_" : "forward_") + cls.toLowerCase();
        switch (cls) {
            case "LSTM":
                return Lstm.builder(H).name(name).returnSequences(true).goBackwards(backwards).build();
            case "GRU":
                return Gru.builder(H).name(name).resetAfter(true).returnSequences(true).goBackwards(backwards).build();
            default:
                return SimpleRnn.builder(H).name(name).returnSequences(true).goBackwards(backwards).build();
        }
    }

    private List<Tensor> randomWeights(RecurrentLayer layer) {
        layer.build(I);
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : layer.getWeights()) {
            out.add(random.uniform(0.6, t.shape()));
        }
        return out;
    }

    /** One direction's config: the layer, or an RNN around its cell. */
    private static Map<String, Object> direction(String cls, Direction how, boolean backwards, boolean keras3) {
        String name = cls.toLowerCase() + (backwards ? "_1" : "");
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("units", H);
        cfg.put("activation", "tanh");
        if (!cls.equals("SimpleRNN")) {
            cfg.put("recurrent_activation", "sigmoid");
        }
        if (cls.equals("GRU")) {
            cfg.put("reset_after", true);
        }
        cfg.put("use_bias", true);
        if (how == Direction.TRAINABLE || how == Direction.FROZEN) {
            cfg.put("name", name);
            cfg.put("trainable", how == Direction.TRAINABLE);
            cfg.put("return_sequences", true);
            cfg.put("go_backwards", backwards);
            return layer(cls, cfg, keras3);
        }
        cfg.put("name", cls.toLowerCase() + "_cell");
        cfg.put("trainable", how != Direction.FROZEN_CELL);
        Map<String, Object> rnn = new LinkedHashMap<>();
        rnn.put("name", "rnn" + (backwards ? "_1" : ""));
        rnn.put("trainable", how != Direction.FROZEN_RNN);
        rnn.put("return_sequences", true);
        rnn.put("go_backwards", backwards);
        rnn.put("cell", layer(cls + "Cell", cfg, keras3));
        return layer("RNN", rnn, keras3);
    }

    /** A Bidirectional's config: named "bidirectional", merge_mode concat, with both directions given. */
    private static Map<String, Object> bidirectionalConfig(boolean trainable, Object forward, Object backward) {
        Map<String, Object> bi = new LinkedHashMap<>();
        bi.put("name", "bidirectional");
        bi.put("trainable", trainable);
        bi.put("merge_mode", "concat");
        bi.put("layer", forward);
        bi.put("backward_layer", backward);
        return bi;
    }

    /** Keras 3: the InputLayer of a nested model, named "inner_input", of shape [null, dims…]. */
    private static Map<String, Object> innerInput(int... dims) {
        return layer("InputLayer", Map.of("name", "inner_input", "batch_shape", nullFirst(dims)), true);
    }

    /** Keras 3: a trainable BatchNormalization over the last axis. */
    private static Map<String, Object> batchNormalization(String name) {
        return layer("BatchNormalization", Map.of("name", name, "axis", -1, "trainable", true), true);
    }

    private static Map<String, Object> layer(String cls, Map<String, Object> cfg, boolean keras3) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (keras3) {
            out.put("module", "keras.layers");
        }
        out.put("class_name", cls);
        out.put("config", cfg);
        return out;
    }

    /** A direction's weights under its own names (Keras 3: the variables' paths). */
    private static void putWeights(KerasFileWriter.LayerWeights lw, String prefix, String cls, boolean keras3,
                                   List<Tensor> w) {
        String[] names = {"kernel", "recurrent_kernel", "bias"};
        for (int k = 0; k < w.size(); k++) {
            lw.put(prefix + "/" + cls.toLowerCase() + "_cell/" + names[k] + (keras3 ? "" : ":0"), w.get(k));
        }
    }

    private static JsonNode keras2Model(List<Object> layers) {
        List<Object> all = new ArrayList<>();
        all.add(Map.of("class_name", "InputLayer", "config", Map.of("name", "input_1",
                "batch_input_shape", nullFirst(-1, I))));
        all.addAll(layers);
        return JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "k2", "layers", all)));
    }

    /** A Keras 3 functional model: an input, then the layer named {@code name}. */
    private static JsonNode keras3Model(String name, Map<String, Object> layer) {
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("class_name", "InputLayer");
        in.put("config", Map.of("name", "input", "batch_shape", nullFirst(-1, I)));
        in.put("name", "input");
        in.put("inbound_nodes", List.of());
        Map<String, Object> l = new LinkedHashMap<>(layer);
        l.put("name", name);
        l.put("inbound_nodes", List.of(Map.of("args", List.of(Map.of("class_name", "__keras_tensor__",
                "config", Map.of("shape", nullFirst(-1, I), "dtype", "float32",
                        "keras_history", List.of("input", 0, 0)))), "kwargs", Map.of())));
        return JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "k3",
                "trainable", true, "layers", List.of(in, l),
                "input_layers", List.of(List.of("input", 0, 0)),
                "output_layers", List.of(List.of(name, 0, 0)))));
    }

    /** [null, d1, d2, …] with -1 written as null. */
    private static List<Object> nullFirst(int... dims) {
        List<Object> out = new ArrayList<>();
        out.add(null);
        for (int d : dims) {
            out.add(d < 0 ? null : d);
        }
        return out;
    }
}
