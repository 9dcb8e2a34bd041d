package dev.rnnrt.backend.cpu.reference;

import dev.rnnrt.backend.CellSpec;

/**
 * SimpleRNN cell, reference: {@code h' = act(x·W + b + h·U)}
 * (keras/src/layers/rnn/simple_rnn.py, SimpleRNNCell.call).
 */
final class SimpleRnnReference extends CellReference {

    SimpleRnnReference(CellSpec spec) {
        super(spec);
    }

    @Override
    void step(float[] x, int xOffset, double[][] state, double[][] next) {
        double[] h = state[0];
        for (int j = 0; j < units; j++) {
            next[0][j] = spec.activation().apply(inputPart(x, xOffset, 0, j) + bias(0, 0, j) + recurrentPart(h, 0, j));
        }
    }
}
