package dev.rnnrt.io.keras;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.model.Model;
import dev.rnnrt.model.NestedModel;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.model.ModelBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a Keras model config ({@code model_config}, {@code model.to_json()}, {@code config.json})
 * into layers and a graph: Sequential (a bare list up to Keras 2.2, a dict later) and functional
 * ({@code Model} / {@code Functional}) configs, with Keras 2's and Keras 3's inbound node formats.
 */
final class ConfigReader {

    /**
     * Keras writes its configs with Python's json module, which writes a float's nan and infinities
     * as NaN, Infinity and -Infinity (not JSON, but what every Keras file with such a value holds).
     */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    /**
     * One call of a layer of the config, in order, with where its inputs come from, and, where the
     * saved graph says (Keras 3 records the mask it passed each call), whether Keras gave each input
     * a mask (null: the file does not say). A layer's first call is named as the layer; a shared
     * layer's later calls (Keras' node_index k ≥ 1) are named {@code "layer#k"}. An entry
     * {@code weightsOnly} is a layer of a model that TimeDistributed wraps: it gets its weights as the
     * others do, but is a layer of that model, not a node of this graph.
     */
    record Entry(Layer layer, String callName, String className, String positionalKey, List<String> inputs,
                 List<RecordedMask> kerasMasks, boolean computesUnmasked, List<Scope> scope, boolean trainable,
                 boolean weightsOnly) {
        Entry(Layer layer, String className, String positionalKey, List<String> inputs, boolean trainable) {
            this(layer, layer.name(), className, positionalKey, inputs, null, false, List.of(), trainable, false);
        }

        /** This entry as a layer of a model that TimeDistributed wraps, inside {@code model}'s scope. */
        Entry weightsOnlyIn(Scope model) {
            List<Scope> sc = new ArrayList<>();
            sc.add(model);
            sc.addAll(scope);
            return new Entry(layer, callName, className, positionalKey, inputs, kerasMasks, computesUnmasked,
                    List.copyOf(sc), trainable, true);
        }

        /** This entry reading other references. */
        Entry withInputs(List<String> newInputs) {
            return new Entry(layer, callName, className, positionalKey, List.copyOf(newInputs), kerasMasks,
                    computesUnmasked, scope, trainable, weightsOnly);
        }

        /** Whether this is the layer's first call (the one that loads its weights). */
        boolean firstCall() {
            return callName.equals(layer.name());
        }

        /**
         * This entry inlined from a nested model: references renamed, the model's scope put first. A
         * nested model's config was saved with its own unmasked inputs, so "no mask" recorded inside
         * holds only where the outer graph passes the nested model no mask ({@code outerInputs}, the
         * call's inputs; Keras passes such a mask on inside).
         */
        Entry inlined(java.util.function.UnaryOperator<String> rename, Scope model, List<String> outerInputs) {
            List<Scope> sc = new ArrayList<>();
            sc.add(model);
            sc.addAll(scope);
            Entry e = mapped(rename, rename.apply(callName), List.copyOf(sc));
            if (e.kerasMasks == null) {
                return e;
            }
            List<RecordedMask> known = new ArrayList<>();
            for (RecordedMask m : e.kerasMasks) {
                known.add(RecordedMask.NONE.equals(m) ? RecordedMask.noneUnlessMasked(outerInputs) : m);
            }
            return new Entry(e.layer, e.callName, className, positionalKey, e.inputs, known, computesUnmasked, e.scope,
                    trainable, weightsOnly);
        }

        /** This entry with its references resolved (nested models' outputs to the layers that make them). */
        Entry resolved(java.util.function.UnaryOperator<String> resolve) {
            return mapped(resolve, callName, scope);
        }

        private Entry mapped(java.util.function.UnaryOperator<String> refs, String call, List<Scope> sc) {
            List<String> in = new ArrayList<>();
            inputs.forEach(r -> in.add(refs.apply(r)));
            List<RecordedMask> masks = null;
            if (kerasMasks != null) {
                masks = new ArrayList<>();
                for (RecordedMask m : kerasMasks) {
                    masks.add(m == null ? null : m.map(refs));
                }
            }
            return new Entry(layer, call, className, positionalKey, in, masks, computesUnmasked, sc, trainable,
                    weightsOnly);
        }
    }

    /**
     * A model nested in another as a layer (Keras: a Sequential or functional model called like a
     * layer), which holds the weights of the layers inlined from it: its name, the key Keras 3
     * gives its weight group, and whether it lists its weights as a trainable model (its own config
     * says trainable; for a model inside TimeDistributed, in Keras 3 the TimeDistributed's config): a
     * frozen model lists its weights in another order than a trainable one in some Keras versions.
     */
    record Scope(String name, String positionalKey, boolean trainable) {
    }

    /** Keras' model classes, which a config may use as a layer (a nested model). */
    static boolean isModel(String className) {
        return className.equals("Sequential") || className.equals("Functional") || className.equals("Model");
    }

    /** The name of call k (Keras' node_index) of a layer. */
    static String callName(String layerName, int k) {
        return k == 0 ? layerName : layerName + "#" + k;
    }

    /**
     * A mask Keras 3 recorded for one input of a call: none, or the mask computed from tensor
     * {@code from} by Embedding(mask_zero=True) ({@code not_equal(from, 0)}) or by Masking(value)
     * ({@code any(not_equal(from, value), axis=-1)}).
     */
    record RecordedMask(boolean present, String from, double value, boolean masking, List<RecordedMask> parts,
                        Set<String> ops, List<String> unlessMasked) {
        static final RecordedMask NONE = new RecordedMask(false, null, 0, false, null, null, null);
        /** No mask, recorded as one entry of a list of masks (Keras refills only a bare None itself). */
        static final RecordedMask NONE_LISTED = new RecordedMask(false, null, 0, false, null, null, List.of());
        /** Concatenate's ones_like stand-in for an unmasked input: all steps kept. */
        static final RecordedMask ALL_STEPS = new RecordedMask(true, "", 0, false, null, null, null);

        /** What this recorded mask computes, as terms of an OR (empty: no mask). */
        Set<MaskAtom> atoms() {
            if (!present) {
                return Set.of();
            }
            if (this == ALL_STEPS) {
                return Set.of(MaskAtom.TRUE);
            }
            if (parts == null) {
                return Set.of(new MaskAtom(from, (float) value, masking));
            }
            Set<MaskAtom> all = new HashSet<>();
            parts.forEach(p -> all.addAll(p.atoms()));
            return MaskAtom.normalise(all);
        }

        RecordedMask(boolean present, String from, double value, boolean masking) {
            this(present, from, value, masking, null, null, null);
        }

        /**
         * "No mask", recorded inside a nested model built on its own inputs: it holds only where the
         * outer graph passes none of {@code outerInputs} a mask (Keras passes such a mask on inside).
         */
        static RecordedMask noneUnlessMasked(List<String> outerInputs) {
            return new RecordedMask(false, null, 0, false, null, null, List.copyOf(outerInputs));
        }

        /**
         * A mask a merge layer combined from its inputs' masks (Keras 3.4+: logical_or of them; for
         * Concatenate, with ones for unmasked inputs, joined and reduced with any): its leaves, and
         * the operations that combined them.
         */
        static RecordedMask combined(List<RecordedMask> leaves, Set<String> ops) {
            return new RecordedMask(true, null, 0, false, List.copyOf(leaves), Set.copyOf(ops), null);
        }

        /** This mask with its tensors' references renamed. */
        RecordedMask map(java.util.function.UnaryOperator<String> refs) {
            if (this == ALL_STEPS || this.equals(NONE_LISTED)) {
                return this;
            }
            if (unlessMasked != null) {
                List<String> mapped = new ArrayList<>();
                unlessMasked.forEach(r -> mapped.add(refs.apply(r)));
                return noneUnlessMasked(mapped);
            }
            if (!present) {
                return this;
            }
            if (parts != null) {
                List<RecordedMask> mapped = new ArrayList<>();
                parts.forEach(p -> mapped.add(p.map(refs)));
                return combined(mapped, ops);
            }
            return new RecordedMask(true, refs.apply(from), value, masking, null, null, null);
        }

        String describe() {
            if (this == ALL_STEPS) {
                return "all steps (ones_like)";
            }
            if (parts != null) {
                List<String> leaves = new ArrayList<>();
                parts.forEach(p -> leaves.add(p.describe()));
                return "a combination of the masks " + String.join(" and ", leaves);
            }
            return masking ? "any(not_equal('" + from + "', " + value + "), axis=-1), the mask of Masking(" + value + ")"
                    : "not_equal('" + from + "', " + value + ")" + (value == 0 ? ", the mask of Embedding(mask_zero=True)" : "");
        }
    }

