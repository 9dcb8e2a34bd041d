package dev.rnnrt.io.keras;

import dev.rnnrt.api.Tensor;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** Where a file keeps each layer's weights, in the order Keras saved them. */
abstract class WeightStore {

    /** The most bytes of weights rnnrt reads from one file (2 GiB). */
    static final long MAX_WEIGHT_BYTES = 2L << 30;

    protected final Hdf5 h5;
    protected final long[] budget = {MAX_WEIGHT_BYTES};

    WeightStore(Hdf5 h5) {
        this.h5 = h5;
    }

    /**
     * The weights saved for a layer, in Keras order; empty when the file has none for it.
     *
     * @param name      the layer's name in the config
     * @param className its Keras class
     * @param position  its place among the model's layers that are not InputLayers
     * @param positionalKey  the name Keras 3 gives its weight group ("dense_1")
     */
    abstract List<NamedWeight> weights(String name, String className, String positionalKey);

    /** Why a file may hold no weights for a layer that needs some, when nothing better is known. */
    static final String TRUNCATED = "The file may be truncated; export it again from Keras.";

    /** The most names an error lists. */
    private static final int LISTED = 20;

    /**
     * Why the file holds no weights for a layer (whose {@link #weights} came back empty), as a
     * sentence for an error: where the layer's group is missing, that the config and the weights
     * name or place the layers differently; otherwise that the file may be truncated.
     */
    String absence(String name, String positionalKey) {
        return TRUNCATED;
    }

    /** Names for an error: the first {@value #LISTED}, then how many more. */
    static String listed(List<String> names) {
        return names.size() <= LISTED ? names.toString()
                : names.subList(0, LISTED) + " and " + (names.size() - LISTED) + " more";
    }

    /**
     * Whether the format keeps all of a nested model's weights as one list in the model's own group
     * (Keras 1 and 2, which the loader then splits among its layers); otherwise each layer inside
     * has its own group ({@link #nested}).
     */
    boolean nestedWeightsFlat() {
        return true;
    }

    /**
     * The store of the layers inside nested models, given the Keras 3 keys of the models from the
     * outermost in; only where {@link #nestedWeightsFlat()} is false.
     */
    WeightStore nested(List<String> modelKeys) {
        throw new UnsupportedOperationException("this format keeps a nested model's weights in one list");
    }

    /**
     * Keras 1 and 2 .h5 ({@code model.save} and {@code save_weights}): group {@code <layer>}
     * below the weights root, with the weight order in its {@code weight_names} attribute, each
     * name a dataset path below the group (e.g. "lstm/lstm_cell/kernel:0", "lstm_1_W_i").
     */
    static final class Legacy extends WeightStore {
        private final Group root;

        Legacy(Hdf5 h5, Group root) {
            super(h5);
            this.root = root;
        }

        @Override
        List<NamedWeight> weights(String name, String className, String positionalKey) {
            Node group = h5.child(root, name);
            List<NamedWeight> out = new ArrayList<>();
            if (!(group instanceof Group g)) {
                return out;
            }
            for (String weightName : h5.stringListAttribute(g, "weight_names")) {
                Tensor t = h5.floatDataset(g, weightName, budget);
                out.add(new NamedWeight(weightName, t));
            }
            return out;
        }

        @Override
        String absence(String name, String positionalKey) {
            if (h5.child(root, name) instanceof Group) {
                return TRUNCATED;
            }
            List<String> names = h5.stringListAttribute(root, "layer_names");
            return "The file has no weights under the name '" + name + "' (its layers: "
                    + listed(names.isEmpty() ? h5.children(root) : names) + "): the model config and the weights "
                    + "name the layers differently. Use the architecture of the model that saved these weights.";
        }
    }

    /**
     * Keras 3 {@code model.weights.h5}: {@code layers/<key>/vars/<i>}, recurrent layers under
     * {@code cell/vars}, Bidirectional under {@code forward_layer} and {@code backward_layer},
     * TimeDistributed under {@code layer}. {@code <key>} is made from the class and position
     * ("dense", "dense_1"); the {@code vars} group also carries the layer's config name, which
     * is matched first.
     *
     * <p>tf.keras 2.12 to 2.14 saved the same layout with {@value #TF_KERAS_LAYERS} in place of
     * each {@code layers} group (their saving walked a model's attributes in name order, and met
     * the layers first under Functional._layer_checkpoint_dependencies), as Keras 3's H5Entry reads
     * them back. That dict lists a layer with weights twice, and tf.keras 2.12 and 2.13 counted
     * both in a key's position (two LSTMs: "lstm", "lstm_2"); 2.14 counts each layer once. A layer's
     * group there is the one of its class in its place among that class's groups.
     *
     * <p>tf.keras 2.11's {@code variables.h5} ({@link #tfKeras211}) has this layout under
     * {@code layers} too: its saving walked the same attributes, but iterated a dict's keys (strings,
     * never a layer), so the layers were first met in the {@code layers} list, each once. It records
     * no config names, so groups are found by key only.
     */
    static final class Keras3 extends WeightStore {
        /** The group tf.keras 2.12-2.14 kept a model's layers in, in place of {@code layers}. */
        static final String TF_KERAS_LAYERS = "_layer_checkpoint_dependencies";
        /** The writer of {@link #tfKeras211} files, as messages name it. */
        static final String TF_KERAS_2_11 = "tf.keras 2.11";
        private static final Pattern KEY = Pattern.compile("(.+?)(?:_(\\d{1,9}))?");

