package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.BidirectionalStack;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Masking;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.StackedRnn;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keras 3 calls of recurrent layers given initial_state on a masked input, the ways a saved graph
 * records them: Keras passes no mask by itself there (the call has more than one tensor argument,
 * step 6 of Layer.__call__), so the layer computes every step, but its output still carries the
 * first input's mask (the reader after it, saved with that mask, skips the masked steps). Keras 2
 * files pass the mask.
 */
class Keras3InitialStateMaskTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int I = 4;
    private static final int H = 3;
    private static final int T = 6;
    private static final int B = 3;

    @TempDir
    Path dir;

    private final RandomTensors random = new RandomTensors(20261203L);

    /** Positional initial_state ({@code decoder(x, [h, c])}): args holds the states after x. */
    @Test
    void positionalInitialState() throws IOException {
        lstmDecoder("positional", node(List.of(t("masking", 0, 0), List.of(t("s0", 0, 0), t("s1", 0, 0))), Map.of()));
    }

    /**
     * mask=None passed by hand with initial_state: Keras leaves it (it fills a mask only for a call
     * with one tensor argument), so the layer computes every step and, as its mask argument is None,
     * takes its output's mask from its first input, as without mask=.
     */
    @Test
    void maskNonePassedWithInitialState() throws IOException {
        Map<String, Object> kwargs = new LinkedHashMap<>();
        kwargs.put("initial_state", List.of(t("s0", 0, 0), t("s1", 0, 0)));
        kwargs.put("mask", null);
        lstmDecoder("mask_none", node(List.of(t("masking", 0, 0)), kwargs));
    }

    private void lstmDecoder(String name, Map<String, Object> decoderNode) throws IOException {
        Lstm decoder = Lstm.builder(H).name("decoder").returnSequences(true).build();
        List<Tensor> dw = weights(decoder, I);
        Lstm reader = Lstm.builder(H).name("reader").build();
        List<Tensor> rw = weights(reader, H);
        Map<String, Object> dec = spec("LSTM", "decoder", rnnConfig(H, true));
        dec.put("inbound_nodes", List.of(decoderNode));
        Map<String, List<Tensor>> w = new LinkedHashMap<>();
        w.put("lstm/cell", dw);
        w.put("lstm_1/cell", rw);
        Path file = dir.resolve(name + ".keras");
        KerasFileWriter.writeKeras(file, graph(List.of(H, H), List.of(dec, reader("decoder"))), w);

        Tensor x = padded();
        Tensor h = random.uniform(1, B, H);
        Tensor c = random.uniform(1, B, H);
        List<Tensor> got = KerasModelLoader.load(file).model().predict(List.of(x, h, c));
        Tensor want = decoder.call(x, List.of(h, c), null).output();
        Compare.assertIdentical(name + ": every step computed", want, got.get(0));
        Compare.assertIdentical(name + ": the reader gets the mask", reader.call(want, maskOf(x)).output(), got.get(1));
    }

    /** Bidirectional(LSTM) given initial_state [forward h, c, backward h, c]. */
    @Test
    void bidirectional() throws IOException {
        Bidirectional bi = Bidirectional.of("bidirectional", Lstm.builder(H).name("lstm").returnSequences(true).build(),
                Bidirectional.MergeMode.CONCAT, null);
        List<Tensor> fw = weights(bi.forwardLayer(), I);
        List<Tensor> bw = weights(bi.backwardLayer(), I);
        Lstm reader = Lstm.builder(H).name("reader").build();
        List<Tensor> rw = weights(reader, 2 * H);
        Map<String, Object> layer = spec("Bidirectional", "bidirectional", Map.of("merge_mode", "concat",
                "layer", spec("LSTM", "lstm", rnnConfig(H, true))));
        layer.put("inbound_nodes", List.of(node(List.of(t("masking", 0, 0)), Map.of("initial_state",
                List.of(t("s0", 0, 0), t("s1", 0, 0), t("s2", 0, 0), t("s3", 0, 0))))));
        Map<String, List<Tensor>> w = new LinkedHashMap<>();
        w.put("bidirectional/forward_layer/cell", fw);
        w.put("bidirectional/backward_layer/cell", bw);
        w.put("lstm/cell", rw);
        Path file = dir.resolve("bidirectional.keras");
        KerasFileWriter.writeKeras(file, graph(List.of(H, H, H, H), List.of(layer, reader("bidirectional"))), w);

        Tensor x = padded();
        List<Tensor> in = new ArrayList<>(List.of(x));
        for (int k = 0; k < 4; k++) {
            in.add(random.uniform(1, B, H));
        }
        List<Tensor> got = KerasModelLoader.load(file).model().predict(in);
        Tensor want = bi.call(in, Collections.nCopies(in.size(), null)).get(0);
        Compare.assertIdentical("Bidirectional: every step computed", want, got.get(0));
        Compare.assertIdentical("Bidirectional: the reader gets the mask", reader.call(want, maskOf(x)).output(),
                got.get(1));
    }

    /** RNN(StackedRNNCells([LSTMCell, GRUCell])) given initial_state as Keras 3 nests it ([[h, c], [h]]). */
    @Test
    void stackedCells() throws IOException {
        StackedRnn stack = StackedRnn.builder(Lstm.builder(H).build(), Gru.builder(2).resetAfter(true).build())
                .name("rnn").returnSequences(true).build();
        stack.build(I);
        List<Tensor> sw = drawnLike(stack.getWeights());
        stack.setWeights(sw);
        Lstm reader = Lstm.builder(H).name("reader").build();
        List<Tensor> rw = weights(reader, 2);
        Map<String, Object> lstmCell = cellConfig("lstm_cell", H);
        lstmCell.put("unit_forget_bias", true);
        Map<String, Object> gruCell = cellConfig("gru_cell", 2);
        gruCell.put("reset_after", true);
        Map<String, Object> cfg = stackedCellsConfig(false, Map.of("class_name", "LSTMCell", "config", lstmCell),
                Map.of("class_name", "GRUCell", "config", gruCell));
        Map<String, Object> rnn = spec("RNN", "rnn", cfg);
        rnn.put("inbound_nodes", List.of(node(List.of(t("masking", 0, 0)), Map.of("initial_state",
                List.of(List.of(t("s0", 0, 0), t("s1", 0, 0)), List.of(t("s2", 0, 0)))))));
        Map<String, List<Tensor>> w = new LinkedHashMap<>();
        w.put("rnn/cell/cells/lstm_cell", sw.subList(0, 3));
        w.put("rnn/cell/cells/gru_cell", sw.subList(3, 6));
        w.put("lstm/cell", rw);
        Path file = dir.resolve("stacked.keras");
        KerasFileWriter.writeKeras(file, graph(List.of(H, H, 2), List.of(rnn, reader("rnn"))), w);

        Tensor x = padded();
        List<Tensor> in = List.of(x, random.uniform(1, B, H), random.uniform(1, B, H), random.uniform(1, B, 2));
        List<Tensor> got = KerasModelLoader.load(file).model().predict(in);
        Tensor want = stack.call(in, Collections.nCopies(in.size(), null)).get(0);
        Compare.assertIdentical("RNN(StackedRNNCells): every step computed", want, got.get(0));
        Compare.assertIdentical("RNN(StackedRNNCells): the reader gets the mask", reader.call(want, maskOf(x)).output(),
                got.get(1));
    }

    /**
     * Bidirectional(RNN(StackedRNNCells([GRUCell, GRUCell]))) given initial_state [forward h1, h2,
     * backward h1, h2]: Keras 3's Bidirectional splits the list in halves and calls each direction's
     * RNN with its half and no mask, so every step is computed there too.
     */
    @Test
    void bidirectionalStackedCells() throws IOException {
        StackedRnn stack = StackedRnn.builder(Gru.builder(H).resetAfter(true).build(),
                Gru.builder(2).resetAfter(true).build()).name("rnn").returnSequences(true).build();
        BidirectionalStack bi = BidirectionalStack.of("bidirectional", stack, Bidirectional.MergeMode.CONCAT, true);
        bi.build(I);
        List<Tensor> bw = drawnLike(bi.getWeights());
        bi.setWeights(bw);
        Lstm reader = Lstm.builder(H).name("reader").build();
        List<Tensor> rw = weights(reader, 4);
        Map<String, Object> gru0 = cellConfig("gru_cell", H);
        gru0.put("reset_after", true);
        Map<String, Object> gru1 = cellConfig("gru_cell_1", 2);
        gru1.put("reset_after", true);
        Map<String, Object> cfg = stackedCellsConfig(true, Map.of("class_name", "GRUCell", "config", gru0),
                Map.of("class_name", "GRUCell", "config", gru1));
        Map<String, Object> layer = spec("Bidirectional", "bidirectional", Map.of("merge_mode", "concat",
                "layer", spec("RNN", "rnn", cfg)));
        layer.put("inbound_nodes", List.of(node(List.of(t("masking", 0, 0)), Map.of("initial_state",
                List.of(t("s0", 0, 0), t("s1", 0, 0), t("s2", 0, 0), t("s3", 0, 0))))));
        Map<String, List<Tensor>> w = new LinkedHashMap<>();
        w.put("bidirectional/forward_layer/cell/cells/gru_cell", bw.subList(0, 3));
        w.put("bidirectional/forward_layer/cell/cells/gru_cell_1", bw.subList(3, 6));
        w.put("bidirectional/backward_layer/cell/cells/gru_cell", bw.subList(6, 9));
        w.put("bidirectional/backward_layer/cell/cells/gru_cell_1", bw.subList(9, 12));
        w.put("lstm/cell", rw);
        Path file = dir.resolve("bidirectional_stacked.keras");
        KerasFileWriter.writeKeras(file, graph(List.of(H, 2, H, 2), List.of(layer, reader("bidirectional"))), w);

        Tensor x = padded();
        List<Tensor> in = List.of(x, random.uniform(1, B, H), random.uniform(1, B, 2), random.uniform(1, B, H),
                random.uniform(1, B, 2));
        Model model = KerasModelLoader.load(file).model();
        List<Tensor> got = model.predict(in);
        Tensor want = bi.call(in, Collections.nCopies(in.size(), null)).get(0);
        Compare.assertIdentical("Bidirectional(RNN(StackedRNNCells)): every step computed", want, got.get(0));
        Compare.assertIdentical("Bidirectional(RNN(StackedRNNCells)): the reader gets the mask",
                reader.call(want, maskOf(x)).output(), got.get(1));
        assertTrue(model.summary().contains("(Keras 3: initial_state given, no mask=): bidirectional\n"),
                model.summary());
    }

    /** One LSTM called twice: with initial_state (every step), then on its own (its mask recorded): per call. */
    @Test
    void sharedLayerCalledWithAndWithoutInitialState() throws IOException {
        Lstm decoder = Lstm.builder(H).name("decoder").returnSequences(true).build();
        List<Tensor> dw = weights(decoder, I);
        Map<String, Object> dec = spec("LSTM", "decoder", rnnConfig(H, true));
        dec.put("inbound_nodes", List.of(
                node(List.of(t("masking", 0, 0)), Map.of("initial_state", List.of(t("s0", 0, 0), t("s1", 0, 0)))),
                node(List.of(t("masking", 0, 0)), Map.of("mask", t("any", 0, 0)))));
        Path file = dir.resolve("shared.keras");
        KerasFileWriter.writeKeras(file, graph(List.of(H, H), List.of(dec),
                List.of(List.of("decoder", 0, 0), List.of("decoder", 1, 0))), Map.of("lstm/cell", dw));

        Tensor x = padded();
        Tensor h = random.uniform(1, B, H);
        Tensor c = random.uniform(1, B, H);
        Model model = KerasModelLoader.load(file).model();
        List<Tensor> got = model.predict(List.of(x, h, c));
        Compare.assertIdentical("the call given initial_state", decoder.call(x, List.of(h, c), null).output(), got.get(0));
        Compare.assertIdentical("the call on x alone", decoder.call(x, null, maskOf(x)).output(), got.get(1));
        assertTrue(model.summary().contains("(Keras 3: initial_state given, no mask=): decoder\n"), model.summary());
    }

    /** The call inside a nested functional model, the outer graph passing it the masked input. */
    @Test
    void insideANestedModel() throws IOException {
        nested("nested", Map.of("initial_state", List.of(t("hi", 0, 0), t("ci", 0, 0))));
    }

    /** As above, with mask=None passed by hand (recorded inside, where the model's own input has no mask). */
    @Test
    void maskNoneInsideANestedModel() throws IOException {
        Map<String, Object> kwargs = new LinkedHashMap<>();
        kwargs.put("initial_state", List.of(t("hi", 0, 0), t("ci", 0, 0)));
        kwargs.put("mask", null);
        nested("nested_mask_none", kwargs);
    }

    private void nested(String name, Map<String, Object> decoderKwargs) throws IOException {
        Lstm decoder = Lstm.builder(H).name("decoder").returnSequences(true).build();
        List<Tensor> dw = weights(decoder, I);
        Lstm reader = Lstm.builder(H).name("reader").build();
        List<Tensor> rw = weights(reader, H);
        Map<String, Object> dec = spec("LSTM", "decoder", rnnConfig(H, true));
        dec.put("inbound_nodes", List.of(node(List.of(t("xi", 0, 0)), decoderKwargs)));
        Map<String, Object> inner = spec("Functional", "functional", Map.of("name", "functional",
                "layers", List.of(input("xi", null, I), input("hi", H), input("ci", H), dec),
                "input_layers", List.of(List.of("xi", 0, 0), List.of("hi", 0, 0), List.of("ci", 0, 0)),
                "output_layers", List.of(List.of("decoder", 0, 0))));
        List<Object> masks = new ArrayList<>();     // one tensor argument (the list): Keras fills its masks
        masks.add(t("any", 0, 0));
        masks.add(null);
        masks.add(null);
        Map<String, Object> kwargs = new LinkedHashMap<>();
        kwargs.put("mask", masks);
        inner.put("inbound_nodes", List.of(node(List.of(List.of(t("masking", 0, 0), t("s0", 0, 0), t("s1", 0, 0))),
                kwargs)));
        Map<String, List<Tensor>> w = new LinkedHashMap<>();
        w.put("functional/layers/lstm/cell", dw);
        w.put("lstm/cell", rw);
        Path file = dir.resolve(name + ".keras");
        KerasFileWriter.writeKeras(file, graph(List.of(H, H), List.of(inner, reader("functional")),
                List.of(List.of("functional", 1, 0), List.of("reader", 0, 0))), w);

        Tensor x = padded();
        Tensor h = random.uniform(1, B, H);
        Tensor c = random.uniform(1, B, H);
        List<Tensor> got = KerasModelLoader.load(file).model().predict(List.of(x, h, c));
        Tensor want = decoder.call(x, List.of(h, c), null).output();
        Compare.assertIdentical(name + ": every step computed", want, got.get(0));
        Compare.assertIdentical(name + ": the reader gets the mask", reader.call(want, maskOf(x)).output(), got.get(1));
    }

    // ---- helpers -------------------------------------------------------------------------------

    private Tensor padded() {
        Tensor x = random.uniform(1, B, T, I);
        java.util.Arrays.fill(x.data(), 4 * I, T * I, 0f);           // sequence 0: last two steps padded
        java.util.Arrays.fill(x.data(), T * I, (T + 1) * I, 0f);     // sequence 1: first step padded
        return x;
    }

    private static Mask maskOf(Tensor x) {
        return Masking.of("expected", 0.0).outputMasks(List.of(x), Collections.singletonList(null), List.of(x)).get(0);
    }

    private List<Tensor> weights(RecurrentLayer layer, int inputSize) {
        layer.build(inputSize);
        List<Tensor> w = new ArrayList<>();
        for (Tensor like : layer.getWeights()) {
            w.add(random.uniform(0.6, like.shape()));
        }
        layer.setWeights(w);
        return w;
    }

    private static Map<String, Object> spec(String cls, String name, Map<String, Object> cfg) {
        Map<String, Object> c = new LinkedHashMap<>(cfg);
        c.put("name", name);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("class_name", cls);
        s.put("config", c);
        s.put("name", name);
        return s;
    }

    private static Map<String, Object> rnnConfig(int units, boolean sequences) {
        Map<String, Object> cfg = cellConfig(null, units);
        cfg.remove("name");
        cfg.put("return_sequences", sequences);
        cfg.put("return_state", false);
        cfg.put("go_backwards", false);
        cfg.put("stateful", false);
        cfg.put("unroll", false);
        return cfg;
    }

    private static Map<String, Object> cellConfig(String name, int units) {
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("name", name);
        cfg.put("units", units);
        cfg.put("activation", "tanh");
        cfg.put("recurrent_activation", "sigmoid");
        cfg.put("use_bias", true);
        return cfg;
    }

    private static Map<String, Object> input(String name, Integer... dims) {
        List<Object> shape = new ArrayList<>();
        shape.add(null);
        shape.addAll(java.util.Arrays.asList(dims));
        Map<String, Object> s = spec("InputLayer", name, Map.of("batch_shape", shape));
        s.put("inbound_nodes", List.of());
        return s;
    }

    /** Output {@code index} of call {@code node} of a layer (Keras' keras_history). */
    private static Map<String, Object> t(String layer, int node, int index) {
        return Map.of("class_name", "__keras_tensor__", "config", Map.of("shape", List.of(), "dtype", "float32",
                "keras_history", List.of(layer, node, index)));
    }

    private static Map<String, Object> node(List<Object> args, Map<String, Object> kwargs) {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("args", args);
        n.put("kwargs", kwargs);
        return n;
    }

    private static Map<String, Object> operation(String cls, String name, Map<String, Object> config, List<Object> args) {
        Map<String, Object> op = new LinkedHashMap<>();
        op.put("module", "keras.src.ops.numpy");
        op.put("class_name", cls);
        op.put("config", config);
        op.put("registered_name", cls);
        op.put("name", name);
        op.put("inbound_nodes", List.of(node(args, Map.of())));
        return op;
    }

    /** An LSTM(H) reading output 0 of {@code from}, saved with the Masking's mask. */
    private static Map<String, Object> reader(String from) {
        Map<String, Object> r = spec("LSTM", "reader", rnnConfig(H, false));
        r.put("inbound_nodes", List.of(node(List.of(t(from, 0, 0)), Map.of("mask", t("any", 0, 0)))));
        return r;
    }

    private static JsonNode graph(List<Integer> stateSizes, List<Map<String, Object>> layers) {
        String last = (String) layers.get(layers.size() - 1).get("name");
        String first = (String) layers.get(0).get("name");
        return graph(stateSizes, layers, List.of(List.of(first, 0, 0), List.of(last, 0, 0)));
    }

    /**
     * Inputs x [T?, I] and s0, s1, … (the states' sizes); Masking(0.0) on x, with the NotEqual and
     * Any operations Keras 3 records for its mask; then the layers; then the outputs.
     */
    private static JsonNode graph(List<Integer> stateSizes, List<Map<String, Object>> layers, List<List<Object>> outputs) {
        List<Object> all = new ArrayList<>();
        List<Object> inputs = new ArrayList<>();
        all.add(input("x", null, I));
        inputs.add(List.of("x", 0, 0));
        for (int k = 0; k < stateSizes.size(); k++) {
            all.add(input("s" + k, stateSizes.get(k)));
            inputs.add(List.of("s" + k, 0, 0));
        }
        all.add(operation("NotEqual", "not_equal", Map.of("name", "not_equal"), List.of(t("x", 0, 0), 0.0)));
        all.add(operation("Any", "any", Map.of("axis", -1, "keepdims", false), List.of(t("not_equal", 0, 0))));
        Map<String, Object> masking = spec("Masking", "masking", Map.of("mask_value", 0.0));
        masking.put("inbound_nodes", List.of(node(List.of(t("x", 0, 0)), Map.of())));
        all.add(masking);
        all.addAll(layers);
        return JSON.valueToTree(Map.of("class_name", "Functional", "config", Map.of("name", "m", "layers", all,
                "input_layers", inputs, "output_layers", outputs)));
    }

    /** An RNN layer's config around StackedRNNCells of the given cell specs (return_sequences). */
    @SafeVarargs
    private static Map<String, Object> stackedCellsConfig(boolean zeroOutputForMask, Map<String, Object>... cells) {
        Map<String, Object> cfg = new LinkedHashMap<>(rnnConfig(H, true));
        cfg.remove("units");
        cfg.remove("activation");
        cfg.remove("recurrent_activation");
        cfg.remove("use_bias");
        cfg.put("zero_output_for_mask", zeroOutputForMask);
        cfg.put("cell", Map.of("class_name", "StackedRNNCells", "config", Map.of("name", "stacked_rnn_cells",
                "cells", List.of(cells))));
        return cfg;
    }

    /** Random weights of the shapes of {@code like}. */
    private List<Tensor> drawnLike(List<Tensor> like) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : like) {
            out.add(random.uniform(0.6, t.shape()));
        }
        return out;
    }
}
