package dev.rnnrt.io.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.ActivationLayer;
import dev.rnnrt.layers.AdvancedActivation;
import dev.rnnrt.layers.Attention;
import dev.rnnrt.layers.BatchNormalization;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.BidirectionalStack;
import dev.rnnrt.layers.Conv1D;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Dot;
import dev.rnnrt.layers.Embedding;
import dev.rnnrt.layers.Flatten;
import dev.rnnrt.layers.GlobalPooling1D;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.InferenceNoOp;
import dev.rnnrt.layers.Initializer;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.layers.LayerNormalization;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Masking;
import dev.rnnrt.layers.Merge;
import dev.rnnrt.layers.MultiHeadAttention;
import dev.rnnrt.layers.Normalization;
import dev.rnnrt.layers.Permute;
import dev.rnnrt.layers.OutputActivation;
import dev.rnnrt.layers.PRelu;
import dev.rnnrt.layers.Pooling1D;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.RepeatVector;
import dev.rnnrt.layers.Reshape;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.layers.StackedRnn;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.layers.TimeResize;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Makes rnnrt layers from Keras layer configs (Keras 1, 2 and 3 key names). Never executes
 * anything from the file: Lambda and unknown (custom) classes are refused.
 */
final class LayerFactory {

    /** The Keras classes rnnrt builds, for messages. */
    static final List<String> SUPPORTED = List.of("InputLayer", "SimpleRNN", "LSTM", "GRU", "CuDNNLSTM", "CuDNNGRU",
            "RNN (with an LSTMCell, GRUCell or SimpleRNNCell, or a StackedRNNCells of them)",
            "Bidirectional", "TimeDistributed", "Dense", "Embedding", "Masking", "Activation", "Dropout",
            "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
            "RepeatVector", "Flatten", "Reshape", "Concatenate", "Add", "Multiply", "Average", "Subtract", "Maximum",
            "Minimum", "Conv1D", "MaxPooling1D",
            "AveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling1D", "BatchNormalization",
            "LayerNormalization", "Attention", "AdditiveAttention", "ReLU", "LeakyReLU", "ELU", "ThresholdedReLU",
            "PReLU", "Softmax", "Dot", "Normalization", "Permute", "ZeroPadding1D", "Cropping1D", "UpSampling1D",
            "MultiHeadAttention", "Identity");

    private final String source;
    private final KerasVersion version;
    /** Whether the input shapes read so far fix the batch size (see {@link #timeDistributedPassesInnerMask}). */
    private boolean batchFixed;
    /** Whether masked steps output the layer's state, as Keras' TensorFlow backend did up to 2.2.4. */
    private final boolean maskedOutputIsState;
    private final dev.rnnrt.backend.RecurrentBackend backend;

    LayerFactory(String source, KerasVersion version, boolean maskedOutputIsState,
                 dev.rnnrt.backend.RecurrentBackend backend) {
        this.source = source;
        this.version = version;
        this.maskedOutputIsState = maskedOutputIsState;
        this.backend = backend;
    }

    /**
     * The RNN layers whose configs freeze cells (trainable=False on a cell, or in tf.keras on
     * StackedRNNCells): Keras counts a frozen cell's weights as non-trainable even in a trainable
     * layer, so it saves a stack's trainable cells' weights first, then the frozen ones', and in a
     * nested model's list puts them among the non-trainable weights. (Keras 3 before 3.2 did not
     * mark such weights; Keras 3's StackedRNNCells with trainable=False leaves its cells' marks.)
     */
    private final Map<Layer, boolean[]> frozenCells = new java.util.IdentityHashMap<>();

    /** The Keras version the file was written by. */
    KerasVersion version() {
        return version;
    }

    /**
     * Which cells of this RNN layer (a StackedRnn, or RNN around one cell) its config freezes; null for
     * none. A BidirectionalStack's two stacks are recorded each with its own cells (an explicit
     * backward_layer may freeze others than the forward layer), and the BidirectionalStack itself
     * where either stack freezes any.
     */
    boolean[] frozenCells(Layer layer) {
        return frozenCells.get(layer);
    }

    /** Records the cells a layer's config freezes, where any is and the Keras version marks them so. */
    private void recordFrozen(Layer layer, boolean[] frozen) {
        boolean any = false;
        for (boolean f : frozen) {
            any |= f;
        }
        if (any && !(version.major() == 3 && version.minor() < 2)) {
            frozenCells.put(layer, frozen);
        }
    }

    /**
     * Whether the config of the layer (or cell) that creates a layer's weights says trainable=False:
     * an LSTM, GRU or SimpleRNN's own (Keras 3 passes it to its cell), an RNN's cell's, each cell's
     * of a stack, each direction's of a Bidirectional, a TimeDistributed's inner layer's. Keras 3.2+
     * marks the weights of such a layer non-trainable when it creates them (layer.py
     * _track_variable); a wrapper's own trainable=False marks none.
     */
    private final Map<Layer, Boolean> createdFrozen = new java.util.IdentityHashMap<>();

    /** Whether the config of the layer that creates {@code layer}'s own weights says trainable=False (see createdFrozen). */
    boolean createdFrozen(Layer layer) {
        return createdFrozen.getOrDefault(layer, false);
    }

    /**
     * The stacks whose StackedRNNCells says trainable=False in standalone Keras 2.0.9 to 2.3.1. Its
     * trainable_weights are then empty, so Keras counts all the stack's weights as non-trainable (in
     * a nested model's list, or a trainable Bidirectional's), but its non_trainable_weights still
     * list the trainable cells' weights (by each cell's own trainable) first, then the frozen
     * cells' (recurrent.py), so the cells' order in the stack's own list follows the cells alone.
     */
    private final java.util.Set<StackedRnn> frozenWholeStacks =
            java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    /** Whether Keras counts all weights of this stack as non-trainable, whatever its cells say (see frozenWholeStacks). */
    boolean frozenWhole(StackedRnn s) {
        return frozenWholeStacks.contains(s);
    }

    /**
     * The Bidirectional layers around stacked cells where Keras counts all weights of a direction
     * as non-trainable in a trainable Bidirectional, whatever its cells say: {forward, backward}.
     * tf.keras' RNN with trainable=False lists none of its weights as trainable, so a trainable
     * Bidirectional lists the other direction's weights first; the frozen direction's own list keeps
     * its stack's order (its trainable cells first). Keras 3, whose RNN leaves its cells' weights
     * trainable, and the standalone Keras versions whose Bidirectional sets both directions'
     * trainable to its own ({@link #bidirectionalSetsDirectionsTrainable}), have none, except
     * standalone Keras' StackedRNNCells with trainable=False ({@link #frozenWholeStacks}).
     */
    private final Map<BidirectionalStack, boolean[]> frozenStackDirections = new java.util.IdentityHashMap<>();

    /** Which directions of a trainable Bidirectional around stacked cells are frozen whole; null for neither. */
    boolean[] frozenStackDirections(BidirectionalStack b) {
        return frozenStackDirections.get(b);
    }

