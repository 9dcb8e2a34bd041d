package dev.rnnrt.io.keras;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.rnnrt.api.Tensor;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes model files with the layout Keras writes, for tests: Keras 2 full-model HDF5
 * ({@code model_config} + {@code model_weights/<layer>/<weight path>} with {@code weight_names}) and
 * Keras 3 archives (config.json, metadata.json, model.weights.h5 with {@code layers/<key>/.../vars/<i>}),
 * and tf.keras 2.11's (variables.h5 in place of model.weights.h5).
 */
final class KerasFileWriter {

    /** One layer's weights: names as Keras 2 records them, each with its value. */
    static final class LayerWeights {
        final Map<String, Tensor> byName = new LinkedHashMap<>();

        LayerWeights put(String name, Tensor value) {
            byName.put(name, value);
            return this;
        }
    }

    /** JSON as Python's json module writes it: a float's nan and infinities as bare NaN, Infinity, -Infinity. */
    private static final ObjectMapper PYTHON_JSON = JsonMapper.builder().disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS)
            .build();

    private KerasFileWriter() {
    }

    static String pythonJson(JsonNode config) {
        try {
            return PYTHON_JSON.writeValueAsString(config);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A Keras 2 ".h5" full-model file. */
    static void writeHdf5(Path path, String kerasVersion, JsonNode config, Map<String, LayerWeights> weights) {
        write(path, kerasVersion, "tensorflow", config, weights);
    }

    /** A Keras 2 ".h5" full-model file from the given Keras backend ("tensorflow", "theano", "cntk"). */
    static void writeHdf5(Path path, String kerasVersion, String kerasBackend, JsonNode config,
                          Map<String, LayerWeights> weights) {
        write(path, kerasVersion, kerasBackend, config, weights);
    }

    /**
     * A Keras 2 {@code save_weights} file: the layer groups at the root, no model_config. With
     * {@code kerasVersion} null, as Keras 1 wrote it: neither keras_version nor backend.
     */
    static void writeWeightsOnly(Path path, String kerasVersion, Map<String, LayerWeights> weights) {
        write(path, kerasVersion, kerasVersion == null ? null : "tensorflow", null, weights);
    }

    private static void write(Path path, String kerasVersion, String kerasBackend, JsonNode config,
                              Map<String, LayerWeights> weights) {
        try (WritableHdfFile f = HdfFile.write(path)) {
            if (kerasVersion != null) {
                f.putAttribute("keras_version", kerasVersion);
            }
            if (kerasBackend != null) {                       // Keras 1 wrote none
                f.putAttribute("backend", kerasBackend);
            }
            WritableGroup mw = f;
            if (config != null) {
                f.putAttribute("model_config", pythonJson(config));
                mw = f.putGroup("model_weights");
            }
            if (kerasVersion != null) {
                mw.putAttribute("keras_version", kerasVersion);
            }
            if (!weights.isEmpty()) { // jhdf cannot write an empty string array
                mw.putAttribute("layer_names", weights.keySet().toArray(new String[0]));
            }
            for (Map.Entry<String, LayerWeights> layer : weights.entrySet()) {
                WritableGroup g = mw.putGroup(layer.getKey());
                g.putAttribute("weight_names", layer.getValue().byName.keySet().toArray(new String[0]));
                for (Map.Entry<String, Tensor> w : layer.getValue().byName.entrySet()) {
                    put(g, w.getKey(), w.getValue());
                }
            }
        }
    }

    /**
     * A Keras 3 ".keras" archive. {@code weights} maps a group path below {@code layers/}
     * (e.g. "lstm/cell", "bidirectional/forward_layer/cell", "dense_1") to its vars in order.
     */
    static void writeKeras(Path path, JsonNode config, Map<String, List<Tensor>> weights) throws IOException {
        writeKeras(path, config, weights, Map.of());
    }

    /**
     * As {@link #writeKeras(Path, JsonNode, Map)}, with integer scalars after a group's float vars
     * (e.g. "normalization" → the count Normalization keeps as its third var, an int64).
     */
    static void writeKeras(Path path, JsonNode config, Map<String, List<Tensor>> weights, Map<String, Long> counts)
            throws IOException {
        writeKeras(path, "3.9.2", config, weights, counts);
    }

    /** As {@link #writeKeras(Path, JsonNode, Map, Map)}, with the metadata's keras_version. */
    static void writeKeras(Path path, String kerasVersion, JsonNode config, Map<String, List<Tensor>> weights,
                           Map<String, Long> counts) throws IOException {
        writeKeras(path, kerasVersion, config, weights, counts, "layers");
    }

    /**
     * As {@link #writeKeras(Path, String, JsonNode, Map, Map)}, the layers' groups below
     * {@code layersGroup} (tf.keras 2.12-2.14: "_layer_checkpoint_dependencies").
     */
    static void writeKeras(Path path, String kerasVersion, JsonNode config, Map<String, List<Tensor>> weights,
                           Map<String, Long> counts, String layersGroup) throws IOException {
        Path h5 = Files.createTempFile("model.weights", ".h5");
        try {
            try (WritableHdfFile f = HdfFile.write(h5)) {
                putKerasWeights(f, weights, counts, layersGroup);
            }
            try (OutputStream out = Files.newOutputStream(path); ZipOutputStream zip = new ZipOutputStream(out)) {
                entry(zip, "metadata.json", ("{\"keras_version\": \"" + kerasVersion + "\", \"date_saved\": \"2026-11-22@12:00:00\"}")
                        .getBytes(StandardCharsets.UTF_8));
                entry(zip, "config.json", pythonJson(config).getBytes(StandardCharsets.UTF_8));
                entry(zip, "model.weights.h5", Files.readAllBytes(h5));
            }
        } finally {
            Files.deleteIfExists(h5);
        }
    }

    /**
     * A Keras 3 {@code save_weights} file ({@code *.weights.h5}): its layers' groups below
     * {@code layersGroup}, as in an archive's model.weights.h5. (Keras also writes the model's own
     * empty vars group at the root, which jhdf cannot write there and read back.)
     */
    static void writeKeras3Weights(Path path, Map<String, List<Tensor>> weights, String layersGroup) {
        try (WritableHdfFile f = HdfFile.write(path)) {
            putKerasWeights(f, weights, Map.of(), layersGroup);
        }
    }

    /**
     * A tf.keras 2.11 ".keras" archive, as its experimental saving_lib wrote it: metadata.json
     * ({@code {"keras_version": …, "date_saved": …}}; none when {@code kerasVersion} is null),
     * config.json and variables.h5. {@code groups} maps each group's path below the root of
     * variables.h5 ("layers/lstm", "layers/lstm/cell", "layers/dropout", "metrics/mean", "optimizer")
     * to its vars in order, an empty list for an empty vars group; {@code counts} adds an int64 scalar
     * after a group's float vars. (tf.keras also wrote the model's own empty vars group at the root,
     * which jhdf cannot write there and read back.)
     */
    static void writeTfKeras211(Path path, String kerasVersion, JsonNode config, Map<String, List<Tensor>> groups,
                                Map<String, Long> counts) throws IOException {
        writeTfKeras211(path, kerasVersion, config, groups, counts, Map.of());
    }

    /**
     * As {@link #writeTfKeras211(Path, String, JsonNode, Map, Map)}, with a "name" attribute on the
     * vars group of each path of {@code varsNames}, which 2.11 never wrote.
     */
    static void writeTfKeras211(Path path, String kerasVersion, JsonNode config, Map<String, List<Tensor>> groups,
                                Map<String, Long> counts, Map<String, String> varsNames) throws IOException {
        try (OutputStream out = Files.newOutputStream(path); ZipOutputStream zip = new ZipOutputStream(out)) {
            // the order tf.keras 2.11 zipped its temporary folder in varies; this is one it wrote
            entry(zip, "variables.h5", tfKeras211Variables(groups, counts, varsNames));
            entry(zip, "config.json", pythonJson(config).getBytes(StandardCharsets.UTF_8));
            if (kerasVersion != null) {
                entry(zip, "metadata.json", ("{\"keras_version\": \"" + kerasVersion
                        + "\", \"date_saved\": \"2023-03-10@14:02:17\"}").getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    /** The bytes of a tf.keras 2.11 variables.h5 with these groups (see {@link #writeTfKeras211}). */
    static byte[] tfKeras211Variables(Map<String, List<Tensor>> groups, Map<String, Long> counts) throws IOException {
        return tfKeras211Variables(groups, counts, Map.of());
    }

    private static byte[] tfKeras211Variables(Map<String, List<Tensor>> groups, Map<String, Long> counts,
                                              Map<String, String> varsNames) throws IOException {
        Path h5 = Files.createTempFile("variables", ".h5");
        try {
            try (WritableHdfFile f = HdfFile.write(h5)) {
                putVars(f, groups, counts, varsNames);
            }
            return Files.readAllBytes(h5);
        } finally {
            Files.deleteIfExists(h5);
        }
    }

    private static void putKerasWeights(WritableGroup f, Map<String, List<Tensor>> weights, Map<String, Long> counts,
                                        String layersGroup) {
        putVars(f.putGroup(layersGroup), weights, counts, Map.of());
    }

    /**
     * Below {@code layers}, a group per path of {@code weights}, each with its vars 0, 1, 2, … (and a
     * "name" attribute on the vars where {@code varsNames} gives one).
     */
    private static void putVars(WritableGroup layers, Map<String, List<Tensor>> weights, Map<String, Long> counts,
                                Map<String, String> varsNames) {
        for (Map.Entry<String, List<Tensor>> e : weights.entrySet()) {
            WritableGroup g = layers;
            for (String part : e.getKey().split("/")) {
                g = g.getChild(part) instanceof WritableGroup existing ? existing : g.putGroup(part);
            }
            WritableGroup vars = g.putGroup("vars");
            if (varsNames.containsKey(e.getKey())) {
                vars.putAttribute("name", varsNames.get(e.getKey()));
            }
            List<Tensor> list = e.getValue();
            for (int k = 0; k < list.size(); k++) {
                put(vars, Integer.toString(k), list.get(k));
            }
            if (counts.containsKey(e.getKey())) {
                vars.putDataset(Integer.toString(list.size()), counts.get(e.getKey()));
            }
        }
    }

    static void entry(ZipOutputStream zip, String name, byte[] data) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(data);
        zip.closeEntry();
    }

    /** Puts a dataset at a path with "/" in it, making the groups on the way. */
    private static void put(WritableGroup group, String path, Tensor t) {
        String[] parts = path.split("/");
        WritableGroup g = group;
        for (int k = 0; k < parts.length - 1; k++) {
            g = g.getChild(parts[k]) instanceof WritableGroup existing ? existing : g.putGroup(parts[k]);
        }
        g.putDataset(parts[parts.length - 1], nested(t));
    }

    /** A Float for a scalar (rank 0), float[] for rank 1, float[][] for rank 2, and so on. */
    private static Object nested(Tensor t) {
        float[] d = t.data();
        switch (t.rank()) {
            case 0:
                return d[0];
            case 1:
                return d.clone();
            case 2: {
                float[][] m = new float[t.dim(0)][t.dim(1)];
                for (int i = 0; i < m.length; i++) {
                    System.arraycopy(d, i * t.dim(1), m[i], 0, t.dim(1));
                }
                return m;
            }
            case 3: {
                float[][][] m = new float[t.dim(0)][t.dim(1)][t.dim(2)];
                for (int i = 0; i < t.dim(0); i++) {
                    for (int j = 0; j < t.dim(1); j++) {
                        System.arraycopy(d, (i * t.dim(1) + j) * t.dim(2), m[i][j], 0, t.dim(2));
                    }
                }
                return m;
            }
            default: {
                Object m = java.lang.reflect.Array.newInstance(float.class, t.shape());
                fill(m, d, 0, t.dim(-1));
                return m;
            }
        }
    }

    /** Fills nested float arrays from flat values in C order; returns the next offset. */
    private static int fill(Object m, float[] d, int offset, int last) {
        if (m instanceof float[] row) {
            System.arraycopy(d, offset, row, 0, last);
            return offset + last;
        }
        for (int k = 0; k < java.lang.reflect.Array.getLength(m); k++) {
            offset = fill(java.lang.reflect.Array.get(m, k), d, offset, last);
        }
        return offset;
    }
}
