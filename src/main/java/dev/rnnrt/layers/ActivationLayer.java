package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/**
 * Keras {@code Activation(name)}: an activation as a layer; keeps shape and mask. Also Keras'
 * {@code Softmax} layer over the last axis ({@link #softmaxLayer}), which takes no mask here (Keras
 * adds a mask to the scores it is given, which fits attention scores, not a sequence's mask).
 */
public final class ActivationLayer extends Layer {

    private final OutputActivation activation;
    private final boolean softmaxLayer;

    private ActivationLayer(String name, OutputActivation activation, boolean softmaxLayer) {
        super(name != null ? name : uniqueName(softmaxLayer ? "softmax" : "activation"));
        this.activation = java.util.Objects.requireNonNull(activation, "activation");
        this.softmaxLayer = softmaxLayer;
    }

    public static ActivationLayer of(OutputActivation activation) {
        return new ActivationLayer(null, activation, false);
    }

    public static ActivationLayer of(String name, OutputActivation activation) {
        return new ActivationLayer(name, activation, false);
    }

    /** Keras {@code Softmax(axis=-1)} as a layer. */
    public static ActivationLayer softmaxLayer(String name) {
        return new ActivationLayer(name, OutputActivation.softmax(), true);
    }

    @Override
    public String className() {
        return softmaxLayer ? "Softmax" : "Activation";
    }

    @Override
    public boolean supportsMasking() {
        return !softmaxLayer;
    }

    /** Keras' Softmax layer takes its mask as the masked scores, which rnnrt does not follow. */
    @Override
    public boolean kerasDropsMask() {
        return false;
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        return List.of(inputShapes.get(0).clone());
    }

    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        float[] y = x.toArray();
        activation.applyInPlace(y, x.rank() == 0 ? 1 : x.dim(-1));
        return List.of(Tensor.wrap(y, x.shape()));
    }

    /** Whether the layer is Activation('linear'), which gives its input back unchanged. */
    public boolean isIdentity() {
        return !softmaxLayer && activation.isLinear();
    }

    @Override
    public String describeOptions() {
        return softmaxLayer ? "axis=-1" : "activation=" + activation.kerasName();
    }
}
