package dev.rnnrt.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recurrent weights in a layout that does not fit the file or the layer: refused with a
 * ModelLoadException that says what does not fit, never loaded as something else or failed with
 * another exception.
 */
class WeightLayoutRefusalTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int I = 4;
    private static final int H = 3;
    private static final int T = 5;

    @TempDir
    Path dir;

    private final RandomTensors random = new RandomTensors(4242);


    private static Map<String, Object> layer(String cls, String name, Map<String, Object> cfg) {
        Map<String, Object> c = new LinkedHashMap<>(cfg);
        c.put("name", name);
        return Map.of("class_name", cls, "config", c);
    }

    /** Sequential: one recurrent layer "rnn" of class {@code cls} (H units, sequences) with {@code options}. */
    private static JsonNode oneLayer(String cls, Map<String, Object> options) {
        Map<String, Object> cfg = new LinkedHashMap<>(options);
        cfg.put("units", H);
        cfg.put("return_sequences", true);
        cfg.put("batch_input_shape", Arrays.asList(null, T, I));
        return JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "s",
                "layers", List.of(layer(cls, "rnn", cfg)))));
    }

    private Path h5(String name, String version, JsonNode config, Tensor... w) {
        KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
        String[] names = {"kernel:0", "recurrent_kernel:0", "bias:0"};
        for (int k = 0; k < w.length; k++) {
            lw.put("rnn/" + names[k], w[k]);
        }
        Path p = dir.resolve(name);
        KerasFileWriter.writeHdf5(p, version, config, Map.of("rnn", lw));
        return p;
    }

    /**
     * CuDNNGRU's weights (bias [6H]) in a file whose GRU has reset_after=False: Keras 2 refuses
     * them ("CuDNNGRU is not compatible with GRU(reset_after=False)", _convert_rnn_weights in
     * keras/engine/saving.py), and so does rnnrt, naming CuDNN's layout and the GRU that takes it,
     * not a converted bias [2, 3H] the file does not hold. With reset_after=True they load,
     * converted as CuDNNGRU's.
     */
    @Test
    void cudnnGruWeightsInAGruWithResetAfterFalseAreRefusedNamingTheLayout() {
        Tensor k = random.uniform(0.6, I, 3 * H);
        Tensor u = random.uniform(0.6, H, 3 * H);
        Tensor b = random.uniform(0.6, 6 * H);
        Path before = h5("gru_before.h5", "2.2.4", oneLayer("GRU", Map.of("reset_after", false)), k, u, b);
        KerasRefusalTest.assertRefused(() -> KerasModelLoader.load(before), "layer 'rnn' (GRU)", "[" + 6 * H + "]", "CuDNNGRU",
                "reset_after=False", "reset_after=True");

        Path after = h5("gru_after.h5", "2.2.4", oneLayer("GRU", Map.of("reset_after", true,
                "recurrent_activation", "sigmoid")), k, u, b);
        RecurrentLayer expected = Gru.builder(H).name("rnn").resetAfter(true).recurrentActivation(Activation.SIGMOID)
                .returnSequences(true).build();
        expected.setWeights(WeightConversions.fromCudnn(List.of(k, u, b), 3, H, true));
        Tensor x = random.uniform(1, 2, T, I);
        Compare.assertIdentical("CuDNNGRU weights in GRU(reset_after=True)",
                Model.sequential("java").input(T, I).add(expected).build().predict(x),
                KerasModelLoader.load(after).model().predict(x));
    }

    /**
     * A bias of CuDNN's size (LSTM [8H], GRU [6H]) in a Keras 3 archive: Keras 3 has no CuDNN layers
     * and converts nothing (it refuses the shape), so rnnrt refuses it too instead of reading it as
     * CuDNN's layout, which reorders the kernels. The same arrays in a Keras 2 file load converted.
     */
    @Test
    void aBiasOfCudnnSizeInAKeras3ArchiveIsRefused() throws IOException {
        for (String cls : List.of("LSTM", "GRU")) {
            int gates = cls.equals("LSTM") ? 4 : 3;
            Tensor k = random.uniform(0.6, I, gates * H);
            Tensor u = random.uniform(0.6, H, gates * H);
            Tensor b = random.uniform(0.6, 2 * gates * H);
            Map<String, Object> options = cls.equals("GRU") ? Map.of("reset_after", true) : Map.of();
            Path archive = dir.resolve(cls + ".keras");
            // Keras 3 keys the layer's group by its class: layers/lstm/cell/vars, layers/gru/cell/vars
            KerasFileWriter.writeKeras(archive, oneLayer(cls, options), Map.of(cls.toLowerCase() + "/cell",
                    List.of(k, u, b)));
            KerasRefusalTest.assertRefused(() -> KerasModelLoader.load(archive), "layer 'rnn' (" + cls + ")", "bias",
                    "[" + 2 * gates * H + "]");

            Path keras2 = h5(cls + ".h5", "2.3.1", oneLayer(cls, options), k, u, b);
            RecurrentLayer loaded = (RecurrentLayer) KerasModelLoader.load(keras2).model().layers().get(0);
            List<Tensor> converted = WeightConversions.fromCudnn(List.of(k, u, b), gates, H, cls.equals("GRU"));
            for (int w = 0; w < 3; w++) {
                Compare.assertIdentical(cls + " weight " + w + " in a Keras 2 file", converted.get(w),
                        loaded.getWeights().get(w));
            }
        }
    }

    /**
     * RNN(StackedRNNCells) whose weight names put the cells' weights under cell/cells/&lt;cell&gt;/
     * (as Keras 3 keeps them), but one name beside those groups or outside them (a damaged
     * file): refused naming that weight, where the name's missing part stopped the loader with
     * a StringIndexOutOfBoundsException.
     */
    @Test
    void aStackedCellWeightOutsideTheCellGroupsIsRefused() {
        List<Object> cells = new ArrayList<>();
        for (String c : new String[] {"LSTMCell", "GRUCell"}) {
            Map<String, Object> cfg = new LinkedHashMap<>(Map.of("units", H, "activation", "tanh",
                    "recurrent_activation", "sigmoid", "use_bias", true));
            if (c.equals("GRUCell")) {
                cfg.put("reset_after", true);
            }
            cells.add(layer(c, c.equals("LSTMCell") ? "lstm_cell" : "gru_cell", cfg));
        }
        Map<String, Object> rnn = new LinkedHashMap<>(Map.of("return_sequences", true, "cell",
                Map.of("class_name", "StackedRNNCells", "config", Map.of("name", "stacked_rnn_cells", "cells", cells))));
        rnn.put("batch_input_shape", Arrays.asList(null, T, I));
        JsonNode config = JSON.valueToTree(Map.of("class_name", "Sequential", "config", Map.of("name", "s",
                "layers", List.of(layer("RNN", "rnn", rnn)))));
        Lstm lstm = Lstm.builder(H).build();
        lstm.build(I);
        Gru gru = Gru.builder(H).resetAfter(true).build();
        gru.build(H);
        List<Tensor> shapes = new ArrayList<>(lstm.getWeights());
        shapes.addAll(gru.getWeights());
        String[] keys = {"lstm_cell", "lstm_cell", "lstm_cell", "gru_cell", "gru_cell", "gru_cell"};
        String[] names = {"kernel", "recurrent_kernel", "bias"};
        for (String bad : new String[] {"rnn/cell/cells/gru_cell_kernel", "rnn/recurrent_kernel:0"}) {
            KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
            for (int w = 0; w < 6; w++) {
                String name = w == 4 ? bad : "rnn/cell/cells/" + keys[w] + "/" + names[w % 3];
                lw.put(name, random.uniform(0.6, shapes.get(w).shape()));
            }
            Path p = dir.resolve("stacked_" + bad.length() + ".h5");
            KerasFileWriter.writeHdf5(p, "2.15.0", config, Map.of("rnn", lw));
            KerasRefusalTest.assertRefused(() -> KerasModelLoader.load(p), "layer 'rnn' (RNN)", "weight '" + bad + "'", "cell/cells/");
        }
    }
}
