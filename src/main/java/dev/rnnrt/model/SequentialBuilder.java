package dev.rnnrt.model;

import dev.rnnrt.layers.Layer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Builds a Keras Sequential model: one input and layers applied in order, each taking the
 * previous one's first output.
 *
 * <pre>{@code
 * Model m = Model.sequential("tagger")
 *     .input(-1, 16)                                   // [batch, timesteps, 16]
 *     .add(Masking.of(0.0))
 *     .add(Bidirectional.of(Lstm.builder(32).returnSequences(true).build()))
 *     .add(TimeDistributed.of(Dense.builder(5).activation("softmax").build()))
 *     .build();
 * }</pre>
 */
public final class SequentialBuilder {

    private final String name;
    private int[] inputShape;
    private String inputName;
    private int batchSize;
    private final List<Layer> layers = new ArrayList<>();

    SequentialBuilder(String name) {
        this.name = Objects.requireNonNull(name, "name");
    }

    /** The input shape without the batch axis (-1 = any size), as Keras' {@code input_shape}. */
    public SequentialBuilder input(int... shape) {
        return input(name + "_input", shape);
    }

    /** A named input. */
    public SequentialBuilder input(String name, int... shape) {
        this.inputName = name;
        this.inputShape = shape.clone();
        return this;
    }

    /** Fixes the batch size, as Keras' {@code batch_input_shape}: see {@link ModelBuilder#batchSize(int)}. */
    public SequentialBuilder batchSize(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("Sequential model '" + name + "': the batch size must be at least 1; got "
                    + batchSize + ".");
        }
        this.batchSize = batchSize;
        return this;
    }

    public SequentialBuilder add(Layer layer) {
        layers.add(Objects.requireNonNull(layer, "layer"));
        return this;
    }

    public Model build() {
        if (inputShape == null) {
            throw new IllegalArgumentException("Sequential model '" + name
                    + "' has no input shape; give it with input(...), e.g. input(-1, 8) for [batch, timesteps, 8].");
        }
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("Sequential model '" + name + "' has no layers.");
        }
        ModelBuilder b = new ModelBuilder(name).input(inputName, inputShape);
        if (batchSize > 0) {
            b.batchSize(batchSize);
        }
        String previous = inputName;
        for (Layer layer : layers) {
            b.add(layer, previous);
            previous = layer.name();
        }
        Model model = b.outputs(previous).build();
        for (Node n : model.nodes()) {
            if (n.outputShapes().size() != 1) {
                throw new IllegalArgumentException("Sequential model '" + name + "': " + n.layer().describe() + " has "
                        + n.outputShapes().size() + " outputs (return_state, or merge_mode None); each layer of a "
                        + "Sequential model has one. Use Model.functional(...) to use every output.");
            }
        }
        return model;
    }
}
