package dev.rnnrt.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.testing.Fixtures;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The models of fixtures/tfjs/tfjs_cases.json (run by TensorFlow.js, made by
 * src/test/tfjs/make_tfjs_fixtures.js), each written as the Keras 2 .h5 file it describes.
 */
public final class TfjsCases {

    private static final JsonNode FIXTURES = Fixtures.json("fixtures/tfjs/tfjs_cases.json");

    private TfjsCases() {
    }

    /** Which program made the fixtures. */
    public static String generator() {
        return FIXTURES.get("generator").asText();
    }

    /** The cases: name, keras_version, model_config, weights, inputs, expected, then (later calls). */
    public static JsonNode all() {
        return FIXTURES.get("cases");
    }

    /** The case of that name. */
    public static JsonNode named(String name) {
        for (JsonNode c : all()) {
            if (c.get("name").asText().equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("No TensorFlow.js case named " + name);
    }

    /** Writes the case's model, config and weights, as a Keras 2 .h5 file at {@code file}; returns it. */
    public static Path writeH5(JsonNode c, Path file) {
        Map<String, KerasFileWriter.LayerWeights> weights = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = c.get("weights").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> layer = it.next();
            KerasFileWriter.LayerWeights w = new KerasFileWriter.LayerWeights();
            for (JsonNode v : layer.getValue()) {
                w.put(v.get("name").asText() + ":0", Fixtures.tensor(v.get("value")));
            }
            weights.put(layer.getKey(), w);
        }
        KerasFileWriter.writeHdf5(file, c.get("keras_version").asText(), c.get("model_config"), weights);
        return file;
    }
}
