package dev.rnnrt.backend.cpu.reference;

import dev.rnnrt.backend.CellSpec;

/**
 * GRU cell, reference (keras/src/layers/rnn/gru.py, GRUCell.call), gates in Keras' order z, r, h:
 * <pre>
 *   z  = rec_act(x·W_z + b_z + h·U_z + b'_z)
 *   r  = rec_act(x·W_r + b_r + h·U_r + b'_r)
 *   reset_after=True  (bias [2, G]: b input row, b' recurrent row; = cuDNN, PyTorch):
 *       ĥ = act(x·W_h + b_h + r ⊙ (h·U_h + b'_h))
 *   reset_after=False (bias [G], no b'):
 *       ĥ = act(x·W_h + b_h + (r ⊙ h)·U_h)
 *   h' = z ⊙ h + (1 − z) ⊙ ĥ
 * </pre>
 */
final class GruReference extends CellReference {

    static final int GATE_Z = 0;
    static final int GATE_R = 1;
    static final int GATE_H = 2;

    /** Row of the recurrent bias b' in a [2, G] bias; without reset_after there is none. */
    private final int recurrentBiasRow;

    GruReference(CellSpec spec) {
        super(spec);
        this.recurrentBiasRow = spec.resetAfter() ? 1 : -1;
    }

    @Override
    void step(float[] x, int xOffset, double[][] state, double[][] next) {
        double[] h = state[0];
        double[] z = new double[units];
        double[] r = new double[units];
        for (int j = 0; j < units; j++) {
            z[j] = spec.recurrentActivation().apply(inputGate(x, xOffset, GATE_Z, j) + recurrentGate(h, GATE_Z, j));
            r[j] = spec.recurrentActivation().apply(inputGate(x, xOffset, GATE_R, j) + recurrentGate(h, GATE_R, j));
        }
        double[] resetH = null;
        if (!spec.resetAfter()) {
            resetH = new double[units];
            for (int k = 0; k < units; k++) {
                resetH[k] = r[k] * h[k];
            }
        }
        for (int j = 0; j < units; j++) {
            double candidate;
            if (spec.resetAfter()) {
                candidate = spec.activation().apply(inputGate(x, xOffset, GATE_H, j) + r[j] * recurrentGate(h, GATE_H, j));
            } else {
                candidate = spec.activation().apply(inputGate(x, xOffset, GATE_H, j) + recurrentPart(resetH, GATE_H, j));
            }
            next[0][j] = z[j] * h[j] + (1.0 - z[j]) * candidate;
        }
    }

    /** x·W_g + b_g for unit j. */
    private double inputGate(float[] x, int xOffset, int gate, int j) {
        return inputPart(x, xOffset, gate, j) + bias(0, gate, j);
    }

    /** h·U_g + b'_g for unit j (b' only with reset_after). */
    private double recurrentGate(double[] h, int gate, int j) {
        double b = recurrentBiasRow < 0 ? 0.0 : bias(recurrentBiasRow, gate, j);
        return recurrentPart(h, gate, j) + b;
    }
}