        private final Group layers;
        /** "layers", or {@link #TF_KERAS_LAYERS} in tf.keras 2.12-2.14 files. */
        private final String layersName;
        /** Who keys the groups this way, for messages: "Keras 3" or "tf.keras 2.11". */
        private final String writer;
        private final Map<String, String> keyByConfigName = new HashMap<>();

        Keras3(Hdf5 h5) {
            this(h5, h5.child(h5.root(), "layers") == null && h5.child(h5.root(), TF_KERAS_LAYERS) instanceof Group
                    ? TF_KERAS_LAYERS : "layers");
        }

        private Keras3(Hdf5 h5, String layersName) {
            this(h5, h5.child(h5.root(), layersName), layersName, "Keras 3");
        }

        /**
         * The weights of a tf.keras 2.11 {@code .keras} archive's {@code variables.h5}: below
         * {@code layers} (the caller has checked the file has that group), keyed by class and place only.
         */
        static Keras3 tfKeras211(Hdf5 h5) {
            return new Keras3(h5, h5.child(h5.root(), "layers"), "layers", TF_KERAS_2_11);
        }

        /** The layers below {@code layers} (a Keras 3 "layers" group, or null when there is none). */
        private Keras3(Hdf5 h5, Node layersGroup, String layersName, String writer) {
            super(h5);
            Node n = layersGroup;
            this.layersName = layersName;
            this.writer = writer;
            this.layers = n instanceof Group g ? g : null;
            // tf.keras 2.11 wrote no names beside the weights: a "name" there is not its own, and is not trusted
            if (layers != null && !writer.equals(TF_KERAS_2_11)) {
                for (String key : h5.children(layers)) {
                    Node vars = h5.child(layers, key + "/vars");
                    if (vars != null) {
                        String configName = h5.stringAttribute(vars, "name");
                        if (configName != null) {
                            keyByConfigName.putIfAbsent(configName, key);
                        }
                    }
                }
            }
        }

        @Override
        boolean nestedWeightsFlat() {
            return false;
        }

        /** A nested model's layers: layers/&lt;model key&gt;/layers/…, as Keras 3 saves a model inside a model. */
        @Override
        WeightStore nested(List<String> modelKeys) {
            Node n = layers;
            for (String key : modelKeys) {
                n = n instanceof Group g ? h5.child(g, groupKey(g, key) + "/" + layersName) : null;
            }
            return new Keras3(h5, n, layersName, writer);
        }

        /**
         * The group below {@code in} that Keras 3's key {@code key} ("lstm_1", "time_distributed/layer")
         * stands for: itself, or in a tf.keras 2.12-2.14 file the group of that class at the same
         * place among the groups of its class.
         */
        private String groupKey(Group in, String key) {
            if (!layersName.equals(TF_KERAS_LAYERS)) {
                return key;
            }
            int slash = key.indexOf('/');
            String first = slash < 0 ? key : key.substring(0, slash);
            java.util.regex.Matcher m = KEY.matcher(first);
            if (!m.matches()) {
                return key;
            }
            String base = m.group(1);
            int place = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
            List<int[]> ofClass = new ArrayList<>();       // [index in the key, index in children]
            List<String> children = h5.children(in);
            for (int c = 0; c < children.size(); c++) {
                java.util.regex.Matcher k = KEY.matcher(children.get(c));
                if (k.matches() && k.group(1).equals(base)) {
                    ofClass.add(new int[] {k.group(2) == null ? 0 : Integer.parseInt(k.group(2)), c});
                }
            }
            ofClass.sort((a, b) -> Integer.compare(a[0], b[0]));
            String group = place < ofClass.size() ? children.get(ofClass.get(place)[1]) : first;
            return slash < 0 ? group : group + key.substring(slash);
        }

