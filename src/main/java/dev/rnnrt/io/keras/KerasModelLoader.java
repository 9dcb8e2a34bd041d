package dev.rnnrt.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.io.FileErrors;
import dev.rnnrt.layers.Attention;
import dev.rnnrt.layers.BatchNormalization;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.BidirectionalStack;
import dev.rnnrt.layers.Conv1D;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Embedding;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.layers.LayerNormalization;
import dev.rnnrt.layers.MultiHeadAttention;
import dev.rnnrt.layers.Normalization;
import dev.rnnrt.layers.PRelu;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.StackedRnn;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.model.Model;
import dev.rnnrt.model.NestedModel;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads Keras models:
 * <ul>
 *   <li>Keras 1 / 2 / tf.keras full-model HDF5 ({@code model.save("m.h5")}): the
 *       {@code model_config} attribute and the {@code model_weights} group;</li>
 *   <li>Keras 3 {@code .keras} archives: {@code config.json}, {@code metadata.json} and
 *       {@code model.weights.h5} (and tf.keras 2.12-2.14's, whose layers' weights lie under
 *       {@code _layer_checkpoint_dependencies}; and tf.keras 2.11's, with {@code variables.h5} in
 *       place of {@code model.weights.h5});</li>
 *   <li>weights-only HDF5 ({@code save_weights}) with the architecture as JSON
 *       ({@code model.to_json()}): Keras 1 / 2 files matched by layer name, Keras 3 (and tf.keras
 *       2.12+) {@code *.weights.h5} read as an archive's weights.</li>
 * </ul>
 * Loading never executes anything from the file: Lambda and custom layers are refused. Reads are
 * bounded: a corrupt, truncated or oversized file gives a {@link ModelLoadException} naming the
 * file and the place in it. Weights with NaN or infinite values load, with a warning in
 * {@link LoadedModel#warnings()}: the caller decides how to show it.
 */
public final class KerasModelLoader {

    private static final byte[] HDF5_MAGIC = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    private KerasModelLoader() {
    }

    /** Loads a {@code .h5} or {@code .keras} model file, whichever its first bytes say it is; CPU reference backend. */
    public static LoadedModel load(Path path) {
        return load(path, RecurrentReference.INSTANCE);
    }

    /** Loads a model file whose recurrent layers run on {@code backend}. */
    public static LoadedModel load(Path path, RecurrentBackend backend) {
        String source = path.getFileName() == null ? path.toString() : path.getFileName().toString();
        byte[] head = head(path, source);
        if (startsWith(head, HDF5_MAGIC)) {
            return loadHdf5(path, source, backend);
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return KerasArchive.load(path, source, backend);
        }
        throw new ModelLoadException(source + " is neither an HDF5 file (.h5) nor a zip archive (.keras). "
                + "rnnrt loads models saved by Keras' model.save; a SavedModel folder or an ONNX file is not supported.");
    }

    /** The format of a weights file in Keras 3's layout ({@code *.weights.h5}) read with an architecture JSON. */
    static final String KERAS3_WEIGHTS_FORMAT = "Keras 3 weights HDF5 + JSON";

    /**
     * Loads weights saved by {@code save_weights} into the architecture {@code model.to_json()}
     * gave: Keras 1 and 2 files layer by layer by name (layers in the file that the architecture
     * lacks are ignored), Keras 3 {@code .weights.h5} files (and tf.keras 2.12+'s) as the
     * {@code model.weights.h5} of a {@code .keras} archive. The Keras version and backend are the
     * weights file's, or where it records none (Keras 1's and Keras 3's save_weights), the JSON's.
     */
    public static LoadedModel loadWeights(Path weightsFile, String architectureJson) {
        return loadWeights(weightsFile, architectureJson, RecurrentReference.INSTANCE);
    }

    /** {@link #loadWeights(Path, String)} with the recurrent layers on {@code backend}. */
    public static LoadedModel loadWeights(Path weightsFile, String architectureJson, RecurrentBackend backend) {
        java.util.Objects.requireNonNull(architectureJson, "architectureJson");
        String source = weightsFile.getFileName() == null ? weightsFile.toString() : weightsFile.getFileName().toString();
        byte[] head = head(weightsFile, source);
        if (!startsWith(head, HDF5_MAGIC)) {
            throw new ModelLoadException(source + " is not an HDF5 weights file.");
        }
        try (Hdf5 h5 = Hdf5.open(weightsFile, source)) {
            Group root = h5.root();
            Node mw = h5.child(root, "model_weights");
            Group weightsRoot = mw instanceof Group g ? g : root;
            // Keras 3's save_weights (and tf.keras 2.12+'s to *.weights.h5): layers/<key>/vars/<i>, no layer_names
            boolean keras3 = weightsRoot == root && h5.stringListAttribute(root, "layer_names").isEmpty()
                    && (h5.child(root, "layers") instanceof Group
                    || h5.child(root, WeightStore.Keras3.TF_KERAS_LAYERS) instanceof Group);
            String version = h5.stringAttribute(weightsRoot, "keras_version");
            if (version == null) {
                version = h5.stringAttribute(root, "keras_version");
            }
            JsonNode config = ConfigReader.parse(architectureJson, source + " architecture JSON");
            if (version == null && config.path("keras_version").isTextual()) {
                version = config.path("keras_version").asText();   // Keras 1's save_weights records none, to_json does
            }
            String kerasBackend = h5.stringAttribute(weightsRoot, "backend");
            if (kerasBackend == null && config.path("backend").isTextual()) {   // model.to_json() records it
                kerasBackend = config.path("backend").asText();
            }
            return keras3
                    ? assemble(source, version, kerasBackend, config, new WeightStore.Keras3(h5), KERAS3_WEIGHTS_FORMAT,
                            backend)
                    : assemble(source, version, kerasBackend, config, new WeightStore.Legacy(h5, weightsRoot),
                            "weights-only HDF5 + JSON", backend);
        }
    }

    private static LoadedModel loadHdf5(Path path, String source, RecurrentBackend backend) {
        try (Hdf5 h5 = Hdf5.open(path, source)) {
            Group root = h5.root();
            String config = h5.stringAttribute(root, "model_config");
            if (config == null) {
                throw new ModelLoadException(source + " holds weights only (no model_config attribute), as "
                        + "save_weights writes. Load it with KerasModelLoader.loadWeights(file, architectureJson), "
                        + "giving the architecture from model.to_json().", ModelLoadException.Kind.WEIGHTS_ONLY);
            }
            Node mw = h5.child(root, "model_weights");
            if (!(mw instanceof Group weights)) {
                throw new ModelLoadException(source + " has a model_config but no model_weights group. "
                        + "The file may be truncated; export it again from Keras.");
            }
            String version = h5.stringAttribute(root, "keras_version");
            if (version == null) {
                version = h5.stringAttribute(weights, "keras_version");
            }
            String kerasBackend = h5.stringAttribute(root, "backend");
            if (kerasBackend == null) {
                kerasBackend = h5.stringAttribute(weights, "backend");
            }
            return assemble(source, version, kerasBackend, ConfigReader.parse(config, source),
                    new WeightStore.Legacy(h5, weights), "HDF5", backend);
        }
    }

    /**
     * Builds layers from the config, gives each its weights, and checks the graph.
     *
     * @param kerasBackend the backend Keras 1 or 2 ran on ("tensorflow", "theano", "cntk"), as the file
     *                     records it; null where it does not
     */
    static LoadedModel assemble(String source, String versionText, String kerasBackend, JsonNode config,
                                WeightStore store, String format, RecurrentBackend backend) {
        KerasVersion version;
        List<String> warnings = new ArrayList<>();
        if (versionText == null) {
            boolean archive = format.equals(KerasArchive.FORMAT) || format.equals(KERAS3_WEIGHTS_FORMAT);
            version = archive ? KerasVersion.KERAS_3 : KerasVersion.KERAS_2;
            warnings.add(source + " does not say which Keras wrote it; reading it as Keras " + version + " ("
                    + (archive ? "hard_sigmoid = relu6(x + 3) / 6" : "hard_sigmoid = clip(0.2x + 0.5, 0, 1)")
                    + "; where Keras versions differ, such as masked steps and MultiHeadAttention's masks, "
                    + "that version's rules).");
        } else {
            try {
                version = KerasVersion.parse(versionText);
            } catch (IllegalArgumentException e) {
                throw new ModelLoadException(source + ": unreadable keras_version '" + versionText + "'.", e);
            }
        }
        String loopBackend = kerasBackend;
        if (loopBackend == null && version.major() == 1) {
            loopBackend = version.minor() == 0 ? "theano" : "tensorflow";   // Keras 1's default backend
        }
        // Theano's loop repeated the previous output at masked steps; TensorFlow's and CNTK's the state
        boolean maskedOutputIsState = version.maskedStepsOutputState() && !"theano".equalsIgnoreCase(loopBackend);
        LayerFactory factory = new LayerFactory(source, version, maskedOutputIsState, backend);
        ConfigReader reader = new ConfigReader(source, factory, store.nestedWeightsFlat());
        ConfigReader.Parsed parsed = reader.read(config);
        warnings.addAll(factory.warnings());
        Map<ConfigReader.Entry, List<NamedWeight>> nested = store.nestedWeightsFlat()
                ? flatNestedWeights(source, version, parsed.layers(), store, factory) : Map.of();
        for (ConfigReader.Entry e : parsed.layers()) {
            if (!e.firstCall()) {                    // a shared layer's weights are stored once
                continue;
            }
            if (e.scope().isEmpty() && store.nestedWeightsFlat() && version.major() == 3 && version.minor() < 2
                    && e.trainable()) {
                keras3FrozenPartsOrder(source, version, e, factory);
            }
            List<NamedWeight> raw;
            String absent;                           // why the file has none for it, where it has none
            if (e.scope().isEmpty()) {
                raw = store.weights(e.layer().name(), e.className(), e.positionalKey());
                absent = raw.isEmpty() ? store.absence(e.layer().name(), e.positionalKey()) : WeightStore.TRUNCATED;
            } else if (nested.containsKey(e)) {
                raw = nested.get(e);
                absent = WeightStore.TRUNCATED;
            } else {
                List<String> keys = new ArrayList<>();
                e.scope().forEach(sc -> keys.add(sc.positionalKey()));
                // the name the layer has inside its nested model (Keras 3.8+ records it beside the weights)
                String own = e.layer().name().substring(e.scope().get(e.scope().size() - 1).name().length() + 1);
                WeightStore inner = store.nested(keys);
                raw = inner.weights(own, e.className(), e.positionalKey());
                absent = raw.isEmpty() ? inner.absence(own, e.positionalKey()) : WeightStore.TRUNCATED;
            }
            assign(source, e, raw, absent, warnings, factory);
        }
        Model model;
        try {
            model = parsed.build();
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(source + ": " + e.getMessage(), e);
        }
        maskedStepWarnings(source, version, kerasBackend, loopBackend, parsed.layers(), warnings);
        for (String dropped : masksDropped(model)) {
            warnings.add(source + ": " + dropped + ", as Keras " + version + " computed it.");
        }
        attentionValueMaskWarnings(source, version, model, parsed.layers(), warnings);
        return new LoadedModel(model, versionText, format, warnings);
    }

    /** Where masks stop, in the model and in the models TimeDistributed runs on each step. */
    static List<String> masksDropped(Model model) {
        List<String> out = new ArrayList<>(model.masksDropped());
        for (dev.rnnrt.layers.Layer layer : model.layers()) {
            if (layer instanceof dev.rnnrt.layers.TimeDistributed td && td.inner() instanceof dev.rnnrt.model.NestedModel n) {
                for (String dropped : masksDropped(n.model())) {
                    out.add("in the model " + td.describe() + " runs on each step, " + dropped);
                }
            }
        }
        return out;
    }

    /**
     * Keras 3.0.5 to 3.11 applied an Attention layer's value mask [B, Tv] to its scores [B, Tq, Tv]
     * without a query axis (keras-team/keras#21483, fixed in 3.12): right for one sequence at a
     * time; for more, Keras failed, or, where B equals Tq, masked query i with sequence i's mask.
     * rnnrt computes what the layer means (3.12's rule), which is Keras' result at batch 1: say so.
     */
    private static void attentionValueMaskWarnings(String source, KerasVersion version, Model model,
                                                   List<ConfigReader.Entry> entries, List<String> warnings) {
        boolean affected = version.major() == 3 && (version.minor() == 0 && version.patch() >= 5
                || version.minor() >= 1 && version.minor() <= 11);
        if (!affected) {
            return;
        }
        for (ConfigReader.Entry e : entries) {
            if (e.weightsOnly() || !(e.layer() instanceof dev.rnnrt.layers.Attention a) || a.causal()
                    || e.inputs().size() < 2 || !model.carriesMask(e.inputs().get(1))) {
                continue;
            }
            warnings.add(source + ": layer '" + e.callName() + "' (" + e.className() + ") masks value steps; Keras "
                    + version + " applied that mask correctly only to one sequence at a time (keras-team/keras#21483, "
                    + "fixed in 3.12: with more it failed, or where the batch size equals the query length, masked "
                    + "query i with sequence i's mask). rnnrt computes the masked attention as Keras 3.12+ does, which "
                    + "is Keras " + version + "'s result for batches of one sequence.");
        }
    }

    /**
     * Where what a masked step outputs depends on something the file does not say for sure: which
     * backend Keras 1 ran on, CNTK's loop, tf.keras 2.1.x-tf (TensorFlow 1.9-1.12, whose exact
     * rules rnnrt cannot tell apart). Only for models whose recurrent layers can start from states
     * other than zeros (given initial states, stateful) with masks, or stacks returning states.
     */
    private static void maskedStepWarnings(String source, KerasVersion version, String kerasBackend, String loopBackend,
                                           List<ConfigReader.Entry> entries, List<String> warnings) {
        boolean masks = false;
        boolean startStates = false;
        boolean stackStates = false;
        for (ConfigReader.Entry e : entries) {
            Layer l = e.layer();
            while (l instanceof TimeDistributed t) {
                l = t.inner();
            }
            masks |= l instanceof dev.rnnrt.layers.Masking || l instanceof Embedding emb && emb.maskZero();
            boolean recurrent = l instanceof RecurrentLayer || l instanceof Bidirectional || l instanceof StackedRnn
                    || l instanceof BidirectionalStack;
            startStates |= recurrent && (l.isStateful() || e.inputs().size() > 1);
            stackStates |= l instanceof StackedRnn s && (s.returnState() || e.inputs().size() > 1)
                    || l instanceof BidirectionalStack b && (b.forwardLayer().returnState() || e.inputs().size() > 1);
        }
        boolean matters = masks && startStates;
        if (matters && version.major() == 1 && kerasBackend == null) {
            warnings.add(source + " does not record the backend Keras " + version + " ran on; read as " + loopBackend
                    + " (that version's default), whose loop " + ("theano".equals(loopBackend)
                    ? "repeats the previous output" : "outputs the state") + " at masked steps before the first "
                    + "unmasked one. If the model ran on the other backend, those outputs differ.");
        }
        if (masks && "cntk".equalsIgnoreCase(kerasBackend) && version.major() < 3) {
            warnings.add(source + " was saved with Keras' CNTK backend, whose loop outputs a layer's last state at "
                    + "masked steps (an LSTM's cell state c); rnnrt computes them as the TensorFlow loop of the same "
                    + "Keras version does, so outputs at masked steps may differ.");
        }
        if (version.tfKeras() && version.major() == 2 && version.minor() == 1 && (matters || stackStates)) {
            warnings.add(source + " was written by tf.keras " + version + " (TensorFlow 1.9 to 1.12), read with "
                    + "Keras 2.1.6's rules: masked steps output the state, stacked cells' states last cell first. "
                    + "TensorFlow 1.11 and 1.12 may already follow Keras 2.2.4's; where they matter (initial states "
                    + "with masks, stacked cells' states) check the outputs against Keras.");
        }
    }

    /**
     * Keras 2 keeps all weights of a nested model as one list in the model's group: the trainable
     * weights of its layers in order, then the non-trainable ones (BatchNormalization's moving
     * statistics, and all weights of a layer with trainable=False), as keras/engine/saving.py's
     * convert_nested_model reads them back. Splits each such list among the layers inlined from it.
     */
    private static Map<ConfigReader.Entry, List<NamedWeight>> flatNestedWeights(String source, KerasVersion version,
            List<ConfigReader.Entry> entries, WeightStore store, LayerFactory factory) {
        Map<String, List<ConfigReader.Entry>> byModel = new LinkedHashMap<>();
        for (ConfigReader.Entry e : entries) {
            if (e.firstCall() && !e.scope().isEmpty()) {
                byModel.computeIfAbsent(e.scope().get(0).name(), k -> new ArrayList<>()).add(e);
            }
        }
        Map<ConfigReader.Entry, List<NamedWeight>> out = new HashMap<>();
        for (Map.Entry<String, List<ConfigReader.Entry>> model : byModel.entrySet()) {
            List<ConfigReader.Entry> leaves = model.getValue();
            String where = source + ", nested model '" + model.getKey() + "'";
            List<NamedWeight> flat = store.weights(model.getKey(), "Model", leaves.get(0).scope().get(0).positionalKey());
            int[] total = new int[leaves.size()];
            int[] fixed = new int[leaves.size()];
            int all = 0;
            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < leaves.size(); i++) {
                ConfigReader.Entry e = leaves.get(i);
                total[i] = rawWeightCount(where, e.layer());
                // Keras 2.0.9's RNN layers took their weights' trainability from their cells alone
                boolean cellsDecide = version.major() == 2 && version.minor() == 0 && version.patch() == 9
                        && (e.layer() instanceof RecurrentLayer || e.layer() instanceof StackedRnn
                        || e.layer() instanceof Bidirectional || e.layer() instanceof BidirectionalStack);
                fixed[i] = e.trainable() || cellsDecide ? nonTrainableCount(e.layer(), factory) : total[i];
                all += total[i];
                if (total[i] > 0) {
                    expected.append(expected.length() == 0 ? "" : ", ").append(e.layer().name()).append(' ')
                            .append(total[i]);
                }
            }
            if (all > 0 && version.major() < 2) {
                throw new ModelLoadException(where + ": nested models of Keras 1 files are not supported (their "
                        + "weights are stored per gate); save the model with Keras 2 or later.");
            }
            if (flat.size() != all) {
                throw new ModelLoadException(where + ": the file holds " + flat.size() + " weight arrays for it, its "
                        + "layers need " + all + " (" + expected + "). The config and the weights disagree.");
            }
            if (version.major() >= 3) {
                out.putAll(keras3NestedWeights(where, version, leaves, flat, factory));
                continue;
            }
            List<List<Integer>> parts = keras2NestedOrder(version, leaves, 0, leaves.size(), 1);
            List<Integer> order = new ArrayList<>(parts.get(0));
            order.addAll(parts.get(1));
            if (frozenTimeDistributed(entries, model.getKey())) {
                order = frozenTimeDistributedOrder(source, model.getKey(), version, leaves, total, fixed, order);
            }
            Map<Integer, List<NamedWeight>> own = new HashMap<>();
            Map<Integer, List<NamedWeight>> notTrained = new HashMap<>();
            int at = 0;
            for (int piece : order) {
                int i = piece >> 1;
                int count = (piece & 1) == 0 ? total[i] - fixed[i] : fixed[i];
                ((piece & 1) == 0 ? own : notTrained).put(i, flat.subList(at, at + count));
                at += count;
            }
            for (int i = 0; i < leaves.size(); i++) {
                List<NamedWeight> mine = new ArrayList<>(own.get(i));
                mine.addAll(notTrained.get(i));
                out.put(leaves.get(i), mine);
            }
        }
        return out;
    }

    /** Whether {@code name} is a TimeDistributed around a model whose config says trainable=False. */
    private static boolean frozenTimeDistributed(List<ConfigReader.Entry> entries, String name) {
        for (ConfigReader.Entry e : entries) {
            if (e.firstCall() && e.layer().name().equals(name)) {
                return e.layer() instanceof TimeDistributed && !e.trainable();
            }
        }
        return false;
    }

    /**
     * The order in which a TimeDistributed around a model, with trainable=False, lists the model's
     * weights in a Keras 2 .h5 file (pieces as in {@link #keras2NestedOrder}; {@code trainableFirst}
     * is the order of a trainable one). Standalone Keras 2.0 hands trainable_weights and
     * non_trainable_weights to the model, 2.1 to 2.3 also its trainable flag (wrappers.py), so its
     * layers' trainable weights come first either way. tf.keras 2.6 to 2.15 build the wrapper's
     * non_trainable_weights of a frozen layer from its children's variables (base_layer.py), and a
     * model's variables are its layers' weights in layer order (training.py): each layer's own
     * list in turn, models inside it likewise ({@link #tfKerasVariablesOrder}). tf.keras before 2.6
     * is not in the sources rnnrt follows: where layer order and trainable-first order split the
     * list otherwise, the file is refused.
     */
    private static List<Integer> frozenTimeDistributedOrder(String source, String name, KerasVersion version,
            List<ConfigReader.Entry> leaves, int[] total, int[] fixed, List<Integer> trainableFirst) {
        if (!version.tfKeras() && version.minor() <= 3) {
            return trainableFirst;
        }
        if (!version.tfKeras() && version.minor() >= 6) {
            return tfKerasVariablesOrder(version, leaves, 0, leaves.size(), 1);
        }
        List<Integer> layerOrder = new ArrayList<>();
        boolean deeper = false;
        for (int i = 0; i < leaves.size(); i++) {
            layerOrder.add(2 * i);
            layerOrder.add(2 * i + 1);
            deeper |= leaves.get(i).scope().size() > 1;
        }
        if (splitIndices(layerOrder, total, fixed).equals(splitIndices(trainableFirst, total, fixed))) {
            return layerOrder;
        }
        String why = deeper
                ? "it wraps a model that holds another model, whose weights Keras " + version + " may list in "
                        + "another order than rnnrt can check"
                : "Keras " + version + " is older than the tf.keras 2.6 to 2.15 sources rnnrt follows, which list "
                        + "them in layer order, while standalone Keras lists the trainable ones first";
        throw new ModelLoadException(source + ", layer '" + name + "' (TimeDistributed): it wraps a model and is "
                + "frozen (trainable=False), so its weights are listed either in layer order or trainable ones "
                + "first, which here gives layers other weights; " + why + ". Save the model with the layer "
                + "trainable, with tf.keras 2.6 or later, or with Keras 3.");
    }

    /**
     * The end of the run of leaves from {@code i} (below {@code to}) that lie in the same model at
     * {@code depth} as leaf {@code i}.
     */
    private static int sameModelEnd(List<ConfigReader.Entry> leaves, int i, int to, int depth) {
        String model = leaves.get(i).scope().get(depth).name();
        int end = i + 1;
        while (end < to && leaves.get(end).scope().size() > depth
                && leaves.get(end).scope().get(depth).name().equals(model)) {
            end++;
        }
        return end;
    }

    /**
     * The order in which tf.keras 2.6 to 2.15 list the variables of leaves [from, to) of a model,
     * all inside the same models down to {@code depth} (pieces as in {@link #keras2NestedOrder}): a
     * model's variables are its layers' weights in layer order, whatever its trainable flag
     * (training.py), a layer's weights its trainable ones, then its non-trainable ones
     * (base_layer.py). So a model inside lists its own layers in turn, a TimeDistributed around a
     * model with trainable=False that model's variables, and a trainable one its model's trainable
     * weights, then its non-trainable ones.
     */
    private static List<Integer> tfKerasVariablesOrder(KerasVersion version, List<ConfigReader.Entry> leaves,
            int from, int to, int depth) {
        List<Integer> out = new ArrayList<>();
        int i = from;
        while (i < to) {
            List<ConfigReader.Scope> scope = leaves.get(i).scope();
            if (scope.size() <= depth) {
                out.add(2 * i);
                out.add(2 * i + 1);
                i++;
                continue;
            }
            ConfigReader.Scope model = scope.get(depth);
            int end = sameModelEnd(leaves, i, to, depth);
            if (trainableTimeDistributed(leaves, model.name())) {
                List<List<Integer>> parts = keras2NestedOrder(version, leaves, i, end, depth + 1);
                out.addAll(parts.get(0));
                out.addAll(parts.get(1));
            } else {
                out.addAll(tfKerasVariablesOrder(version, leaves, i, end, depth + 1));
            }
            i = end;
        }
        return out;
    }

    /** Whether {@code name} is a TimeDistributed around a model whose config says trainable=True. */
    private static boolean trainableTimeDistributed(List<ConfigReader.Entry> entries, String name) {
        for (ConfigReader.Entry e : entries) {
            if (e.firstCall() && e.layer().name().equals(name)) {
                return e.layer() instanceof TimeDistributed && e.trainable();
            }
        }
        return false;
    }

    /** For each leaf, the indices of its weights in the nested list when its pieces come in {@code order}. */
    private static Map<Integer, List<Integer>> splitIndices(List<Integer> order, int[] total, int[] fixed) {
        Map<Integer, List<Integer>> out = new HashMap<>();
        int at = 0;
        for (int piece : order) {
            int i = piece >> 1;
            int count = (piece & 1) == 0 ? total[i] - fixed[i] : fixed[i];
            List<Integer> mine = out.computeIfAbsent(i, k -> new ArrayList<>());
            for (int k = 0; k < count; k++) {
                mine.add(at++);
            }
        }
        return out;
    }

    /**
     * The order in which Keras 2 lists the weights of leaves [from, to) of a nested model, all
     * inside the same models down to {@code depth}: {trainable part, non-trainable part}, each a
     * list of pieces (2i: leaf i's trainable weights, 2i + 1: its non-trainable ones). A model's
     * trainable_weights are its layers' trainable weights in turn, its non_trainable_weights their
     * non-trainable ones; a model that is frozen itself (trainable=False in its own config) has no
     * trainable weights, and its non_trainable_weights are its layers' trainable weights, then
     * their non-trainable ones (standalone Keras' network.py, tf.keras' training.py), so in a
     * trainable model around it all its weights come among the non-trainable ones. The outermost
     * model lists the same either way. In tf.keras 2.6 to 2.15 a TimeDistributed around a model,
     * with trainable=False, has no trainable weights, and its non-trainable ones are the model's
     * variables ({@link #tfKerasVariablesOrder}); other versions' such files are refused when read
     * (ConfigReader).
     */
    private static List<List<Integer>> keras2NestedOrder(KerasVersion version, List<ConfigReader.Entry> leaves,
            int from, int to, int depth) {
        List<Integer> trained = new ArrayList<>();
        List<Integer> notTrained = new ArrayList<>();
        int i = from;
        while (i < to) {
            List<ConfigReader.Scope> scope = leaves.get(i).scope();
            if (scope.size() <= depth) {
                trained.add(2 * i);
                notTrained.add(2 * i + 1);
                i++;
                continue;
            }
            ConfigReader.Scope model = scope.get(depth);
            int end = sameModelEnd(leaves, i, to, depth);
            if (frozenTimeDistributed(leaves, model.name())) {
                if (version.tfKeras() || version.minor() < 6) {
                    throw new IllegalStateException("frozen TimeDistributed around a model in a nested model of "
                            + "Keras " + version + ", which ConfigReader refuses");
                }
                notTrained.addAll(tfKerasVariablesOrder(version, leaves, i, end, depth + 1));
                i = end;
                continue;
            }
            List<List<Integer>> inner = keras2NestedOrder(version, leaves, i, end, depth + 1);
            if (model.trainable()) {
                trained.addAll(inner.get(0));
            } else {
                notTrained.addAll(inner.get(0));
            }
            notTrained.addAll(inner.get(1));
            i = end;
        }
        return List.of(trained, notTrained);
    }

    /**
     * Which of a layer's weights Keras 3 marks non-trainable, under one reading of a config that
     * says trainable=False (Keras saves the same config whether a layer was made frozen or frozen
     * after it was built, and the two mark its weights otherwise in some versions).
     */
    private enum Keras3Marks {
        /**
         * Moving statistics, and the weights of each layer or cell whose own config says
         * trainable=False: Keras 3.2+ marks a variable non-trainable when the layer that creates it
         * is frozen then (layer.py _track_variable), and the trainable setter marks a built layer's
         * weights and its sublayers' (any Keras 3).
         */
        CONFIG,
        /**
         * As CONFIG, but a MultiHeadAttention made with trainable=False marks none: it builds its
         * EinsumDense sublayers without passing its trainable on, so they create trainable weights.
         */
        SUBLAYERS_BUILT_TRAINABLE,
        /** Moving statistics only: Keras 3.0 and 3.1 marked no weight of a layer made with trainable=False. */
        STATISTICS
    }

    /**
     * Keras 3's legacy .h5 lists a nested model's weights as its trainable_weights, then its
     * non_trainable_weights (layer.py): a trainable model filters its weights, layer by layer, by
     * each variable's own trainable flag ({@link Keras3Marks}), so a wrapper with trainable=False
     * around trainable layers (an RNN around a trainable cell, a Bidirectional, a TimeDistributed)
     * keeps their weights among the trainable ones; a model whose own config says trainable=False
     * lists all its weights in layer order. Each layer gets its weights in the order it lists them
     * itself: a trainable one its unmarked weights first, a frozen one its weights in turn. Where the
     * readings of a frozen layer (made frozen, or frozen after it was built) split the list
     * otherwise, the file is refused: Keras 3.0 and 3.1 marked the weights only in the second, and
     * a MultiHeadAttention's only in the second in every Keras 3 version.
     */
    private static Map<ConfigReader.Entry, List<NamedWeight>> keras3NestedWeights(String where, KerasVersion version,
            List<ConfigReader.Entry> leaves, List<NamedWeight> flat, LayerFactory factory) {
        boolean modelFrozen = !leaves.get(0).scope().get(0).trainable();
        boolean[][] marks = new boolean[leaves.size()][];
        boolean[][] other = new boolean[leaves.size()][];
        Keras3Marks otherReading = version.minor() >= 2 ? Keras3Marks.SUBLAYERS_BUILT_TRAINABLE : Keras3Marks.STATISTICS;
        for (int i = 0; i < leaves.size(); i++) {
            marks[i] = keras3Marks(where, leaves.get(i).layer(), factory, Keras3Marks.CONFIG);
            other[i] = keras3Marks(where, leaves.get(i).layer(), factory, otherReading);
        }
        if (modelFrozen) {
            // layer order whatever the marks; each layer's own list as rnnrt reads that version's
            // layers (Keras 3.0 and 3.1: as if made frozen, their top-level files' only unrefused reading)
            return splitByMarks(leaves, flat, version.minor() >= 2 ? marks : other, true);
        }
        Map<ConfigReader.Entry, List<NamedWeight>> out = splitByMarks(leaves, flat, marks, false);
        if (!splitByMarks(leaves, flat, other, false).equals(out)) {
            List<String> frozen = new ArrayList<>();
            for (int i = 0; i < leaves.size(); i++) {
                if (!java.util.Arrays.equals(marks[i], other[i])) {
                    frozen.add("'" + leaves.get(i).layer().name() + "'");
                }
            }
            if (version.minor() >= 2) {
                throw new ModelLoadException(where + ": its layer(s) " + String.join(", ", frozen) + " "
                        + "(MultiHeadAttention) are frozen (trainable=False) in the config. Keras " + version + " lists "
                        + "a MultiHeadAttention's weights among the nested model's trainable weights if it was made "
                        + "with trainable=False (it builds its EinsumDense sublayers trainable), among the "
                        + "non-trainable ones if it was frozen after it was built (layer.trainable = False), and saves "
                        + "the same config either way, so rnnrt cannot tell which weights belong to which layer. Save "
                        + "the model as a .keras file, and load it again.");
            }
            throw new ModelLoadException(where + ": its layer(s) " + String.join(", ", frozen) + " are frozen "
                    + "(trainable=False), or hold frozen layers or cells, in the config. Keras " + version + " lists a frozen layer's weights among the "
                    + "nested model's trainable weights if the layer was made with trainable=False, among the "
                    + "non-trainable ones if it was frozen after it was built (layer.trainable = False), and saves the "
                    + "same config either way, so rnnrt cannot tell which weights belong to which layer. Save the "
                    + "model with Keras 3.2 or later, or as a .keras file, and load it again.");
        }
        return out;
    }

    /**
     * Splits a nested model's list into each layer's own list. A trainable model lists its layers'
     * unmarked weights in turn, then their marked ones ({@code marks[i]}, in layer i's weights
     * order); a frozen one ({@code modelFrozen}) each layer's weights in turn. Each layer's own list:
     * a trainable layer's unmarked weights then its marked ones, a frozen layer's in its weights order.
     */
    private static Map<ConfigReader.Entry, List<NamedWeight>> splitByMarks(List<ConfigReader.Entry> leaves,
            List<NamedWeight> flat, boolean[][] marks, boolean modelFrozen) {
        int n = 0;
        for (boolean[] m : marks) {
            for (boolean b : m) {
                n += b || modelFrozen ? 0 : 1;
            }
        }
        int t = 0;
        Map<ConfigReader.Entry, List<NamedWeight>> out = new HashMap<>();
        for (int i = 0; i < leaves.size(); i++) {
            List<NamedWeight> inOrder = new ArrayList<>();
            for (boolean m : marks[i]) {
                inOrder.add(flat.get(m && !modelFrozen ? n++ : t++));
            }
            out.put(leaves.get(i), leaves.get(i).trainable() ? ownOrder(inOrder, marks[i]) : inOrder);
        }
        return out;
    }

    /** A trainable layer's own list in Keras 3: its unmarked weights, then its marked ones. */
    private static <T> List<T> ownOrder(List<T> inOrder, boolean[] marks) {
        List<T> out = new ArrayList<>();
        for (int pass = 0; pass < 2; pass++) {
            for (int k = 0; k < marks.length; k++) {
                if (marks[k] == (pass == 1)) {
                    out.add(inOrder.get(k));
                }
            }
        }
        return out;
    }

    /**
     * Refuses a trainable layer of a Keras 3.0 or 3.1 .h5 file (not in a nested model) whose own
     * list depends on how its frozen parts were frozen: a layer or cell made with trainable=False
     * kept its weights trainable in those versions, one frozen after it was built (layer.trainable
     * = False) did not, and both save the same config. A trainable Bidirectional with a frozen
     * forward layer, or a stack with a frozen cell before a trainable one, lists its weights in
     * turn in the first case, the trainable ones first in the second.
     */
    private static void keras3FrozenPartsOrder(String source, KerasVersion version, ConfigReader.Entry e,
            LayerFactory factory) {
        String where = source + ", layer '" + e.layer().name() + "' (" + e.className() + ")";
        boolean[] marks = keras3Marks(where, e.layer(), factory, Keras3Marks.CONFIG);
        boolean[] made = keras3Marks(where, e.layer(), factory, Keras3Marks.STATISTICS);
        List<Integer> inOrder = new ArrayList<>();
        for (int k = 0; k < marks.length; k++) {
            inOrder.add(k);
        }
        if (!ownOrder(inOrder, marks).equals(ownOrder(inOrder, made))) {
            throw new ModelLoadException(where + ": it is trainable but some of its layers or cells are frozen "
                    + "(trainable=False) in the config, before trainable ones. Keras " + version + " lists their weights "
                    + "in turn if they were made with trainable=False, the trainable ones first if they were frozen "
                    + "after they were built (layer.trainable = False), and saves the same config either way, so rnnrt "
                    + "cannot tell which weights belong where. Save the model with Keras 3.2 or later, or as a .keras "
                    + "file, and load it again.");
        }
    }

    /**
     * Which of a layer's weights, in its weights order, Keras 3 marks non-trainable under one
     * reading of the config (see {@link Keras3Marks} and LayerFactory.createdFrozen).
     */
    private static boolean[] keras3Marks(String where, Layer layer, LayerFactory factory, Keras3Marks reading) {
        while (layer instanceof TimeDistributed t) {
            layer = t.inner();
        }
        List<Layer> parts = new ArrayList<>();
        if (layer instanceof Bidirectional b) {
            parts.add(b.forwardLayer());
            parts.add(b.backwardLayer());
        } else if (layer instanceof BidirectionalStack b) {
            parts.addAll(b.forwardLayer().cells());
            parts.addAll(b.backwardLayer().cells());
        } else if (layer instanceof StackedRnn s) {
            parts.addAll(s.cells());
        } else {
            parts.add(layer);
        }
        List<Boolean> marks = new ArrayList<>();
        for (Layer p : parts) {
            boolean frozen = reading != Keras3Marks.STATISTICS && factory.createdFrozen(p)
                    && !(reading == Keras3Marks.SUBLAYERS_BUILT_TRAINABLE && p instanceof MultiHeadAttention);
            int n = rawWeightCount(where, p);
            for (int k = 0; k < n; k++) {
                boolean statistic = p instanceof BatchNormalization && k >= n - 2 || p instanceof Normalization;
                marks.add(frozen || statistic);
            }
        }
        boolean[] out = new boolean[marks.size()];
        for (int k = 0; k < out.length; k++) {
            out[k] = marks.get(k);
        }
        return out;
    }

    /** How many weight arrays Keras 2 saves for a layer (as rnnrt builds it from its config). */
    private static int rawWeightCount(String where, Layer layer) {
        while (layer instanceof TimeDistributed t) {
            layer = t.inner();
        }
        if (layer instanceof RecurrentLayer r) {
            return r.weightNames().size();
        }
        if (layer instanceof Bidirectional b) {
            return b.forwardLayer().weightNames().size() + b.backwardLayer().weightNames().size();
        }
        if (layer instanceof StackedRnn s) {
            return s.weightNames().size();
        }
        if (layer instanceof BidirectionalStack b) {
            return b.forwardLayer().weightNames().size() + b.backwardLayer().weightNames().size();
        }
        if (layer instanceof BatchNormalization bn && bn.renorm()) {
            throw new ModelLoadException(where + ": layer '" + bn.name() + "' is a BatchNormalization with renorm, "
                    + "whose number of weights differs between Keras versions; rnnrt cannot split the nested "
                    + "model's weights among its layers.");
        }
        if (layer instanceof Dense d) {
            return d.weightNames().size();
        }
        if (layer instanceof Conv1D c) {
            return c.weightNames().size();
        }
        if (layer instanceof BatchNormalization n) {
            return n.weightNames().size();
        }
        if (layer instanceof LayerNormalization n) {
            return n.weightNames().size();
        }
        if (layer instanceof Attention a) {
            return a.weightNames().size();
        }
        if (layer instanceof MultiHeadAttention m) {
            return m.weightNames().size();
        }
        if (layer instanceof Normalization n) {
            return n.hasStatistics() ? 0 : 3;         // mean, variance, count, unless the config gave them
        }
        return layer instanceof Embedding || layer instanceof PRelu ? 1 : 0;
    }

    /**
     * The weights Keras does not train in a trainable layer: BatchNormalization's moving statistics,
     * the weights of a stack's frozen cells.
     */
    private static int nonTrainableCount(Layer layer, LayerFactory factory) {
        while (layer instanceof TimeDistributed t) {
            layer = t.inner();
        }
        if (layer instanceof StackedRnn s && factory.frozenWhole(s)) {
            return s.weightNames().size();                   // standalone Keras 2's frozen StackedRNNCells
        }
        if (layer instanceof StackedRnn s && factory.frozenCells(s) != null) {
            return frozenWeightCount(s, factory.frozenCells(s));
        }
        if (layer instanceof RecurrentLayer r && factory.frozenCells(r) != null) {
            return r.weightNames().size();                   // RNN around one frozen cell
        }
        if (layer instanceof Bidirectional b && factory.frozenDirections(b) != null) {
            boolean[] frozen = factory.frozenDirections(b);
            return (frozen[0] ? b.forwardLayer().weightNames().size() : 0)
                    + (frozen[1] ? b.backwardLayer().weightNames().size() : 0);
        }
        if (layer instanceof BidirectionalStack b) {
            int[] frozen = frozenDirectionCounts(b, factory);
            return frozen[0] + frozen[1];
        }
        return layer instanceof BatchNormalization ? 2 : layer instanceof Normalization ? rawWeightCount("", layer) : 0;
    }

    /**
     * The number of weights of each direction of a trainable Bidirectional around stacked cells
     * that Keras counts as non-trainable, {forward, backward}: its frozen cells', or all of a
     * direction that tf.keras' RNN freezes whole (see LayerFactory.frozenStackDirections).
     */
    private static int[] frozenDirectionCounts(BidirectionalStack b, LayerFactory factory) {
        boolean[] whole = factory.frozenStackDirections(b);
        return new int[] {
            whole != null && whole[0] ? b.forwardLayer().weightNames().size()
                    : frozenWeightCount(b.forwardLayer(), factory.frozenCells(b.forwardLayer())),
            whole != null && whole[1] ? b.backwardLayer().weightNames().size()
                    : frozenWeightCount(b.backwardLayer(), factory.frozenCells(b.backwardLayer()))};
    }

    /** The number of weights of a stack's {@code frozen} cells (none for null). */
    private static int frozenWeightCount(StackedRnn s, boolean[] frozen) {
        int n = 0;
        for (int k = 0; frozen != null && k < frozen.length; k++) {
            n += frozen[k] ? s.cells().get(k).weightNames().size() : 0;
        }
        return n;
    }

    /** @param absent why the file holds no weights for the layer, a sentence for errors where it needs some */
    private static void assign(String source, ConfigReader.Entry e, List<NamedWeight> raw, String absent,
                               List<String> warnings, LayerFactory factory) {
        Layer wrapper = e.layer();
        Layer layer = wrapper;
        while (layer instanceof TimeDistributed t) {    // its weights are the wrapped layer's
            layer = t.inner();
        }
        if (layer instanceof NestedModel) {
            return;                                      // the weights of the model's layers, each its own entry
        }
        String where = source + ", layer '" + wrapper.name() + "' (" + e.className() + ")"
                + (e.scope().isEmpty() ? "" : " in nested model '" + e.scope().get(e.scope().size() - 1).name() + "'");
        for (NamedWeight w : raw) {
            int bad = nonFinite(w.value());
            if (bad > 0) {
                warnings.add(where + ", weight '" + w.name() + "': " + bad + " of " + w.value().size()
                        + " values are NaN or infinite; the outputs will be too.");
            }
        }
        // Keras 1 and 2 converted a recurrent bias of CuDNN's layout on loading; Keras 3 has no CuDNN layers
        boolean cudnnLayout = factory.version().major() < 3;
        try {
            if (layer instanceof RecurrentLayer r) {
                r.setWeights(checkCount(where, r, raw, absent, r.weightNames(),
                        WeightConversions.recurrent(where, r, raw, cudnnLayout)));
            } else if (layer instanceof Bidirectional b) {
                int nf = b.forwardLayer().weightNames().size();
                int nb = b.backwardLayer().weightNames().size();
                if (raw.isEmpty()) {
                    throw new ModelLoadException(where + ": the file has no weights for it; a Bidirectional "
                            + b.forwardLayer().className() + " needs " + (nf + nb) + " (forward "
                            + b.forwardLayer().weightNames() + ", then backward). " + absent);
                }
                // nf + nb arrays are the forward layer's, then the backward's; another even count is split in
                // half, each direction's in its saved form (Keras 1's per-gate arrays), and each half converted,
                // as Keras 2's convert_nested_bidirectional does
                List<Tensor> forward = List.of();
                List<Tensor> backward = List.of();
                // a trainable layer lists its trainable direction's weights first: with a frozen forward
                // layer and a trainable backward_layer, the backward layer's (see LayerFactory)
                boolean[] frozen = factory.frozenDirections(b);
                boolean backwardFirst = raw.size() == nf + nb && e.trainable() && frozen != null && frozen[0]
                        && !frozen[1];
                if (backwardFirst) {
                    backward = WeightConversions.recurrent(where + " backward", b.backwardLayer(), raw.subList(0, nb),
                            cudnnLayout);
                    forward = WeightConversions.recurrent(where + " forward", b.forwardLayer(),
                            raw.subList(nb, raw.size()), cudnnLayout);
                } else if (raw.size() == nf + nb || raw.size() % 2 == 0) {
                    int split = raw.size() == nf + nb ? nf : raw.size() / 2;
                    forward = WeightConversions.recurrent(where + " forward", b.forwardLayer(), raw.subList(0, split),
                            cudnnLayout);
                    backward = WeightConversions.recurrent(where + " backward", b.backwardLayer(),
                            raw.subList(split, raw.size()), cudnnLayout);
                }
                if (forward.size() != nf || backward.size() != nb) {
                    throw new ModelLoadException(where + ": found " + raw.size() + " weight arrays, a Bidirectional "
                            + b.forwardLayer().className() + " needs " + (nf + nb) + " (forward " + b.forwardLayer().weightNames()
                            + ", then backward; or, from Keras 1, each direction's per-gate arrays). The file may be "
                            + "truncated; export it again from Keras.");
                }
                b.forwardLayer().setWeights(forward);
                b.backwardLayer().setWeights(backward);
            } else if (layer instanceof StackedRnn s) {
                // Keras 3 lists a frozen layer's weights as its weights property orders them, cell by
                // cell (layer.py non_trainable_weights); Keras 2 its stack's trainable cells first
                boolean inCellOrder = !e.trainable() && factory.frozenInCellOrder(s);
                s.setWeights(stackedWeights(where, s, raw, absent, inCellOrder ? null : factory.frozenCells(s),
                        cudnnLayout));
            } else if (layer instanceof BidirectionalStack b) {
                // a frozen layer lists each direction in turn (its non-trainable weights are each
                // direction's weights: trainable cells first, or cell by cell in Keras 3 and tf.keras
                // 2.6-2.11, see LayerFactory.frozenInCellOrder); a trainable one both directions'
                // trainable weights first
                boolean inCellOrder = !e.trainable() && factory.frozenInCellOrder(b);
                bidirectionalStackWeights(where, b, raw, absent,
                        inCellOrder ? null : factory.frozenCells(b.forwardLayer()),
                        inCellOrder ? null : factory.frozenCells(b.backwardLayer()),
                        e.trainable() ? frozenDirectionCounts(b, factory) : null, cudnnLayout);
            } else if (layer instanceof Dense d) {
                d.setWeights(required(where, raw, absent, "kernel, bias"));
            } else if (layer instanceof Embedding emb) {
                emb.setWeights(required(where, raw, absent, "embeddings"));
            } else if (layer instanceof Conv1D c) {
                c.setWeights(required(where, raw, absent, "kernel, bias"));
            } else if (layer instanceof BatchNormalization bn) {
                bn.setWeights(required(where, raw, absent, String.join(", ", bn.weightNames())));
            } else if (layer instanceof LayerNormalization ln && !ln.weightNames().isEmpty()) {
                ln.setWeights(required(where, raw, absent, String.join(", ", ln.weightNames())));
            } else if (layer instanceof Normalization n && (!raw.isEmpty() || !n.hasStatistics())) {
                n.setWeights(required(where, raw, absent, "mean, variance, count"));
            } else if (layer instanceof MultiHeadAttention m) {
                m.setWeights(required(where, raw, absent, String.join(", ", m.weightNames())));
            } else if (layer instanceof PRelu pr) {
                pr.setWeights(required(where, raw, absent, "alpha"));
            } else if (layer instanceof Attention a && !a.weightNames().isEmpty()) {
                a.setWeights(required(where, raw, absent, String.join(", ", a.weightNames())));
            } else if (!raw.isEmpty() && !(layer instanceof Normalization)) {
                // computing without weights the file has would give other numbers than Keras
                throw new ModelLoadException(where + ": the file holds " + raw.size() + " weight array(s) ("
                        + raw.get(0).name() + (raw.size() > 1 ? ", …" : "") + ") for it, but rnnrt builds this "
                        + layer.className() + " from its config without weights. The config and the weights disagree; "
                        + "please report the model's layers with this message.");
            }
        } catch (IllegalArgumentException ex) {
            throw new ModelLoadException(where + ": " + ex.getMessage()
                    + " The weights in the file disagree with the model config.", ex);
        }
    }

    /**
     * A stack of cells' weights, each cell's converted as its layer's. Keras 3 keeps them in groups
     * cell/cells/&lt;key&gt;, the key made from the cell's class and its place among the cells of that
     * class ("lstm_cell", "lstm_cell_1", "gru_cell"); they are put in the cells' order by it.
     * Keras 2 lists them in that order, except that where the config freezes some cells and not
     * others ({@code frozen}) it lists the trainable cells' weights first, then the frozen ones'
     * (StackedRNNCells' trainable_weights, then non_trainable_weights). {@code cudnnLayout}: as
     * {@link WeightConversions#recurrent} takes it.
     */
    private static List<Tensor> stackedWeights(String where, StackedRnn s, List<NamedWeight> raw, String absent,
                                               boolean[] frozen, boolean cudnnLayout) {
        List<String> names = s.weightNames();
        if (raw.isEmpty()) {
            throw new ModelLoadException(where + ": the file has no weights for it; its stacked cells need "
                    + names.size() + " (" + String.join(", ", names) + "). " + absent);
        }
        List<NamedWeight> ordered = raw;
        if (raw.get(0).name().contains("/cell/cells/")) {
            Map<String, List<NamedWeight>> byKey = new HashMap<>();
            for (NamedWeight w : raw) {
                int at = w.name().indexOf("/cell/cells/");
                String rest = at < 0 ? "" : w.name().substring(at + "/cell/cells/".length());
                if (rest.indexOf('/') < 1) {
                    // the names come from the file: a damaged one may put a weight beside the cells' groups
                    throw new ModelLoadException(where + ": weight '" + w.name() + "' is not in a cell's group "
                            + "cell/cells/<cell>/, as '" + raw.get(0).name() + "' is. The file is damaged; export "
                            + "the model again.");
                }
                byKey.computeIfAbsent(rest.substring(0, rest.indexOf('/')), k -> new ArrayList<>()).add(w);
            }
            ordered = new ArrayList<>();
            Map<String, Integer> used = new HashMap<>();
            for (RecurrentLayer c : s.cells()) {
                String base = WeightStore.snake(c.className() + "Cell");
                int k = used.merge(base, 1, Integer::sum) - 1;
                String key = k == 0 ? base : base + "_" + k;
                List<NamedWeight> mine = byKey.remove(key);
                if (mine == null) {
                    throw new ModelLoadException(where + ": the file has no weights for cell '" + c.name()
                            + "' (expected a group cell/cells/" + key + "; found " + byKey.keySet()
                            + "). The config and the weights disagree; export the model again.");
                }
                ordered.addAll(mine);
            }
            if (!byKey.isEmpty()) {
                throw new ModelLoadException(where + ": the file has weights for cells " + byKey.keySet()
                        + " that its config does not list. The config and the weights disagree; export the model again.");
            }
        }
        if (frozen != null && ordered == raw && raw.size() == names.size()) {
            int trainable = 0;
            for (int k = 0; k < frozen.length; k++) {
                trainable += frozen[k] ? 0 : s.cells().get(k).weightNames().size();
            }
            List<NamedWeight> inCellOrder = new ArrayList<>();
            int t = 0;
            int f = trainable;
            for (int k = 0; k < frozen.length; k++) {
                int n = s.cells().get(k).weightNames().size();
                inCellOrder.addAll(frozen[k] ? raw.subList(f, f + n) : raw.subList(t, t + n));
                if (frozen[k]) {
                    f += n;
                } else {
                    t += n;
                }
            }
            ordered = inCellOrder;
        }
        if (ordered.size() != names.size()) {
            throw new ModelLoadException(where + ": found " + ordered.size() + " weight arrays, its stacked cells need "
                    + names.size() + " (" + String.join(", ", names) + "). The file may be truncated; export it again "
                    + "from Keras.");
        }
        List<Tensor> out = new ArrayList<>();
        int at = 0;
        for (RecurrentLayer c : s.cells()) {
            int n = c.weightNames().size();
            out.addAll(WeightConversions.recurrent(where + ", cell '" + c.name() + "'", c, ordered.subList(at, at + n),
                    cudnnLayout));
            at += n;
        }
        return out;
    }

    /**
     * A Bidirectional stack's weights: the forward stack's, then the backward's (Keras 3: under
     * forward_layer/ and backward_layer/), each read as {@link #stackedWeights} reads a stack's. In a
     * list with frozen weights (each stack's own cells: {@code forwardFrozen}, {@code backwardFrozen},
     * which differ where the config gives a backward_layer), a trainable layer lists the trainable
     * weights of both stacks first, then the non-trainable ones of both ({@code frozenCounts}, per
     * direction; null for a frozen layer); a frozen layer lists each stack in turn. {@code cudnnLayout}:
     * as {@link WeightConversions#recurrent} takes it.
     */
    private static void bidirectionalStackWeights(String where, BidirectionalStack b, List<NamedWeight> raw,
                                                  String absent, boolean[] forwardFrozen, boolean[] backwardFrozen,
                                                  int[] frozenCounts, boolean cudnnLayout) {
        int nf = b.forwardLayer().weightNames().size();
        int nb = b.backwardLayer().weightNames().size();
        List<NamedWeight> fw = new ArrayList<>();
        List<NamedWeight> bw = new ArrayList<>();
        if (!raw.isEmpty() && raw.get(0).name().contains("/cell/cells/")) {
            for (NamedWeight w : raw) {
                (w.name().contains("backward_layer/") ? bw : fw).add(w);
            }
        } else if (raw.size() == nf + nb && frozenCounts != null && frozenCounts[0] + frozenCounts[1] > 0) {
            int tf = nf - frozenCounts[0];
            int tb = nb - frozenCounts[1];
            fw.addAll(raw.subList(0, tf));
            bw.addAll(raw.subList(tf, tf + tb));
            fw.addAll(raw.subList(tf + tb, tf + tb + nf - tf));
            bw.addAll(raw.subList(tf + tb + nf - tf, raw.size()));
        } else if (raw.size() == nf + nb) {
            fw.addAll(raw.subList(0, nf));
            bw.addAll(raw.subList(nf, nf + nb));
        } else if (!raw.isEmpty()) {
            throw new ModelLoadException(where + ": found " + raw.size() + " weight arrays, its two stacks of cells need "
                    + (nf + nb) + " (forward " + b.forwardLayer().weightNames() + ", then backward "
                    + b.backwardLayer().weightNames() + "). The file may be truncated; export it again from Keras.");
        }
        b.forwardLayer().setWeights(stackedWeights(where + " forward", b.forwardLayer(), fw, absent, forwardFrozen,
                cudnnLayout));
        b.backwardLayer().setWeights(stackedWeights(where + " backward", b.backwardLayer(), bw, absent,
                backwardFrozen, cudnnLayout));
    }

    private static List<Tensor> checkCount(String where, RecurrentLayer r, List<NamedWeight> raw, String absent,
                                           List<String> names, List<Tensor> converted) {
        if (raw.isEmpty()) {
            throw new ModelLoadException(where + ": the file has no weights for it; a " + r.className() + " needs "
                    + names.size() + " (" + String.join(", ", names) + "). " + absent);
        }
        if (converted.size() != names.size()) {
            throw new ModelLoadException(where + ": found " + converted.size() + " weight arrays, a " + r.className()
                    + " needs " + names.size() + " (" + String.join(", ", names)
                    + "). The file may be truncated; export it again from Keras.");
        }
        return converted;
    }

    private static List<Tensor> required(String where, List<NamedWeight> raw, String absent, String names) {
        if (raw.isEmpty()) {
            throw new ModelLoadException(where + ": the file has no weights for it (" + names + "). " + absent);
        }
        return WeightConversions.values(raw);
    }

    private static int nonFinite(Tensor t) {
        int n = 0;
        for (float v : t.data()) {
            if (!Float.isFinite(v)) {
                n++;
            }
        }
        return n;
    }

    private static byte[] head(Path path, String source) {
        if (!Files.exists(path)) {
            throw new ModelLoadException(source + ": no such file (" + path.toAbsolutePath() + ").");
        }
        if (Files.isDirectory(path)) {
            throw new ModelLoadException(source + " is a folder; rnnrt loads a .h5 or .keras file "
                    + "(a TensorFlow SavedModel folder is not supported).");
        }
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(8);
        } catch (IOException e) {
            throw new ModelLoadException(source + ": cannot read the file (" + FileErrors.reason(e) + ").", e);
        }
    }

    private static boolean startsWith(byte[] head, byte[] magic) {
        if (head.length < magic.length) {
            return false;
        }
        for (int k = 0; k < magic.length; k++) {
            if (head[k] != magic[k]) {
                return false;
            }
        }
        return true;
    }

    static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
