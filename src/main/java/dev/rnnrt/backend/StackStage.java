package dev.rnnrt.backend;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;
import java.util.Objects;

/** One layer of a {@link StackCall}: a recurrent layer, or a Dense layer acting on the last axis. */
public sealed interface StackStage {

    /** The width of the last axis this stage takes. */
    int inputSize();

    /** The width of the last axis this stage returns. */
    int outputSize();

    /**
     * A recurrent layer run from zero states, on the mask the stack was given.
     *
     * @param cell the cell and its weights
     * @param loop how the steps run; every recurrent stage but the last must return sequences
     */
    record Recurrent(CellSpec cell, LoopSpec loop) implements StackStage {
        public Recurrent {
            Objects.requireNonNull(cell, "cell");
            Objects.requireNonNull(loop, "loop");
        }

        @Override
        public int inputSize() {
            return cell.inputSize();
        }

        @Override
        public int outputSize() {
            return cell.units();
        }
    }

    /**
     * Keras {@code Dense} on the last axis: {@code y = activation(x·kernel + bias)}.
     *
     * @param kernel     [I, units]
     * @param bias       [units], or null for none
     * @param activation an element-wise activation
     */
    record Dense(Tensor kernel, Tensor bias, Activation activation) implements StackStage {
        public Dense {
            Objects.requireNonNull(kernel, "kernel");
            Objects.requireNonNull(activation, "activation");
            if (kernel.rank() != 2 || bias != null && !bias.hasShape(kernel.dim(1))) {
                throw new IllegalArgumentException("A Dense stage needs kernel [I, units] and bias [units] or none; got "
                        + "kernel " + Tensor.shapeString(kernel.shape()) + " and bias "
                        + (bias == null ? "none" : Tensor.shapeString(bias.shape())) + ".");
            }
        }

        @Override
        public int inputSize() {
            return kernel.dim(0);
        }

        @Override
        public int outputSize() {
            return kernel.dim(1);
        }
    }
}
