package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Keras {@code Bidirectional(RNN(StackedRNNCells([...])))}: {@link Bidirectional}'s rules around a
 * {@link StackedRnn} instead of one recurrent layer. The backward stack is a copy of the forward
 * one with {@code go_backwards} flipped, or an explicit {@code backward_layer} stack, which may
 * have other cells and units (keras/src/layers/rnn/bidirectional.py checks only that its
 * {@code go_backwards} differs and its {@code stateful}, {@code return_sequences} and
 * {@code return_state} match; sum, mul and ave need equal output widths). Its sequence output is
 * reversed back to input time before the merge; {@code initial_state} is split in half (the
 * forward stack's states, then the backward's, each in the stack's own order), and returned
 * states come forward first. Where Keras forces it (tf.keras, Keras 2.4+, Keras 3), both stacks
 * get {@code zero_output_for_mask = return_sequences}. Weights: the forward stack's, then the
 * backward's.
 */
public final class BidirectionalStack extends Layer {

    private final StackedRnn forward;
    private final StackedRnn backward;
    private final Bidirectional.MergeMode mergeMode;
    /** Whether the backward stack came as backward_layer, not derived from the forward one. */
    private final boolean explicitBackward;

    private BidirectionalStack(String name, StackedRnn layer, Bidirectional.MergeMode mergeMode,
                               StackedRnn backwardLayer, boolean forceZeroOutputForMask) {
        super(name != null ? name : uniqueName("bidirectional"));
        Objects.requireNonNull(layer, "layer");
        this.mergeMode = Objects.requireNonNull(mergeMode, "merge_mode");
        boolean zero = forceZeroOutputForMask ? layer.returnSequences() : layer.zeroOutputForMask();
        // as Keras' from_config: the forward stack keeps the layer's weights, the backward one has its own
        // named as Keras 3 names them: its files save the stacks as forward_rnn and backward_rnn
        this.forward = layer.recreate(Bidirectional.directionName("forward_", layer.name()), layer.goBackwards(),
                zero, true);
        this.explicitBackward = backwardLayer != null;
        if (backwardLayer == null) {
            this.backward = layer.recreate(Bidirectional.directionName("backward_", layer.name()),
                    !layer.goBackwards(), zero, false);
        } else {
            check(layer, backwardLayer, mergeMode);
            // Keras runs the given layer itself (return_sequences is the same, so is the forced option);
            // Keras 3 saves it already named "backward_…", tf.keras by its own name
            this.backward = backwardLayer.recreate(Bidirectional.directionName("backward_", backwardLayer.name()),
                    backwardLayer.goBackwards(), forceZeroOutputForMask ? backwardLayer.returnSequences()
                            : backwardLayer.zeroOutputForMask(), true);
        }
    }

    /**
     * {@code Bidirectional(layer, merge_mode)} around a stack of cells.
     *
     * @param name                   null for "bidirectional", "bidirectional_1", …
     * @param forceZeroOutputForMask as {@link Bidirectional#of(String, RecurrentLayer, Bidirectional.MergeMode,
     *                               RecurrentLayer, boolean)}: true for tf.keras and Keras 3
     */
    public static BidirectionalStack of(String name, StackedRnn layer, Bidirectional.MergeMode mergeMode,
                                        boolean forceZeroOutputForMask) {
        return new BidirectionalStack(name, layer, mergeMode, null, forceZeroOutputForMask);
    }

    /**
     * {@code Bidirectional(layer, merge_mode, backward_layer)} around stacks of cells: the backward
     * stack is {@code backwardLayer} (copied, with its weights where built), whose cells and units
     * may differ from {@code layer}'s.
     *
     * @param name                   null for "bidirectional", "bidirectional_1", …
     * @param backwardLayer          null to derive it from {@code layer}; else its {@code go_backwards}
     *                               must differ from {@code layer}'s and its {@code stateful},
     *                               {@code return_sequences} and {@code return_state} match them;
     *                               with merge_mode sum, mul or ave its last cell's units must be
     *                               {@code layer}'s last cell's. Not modified.
     * @param forceZeroOutputForMask as {@link Bidirectional#of(String, RecurrentLayer, Bidirectional.MergeMode,
     *                               RecurrentLayer, boolean)}: true for tf.keras and Keras 3
     * @throws IllegalArgumentException naming the backward stack and what differs
     */
    public static BidirectionalStack of(String name, StackedRnn layer, Bidirectional.MergeMode mergeMode,
                                        StackedRnn backwardLayer, boolean forceZeroOutputForMask) {
        return new BidirectionalStack(name, layer, mergeMode, backwardLayer, forceZeroOutputForMask);
    }

    /**
     * Keras' _verify_layer_config for an explicit backward stack, and the widths an element-wise
     * merge needs (Keras fails to add outputs of different shapes).
     */
    private static void check(StackedRnn layer, StackedRnn backwardLayer, Bidirectional.MergeMode mergeMode) {
        if (backwardLayer.goBackwards() == layer.goBackwards()) {
            throw new IllegalArgumentException("Bidirectional: the backward layer " + backwardLayer.describe()
                    + " must have go_backwards=" + (!layer.goBackwards() ? "True" : "False")
                    + ", the opposite of the forward layer's.");
        }
        if (backwardLayer.returnSequences() != layer.returnSequences()
                || backwardLayer.returnState() != layer.returnState() || backwardLayer.stateful() != layer.stateful()) {
            throw new IllegalArgumentException("Bidirectional: the backward layer " + backwardLayer.describe()
                    + " (return_sequences=" + py(backwardLayer.returnSequences()) + ", return_state="
                    + py(backwardLayer.returnState()) + ", stateful=" + py(backwardLayer.stateful()) + ") must have the "
                    + "same return_sequences, return_state and stateful as the forward layer " + layer.describe() + " ("
                    + py(layer.returnSequences()) + ", " + py(layer.returnState()) + ", " + py(layer.stateful()) + ").");
        }
        int f = lastUnits(layer);
        int b = lastUnits(backwardLayer);
        boolean elementwise = mergeMode == Bidirectional.MergeMode.SUM || mergeMode == Bidirectional.MergeMode.MUL
                || mergeMode == Bidirectional.MergeMode.AVE;
        if (elementwise && f != b) {
            throw new IllegalArgumentException("Bidirectional: merge_mode " + mergeMode.kerasName() + " combines the "
                    + "two outputs element by element, so the backward layer " + backwardLayer.describe()
                    + " needs a last cell of the forward layer's last cell's units (" + f + "); got " + b
                    + ". Use merge_mode concat or None, or last cells of equal units.");
        }
    }

    private static int lastUnits(StackedRnn s) {
        return s.cells().get(s.cells().size() - 1).units();
    }

    private static String py(boolean b) {
        return b ? "True" : "False";
    }

    /** The forward stack (its weights can be set on it directly). */
    public StackedRnn forwardLayer() {
        return forward;
    }

    /** The backward stack. */
    public StackedRnn backwardLayer() {
        return backward;
    }

    public Bidirectional.MergeMode mergeMode() {
        return mergeMode;
    }

    @Override
    public String className() {
        return "Bidirectional";
    }

    /** Builds both stacks for the input's features ({@link #build(int)}) where they are known. */
    @Override
    public void build(List<int[]> inputShapes) {
        int features = lastAxis(inputShapes);
        if (features >= 1) {
            build(features);
        }
    }

    /** Builds both stacks for inputs of {@code inputSize} features. */
    public void build(int inputSize) {
        forward.build(inputSize);
        backward.build(inputSize);
    }

    /**
     * The forward stack's weights, then the backward's, each in its cells' Keras order; copied. Every
     * weight is checked before any is set (a bad one changes nothing), and both stacks' first kernels
     * must read the same number of input features.
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
        Bidirectional.checkSameInput(this, f.get(0), b.get(0));
        forward.setWeights(f);
        backward.setWeights(b);
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
        checkStates(inputShapes.size() - 1);
        return Bidirectional.mergedShapes(forward.outputShapes(part(inputShapes, true)),
                backward.outputShapes(part(inputShapes, false)), mergeMode);
    }

    /**
     * Inputs: x [B, T, I], then optionally the forward stack's initial states and the backward's.
     * A stateful layer's call that throws leaves both stacks' carried states as they were.
     */
    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        checkStates(inputs.size() - 1);
        List<Mask> m = Collections.singletonList(masks == null || masks.isEmpty() ? null : masks.get(0));
        Tensor x = inputs.get(0);
        if (forward.returnSequences() && x != null && x.rank() == 3) {
            // the merged sequence must fit a Java array, though each stack's does
            int f = forward.cells().get(forward.cells().size() - 1).units();
            int b = backward.cells().get(backward.cells().size() - 1).units();
            valueCount(x.dim(0), x.dim(1), mergeMode == Bidirectional.MergeMode.CONCAT ? f + b : f);
        }
        Supplier<List<Tensor>> run = () -> Bidirectional.mergedOutputs(
                forward.call(part(inputs, true), m), backward.call(part(inputs, false), m),
                forward.returnSequences(), false, mergeMode);
        if (!isStateful()) {
            return run.get();
        }
        // the stacks run one after the other: when the backward one fails, the forward one's states
        // go back, so that a failed call leaves both as they were
        return SavedStates.restoringOnFailure(List.of(this), run);
    }

    /** x, with the forward stack's (first) or the backward stack's initial states when given. */
    private <T> List<T> part(List<T> inputs, boolean first) {
        List<T> out = new ArrayList<>();
        out.add(inputs.get(0));
        if (inputs.size() > 1) {
            int nf = forward.stateCount();
            out.addAll(first ? inputs.subList(1, 1 + nf) : inputs.subList(1 + nf, inputs.size()));
        }
        return out;
    }

    private void checkStates(int given) {
        int n = forward.stateCount() + backward.stateCount();
        if (given != 0 && given != n) {
            throw new IllegalArgumentException(describe() + ": initial_state must be " + n + " tensors (the forward "
                    + "stack's " + forward.stateCount() + ", then the backward stack's); got " + given + ".");
        }
        if (given != 0 && forward.stateCount() != backward.stateCount()) {
            // Keras gives the forward layer the first half of the list, whatever its states
            throw new IllegalArgumentException(describe() + ": initial_state cannot be given here: Keras splits "
                    + "the list in half between the two stacks, but the forward stack has " + forward.stateCount()
                    + " states and the backward stack " + backward.stateCount() + ", so Keras could not run such a "
                    + "call either. Call the layer without initial_state, or use stacks with as many states.");
        }
    }

    /** Sequence outputs keep the mask (both of them with merge_mode None); states carry none. */
    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        return Bidirectional.directionMasks(forward.returnSequences(), mergeMode, masks, outputs.size());
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        return Bidirectional.directionsMasked(forward.returnSequences(), mergeMode, inputsMasked, outputCount);
    }

    @Override
    public long parameterCount() {
        return forward.parameterCount() + backward.parameterCount();
    }

    @Override
    public boolean isStateful() {
        return forward.isStateful();
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

    /** Both stacks' carried states. */
    @Override
    public SavedStates saveStates() {
        return SavedStates.of(List.of(forward, backward));
    }

    @Override
    public String describeOptions() {
        return "merge_mode=" + mergeMode.kerasName() + ", layer=RNN(" + forward.describeOptions() + ")"
                + (explicitBackward ? ", backward_layer=RNN(" + backward.describeOptions() + ")" : "");
    }
}
