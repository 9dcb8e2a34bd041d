package dev.rnnrt.layers;

import dev.rnnrt.backend.CellKind;

/**
 * Keras {@code LSTM}. Gates i, f, c, o; kernel [I, 4H], recurrent kernel [H, 4H], bias [4H].
 *
 * <pre>{@code
 * Lstm lstm = Lstm.builder(64).returnSequences(true).build();
 * lstm.setWeights(List.of(kernel, recurrentKernel, bias));
 * Tensor y = lstm.call(x).output();
 * }</pre>
 */
public final class Lstm extends RecurrentLayer {

    private final boolean unitForgetBias;

    private Lstm(Builder b) {
        super(CellKind.LSTM, b, b.resolvedRecurrentActivation());
        this.unitForgetBias = b.unitForgetBias;
    }

    /** A builder with Keras' defaults for {@code units} units. */
    public static Builder builder(int units) {
        return new Builder(units);
    }

    /** Keras {@code unit_forget_bias}. */
    public boolean unitForgetBias() {
        return unitForgetBias;
    }

    /** Keras {@code recurrent_activation}. */
    public dev.rnnrt.api.Activation recurrentActivation() {
        return recurrentActivationOrNull();
    }

    @Override
    Lstm recreate(String name, LoopOptions loop) {
        return copyInto(builder(units()), name, loop)
                .recurrentActivation(recurrentActivation()).unitForgetBias(unitForgetBias).build();
    }

    @Override
    int[] biasShape() {
        return new int[] {4 * units()};
    }

    /**
     * With {@code unit_forget_bias}, the bias is {@code [init(H), ones(H), init(2H)]}: the forget
     * slice is 1.0 whatever the initializer says (keras/src/layers/rnn/lstm.py, LSTMCell.build).
     */
    @Override
    float[] initialBias() {
        if (!unitForgetBias) {
            return super.initialBias();
        }
        int h = units();
        float[] bias = new float[4 * h];
        System.arraycopy(initialValues("bias_initializer", biasInitializer(), h), 0, bias, 0, h);
        java.util.Arrays.fill(bias, h, 2 * h, 1.0f);
        System.arraycopy(initialValues("bias_initializer", biasInitializer(), 2 * h), 0, bias, 2 * h, 2 * h);
        return bias;
    }

    /** LSTM arguments; see {@link RecurrentLayerBuilder} for the shared ones. */
    public static final class Builder extends GatedLayerBuilder<Builder> {
        boolean unitForgetBias = true;

        Builder(int units) {
            super(CellKind.LSTM, units);
        }

        @Override
        Builder self() {
            return this;
        }

        /** Keras {@code unit_forget_bias}: start the forget-gate bias at 1.0; default true. */
        public Builder unitForgetBias(boolean v) {
            this.unitForgetBias = v;
            return this;
        }

        @Override
        public Lstm build() {
            return new Lstm(this);
        }
    }
}