    /**
     * The frozen Bidirectional layers around stacked cells whose .h5 weights list each direction's
     * cells in cell order. tf.keras 2.6 to 2.11 always built Bidirectional trainable (its __init__
     * ends with {@code self._trainable = True}), so trainable=False in its config comes from the
     * base Layer's trainable setter, which sets every nested layer's trainable, and a frozen
     * layer's non-trainable weights are its children's weights in turn (base_layer.py). Keras 3
     * lists a frozen layer's weights property, cell by cell. Others list each direction's trainable
     * cells first (standalone Keras 2's RNN and StackedRNNCells).
     */
    private final java.util.Set<BidirectionalStack> frozenInCellOrder =
            java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    /**
     * Whether {@code layer}, saved with trainable=False, lists its cells' weights in cell order in
     * .h5 files rather than its trainable cells first: Keras 3, and a frozen Bidirectional around
     * stacked cells from tf.keras 2.6 to 2.11 (see {@link #frozenInCellOrder}).
     */
    boolean frozenInCellOrder(Layer layer) {
        return version.major() >= 3 || layer instanceof BidirectionalStack b && frozenInCellOrder.contains(b);
    }

    /**
     * Standalone Keras 2.0.9 and 2.1.4 to 2.3.1: Bidirectional's trainable setter, which Layer.__init__
     * calls, sets both directions' trainable to its own, and 2.0.9's RNN took its weights'
     * trainability from its cell alone, so an RNN's own trainable=False does not freeze a direction.
     */
    private boolean bidirectionalSetsDirectionsTrainable() {
        boolean standalone = version.major() == 2 && !version.tfKeras() && version.minor() <= 3;
        return standalone && (version.minor() == 0 && version.patch() == 9 || version.minor() > 1
                || version.minor() == 1 && version.patch() >= 4);
    }

    /**
     * Records how a Bidirectional around stacked cells lists its weights where its config says
     * trainable=False, and refuses the config where Keras versions wrote it in two orders that the
     * file does not tell apart: tf.keras 2.12 to 2.15 take Bidirectional's trainable from its
     * argument (or its layer's) without passing it on, so a Bidirectional made with trainable=False
     * lists each direction's trainable cells first, while one frozen later by the trainable setter
     * lists them in cell order, and both save the same config. tf.keras before 2.6 ("-tf" versions,
     * 2.4, 2.5) is refused alike: its Bidirectional is not in the sources rnnrt follows. Where every
     * direction's trainable cells already come first in cell order, both orders are one.
     */
    private void recordFrozenStackOrder(String name, BidirectionalStack b, JsonNode cfg) {
        if (version.major() != 2 || bool(cfg, "trainable", true)) {
            return;
        }
        boolean standalone = !version.tfKeras() && version.minor() <= 3;
        if (standalone) {
            return;                                          // each direction's trainable cells first
        }
        boolean tfKeras26To211 = !version.tfKeras() && version.minor() >= 6 && version.minor() <= 11;
        if (!tfKeras26To211 && (reordered(frozenCells.get(b.forwardLayer()))
                || reordered(frozenCells.get(b.backwardLayer())))) {
            throw new ModelLoadException(source + ", layer '" + name + "' (Bidirectional): it is frozen "
                    + "(trainable=False) around stacked cells of which some are frozen and a later one is not. "
                    + (version.tfKeras() || version.minor() < 6
                    ? "Keras " + version + " does not say in which order it then saves the cells' weights"
                    : "Keras " + version + " saves the cells' weights in cell order if the Bidirectional was frozen "
                    + "after it was made (layer.trainable = False), or each direction's trainable cells first if it "
                    + "was made with trainable=False, and the file is the same either way")
                    + "; rnnrt cannot tell which weights belong to which cell. Save the model with the "
                    + "Bidirectional trainable (or with Keras 3) and load it again.");
        }
        frozenInCellOrder.add(b);
    }

    /** Whether a stack's cells {@code frozen} put a frozen cell before a trainable one (null: none frozen). */
    private static boolean reordered(boolean[] frozen) {
        boolean seenFrozen = false;
        for (int k = 0; frozen != null && k < frozen.length; k++) {
            if (!frozen[k] && seenFrozen) {
                return true;
            }
            seenFrozen |= frozen[k];
        }
        return false;
    }

    /**
     * The Bidirectional layers around one cell per direction where Keras counts a direction's
     * weights as non-trainable in a trainable Bidirectional: {forward, backward}. A trainable
     * Bidirectional lists its weights as trainable_weights + non_trainable_weights, each the forward
     * layer's then the backward's (Keras 2's base Layer gathers them from its children, Keras 3's
     * filters its weights by each variable's trainable flag), so a frozen forward layer with a
     * trainable backward_layer saves the backward layer's weights first.
     */
    private final Map<Bidirectional, boolean[]> frozenDirections = new java.util.IdentityHashMap<>();

    /**
     * Which directions of a Bidirectional around one cell per direction Keras counts as
     * non-trainable while the Bidirectional itself is trainable: {forward, backward}; null for neither.
     */
    boolean[] frozenDirections(Bidirectional b) {
        return frozenDirections.get(b);
    }

    /**
     * Whether Keras counts all weights of one direction of a Bidirectional around one cell as
     * non-trainable while the Bidirectional is trainable. {@code spec} is the direction's config.
     * <ul>
     *   <li>tf.keras (2.x "-tf" and 2.4+): base_layer.py's trainable_weights is empty for a layer
     *       with trainable=False, and an LSTM, GRU or SimpleRNN gives its cell its own trainable; an
     *       RNN around a frozen cell has no trainable weights either. Bidirectional sets its own
     *       trainable without passing it on (wrappers.py, rnn/bidirectional.py).</li>
     *   <li>Standalone Keras 2.1.4 to 2.3.1: Bidirectional's trainable setter, which Layer.__init__
     *       calls, sets both directions' trainable to its own, so only a frozen cell counts; 2.0.9's
     *       RNN took its weights' trainability from its cell alone; other versions as tf.keras.</li>
     *   <li>Keras 3.2+: a variable is non-trainable when the layer that created it (the cell) was
     *       frozen then (layer.py _track_variable): an LSTM, GRU or SimpleRNN with trainable=False,
     *       or an RNN's frozen cell; an RNN's own trainable=False leaves its cell's weights
     *       trainable. Keras 3.0 and 3.1 marked none of a layer made frozen (those of one frozen
     *       after it was built, under the same config, they did: KerasModelLoader refuses such
     *       files where the two orders differ).</li>
     * </ul>
     */
    private boolean plainDirectionFrozen(RecurrentLayer layer, JsonNode spec) {
        boolean cellFrozen = frozenCells.containsKey(layer);       // RNN around a frozen cell, where marked
        boolean layerFrozen = !bool(spec.path("config"), "trainable", true);
        if (version.major() >= 3) {
            return cellFrozen || layerFrozen && !"RNN".equals(text(spec, "class_name", "")) && version.minor() >= 2;
        }
        if (bidirectionalSetsDirectionsTrainable()) {
            return cellFrozen;
        }
        return cellFrozen || layerFrozen;
    }

    /** Warnings about the file's layers (precision Keras computed in), for the loaded model. */
    private final List<String> warnings = new ArrayList<>();
    /** The dtype policies already warned about, so that a model warns once per policy. */
    private final java.util.Set<String> warnedPolicies = new java.util.HashSet<>();

    List<String> warnings() {
        return warnings;
    }

    /**
     * The dtype policy a layer's config names (Keras 3: {"class_name": "DTypePolicy", "config":
     * {"name": ...}}; tf.keras: "float32" or {"class_name": "Policy", ...}), or null.
     */
    static String dtypePolicy(JsonNode dtype) {
        if (dtype.isTextual()) {
            return dtype.asText();
        }
        JsonNode name = dtype.path("config").path("name");
        return name.isTextual() ? name.asText() : null;
    }

