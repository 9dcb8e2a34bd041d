package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.StackStage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Keras {@code Bidirectional(layer, merge_mode, backward_layer)} (keras/src/layers/rnn/bidirectional.py).
 *
 * <ul>
 *   <li>Both directions are made from the wrapped layer's configuration, named
 *       "forward_&lt;name&gt;" and "backward_&lt;name&gt;" (a name that already starts so keeps
 *       its prefix once, as Keras 3 names them: its files save the forward layer as
 *       "forward_lstm"); the backward one has {@code go_backwards} flipped, unless an explicit
 *       backward layer is given (it must have the opposite {@code go_backwards} and the same
 *       return modes; it is named "backward_&lt;its name&gt;", or its own name where that starts
 *       with "backward_").</li>
 *   <li>Both get {@code zero_output_for_mask = return_sequences}, as tf.keras and Keras 3 force
 *       (masked steps of the sequence output are zeros); standalone Keras up to 2.3 did not (each
 *       direction keeps its own, false: a masked step repeats the previous output), see
 *       {@link #of(String, RecurrentLayer, MergeMode, RecurrentLayer, boolean)}.</li>
 *   <li>The backward sequence output is reversed back to input time before merging.</li>
 *   <li>{@code merge_mode}: concat [fwd, bwd] on the last axis (default), sum, mul, ave, or
 *       none (both outputs, in that order).</li>
 *   <li>{@code initial_state} is split in half, forward states first (refused where the two
 *       layers have different numbers of states, which no half split fits); returned states come
 *       forward first, then backward.</li>
 * </ul>
 * Weights are ordered as Keras orders them: the forward layer's, then the backward layer's.
 *
 * <p>The layers passed in are not run themselves: both directions are new layers made from their
 * configuration, as Keras recreates them, and take the passed layers' weights where those have
 * some at that moment. Weights set on a passed layer afterwards do not reach this one: set them
 * with {@link #setWeights}, or on {@link #forwardLayer()} and {@link #backwardLayer()}.
 */
public final class Bidirectional extends Layer {

    /** Keras' {@code merge_mode}. */
    public enum MergeMode {
        CONCAT("concat"), SUM("sum"), MUL("mul"), AVE("ave"), NONE("None");

        private final String kerasName;

        MergeMode(String kerasName) {
            this.kerasName = kerasName;
        }

        /** The name in a Keras config ("concat", …; null or "None" for NONE). */
        public String kerasName() {
            return kerasName;
        }

        /** The mode a Keras config names; null means NONE. */
        public static MergeMode named(String name) {
            if (name == null || name.equalsIgnoreCase("none")) {
                return NONE;
            }
            for (MergeMode m : values()) {
                if (m.kerasName.equals(name)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("Unknown Bidirectional merge_mode '" + name
                    + "'. Supported: concat, sum, mul, ave, None.");
        }
    }

    private final RecurrentLayer forward;
    private final RecurrentLayer backward;
    private final MergeMode mergeMode;

    private Bidirectional(String name, RecurrentLayer layer, MergeMode mergeMode, RecurrentLayer backwardLayer,
                          boolean forceZeroOutputForMask) {
        super(name != null ? name : uniqueName("bidirectional"));
        Objects.requireNonNull(layer, "layer");
        this.mergeMode = Objects.requireNonNull(mergeMode, "merge_mode");
        boolean seq = layer.returnSequences();
        this.forward = layer.recreate(directionName("forward_", layer.name()), layer.goBackwards(),
                forceZeroOutputForMask ? seq : layer.zeroOutputForMask());
        if (backwardLayer == null) {
            this.backward = layer.recreate(directionName("backward_", layer.name()), !layer.goBackwards(),
                    forceZeroOutputForMask ? seq : layer.zeroOutputForMask());
        } else {
            check(layer, backwardLayer, mergeMode);
            this.backward = backwardLayer.recreate(directionName("backward_", backwardLayer.name()),
                    backwardLayer.goBackwards(), forceZeroOutputForMask ? seq : backwardLayer.zeroOutputForMask());
            copyWeightsIfBuilt(backwardLayer, backward);
        }
        copyWeightsIfBuilt(layer, forward);
    }

    /** {@code Bidirectional(layer)} with merge_mode concat. */
    public static Bidirectional of(RecurrentLayer layer) {
        return new Bidirectional(null, layer, MergeMode.CONCAT, null, true);
    }

    /** {@code Bidirectional(layer, merge_mode)}. */
    public static Bidirectional of(RecurrentLayer layer, MergeMode mergeMode) {
        return new Bidirectional(null, layer, mergeMode, null, true);
    }

    /**
     * {@code Bidirectional(layer, merge_mode, backward_layer)}, named.
     *
     * @param name          null for "bidirectional", "bidirectional_1", …
     * @param backwardLayer null to derive it from {@code layer}
     */
    public static Bidirectional of(String name, RecurrentLayer layer, MergeMode mergeMode, RecurrentLayer backwardLayer) {
        return new Bidirectional(name, layer, mergeMode, backwardLayer, true);
    }

    /**
     * As {@link #of(String, RecurrentLayer, MergeMode, RecurrentLayer)}; with
     * {@code forceZeroOutputForMask} false, both directions keep the wrapped layers' own
     * {@code zero_output_for_mask} instead of taking {@code return_sequences}, as standalone Keras
     * up to 2.3 did ({@link dev.rnnrt.api.KerasVersion#bidirectionalZeroesMaskedOutputs()}).
     */
    public static Bidirectional of(String name, RecurrentLayer layer, MergeMode mergeMode, RecurrentLayer backwardLayer,
                                   boolean forceZeroOutputForMask) {
        return new Bidirectional(name, layer, mergeMode, backwardLayer, forceZeroOutputForMask);
    }

    /** The forward direction (its weights can be set on it directly). */
    public RecurrentLayer forwardLayer() {
        return forward;
    }

    /** The backward direction. */
    public RecurrentLayer backwardLayer() {
        return backward;
    }

    public MergeMode mergeMode() {
        return mergeMode;
    }

    @Override
    public String className() {
        return "Bidirectional";
    }

    /** Builds both directions for the input's features ({@link #build(int)}) where they are known. */
    @Override
    public void build(List<int[]> inputShapes) {
        int features = lastAxis(inputShapes);
        if (features >= 1) {
            build(features);
        }
    }

    /** Builds both directions for inputs of {@code inputSize} features. */
    public void build(int inputSize) {
        forward.build(inputSize);
        backward.build(inputSize);
    }

    /**
     * Forward weights, then backward weights, each in its layer's Keras order; copied. Every weight
     * is checked before any is set (a bad one changes nothing), and both kernels must read the same
     * number of input features, since both directions read the same input.
     *
     * @throws IllegalArgumentException naming the layer, the weight, its expected and actual shape
     */
    public void setWeights(List<Tensor> weights) {
        int nf = forward.weightNames().size();
        int nb = backward.weightNames().size();
        if (weights == null || weights.size() != nf + nb) {
            throw new IllegalArgumentException(describe() + " has " + (nf + nb) + " weights (forward "
                    + forward.weightNames() + ", then backward " + backward.weightNames() + "); got "
                    + (weights == null ? 0 : weights.size()) + ".");
        }
        List<Tensor> f = weights.subList(0, nf);
        List<Tensor> b = weights.subList(nf, nf + nb);
        forward.checkWeights(f);
        backward.checkWeights(b);
        checkSameInput(this, f.get(0), b.get(0));
        forward.setWeights(f);
        backward.setWeights(b);
    }

    /**
     * A direction's name: {@code prefix} ("forward_", "backward_") and {@code name} without that
     * prefix, as Keras 3's Bidirectional names the layers it runs. Keras 3 saves them so named
     * ("forward_rnn", "backward_rnn") and reads "forward_rnn" back as "forward_rnn", not
     * "forward_forward_rnn"; a name without the prefix gets it, as in tf.keras.
     */
    static String directionName(String prefix, String name) {
        return prefix + (name.startsWith(prefix) ? name.substring(prefix.length()) : name);
    }

    /** Both directions read the same input: their (checked, rank 2) first kernels must read as many features. */
    static void checkSameInput(Layer layer, Tensor forwardKernel, Tensor backwardKernel) {
        if (forwardKernel.dim(0) != backwardKernel.dim(0)) {
            throw new IllegalArgumentException(layer.describe() + ": both directions read the same input, so the "
                    + "backward weight 'kernel' must have shape [" + forwardKernel.dim(0) + ", " + backwardKernel.dim(1)
                    + "] (the forward kernel " + Tensor.shapeString(forwardKernel.shape()) + " reads "
                    + forwardKernel.dim(0) + " input features); got " + Tensor.shapeString(backwardKernel.shape()) + ".");
        }
    }

    /** Forward weights, then backward weights (copies). */
    public List<Tensor> getWeights() {
        List<Tensor> w = new ArrayList<>(forward.getWeights());
        w.addAll(backward.getWeights());
        return w;
    }

    @Override
    public int maxInputs() {
        return 1 + forward.stateCount() + backward.stateCount();
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        List<int[]> fIn = new ArrayList<>();
        List<int[]> bIn = new ArrayList<>();
        fIn.add(inputShapes.get(0));
        bIn.add(inputShapes.get(0));
        if (inputShapes.size() > 1) {
            checkStates(inputShapes.size() - 1);
            int half = forward.stateCount();
            fIn.addAll(inputShapes.subList(1, 1 + half));
            bIn.addAll(inputShapes.subList(1 + half, inputShapes.size()));
        }
        return mergedShapes(forward.outputShapes(fIn), backward.outputShapes(bIn), mergeMode);
    }

    /**
     * The output shapes of the two directions' outputs {@code f} and {@code b} (sequence or last
     * step, then states): the merged output (both with merge_mode None), then forward's states,
     * then backward's.
     */
    static List<int[]> mergedShapes(List<int[]> f, List<int[]> b, MergeMode mergeMode) {
        List<int[]> out = new ArrayList<>();
        int[] y = f.get(0).clone();
        if (mergeMode == MergeMode.CONCAT) {
            y[y.length - 1] = f.get(0)[y.length - 1] + b.get(0)[y.length - 1];
        }
        out.add(y);
        if (mergeMode == MergeMode.NONE) {
            out.add(b.get(0).clone());
        }
        out.addAll(f.subList(1, f.size()));
        out.addAll(b.subList(1, b.size()));
        return out;
    }

    /**
     * The layer's outputs from the two directions' ({@code f}, {@code b}: output, then the states
     * they return): the backward sequence reversed back to input time ({@code sequences}; its time
     * axis is the first with {@code timeMajor}), merged (both with merge_mode None), then forward's
     * states, then backward's.
     */
    static List<Tensor> mergedOutputs(List<Tensor> f, List<Tensor> b, boolean sequences, boolean timeMajor,
                                      MergeMode mergeMode) {
        Tensor y = f.get(0);
        Tensor yRev = !sequences ? b.get(0)
                : timeMajor ? StackStage.Merge.reverseTime(b.get(0).swapFirstAxes()).swapFirstAxes()
                : StackStage.Merge.reverseTime(b.get(0));
        List<Tensor> out = new ArrayList<>();
        if (mergeMode == MergeMode.NONE) {
            out.add(y);
            out.add(yRev);
        } else {
            out.add(merge(mergeMode).apply(y, yRev));
        }
        out.addAll(f.subList(1, f.size()));
        out.addAll(b.subList(1, b.size()));
        return out;
    }

    /**
     * Checks the number of initial states given ({@code given} &gt; 0): each direction's, and, as
     * Keras hands the forward layer the first half of the list, as many for each direction.
     */
    private void checkStates(int given) {
        int n = forward.stateCount() + backward.stateCount();
        if (given != n) {
            throw new IllegalArgumentException(describe() + ": initial_state must be " + n
                    + " tensors (forward states, then backward); got " + given + ".");
        }
        if (forward.stateCount() != backward.stateCount()) {
            throw new IllegalArgumentException(describe() + ": initial_state cannot be given here: Keras splits the "
                    + "list in half between the two directions, but the forward layer " + forward.describe() + " has "
                    + forward.stateCount() + " states and the backward layer " + backward.describe() + " "
                    + backward.stateCount() + ", so Keras could not run such a call either. Call the layer without "
                    + "initial_state, or use layers with as many states.");
        }
    }

    /**
     * Inputs: x [B, T, I], then optionally forward and backward initial states. A stateful layer's
     * call that throws leaves both directions' carried states as they were.
     */
    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        Mask mask = masks == null || masks.isEmpty() ? null : masks.get(0);
        boolean given = inputs.size() > 1;
        if (given) {
            checkStates(inputs.size() - 1);
        }
        List<Tensor> fStates = given ? inputs.subList(1, 1 + forward.stateCount()) : null;
        List<Tensor> bStates = given ? inputs.subList(1 + forward.stateCount(), inputs.size()) : null;
        if (forward.returnSequences() && x.rank() == 3) {
            // the merged sequence must fit a Java array, though each direction's does
            valueCount(x.dim(0), x.dim(1), mergeMode == MergeMode.CONCAT ? forward.units() + backward.units()
                    : forward.units());
        }
        Supplier<List<Tensor>> run = () -> {
            // one backend gets both directions together and may run them at once (CUDA: two streams)
            RecurrentOutput[] both = RecurrentLayer.callBoth(forward, fStates, backward, bStates, x, mask);
            // asList: the output, then the states where the layers return them
            return mergedOutputs(both[0].asList(), both[1].asList(), forward.returnSequences(), forward.timeMajor(),
                    mergeMode);
        };
        if (!isStateful()) {
            return run.get();
        }
        // directions on two backends run one after the other: when the second fails, the first's
        // states go back, so that a failed call leaves both as they were
        return SavedStates.restoringOnFailure(List.of(this), run);
    }

    /** Sequence outputs keep the mask (both of them with merge_mode None); states carry none. */
    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        return directionMasks(forward.returnSequences(), mergeMode, masks, outputs.size());
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        return directionsMasked(forward.returnSequences(), mergeMode, inputsMasked, outputCount);
    }

    /** Keras' Bidirectional.compute_mask: x's mask on the sequence output(s), none on the states. */
    static List<Mask> directionMasks(boolean sequences, MergeMode mergeMode, List<Mask> masks, int outputCount) {
        List<Mask> out = new ArrayList<>(Collections.nCopies(outputCount, (Mask) null));
        Mask m = masks == null || masks.isEmpty() ? null : masks.get(0);
        if (sequences && m != null) {
            out.set(0, m);
            if (mergeMode == MergeMode.NONE) {
                out.set(1, m);
            }
        }
        return out;
    }

    /** The static form of {@link #directionMasks}. */
    static List<Boolean> directionsMasked(boolean sequences, MergeMode mergeMode, List<Boolean> inputsMasked,
                                          int outputCount) {
        List<Boolean> out = new ArrayList<>(Collections.nCopies(outputCount, false));
        boolean m = sequences && !inputsMasked.isEmpty() && inputsMasked.get(0);
        out.set(0, m);
        if (mergeMode == MergeMode.NONE) {
            out.set(1, m);
        }
        return out;
    }

    @Override
    public long parameterCount() {
        return forward.parameterCount() + backward.parameterCount();
    }

    @Override
    public boolean isStateful() {
        return forward.isStateful() || backward.isStateful();
    }

    @Override
    public void resetState() {
        forward.resetState();
        backward.resetState();
    }

    /** A stateful layer's lock, and its parts', guard its carried states. */
    @Override
    void addStateLocks(List<Layer> out) {
        addStateLocksWith(out, forward, backward);
    }

    /** Both directions' carried states. */
    @Override
    public SavedStates saveStates() {
        return SavedStates.of(List.of(forward, backward));
    }

    @Override
    public String describeOptions() {
        return "merge_mode=" + mergeMode.kerasName() + ", layer=" + forward.className() + "("
                + forward.describeOptions() + ")";
    }

    /**
     * This layer as a stage of a stack its backend runs without returning to the host between
     * layers ({@link dev.rnnrt.backend.RecurrentBackend#forwardStack}), on inputs of
     * {@code inputSize} features; builds the weights on first use. Null when it cannot be one
     * ({@link #stackable()}) or was built for another input size.
     */
    public StackStage.Bidirectional stackStage(int inputSize) {
        if (!stackable()) {
            return null;
        }
        StackStage.Recurrent f = forward.stackStage(inputSize);
        StackStage.Recurrent b = backward.stackStage(inputSize);
        return f == null || b == null ? null : new StackStage.Bidirectional(f, b, stackMerge());
    }

    /**
     * Whether a call with zero initial states and only the merged output wanted can be a stack
     * stage: both directions {@link RecurrentLayer#stackable()} on one backend, and a merge mode
     * other than None.
     */
    public boolean stackable() {
        return mergeMode != MergeMode.NONE && forward.backend() == backward.backend() && forward.stackable()
                && backward.stackable();
    }

    /** The merge of the backend's stacks for this layer's mode; null for NONE. */
    StackStage.Merge stackMerge() {
        return merge(mergeMode);
    }

    /** The merge of the backend's stacks for a mode; null for NONE. */
    static StackStage.Merge merge(MergeMode mergeMode) {
        return switch (mergeMode) {
            case CONCAT -> StackStage.Merge.CONCAT;
            case SUM -> StackStage.Merge.SUM;
            case MUL -> StackStage.Merge.MUL;
            case AVE -> StackStage.Merge.AVE;
            case NONE -> null;
        };
    }

    /**
     * Keras' _verify_layer_config for an explicit backward layer, and the shapes its merge needs:
     * sum, mul and ave add the two outputs element by element (Keras fails on different shapes).
     */
    private static void check(RecurrentLayer layer, RecurrentLayer backwardLayer, MergeMode mergeMode) {
        if (backwardLayer.goBackwards() == layer.goBackwards()) {
            throw new IllegalArgumentException("Bidirectional: the backward layer " + backwardLayer.describe()
                    + " must have go_backwards=" + (!layer.goBackwards() ? "True" : "False")
                    + ", the opposite of the forward layer's.");
        }
        if (backwardLayer.returnSequences() != layer.returnSequences()
                || backwardLayer.returnState() != layer.returnState()) {
            throw new IllegalArgumentException("Bidirectional: the backward layer " + backwardLayer.describe()
                    + " must have the same return_sequences and return_state as the forward layer " + layer.describe()
                    + ".");
        }
        if (backwardLayer.stateful() != layer.stateful() || backwardLayer.timeMajor() != layer.timeMajor()) {
            throw new IllegalArgumentException("Bidirectional: the backward layer " + backwardLayer.describe()
                    + " must have the same stateful and time_major as the forward layer " + layer.describe() + ".");
        }
        boolean elementwise = mergeMode == MergeMode.SUM || mergeMode == MergeMode.MUL || mergeMode == MergeMode.AVE;
        if (elementwise && backwardLayer.units() != layer.units()) {
            throw new IllegalArgumentException("Bidirectional: merge_mode " + mergeMode.name().toLowerCase(java.util.Locale.ROOT)
                    + " combines the two outputs element by element, so the backward layer " + backwardLayer.describe()
                    + " needs the forward layer's units (" + layer.units() + "); got " + backwardLayer.units()
                    + ". Use merge_mode concat or None, or layers of equal units.");
        }
    }

    private static void copyWeightsIfBuilt(RecurrentLayer from, RecurrentLayer to) {
        if (from.isBuilt()) {
            to.setWeights(from.getWeights());
        }
    }
}
