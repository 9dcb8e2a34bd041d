package dev.rnnrt.io.keras;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rnnrt.api.Tensor;
import io.jhdf.api.Group;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Keras .h5 files and .keras archives (and textgenrnn's weights-only file of CuDNNLSTM
 * weights, with its architecture JSON) rewritten with one weight array changed — an axis one
 * longer or shorter, an axis added or removed, two axes swapped, the array dropped or given twice —
 * and loaded. A change of the number of values must be refused with a ModelLoadException (loading
 * would run with weights of the wrong shape; only the arrays of layers the model has are changed,
 * since a weights-only file's others are not read); every other change may load, but must not fail
 * with anything but a ModelLoadException. For a longer hunt: {@code -Drnnrt.fuzz.mutations=N} per
 * file, {@code -Drnnrt.fuzz.seed=S}.
 */
class WeightShapeFuzzTest {

    private static final long SEED = Long.getLong("rnnrt.fuzz.seed", 20261203L);
    private static final int MUTATIONS_PER_FILE = Integer.getInteger("rnnrt.fuzz.mutations", 40);
    /** Weights only, in CuDNNLSTM's layout, read with the architecture of textgenrnn_lstm_part.json. */
    private static final String TEXTGENRNN = "textgenrnn_cudnnlstm_weights_only_k215.h5";
    private static final List<String> FILES = List.of("bilstm_repeatvector_bilstm_tfk224.h5", "masking_lstm_k220.h5",
            "simplernn_flatten_fixedbatch_k213.h5", "keras1_lstm_theano_sequential.h5",
            "circuit_3gru_resetafter_true_tfk230.h5", "sunspot_conv1d_3lstm_k214.h5", "emg_2gru_k392.keras",
            "emg_reshape_lstm_unroll_k392.keras", "medaka_bigru_resetafter_false_k215.h5", TEXTGENRNN);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /**
     * A file's attributes and weights, in its order: for .h5, layer → weight name → array; for
     * .keras, the path of a vars group below "layers" → its vars by index.
     */
    private record Parts(boolean archive, String version, String backend, JsonNode config, String architecture,
                         Map<String, Map<String, Tensor>> weights) {

        /** The file's model: with its architecture JSON for a weights-only file. */
        dev.rnnrt.model.Model load(Path file) {
            return (architecture == null ? KerasModelLoader.load(file)
                    : KerasModelLoader.loadWeights(file, architecture)).model();
        }

        /** The layers whose weights the model uses: a weights-only file also holds those of layers it lacks. */
        boolean used(String layer) {
            if (architecture == null) {
                return true;
            }
            for (JsonNode l : config.path("config").path("layers")) {
                if (l.path("name").asText().equals(layer)) {
                    return true;
                }
            }
            return false;
        }

        void write(Path file, Map<String, Map<String, Tensor>> w) throws java.io.IOException {
            if (archive) {
                Map<String, List<Tensor>> vars = new LinkedHashMap<>();
                w.forEach((group, byIndex) -> vars.put(group, new ArrayList<>(byIndex.values())));
                KerasFileWriter.writeKeras(file, version, config, vars, Map.of());
            } else {
                // (layers without weights are left out: jhdf cannot write their empty weight_names
                // and reads the empty group it writes instead back as corrupt)
                Map<String, KerasFileWriter.LayerWeights> out = new LinkedHashMap<>();
                w.forEach((l, byName) -> {
                    if (byName.isEmpty()) {
                        return;
                    }
                    KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
                    byName.forEach(lw::put);
                    out.put(l, lw);
                });
                if (architecture != null) {
                    KerasFileWriter.writeWeightsOnly(file, version, out);
                } else {
                    KerasFileWriter.writeHdf5(file, version, backend, config, out);
                }
            }
        }
    }

    private static Parts read(Path file) throws java.io.IOException {
        if (file.toString().endsWith(".keras")) {
            return readArchive(file);
        }
        String architecture = file.getFileName().toString().equals(TEXTGENRNN)
                ? java.nio.file.Files.readString(KerasTestFiles.path("textgenrnn_lstm_part.json")) : null;
        try (Hdf5 h5 = Hdf5.open(file, file.toString())) {
            Group root = h5.root();
            Group mw = architecture != null ? root : (Group) h5.child(root, "model_weights");
            Map<String, Map<String, Tensor>> weights = new LinkedHashMap<>();
            long[] budget = {Long.MAX_VALUE};
            for (String layer : h5.stringListAttribute(mw, "layer_names")) {
                Group g = (Group) h5.child(mw, layer);
                Map<String, Tensor> w = new LinkedHashMap<>();
                for (String name : h5.stringListAttribute(g, "weight_names")) {
                    w.put(name, h5.floatDataset(g, name, budget));
                }
                weights.put(layer, w);
            }
            String backend = h5.stringAttribute(root, "backend");
            String config = architecture != null ? architecture : h5.stringAttribute(root, "model_config");
            return new Parts(false, h5.stringAttribute(root, "keras_version"), backend == null ? "tensorflow" : backend,
                    ConfigReader.parse(config, file.toString()), architecture, weights);
        }
    }

    private static Parts readArchive(Path file) throws java.io.IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (java.util.zip.ZipInputStream zip = new java.util.zip.ZipInputStream(java.nio.file.Files.newInputStream(file))) {
            for (java.util.zip.ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                entries.put(e.getName(), zip.readAllBytes());
            }
        }
        String utf8 = new String(entries.get("metadata.json"), java.nio.charset.StandardCharsets.UTF_8);
        String version = ConfigReader.parse(utf8, "metadata.json").path("keras_version").asText();
        JsonNode config = ConfigReader.parse(new String(entries.get("config.json"), java.nio.charset.StandardCharsets.UTF_8),
                "config.json");
        Map<String, Map<String, Tensor>> weights = new LinkedHashMap<>();
        try (Hdf5 h5 = Hdf5.open(entries.get("model.weights.h5"), "model.weights.h5")) {
            collectVars(h5, (Group) h5.child(h5.root(), "layers"), "", weights);
        }
        return new Parts(true, version, null, config, null, weights);
    }

    /** Every non-empty vars group below {@code group}, by its path, its vars in index order. */
    private static void collectVars(Hdf5 h5, Group group, String path, Map<String, Map<String, Tensor>> out) {
        for (String child : h5.children(group)) {
            if (!(h5.child(group, child) instanceof Group g)) {
                continue;
            }
            if (child.equals("vars")) {
                Map<String, Tensor> vars = new LinkedHashMap<>();
                for (int k = 0; h5.child(g, Integer.toString(k)) != null; k++) {
                    vars.put(Integer.toString(k), h5.floatDataset(g, Integer.toString(k), new long[] {Long.MAX_VALUE}));
                }
                if (!vars.isEmpty()) {
                    out.put(path, vars);
                }
            } else {
                collectVars(h5, g, path.isEmpty() ? child : path + "/" + child, out);
            }
        }
    }

    @Test
    void aWeightOfAnotherShapeIsRefusedAndNothingElseBreaks() throws java.io.IOException {
        SplittableRandom random = new SplittableRandom(SEED);
        int refused = 0;
        int total = 0;
        for (String name : FILES) {
            Parts parts = read(KerasTestFiles.path(name));
            // the file rewritten unchanged loads, and gives the original's numbers
            Path same = dir.resolve("unchanged_" + name);
            parts.write(same, parts.weights());
            Tensor x = inputFor(parts.load(KerasTestFiles.path(name)), name.equals(TEXTGENRNN));
            dev.rnnrt.testing.Compare.assertIdentical(name + " rewritten", parts.load(KerasTestFiles.path(name))
                    .predict(x), parts.load(same).predict(x));
            List<String[]> all = new ArrayList<>();
            parts.weights().forEach((layer, w) -> w.keySet().forEach(n -> {
                if (parts.used(layer)) {
                    all.add(new String[] {layer, n});
                }
            }));
            for (int m = 0; m < MUTATIONS_PER_FILE; m++) {
                String[] pick = all.get(random.nextInt(all.size()));
                Map<String, Map<String, Tensor>> weights = new LinkedHashMap<>();
                parts.weights().forEach((layer, w) -> weights.put(layer, new LinkedHashMap<>(w)));
                Map<String, Tensor> layer = weights.get(pick[0]);
                Tensor t = layer.get(pick[1]);
                int[] shape = t.shape();
                int kind = random.nextInt(6);
                int axis = random.nextInt(shape.length);
                String what;
                boolean countChanges;
                switch (kind) {
                    case 0 -> {
                        int[] s = shape.clone();
                        s[axis] += shape[axis] > 1 && random.nextBoolean() ? -1 : 1;
                        layer.put(pick[1], resized(t, s));
                        what = "axis " + axis + " resized to " + Arrays.toString(s);
                        countChanges = true;
                    }
                    case 1 -> {
                        int[] s = new int[shape.length + 1];
                        System.arraycopy(shape, 0, s, 0, axis);
                        s[axis] = 1;
                        System.arraycopy(shape, axis, s, axis + 1, shape.length - axis);
                        layer.put(pick[1], Tensor.wrap(t.toArray(), s));
                        what = "an axis of 1 added: " + Arrays.toString(s);
                        countChanges = false;
                    }
                    case 2 -> {
                        if (shape.length < 2) {
                            // tripled, not doubled: a recurrent layer's bias of twice the size is
                            // CuDNN's layout, which loads converted, as in Keras
                            layer.put(pick[1], resized(t, new int[] {shape[0] * 3}));
                            what = "tripled to " + shape[0] * 3;
                            countChanges = true;
                        } else {
                            int[] s = new int[shape.length - 1];
                            for (int k = 0, j = 0; k < shape.length; k++) {
                                if (k == axis) {
                                    continue;
                                }
                                s[j++] = shape[k];
                            }
                            s[Math.min(axis, s.length - 1)] *= shape[axis];
                            layer.put(pick[1], Tensor.wrap(t.toArray(), s));
                            what = "axis " + axis + " merged: " + Arrays.toString(s);
                            countChanges = false;
                        }
                    }
                    case 3 -> {
                        if (shape.length == 2 && shape[0] != shape[1]) {
                            layer.put(pick[1], Tensor.wrap(transposed(t), shape[1], shape[0]));
                            what = "transposed to [" + shape[1] + ", " + shape[0] + "]";
                        } else {
                            layer.put(pick[1], Tensor.wrap(t.toArray(), reversed(shape)));
                            what = "axes reversed: " + Arrays.toString(reversed(shape));
                        }
                        countChanges = false;
                    }
                    case 4 -> {
                        layer.remove(pick[1]);
                        if (parts.archive()) { // the vars after it move up one index, as if it had never been saved
                            List<Tensor> rest = new ArrayList<>(layer.values());
                            layer.clear();
                            for (int k = 0; k < rest.size(); k++) {
                                layer.put(Integer.toString(k), rest.get(k));
                            }
                        }
                        what = "dropped";
                        countChanges = true;
                    }
                    default -> {
                        layer.put(pick[1] + "_again", t);
                        what = "given twice";
                        countChanges = true;
                    }
                }
                Path file = dir.resolve("mutant" + total + name.substring(name.lastIndexOf('.')));
                if (parts.archive() && kind == 5) {
                    // a var given twice in an archive is one more index
                    layer.remove(pick[1] + "_again");
                    layer.put(Integer.toString(layer.size()), t);
                }
                parts.write(file, weights);
                String context = name + ": " + pick[0] + "/" + pick[1] + " " + Arrays.toString(shape) + " " + what
                        + " (seed " + SEED + ", mutation " + m + ")";
                total++;
                boolean loaded = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                    try {
                        parts.load(file);
                        return true;
                    } catch (ModelLoadException e) {
                        return false;
                    } catch (Throwable e) {
                        fail(context + ": " + e, e);
                        return false;
                    }
                }, context);
                if (loaded && countChanges) {
                    fail(context + ": loaded, with a weight of another number of values");
                }
                refused += loaded ? 0 : 1;
            }
        }
        assertTrue(refused >= total / 2, refused + " of " + total + " refused");
    }

    /**
     * Random values for the model's one input, batch 3 (or its fixed batch), unknown steps as 7;
     * for {@code tokens}, indices into textgenrnn's Embedding of 465 rows.
     */
    private static Tensor inputFor(dev.rnnrt.model.Model m, boolean tokens) {
        int[] perSequence = m.inputShapes().get(0);
        int[] shape = new int[perSequence.length + 1];
        shape[0] = m.fixedBatchSize().orElse(3);
        for (int k = 0; k < perSequence.length; k++) {
            shape[k + 1] = perSequence[k] < 0 ? 7 : perSequence[k];
        }
        Tensor x = new dev.rnnrt.testing.RandomTensors(5).uniform(1, shape);
        if (tokens) {
            float[] v = x.data();
            for (int k = 0; k < v.length; k++) {
                v[k] = (float) Math.floor((v[k] + 1) / 2 * 465) % 465;
            }
        }
        return x;
    }

    /** t's values in a new shape: the overlap of every axis kept, the rest zero. */
    private static Tensor resized(Tensor t, int[] s) {
        float[] out = new float[Arrays.stream(s).reduce(1, (a, b) -> a * b)];
        int[] old = t.shape();
        int[] idx = new int[s.length];
        for (int k = 0; k < out.length; k++) {
            int rem = k;
            for (int a = s.length - 1; a >= 0; a--) {
                idx[a] = rem % s[a];
                rem /= s[a];
            }
            if (old.length != s.length) {
                out[k] = k < t.size() ? t.data()[k] : 0;
                continue;
            }
            boolean inside = true;
            int src = 0;
            for (int a = 0; a < s.length; a++) {
                inside &= idx[a] < old[a];
                src = src * old[a] + Math.min(idx[a], old[a] - 1);
            }
            out[k] = inside ? t.data()[src] : 0;
        }
        return Tensor.wrap(out, s);
    }

    private static float[] transposed(Tensor t) {
        int r = t.dim(0);
        int c = t.dim(1);
        float[] out = new float[r * c];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                out[j * r + i] = t.data()[i * c + j];
            }
        }
        return out;
    }

    private static int[] reversed(int[] shape) {
        int[] s = new int[shape.length];
        for (int k = 0; k < shape.length; k++) {
            s[k] = shape[shape.length - 1 - k];
        }
        return s;
    }
}
