package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.layers.Conv1D;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.StackingReference;
import dev.rnnrt.testing.Tolerance;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every real Keras file in src/test/resources/keras against the outputs make_expected.py
 * computed for it with its own reading of the file (h5py, PyTorch float64).
 */
class KerasExpectedOutputsTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"bilstm_repeatvector_bilstm_tfk224.h5", "circuit_3gru_resetafter_true_tfk230.h5",
        "emg_2gru_k392.keras", "emg_reshape_lstm_unroll_k392.keras", "keras1_lstm_theano_sequential.h5",
        "masking_lstm_k220.h5", "medaka_bigru_resetafter_false_k215.h5", "simplernn_flatten_fixedbatch_k213.h5",
        "sunspot_conv1d_3lstm_k214.h5"})
    void fileMatchesItsIndependentExpectedOutputs(String file) {
        Model model = KerasModelLoader.load(KerasTestFiles.path(file)).model();
        String stem = file.substring(0, file.lastIndexOf('.'));
        check(file, model, Fixtures.json("keras/" + stem + ".expected.json"));
    }

    /**
     * The same files loaded for the fast CPU path: its recurrent layers, its Dense layers (on its
     * SGEMM, bare or in TimeDistributed) and its Conv1D layers (also on its SGEMM) against the
     * independent expected outputs.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "bilstm_repeatvector_bilstm_tfk224.h5; 0", "circuit_3gru_resetafter_true_tfk230.h5; 1",
        "emg_2gru_k392.keras; 1", "emg_reshape_lstm_unroll_k392.keras; 2", "keras1_lstm_theano_sequential.h5; 1",
        "masking_lstm_k220.h5; 0", "medaka_bigru_resetafter_false_k215.h5; 1",
        "simplernn_flatten_fixedbatch_k213.h5; 1", "sunspot_conv1d_3lstm_k214.h5; 3"})
    void fileOnTheFastCpuPathMatchesItsExpectedOutputs(String file, int denseLayers) {
        Model model = KerasModelLoader.load(KerasTestFiles.path(file), RecurrentCpu.INSTANCE).model();
        int dense = 0;
        int conv = 0;
        for (Layer l : model.layers()) {
            Layer inner = l instanceof TimeDistributed td ? td.inner() : l;
            if (inner instanceof Dense d) {
                assertEquals(RecurrentCpu.INSTANCE, d.backend(), d.describe());
                dense++;
            }
            if (inner instanceof Conv1D c) {
                assertEquals(RecurrentCpu.INSTANCE, c.backend(), c.describe());
                conv++;
            }
        }
        assertEquals(denseLayers, dense, file + ": Dense layers");
        assertEquals(file.contains("conv1d") ? 1 : 0, conv, file + ": Conv1D layers");
        String stem = file.substring(0, file.lastIndexOf('.'));
        check(file, model, Fixtures.json("keras/" + stem + ".expected.json"));
    }

    /**
     * The same files on a backend that keeps stacks (the reference, handed runs of layers as the
     * CUDA backend is): the same outputs as layer by layer, bit for bit, and the runs found in
     * these real models.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "bilstm_repeatvector_bilstm_tfk224.h5; ",
        "circuit_3gru_resetafter_true_tfk230.h5; gru..dense_1",
        "emg_2gru_k392.keras; gru..dense",
        "emg_reshape_lstm_unroll_k392.keras; lstm..output",
        "keras1_lstm_theano_sequential.h5; lstm_1..dense_1",
        "masking_lstm_k220.h5; ",
        "medaka_bigru_resetafter_false_k215.h5; bidirectional_1..classify",
        "simplernn_flatten_fixedbatch_k213.h5; ",
        "sunspot_conv1d_3lstm_k214.h5; lstm_9..dense_11"})
    void runsOfLayersGiveTheLayerByLayerOutputs(String file, String runs) {
        StackingReference stacking = new StackingReference();
        Model stacked = KerasModelLoader.load(KerasTestFiles.path(file), stacking).model();
        Model layered = KerasModelLoader.load(KerasTestFiles.path(file)).model();
        assertEquals(runs == null ? List.of() : List.of(runs.split(",")), stacked.stackedRuns(), file);
        String stem = file.substring(0, file.lastIndexOf('.'));
        JsonNode expected = Fixtures.json("keras/" + stem + ".expected.json");
        List<Tensor> inputs = new ArrayList<>();
        for (JsonNode in : expected.get("inputs")) {
            inputs.add(Fixtures.tensor(in));
        }
        List<Tensor> a = layered.predict(inputs);
        List<Tensor> b = stacked.predict(inputs);
        for (int k = 0; k < a.size(); k++) {
            Compare.assertIdentical(file + " output " + k, a.get(k), b.get(k));
        }
        assertEquals(stacked.stackedRuns().size(), stacking.log.stream().filter(l -> l.startsWith("stack")).count(),
                file + ": " + stacking.log);
    }

    /** The Embedding -> LSTM -> LSTM part of textgenrnn: CuDNNLSTM weights, an architecture given as JSON. */
    @Test
    void textgenrnnWeightsWithAnArchitectureJson() throws IOException {
        String json = Files.readString(KerasTestFiles.path("textgenrnn_lstm_part.json"));
        LoadedModel loaded = KerasModelLoader.loadWeights(
                KerasTestFiles.path("textgenrnn_cudnnlstm_weights_only_k215.h5"), json);
        check("textgenrnn", loaded.model(), Fixtures.json("keras/textgenrnn_lstm_part.expected.json"));
    }

    @Test
    void everyModelFileHasExpectedOutputs() throws IOException {
        try (Stream<java.nio.file.Path> files = Files.list(KerasTestFiles.path("PROVENANCE.md").getParent())) {
            List<String> models = files.map(p -> p.getFileName().toString())
                    .filter(n -> (n.endsWith(".h5") || n.endsWith(".keras")) && !n.contains("inputs_and_outputs")
                            && !n.startsWith("textgenrnn"))
                    .sorted().toList();
            assertEquals(9, models.size(), models.toString());
            for (String m : models) {
                String stem = m.substring(0, m.lastIndexOf('.'));
                assertEquals(true, Files.exists(KerasTestFiles.path(stem + ".expected.json")), m);
            }
        }
    }

    private static void check(String file, Model model, JsonNode expected) {
        List<Tensor> inputs = new ArrayList<>();
        for (JsonNode in : expected.get("inputs")) {
            inputs.add(Fixtures.tensor(in));
        }
        List<Tensor> out = model.predict(inputs);
        JsonNode outputs = expected.get("outputs");
        assertEquals(outputs.size(), out.size(), file + ": number of outputs");
        for (int k = 0; k < out.size(); k++) {
            Compare.assertClose(file + " output " + k, Fixtures.shape(outputs.get(k)), Fixtures.doubles(outputs.get(k)),
                    out.get(k), Tolerance.FP32);
        }
    }
}
