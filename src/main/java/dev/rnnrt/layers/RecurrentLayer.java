package dev.rnnrt.layers;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentCall;
import dev.rnnrt.backend.RecurrentResult;
import dev.rnnrt.backend.StackStage;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Collections;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A Keras recurrent layer: {@link SimpleRnn}, {@link Lstm} or {@link Gru}. This class holds
 * Keras' semantics (arguments, weights, states, masks, what is returned) and checks every
 * argument; the arithmetic is done by a {@link RecurrentBackend}, the CPU reference by default.
 *
 * <p>Weights are made on first use from the initializers (as Keras builds a layer on its first
 * call), by {@link #build(int)}, or set in Keras' layout with {@link #setWeights(List)}.
 *
 * <p>A layer that is not {@code stateful} is safe to call from several threads at once. Calls of
 * a stateful layer are serialised, since each call starts from the states the previous one left.
 */
public abstract class RecurrentLayer extends Layer {

    private final CellKind kind;
    private final int units;
    private final Activation activation;
    private final Activation recurrentActivation;
    private final boolean useBias;
    private final Initializer kernelInitializer;
    private final Initializer recurrentInitializer;
    private final Initializer biasInitializer;
    private final boolean returnSequences;
    private final boolean returnState;
    private final boolean goBackwards;
    private final boolean stateful;
    private final boolean timeMajor;
    private final boolean zeroOutputForMask;
    private final boolean maskedOutputIsState;
    private final double dropout;
    private final double recurrentDropout;
    private final RecurrentBackend backend;

    private volatile CellSpec cell; // null until built
    /**
     * Guarded by this; null until the first stateful call. Replaced by a new list of new tensors,
     * never written in place (backends must not modify their arguments), so {@link #saveStates()}
     * keeps the list itself.
     */
    private List<Tensor> statefulStates;

    RecurrentLayer(CellKind kind, RecurrentLayerBuilder<?> b, Activation recurrentActivation) {
        super(b.name != null ? b.name : defaultName(kind));
        this.kind = kind;
        if (b.units < 1) {
            throw new IllegalArgumentException(kind.kerasName() + ": units must be a positive integer; got "
                    + b.units + ".");
        }
        checkRate("dropout", b.dropout, kind);
        checkRate("recurrent_dropout", b.recurrentDropout, kind);
        this.units = b.units;
        this.activation = b.resolvedActivation();
        this.recurrentActivation = recurrentActivation;
        this.useBias = b.useBias;
        this.kernelInitializer = Objects.requireNonNull(b.kernelInitializer, "kernel_initializer");
        this.recurrentInitializer = Objects.requireNonNull(b.recurrentInitializer, "recurrent_initializer");
        this.biasInitializer = Objects.requireNonNull(b.biasInitializer, "bias_initializer");
        this.returnSequences = b.returnSequences;
        this.returnState = b.returnState;
        this.goBackwards = b.goBackwards;
        this.stateful = b.stateful;
        this.timeMajor = b.timeMajor;
        this.zeroOutputForMask = b.zeroOutputForMask;
        this.maskedOutputIsState = b.maskedOutputIsState;
        this.dropout = b.dropout;
        this.recurrentDropout = b.recurrentDropout;
        this.backend = Objects.requireNonNull(b.backend, "backend");
    }

    // ---- what subclasses decide -------------------------------------------------------------

    /** The bias shape: [G], or [2, G] for a GRU with reset_after. */
    abstract int[] biasShape();

    /** Makes the bias from the initializer; LSTM overrides it for unit_forget_bias. */
    float[] initialBias() {
        return initialValues("bias_initializer", biasInitializer(), biasShape());
    }

    /** GRU's reset_after; false for the other cells. */
    boolean resetAfter() {
        return false;
    }

    // ---- building and weights ----------------------------------------------------------------

    /**
     * Makes the weights from the initializers for inputs of {@code inputSize} features, as
     * Keras' {@code build} does. Does nothing if the layer already has weights for that size.
     *
     * @throws IllegalArgumentException if the layer already has weights for another input size
     */
    public synchronized void build(int inputSize) {
        if (inputSize < 1) {
            throw new IllegalArgumentException(describe() + ": the input must have at least one feature; got "
                    + inputSize + ".");
        }
        CellSpec current = cell;
        if (current != null) {
            if (current.inputSize() != inputSize) {
                throw new IllegalArgumentException(describe() + " was built for inputs of " + current.inputSize()
                        + " features; it cannot be rebuilt for " + inputSize + ".");
            }
            return;
        }
        int g = kind.gates() * units;
        Tensor kernel = Tensor.wrap(initialValues("kernel_initializer", kernelInitializer, inputSize, g), inputSize, g);
        Tensor recurrent = Tensor.wrap(initialValues("recurrent_initializer", recurrentInitializer, units, g), units, g);
        Tensor bias = useBias ? Tensor.wrap(initialBias(), biasShape()) : null;
        cell = spec(kernel, recurrent, bias);
    }

    /** Builds the layer for its input's features ({@link #build(int)}) unless it has weights or they are unknown. */
    @Override
    public void build(List<int[]> inputShapes) {
        int features = lastAxis(inputShapes);
        if (features >= 1 && !isBuilt()) {
            build(features);
        }
    }

    /** True once the layer has weights. */
    public boolean isBuilt() {
        return cell != null;
    }

    /**
     * Sets the weights in Keras' layout and order, as Keras' {@code set_weights}: kernel [I, G],
     * recurrent kernel [H, G] and, with {@code use_bias}, the bias ([G]; [2, G] for a GRU with
     * {@code reset_after}). G is 4H for LSTM (gates i, f, c, o), 3H for GRU (z, r, h), H for
     * SimpleRNN. The tensors are copied.
     *
     * @throws IllegalArgumentException naming the weight, its expected and actual shape
     */
    public synchronized void setWeights(List<Tensor> weights) {
        checkWeights(weights);
        Tensor bias = useBias ? weights.get(2) : null;
        cell = spec(copy(weights.get(0)), copy(weights.get(1)), bias == null ? null : copy(bias));
    }

    /**
     * Checks weights as {@link #setWeights} takes them, changing nothing: so that a layer made of
     * several recurrent layers (Bidirectional, a stack of cells) checks every part before it sets any.
     *
     * @throws IllegalArgumentException naming the weight, its expected and actual shape
     */
    synchronized void checkWeights(List<Tensor> weights) {
        int expectedCount = useBias ? 3 : 2;
        if (weights == null || weights.size() != expectedCount) {
            throw new IllegalArgumentException(describe() + " has " + expectedCount + " weights ("
                    + String.join(", ", weightNames()) + "); got " + (weights == null ? 0 : weights.size()) + ".");
        }
        Tensor kernel = weights.get(0);
        Tensor recurrent = weights.get(1);
        Tensor bias = useBias ? weights.get(2) : null;
        int g = kind.gates() * units;
        if (kernel == null || kernel.rank() != 2 || kernel.dim(1) != g || kernel.dim(0) < 1) {
            throw new IllegalArgumentException(describe() + ": weight 'kernel' must have shape [I, " + g
                    + "] (I = input features, " + kind.gates() + " x " + units + " units); got "
                    + shapeOf(kernel) + ".");
        }
        CellSpec current = cell;
        if (current != null && current.inputSize() != kernel.dim(0)) {
            throw new IllegalArgumentException(describe() + ": weight 'kernel' must have shape ["
                    + current.inputSize() + ", " + g + "] (the layer was built for " + current.inputSize()
                    + " input features); got " + shapeOf(kernel) + ".");
        }
        checkWeightShape("recurrent_kernel", recurrent, units, g);
        if (useBias) {
            checkWeightShape("bias", bias, biasShape());
        }
    }

    /** The weights in Keras' order ([kernel, recurrent_kernel, bias]); copies. Builds nothing. */
    public List<Tensor> getWeights() {
        CellSpec c = requireBuilt();
        List<Tensor> out = new ArrayList<>();
        out.add(copy(c.kernel()));
        out.add(copy(c.recurrentKernel()));
        if (c.bias() != null) {
            out.add(copy(c.bias()));
        }
        return out;
    }

    /** The Keras names of the weights, in order. */
    public List<String> weightNames() {
        return useBias ? List.of("kernel", "recurrent_kernel", "bias") : List.of("kernel", "recurrent_kernel");
    }

    // ---- calling -----------------------------------------------------------------------------

    /** Runs the layer on {@code inputs} with zero (or, if stateful, the carried) initial states and no mask. */
    public RecurrentOutput call(Tensor inputs) {
        return call(inputs, null, null);
    }

    /** Runs the layer with a mask and no initial state. */
    public RecurrentOutput call(Tensor inputs, Mask mask) {
        return call(inputs, null, mask);
    }

    /**
     * Runs the layer, as Keras' {@code layer(inputs, initial_state=..., mask=...)}.
     *
     * @param inputs       [batch, timesteps, features], or [timesteps, batch, features] with
     *                     {@code time_major}; not modified
     * @param initialState null for zeros (or the carried states of a stateful layer), else one
     *                     [batch, units] tensor per state: [h, c] for LSTM, [h] otherwise; not modified
     * @param mask         null, or [batch, timesteps] ([timesteps, batch] with {@code time_major}):
     *                     false skips a step; not modified
     * @return the output and final states; {@link RecurrentOutput#asList()} gives what Keras returns.
     *         They are the caller's: a stateful layer carries copies of the states into its next call
     *         (a call that throws changes no carried states)
     * @throws IllegalArgumentException naming the layer, the expected and the actual shape when an
     *                                  argument does not fit
     */
    public RecurrentOutput call(Tensor inputs, List<Tensor> initialState, Mask mask) {
        return run(inputs, initialState, mask, returnSequences, true);
    }

    /**
     * The step API: runs one timestep (x is [batch, features]) or a few (x is [batch, steps,
     * features]) from explicit states, and returns the output of each step with the new states.
     * Use it to decode step by step, feeding each output back as the next input. It neither reads
     * nor changes the carried states of a stateful layer.
     *
     * @param x      [batch, features] for one step, [batch, steps, features] for several; not modified
     * @param states the states to start from: [h, c] for LSTM, [h] otherwise, each [batch, units];
     *               null for zeros; not modified
     * @return output [batch, units] for one step or [batch, steps, units] (in processing order),
     *         and the states after the last step
     */
    public RecurrentOutput step(Tensor x, List<Tensor> states) {
        if (x == null || (x.rank() != 2 && x.rank() != 3)) {
            throw new IllegalArgumentException(describe() + ": step expects x [batch, features] for one step or "
                    + "[batch, steps, features] for several; got " + (x == null ? "null" : Tensor.shapeString(x.shape()))
                    + ".");
        }
        if (timeMajor) {
            throw new IllegalArgumentException(describe() + " is time_major; step takes batch-major input. "
                    + "Build the layer without timeMajor(true) to decode step by step.");
        }
        boolean single = x.rank() == 2;
        Tensor seq = single ? x.reshape(x.dim(0), 1, x.dim(1)) : x;
        RecurrentOutput out = run(seq, states, null, true, false);
        Tensor y = single ? out.output().reshape(x.dim(0), units) : out.output();
        return new RecurrentOutput(y, out.states(), true);
    }

    /**
     * @param sequences  return every step's output
     * @param useCarried a stateful layer reads and updates its carried states
     */
    private RecurrentOutput run(Tensor inputs, List<Tensor> initialState, Mask mask, boolean sequences,
                                boolean useCarried) {
        Call c = prepare(inputs, initialState, mask, sequences, useCarried);
        return locked(c, () -> {
            List<Tensor> from = start(c);
            return finish(c, from, backend.forward(c.spec, c.loop, c.x, c.mask, from));
        });
    }

    /**
     * Calls {@code first} and {@code second} on the same input, as {@link #call(Tensor, List, Mask)}
     * on each, and returns both outputs. When both run on one backend, the backend gets the two
     * calls together ({@link RecurrentBackend#forwardAll}), so that it may run them at once: the
     * two directions of a Bidirectional layer.
     */
    static RecurrentOutput[] callBoth(RecurrentLayer first, List<Tensor> firstState, RecurrentLayer second,
                                      List<Tensor> secondState, Tensor inputs, Mask mask) {
        if (first.backend != second.backend) {
            return new RecurrentOutput[] {first.call(inputs, firstState, mask), second.call(inputs, secondState, mask)};
        }
        Call a = first.prepare(inputs, firstState, mask, first.returnSequences, true);
        Call b = second.prepare(inputs, secondState, mask, second.returnSequences, true);
        // a stateful layer's carried states are read and replaced under its lock, first's before second's
        return first.locked(a, () -> second.locked(b, () -> {
            List<Tensor> fromA = first.start(a);
            List<Tensor> fromB = second.start(b);
            List<RecurrentResult> r = first.backend.forwardAll(List.of(
                    new RecurrentCall(a.spec, a.loop, a.x, a.mask, fromA),
                    new RecurrentCall(b.spec, b.loop, b.x, b.mask, fromB)));
            return new RecurrentOutput[] {first.finish(a, fromA, r.get(0)), second.finish(b, fromB, r.get(1))};
        }));
    }

    /**
     * This layer as a stage of a stack that its backend runs without returning to the host between
     * layers ({@link RecurrentBackend#forwardStack}), on inputs of {@code inputSize} features;
     * builds the weights on first use. Null when a call of this layer needs more than a stack
     * stage gives (carried states of a stateful layer, returned states, time-major input) or the
     * layer was built for another input size; the layer then runs on its own.
     */
    public StackStage.Recurrent stackStage(int inputSize) {
        if (!stackable()) {
            return null;
        }
        if (cell == null) {
            build(inputSize);
        }
        CellSpec spec = cell;
        if (spec.inputSize() != inputSize) {
            return null;
        }
        return new StackStage.Recurrent(spec, new LoopSpec(goBackwards, returnSequences, zeroOutputForMask));
    }

    /** Whether a call with zero initial states and only the output wanted can be a stack stage. */
    public boolean stackable() {
        return !stateful && !returnState && !timeMajor;
    }

    /** A checked call: what the backend gets, and whether it reads and replaces the carried states. */
    private record Call(CellSpec spec, LoopSpec loop, Tensor x, Mask mask,
                        List<Tensor> initialState, boolean carried, boolean sequences) {
    }

    /** Checks the arguments (naming the layer and the shapes) and builds the layer on first use. */
    private Call prepare(Tensor inputs, List<Tensor> initialState, Mask mask, boolean sequences, boolean useCarried) {
        if (inputs == null) {
            throw new IllegalArgumentException(describe() + ": inputs must not be null.");
        }
        String layout = timeMajor ? "[timesteps, batch, features]" : "[batch, timesteps, features]";
        if (inputs.rank() != 3) {
            throw new IllegalArgumentException(describe() + " expects input " + layout
                    + " (rank 3); got rank " + inputs.rank() + " " + shapeOf(inputs) + "."
                    + (inputs.rank() == 2 ? " A single sequence needs a batch axis: reshape it to [1, "
                            + inputs.dim(0) + ", " + inputs.dim(1) + "]." : ""));
        }
        Tensor x = timeMajor ? inputs.swapFirstAxes() : inputs;
        int batch = x.dim(0);
        int time = x.dim(1);
        int features = x.dim(2);
        if (batch < 1 || time < 1) {
            throw new IllegalArgumentException(describe() + " expects input " + layout
                    + " with at least one sequence and one timestep; got " + shapeOf(inputs) + ".");
        }
        // the output must fit a Java array: say so now, not after the whole loop has run
        valueCount(batch, sequences ? time : 1, units);
        CellSpec spec = cell;
        if (spec == null) {
            build(features);
            spec = cell;
        }
        if (features != spec.inputSize()) {
            String expected = timeMajor ? "[timesteps, batch, " + spec.inputSize() + "]"
                    : "[batch, timesteps, " + spec.inputSize() + "]";
            throw new IllegalArgumentException(describe() + " expects input " + expected + "; got "
                    + shapeOf(inputs) + ". Check the last axis of the input, or use the layer built for "
                    + features + " features.");
        }
        Mask m = null;
        if (mask != null) {
            int rows = timeMajor ? time : batch;
            int cols = timeMajor ? batch : time;
            if (mask.rows() != rows || mask.cols() != cols) {
                throw new IllegalArgumentException(describe() + ": the mask must have shape "
                        + (timeMajor ? "[timesteps, batch] = " : "[batch, timesteps] = ") + "[" + rows + ", " + cols
                        + "] to match input " + shapeOf(inputs) + "; got " + Tensor.shapeString(mask.shape()) + ".");
            }
            m = timeMajor ? mask.transpose() : mask;
        }
        if (initialState != null) {
            checkStates("initial_state", initialState, batch);
        }
        return new Call(spec, new LoopSpec(goBackwards, sequences, zeroOutputForMask), x, m, initialState,
                stateful && useCarried, sequences);
    }

    /** Runs {@code body} holding this layer's lock when the call reads and replaces its carried states. */
    private <T> T locked(Call c, Supplier<T> body) {
        if (!c.carried) {
            return body.get();
        }
        synchronized (this) {
            return body.get();
        }
    }

    /**
     * The states the call starts from: those given, else the carried ones of a stateful layer (under
     * its lock), else zeros.
     */
    private List<Tensor> start(Call c) {
        if (c.initialState != null) {
            return c.initialState;
        }
        int batch = c.x.dim(0);
        if (c.carried && statefulStates != null) {
            if (statefulStates.get(0).dim(0) != batch) {
                throw new IllegalArgumentException(describe() + " is stateful and holds states for a batch of "
                        + statefulStates.get(0).dim(0) + " sequences; got a batch of " + batch
                        + ". Call resetStates() to start again with another batch size.");
            }
            return statefulStates;
        }
        return zeroStates(batch);
    }

    /** The layer's output from the backend's result; a carried call keeps the final states. */
    private RecurrentOutput finish(Call c, List<Tensor> from, RecurrentResult result) {
        if (c.carried) {
            // the caller gets result's states: what it does with them must not change the next call's start
            List<Tensor> carried = new ArrayList<>();
            for (Tensor t : result.states()) {
                carried.add(copy(t));
            }
            statefulStates = List.copyOf(carried);
        }
        Tensor output = result.output();
        if (maskedOutputIsState && !zeroOutputForMask && c.mask != null) {
            stateBeforeFirstStep(c, from.get(0), output);
        }
        if (timeMajor && c.sequences) {
            output = output.swapFirstAxes();
        }
        return new RecurrentOutput(output, result.states(), returnState);
    }

    /**
     * {@link RecurrentLayerBuilder#maskedOutputIsState}: the masked steps of each sequence before its
     * first unmasked one (in processing order) output the initial state h, where the backend gave the
     * previous output, zeros; after that step the two are the same. The backend's output, [B, T, H]
     * or [B, H] batch-major, is changed in place.
     */
    private void stateBeforeFirstStep(Call c, Tensor h0, Tensor output) {
        int batch = c.x.dim(0);
        int time = c.x.dim(1);
        float[] h = h0.data();
        float[] out = output.data();
        for (int b = 0; b < batch; b++) {
            int first = 0;
            while (first < time && !c.mask.get(b, goBackwards ? time - 1 - first : first)) {
                first++;
            }
            if (c.sequences) {
                for (int p = 0; p < first; p++) {
                    System.arraycopy(h, b * units, out, (b * time + p) * units, units);
                }
            } else if (first == time) {
                System.arraycopy(h, b * units, out, b * units, units);
            }
        }
    }

    // ---- copies, as Keras' from_config(get_config()) ------------------------------------------

    /**
     * A new layer with this configuration and no weights, under {@code name}, with
     * {@code go_backwards} and {@code zero_output_for_mask} as given. Bidirectional makes its two
     * directions this way, as Keras recreates them from the wrapped layer's config.
     */
    final RecurrentLayer recreate(String name, boolean goBackwards, boolean zeroOutputForMask) {
        return recreate(name, new LoopOptions(returnSequences, returnState, goBackwards, stateful, zeroOutputForMask));
    }

    /**
     * A new layer with this cell's configuration (units, activations, initializers, bias, backend)
     * and no weights, under {@code name}, with the loop options given instead of this layer's.
     */
    abstract RecurrentLayer recreate(String name, LoopOptions loop);

    /** The options of a layer that decide how it loops and what it returns, not how its cell computes. */
    record LoopOptions(boolean returnSequences, boolean returnState, boolean goBackwards, boolean stateful,
                       boolean zeroOutputForMask) {
    }

    /** Copies the cell's configuration and the given loop options into {@code b}. */
    <S extends RecurrentLayerBuilder<S>> S copyInto(S b, String name, LoopOptions loop) {
        return b.name(name).activation(activation).useBias(useBias).kernelInitializer(kernelInitializer)
                .recurrentInitializer(recurrentInitializer).biasInitializer(biasInitializer)
                .returnSequences(loop.returnSequences()).returnState(loop.returnState())
                .goBackwards(loop.goBackwards()).stateful(loop.stateful()).timeMajor(timeMajor)
                .zeroOutputForMask(loop.zeroOutputForMask()).maskedOutputIsState(maskedOutputIsState).dropout(dropout)
                .recurrentDropout(recurrentDropout).backend(backend);
    }

    // ---- as a layer in a model -----------------------------------------------------------------

    /** Inputs: x [T, I], then optionally the initial states, each [H]. */
    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        if (timeMajor) {
            throw new IllegalArgumentException(describe() + " is time_major, but models are batch-major. "
                    + "Build the layer without timeMajor(true) to use it in a model.");
        }
        int[] x = inputShapes.get(0);
        checkRank(x, 2, "[batch, timesteps, features]");
        if (x[1] < 1) {
            throw new IllegalArgumentException(describe() + " needs a known number of input features; got "
                    + shapeText(x) + ".");
        }
        CellSpec spec = cell;
        if (spec != null && spec.inputSize() != x[1]) {
            throw new IllegalArgumentException(describe() + " expects input [batch, timesteps, " + spec.inputSize()
                    + "]; got " + shapeText(x) + ".");
        }
        if (inputShapes.size() > 1) {
            if (inputShapes.size() != 1 + kind.stateCount()) {
                throw new IllegalArgumentException(describe() + ": initial_state must be " + kind.stateCount()
                        + " tensor(s) of shape [batch, " + units + "]; got " + (inputShapes.size() - 1) + ".");
            }
            for (int k = 1; k < inputShapes.size(); k++) {
                int[] st = inputShapes.get(k);
                if (st.length != 1 || (st[0] >= 0 && st[0] != units)) {
                    throw new IllegalArgumentException(describe() + ": initial_state[" + (k - 1) + "] must have shape [batch, "
                            + units + "]; got " + shapeText(st) + ".");
                }
            }
        }
        List<int[]> out = new ArrayList<>();
        out.add(returnSequences ? new int[] {x[0], units} : new int[] {units});
        if (returnState) {
            for (int k = 0; k < kind.stateCount(); k++) {
                out.add(new int[] {units});
            }
        }
        return out;
    }

    /** Inputs: x, then optionally the initial states; the mask applies to x. Outputs as Keras returns them. */
    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        List<Tensor> states = inputs.size() > 1 ? inputs.subList(1, inputs.size()) : null;
        Mask mask = masks == null || masks.isEmpty() ? null : masks.get(0);
        return call(inputs.get(0), states, mask).asList();
    }

    /** The sequence output keeps x's mask with return_sequences (keras/src/layers/rnn/rnn.py, compute_mask); states carry none. */
    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        return rnnOutputMasks(returnSequences, masks, outputs.size());
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        return rnnOutputsMasked(returnSequences, inputsMasked, outputCount);
    }

    /** Keras' RNN.compute_mask: x's mask on the sequence output with return_sequences, none on the states. */
    static List<Mask> rnnOutputMasks(boolean returnSequences, List<Mask> masks, int outputCount) {
        List<Mask> out = new ArrayList<>(Collections.nCopies(outputCount, (Mask) null));
        if (returnSequences && masks != null && !masks.isEmpty()) {
            out.set(0, masks.get(0));
        }
        return out;
    }

    /** The static form of {@link #rnnOutputMasks}. */
    static List<Boolean> rnnOutputsMasked(boolean returnSequences, List<Boolean> inputsMasked, int outputCount) {
        List<Boolean> out = new ArrayList<>(Collections.nCopies(outputCount, false));
        out.set(0, returnSequences && !inputsMasked.isEmpty() && inputsMasked.get(0));
        return out;
    }

    @Override
    public int maxInputs() {
        return 1 + kind.stateCount();
    }

    @Override
    public long parameterCount() {
        CellSpec c = cell;
        if (c == null) {
            return 0;
        }
        return (long) c.kernel().size() + c.recurrentKernel().size() + (c.bias() == null ? 0 : c.bias().size());
    }

    @Override
    public boolean isStateful() {
        return stateful;
    }

    @Override
    public void resetState() {
        if (stateful) {
            resetStates();
        }
    }

    @Override
    public String describeOptions() {
        StringBuilder sb = new StringBuilder("units=" + units + ", activation=" + activation.kerasName());
        if (recurrentActivation != null) {
            sb.append(", recurrent_activation=").append(recurrentActivation.kerasName());
            if (recurrentActivation == Activation.HARD_SIGMOID_KERAS2) {
                sb.append(" (Keras 2)");
            } else if (recurrentActivation == Activation.HARD_SIGMOID_KERAS3) {
                sb.append(" (Keras 3)");
            }
        }
        if (kind == CellKind.GRU) {
            sb.append(", reset_after=").append(resetAfter() ? "True" : "False");
        }
        if (!useBias) {
            sb.append(", use_bias=False");
        }
        if (returnSequences) {
            sb.append(", return_sequences=True");
        }
        if (returnState) {
            sb.append(", return_state=True");
        }
        if (goBackwards) {
            sb.append(", go_backwards=True");
        }
        if (stateful) {
            sb.append(", stateful=True");
        }
        if (zeroOutputForMask) {
            sb.append(", zero_output_for_mask=True");
        }
        if (maskedOutputIsState) {
            sb.append(", masked steps output the state (Keras <= 2.2.4 on TensorFlow)");
        }
        return sb.toString();
    }

    // ---- stateful layers ---------------------------------------------------------------------

    /** Forgets the carried states of a stateful layer: the next call starts from zeros, with any batch size. */
    public synchronized void resetStates() {
        requireStateful("resetStates");
        statefulStates = null;
    }

    /**
     * Sets the carried states of a stateful layer, as Keras' {@code reset_states(states)}.
     *
     * @param states one [batch, units] tensor per state ([h, c] for LSTM); copied
     */
    public synchronized void resetStates(List<Tensor> states) {
        requireStateful("resetStates");
        if (states == null || states.isEmpty()) {
            throw new IllegalArgumentException(describe() + ": resetStates needs " + kind.stateCount()
                    + " state tensor(s) [batch, " + units + "]; got none. Use resetStates() for zeros.");
        }
        checkStates("states", states, states.get(0) == null ? -1 : states.get(0).dim(0));
        List<Tensor> copies = new ArrayList<>();
        for (Tensor s : states) {
            copies.add(copy(s));
        }
        statefulStates = List.copyOf(copies);
    }

    /** The carried states of a stateful layer as they are now, to put back after a failed call. */
    @Override
    public synchronized SavedStates saveStates() {
        if (!stateful) {
            return SavedStates.NONE;
        }
        List<Tensor> held = statefulStates;
        return () -> {
            synchronized (this) {
                statefulStates = held;
            }
        };
    }

    /** A stateful layer's lock guards its carried states. */
    @Override
    void addStateLocks(List<Layer> out) {
        if (stateful) {
            out.add(this);
        }
    }

    /** The states a stateful layer carries into its next call (copies); empty before its first call. */
    public synchronized List<Tensor> states() {
        requireStateful("states");
        List<Tensor> out = new ArrayList<>();
        if (statefulStates != null) {
            for (Tensor s : statefulStates) {
                out.add(copy(s));
            }
        }
        return out;
    }

    // ---- configuration, as Keras names it ----------------------------------------------------

    /** The Keras class name: "LSTM", "GRU" or "SimpleRNN". */
    @Override
    public String className() {
        return kind.kerasName();
    }

    public CellKind kind() {
        return kind;
    }

    public int units() {
        return units;
    }

    public Activation activation() {
        return activation;
    }

    public boolean useBias() {
        return useBias;
    }

    public boolean returnSequences() {
        return returnSequences;
    }

    public boolean returnState() {
        return returnState;
    }

    public boolean goBackwards() {
        return goBackwards;
    }

    public boolean stateful() {
        return stateful;
    }

    public boolean timeMajor() {
        return timeMajor;
    }

    /** {@link RecurrentLayerBuilder#maskedOutputIsState}. */
    public boolean maskedOutputIsState() {
        return maskedOutputIsState;
    }

    public boolean zeroOutputForMask() {
        return zeroOutputForMask;
    }

    /** Accepted for Keras compatibility; has no effect at inference. */
    public double dropout() {
        return dropout;
    }

    /** Accepted for Keras compatibility; has no effect at inference. */
    public double recurrentDropout() {
        return recurrentDropout;
    }

    public RecurrentBackend backend() {
        return backend;
    }

    Activation recurrentActivationOrNull() {
        return recurrentActivation;
    }

    Initializer biasInitializer() {
        return biasInitializer;
    }

    /** The number of state tensors: 2 for LSTM, 1 for GRU and SimpleRNN. */
    public int stateCount() {
        return kind.stateCount();
    }

    /** "Layer 'lstm' (LSTM, units=64)", the way messages name this layer. */
    @Override
    public String describe() {
        return "Layer '" + name() + "' (" + kind.kerasName() + ", units=" + units + ")";
    }

    // ---- helpers -----------------------------------------------------------------------------

    private CellSpec spec(Tensor kernel, Tensor recurrent, Tensor bias) {
        Activation rec = recurrentActivation != null ? recurrentActivation : Activation.LINEAR;
        return new CellSpec(kind, units, activation, rec, resetAfter(), kernel, recurrent, bias);
    }

    private CellSpec requireBuilt() {
        CellSpec c = cell;
        if (c == null) {
            throw new IllegalStateException(describe() + " has no weights yet: call build(inputSize), "
                    + "setWeights(...) or the layer itself first.");
        }
        return c;
    }

    private void requireStateful(String what) {
        if (!stateful) {
            throw new IllegalStateException(describe() + " is not stateful, so it carries no states; " + what
                    + " applies to layers built with stateful(true).");
        }
    }

    private void checkStates(String what, List<Tensor> states, int batch) {
        if (states.size() != kind.stateCount()) {
            String names = kind == CellKind.LSTM ? "[h, c]" : "[h]";
            throw new IllegalArgumentException(describe() + ": " + what + " must be " + kind.stateCount()
                    + " tensor(s) " + names + " of shape [batch, " + units + "]; got " + states.size() + ".");
        }
        for (int s = 0; s < states.size(); s++) {
            Tensor t = states.get(s);
            if (t == null || !t.hasShape(batch, units)) {
                throw new IllegalArgumentException(describe() + ": " + what + "[" + s + "] must have shape ["
                        + batch + ", " + units + "] (batch, units); got " + shapeOf(t) + ".");
            }
        }
    }

    private List<Tensor> zeroStates(int batch) {
        List<Tensor> zeros = new ArrayList<>();
        for (int s = 0; s < kind.stateCount(); s++) {
            zeros.add(Tensor.zeros(batch, units));
        }
        return zeros;
    }

    private static Tensor copy(Tensor t) {
        return Tensor.of(t.data(), t.shape());
    }

    private static String shapeOf(Tensor t) {
        return t == null ? "null" : Tensor.shapeString(t.shape());
    }

    private static void checkRate(String arg, double rate, CellKind kind) {
        if (!(rate >= 0.0 && rate <= 1.0)) {
            throw new IllegalArgumentException(kind.kerasName() + ": " + arg + " must be between 0 and 1; got "
                    + rate + ".");
        }
    }

    private static String defaultName(CellKind kind) {
        String base = switch (kind) {
            case SIMPLE_RNN -> "simple_rnn";
            case LSTM -> "lstm";
            case GRU -> "gru";
        };
        return uniqueName(base);
    }
}
