package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.Fixtures;
import dev.rnnrt.testing.Tolerance;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models run by TensorFlow.js (fixtures/tfjs/tfjs_cases.json, made by make_tfjs_fixtures.js), an
 * implementation of Keras' layers written independently of rnnrt: each case's Keras config and
 * weights are written as a Keras 2 .h5 file, loaded, and run on the same inputs; the outputs must be
 * TensorFlow.js' to float32 precision. Covers what the other tests check only against rnnrt's own
 * Java-built models: stacked cells with masks, go_backwards and initial states (in Keras 2.1's
 * last-cell-first state order), Bidirectional with masks, returned states and the merge modes
 * concat, sum, ave, mul and none, masks ANDed by Concatenate, an encoder's states starting a
 * masked decoder (a leading masked step outputs the initial state, as Keras 2.1's TensorFlow loop
 * did), go_backwards feeding a layer the unreversed mask, stateful layers over three calls, masked
 * or not, the activations of recurrent layers, TimeDistributed heads, RepeatVector, hard_sigmoid,
 * Conv1D, pooling and normalizations in front of recurrent layers, a mask carried through
 * TimeDistributed(Dense), Dropout and BatchNormalization, Masking(-1), a Bidirectional layer given
 * initial states over inputs joined along time, attention written with Dot layers, Permute /
 * Reshape / Flatten, the activation layers with parameters, TimeDistributed around models
 * (hierarchical models, with BatchNormalization, frozen layers, nested and shared models), and
 * frozen cells, whose weights Keras 2 lists apart. A case with a "refusal" is a model rnnrt refuses:
 * the message must say so.
 */
class KerasOracleTest {

    @TempDir
    Path dir;

    @Test
    void everyTensorFlowJsCaseOnTheReferenceAndTheFastCpuPath() {
        assertTrue(TfjsCases.generator().contains("TensorFlow.js"), "fixture provenance");
        int cases = 0;
        for (JsonNode c : TfjsCases.all()) {
            for (RecurrentBackend backend : new RecurrentBackend[] {RecurrentReference.INSTANCE, RecurrentCpu.INSTANCE}) {
                String name = c.get("name").asText() + " on " + backend.name();
                Path file = TfjsCases.writeH5(c, dir.resolve(c.get("name").asText() + "_" + cases + ".h5"));
                if (c.has("refusal")) {                       // a model rnnrt refuses, saying why
                    ModelLoadException e = org.junit.jupiter.api.Assertions.assertThrows(ModelLoadException.class,
                            () -> KerasModelLoader.load(file, backend), name);
                    assertTrue(e.getMessage().contains(c.get("refusal").asText()), e.getMessage());
                    cases++;
                    continue;
                }
                LoadedModel loaded = KerasModelLoader.load(file, backend);
                compare(name, loaded, c.get("inputs"), c.get("expected"));
                int call = 1;
                for (JsonNode next : c.path("then")) {      // later calls: a stateful model goes on from its states
                    compare(name + ", call " + call++, loaded, next.get("inputs"), next.get("expected"));
                }
                cases++;
            }
        }
        assertTrue(cases >= 60, "cases run: " + cases);
    }

    private static void compare(String name, LoadedModel loaded, JsonNode inputs, JsonNode expected) {
        List<Tensor> in = new ArrayList<>();
        inputs.forEach(t -> in.add(Fixtures.tensor(t)));
        List<Tensor> out = loaded.model().predict(in);
        assertEquals(expected.size(), out.size(), name + ": outputs");
        for (int k = 0; k < out.size(); k++) {
            JsonNode e = expected.get(k);
            Compare.assertClose(name + ", output " + k, Fixtures.shape(e), Fixtures.doubles(e), out.get(k),
                    Tolerance.FP32);
        }
    }
}
