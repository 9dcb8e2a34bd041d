package dev.rnnrt.model;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.InputValueException;
import dev.rnnrt.layers.Layer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Keras model: a Sequential stack or a functional graph of layers, with named inputs and
 * ordered outputs. Built by {@link #sequential} or {@link #functional}, which check the graph.
 *
 * <p>{@link #predict} runs the whole model on a batch. Runs of stacked layers whose backend keeps
 * values on a device go to it as one call ({@link #stackedRuns()}). A model without stateful layers
 * is safe to call from several threads at once. With stateful layers, calls are serialised and each call
 * starts from the states the previous one left, until {@link #resetStates()}; a call that throws
 * leaves them as they were before it. A call holds its stateful layers' locks from start to end, so
 * that another model sharing one of them, or a direct call or reset of one, waits for it.
 */
public final class Model {

    /** The most values one Java array holds here, as {@code Layer.valueCount} counts them. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final String name;
    private final LinkedHashMap<String, int[]> inputs;
    private final List<Node> nodes;
    private final List<Ref> outputs;
    private final List<int[]> outputShapes;
    private final boolean stateful;
    /** The batch size the model is fixed to, or 0 for any. */
    private final int batchSize;
    /**
     * Whether node i leads to an output. As in Keras' Model(inputs, outputs), which holds only the
     * layers between them, the others do not run.
     */
    private final boolean[] needed;
    /** Runs of layers given to their backend as one stack call ({@link Stacks}), by first node. */
    private final Map<Integer, Stacks.Run> stacks;

    Model(String name, LinkedHashMap<String, int[]> inputs, List<Node> nodes, List<Ref> outputs,
          List<int[]> outputShapes, int batchSize) {
        this.name = name;
        this.batchSize = batchSize;
        this.inputs = inputs;
        this.nodes = List.copyOf(nodes);
        this.outputs = List.copyOf(outputs);
        this.outputShapes = List.copyOf(outputShapes);
        this.needed = needed(this.nodes, this.outputs);
        boolean s = false;
        for (int i = 0; i < this.nodes.size(); i++) {
            s |= needed[i] && this.nodes.get(i).layer().isStateful();     // a call that does not run carries nothing
        }
        this.stateful = s;
        this.stacks = Stacks.find(this.nodes, this.outputs);
    }

    /** A builder for a Sequential model: one input, layers applied in order. */
    public static SequentialBuilder sequential(String name) {
        return new SequentialBuilder(name);
    }

    /** A builder for a functional model (several inputs and outputs, shared states). */
    public static ModelBuilder functional(String name) {
        return new ModelBuilder(name);
    }

    public String name() {
        return name;
    }

    /** The input names, in order. */
    public List<String> inputNames() {
        return List.copyOf(inputs.keySet());
    }

    /** The input shapes without the batch axis (-1 = any size), in order; copies. */
    public List<int[]> inputShapes() {
        List<int[]> out = new ArrayList<>();
        for (int[] s : inputs.values()) {
            out.add(s.clone());
        }
        return out;
    }

    /** The output shapes without the batch axis (-1 = any size), in order; copies. */
    public List<int[]> outputShapes() {
        List<int[]> out = new ArrayList<>();
        for (int[] s : outputShapes) {
            out.add(s.clone());
        }
        return out;
    }

    /** The output references ("layer" or "layer[k]"), in order. */
    public List<String> outputNames() {
        List<String> out = new ArrayList<>();
        for (Ref r : outputs) {
            out.add(r.toString());
        }
        return out;
    }

    /** The layers, in the order they first run; a layer called more than once (shared) is listed once. */
    public List<Layer> layers() {
        List<Layer> out = new ArrayList<>();
        java.util.Set<Layer> seen = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Node n : nodes) {
            if (seen.add(n.layer())) {
                out.add(n.layer());
            }
        }
        return out;
    }

    /**
     * The names of the layer calls, in the order they run: each layer's name for its first call, and
     * for a shared layer's later calls the names they were given ({@link ModelBuilder#addCall}).
     */
    public List<String> callNames() {
        List<String> out = new ArrayList<>();
        for (Node n : nodes) {
            out.add(n.name());
        }
        return out;
    }

    /** The layer with this name. */
    public Layer layer(String layerName) {
        for (Node n : nodes) {
            if (n.layer().name().equals(layerName)) {
                return n.layer();
            }
        }
        List<String> names = new ArrayList<>();
        for (Layer l : layers()) {
            names.add(l.name());
        }
        throw new IllegalArgumentException("Model '" + name + "' has no layer '" + layerName + "'. Its layers: "
                + String.join(", ", names) + ".");
    }

    List<Node> nodes() {
        return nodes;
    }

    /**
     * Whether the value a reference names carries a mask in this model: "layer" (its output 0),
     * "layer[k]" (for a shared layer, of its first call; name a later call by its name), or a model
     * input (never masked).
     */
    public boolean carriesMask(String reference) {
        return maskOrigin(reference) != null;
    }

    /**
     * Where a mask stops at a layer that does not use it ({@link ModelBuilder#dropUnusedMasks}),
     * one line per layer call: which layer, and whose mask.
     */
    public List<String> masksDropped() {
        List<String> out = new ArrayList<>();
        for (Node n : nodes) {
            if (n.layer().supportsMasking()) {
                continue;
            }
            for (Ref r : n.inputs()) {
                String origin = inputs.containsKey(r.name()) ? null : maskOrigin(r.toString());
                if (origin != null) {
                    out.add(n.layer().describe() + (n.name().equals(n.layer().name()) ? "" : ", in its call '"
                            + n.name() + "',") + " does not use masks: the mask made by '" + origin + "' stops there, "
                            + "and the layer computes over the masked steps too");
                    break;
                }
            }
        }
        return out;
    }

    /**
     * The layer call that made the mask the value a reference names carries (a Masking or
     * Embedding(mask_zero) layer, or the first such of a merge's inputs), or null when it carries
     * none. References as in {@link #carriesMask}.
     */
    public String maskOrigin(String reference) {
        Ref r = Ref.parse(reference, "Model '" + name + "'");
        if (inputs.containsKey(r.name())) {
            return null;
        }
        for (Node n : nodes) {
            if (n.name().equals(r.name())) {
                if (r.index() >= n.outputsMasked().size()) {
                    throw new IllegalArgumentException("Layer '" + r.name() + "' has " + n.outputsMasked().size()
                            + " output(s); there is no '" + reference + "'.");
                }
                return n.maskOrigins().get(r.index());
            }
        }
        throw new IllegalArgumentException("Model '" + name + "' has no layer or layer call '" + r.name()
                + "'. Its calls: " + String.join(", ", callNames()) + ".");
    }

    /**
     * The runs of layers that {@link #predict} hands to their backend as one stack call, with their
     * values kept on the device between layers, each as "first..last" (layer names); empty when the
     * backend runs layers one by one (the CPU backends).
     */
    public List<String> stackedRuns() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            Stacks.Run run = stacks.get(i);
            if (run != null) {
                out.add(nodes.get(run.first()).name() + ".." + nodes.get(run.last()).name());
            }
        }
        return out;
    }

    /** The total number of weight values (a shared layer's once). */
    public long parameterCount() {
        long n = 0;
        java.util.Set<Layer> seen = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Layer layer : layers()) {
            n += parametersOnce(layer, seen);
        }
        return n;
    }

    /**
     * A layer's parameters unless counted already: a layer wrapped by TimeDistributed and also called
     * on its own shares its weights, which Keras counts once.
     */
    private static long parametersOnce(Layer layer, java.util.Set<Layer> seen) {
        if (!seen.add(layer)) {
            return 0;
        }
        if (layer instanceof dev.rnnrt.layers.TimeDistributed td) {
            return parametersOnce(td.inner(), seen);
        }
        return layer.parameterCount();
    }

    /** Whether some layer carries state between calls. */
    public boolean isStateful() {
        return stateful;
    }

    /**
     * The batch size the model is fixed to ({@link ModelBuilder#batchSize(int)}; a Keras file's
     * {@code batch_input_shape}), or empty for any. A stateful model takes exactly that many
     * sequences per call.
     */
    public java.util.OptionalInt fixedBatchSize() {
        return batchSize > 0 ? java.util.OptionalInt.of(batchSize) : java.util.OptionalInt.empty();
    }

    /** Forgets the states of every stateful layer. */
    public void resetStates() {
        synchronized (this) {
            for (Layer layer : layers()) {
                layer.resetState();
            }
        }
    }

    /** Runs a single-input, single-output model. */
    public Tensor predict(Tensor input) {
        if (inputs.size() != 1 || outputs.size() != 1) {
            throw new IllegalArgumentException("Model '" + name + "' has " + inputs.size() + " input(s) and "
                    + outputs.size() + " output(s); use predict(List) for it.");
        }
        return predict(java.util.Collections.singletonList(input)).get(0);
    }

    /**
     * Runs the model on one batch. When it throws, a stateful model's states are as they were
     * before the call, also where the failure came after some stateful layers had run.
     *
     * @param inputValues one tensor per model input, in {@link #inputNames()} order, each with the
     *                    batch axis first and the same batch size; not modified
     * @return one tensor per output, in order
     * @throws IllegalArgumentException naming the input, the expected and the actual shape
     */
    public List<Tensor> predict(List<Tensor> inputValues) {
        int batch = checkInputs(inputValues);
        if (batch == 0) {
            throw new IllegalArgumentException("Model '" + name + "': the inputs hold no sequences (batch of 0).");
        }
        if (stateful && batchSize > 0 && batch != batchSize) {
            throw new IllegalArgumentException("Model '" + name + "' is stateful with a fixed batch size of " + batchSize
                    + ": each call takes exactly " + batchSize + " sequences, and sequence i continues sequence i of "
                    + "the call before; got " + batch + ". Use predict(inputs, " + batchSize + ") to run them "
                    + batchSize + " at a time.");
        }
        if (stateful) {
            synchronized (this) {
                return Layer.SavedStates.restoringOnFailure(layers(), () -> run(inputValues));
            }
        }
        return run(inputValues);
    }

    /**
     * Runs the model over any number of sequences, {@code batchSize} at a time, and joins the
     * results, as Keras' {@code predict(x, batch_size)}. For a stateful model the chunks run in
     * order and each starts from the states the previous one left, as in Keras: every chunk then
     * holds {@code batchSize} sequences (N above it must be a multiple of it, as Keras 2's predict
     * requires; N below it runs as one batch), and with a {@linkplain #fixedBatchSize() fixed batch
     * size} {@code batchSize} must be that one and N a multiple of it. Those
     * conditions are checked before anything runs, and so is the size of each joined output: one of
     * 2^31 values or more, which no Java array holds, is refused (predict on parts of the input).
     * A layer's {@link InputValueException} gives the place of the value in the layer's input with
     * its batch axis counting all N sequences, as for one batch. When the call throws, a stateful
     * model's states are as they were before it, whichever chunk failed: the states the earlier
     * chunks advanced go back, so that a call with the input fixed gives what it would have given
     * without the failed one.
     *
     * @param inputValues one tensor per model input, each [N, ...] with the same N; not modified
     * @param batchSize   the most sequences per chunk, ≥ 1
     */
    public List<Tensor> predict(List<Tensor> inputValues, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("Model '" + name + "': batch size must be at least 1; got " + batchSize
                    + ".");
        }
        int n = checkInputs(inputValues);
        if (stateful && this.batchSize > 0 && batchSize != this.batchSize) {
            throw new IllegalArgumentException("Model '" + name + "' is stateful with a fixed batch size of "
                    + this.batchSize + " (sequence i of each batch continues sequence i of the one before); got batch "
                    + "size " + batchSize + ". Use predict(inputs, " + this.batchSize + ").");
        }
        if (stateful && this.batchSize > 0 && n % batchSize != 0) {
            throw new IllegalArgumentException("Model '" + name + "' is stateful with a fixed batch size of "
                    + batchSize + ": every batch holds " + batchSize + " sequences, so that sequence i of each continues "
                    + "sequence i of the one before, but " + n + " sequences are not a multiple of " + batchSize + ".");
        }
        if (stateful && n > batchSize && n % batchSize != 0) {
            throw new IllegalArgumentException("Model '" + name + "' is stateful: every batch must hold " + batchSize
                    + " sequences, so that sequence i of each continues sequence i of the one before, but " + n
                    + " sequences are not a multiple of " + batchSize + ". Pass a multiple of " + batchSize
                    + " sequences, or call it batch by batch.");
        }
        if (n <= batchSize) {
            return predict(inputValues);
        }
        checkJoinedOutputs(inputValues, n);
        if (stateful) {
            synchronized (this) {
                return Layer.SavedStates.restoringOnFailure(layers(), () -> runJoined(inputValues, n, batchSize));
            }
        }
        return runJoined(inputValues, n, batchSize);
    }

    /** The chunks in order, their outputs joined. */
    private List<Tensor> runJoined(List<Tensor> inputValues, int n, int batchSize) {
        List<List<Tensor>> parts = runChunks(inputValues, n, batchSize);
        List<Tensor> joined = new ArrayList<>();
        for (int o = 0; o < outputs.size(); o++) {
            List<Tensor> pieces = new ArrayList<>();
            for (List<Tensor> p : parts) {
                pieces.add(p.get(o));
            }
            joined.add(concatRows(pieces, o));
        }
        return joined;
    }

    /** A readable summary: each layer with its class, output shapes, parameters and options. */
    public String summary() {
        return Summary.of(this, nodes, inputs, outputs);
    }

    @Override
    public String toString() {
        return "Model '" + name + "' (" + layers().size() + " layers, " + parameterCount() + " parameters)";
    }

    // ---- running -------------------------------------------------------------------------------

    private List<List<Tensor>> runChunks(List<Tensor> inputValues, int n, int batchSize) {
        List<List<Tensor>> parts = new ArrayList<>();
        for (int start = 0; start < n; start += batchSize) {
            int end = Math.min(n, start + batchSize);
            List<Tensor> chunk = new ArrayList<>();
            for (Tensor t : inputValues) {
                chunk.add(rows(t, start, end));
            }
            try {
                parts.add(run(chunk));
            } catch (InputValueException e) {
                // the layer counted rows of this chunk; the caller gave all of them
                int[] at = e.position();
                at[0] += start;
                throw e.at("", at);
            }
        }
        return parts;
    }

    private static boolean[] needed(List<Node> nodes, List<Ref> outputs) {
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            index.put(nodes.get(i).name(), i);
        }
        boolean[] needed = new boolean[nodes.size()];
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>();
        for (Ref r : outputs) {
            todo.add(r.name());
        }
        while (!todo.isEmpty()) {
            Integer i = index.get(todo.poll());
            if (i != null && !needed[i]) {
                needed[i] = true;
                for (Ref r : nodes.get(i).inputs()) {
                    todo.add(r.name());
                }
            }
        }
        return needed;
    }

    private List<Tensor> run(List<Tensor> inputValues) {
        Map<String, List<Tensor>> values = new HashMap<>();
        Map<String, List<Mask>> masks = new HashMap<>();
        int k = 0;
        for (String in : inputs.keySet()) {
            values.put(in, List.of(inputValues.get(k++)));
            masks.put(in, Collections.singletonList(null));
        }
        for (int i = 0; i < nodes.size(); i++) {
            Node node = nodes.get(i);
            if (!needed[i]) {
                continue;
            }
            List<Tensor> in = new ArrayList<>();
            List<Mask> inMasks = new ArrayList<>();
            // a layer that does not use masks gets none: where one reaches it, the model drops it there
            // (dropUnusedMasks), and the layer computes over the masked steps too, as Keras does
            boolean usesMasks = node.layer().supportsMasking();
            List<Mask> callMasks = new ArrayList<>();
            for (Ref r : node.inputs()) {
                in.add(values.get(r.name()).get(r.index()));
                inMasks.add(usesMasks ? masks.get(r.name()).get(r.index()) : null);
                callMasks.add(node.computesUnmasked() ? null : inMasks.get(inMasks.size() - 1));
            }
            Stacks.Run run = stacks.get(i);
            Stacks.Result stacked = run == null ? null : Stacks.call(run, nodes, in.get(0), inMasks.get(0));
            if (stacked != null) {
                // only the run's last layer has readers
                String last = nodes.get(run.last()).name();
                values.put(last, List.of(stacked.output()));
                masks.put(last, Collections.singletonList(stacked.mask()));
                i = run.last();
                continue;
            }
            List<Tensor> out = node.layer().call(in, callMasks);
            values.put(node.name(), out);
            masks.put(node.name(), node.layer().outputMasks(in, inMasks, out));
        }
        List<Tensor> result = new ArrayList<>();
        for (Ref r : outputs) {
            result.add(values.get(r.name()).get(r.index()));
        }
        return result;
    }

    /** Checks count, ranks, known sizes and equal batch sizes; returns the batch size. */
    private int checkInputs(List<Tensor> inputValues) {
        if (inputValues == null || inputValues.size() != inputs.size()) {
            throw new IllegalArgumentException("Model '" + name + "' takes " + inputs.size() + " input(s) "
                    + inputs.keySet() + "; got " + (inputValues == null ? 0 : inputValues.size()) + ".");
        }
        int batch = -1;
        int k = 0;
        for (Map.Entry<String, int[]> in : inputs.entrySet()) {
            Tensor t = inputValues.get(k++);
            int[] expected = in.getValue();
            if (t == null) {
                throw new IllegalArgumentException("Model '" + name + "': input '" + in.getKey() + "' is null.");
            }
            boolean ok = t.rank() == expected.length + 1;
            for (int d = 0; ok && d < expected.length; d++) {
                ok = expected[d] < 0 || expected[d] == t.dim(d + 1);
            }
            if (!ok) {
                throw new IllegalArgumentException("Model '" + name + "': input '" + in.getKey() + "' must have shape "
                        + Layer.shapeText(expected) + "; got " + Arrays.toString(t.shape()) + ".");
            }
            if (batch >= 0 && t.dim(0) != batch) {
                throw new IllegalArgumentException("Model '" + name + "': every input needs the same batch size; input '"
                        + inputNames().get(0) + "' has " + batch + " sequences but '" + in.getKey() + "' has "
                        + t.dim(0) + ".");
            }
            batch = t.dim(0);
        }
        return batch;
    }

    /** t[start:end] along the batch axis. */
    private static Tensor rows(Tensor t, int start, int end) {
        int per = t.size() / Math.max(1, t.dim(0));
        int[] shape = t.shape();
        shape[0] = end - start;
        return Tensor.wrap(Arrays.copyOfRange(t.data(), start * per, end * per), shape);
    }

    /**
     * Refuses, before any chunk runs, outputs of {@code n} sequences that no Java array holds: each
     * chunk's output fits, but the joined one would not. The output shapes come from the layers'
     * shapes for these inputs; where a size is known only once the model runs, {@link #concatRows}
     * checks it.
     */
    private void checkJoinedOutputs(List<Tensor> inputValues, int n) {
        Map<String, List<int[]>> shapes = new HashMap<>();
        int k = 0;
        for (String in : inputs.keySet()) {
            int[] s = inputValues.get(k++).shape();
            shapes.put(in, List.of(Arrays.copyOfRange(s, 1, s.length)));
        }
        for (Node node : nodes) {
            List<int[]> in = new ArrayList<>();
            for (Ref r : node.inputs()) {
                in.add(shapes.get(r.name()).get(r.index()));
            }
            try {
                shapes.put(node.name(), node.layer().outputShapes(in));
            } catch (RuntimeException e) {
                return;     // the run itself says what does not fit, naming the layer
            }
        }
        for (int o = 0; o < outputs.size(); o++) {
            Ref r = outputs.get(o);
            int[] s = shapes.get(r.name()).get(r.index());
            long count = n;
            for (int d = 0; d < s.length && count <= MAX_ARRAY; d++) {
                count = s[d] < 0 ? 0 : count * s[d];     // a size known only when it runs: concatRows checks it
            }
            if (count > MAX_ARRAY) {
                int[] shape = new int[s.length + 1];
                shape[0] = n;
                System.arraycopy(s, 0, shape, 1, s.length);
                throw tooLarge(o, shape);
            }
        }
    }

    /** The error for a joined output of this shape (batch axis included), which no Java array holds. */
    private IllegalArgumentException tooLarge(int output, int[] shape) {
        return new IllegalArgumentException("Model '" + name + "': output " + output + " ('" + outputs.get(output)
                + "') of all " + shape[0] + " sequences joined has shape " + Arrays.toString(shape)
                + ", more values than a Java array holds (2^31 - 9). Split the input into smaller batches and call "
                + "predict on each (the command line writes its output batch by batch).");
    }

    private Tensor concatRows(List<Tensor> parts, int output) {
        int total = 0;
        long size = 0;
        for (Tensor p : parts) {
            total += p.dim(0);
            size += p.size();
        }
        if (size > MAX_ARRAY) {
            int[] shape = parts.get(0).shape();
            shape[0] = total;
            throw tooLarge(output, shape);
        }
        float[] out = new float[(int) size];
        int off = 0;
        for (Tensor p : parts) {
            System.arraycopy(p.data(), 0, out, off, p.size());
            off += p.size();
        }
        int[] shape = parts.get(0).shape();
        shape[0] = total;
        return Tensor.wrap(out, shape);
    }
}
