package dev.rnnrt.model;

import dev.rnnrt.layers.Layer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Builds a functional (graph) model: named inputs, layers that take references to inputs or to
 * other layers' outputs, and the outputs. References are {@code "name"} for the first output of
 * an input or layer and {@code "name[k]"} for output k. Layers may be added in any order.
 *
 * <pre>{@code
 * Model m = Model.functional("seq2seq")
 *     .input("encoder_inputs", -1, 8)
 *     .input("decoder_inputs", -1, 8)
 *     .add(encoder, "encoder_inputs")                                 // LSTM, return_state: [out, h, c]
 *     .add(decoder, "decoder_inputs", "encoder[1]", "encoder[2]")     // initial_state = [h, c]
 *     .add(head, "decoder")
 *     .outputs("head")
 *     .build();
 * }</pre>
 *
 * A layer used at more than one place (Keras' shared layers, e.g. one encoder applied to two
 * inputs) is added once with {@link #add} and called again with {@link #addCall}, under a name for
 * that call: the calls share the layer and its weights.
 *
 * <p>{@link #build()} checks the whole graph and fails with a message naming the layers involved:
 * a reference to nothing, a cycle, shapes that do not fit, a mask reaching a layer that cannot
 * take one. It builds layers without weights from their initializers.
 */
public final class ModelBuilder {

    private final String name;
    private final Map<String, int[]> inputs = new LinkedHashMap<>();
    /** Calls by name: each layer's first call under the layer's name, later calls under their own. */
    private final Map<String, Layer> layers = new LinkedHashMap<>();
    /** The layers given to {@link #add}, by identity. */
    private final Set<Layer> added = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    private final Map<String, List<String>> layerInputs = new HashMap<>();
    private final List<String> outputs = new ArrayList<>();
    private boolean dropUnusedMasks;
    private int batchSize;
    /** The calls that compute as though their inputs carried no masks ({@link #computeUnmasked}). */
    private final Set<String> unmaskedCalls = new java.util.HashSet<>();

    ModelBuilder(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    /**
     * Declares a model input.
     *
     * @param shape the shape without the batch axis; -1 for a size that may vary (Keras' None)
     */
    public ModelBuilder input(String inputName, int... shape) {
        checkNewName(inputName);
        for (int d : shape) {
            if (d == 0 || d < -1) {
                throw new IllegalArgumentException("Model '" + name + "': input '" + inputName + "' has shape "
                        + Layer.shapeText(shape) + "; sizes must be positive, or -1 for any size.");
            }
        }
        inputs.put(inputName, shape.clone());
        return this;
    }

    /**
     * Adds a layer fed by the given references: for a recurrent layer the first is its input and
     * the rest its initial states; for a merge layer, every input in order.
     */
    public ModelBuilder add(Layer layer, String... inputRefs) {
        Objects.requireNonNull(layer, "layer");
        if (added.contains(layer)) {
            throw new IllegalArgumentException("Model '" + name + "': " + layer.describe()
                    + " is added twice. To use a layer again (sharing its weights), call addCall(callName, layer, "
                    + "inputs...); for a second, independent layer, use a second layer object.");
        }
        checkNewName(layer.name());
        requireInputs(layer, inputRefs);
        added.add(layer);
        layers.put(layer.name(), layer);
        layerInputs.put(layer.name(), List.of(inputRefs));
        return this;
    }

    /**
     * Calls a layer again, sharing its weights: as Keras' calling one layer object on several inputs.
     * The layer must also be added with {@link #add} (its first call, under its own name); this call
     * is referred to as {@code callName} ("callName" or "callName[k]"). A stateful layer cannot be
     * called twice: its states would pass from one call into the other.
     */
    public ModelBuilder addCall(String callName, Layer layer, String... inputRefs) {
        Objects.requireNonNull(layer, "layer");
        checkNewName(callName);
        if (layer.isStateful()) {
            throw new IllegalArgumentException("Model '" + name + "': " + layer.describe() + " is stateful and "
                    + "cannot be called a second time ('" + callName + "'): each call would start from the states the "
                    + "other left. Use a second layer, or make it stateless.");
        }
        requireInputs(layer, inputRefs);
        layers.put(callName, layer);
        layerInputs.put(callName, List.of(inputRefs));
        return this;
    }

    private void requireInputs(Layer layer, String... inputRefs) {
        if (inputRefs == null || inputRefs.length == 0) {
            throw new IllegalArgumentException("Model '" + name + "': " + layer.describe()
                    + " is added without inputs; name the model input or layer it takes.");
        }
        for (int k = 0; k < inputRefs.length; k++) {
            if (inputRefs[k] == null) {
                throw new IllegalArgumentException("Model '" + name + "': " + layer.describe() + " is given a null "
                        + "input (number " + k + "); name the model input or layer it takes.");
            }
        }
    }

    /**
     * What to do with a mask that reaches a layer which does not use masks ({@link
     * Layer#supportsMasking()} false: Conv1D, the pooling layers but GlobalAveragePooling1D,
     * Flatten, Reshape, Permute, RepeatVector, …): refuse the model (false, the default, as
     * standalone Keras raised there), or stop the mask at that layer, which then computes over the
     * masked steps too (true, as tf.keras from 2.4 did silently and Keras 3 does with a warning).
     * {@link Model#masksDropped()} lists where that happens. Layers that would use a mask in a way
     * rnnrt does not follow ({@link Layer#kerasDropsMask()} false) are refused either way.
     */
    public ModelBuilder dropUnusedMasks(boolean drop) {
        this.dropUnusedMasks = drop;
        return this;
    }

    /**
     * Makes one call of a layer compute as though its inputs carried no masks, while its outputs
     * still carry the masks the layer passes on from them. This is what Keras 3 does when a recurrent
     * layer (or Bidirectional, or RNN around stacked cells) is called with {@code initial_state} and
     * no {@code mask=...}: it passes a layer its input's mask by itself only when the call has one
     * tensor argument, so every step is computed, but it still sets the first input's mask on the
     * outputs for the layers after. Keras 2 and tf.keras pass the mask there; so do other calls here.
     *
     * @param callName the layer's name for its first call, or the name given to {@link #addCall}
     */
    public ModelBuilder computeUnmasked(String callName) {
        if (callName == null || callName.isBlank()) {
            throw new IllegalArgumentException("Model '" + name + "': computeUnmasked needs the name of a layer call.");
        }
        unmaskedCalls.add(callName);
        return this;
    }

    /**
     * Fixes the batch size, as Keras' {@code Input(batch_size=...)} or {@code batch_input_shape}
     * do. A stateful model then takes exactly this many sequences per call, and
     * {@code predict(inputs, batchSize)} runs them this many at a time, so that sequence i of each
     * batch continues sequence i of the one before. Models without stateful layers take any batch
     * size, since their sequences do not depend on each other.
     *
     * @param batchSize at least 1
     */
    public ModelBuilder batchSize(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("Model '" + name + "': the batch size must be at least 1; got "
                    + batchSize + ".");
        }
        this.batchSize = batchSize;
        return this;
    }

    /** The model's outputs, in order. */
    public ModelBuilder outputs(String... refs) {
        for (int k = 0; k < refs.length; k++) {
            if (refs[k] == null) {
                throw new IllegalArgumentException("Model '" + name + "': output number " + k + " is null; name a "
                        + "layer (\"layer\" or \"layer[k]\") or an input.");
            }
        }
        outputs.addAll(List.of(refs));
        return this;
    }

    /** Checks and builds the model. */
    public Model build() {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("Model '" + name + "' has no inputs; declare them with input(name, shape).");
        }
        if (outputs.isEmpty()) {
            throw new IllegalArgumentException("Model '" + name + "' has no outputs; name them with outputs(...).");
        }
        Map<String, List<Ref>> refs = new HashMap<>();
        for (Map.Entry<String, List<String>> e : layerInputs.entrySet()) {
            List<Ref> r = new ArrayList<>();
            for (String text : e.getValue()) {
                Ref ref = Ref.parse(text, layers.get(e.getKey()).describe());
                requireKnown(ref, "Layer '" + e.getKey() + "' takes input '" + text + "'");
                r.add(ref);
            }
            refs.put(e.getKey(), r);
        }
        List<Ref> outputRefs = new ArrayList<>();
        for (String text : outputs) {
            Ref ref = Ref.parse(text, "Model '" + name + "' output");
            requireKnown(ref, "Model '" + name + "' has output '" + text + "'");
            outputRefs.add(ref);
        }

        for (Map.Entry<String, Layer> call : layers.entrySet()) {
            if (!added.contains(call.getValue())) {
                throw new IllegalArgumentException("Model '" + name + "': '" + call.getKey() + "' calls "
                        + call.getValue().describe() + ", which is not in the model; add its first call with add(layer, "
                        + "inputs...) before calling it again with addCall.");
            }
        }
        for (String call : unmaskedCalls) {
            if (!layers.containsKey(call)) {
                throw new IllegalArgumentException("Model '" + name + "': computeUnmasked names '" + call + "', which is "
                        + "not a layer call of the model. Known calls: " + String.join(", ", layers.keySet()) + ".");
            }
        }
        List<String> order = topologicalOrder(refs);

        // Shapes and masks, in order.
        Map<String, List<int[]>> shapes = new HashMap<>();
        Map<String, List<Boolean>> masked = new HashMap<>();
        Map<String, List<String>> maskOrigin = new HashMap<>();
        for (Map.Entry<String, int[]> in : inputs.entrySet()) {
            shapes.put(in.getKey(), List.of(in.getValue()));
            masked.put(in.getKey(), List.of(false));
            maskOrigin.put(in.getKey(), java.util.Collections.singletonList(null));
        }
        List<Node> nodes = new ArrayList<>();
        for (String layerName : order) {
            Layer layer = layers.get(layerName);
            List<Ref> in = refs.get(layerName);
            String who = layerName.equals(layer.name()) ? layer.describe()
                    : layer.describe() + ", in its call '" + layerName + "',";
            List<int[]> inShapes = new ArrayList<>();
            List<Boolean> inMasked = new ArrayList<>();
            String origin = null;
            for (Ref r : in) {
                List<int[]> produced = shapes.get(r.name());
                if (r.index() >= produced.size()) {
                    throw new IllegalArgumentException(who + " takes '" + r + "', but '" + r.name()
                            + "' has " + produced.size() + " output(s) (0 to " + (produced.size() - 1) + ").");
                }
                inShapes.add(produced.get(r.index()));
                boolean m = masked.get(r.name()).get(r.index());
                inMasked.add(m);
                if (m && origin == null) {
                    origin = maskOrigin.get(r.name()).get(r.index());
                }
            }
            if (origin != null && !layer.supportsMasking() && !(dropUnusedMasks && layer.kerasDropsMask())) {
                throw new IllegalArgumentException(who + " does not support masking, but its input "
                        + "carries the mask made by layer '" + origin + "'. Remove the mask there, or put a layer "
                        + "that drops it (a recurrent layer without return_sequences) before '" + layerName + "'.");
            }
            if (in.size() < layer.minInputs() || in.size() > layer.maxInputs()) {
                throw new IllegalArgumentException(who + " takes " + layer.minInputs()
                        + (layer.maxInputs() == layer.minInputs() ? "" : " to "
                        + (layer.maxInputs() == Integer.MAX_VALUE ? "any number of" : Integer.toString(layer.maxInputs())))
                        + " input(s); it is given " + in.size() + ": " + in + ".");
            }
            List<int[]> outShapes;
            try {
                outShapes = layer.outputShapes(inShapes);
                layer.build(inShapes);        // missing weights from the initializers, as Keras' build
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(e.getMessage() + " ("
                        + (layerName.equals(layer.name()) ? "" : "in its call '" + layerName + "', ")
                        + describeSources(in, inShapes) + ")", e);
            }
            List<Boolean> outMasked = layer.outputsMasked(inMasked, outShapes.size());
            List<String> outOrigin = new ArrayList<>();
            for (boolean m : outMasked) {
                // Masking and Embedding(mask_zero) make a mask of their own, whatever came in
                outOrigin.add(m ? (origin != null && !layer.makesMask() ? origin : layerName) : null);
            }
            shapes.put(layerName, outShapes);
            masked.put(layerName, outMasked);
            maskOrigin.put(layerName, outOrigin);
            nodes.add(new Node(layerName, layer, List.copyOf(in), List.copyOf(outShapes), List.copyOf(outMasked),
                    java.util.Collections.unmodifiableList(outOrigin), unmaskedCalls.contains(layerName)));
        }
        for (Ref r : outputRefs) {
            List<int[]> produced = shapes.get(r.name());
            if (r.index() >= produced.size()) {
                throw new IllegalArgumentException("Model '" + name + "' has output '" + r + "', but '" + r.name()
                        + "' has " + produced.size() + " output(s).");
            }
        }
        List<int[]> outputShapes = new ArrayList<>();
        for (Ref r : outputRefs) {
            outputShapes.add(shapes.get(r.name()).get(r.index()));
        }
        return new Model(name, new LinkedHashMap<>(inputs), nodes, outputRefs, outputShapes, batchSize);
    }

    private void checkNewName(String n) {
        if (n == null || n.isBlank()) {
            throw new IllegalArgumentException("Model '" + name + "': a name must not be empty.");
        }
        if (inputs.containsKey(n) || layers.containsKey(n)) {
            throw new IllegalArgumentException("Model '" + name + "' already has an input or layer named '" + n
                    + "'. Names must be unique within a model.");
        }
        if (n.contains("[") || n.contains("]")) {
            throw new IllegalArgumentException("Model '" + name + "': the name '" + n
                    + "' contains brackets, which references use for output numbers.");
        }
    }

    private void requireKnown(Ref ref, String what) {
        if (!inputs.containsKey(ref.name()) && !layers.containsKey(ref.name())) {
            List<String> known = new ArrayList<>(inputs.keySet());
            known.addAll(layers.keySet());
            throw new IllegalArgumentException(what + ", which is neither an input nor a layer of model '" + name
                    + "'. Known names: " + String.join(", ", known) + ".");
        }
    }

    /**
     * Kahn's algorithm, taking among the calls ready to run the one declared first, so that a graph
     * declared in an order it can run in runs in that order (a branch's layers one after another,
     * which lets {@link Stacks} find their runs); on a cycle, names the layers on it.
     */
    private List<String> topologicalOrder(Map<String, List<Ref>> refs) {
        Map<String, Integer> declared = new HashMap<>();
        for (String n : layers.keySet()) {
            declared.put(n, declared.size());
        }
        Map<String, Integer> pending = new LinkedHashMap<>();
        Map<String, List<String>> consumers = new HashMap<>();
        for (String layerName : layers.keySet()) {
            int n = 0;
            for (Ref r : refs.get(layerName)) {
                if (layers.containsKey(r.name())) {
                    n++;
                    consumers.computeIfAbsent(r.name(), k -> new ArrayList<>()).add(layerName);
                }
            }
            pending.put(layerName, n);
        }
        java.util.PriorityQueue<String> ready = new java.util.PriorityQueue<>(java.util.Comparator.comparing(declared::get));
        pending.forEach((k, v) -> {
            if (v == 0) {
                ready.add(k);
            }
        });
        List<String> order = new ArrayList<>();
        while (!ready.isEmpty()) {
            String n = ready.poll();
            order.add(n);
            for (String c : consumers.getOrDefault(n, List.of())) {
                if (pending.merge(c, -1, Integer::sum) == 0) {
                    ready.add(c);
                }
            }
        }
        if (order.size() < layers.size()) {
            throw new IllegalArgumentException("Model '" + name + "' has a cycle: " + findCycle(refs, new HashSet<>(order))
                    + ". A layer cannot take its own output, directly or through other layers.");
        }
        return order;
    }

    private String findCycle(Map<String, List<Ref>> refs, Set<String> acyclic) {
        for (String start : layers.keySet()) {
            if (acyclic.contains(start)) {
                continue;
            }
            // Walk producers from a layer left over by Kahn's algorithm until a name repeats.
            List<String> path = new ArrayList<>();
            String current = start;
            while (!path.contains(current)) {
                path.add(current);
                String next = null;
                for (Ref r : refs.get(current)) {
                    if (layers.containsKey(r.name()) && !acyclic.contains(r.name())) {
                        next = r.name();
                        break;
                    }
                }
                if (next == null) {
                    break;
                }
                current = next;
            }
            int from = path.indexOf(current);
            if (from >= 0) {
                List<String> cycle = new ArrayList<>(path.subList(from, path.size()));
                java.util.Collections.reverse(cycle);
                cycle.add(cycle.get(0));
                StringBuilder sb = new StringBuilder();
                for (String c : cycle) {
                    if (sb.length() > 0) {
                        sb.append(" -> ");
                    }
                    sb.append('\'').append(c).append('\'');
                }
                return sb.toString();
            }
        }
        return "(among " + layers.keySet() + ")";
    }

    private static String describeSources(List<Ref> in, List<int[]> shapes) {
        StringBuilder sb = new StringBuilder("its input");
        sb.append(in.size() == 1 ? " is " : "s are ");
        for (int k = 0; k < in.size(); k++) {
            if (k > 0) {
                sb.append(", ");
            }
            sb.append('\'').append(in.get(k)).append("' ").append(Layer.shapeText(shapes.get(k)));
        }
        return sb.toString();
    }
}
