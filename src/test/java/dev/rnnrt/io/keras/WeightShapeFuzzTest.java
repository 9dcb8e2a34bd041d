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
 * Real Keras .h5 files rewritten with one weight array changed — an axis one longer or shorter, an
 * axis added or removed, two axes swapped, the array dropped or given twice — and loaded. A change
 * of the number of values must be refused with a ModelLoadException (loading would run with
 * weights of the wrong shape); every other change may load, but must not fail with anything but a
 * ModelLoadException. For a longer hunt: {@code -Drnnrt.fuzz.mutations=N} per file,
 * {@code -Drnnrt.fuzz.seed=S}.
 */
class WeightShapeFuzzTest {

    private static final long SEED = Long.getLong("rnnrt.fuzz.seed", 20261203L);
    private static final int MUTATIONS_PER_FILE = Integer.getInteger("rnnrt.fuzz.mutations", 40);
    private static final List<String> FILES = List.of("bilstm_repeatvector_bilstm_tfk224.h5", "masking_lstm_k220.h5",
            "simplernn_flatten_fixedbatch_k213.h5", "keras1_lstm_theano_sequential.h5",
            "circuit_3gru_resetafter_true_tfk230.h5", "sunspot_conv1d_3lstm_k214.h5");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A file's attributes and weights, in its order. */
    private record Parts(String version, String backend, JsonNode config, Map<String, Map<String, Tensor>> weights) {
    }

    private static Parts read(Path file) {
        try (Hdf5 h5 = Hdf5.open(file, file.toString())) {
            Group root = h5.root();
            Group mw = (Group) h5.child(root, "model_weights");
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
            return new Parts(h5.stringAttribute(root, "keras_version"), backend == null ? "tensorflow" : backend,
                    ConfigReader.parse(h5.stringAttribute(root, "model_config"), file.toString()), weights);
        }
    }

    @Test
    void aWeightOfAnotherShapeIsRefusedAndNothingElseBreaks() {
        SplittableRandom random = new SplittableRandom(SEED);
        int refused = 0;
        int total = 0;
        for (String name : FILES) {
            Parts parts = read(KerasTestFiles.path(name));
            List<String[]> all = new ArrayList<>();
            parts.weights().forEach((layer, w) -> w.keySet().forEach(n -> all.add(new String[] {layer, n})));
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
                        what = "dropped";
                        countChanges = true;
                    }
                    default -> {
                        layer.put(pick[1] + "_again", t);
                        what = "given twice";
                        countChanges = true;
                    }
                }
                Map<String, KerasFileWriter.LayerWeights> out = new LinkedHashMap<>();
                weights.forEach((l, w) -> {
                    KerasFileWriter.LayerWeights lw = new KerasFileWriter.LayerWeights();
                    w.forEach(lw::put);
                    out.put(l, lw);
                });
                Path file = dir.resolve("mutant" + total + ".h5");
                KerasFileWriter.writeHdf5(file, parts.version(), parts.backend(), parts.config(), out);
                String context = name + ": " + pick[0] + "/" + pick[1] + " " + Arrays.toString(shape) + " " + what
                        + " (seed " + SEED + ", mutation " + m + ")";
                total++;
                boolean loaded = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                    try {
                        KerasModelLoader.load(file);
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