    /**
     * Quantized layers (Keras 3's int8 / int4 / float8 policies) store weights rnnrt does not read:
     * refused. Layers Keras computed in float16 or bfloat16 (mixed precision) load with a warning,
     * since rnnrt computes in float32 and its outputs differ from Keras' by that rounding.
     */
    private void checkPrecision(String cls, String name, JsonNode dtype) {
        String policy = dtypePolicy(dtype);
        String policyClass = dtype.path("class_name").asText("");
        String mode = dtype.path("config").path("mode").asText("");
        // Keras 3.4+ writes quantized policies as {"class_name": "...DTypePolicy", "config": {"mode", "source_name"}}
        if (policyClass.contains("Quantized") || policyClass.startsWith("AWQ") || policyClass.startsWith("GPTQ")
                || policyClass.startsWith("Int4") || policyClass.startsWith("Float8") || !mode.isEmpty()
                || policy != null && (policy.startsWith("int8") || policy.startsWith("int4") || policy.startsWith("float8")
                || policy.startsWith("gptq") || policy.startsWith("awq") || policy.contains("_from_"))) {
            String which = policy != null ? policy : (mode.isEmpty() ? policyClass : mode);
            throw new ModelLoadException(source + ", layer '" + name + "' (" + cls + "): it is quantized (dtype policy '"
                    + which + "'); rnnrt reads float weights. Save the model before quantizing it.");
        }
        if (policy == null) {
            return;
        }
        if ((policy.contains("float16") || policy.equals("float64")) && warnedPolicies.add(policy)) {
            warnings.add(source + ": dtype policy '" + policy + "' (first on layer '" + name + "'): Keras computed "
                    + "those layers in " + (policy.equals("float64") ? "float64" : policy.contains("bfloat16")
                    ? "bfloat16" : "float16") + ", rnnrt computes in float32, so the outputs differ from Keras' by "
                    + "that rounding.");
        }
    }

    /**
     * Refuses a spec whose class is not Keras' own. Keras 3 (and tf.keras 2.13+) record each
     * object's {@code module} and {@code registered_name}: Keras' layers and models come from
     * {@code keras…} (or tf_keras…) with no registered_name or their class name, while a custom
     * class, even one named after a built-in (a subclass of LSTM called LSTM), names its own
     * package, and Keras builds it from that package's code. Specs without these keys (Keras 1 and
     * 2) pass.
     *
     * @param what how to name the spec in the message ("layer 'lstm' (LSTM)")
     */
    static void checkKerasClass(String source, JsonNode spec, String what) {
        String cls = spec.path("class_name").asText("");
        JsonNode module = spec.path("module");
        JsonNode registered = spec.path("registered_name");
        String m = module.isTextual() ? module.asText() : null;
        String r = registered.isTextual() ? registered.asText() : null;
        boolean ownModule = m == null || m.equals("keras") || m.startsWith("keras.") || m.equals("tf_keras")
                || m.startsWith("tf_keras.");
        boolean ownName = r == null || r.equals(cls) || r.startsWith("keras>");
        if (!ownModule || !ownName) {
            throw new ModelLoadException(source + ", " + what + ": its class comes from "
                    + (m == null ? "" : "module '" + m + "'") + (m != null && r != null ? ", " : "")
                    + (r == null ? "" : "registered as '" + r + "'") + ", not from Keras: it is a custom class "
                    + "named '" + cls + "', which Keras builds from that package's code, whatever Keras class has "
                    + "the name. rnnrt never runs code from a model file; rebuild the model with Keras' own layers "
                    + "and export it again.");
        }
    }

    /** A layer from {@code {"class_name": ..., "config": {...}}}. */
    Layer create(JsonNode layerSpec) {
        return create(layerSpec, null);
    }

    /**
     * A layer from its spec and the keyword arguments of its call in the graph (null or missing
     * when none), which decide some layers' numbers (Attention's use_causal_mask).
     */
    Layer create(JsonNode layerSpec, JsonNode callKwargs) {
        return create(layerSpec, callKwargs, "");
    }

    /** As {@link #create(JsonNode, JsonNode)}, the layer's name with {@code prefix} in front (a nested model's layers). */
    Layer create(JsonNode layerSpec, JsonNode callKwargs, String prefix) {
        String cls = text(layerSpec, "class_name", null);
        JsonNode cfg = layerSpec.path("config");
        String name = text(cfg, "name", null);
        if (cls == null) {
            throw new ModelLoadException(source + ": a layer in the config has no class_name.");
        }
        if (name == null) {
            name = text(layerSpec, "name", null);
        }
        if (name == null) {
            name = WeightStore.snake(cls);          // Keras always writes one; a config without is named by class
        }
        name = prefix + name;
        checkKerasClass(source, layerSpec, "layer '" + name + "' (" + cls + ")");
        checkPrecision(cls, name, cfg.path("dtype"));
        try {
            Layer layer = build(cls, name, cfg, callKwargs == null
                    ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : callKwargs);
            createdFrozen.putIfAbsent(layer, !bool(cfg, "trainable", true));   // an RNN's: its cell's, recorded first
            return layer;
        } catch (ModelLoadException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(source + ", layer '" + name + "' (" + cls + "): " + e.getMessage(), e);
        }
    }

