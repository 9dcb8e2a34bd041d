package dev.rnnrt.backend.cpu.reference;

import dev.rnnrt.backend.CellSpec;

/**
 * LSTM cell, reference (keras/src/layers/rnn/lstm.py, LSTMCell.call), gates in Keras' order
 * i, f, c, o:
 * <pre>
 *   i  = rec_act(x·W_i + h·U_i + b_i)
 *   f  = rec_act(x·W_f + h·U_f + b_f)
 *   c' = f ⊙ c + i ⊙ act(x·W_c + h·U_c + b_c)
 *   o  = rec_act(x·W_o + h·U_o + b_o)
 *   h' = o ⊙ act(c')
 * </pre>
 */
final class LstmReference extends CellReference {

    static final int GATE_I = 0;
    static final int GATE_F = 1;
    static final int GATE_C = 2;
    static final int GATE_O = 3;

    LstmReference(CellSpec spec) {
        super(spec);
    }

    @Override
    void step(float[] x, int xOffset, double[][] state, double[][] next) {
        double[] h = state[0];
        double[] c = state[1];
        for (int j = 0; j < units; j++) {
            double i = spec.recurrentActivation().apply(gate(x, xOffset, h, GATE_I, j));
            double f = spec.recurrentActivation().apply(gate(x, xOffset, h, GATE_F, j));
            double candidate = spec.activation().apply(gate(x, xOffset, h, GATE_C, j));
            double o = spec.recurrentActivation().apply(gate(x, xOffset, h, GATE_O, j));
            double cNext = f * c[j] + i * candidate;
            next[1][j] = cNext;
            next[0][j] = o * spec.activation().apply(cNext);
        }
    }

    /** x·W_g + h·U_g + b_g for unit j. */
    private double gate(float[] x, int xOffset, double[] h, int gate, int j) {
        return inputPart(x, xOffset, gate, j) + recurrentPart(h, gate, j) + bias(0, gate, j);
    }
}
