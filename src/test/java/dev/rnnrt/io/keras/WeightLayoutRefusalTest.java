package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.testing.RandomTensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
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

    private static ModelLoadException assertRefused(Executable load, String... parts) {
        ModelLoadException e = assertThrows(ModelLoadException.class, load);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
        return e;
    }

    private static Map<String, Object> layer(String cls, String name, Map<String, Object> cfg) {
        Map<String, Object> c = new LinkedHashMap<>(cfg);
        c.put("name", name);
        return Map.of("class_name", cls, "config", c);
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
            assertRefused(() -> KerasModelLoader.load(p), "layer 'rnn' (RNN)", "weight '" + bad + "'", "cell/cells/");
        }
    }
}