    private Layer build(String cls, String name, JsonNode cfg, JsonNode callKwargs) {
        switch (cls) {
            case "LSTM":
            case "CuDNNLSTM":
            case "GRU":
            case "CuDNNGRU":
            case "SimpleRNN":
                return recurrent(cls, name, cfg);
            case "RNN":
                return rnnWrapper(name, cfg);
            case "Bidirectional": {
                Layer inner = create(cfg.path("layer"));
                if (inner instanceof StackedRnn stack) {
                    // Keras 3 always saves backward_layer (a derived one too), tf.keras only one given by hand
                    StackedRnn backwardStack = null;
                    if (cfg.hasNonNull("backward_layer")) {
                        Layer b = create(cfg.path("backward_layer"));
                        if (!(b instanceof StackedRnn bs)) {
                            throw new ModelLoadException(source + ", layer '" + name + "' (Bidirectional): its layer is "
                                    + stack.describe() + ", an RNN of stacked cells, but its backward_layer is "
                                    + b.describe() + "; rnnrt pairs a stack of cells with a backward stack of cells "
                                    + "(RNN(StackedRNNCells) or RNN([cell, …])). Write the backward layer as an RNN of "
                                    + "cells and export the model again.");
                        }
                        backwardStack = bs;
                    }
                    JsonNode mode = cfg.path("merge_mode");
                    BidirectionalStack b = BidirectionalStack.of(name, stack, mode.isMissingNode()
                            ? Bidirectional.MergeMode.CONCAT : Bidirectional.MergeMode.named(mode.isNull() ? null
                            : mode.asText()), backwardStack, version.bidirectionalZeroesMaskedOutputs());
                    // each direction freezes its own config's cells (a derived backward stack the forward's)
                    boolean[] forwardFrozen = frozenCells.get(stack);
                    boolean[] backwardFrozen = backwardStack == null ? forwardFrozen : frozenCells.get(backwardStack);
                    if (forwardFrozen != null) {
                        frozenCells.put(b.forwardLayer(), forwardFrozen);
                    }
                    if (backwardFrozen != null) {
                        frozenCells.put(b.backwardLayer(), backwardFrozen);
                    }
                    if (forwardFrozen != null || backwardFrozen != null) {
                        frozenCells.put(b, forwardFrozen != null ? forwardFrozen : backwardFrozen);
                    }
                    // tf.keras: an RNN with trainable=False freezes its whole direction (see frozenStackDirections)
                    boolean rnnFreezes = version.major() == 2 && !bidirectionalSetsDirectionsTrainable();
                    // standalone Keras 2: a StackedRNNCells with trainable=False freezes its whole direction
                    boolean forwardWhole = rnnFreezes && !bool(cfg.path("layer").path("config"), "trainable", true)
                            || frozenWholeStacks.contains(stack);
                    boolean backwardWhole = backwardStack == null ? forwardWhole : rnnFreezes
                            && !bool(cfg.path("backward_layer").path("config"), "trainable", true)
                            || frozenWholeStacks.contains(backwardStack);
                    if (forwardWhole || backwardWhole) {
                        frozenStackDirections.put(b, new boolean[] {forwardWhole, backwardWhole});
                    }
                    for (int k = 0; k < stack.cells().size(); k++) {
                        createdFrozen.put(b.forwardLayer().cells().get(k), createdFrozen(stack.cells().get(k)));
                    }
                    StackedRnn backwardSource = backwardStack == null ? stack : backwardStack;
                    for (int k = 0; k < backwardSource.cells().size(); k++) {
                        createdFrozen.put(b.backwardLayer().cells().get(k), createdFrozen(backwardSource.cells().get(k)));
                    }
                    recordFrozenStackOrder(name, b, cfg);
                    return b;
                }
                if (!(inner instanceof RecurrentLayer forward)) {
                    throw new ModelLoadException(source + ", layer '" + name + "' (Bidirectional) wraps "
                            + inner.describe() + "; rnnrt's Bidirectional wraps SimpleRNN, LSTM, GRU or RNN.");
                }
                RecurrentLayer backward = null;
                if (cfg.hasNonNull("backward_layer")) {
                    Layer b = create(cfg.path("backward_layer"));
                    if (b instanceof StackedRnn) {
                        throw new ModelLoadException(source + ", layer '" + name + "' (Bidirectional): its layer is "
                                + forward.describe() + ", but its backward_layer is " + b.describe() + ", an RNN of "
                                + "stacked cells; rnnrt pairs a stack of cells only with a backward stack of cells. "
                                + "Write the forward layer as an RNN of cells too (RNN([cell])) and export the model "
                                + "again.");
                    }
                    if (!(b instanceof RecurrentLayer rb)) {
                        throw new ModelLoadException(source + ", layer '" + name + "' (Bidirectional): its "
                                + "backward_layer is " + b.describe() + "; it must be a SimpleRNN, LSTM or GRU "
                                + "layer (or an RNN around one such cell) running the other way, as Keras requires. "
                                + "Export the model again with such a backward_layer, or without one.");
                    }
                    backward = rb;
                }
                JsonNode mode = cfg.path("merge_mode");
                Bidirectional.MergeMode m = mode.isMissingNode() ? Bidirectional.MergeMode.CONCAT
                        : Bidirectional.MergeMode.named(mode.isNull() ? null : mode.asText());
                Bidirectional bi = Bidirectional.of(name, forward, m, backward, version.bidirectionalZeroesMaskedOutputs());
                // a derived backward layer is the forward layer's copy, frozen as it is
                boolean forwardFrozen = plainDirectionFrozen(forward, cfg.path("layer"));
                boolean backwardFrozen = backward == null ? forwardFrozen
                        : plainDirectionFrozen(backward, cfg.path("backward_layer"));
                if (forwardFrozen || backwardFrozen) {
                    frozenDirections.put(bi, new boolean[] {forwardFrozen, backwardFrozen});
                }
                createdFrozen.put(bi.forwardLayer(), createdFrozen(forward));
                createdFrozen.put(bi.backwardLayer(), createdFrozen(backward == null ? forward : backward));
                return bi;
            }
            case "TimeDistributed": {
                Layer inner = create(cfg.path("layer"));
                // rnnrt's masks are [batch, time]: a mask per step of each step's sequence is refused
                if (timeDistributedPassesInnerMask(version, batchFixed) && (inner instanceof Masking
                        || inner instanceof Embedding emb && emb.maskZero())) {
                    throw new ModelLoadException(source + ", layer '" + name + "' (TimeDistributed): it wraps "
                            + inner.describe() + ", whose mask Keras 2 passes on for every step's sequence; rnnrt does "
                            + "not compute such masks. Remove the masking, or save the model with Keras 3.");
                }
                return TimeDistributed.of(name, inner);
            }
            case "Dense": {
                int units = integer(cfg, cls, "units", "output_dim");
                return Dense.builder(units).name(name).activation(activation(cfg, "activation", "linear"))
                        .useBias(bool(cfg, "use_bias", bool(cfg, "bias", true))).backend(backend).build();
            }
            case "Embedding": {
                int in = integer(cfg, cls, "input_dim");
                int out = integer(cfg, cls, "output_dim");
                return Embedding.of(name, in, out, bool(cfg, "mask_zero", false), Initializer.zeros());
            }
            case "Masking":
                return Masking.of(name, number(cfg, cls, "mask_value", 0.0));
            case "Activation":
                return ActivationLayer.of(name, activation(cfg, "activation", "linear"));
            case "RepeatVector":
                return RepeatVector.of(name, integer(cfg, cls, "n"));
            case "Flatten":
                return Flatten.named(name, text(cfg, "data_format", "channels_last").equals("channels_first"));
            case "Reshape": {
                JsonNode t = cfg.path("target_shape");
                int[] shape = new int[t.size()];
                for (int k = 0; k < shape.length; k++) {
                    shape[k] = ConfigInts.read(t.get(k), where(cfg, cls), "target_shape " + t);
                }
                return new Reshape(name, shape);
            }
            case "Concatenate":
                return Merge.concatenate(name, ConfigInts.read(cfg.path("axis"), -1, where(cfg, cls), "axis"), Merge.MaskRule.of(version));
            case "Add":
                return Merge.of(name, Merge.Mode.ADD, Merge.MaskRule.of(version));
            case "Multiply":
                return Merge.of(name, Merge.Mode.MULTIPLY, Merge.MaskRule.of(version));
            case "Average":
                return Merge.of(name, Merge.Mode.AVERAGE, Merge.MaskRule.of(version));
            case "Subtract":
                return Merge.of(name, Merge.Mode.SUBTRACT, Merge.MaskRule.of(version));
            case "Maximum":
                return Merge.of(name, Merge.Mode.MAXIMUM, Merge.MaskRule.of(version));
            case "Minimum":
                return Merge.of(name, Merge.Mode.MINIMUM, Merge.MaskRule.of(version));
            case "Conv1D": {
                channelsLast(cfg, cls, name);
                int groups = ConfigInts.read(cfg.path("groups"), 1, where(cfg, cls), "groups");
                if (groups != 1) {
                    throw new ModelLoadException(source + ", layer '" + name + "' (Conv1D): groups=" + groups
                            + " is not supported; rnnrt runs Conv1D with groups=1 only.");
                }
                return new Conv1D(name, integer(cfg, cls, "filters"), first(cfg, cls, "kernel_size", 1),
                        first(cfg, cls, "strides", 1), first(cfg, cls, "dilation_rate", 1), text(cfg, "padding", "valid"),
                        activation(cfg, "activation", "linear"), bool(cfg, "use_bias", true), backend);
            }
            case "MaxPooling1D", "MaxPool1D", "AveragePooling1D", "AvgPool1D": {
                channelsLast(cfg, cls, name);
                Pooling1D.Mode mode = cls.startsWith("Max") ? Pooling1D.Mode.MAX : Pooling1D.Mode.AVERAGE;
                int pool = first(cfg, cls, "pool_size", first(cfg, cls, "pool_length", 2));      // Keras 1: pool_length
                int strides = first(cfg, cls, "strides", first(cfg, cls, "stride", 0));          // null: pool_size
                return new Pooling1D(name, mode, pool, strides, text(cfg, "padding", text(cfg, "border_mode", "valid")));
            }
            case "GlobalMaxPooling1D", "GlobalMaxPool1D", "GlobalAveragePooling1D", "GlobalAvgPool1D": {
                channelsLast(cfg, cls, name);
                return new GlobalPooling1D(name, cls.startsWith("GlobalMax") ? Pooling1D.Mode.MAX : Pooling1D.Mode.AVERAGE,
                        bool(cfg, "keepdims", false));
            }
            case "BatchNormalization": {
                if (version.major() < 2) {
                    throw new ModelLoadException(source + ", layer '" + name + "' (BatchNormalization): Keras 1 "
                            + "BatchNormalization (its modes and running statistics) is not supported; load the model "
                            + "in Keras 2 and save it again.");
                }
                return new BatchNormalization(name, axis(cfg, cls, name), number(cfg, cls, "epsilon", 1e-3),
                        bool(cfg, "center", true), bool(cfg, "scale", true), bool(cfg, "renorm", false));
            }
            case "LayerNormalization": {
                if (bool(cfg, "rms_scaling", false)) {
                    throw new ModelLoadException(source + ", layer '" + name + "' (LayerNormalization): rms_scaling=True "
                            + "is not supported.");
                }
                return new LayerNormalization(name, axis(cfg, cls, name), number(cfg, cls, "epsilon", 1e-3),
                        bool(cfg, "center", true), bool(cfg, "scale", true));
            }
            case "MultiHeadAttention": {
                String where = source + ", layer '" + name + "' (MultiHeadAttention)";
                if (bool(cfg, "use_gate", false) || !cfg.path("sliding_window").isMissingNode()
                        && !cfg.path("sliding_window").isNull()) {
                    throw new ModelLoadException(where + ": use_gate and sliding_window are not supported.");
                }
                JsonNode axes = cfg.path("attention_axes");
                if (!axes.isMissingNode() && !axes.isNull() && !(axes.isArray() && axes.size() == 1
                        && Integer.valueOf(1).equals(ConfigInts.exact(axes.get(0))))
                        && !Integer.valueOf(1).equals(ConfigInts.exact(axes))) {
                    throw new ModelLoadException(where + ": attention_axes " + axes + " is not supported; rnnrt attends "
                            + "over the time axis (axis 1) of [batch, timesteps, features].");
                }
                JsonNode out = cfg.path("output_shape");
                if (out.isArray() && out.size() == 1) {
                    out = out.get(0);
                }
                if (!out.isMissingNode() && !out.isNull() && !out.isNumber()) {
                    throw new ModelLoadException(where + ": output_shape " + out + " is not supported; rnnrt takes one "
                            + "number of output features.");
                }
                JsonNode mask = callKwargs.path("attention_mask");
                if (!mask.isMissingNode() && !mask.isNull()) {
                    throw new ModelLoadException(where + ": it is called with an attention_mask tensor; rnnrt takes "
                            + "use_causal_mask but not masks passed by hand.");
                }
                int keyDim = integer(cfg, cls, "key_dim");
                JsonNode valueDim = cfg.path("value_dim");
                try {
                    boolean scores = bool(callKwargs, "return_attention_scores", false);
                    return new MultiHeadAttention(name, integer(cfg, cls, "num_heads"), keyDim,
                            ConfigInts.read(valueDim, keyDim, where, "value_dim"), bool(cfg, "use_bias", true),
                            ConfigInts.read(out, -1, where, "output_shape"), bool(callKwargs, "use_causal_mask", false),
                            scores, MultiHeadAttention.MaskRule.of(version, scores, cfg.path("dropout").asDouble(0) > 0),
                            backend);
                } catch (IllegalArgumentException e) {
                    throw new ModelLoadException(where + ": " + e.getMessage(), e);
                }
            }
            case "Permute": {
                JsonNode d = cfg.path("dims");
                int[] dims = new int[d.size()];
                for (int k = 0; k < dims.length; k++) {
                    dims[k] = ConfigInts.read(d.get(k), where(cfg, cls), "dims " + d);
                }
                try {
                    return new Permute(name, dims);
                } catch (IllegalArgumentException e) {
                    throw new ModelLoadException(source + ": " + e.getMessage(), e);
                }
            }
            case "ZeroPadding1D", "Cropping1D": {
                if (text(cfg, "data_format", "channels_last").equals("channels_first")) {
                    throw new ModelLoadException(source + ", layer '" + name + "' (" + cls + "): data_format="
                            + "channels_first is not supported; rnnrt's sequences are [batch, timesteps, features].");
                }
                String key = cls.equals("Cropping1D") ? "cropping" : "padding";
                int[] p = pair(cfg.path(key), 1, source + ", layer '" + name + "' (" + cls + "), " + key);
                return cls.equals("Cropping1D") ? TimeResize.cropping(name, p[0], p[1])
                        : TimeResize.zeroPadding(name, p[0], p[1]);
            }
            case "UpSampling1D":
                return TimeResize.upSampling(name, ConfigInts.read(cfg.path("size"),
                        ConfigInts.read(cfg.path("length"), 2, where(cfg, cls), "length"), where(cfg, cls), "size")); // Keras 1: length
            case "Normalization": {
                JsonNode a = cfg.path("axis");
                int[] axes;
                if (a.isMissingNode()) {
                    axes = new int[] {-1};
                } else if (a.isNull()) {
                    axes = new int[0];
                } else if (a.isArray()) {
                    axes = new int[a.size()];
                    for (int k = 0; k < axes.length; k++) {
                        axes[k] = ConfigInts.read(a.get(k), where(cfg, cls), "axis " + a);
                    }
                } else {
                    axes = new int[] {ConfigInts.read(a, where(cfg, cls), "axis")};
                }
                Normalization n = new Normalization(name, axes, bool(cfg, "invert", false), version.major() >= 3);
                JsonNode mean = cfg.path("mean");
                JsonNode variance = cfg.path("variance");
                if (!mean.isMissingNode() && !mean.isNull() && !variance.isMissingNode() && !variance.isNull()) {
                    try {                      // given in the config: the file then holds no weights for it
                        n.setWeights(List.of(numbers(mean), numbers(variance)));
                    } catch (IllegalArgumentException e) {
                        throw new ModelLoadException(source + ", layer '" + name + "' (Normalization): " + e.getMessage(), e);
                    }
                }
                return n;
            }
            case "Attention", "AdditiveAttention": {
                boolean additive = cls.equals("AdditiveAttention");
                String mode = text(cfg, "score_mode", "dot");
                if (!additive && !mode.equals("dot") && !mode.equals("concat")) {
                    throw new ModelLoadException(source + ", layer '" + name + "' (Attention): score_mode '" + mode
                            + "' is not one of Keras' (dot, concat).");
                }
                Attention.Score score = additive ? Attention.Score.ADDITIVE
                        : mode.equals("concat") ? Attention.Score.CONCAT : Attention.Score.DOT;
                boolean causal = bool(cfg, "causal", false) || bool(callKwargs, "use_causal_mask", false);
                boolean keras30 = version.major() == 3 && version.minor() == 0 && version.patch() <= 4;
                return new Attention(name, score, bool(cfg, "use_scale", additive), causal,
                        bool(callKwargs, "return_attention_scores", false),
                        Merge.MaskRule.of(version) != Merge.MaskRule.KERAS_3_0, keras30);
            }
            case "ReLU": {
                JsonNode max = cfg.path("max_value");
                return AdvancedActivation.relu(name, max.isNull() || max.isMissingNode() ? null : number(cfg, cls, "max_value", null),
                        number(cfg, cls, "negative_slope", 0.0), number(cfg, cls, "threshold", 0.0));
            }
            case "LeakyReLU":
                // Keras 2's alpha, where given, replaces Keras 3's negative_slope (Keras 3's
                // keras/src/layers/activations/leaky_relu.py __init__); Keras 2 knows only alpha
                return AdvancedActivation.leakyRelu(name, cfg.has("alpha") ? number(cfg, cls, "alpha", 0.3)
                        : number(cfg, cls, "negative_slope", 0.3));
            case "ELU":
                return AdvancedActivation.elu(name, number(cfg, cls, "alpha", 1.0));
            case "ThresholdedReLU":
                return AdvancedActivation.thresholdedRelu(name, number(cfg, cls, "theta", 1.0));
            case "PReLU":
                return new PRelu(name);
            case "Softmax": {
                JsonNode axis = cfg.path("axis");
                if (axis.isArray() && axis.size() == 1) {
                    axis = axis.get(0);
                }
                if (!axis.isMissingNode() && !Integer.valueOf(-1).equals(ConfigInts.exact(axis))) {
                    throw new ModelLoadException(source + ", layer '" + name + "' (Softmax): axis " + axis
                            + " is not supported; rnnrt's Softmax is over the last axis (axis=-1).");
                }
                return ActivationLayer.softmaxLayer(name);
            }
            case "Dot": {
                JsonNode axes = cfg.path("axes");
                int a0;
                int a1;
                if (axes.isArray() && axes.size() == 2) {
                    a0 = ConfigInts.read(axes.get(0), where(cfg, cls), "axes " + axes);
                    a1 = ConfigInts.read(axes.get(1), where(cfg, cls), "axes " + axes);
                } else if (axes.isNumber()) {
                    a0 = ConfigInts.read(axes, where(cfg, cls), "axes");
                    a1 = a0;
                } else {
                    throw new ModelLoadException(source + ", layer '" + name + "' (Dot): cannot read axes " + axes
                            + "; expected an integer or a list of two.");
                }
                return new Dot(name, a0, a1, bool(cfg, "normalize", false), version.major() >= 3 ? 1e7 : 1e6);
            }
            case "Lambda":
                throw new ModelLoadException(source + ": layer '" + name + "' is a Lambda layer, which holds Python "
                        + "code. rnnrt never runs code from a model file. Replace the Lambda with built-in layers, or "
                        + "with the tensor operations rnnrt reads (x[:, -1], ops.abs(a - b), ops.mean(x, axis=1), "
                        + "ops.matmul, ...: written directly on Keras tensors, they are saved as data, not code), "
                        + "and export the model again. Supported layers: " + String.join(", ", SUPPORTED) + ".");
            default:
                if (InferenceNoOp.CLASSES.contains(cls)) {
                    return InferenceNoOp.of(name, cls, noOpOptions(cfg));
                }
                if (cls.equals("Merge") || cls.equals("TimeDistributedDense")) {
                    throw new ModelLoadException(source + ": layer '" + name + "' is Keras 1's " + cls + ", which rnnrt "
                            + "does not load; Keras 2 replaced it with " + (cls.equals("Merge")
                            ? "Concatenate, Add, Multiply, Average, Maximum and Dot" : "TimeDistributed(Dense)") + ". Rebuild "
                            + "the model with those in Keras 2 or later, set its weights, and save it again.");
                }
                if (KERAS_1_UNSUPPORTED.contains(cls)) {
                    throw new ModelLoadException(source + ": layer '" + name + "' is Keras 1's " + cls + ", which rnnrt "
                            + "does not load. Load the model in Keras 2 and save it again (Keras 2 converts it to its "
                            + "own layers), or rebuild it with supported layers: " + String.join(", ", SUPPORTED) + ".");
                }
                throw new ModelLoadException(source + ": layer '" + name + "' has class '" + cls
                        + "', which rnnrt does not support (nor any custom layer: rnnrt never runs code from a model "
                        + "file). Supported layers: " + String.join(", ", SUPPORTED) + ".");
        }
    }