    /**
     * The parsed model: inputs (name → shape without batch), layers, outputs.
     *
     * @param batchSizes the batch sizes the inputs' shapes fix (Keras' batch_input_shape), in order
     */
    record Parsed(String source, String name, LinkedHashMap<String, int[]> inputs, List<Entry> layers,
                  List<String> outputs, KerasVersion version, Set<Integer> batchSizes) {

        /**
         * The model; where the file records the masks Keras passed, they must be the ones rnnrt's
         * graph gives (a difference would mean masked steps computed differently, so it is refused).
         */
        Model build() {
            List<Entry> nodes = new ArrayList<>();
            for (Entry e : layers) {
                if (!e.weightsOnly()) {
                    nodes.add(e);
                }
            }
            Model model = assemble(nodes);
            if (AttentionMaskRemoval.applies(version)) {
                List<Entry> rewired = AttentionMaskRemoval.rewire(source, version, model, nodes);
                if (rewired != nodes) {
                    nodes = rewired;
                    model = assemble(nodes);
                }
            }
            if (model.isStateful() && batchSizes.size() > 1) {
                throw new ModelLoadException(source + ": the model is stateful and its inputs fix different batch sizes "
                        + batchSizes + "; Keras runs it with none of them.");
            }
            Map<String, Set<MaskAtom>> atoms = maskAtoms(model, nodes);
            for (Entry e : nodes) {
                if (e.kerasMasks() == null) {
                    continue;
                }
                for (int i = 0; i < Math.min(e.kerasMasks().size(), e.inputs().size()); i++) {
                    RecordedMask keras = e.kerasMasks().get(i);
                    if (keras == null) {
                        continue;
                    }
                    if (keras.unlessMasked() != null) {
                        boolean outerMasked = false;
                        for (String outer : keras.unlessMasked()) {
                            outerMasked |= model.maskOrigin(outer) != null;
                        }
                        if (outerMasked) {
                            continue;   // recorded inside a nested model built alone; Keras passes the outer mask on
                        }
                    }
                    String input = e.inputs().get(i);
                    String origin = model.maskOrigin(input);
                    String where = source + ": in the saved graph Keras called layer '" + e.layer().name() + "'"
                            + (e.firstCall() ? "" : " (its call '" + e.callName() + "')") + " with ";
                    if (!keras.present() && origin != null || keras.present() && origin == null) {
                        throw new ModelLoadException(where + (keras.present() ? "a" : "no") + " mask for its input '"
                                + input + "', but rnnrt's rules give that input " + (keras.present() ? "none" : "one")
                                + ". The masked steps would be computed differently, so the model is not loaded; please "
                                + "report the model's layers with this message.");
                    }
                    if (!keras.present()) {
                        continue;
                    }
                    Set<MaskAtom> recorded = keras.atoms();
                    Set<MaskAtom> computed = atoms.getOrDefault(input.replaceAll("\\[\\d+]$", ""), Set.of());
                    if (!recorded.equals(computed)) {
                        throw new ModelLoadException(where + "the mask " + keras.describe() + " for its input '" + input
                                + "', but rnnrt's rules give that input " + MaskAtom.describe(computed) + " (from the "
                                + "Masking and Embedding(mask_zero=True) layers through the layers and merges that pass "
                                + "masks on): a mask passed by hand, or computed otherwise, which rnnrt does not load.");
                    }
                }
            }
            return model;
        }

        private Model assemble(List<Entry> nodes) {
            ModelBuilder b = Model.functional(name).dropUnusedMasks(version.dropsUnusedMasks());
            if (batchSizes.size() == 1) {
                b.batchSize(batchSizes.iterator().next());
            }
            inputs.forEach(b::input);
            for (Entry e : nodes) {
                if (e.firstCall()) {
                    b.add(e.layer(), e.inputs().toArray(new String[0]));
                } else {
                    b.addCall(e.callName(), e.layer(), e.inputs().toArray(new String[0]));
                }
                if (e.computesUnmasked()) {
                    b.computeUnmasked(e.callName());
                }
            }
            return b.outputs(outputs.toArray(new String[0])).build();
        }
    }

    /**
     * One term of the OR a mask computes: not_equal(src, value) (Embedding(mask_zero) with value 0),
     * any(not_equal(src, value), axis=-1) (Masking(value), {@code masking}), or {@link #TRUE} (all
     * steps kept: Concatenate's stand-in for an unmasked input).
     */
    record MaskAtom(String src, double value, boolean masking) {
        static final MaskAtom TRUE = new MaskAtom(null, 0, false);
        /**
         * A mask that is not an OR of terms: masks joined along the time axis, or combined by Keras
         * 2's or 3.0-3.3's merge rules. Nothing recorded equals it, so such masks are refused.
         */
        static final MaskAtom NOT_AN_OR = new MaskAtom("<joined along time, or merged by another rule>", 0, true);

        /** OR-normalised: TRUE absorbs every other term. */
        static Set<MaskAtom> normalise(Set<MaskAtom> atoms) {
            return atoms.contains(TRUE) ? Set.of(TRUE) : Set.copyOf(atoms);
        }

        static String describe(Set<MaskAtom> atoms) {
            if (atoms.isEmpty()) {
                return "no mask";
            }
            List<String> terms = new ArrayList<>();
            for (MaskAtom a : atoms) {
                terms.add(a.equals(TRUE) ? "all steps" : a.equals(NOT_AN_OR) ? a.src() : a.masking()
                        ? "any(not_equal('" + a.src() + "', " + a.value()
                        + "), axis=-1)" : "not_equal('" + a.src() + "', " + a.value() + ")");
            }
            java.util.Collections.sort(terms);
            return "the mask " + String.join(" or ", terms);
        }
    }

    /**
     * What the mask rnnrt gives each value computes, by call, in the order the model runs: a
     * Masking or Embedding(mask_zero) call makes one term; a merge ORs its masked inputs' terms
     * (Concatenate counts an unmasked input as all steps, as Keras 3.4+ does); every other layer that
     * keeps a mask passes its first input's on. Values without a mask are absent.
     */
    private static Map<String, Set<MaskAtom>> maskAtoms(Model model, List<Entry> entries) {
        Map<String, Entry> byCall = new HashMap<>();
        for (Entry e : entries) {
            byCall.put(e.callName(), e);
        }
        Map<String, Set<MaskAtom>> out = new HashMap<>();
        for (String call : model.callNames()) {
            Entry e = byCall.get(call);
            if (e == null || model.maskOrigin(call) == null) {
                continue;
            }
            Layer layer = e.layer();
            Set<MaskAtom> atoms = new HashSet<>();
            if (layer instanceof dev.rnnrt.layers.Masking m) {
                atoms.add(new MaskAtom(e.inputs().get(0), (float) m.maskValue(), true));
            } else if (layer instanceof dev.rnnrt.layers.Embedding emb && emb.maskZero()) {
                atoms.add(new MaskAtom(e.inputs().get(0), 0f, false));
            } else if (layer instanceof dev.rnnrt.layers.Merge merge
                    && (merge.maskRule() != dev.rnnrt.layers.Merge.MaskRule.KERAS_3_4
                    || merge.mode() == dev.rnnrt.layers.Merge.Mode.CONCATENATE && (merge.axis() == 1 || merge.axis() == -2))) {
                atoms.add(MaskAtom.NOT_AN_OR);
            } else if (layer instanceof dev.rnnrt.layers.Merge merge) {
                for (String in : e.inputs()) {
                    Set<MaskAtom> a = model.maskOrigin(in) == null ? null : out.get(in.replaceAll("\\[\\d+]$", ""));
                    if (a != null) {
                        atoms.addAll(a);
                    } else if (merge.className().equals("Concatenate")) {
                        atoms.add(MaskAtom.TRUE);
                    }
                }
            } else if (!e.inputs().isEmpty() && model.maskOrigin(e.inputs().get(0)) != null) {
                atoms.addAll(out.getOrDefault(e.inputs().get(0).replaceAll("\\[\\d+]$", ""), Set.of()));
            }
            out.put(call, MaskAtom.normalise(atoms));
        }
        return out;
    }


