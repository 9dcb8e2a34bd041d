package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/** Keras {@code Activation(name)}: an activation as a layer; keeps shape and mask. */
public final class ActivationLayer extends Layer {

    private final OutputActivation activation;

    private ActivationLayer(String name, OutputActivation activation) {
        super(name != null ? name : uniqueName("activation"));
        this.activation = java.util.Objects.requireNonNull(activation, "activation");
    }

    public static ActivationLayer of(OutputActivation activation) {
        return new ActivationLayer(null, activation);
    }

    public static ActivationLayer of(String name, OutputActivation activation) {
        return new ActivationLayer(name, activation);
    }

    @Override
    public String className() {
        return "Activation";
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

    @Override
    public String describeOptions() {
        return "activation=" + activation.kerasName();
    }
}
