package dev.rnnrt.backend.cpu.reference;

import dev.rnnrt.backend.CellSpec;

/**
 * One step of a recurrent cell for one sequence, in float64: the reference the other backends
 * are tested against. Clarity over speed; never optimized.
 *
 * <p>Weights are in Keras' layout: kernel W is [I, G], recurrent kernel U is [H, G], with the
 * gates side by side along G (gate g of unit j is column g·H + j).
 */
abstract class CellReference {

    protected final CellSpec spec;
    protected final int inputSize;
    protected final int units;
    private final int gateWidth;
    private final float[] kernel;
    private final float[] recurrentKernel;
    private final float[] bias;

    CellReference(CellSpec spec) {
        this.spec = spec;
        this.inputSize = spec.inputSize();
        this.units = spec.units();
        this.gateWidth = spec.gateWidth();
        this.kernel = spec.kernel().data();
        this.recurrentKernel = spec.recurrentKernel().data();
        this.bias = spec.bias() == null ? null : spec.bias().data();
    }

    /**
     * Computes the next states from one input step.
     *
     * @param x     the input values, I of them from {@code xOffset}; not modified
     * @param state the current states, each [H] ([h, c] for LSTM); not modified
     * @param next  receives the new states, each [H]; next[0] is also the step's output h
     */
    abstract void step(float[] x, int xOffset, double[][] state, double[][] next);

    /** x·W[:, g·H + j]: the input's contribution to gate g of unit j. */
    protected final double inputPart(float[] x, int xOffset, int gate, int j) {
        int col = gate * units + j;
        double sum = 0.0;
        for (int k = 0; k < inputSize; k++) {
            sum += (double) x[xOffset + k] * kernel[k * gateWidth + col];
        }
        return sum;
    }

    /** v·U[:, g·H + j] for a state-sized vector v (h, or r⊙h for GRU with reset_after=False). */
    protected final double recurrentPart(double[] v, int gate, int j) {
        int col = gate * units + j;
        double sum = 0.0;
        for (int k = 0; k < units; k++) {
            sum += v[k] * recurrentKernel[k * gateWidth + col];
        }
        return sum;
    }

    /** The bias of gate g, unit j: row 0 of a [2, G] GRU bias is the input bias, row 1 the recurrent one. */
    protected final double bias(int row, int gate, int j) {
        return bias == null ? 0.0 : bias[row * gateWidth + gate * units + j];
    }
}