    /** Keras 1 layers of the kinds rnnrt supports in their Keras 2 form, whose Keras 1 form it does not read. */
    private static final java.util.Set<String> KERAS_1_UNSUPPORTED = java.util.Set.of("Convolution1D",
            "AtrousConvolution1D");

    /** The options of Keras' RNN wrapper that its layers (LSTM, GRU, SimpleRNN) take as their own. */
    private static final List<String> RNN_OPTIONS = List.of("return_sequences", "return_state", "go_backwards",
            "stateful", "unroll", "time_major", "zero_output_for_mask");

    /**
     * Keras' {@code RNN(cell)} with a built-in cell is the cell's layer: RNN(LSTMCell(n)) is LSTM(n),
     * the cell's config and the wrapper's options together; its weights are stored as the layer's.
     * {@code RNN(StackedRNNCells([...]))} (or {@code RNN([cell, …])}) is a {@link StackedRnn} of
     * such cells, with the wrapper's options.
     */
    private Layer rnnWrapper(String name, JsonNode cfg) {
        JsonNode cell = cfg.path("cell");
        String cellClass = text(cell, "class_name", "");
        if (cellClass.equals("StackedRNNCells")) {
            JsonNode list = cell.path("config").path("cells");
            if (!list.isArray() || list.isEmpty()) {
                throw new ModelLoadException(source + ", layer '" + name + "' (RNN): its StackedRNNCells lists no "
                        + "cells (config.cells); the file is damaged. Export the model again.");
            }
            List<RecurrentLayer> cells = new ArrayList<>();
            java.util.Set<String> taken = new java.util.HashSet<>();
            boolean unrolled = bool(cfg, "unroll", false);
            boolean[] frozen = new boolean[list.size()];
            boolean stackFrozen = !bool(cell.path("config"), "trainable", true);
            boolean standaloneStack = version.major() == 2 && !version.tfKeras() && version.minor() <= 3;
            checkKerasClass(source, cell, "layer '" + name + "' (RNN), its cell");
            for (int k = 0; k < list.size(); k++) {
                JsonNode c = list.get(k);
                String cls = text(c, "class_name", "");
                checkKerasClass(source, c, "layer '" + name + "' (RNN), cell " + k + " of its StackedRNNCells");
                String layerClass = cellLayer(cls);
                if (layerClass == null) {
                    throw new ModelLoadException(source + ", layer '" + name + "' (RNN): cell " + k
                            + " of its StackedRNNCells is '" + (cls.isEmpty() ? c.toString() : cls)
                            + "'; rnnrt stacks LSTMCell, GRUCell and SimpleRNNCell.");
                }
                JsonNode cc = c.path("config");
                // Keras 3's StackedRNNCells(trainable=False) leaves its cells' weights trainable: each cell
                // creates its own, marked by the cell's trainable (layer.py _track_variable); standalone
                // Keras 2's lists its trainable cells first all the same (see frozenWholeStacks)
                frozen[k] = stackFrozen && version.major() < 3 && !standaloneStack || !bool(cc, "trainable", true);
                String cellName = text(cc, "name", WeightStore.snake(cls));
                for (int n = 1; taken.contains(cellName); n++) {      // names within a stack are unique
                    cellName = text(cc, "name", WeightStore.snake(cls)) + "_" + n;
                }
                taken.add(cellName);
                ObjectNode cellCfg = cc.isObject() ? ((ObjectNode) cc).deepCopy() : JsonNodeFactory.instance.objectNode();
                cellCfg.put("unroll", unrolled);                   // the stack's loop is the cells'
                cells.add(recurrent(layerClass, cellName, cellCfg));
            }
            if (bool(cfg, "time_major", false)) {
                throw new ModelLoadException(source + ", layer '" + name + "' (RNN) is time_major; rnnrt's models "
                        + "are batch-major. Export the model with time_major=False.");
            }
            StackedRnn stack = StackedRnn.builder(cells).name(name)
                    .returnSequences(bool(cfg, "return_sequences", false))
                    .returnState(bool(cfg, "return_state", false))
                    .goBackwards(bool(cfg, "go_backwards", false))
                    .stateful(bool(cfg, "stateful", false))
                    .zeroOutputForMask(bool(cfg, "zero_output_for_mask", false))
                    .reverseStateOrder(version.stackedCellStatesReversed())
                    // Keras 2.2.3-2.2.4's loop gave masked steps states[0]: the first cell's h, now that
                    // the states came in cell order (before, the last cell's, which the cells' own rule gives)
                    .maskedOutputIsFirstCellState(maskedOutputIsState && !unrolled
                            && !version.stackedCellStatesReversed())
                    .build();
            recordFrozen(stack, frozen);
            if (stackFrozen && standaloneStack) {
                frozenWholeStacks.add(stack);
            }
            return stack;
        }
        checkKerasClass(source, cell, "layer '" + name + "' (RNN), its cell");
        String layerClass = cellLayer(cellClass);
        if (layerClass == null) {
            throw new ModelLoadException(source + ", layer '" + name + "' (RNN) runs the cell '"
                    + (cellClass.isEmpty() ? cell.toString() : cellClass) + "'; rnnrt runs RNN with an LSTMCell, "
                    + "GRUCell or SimpleRNNCell, or a StackedRNNCells of them (custom cells are not supported: write "
                    + "them as LSTM / GRU / SimpleRNN layers and export the model again).");
        }
        ObjectNode merged = cell.path("config").isObject() ? ((ObjectNode) cell.path("config")).deepCopy()
                : JsonNodeFactory.instance.objectNode();
        for (String option : RNN_OPTIONS) {
            if (cfg.has(option)) {
                merged.set(option, cfg.get(option));
            }
        }
        merged.put("name", name);
        RecurrentLayer layer = recurrent(layerClass, name, merged);
        recordFrozen(layer, new boolean[] {!bool(cell.path("config"), "trainable", true)});
        return layer;
    }