    private final String source;
    private final LayerFactory factory;
    private final Map<String, Integer> positions = new HashMap<>();
    /** The batch sizes the input shapes read so far fix (the first axis of batch_input_shape). */
    private final Set<Integer> batchSizes = new java.util.LinkedHashSet<>();
    /** Whether an input shape read so far leaves the batch size open (None). */
    private boolean batchOpen;
    /**
     * Whether the tensors this (nested) model runs on may leave the batch size open: Keras runs a
     * nested model's layers on the outer model's tensors, whatever the nested config's own shapes say.
     */
    private boolean outerBatchOpen;

    /**
     * What the names of this config's layers get in front: "" for the model, "outer/" for the layers
     * of a nested model called "outer" (Keras keeps names unique within each model only).
     */
    private final String prefix;

    /**
     * Whether the file keeps a nested model's weights as one list (Keras 1 and 2 HDF5), which rnnrt
     * cannot split for some frozen layers; .keras archives (tf.keras 2.11+, Keras 3) keep each layer's
     * weights in its own group.
     */
    private final boolean nestedWeightsFlat;

    ConfigReader(String source, LayerFactory factory) {
        this(source, factory, true);
    }

    ConfigReader(String source, LayerFactory factory, boolean nestedWeightsFlat) {
        this(source, factory, "", nestedWeightsFlat);
    }

    private ConfigReader(String source, LayerFactory factory, String prefix, boolean nestedWeightsFlat) {
        this.source = source;
        this.factory = factory;
        this.prefix = prefix;
        this.nestedWeightsFlat = nestedWeightsFlat;
    }

    /** A name of this config, as the model knows it. */
    private String qualify(String name) {
        return name == null ? null : prefix + name;
    }

