package dev.rnnrt.io.keras;

import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.layers.MultiHeadAttention;
import dev.rnnrt.model.Model;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keras 3.8+'s MultiHeadAttention removes the masks from its query, value and key tensors while it
 * runs ({@code backend.set_keras_mask(query, None)}, …). A functional model hands the same tensor to
 * every layer that reads it, so a layer that runs later and reads that tensor's mask from the
 * tensor sees none: the residual {@code Add()([x, attention(x, x)])} of a transformer block, a
 * second attention layer reading the same encoder output. This rewires such a reader to a copy of
 * the tensor without its mask ({@link Removed}), for the readers Keras certainly runs after the
 * attention layer (those that depend on its output). Layers that give their input back at
 * inference (Dropout and the other no-ops, Activation('linear')) hand on the very same tensor, so
 * their outputs lose the mask with it. A reader that Keras may run before or after the attention
 * (neither depends on the other; Keras' order of execution decides) is refused, as is, in Keras
 * 3.8 and 3.9, a reader whose recorded mask argument Keras used while taking its output's mask from
 * the emptied tensor. In 3.8 and 3.9 a merge whose values do not depend on masks, read only by
 * layers saved with their mask argument (which Keras passes them explicitly), is left reading the
 * masked tensor: its readers compute with their recorded masks, as rnnrt's then gives them.
 */
final class AttentionMaskRemoval {

    private AttentionMaskRemoval() {
    }

    /** Whether Keras of this version removes MultiHeadAttention's input masks as it runs. */
    static boolean applies(KerasVersion v) {
        return v.major() > 3 || v.major() == 3 && v.minor() >= 8;
    }

    /**
     * The entries with every later reader of a masked attention input rewired to the input without
     * its mask; {@code nodes} itself when there is none.
     */
    static List<ConfigReader.Entry> rewire(String source, KerasVersion version, Model model,
                                           List<ConfigReader.Entry> nodes) {
        Map<String, ConfigReader.Entry> byCall = new LinkedHashMap<>();
        Map<String, List<ConfigReader.Entry>> readers = new LinkedHashMap<>();
        for (ConfigReader.Entry e : nodes) {
            byCall.put(e.callName(), e);
            for (String in : e.inputs()) {
                readers.computeIfAbsent(base(in), k -> new ArrayList<>()).add(e);
            }
        }
        // a pass-through layer's output is its input's very tensor: the root it aliases
        Map<String, String> root = new LinkedHashMap<>();
        for (ConfigReader.Entry e : nodes) {
            if (passesItsInputOn(e.layer())) {
                root.put(canonical(e.callName()), canonical(e.inputs().get(0)));
            }
        }
        Map<String, Set<String>> removedFor = new LinkedHashMap<>();   // reference -> calls that must read it unmasked
        for (ConfigReader.Entry m : nodes) {
            if (!(m.layer() instanceof MultiHeadAttention)) {
                continue;
            }
            Set<String> after = downstream(m.callName(), readers);
            for (String in : new HashSet<>(m.inputs())) {
                if (model.maskOrigin(in) == null) {
                    continue;
                }
                String tensor = rootOf(canonical(in), root);
                for (ConfigReader.Entry c : nodes) {
                    String read = null;
                    for (String r : c.inputs()) {
                        if (rootOf(canonical(r), root).equals(tensor)) {
                            read = r;
                        }
                    }
                    if (c == m || read == null) {
                        continue;
                    }
                    if (after.contains(c.callName())) {
                        boolean records = version.major() == 3 && version.minor() < 10;     // 3.8-3.9
                        if (records && c.kerasMasks() == null && recordedMasksDecide(c, readers, model)) {
                            continue;
                        }
                        if (records && c.kerasMasks() != null) {
                            throw new ModelLoadException(source + ": layer '" + c.callName() + "' reads '" + read
                                    + "' after MultiHeadAttention '" + m.callName() + "' has removed its mask (Keras "
                                    + version + " does so as the attention runs); Keras ran it with the mask its saved "
                                    + "call records but gave its output the emptied tensor's, which rnnrt does not "
                                    + "follow. Save the model with Keras 3.10 or later, or 3.7 or earlier.");
                        }
                        removedFor.computeIfAbsent(canonical(read), k -> new HashSet<>()).add(c.callName());
                    } else if (!downstream(c.callName(), readers).contains(m.callName())) {
                        throw new ModelLoadException(source + ": layer '" + c.callName() + "' and MultiHeadAttention '"
                                + m.callName() + "' both read the masked '" + base(tensor) + "', and neither depends on the "
                                + "other. Keras " + version + "'s MultiHeadAttention removes its inputs' masks as it "
                                + "runs, so whether '" + c.callName() + "' saw the mask depends on the order Keras ran "
                                + "them in, which rnnrt does not follow; the model is not loaded.");
                    }
                }
            }
        }
        if (removedFor.isEmpty()) {
            return nodes;
        }
        List<ConfigReader.Entry> out = new ArrayList<>();
        for (ConfigReader.Entry e : nodes) {
            List<String> inputs = new ArrayList<>();
            for (String in : e.inputs()) {
                Set<String> calls = removedFor.get(canonical(in));
                inputs.add(calls != null && calls.contains(e.callName()) ? removedName(canonical(in)) : in);
            }
            out.add(inputs.equals(e.inputs()) ? e : e.withInputs(inputs));
            for (String tensor : removedFor.keySet()) {
                if (canonical(e.callName() + "[" + index(tensor) + "]").equals(tensor)) {
                    Removed r = new Removed(removedName(tensor));
                    out.add(new ConfigReader.Entry(r, r.className(), r.name(), List.of(tensor), true));
                }
            }
        }
        return out;
    }

    /**
     * Keras 3.8-3.9: whether reading the tensor without its mask changes nothing that follows
     * {@code c}. True for a merge whose values do not depend on masks (Add, Subtract, Average,
     * Concatenate: only its output's mask would differ) when every layer reading its output was saved
     * with the mask argument that Keras 3.0-3.9 then passes it explicitly and computes with, and
     * passes no mask on (a pooling, a recurrent layer without return_sequences): the layers after
     * those see no mask either way. Not for MultiHeadAttention, which takes its query's mask from the
     * tensor whatever was recorded, nor for readers that pass a mask on (Keras builds it from the
     * emptied tensor). Their recorded masks are then checked against rnnrt's as usual.
     */
    private static boolean recordedMasksDecide(ConfigReader.Entry c, Map<String, List<ConfigReader.Entry>> readers,
                                               Model model) {
        if (!(c.layer() instanceof dev.rnnrt.layers.Merge merge) || merge.mode() == dev.rnnrt.layers.Merge.Mode.MULTIPLY
                || merge.mode() == dev.rnnrt.layers.Merge.Mode.MAXIMUM || merge.mode() == dev.rnnrt.layers.Merge.Mode.MINIMUM) {
            return false;
        }
        List<ConfigReader.Entry> next = readers.getOrDefault(c.callName(), List.of());
        if (next.isEmpty()) {
            return false;
        }
        for (ConfigReader.Entry r : next) {
            if (r.kerasMasks() == null || r.layer() instanceof MultiHeadAttention
                    || model.carriesMask(r.callName())) {
                return false;
            }
        }
        return true;
    }

    /** Layers that give their input tensor back at inference: Keras' no-ops and Activation('linear'). */
    private static boolean passesItsInputOn(Layer layer) {
        return layer instanceof dev.rnnrt.layers.InferenceNoOp
                || layer instanceof dev.rnnrt.layers.ActivationLayer a && a.isIdentity();
    }

    private static String rootOf(String ref, Map<String, String> root) {
        String r = ref;
        for (int guard = 0; root.containsKey(r) && guard < root.size(); guard++) {
            r = root.get(r);
        }
        return r;
    }

    /** The calls that depend on {@code call}'s outputs, directly or not. */
    private static Set<String> downstream(String call, Map<String, List<ConfigReader.Entry>> readers) {
        Set<String> seen = new HashSet<>();
        Deque<String> todo = new ArrayDeque<>(List.of(call));
        while (!todo.isEmpty()) {
            for (ConfigReader.Entry e : readers.getOrDefault(todo.pop(), List.of())) {
                if (seen.add(e.callName())) {
                    todo.push(e.callName());
                }
            }
        }
        return seen;
    }

    private static String base(String ref) {
        return ref.replaceAll("\\[\\d+]$", "");
    }

    private static int index(String canonicalRef) {
        return Integer.parseInt(canonicalRef.replaceAll("^.*\\[(\\d+)]$", "$1"));
    }

    /** "x" and "x[0]" name the same tensor: "x[0]". */
    private static String canonical(String ref) {
        return ref.matches(".*\\[\\d+]$") ? ref : ref + "[0]";
    }

    private static String removedName(String canonicalRef) {
        return base(canonicalRef) + "/mask_removed" + (index(canonicalRef) == 0 ? "" : "_from_output_" + index(canonicalRef));
    }

    /** The tensor without its mask: what later readers of an attention input get in Keras 3.8+. */
    static final class Removed extends Layer {

        Removed(String name) {
            super(name);
        }

        @Override
        public String className() {
            return "MaskRemoved";
        }

        @Override
        public List<int[]> outputShapes(List<int[]> inputShapes) {
            checkInputCount(inputShapes.size());
            return List.of(inputShapes.get(0).clone());
        }

        @Override
        public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
            return List.of(inputs.get(0));
        }

        @Override
        public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
            return Collections.singletonList(null);
        }

        @Override
        public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
            return List.of(false);
        }

        @Override
        public String describeOptions() {
            return "the mask Keras 3.8+'s MultiHeadAttention removed from its input";
        }
    }
}