    /** The layer class of a built-in Keras cell class; null for others. */
    private static String cellLayer(String cellClass) {
        return switch (cellClass) {
            case "LSTMCell" -> "LSTM";
            case "GRUCell" -> "GRU";
            case "SimpleRNNCell" -> "SimpleRNN";
            default -> null;
        };
    }

    private RecurrentLayer recurrent(String cls, String name, JsonNode cfg) {
        int units = integer(cfg, cls, "units", "output_dim");
        boolean cudnn = cls.startsWith("CuDNN");
        if (bool(cfg, "time_major", false)) {
            throw new ModelLoadException(source + ", layer '" + name + "' (" + cls + ") is time_major; rnnrt's models "
                    + "are batch-major. Export the model with time_major=False.");
        }
        if (cfg.hasNonNull("cell") || cfg.has("cells")) {
            throw new ModelLoadException(source + ", layer '" + name + "' (" + cls + ") is built from a custom cell; "
                    + "rnnrt runs the built-in SimpleRNN, LSTM and GRU cells.");
        }
        RecurrentLayerBuilder<?> b;
        if (cls.endsWith("LSTM")) {
            Lstm.Builder lb = Lstm.builder(units).kerasVersion(version)
                    .unitForgetBias(bool(cfg, "unit_forget_bias", true));
            if (cudnn) {
                lb.recurrentActivation(dev.rnnrt.api.Activation.SIGMOID);     // cuDNN's gates, whatever the version
            } else {
                String ra = recurrentActivationName(cfg);
                if (ra != null) {
                    lb.recurrentActivation(elementwise(name, cls, ra));
                }
            }
            b = lb;
        } else if (cls.endsWith("GRU")) {
            // a file without reset_after predates Keras 2.3 and means False; CuDNNGRU is reset_after=True
            Gru.Builder gb = Gru.builder(units).kerasVersion(version)
                    .resetAfter(cudnn || bool(cfg, "reset_after", false));
            if (cudnn) {
                gb.recurrentActivation(dev.rnnrt.api.Activation.SIGMOID);
            } else {
                String ra = recurrentActivationName(cfg);
                if (ra != null) {
                    gb.recurrentActivation(elementwise(name, cls, ra));
                }
            }
            b = gb;
        } else {
            b = SimpleRnn.builder(units).kerasVersion(version);
        }
        b.name(name)
                .backend(backend)
                .useBias(bool(cfg, "use_bias", true))
                .returnSequences(bool(cfg, "return_sequences", false))
                .returnState(bool(cfg, "return_state", false))
                .goBackwards(bool(cfg, "go_backwards", false))
                .stateful(bool(cfg, "stateful", false))
                .zeroOutputForMask(bool(cfg, "zero_output_for_mask", false))
                // Keras' unrolled loop (unroll=True) repeated the previous output, zeros at first
                .maskedOutputIsState(maskedOutputIsState && !bool(cfg, "unroll", false))
                .dropout(cfg.path("dropout").asDouble(cfg.path("dropout_W").asDouble(0)))
                .recurrentDropout(cfg.path("recurrent_dropout").asDouble(cfg.path("dropout_U").asDouble(0)));
        // cuDNN computes with sigmoid gates and tanh, and CuDNNLSTM / CuDNNGRU have no activation options;
        // the version's default recurrent_activation (hard_sigmoid before Keras 2.3) is not theirs
        b.activation(cudnn ? dev.rnnrt.api.Activation.TANH
                : elementwise(name, cls, activationName(cfg, "activation", "tanh")));
        RecurrentLayer layer = b.build();
        createdFrozen.put(layer, !bool(cfg, "trainable", true));    // a cell's config: the cell's own
        return layer;
    }

