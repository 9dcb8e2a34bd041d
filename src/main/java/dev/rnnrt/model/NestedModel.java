package dev.rnnrt.model;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Layer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A model used as one layer, where Keras applies a whole model as a layer and rnnrt cannot inline its
 * layers into the graph: inside {@code TimeDistributed}, which runs it on every step's own input
 * (hierarchical models: a sentence encoder over each sentence of a document). The model computes its
 * own masks from its inputs (an Embedding with mask_zero inside masks each step's padding); a mask
 * from outside does not reach it, and it passes none on.
 */
public final class NestedModel extends Layer {

    private final Model model;
    private final String className;

    /**
     * @param name      the layer's name
     * @param className the Keras class of the model ("Functional", "Sequential", "Model")
     * @param model     the model it runs
     */
    public NestedModel(String name, String className, Model model) {
        super(name);
        this.model = Objects.requireNonNull(model, "model");
        this.className = Objects.requireNonNull(className, "className");
        if (model.isStateful()) {
            throw new IllegalArgumentException("the model " + model.name() + " has stateful layers; as one layer "
                    + "over many sequences at once its states would pass between them.");
        }
    }

    /** The model it runs. */
    public Model model() {
        return model;
    }

    @Override
    public String className() {
        return className;
    }

    @Override
    public boolean supportsMasking() {
        return false;
    }

    @Override
    public boolean isModel() {
        return true;
    }

    /** Keras passes a mask on into a model's layers; rnnrt refuses it there. */
    @Override
    public boolean kerasDropsMask() {
        return false;
    }

    @Override
    public int minInputs() {
        return model.inputNames().size();
    }

    @Override
    public int maxInputs() {
        return model.inputNames().size();
    }

    /** The model's output shapes, for inputs of the shapes its inputs take (-1 matches any size). */
    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        List<int[]> expected = model.inputShapes();
        for (int k = 0; k < inputShapes.size(); k++) {
            int[] want = expected.get(k);
            int[] got = inputShapes.get(k);
            boolean fits = want.length == got.length;
            for (int d = 0; fits && d < want.length; d++) {
                fits = want[d] < 0 || got[d] < 0 || want[d] == got[d];
            }
            if (!fits) {
                throw new IllegalArgumentException(describe() + ": input '" + model.inputNames().get(k) + "' of model '"
                        + model.name() + "' takes " + shapeText(want) + "; got " + shapeText(got) + ".");
            }
        }
        return model.outputShapes();
    }

    /** Runs the model on the inputs; masks given here are not used (the model makes its own). */
    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        return new ArrayList<>(model.predict(inputs));
    }

    @Override
    public long parameterCount() {
        return model.parameterCount();
    }

    @Override
    public String describeOptions() {
        StringBuilder sb = new StringBuilder("model=" + model.name() + "(");
        List<Layer> layers = model.layers();
        for (int k = 0; k < layers.size(); k++) {
            sb.append(k == 0 ? "" : ", ").append(layers.get(k).className());
        }
        return sb.append(')').toString();
    }
}