    static JsonNode parse(String json, String source) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new ModelLoadException(source + ": the model config is not valid JSON ("
                    + e.getOriginalMessage() + ").", e);
        }
    }

    Parsed read(JsonNode root) {
        String cls = root.path("class_name").asText("");
        JsonNode cfg = root.path("config");
        LayerFactory.checkKerasClass(source, root, (prefix.isEmpty() ? "the model" : "the nested model '"
                + prefix.substring(0, prefix.length() - 1) + "'") + " (" + cls + ")");
        switch (cls) {
            case "Sequential":
                return sequential(cfg);
            case "Model":
            case "Functional":
                return functional(cfg);
            case "":
                throw new ModelLoadException(source + ": " + (prefix.isEmpty() ? "the model config" : "the config of "
                        + "the nested model '" + prefix.substring(0, prefix.length() - 1) + "'") + " has no class_name; "
                        + "expected a Sequential or functional model's config, {\"class_name\": \"Sequential\", "
                        + "\"config\": {...}} as model.to_json() writes it.");
            default:
                throw new ModelLoadException(source + ": the model is a '" + cls + "'; rnnrt loads Sequential and "
                        + "functional (Model) configs. A subclassed model cannot be loaded from its config.");
        }
    }

    private Parsed sequential(JsonNode cfg) {
        JsonNode layers = cfg.isArray() ? cfg : cfg.path("layers");
        String name = cfg.isObject() ? cfg.path("name").asText("sequential") : "sequential";
        if (!layers.isArray() || layers.isEmpty()) {
            throw new ModelLoadException(source + ": the Sequential config has no layers.");
        }
        int[] inputShape = null;
        String inputName = qualify(name + "_input");
        List<Entry> entries = new ArrayList<>();
        String previous = null;
        for (JsonNode spec : layers) {
            String cls = spec.path("class_name").asText("");
            JsonNode lc = spec.path("config");
            if (cls.equals("InputLayer")) {
                LayerFactory.checkKerasClass(source, spec, "InputLayer '" + lc.path("name").asText("") + "'");
                inputShape = batchShape(lc, "InputLayer '" + lc.path("name").asText("") + "'");
                inputName = lc.has("name") ? qualify(lc.path("name").asText()) : inputName;
                continue;
            }
            String from = previous == null ? inputName : previous;
            if (isModel(cls)) {
                String nestedName = qualify(lc.path("name").asText(spec.path("name").asText("nested")));
                Parsed inner = nested(spec, nestedName);
                batchSizes.addAll(inner.batchSizes());      // its layers run on this model's batches
                if (inner.inputs().size() != 1 || inner.outputs().size() != 1) {
                    throw new ModelLoadException(source + ": the nested model '" + inner.name() + "' has "
                            + inner.inputs().size() + " input(s) and " + inner.outputs().size() + " output(s); a layer "
                            + "of a Sequential model takes one and gives one.");
                }
                if (inputShape == null && entries.isEmpty()) {
                    inputShape = inner.inputs().values().iterator().next();
                }
                previous = inline(inner, nestedName, 0, List.of(from), new Scope(nestedName, positionalKey(cls), trainable(spec)), entries)
                        .get(0);
                continue;
            }
            if (inputShape == null && entries.isEmpty()) {
                inputShape = firstLayerInputShape(lc, spec);
            }
            String key = positionalKey(cls);
            Layer layer = create(spec, null, key);
            entries.add(new Entry(layer, cls, key, List.of(from), trainable(spec)));
            entries.addAll(takeWeightsOnly());
            previous = layer.name();
        }
        JsonNode built = cfg.path("build_input_shape");   // Keras 2.2.3+ and tf.keras: model.build(shape) of a model
        if (built.isArray() && built.size() == 1 && built.get(0).isArray()) {   // without input shapes ([shape])
            built = built.get(0);
        }
        if (inputShape == null && built.isArray() && !built.isEmpty()) {
            inputShape = withoutBatch(built, "the Sequential model", "build_input_shape");
        }
        if (inputShape == null) {
            throw new ModelLoadException(source + ": the Sequential config gives no input shape (no InputLayer, "
                    + "batch_input_shape, build_config or build_input_shape). Build the model on an input before "
                    + "saving it.");
        }
        if (entries.isEmpty()) {
            throw new ModelLoadException(source + ": the Sequential config has only an InputLayer.");
        }
        LinkedHashMap<String, int[]> inputs = new LinkedHashMap<>();
        inputs.put(inputName, inputShape);
        return new Parsed(source, name, inputs, entries, List.of(previous), factory.version(), batchSizes);
    }

    private Parsed functional(JsonNode cfg) {
        String name = cfg.path("name").asText("model");
        LinkedHashMap<String, int[]> declared = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        Set<String> inputLayers = new HashSet<>();
        operations.clear();
        combinedMasks.clear();
        maxNodeIndex.clear();
        historyNodes(cfg.path("layers"));
        historyNodes(cfg.path("output_layers"));
        for (JsonNode spec : cfg.path("layers")) {
            if (isOperation(spec)) {
                operations.put(qualify(spec.path("name").asText(spec.path("config").path("name").asText(""))), spec);
            }
        }
        Set<String> computed = computedOperations(cfg);
        OpReader ops = new OpReader(source, t -> OpReader.isKeras3Tensor(t)
                ? history("an operation", t.path("config").path("keras_history")) : history("an operation", t));
        for (JsonNode spec : cfg.path("layers")) {
            String cls = spec.path("class_name").asText("");
            String layerName = qualify(spec.path("name").asText(spec.path("config").path("name").asText(null)));
            if (isOperation(spec)) {
                // Keras 3 records both the keras.ops calls between layers and those that computed masks;
                // the latter only feed masks (rnnrt computes masks itself)
                if (computed.contains(layerName)) {
                    OpReader.Made op = operation(layerName, () -> ops.keras3(layerName, cls, spec.path("config"),
                            spec.path("inbound_nodes").path(0)));
                    entries.add(new Entry(op.op(), cls, layerName, op.inputs(), true));
                }
                continue;
            }
            if (cls.equals("TFOpLambda") || cls.equals("SlicingOpLambda")) {
                JsonNode opNodes = spec.path("inbound_nodes");
                for (int k = 0; k < opNodes.size(); k++) {
                    int node = k;
                    String call = callName(layerName, k);
                    OpReader.Made op = operation(call, () -> ops.keras2(call, spec.path("config").path("function").asText(""),
                            opNodes.get(node)));
                    entries.add(new Entry(op.op(), cls, call, op.inputs(), true));
                }
                continue;
            }
            if (cls.equals("InputLayer")) {
                LayerFactory.checkKerasClass(source, spec, "InputLayer '" + layerName + "'");
                declared.put(layerName, batchShape(spec.path("config"), "InputLayer '" + layerName + "'"));
                inputLayers.add(layerName);
                continue;
            }
            JsonNode nodes = spec.path("inbound_nodes");
            if (isModel(cls)) {
                Parsed inner = nested(spec, layerName);
                batchSizes.addAll(inner.batchSizes());      // its layers run on this model's batches
                Scope scope = new Scope(layerName, positionalKey(cls), trainable(spec));
                // Keras 3 numbers a nested model's calls from 0 in the layers' inputs (and counts a
                // Functional's own first node only in input_layers / output_layers, read there);
                // Keras 2 counts it everywhere, which the references show
                boolean keras3 = !nodes.isEmpty() && nodes.get(0).isObject();
                int offset = keras3 ? 0 : nodeOffset(layerName, nodes.size());
                if (keras3 && cls.equals("Functional")) {
                    keras3Functional.add(layerName);
                }
                for (int k = 0; k < nodes.size(); k++) {
                    String call = callName(layerName, k + offset);
                    refuseTrainingCall(layerName, call, cls, spec, nodes.get(k));
                    List<String> outs = inline(inner, layerName, k, inbound(call, nodes.get(k)), scope, entries);
                    for (int o = 0; o < outs.size(); o++) {
                        aliases.put(o == 0 ? call : call + "[" + o + "]", outs.get(o));
                    }
                    nestedCalls.put(call, outs.size());
                }
                continue;
            }
            Layer layer = null;
            String key = positionalKey(cls);
            for (int k = 0; k < Math.max(1, nodes.size()); k++) {
                JsonNode node = nodes.isEmpty() ? null : nodes.get(k);
                String call = callName(layerName, k);
                List<String> inputs = node == null ? List.of() : cls.equals("MultiHeadAttention")
                        ? attentionInputs(call, node) : inbound(call, node);
                if (layer != null && timeDistributedModel(spec)) {
                    // a later call of TimeDistributed(model): the same layer (its model is built once)
                } else {
                    if (node != null) {
                        refuseTrainingCall(layerName, call, cls, spec, node);
                    }
                    Layer made = create(spec, node == null ? null : callKwargs(node), key);
                    if (layer == null) {
                        layer = made;
                    } else {
                        sameCallOptions(layer, made, call);
                    }
                }
                List<RecordedMask> kerasMasks = node == null ? null : kerasMasks(call, node);
                // Keras 3 passes a layer its input's mask by itself only when the call has one tensor
                // argument (step 6 of Layer.__call__): a recurrent layer given initial_state and no mask=...
                // (or mask=None, which Keras then leaves as it is) computes every step, yet sets its first
                // input's mask on its outputs
                boolean unmasked = (kerasMasks == null || kerasMasks.equals(List.of(RecordedMask.NONE)))
                        && node != null && takesInitialStates(layer) && givenInitialState(node);
                if (unmasked) {
                    kerasMasks = null;
                }
                entries.add(new Entry(layer, call, cls, key, inputs, kerasMasks, unmasked, List.of(), trainable(spec),
                        false));
                if (k == 0) {
                    entries.addAll(takeWeightsOnly());
                }
            }
        }
        entries.replaceAll(e -> e.resolved(this::resolve));
        LinkedHashMap<String, int[]> inputs = new LinkedHashMap<>();
        for (String in : tensorList(cfg.path("input_layers"), "input_layers")) {
            String n = in.contains("[") ? in.substring(0, in.indexOf('[')) : in;
            if (!declared.containsKey(n)) {
                throw new ModelLoadException(source + ": input '" + n + "' is listed in input_layers but is not an InputLayer.");
            }
            inputs.put(n, declared.get(n));
        }
        List<String> outputs = new ArrayList<>();
        for (String out : tensorList(cfg.path("output_layers"), "output_layers")) {
            outputs.add(resolve(keras3OutputRef(out)));
        }
        return new Parsed(source, name, inputs, entries, outputs, factory.version(), batchSizes);
    }

    /**
     * A shared layer's later call must compute as its first: Keras reads some options from each call
     * (Attention's use_causal_mask and return_attention_scores), and rnnrt keeps one layer per name.
     */
    private void sameCallOptions(Layer first, Layer again, String call) {
        if (!first.describeOptions().equals(again.describeOptions())) {
            throw new ModelLoadException(source + ": layer '" + first.name() + "' is called again ('" + call
                    + "') with other call options than its first call (" + again.describeOptions() + " against "
                    + first.describeOptions() + "); rnnrt gives each call of a shared layer the options of its "
                    + "first. Use a separate layer for the call with other options.");
        }
    }

    /** Layers of models that TimeDistributed wraps, read but not yet put into the entries. */
    private final List<Entry> weightsOnly = new ArrayList<>();

    private List<Entry> takeWeightsOnly() {
        List<Entry> out = new ArrayList<>(weightsOnly);
        weightsOnly.clear();
        return out;
    }

    /** Whether the spec is TimeDistributed around a model (a Sequential or functional model). */
    private static boolean timeDistributedModel(JsonNode spec) {
        return spec.path("class_name").asText("").equals("TimeDistributed")
                && isModel(spec.path("config").path("layer").path("class_name").asText(""));
    }

    /**
     * The layer of a spec. TimeDistributed around a model is built here: the model is read on its own
     * (its layers named "&lt;time_distributed&gt;/&lt;layer&gt;"), built, and wrapped; its layers wait in
     * {@link #weightsOnly} for the caller to put after the TimeDistributed entry, so that they get their
     * weights (Keras 2: the TimeDistributed layer's group holds the model's weights as one list, as a
     * nested model's; Keras 3: its layer/layers/&lt;key&gt; groups).
     */
    private Layer create(JsonNode spec, JsonNode callKwargs, String positionalKey) {
        // Keras 2.2-2.3 looks at the TimeDistributed layer's own input: only when every input fixes it
        factory.batchFixed(batchFixed());
        if (!timeDistributedModel(spec)) {
            return factory.create(spec, callKwargs, prefix);
        }
        JsonNode lc = spec.path("config");
        String name = qualify(lc.path("name").asText(spec.path("name").asText("time_distributed")));
        LayerFactory.checkKerasClass(source, spec, "layer '" + name + "' (TimeDistributed)");
        JsonNode innerSpec = lc.path("layer");
        Parsed inner = nested(innerSpec, name, true);     // run on [batch·steps, ...]: open
        // Keras 3 lists the weights of a frozen TimeDistributed in layer order, those of a trainable one
        // by each variable's own flag, whatever the model's own flag says (layer.py); a trainable one of
        // Keras 2 gathers the model's own trainable and non-trainable weights, so there the model's flag
        // counts (a frozen one: KerasModelLoader.frozenTimeDistributedOrder; inside a nested model it is
        // refused below, but in tf.keras 2.6-2.15)
        Scope scope = new Scope(name, positionalKey + "/layer",
                factory.version().major() >= 3 ? trainable(spec) : trainable(innerSpec));
        for (Entry e : inner.layers()) {
            weightsOnly.add(e.weightsOnlyIn(scope));
        }
        Model model;
        try {
            model = inner.build();
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(source + ": the model inside TimeDistributed '" + name + "': " + e.getMessage(), e);
        }
        KerasVersion v = factory.version();
        // tf.keras 2.6-2.15 list its model's variables among the nested model's non-trainable ones
        // (KerasModelLoader.tfKerasVariablesOrder); standalone Keras and older tf.keras are not followed here
        boolean layerOrder = v.major() == 2 && !v.tfKeras() && v.minor() >= 6;
        if (!trainable(spec) && !prefix.isEmpty() && v.major() < 3 && nestedWeightsFlat && !layerOrder) {
            throw new ModelLoadException(source + ", layer '" + name + "' (TimeDistributed): it wraps a model and is "
                    + "frozen (trainable=False) inside a nested model, whose weights Keras " + v + " then keeps in an "
                    + "order rnnrt does not rebuild. Save the model with the layer trainable, with tf.keras 2.6 or "
                    + "later, or with Keras 3.");
        }
        if (LayerFactory.timeDistributedPassesInnerMask(v, batchFixed())) {
            for (int k = 0; k < model.outputNames().size(); k++) {
                if (model.carriesMask(model.outputNames().get(k))) {
                    throw new ModelLoadException(source + ", layer '" + name + "' (TimeDistributed): the model it wraps "
                            + "gives output " + k + " a mask, which Keras 2 passes on for every step's sequence; rnnrt "
                            + "does not compute such masks. End the inner model with a layer that drops the mask (a "
                            + "recurrent layer without return_sequences, pooling), or save the model with Keras 3.");
                }
            }
        }
        try {
            return TimeDistributed.of(name, new NestedModel(name + "/" + inner.name(),
                    innerSpec.path("class_name").asText(), model));
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(source + ", layer '" + name + "' (TimeDistributed): " + e.getMessage(), e);
        }
    }

    /** Whether the layer is trainable in its config (Keras 2 orders a nested model's weights by it). */
    private static boolean trainable(JsonNode spec) {
        return spec.path("config").path("trainable").asBoolean(true);
    }

    /** A nested model's own graph, read on its own (its layer names, positions and operations are its own). */
    private Parsed nested(JsonNode spec, String modelName) {
        return nested(spec, modelName, !batchFixed());
    }

    private Parsed nested(JsonNode spec, String modelName, boolean batchOpenOutside) {
        ConfigReader inner = new ConfigReader(source, factory, modelName + "/", nestedWeightsFlat);
        inner.outerBatchOpen = batchOpenOutside;
        return inner.read(spec);
    }

    /**
     * Whether the inputs read so far fix one batch size for every tensor of this model (Keras
     * 2.2-2.3's TimeDistributed looks at its own input's batch size).
     */
    private boolean batchFixed() {
        return batchSizes.size() == 1 && !batchOpen && !outerBatchOpen;
    }

    /**
     * Puts call {@code call} (0 = first) of a nested model into the graph being read: its inputs
     * become {@code inputs}, its layers are called there (under their own names in the first call,
     * as {@code "model#k/layer"} in call k ≥ 1, sharing the layers), and the references its outputs
     * now stand for are returned.
     */
    private List<String> inline(Parsed inner, String modelName, int call, List<String> inputs, Scope scope,
                                List<Entry> out) {
        List<String> innerInputs = new ArrayList<>(inner.inputs().keySet());
        if (inputs.size() != innerInputs.size()) {
            throw new ModelLoadException(source + ": the nested model '" + modelName + "' takes " + innerInputs.size()
                    + " input(s) " + innerInputs + "; it is called with " + inputs.size() + ": " + inputs + ".");
        }
        Map<String, String> rename = new HashMap<>();
        for (int i = 0; i < innerInputs.size(); i++) {
            rename.put(innerInputs.get(i), inputs.get(i));
        }
        String own = modelName + "/";                 // the inner layers' names start so
        for (Entry e : inner.layers()) {
            rename.put(e.callName(), call == 0 || !e.callName().startsWith(own) ? e.callName()
                    : callName(modelName, call) + "/" + e.callName().substring(own.length()));
        }
        java.util.function.UnaryOperator<String> rn = ref -> {
            int open = ref.endsWith("]") ? ref.lastIndexOf('[') : -1;
            String base = open > 0 ? ref.substring(0, open) : ref;
            String to = rename.get(base);
            if (to == null) {
                return ref;
            }
            if (open > 0 && innerInputs.contains(base)) {
                throw new ModelLoadException(source + ": the nested model '" + modelName + "' reads output '" + ref
                        + "' of its input; an input has one.");
            }
            return open > 0 ? to + ref.substring(open) : to;
        };
        for (Entry e : inner.layers()) {
            out.add(e.inlined(rn, scope, inputs));
        }
        List<String> outputs = new ArrayList<>();
        inner.outputs().forEach(o -> outputs.add(rn.apply(o)));
        return outputs;
    }

    /** Nested Keras 3 Functional models of this graph, whose calls output_layers numbers from 1. */
    private final Set<String> keras3Functional = new HashSet<>();

    /**
     * An output_layers reference as the layers' inputs number calls: Keras 3 counts a nested
     * Functional's own first node there (functional.py's get_config; from_config takes 1 off).
     */
    private String keras3OutputRef(String ref) {
        int open = ref.endsWith("]") ? ref.lastIndexOf('[') : -1;
        String base = open > 0 ? ref.substring(0, open) : ref;
        String suffix = open > 0 ? ref.substring(open) : "";
        int hash = base.lastIndexOf('#');
        String layer = hash > 0 && base.substring(hash + 1).matches("\\d+") ? base.substring(0, hash) : base;
        if (!keras3Functional.contains(layer)) {
            return ref;
        }
        int call = layer.equals(base) ? 0 : Integer.parseInt(base.substring(hash + 1));
        if (call == 0) {
            throw new ModelLoadException(source + ": output_layers reads call 0 of the nested model '" + layer
                    + "', which Keras 3 numbers from 1 there; the config is inconsistent.");
        }
        return callName(layer, call - 1) + suffix;
    }

    /** References to a nested model's outputs ("model", "model#1[2]") → the references they stand for. */
    private final Map<String, String> aliases = new HashMap<>();
    /** The calls of nested models being read → their number of outputs. */
    private final Map<String, Integer> nestedCalls = new HashMap<>();
    /** The largest node index any reference of the graph gives each layer. */
    private final Map<String, Integer> maxNodeIndex = new HashMap<>();

    /** A reference with nested models' outputs replaced by what they stand for. */
    private String resolve(String ref) {
        String r = ref;
        for (int guard = 0; ; guard++) {
            String to = aliases.get(r);
            if (to == null) {
                break;
            }
            if (guard > aliases.size()) {
                throw new ModelLoadException(source + ": nested models refer to each other in a cycle at '" + ref + "'.");
            }
            r = to;
        }
        int open = r.endsWith("]") ? r.lastIndexOf('[') : -1;
        String base = open > 0 ? r.substring(0, open) : r;
        if (nestedCalls.containsKey(base)) {
            throw new ModelLoadException(source + ": '" + r + "' reads an output the nested model call '" + base
                    + "' does not have (it has " + nestedCalls.get(base) + ").");
        }
        return r;
    }

    /**
     * Where the saved nodes of a layer start in the node indices references use: 0, or 1 for a
     * nested model Keras built on its own inputs first (that first node, inside the nested model,
     * is not saved; Keras counts it). Read off the references: the saved nodes' outputs are all read.
     */
    private int nodeOffset(String layerName, int savedNodes) {
        Integer max = maxNodeIndex.get(layerName);
        if (max == null || savedNodes == 0) {
            return 0;
        }
        int offset = max - (savedNodes - 1);
        if (offset != 0 && offset != 1) {
            throw new ModelLoadException(source + ": the graph reads call " + max + " of the nested model '" + layerName
                    + "', which the file records " + savedNodes + " call(s) of; the config is inconsistent.");
        }
        return offset;
    }

    /** Records the node index of every tensor reference below {@code v} (Keras 2 lists, Keras 3 keras_history). */
    private void historyNodes(JsonNode v) {
        if (v.isArray()) {
            if (v.size() >= 3 && v.get(0).isTextual() && v.get(1).isInt() && v.get(2).isInt()) {
                maxNodeIndex.merge(qualify(v.get(0).asText()), v.get(1).asInt(), Math::max);
                if (v.size() > 3) {
                    historyNodes(v.get(3));
                }
                return;
            }
            for (JsonNode e : v) {
                historyNodes(e);
            }
        } else if (v.isObject()) {
            if (v.has("keras_history")) {
                historyNodes(v.get("keras_history"));
                return;
            }
            if (v.has("inbound_nodes")) {
                historyNodes(v.get("inbound_nodes"));
                return;
            }
            v.fields().forEachRemaining(f -> historyNodes(f.getValue()));
        }
    }

    /**
     * MultiHeadAttention's query, value and key (when given), however the call passed them: Keras 3
     * positionally or by keyword; tf.keras with the query as the node's entry and value and key in
     * its keyword arguments.
     */
    private List<String> attentionInputs(String layerName, JsonNode node) {
        List<String> refs = new ArrayList<>();
        if (node.isArray()) {
            JsonNode entry = node.path(0);
            refs.add(history(layerName, entry));
            JsonNode kwargs = entry.path(3);
            for (String kw : new String[] {"value", "key"}) {
                if (kwargs.path(kw).isArray()) {
                    refs.add(history(layerName, kwargs.path(kw)));
                }
            }
        } else {
            JsonNode args = node.path("args");
            JsonNode kwargs = node.path("kwargs");
            String[] names = {"query", "value", "key"};
            for (int k = 0; k < 3; k++) {
                JsonNode t = args.size() > k ? args.get(k) : kwargs.path(names[k]);
                if (OpReader.isKeras3Tensor(t)) {
                    collectTensors(layerName, t, refs);
                } else if (k < 2) {
                    throw new ModelLoadException(source + ": cannot read the " + names[k] + " of layer '" + layerName
                            + "' (MultiHeadAttention) from its saved call.");
                }
            }
        }
        if (refs.size() < 2) {
            throw new ModelLoadException(source + ": layer '" + layerName + "' (MultiHeadAttention) is called without "
                    + "a value; Keras calls it with a query and a value.");
        }
        return refs;
    }

    /** The references one inbound node feeds a layer, in order (x first, then initial states). */
    private List<String> inbound(String layerName, JsonNode node) {
        List<String> refs = new ArrayList<>();
        if (node.isArray()) { // Keras 2: [[name, node_index, tensor_index, kwargs], ...]
            for (JsonNode entry : node) {
                refs.add(history(layerName, entry));
            }
            return refs;
        }
        // Keras 3: {"args": [...], "kwargs": {"initial_state": [...], "mask": ...}}
        JsonNode args = node.path("args");
        JsonNode kwargs = node.path("kwargs");
        if (args.isEmpty()) {
            // the first argument given by keyword: layer(sequences=x, initial_state=[h, c]) (the
            // recurrent layers' call(sequences, ...)), layer(inputs=x) (every other layer's call(inputs, ...))
            for (String first : new String[] {"sequences", "inputs"}) {
                if (kwargs.has(first)) {
                    collectTensors(layerName, kwargs.path(first), refs);
                    break;
                }
            }
        }
        collectTensors(layerName, args, refs);
        if (kwargs.has("initial_state")) {
            collectTensors(layerName, kwargs.path("initial_state"), refs);
        }
        return refs;
    }

    /**
     * Keras 3 graphs hold the operations (keras.ops: NotEqual, Any, …) that computed the masks
     * Masking and Embedding make; they feed only the "mask" arguments Keras passed the next layers.
     */
    private static boolean isOperation(JsonNode spec) {
        String module = spec.path("module").asText("");
        return module.startsWith("keras.src.ops") || module.startsWith("keras.ops")
                || module.startsWith("keras.src.activations") || module.startsWith("keras.activations");
    }

    /** Operations of the Keras 3 graph being read, name → their config entry. */
    private final Map<String, JsonNode> operations = new HashMap<>();

    /**
     * The masks Keras passed each input of this call, as its saved node records (Keras 3: "mask":
     * null, a tensor, or a list of them, one per input); null when the node does not say. A recorded
     * mask must be one Masking or Embedding(mask_zero=True) computes (the operations that made it are
     * in the graph); anything else was passed by hand, which rnnrt refuses.
     */
    private List<RecordedMask> kerasMasks(String layerName, JsonNode node) {
        if (node.isArray()) { // Keras 2: the framework's own masks are not saved; one that is was passed by hand
            for (JsonNode entry : node) {
                if (entry.isArray() && entry.size() > 3 && entry.get(3).hasNonNull("mask")) {
                    throw explicitMask(layerName, "");
                }
            }
            return null;
        }
        JsonNode kwargs = node.path("kwargs");
        if (!kwargs.has("mask")) {
            if (!kwargs.has("query_mask") && !kwargs.has("value_mask")) {
                return null;
            }
            // MultiHeadAttention: Keras 3 fills query_mask, value_mask and key_mask from its inputs
            List<RecordedMask> out = new ArrayList<>();
            for (String kw : new String[] {"query_mask", "value_mask", "key_mask"}) {
                JsonNode m = kwargs.path(kw);
                out.add(m.isMissingNode() || m.isNull() ? RecordedMask.NONE : recordedMask(layerName, m));
            }
            return out;
        }
        JsonNode mask = kwargs.get("mask");
        List<RecordedMask> out = new ArrayList<>();
        for (JsonNode m : mask.isArray() ? mask : List.of(mask)) {
            out.add(m == null || m.isNull() ? mask.isArray() ? RecordedMask.NONE_LISTED : RecordedMask.NONE
                    : recordedMask(layerName, m));
        }
        return out;
    }

    /** One mask tensor a saved call records: what made it, or an error where rnnrt's rules cannot have. */
    private RecordedMask recordedMask(String layerName, JsonNode m) {
        List<String> refs = new ArrayList<>();
        collectTensors(layerName, m, refs);
        RecordedMask r = refs.size() == 1 ? computedMask(refs.get(0)) : null;
        if (r == null && refs.size() == 1) {
            r = combinedMask(refs.get(0), 0);
        }
        if (r == null && refs.size() == 1 && operations.containsKey(refs.get(0).replaceAll("\\[\\d+]$", ""))) {
            throw new ModelLoadException(source + ": Keras called layer '" + layerName + "' with a mask computed by "
                    + "the operation '" + refs.get(0) + "', which is not the mask of a Masking or "
                    + "Embedding(mask_zero=True) layer (a mask passed by hand, or one a merge combined); rnnrt "
                    + "loads only the masks those layers make.");
        }
        if (r == null) {
            throw explicitMask(layerName, refs.size() == 1 ? " (it comes from '" + refs.get(0) + "')" : "");
        }
        return r;
    }

    /** The mask a tensor holds when it is Embedding's not_equal(x, 0) or Masking's any(not_equal(x, v), -1); else null. */
    private RecordedMask computedMask(String ref) {
        JsonNode op = operations.get(ref.replaceAll("\\[\\d+]$", ""));
        if (op == null) {
            return null;
        }
        JsonNode args = op.path("inbound_nodes").path(0).path("args");
        switch (op.path("class_name").asText("")) {
            case "NotEqual": {
                List<String> from = new ArrayList<>();
                collectTensors("", args.path(0), from);
                return from.size() == 1 && args.path(1).isNumber()
                        ? new RecordedMask(true, from.get(0), args.path(1).asDouble(), false) : null;
            }
            case "Any": {
                JsonNode cfg = op.path("config");
                JsonNode axis = cfg.path("axis");       // None (every axis) or a list of axes: not Masking's mask
                if (axis.isMissingNode() || axis.isNull() || axis.isArray()
                        || ConfigInts.read(axis, operationWhere(ref, "Any"), "axis") != -1
                        || cfg.path("keepdims").asBoolean(false)) {
                    return null;
                }
                List<String> inner = new ArrayList<>();
                collectTensors("", args.path(0), inner);
                JsonNode innerOp = inner.size() == 1 ? operations.get(inner.get(0).replaceAll("\\[\\d+]$", "")) : null;
                RecordedMask notEqual = innerOp != null && innerOp.path("class_name").asText("").equals("NotEqual")
                        ? computedMask(inner.get(0)) : null;      // only any(not_equal(x, v)): no deeper
                return notEqual == null || notEqual.masking() ? null
                        : new RecordedMask(true, notEqual.from(), notEqual.value(), true);
            }
            default:
                return null;
        }
    }

    /** The operations Keras 3's merge layers combine masks with (base_merge.py, concatenate.py). */
    private static final Set<String> MASK_COMBINING = Set.of("LogicalOr", "Concatenate", "Any", "ExpandDims",
            "BroadcastTo");
    /** The most masks one combination may join (a guard against crafted configs). */
    private static final int MAX_MASK_LEAVES = 256;

    /** combinedMask's results by reference: a mask graph may reuse a tensor many times. */
    private final Map<String, java.util.Optional<RecordedMask>> combinedMasks = new HashMap<>();

    /**
     * A mask a merge layer combined, as the tree of operations that made it; null when the tree holds
     * anything else (a mask passed by hand, computed some other way).
     */
    private RecordedMask combinedMask(String ref, int depth) {
        java.util.Optional<RecordedMask> known = combinedMasks.get(ref);
        if (known != null) {
            return known.orElse(null);
        }
        combinedMasks.put(ref, java.util.Optional.empty());        // a cycle reads as "not a mask"
        RecordedMask result = combine(ref, depth);
        combinedMasks.put(ref, java.util.Optional.ofNullable(result));
        return result;
    }

    /** "model.keras, operation 'any' (Any)": where a config field of the operation that made {@code ref} is. */
    private String operationWhere(String ref, String cls) {
        return source + ", operation '" + ref.replaceAll("\\[\\d+]$", "") + "' (" + cls + ")";
    }

    private RecordedMask combine(String ref, int depth) {
        RecordedMask leaf = computedMask(ref);
        if (leaf != null) {
            return leaf;
        }
        JsonNode op = operations.get(ref.replaceAll("\\[\\d+]$", ""));
        String cls = op == null ? "" : op.path("class_name").asText("");
        if (cls.equals("ConvertToTensor") && depth <= 64) {      // Attention's compute_mask (Keras 3.7+): the mask itself
            List<String> arg = new ArrayList<>();
            collectTensors("", op.path("inbound_nodes").path(0).path("args"), arg);
            return arg.size() == 1 ? combinedMask(arg.get(0), depth + 1) : null;
        }
        if (depth > 64 || !MASK_COMBINING.contains(cls)) {
            return null;
        }
        if (cls.equals("Concatenate")
                && ConfigInts.read(op.path("config").path("axis"), -1, operationWhere(ref, cls), "axis") != -1) {
            return null;                                   // masks joined along time: not an OR of terms
        }
        Set<RecordedMask> leaves = new java.util.LinkedHashSet<>();
        Set<String> ops = new HashSet<>(Set.of(cls));
        List<String> args = new ArrayList<>();
        collectTensors("", op.path("inbound_nodes").path(0).path("args"), args);
        for (String a : args) {
            JsonNode argOp = operations.get(a.replaceAll("\\[\\d+]$", ""));
            String argClass = argOp == null ? "" : argOp.path("class_name").asText("");
            if (argClass.equals("ZerosLike")) {
                continue;                                  // or(m, zeros): m, broadcast to the input
            }
            if (argClass.equals("OnesLike")) {
                leaves.add(RecordedMask.ALL_STEPS);        // an unmasked input of Concatenate
                continue;
            }
            RecordedMask part = combinedMask(a, depth + 1);
            if (part == null) {
                return null;
            }
            if (part.parts() != null) {
                leaves.addAll(part.parts());
                ops.addAll(part.ops());
            } else {
                leaves.add(part);
            }
            if (leaves.size() > MAX_MASK_LEAVES) {
                return null;
            }
        }
        return leaves.isEmpty() ? null : RecordedMask.combined(new ArrayList<>(leaves), ops);
    }

    /** Whether the layer is one of Keras' RNN layers, which take initial states after their input. */
    private static boolean takesInitialStates(Layer layer) {
        return layer instanceof dev.rnnrt.layers.RecurrentLayer || layer instanceof dev.rnnrt.layers.Bidirectional
                || layer instanceof dev.rnnrt.layers.StackedRnn || layer instanceof dev.rnnrt.layers.BidirectionalStack;
    }

    /** A Keras 3 call given initial_state tensors, as a keyword or positionally (Keras then passes no mask by itself). */
    private boolean givenInitialState(JsonNode node) {
        if (node.isArray()) {
            return false;
        }
        List<String> refs = new ArrayList<>();
        collectTensors("", node.path("kwargs").path("initial_state"), refs);
        JsonNode args = node.path("args");
        for (int k = 1; k < args.size(); k++) {             // call(sequences, initial_state) positionally
            collectTensors("", args.get(k), refs);
        }
        return !refs.isEmpty();
    }

    private ModelLoadException explicitMask(String layerName, String detail) {
        return new ModelLoadException(source + ": layer '" + layerName + "' is called with a mask passed by hand "
                + "(mask=...)" + detail + "; rnnrt takes masks only from Masking and Embedding(mask_zero=True) layers.");
    }

    /**
     * The keyword arguments of a layer's call (Keras 3: the node's "kwargs"; Keras 2: the dict each
     * inbound entry carries, merged), for the layers whose call options change the numbers.
     */
    private static JsonNode callKwargs(JsonNode node) {
        if (!node.isArray()) {
            return node.path("kwargs");
        }
        com.fasterxml.jackson.databind.node.ObjectNode merged =
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        for (JsonNode entry : node) {
            if (entry.isArray() && entry.size() > 3 && entry.get(3).isObject()) {
                merged.setAll((com.fasterxml.jackson.databind.node.ObjectNode) entry.get(3));
            }
        }
        return merged;
    }

    /**
     * Refuses a call Keras 2 / tf.keras saved with training=True on a layer whose output depends on
     * it: those Keras versions pass the recorded keyword on when they predict, so BatchNormalization
     * normalizes with the batch's own statistics and dropout and noise are drawn at random. (Keras 3
     * predicts with training=False whatever the call recorded: functional.py's operation_fn.)
     */
    private void refuseTrainingCall(String layerName, String call, String cls, JsonNode spec, JsonNode node) {
        if (factory.version().major() >= 3) {
            return;
        }
        JsonNode training = callKwargs(node).path("training");
        if (!(training.isBoolean() && training.asBoolean() || training.isNumber() && training.asDouble() != 0)) {
            return;
        }
        KerasVersion v = factory.version();
        // tf.keras' v2 behaviour (TensorFlow 2.2+): a BatchNormalization with trainable=False runs in
        // inference mode whatever training says (its _get_training_value)
        boolean frozenNormInfers = v.major() == 2 && (v.minor() >= 4 || v.tfKeras() && v.minor() == 3);
        String effect = trainingEffect(spec, 0, frozenNormInfers);
        if (effect != null) {
            throw new ModelLoadException(source + ", layer '" + layerName + "' (" + cls + "): the saved graph calls it"
                    + (call.equals(layerName) ? "" : " (its call '" + call + "')") + " with "
                    + "training=True, which Keras " + factory.version() + " keeps when it predicts: " + effect + ". "
                    + "rnnrt computes inference only, so it would give other numbers. Call the layer without "
                    + "training=True and save the model again.");
        }
    }

    /**
     * What training=True changes in a layer's output, from its spec (wrapped layers, cells and the
     * layers of a nested model included); null where it changes nothing.
     */
    private static String trainingEffect(JsonNode spec, int depth, boolean frozenNormInfers) {
        String cls = spec.path("class_name").asText("");
        JsonNode cfg = spec.path("config");
        String name = depth == 0 ? "it" : "its layer '" + cfg.path("name").asText(spec.path("name").asText("?")) + "' ("
                + cls + ")";
        if (depth > 64) {
            return null;
        }
        switch (cls) {
            case "BatchNormalization":
                if (frozenNormInfers && !cfg.path("trainable").asBoolean(true)) {
                    return null;
                }
                return name + " normalizes with the statistics of each batch instead of its moving mean and variance";
            case "Dropout", "SpatialDropout1D", "GaussianDropout", "AlphaDropout":
                return positive(cfg, "rate", 1) ? name + " drops values at random (rate=" + cfg.path("rate")
                        + "), so the outputs are random" : null;
            case "GaussianNoise":
                return positive(cfg, "stddev", 1) ? name + " adds random noise (stddev=" + cfg.path("stddev")
                        + "), so the outputs are random" : null;
            case "MultiHeadAttention", "Attention", "AdditiveAttention":
                return positive(cfg, "dropout", 0) ? name + " drops attention weights at random (dropout="
                        + cfg.path("dropout") + "), so the outputs are random" : null;
            case "SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell":
                return positive(cfg, "dropout", 0) || positive(cfg, "recurrent_dropout", 0) ? name + " applies dropout "
                        + "at random (dropout=" + cfg.path("dropout").asDouble(0) + ", recurrent_dropout="
                        + cfg.path("recurrent_dropout").asDouble(0) + "), so the outputs are random" : null;
            default:
                break;
        }
        List<JsonNode> inner = new ArrayList<>();
        if (cls.equals("RNN") || cls.equals("StackedRNNCells")) {
            inner.add(cfg.path("cell"));
            cfg.path("cells").forEach(inner::add);
        } else if (cls.equals("Bidirectional") || cls.equals("TimeDistributed")) {
            inner.add(cfg.path("layer"));
            inner.add(cfg.path("backward_layer"));
        } else if (isModel(cls)) {
            (cfg.isArray() ? cfg : cfg.path("layers")).forEach(inner::add);
        }
        for (JsonNode i : inner) {
            String effect = i.isObject() ? trainingEffect(i, depth + 1, frozenNormInfers) : null;
            if (effect != null) {
                return effect;
            }
        }
        return null;
    }

    /** Whether a rate in a config is above 0: a missing one is {@code fallback}, an unreadable one counts as above. */
    private static boolean positive(JsonNode cfg, String key, double fallback) {
        JsonNode v = cfg.path(key);
        if (v.isMissingNode() || v.isNull()) {
            return fallback > 0;
        }
        return !v.isNumber() || v.asDouble() > 0;
    }

    private void collectTensors(String layerName, JsonNode v, List<String> refs) {
        if (v.isArray()) {
            for (JsonNode e : v) {
                collectTensors(layerName, e, refs);
            }
        } else if (v.isObject() && v.path("class_name").asText("").equals("__keras_tensor__")) {
            refs.add(history(layerName, v.path("config").path("keras_history")));
        }
    }

    /** An operation read by {@link OpReader}, its layer's own checks turned into load errors. */
    private OpReader.Made operation(String name, java.util.function.Supplier<OpReader.Made> read) {
        try {
            return read.get();
        } catch (ModelLoadException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(source + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new ModelLoadException(source + ": cannot read the operation '" + name + "' of the graph; its saved "
                    + "call is malformed (" + e.getClass().getSimpleName() + ").", e);
        }
    }

    /**
     * The Keras 3 operations whose results the model computes with: those the layers' inputs (not
     * their masks) and the model's outputs reach, through other operations. The rest only computed
     * masks.
     */
    private Set<String> computedOperations(JsonNode cfg) {
        java.util.Deque<String> todo = new java.util.ArrayDeque<>();
        for (JsonNode spec : cfg.path("layers")) {
            if (isOperation(spec)) {
                continue;
            }
            for (JsonNode node : spec.path("inbound_nodes")) {
                if (node.isObject()) {
                    historyNames(node.path("args"), todo);
                    node.path("kwargs").fields().forEachRemaining(kw -> {
                        if (!kw.getKey().endsWith("mask")) {      // masks' operations only compute masks
                            historyNames(kw.getValue(), todo);
                        }
                    });
                }
            }
        }
        historyNames(cfg.path("output_layers"), todo);
        Set<String> computed = new HashSet<>();
        while (!todo.isEmpty()) {
            String n = qualify(todo.pop());
            if (operations.containsKey(n) && computed.add(n)) {
                JsonNode node = operations.get(n).path("inbound_nodes").path(0);
                historyNames(node.path("args"), todo);
                historyNames(node.path("kwargs"), todo);
            }
        }
        return computed;
    }

    /** The layer names of the Keras 3 tensors (and [name, node, index] lists) below {@code v}. */
    private static void historyNames(JsonNode v, java.util.Deque<String> out) {
        if (OpReader.isKeras3Tensor(v)) {
            out.add(v.path("config").path("keras_history").path(0).asText(""));
        } else if (v.isArray() && v.size() >= 3 && v.get(0).isTextual() && v.get(1).isInt()) {
            out.add(v.get(0).asText());
        } else if (v.isContainerNode()) {
            v.forEach(e -> historyNames(e, out));
        }
    }

    /** [name, node_index, tensor_index] to a model reference "name" or "name[k]". */
    private String history(String layerName, JsonNode h) {
        if (!h.isArray() || h.size() < 3 || !h.get(0).isTextual()) {
            throw new ModelLoadException(source + ": cannot read an input of layer '" + layerName + "': " + h + ".");
        }
        // the node and tensor indices are JSON integers: Keras 2's inbound_nodes entries
        // [name, node_index, tensor_index, kwargs] (keras/engine/node.py serialize), Keras 3's
        // keras_history (keras/src/saving/serialization_lib.py) and input/output_layers lists
        String where = source + ", an input of layer '" + layerName + "'";
        int node = ConfigInts.read(h.get(1), where, "the node index in " + h);
        int k = ConfigInts.read(h.get(2), where, "the tensor index in " + h);
        if (node < 0 || k < 0) {
            throw new ModelLoadException(source + ": cannot read an input of layer '" + layerName + "': " + h + ".");
        }
        String call = callName(qualify(h.get(0).asText()), node);
        return k == 0 ? call : call + "[" + k + "]";
    }

    /** input_layers / output_layers: [[name, 0, k], ...] or, for one tensor in Keras 3, [name, 0, k]. */
    private List<String> tensorList(JsonNode v, String what) {
        List<String> out = new ArrayList<>();
        if (v.isArray() && v.size() > 0 && v.get(0).isTextual()) {
            out.add(history(what, v));
            return out;
        }
        for (JsonNode e : v) {
            out.add(history(what, e));
        }
        if (out.isEmpty()) {
            throw new ModelLoadException(source + ": the functional config lists no " + what + ".");
        }
        return out;
    }

    /** Keras 3 names weight groups by class and position: "dense", "dense_1", … */
    private String positionalKey(String cls) {
        String base = WeightStore.snake(cls);
        int n = positions.merge(base, 1, Integer::sum) - 1;
        return n == 0 ? base : base + "_" + n;
    }

    private int[] batchShape(JsonNode cfg, String what) {
        JsonNode s = cfg.has("batch_shape") ? cfg.get("batch_shape") : cfg.get("batch_input_shape");
        if (s == null || !s.isArray() || s.isEmpty()) {
            throw new ModelLoadException(source + ": " + what + " has no batch_shape / batch_input_shape.");
        }
        return withoutBatch(s, what, cfg.has("batch_shape") ? "batch_shape" : "batch_input_shape");
    }

    private int[] firstLayerInputShape(JsonNode lc, JsonNode spec) {
        String what = "layer '" + lc.path("name").asText("?") + "' (" + spec.path("class_name").asText("?") + ")";
        if (lc.has("batch_input_shape")) {
            return withoutBatch(lc.get("batch_input_shape"), what, "batch_input_shape");
        }
        if (lc.has("batch_shape")) {
            return withoutBatch(lc.get("batch_shape"), what, "batch_shape");
        }
        if (lc.has("input_shape")) {
            JsonNode s = lc.get("input_shape");
            if (!s.isArray()) {
                throw new ModelLoadException(source + ": an input_shape is " + s + "; expected a list of sizes.");
            }
            int[] shape = new int[s.size()];
            for (int k = 0; k < shape.length; k++) {
                shape[k] = size(s, k, what, "input_shape");
            }
            return shape;
        }
        JsonNode build = spec.path("build_config").path("input_shape");
        if (build.isArray() && !build.isEmpty()) {
            return withoutBatch(build, what, "build_config's input_shape");
        }
        return null;
    }

    /** A shape [batch, sizes…] of {@code what}'s {@code field}, without the batch size (noted if fixed). */
    private int[] withoutBatch(JsonNode s, String what, String field) {
        if (s == null || !s.isArray() || s.isEmpty()) {
            throw new ModelLoadException(source + ", " + what + ": " + field + " is " + s + "; expected a list "
                    + "[batch, sizes…].");
        }
        int batch = size(s, 0, what, field);
        if (batch >= 1) {
            batchSizes.add(batch);
        } else {
            batchOpen = true;
        }
        int[] shape = new int[s.size() - 1];
        for (int k = 1; k < s.size(); k++) {
            shape[k - 1] = size(s, k, what, field);
        }
        return shape;
    }

    /** Size {@code k} of shape {@code s}: a whole number of at least 1, or -1 for null (any size). */
    private int size(JsonNode s, int k, String what, String field) {
        JsonNode d = s.get(k);
        if (d.isNull()) {
            return -1;
        }
        String where = source + ", " + what;
        int n = ConfigInts.read(d, where, field + " " + s + ", size " + k);
        if (n < 1) {
            throw new ModelLoadException(where + ": " + field + " " + s + " has size " + n + " at " + k
                    + "; expected a size of at least 1, or null for any size.");
        }
        return n;
    }
}