    private dev.rnnrt.api.Activation elementwise(String name, String cls, String activation) {
        try {
            return dev.rnnrt.api.Activation.named(activation, version);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(source + ", layer '" + name + "' (" + cls + "): " + e.getMessage(), e);
        }
    }

    private String recurrentActivationName(JsonNode cfg) {
        if (cfg.has("recurrent_activation")) {
            return activationName(cfg, "recurrent_activation", null);
        }
        if (cfg.has("inner_activation")) { // Keras 1
            return activationName(cfg, "inner_activation", null);
        }
        return null; // the Keras version's default
    }

    private OutputActivation activation(JsonNode cfg, String key, String fallback) {
        return OutputActivation.named(activationName(cfg, key, fallback), version);
    }

    /** An activation is a name, or (some Keras 3 configs) {"class_name": ..., "config": {"name": ...}}. */
    private String activationName(JsonNode cfg, String key, String fallback) {
        JsonNode a = cfg.path(key);
        if (a.isMissingNode()) {
            return fallback;
        }
        if (a.isNull()) {
            return "linear";            // Keras: activations.get(None) is linear, not the layer's default
        }
        if (a.isTextual()) {
            return a.asText();
        }
        if (a.isObject()) {
            JsonNode inner = a.path("config");
            if (inner.isTextual()) {
                return inner.asText();
            }
            if (inner.path("name").isTextual()) {
                return inner.path("name").asText();
            }
            return a.path("class_name").asText();
        }
        throw new ModelLoadException(source + ": cannot read the activation " + a + ".");
    }