        @Override
        List<NamedWeight> weights(String name, String className, String positionalKey) {
            List<NamedWeight> out = new ArrayList<>();
            if (layers == null) {
                return out;
            }
            String key = keyByConfigName.getOrDefault(name, groupKey(layers, positionalKey));
            Node group = h5.child(layers, key);
            if (!(group instanceof Group g)) {
                return out;
            }
            collect(g, key, className, out);
            return out;
        }

        @Override
        String absence(String name, String positionalKey) {
            if (layers == null) {
                return "The file has no " + layersName + " group, where " + writer + " keeps the layers' weights; it "
                        + "may be truncated, or hold another model's weights.";
            }
            String key = keyByConfigName.getOrDefault(name, groupKey(layers, positionalKey));
            if (h5.child(layers, key) instanceof Group) {
                return TRUNCATED;
            }
            return "The file has no group " + key + " below " + layersName + " (it has " + listed(h5.children(layers))
                    + "): " + writer + " keys a layer's weights by its class and its place among the layers of that class, "
                    + "so the model config and the weights disagree on the layers. Use the architecture of the model "
                    + "that saved these weights.";
        }

        private void collect(Group g, String path, String className, List<NamedWeight> out) {
            vars(g, path, out);
            switch (className) {
                case "LSTM", "GRU", "SimpleRNN", "RNN" -> {
                    sub(g, path, "cell", "", out);
                    // StackedRNNCells: cell/cells/<lstm_cell, lstm_cell_1, gru_cell, …>, in the group's
                    // order here; the loader puts them in the cells' order by these keys
                    if (h5.child(g, "cell/cells") instanceof Group cells) {
                        for (String key : h5.children(cells)) {
                            sub(cells, path + "/cell/cells", key, "", out);
                        }
                    }
                }
                case "Bidirectional" -> {
                    sub(g, path, "forward_layer", "RNN", out);
                    sub(g, path, "backward_layer", "RNN", out);
                }
                case "TimeDistributed" -> {
                    // the wrapped layer's weights, laid out as that layer's own (cell/…, forward_layer/…)
                    Node inner = h5.child(g, "layer");
                    if (inner instanceof Group ig) {
                        String kind = h5.child(ig, "forward_layer") instanceof Group ? "Bidirectional"
                                : h5.child(ig, "cell") instanceof Group ? "RNN" : "";
                        collect(ig, path + "/layer", kind, out);
                    }
                }
                case "MultiHeadAttention" -> {
                    // its EinsumDense sublayers, saved under their attribute names (with a leading
                    // underscore before the public properties were added)
                    for (String part : new String[] {"query_dense", "key_dense", "value_dense", "output_dense"}) {
                        sub(g, path, h5.child(g, part) instanceof Group ? part : "_" + part, "", out);
                    }
                }
                default -> {
                }
            }
        }

        private void sub(Group g, String path, String child, String kind, List<NamedWeight> out) {
            Node n = h5.child(g, child);
            if (n instanceof Group c) {
                vars(c, path + "/" + child, out);
                if (kind.equals("RNN")) {
                    sub(c, path + "/" + child, "cell", "", out);
                    if (h5.child(c, "cell/cells") instanceof Group cells) {   // StackedRNNCells, as below
                        for (String key : h5.children(cells)) {
                            sub(cells, path + "/" + child + "/cell/cells", key, "", out);
                        }
                    }
                }
            }
        }

        private void vars(Group g, String path, List<NamedWeight> out) {
            Node v = h5.child(g, "vars");
            if (!(v instanceof Group vars)) {
                return;
            }
            List<String> names = h5.children(vars);
            names.sort((a, b) -> Integer.compare(index(a), index(b)));
            for (String n : names) {
                out.add(new NamedWeight(path + "/vars/" + n, h5.floatDataset(vars, n, budget)));
            }
        }

        private int index(String name) {
            try {
                return Integer.parseInt(name);
            } catch (NumberFormatException e) {
                throw new ModelLoadException(h5.source() + ": unexpected weight '" + name
                        + "' in a " + writer + " vars group; expected numbered arrays 0, 1, 2, …");
            }
        }
    }

    private static final Pattern CAMEL_1 = Pattern.compile("(.)([A-Z][a-z]+)");
    private static final Pattern CAMEL_2 = Pattern.compile("([a-z])([A-Z])");

    /** Keras' to_snake_case: "SimpleRNN" → "simple_rnn", "Conv1D" → "conv1d". */
    static String snake(String className) {
        String s = CAMEL_1.matcher(className).replaceAll("$1_$2");
        return CAMEL_2.matcher(s).replaceAll("$1_$2").toLowerCase(Locale.ROOT);
    }
}
