package dev.rnnrt.backend;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;

/**
 * What a backend needs to run one recurrent cell: its kind, activations and weights in Keras'
 * layout. Validated by the layer before it reaches a backend.
 *
 * @param kind                 the cell
 * @param units                H
 * @param activation           the candidate / output activation (Keras {@code activation})
 * @param recurrentActivation  the gate activation (Keras {@code recurrent_activation}); unused by SimpleRNN
 * @param resetAfter           GRU only: the reset gate is applied after the recurrent product
 * @param kernel               [I, G]
 * @param recurrentKernel      [H, G]
 * @param bias                 [G], or [2, G] for a GRU with {@code reset_after} (input row, recurrent
 *                             row); null when the layer has {@code use_bias=False}
 */
public record CellSpec(CellKind kind, int units, Activation activation, Activation recurrentActivation,
                       boolean resetAfter, Tensor kernel, Tensor recurrentKernel, Tensor bias) {

    /** I, the number of input features. */
    public int inputSize() {
        return kernel.dim(0);
    }

    /** G = gates × H, the width of the kernels. */
    public int gateWidth() {
        return kind.gates() * units;
    }
}