    private String noOpOptions(JsonNode cfg) {
        List<String> parts = new ArrayList<>();
        for (String k : List.of("rate", "stddev", "noise_shape")) {
            if (cfg.hasNonNull(k)) {
                parts.add(k + "=" + cfg.get(k));
            }
        }
        return String.join(", ", parts);
    }

    /** The first of {@code keys} the config gives (Keras 1 names some fields differently), read strictly. */
    private int integer(JsonNode cfg, String cls, String... keys) {
        for (String k : keys) {
            JsonNode v = cfg.path(k);
            if (!v.isMissingNode() && !v.isNull()) {
                return ConfigInts.read(v, where(cfg, cls), k);
            }
        }
        throw new ModelLoadException(where(cfg, cls) + ": the config lacks '" + keys[0] + "'; expected an integer.");
    }

    /** "model.h5, layer 'lstm' (LSTM)": where a config field is, for messages. */
    private String where(JsonNode cfg, String cls) {
        return source + ", layer '" + text(cfg, "name", "?") + "' (" + cls + ")";
    }

    /** Refuses data_format channels_first, which rnnrt does not run. */
    private void channelsLast(JsonNode cfg, String cls, String name) {
        String format = text(cfg, "data_format", "channels_last");
        if (!format.equals("channels_last")) {
            throw new ModelLoadException(source + ", layer '" + name + "' (" + cls + "): data_format '" + format
                    + "' is not supported; rnnrt runs channels_last.");
        }
    }

    /**
     * ZeroPadding1D's padding / Cropping1D's cropping: one integer for both sides, [before, after],
     * or Keras 1.2's {"left_pad": a, "right_pad": b}; {@code missing} on both sides when absent.
     */
    private int[] pair(JsonNode v, int missing, String where) {
        if (v.isArray() && v.size() == 2 && v.get(0).isNumber() && v.get(1).isNumber()) {
            return new int[] {ConfigInts.read(v.get(0), where, "before"), ConfigInts.read(v.get(1), where, "after")};
        }
        if (v.isObject() && (v.path("left_pad").isNumber() || v.path("right_pad").isNumber())) {
            return new int[] {ConfigInts.read(v.path("left_pad"), 0, where, "left_pad"),      // Keras 1.2: a missing
                ConfigInts.read(v.path("right_pad"), 0, where, "right_pad")};                   // side is 0
        }
        if (v.isMissingNode() || v.isNull()) {
            return new int[] {missing, missing};
        }
        if (!v.isNumber()) {
            throw new ModelLoadException(where + ": cannot read " + v + "; expected a number, [before, after] or "
                    + "{\"left_pad\": a, \"right_pad\": b}.");
        }
        int both = ConfigInts.read(v, where, "the value");
        return new int[] {both, both};
    }

    /** A number or nested lists of numbers from a config, as a tensor of that shape. */
    private Tensor numbers(JsonNode v) {
        List<Integer> shape = new ArrayList<>();
        for (JsonNode d = v; d.isArray(); d = d.path(0)) {
            shape.add(d.size());
        }
        List<Float> flat = new ArrayList<>();
        flatten(v, 0, shape, flat);
        float[] values = new float[flat.size()];
        for (int k = 0; k < values.length; k++) {
            values[k] = flat.get(k);
        }
        return Tensor.wrap(values, shape.stream().mapToInt(Integer::intValue).toArray());
    }

    private void flatten(JsonNode v, int depth, List<Integer> shape, List<Float> out) {
        if (depth == shape.size()) {
            if (!v.isNumber()) {
                throw new IllegalArgumentException("expected a number in the config's statistics; found " + v + ".");
            }
            out.add((float) v.asDouble());
            return;
        }
        if (!v.isArray() || v.size() != shape.get(depth)) {
            throw new IllegalArgumentException("the config's statistics are ragged nested lists.");
        }
        for (JsonNode e : v) {
            flatten(e, depth + 1, shape, out);
        }
    }

    private int axis(JsonNode cfg, String cls, String name) {
        JsonNode v = cfg.path("axis");
        if (v.isArray() && v.size() == 1 && v.get(0).isNumber()) {
            v = v.get(0);
        }
        if (v.isMissingNode() || v.isNull()) {
            return -1;
        }
        if (!v.isNumber()) {
            throw new ModelLoadException(source + ", layer '" + name + "' (" + cls + "): axis " + v
                    + " is not supported; rnnrt normalizes the last axis only.");
        }
        return ConfigInts.read(v, source + ", layer '" + name + "' (" + cls + ")", "axis");
    }

    /** kernel_size / strides / dilation_rate / pool_size: an integer or a one-element list; {@code fallback} if absent. */
    private int first(JsonNode cfg, String cls, String key, int fallback) {
        JsonNode v = cfg.path(key);
        if (v.isArray()) {
            if (v.size() != 1) {
                throw new ModelLoadException(where(cfg, cls) + ": " + key + " is " + v + "; expected an integer or a "
                        + "list of one (a 1D layer has one axis).");
            }
            v = v.get(0);
        }
        return ConfigInts.read(v, fallback, where(cfg, cls), key);
    }

    private static boolean bool(JsonNode cfg, String key, boolean fallback) {
        JsonNode v = cfg.path(key);
        return v.isBoolean() ? v.asBoolean() : fallback;
    }

    /**
     * A number of a layer's config: {@code fallback} where the key is missing (Keras' default), the
     * value where it is a number (NaN and the infinities included); anything else (null, a string, a
     * list) is refused, naming the layer and the value, rather than read as the default.
     */
    private Double number(JsonNode cfg, String cls, String key, Double fallback) {
        JsonNode v = cfg.path(key);
        if (v.isMissingNode() && fallback != null) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw new ModelLoadException(where(cfg, cls) + ": " + key + " is " + (v.isMissingNode() ? "missing" : v)
                    + "; expected a number" + (fallback != null ? " (Keras' default is " + fallback + ")" : "")
                    + ". Correct the config, or save the model again from Keras.");
        }
        return v.asDouble();
    }

    private static String text(JsonNode cfg, String key, String fallback) {
        JsonNode v = cfg.path(key);
        return v.isTextual() ? v.asText() : fallback;
    }

    /** For {@link ConfigReader}: whether the input shapes read so far fix the batch size. */
    void batchFixed(boolean fixed) {
        this.batchFixed = fixed;
    }

    /**
     * Whether TimeDistributed passes on the mask its wrapped layer makes, one per step of each
     * step's sequence ([batch, steps, time]). Keras 1 and 2.0-2.1 had no compute_mask there (the
     * incoming mask only); standalone Keras 2.2-2.3 computes the inner mask only when the batch size
     * is not fixed ({@code if input_shape[0]: return mask}); tf.keras (Keras 2.4+) does for its own
     * layers whatever the batch size; Keras 3 never does.
     */
    static boolean timeDistributedPassesInnerMask(KerasVersion version, boolean batchFixed) {
        if (version.major() != 2) {
            return false;
        }
        if (version.tfKeras() || version.minor() >= 4) {
            return true;
        }
        return version.minor() >= 2 && !batchFixed;
    }
}
