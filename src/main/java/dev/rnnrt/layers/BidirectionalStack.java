package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Keras {@code Bidirectional(RNN(StackedRNNCells([...])))}: {@link Bidirectional}'s rules around a
 * {@link StackedRnn} instead of one recurrent layer. The backward stack is a copy of the forward
 * one with {@code go_backwards} flipped; its sequence output is reversed back to input time before
 * the merge; {@code initial_state} is split in half (the forward stack's states, then the
 * backward's, each in the stack's own order), and returned states come forward first. Where Keras
 * forces it (tf.keras, Keras 2.4+, Keras 3), both stacks get {@code zero_output_for_mask =
 * return_sequences}. Weights: the forward stack's, then the backward's.
 */
public final class BidirectionalStack extends Layer {

    private final StackedRnn forward;
    private final StackedRnn backward;
    private final Bidirectional.MergeMode mergeMode;

    private BidirectionalStack(String name, StackedRnn layer, Bidirectional.MergeMode mergeMode,
                               boolean forceZeroOutputForMask) {
        super(name != null ? name : uniqueName("bidirectional"));
        Objects.requireNonNull(layer, "layer");
        this.mergeMode = Objects.requireNonNull(mergeMode, "merge_mode");
        boolean zero = forceZeroOutputForMask ? layer.returnSequences() : layer.zeroOutputForMask();
        // as Keras' from_config: the forward stack keeps the layer's weights, the backward one has its own
        this.forward = layer.recreate("forward_" + layer.name(), layer.goBackwards(), zero, true);
        this.backward = layer.recreate("backward_" + layer.name(), !layer.goBackwards(), zero, false);
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
        return new BidirectionalStack(name, layer, mergeMode, forceZeroOutputForMask);
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

    /** Inputs: x [B, T, I], then optionally the forward stack's initial states and the backward's. */
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
        return Bidirectional.mergedOutputs(forward.call(part(inputs, true), m), backward.call(part(inputs, false), m),
                forward.returnSequences(), false, mergeMode);
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

    @Override
    public String describeOptions() {
        return "merge_mode=" + mergeMode.kerasName() + ", layer=RNN(" + forward.describeOptions() + ")";
    }
}
