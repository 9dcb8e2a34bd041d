package dev.rnnrt.layers;

import dev.rnnrt.backend.CellKind;

/**
 * Keras {@code GRU}. Gates z, r, h; kernel [I, 3H], recurrent kernel [H, 3H]; bias [2, 3H]
 * (input row, recurrent row) with {@code reset_after=True}, [3H] with {@code reset_after=False}.
 */
public final class Gru extends RecurrentLayer {

    private final boolean resetAfter;

    private Gru(Builder b) {
        super(CellKind.GRU, b, b.resolvedRecurrentActivation());
        this.resetAfter = b.resetAfter != null ? b.resetAfter : b.kerasVersion.gruResetAfterDefault();
    }

    /** A builder with Keras' defaults for {@code units} units. */
    public static Builder builder(int units) {
        return new Builder(units);
    }

    /** Keras {@code reset_after}: the reset gate is applied after the recurrent product. */
    @Override
    public boolean resetAfter() {
        return resetAfter;
    }

    /** Keras {@code recurrent_activation}. */
    public dev.rnnrt.api.Activation recurrentActivation() {
        return recurrentActivationOrNull();
    }

    @Override
    Gru recreate(String name, LoopOptions loop) {
        return copyInto(builder(units()), name, loop)
                .recurrentActivation(recurrentActivation()).resetAfter(resetAfter).build();
    }

    @Override
    int[] biasShape() {
        return resetAfter ? new int[] {2, 3 * units()} : new int[] {3 * units()};
    }

    /** GRU arguments; see {@link RecurrentLayerBuilder} for the shared ones. */
    public static final class Builder extends GatedLayerBuilder<Builder> {
        Boolean resetAfter; // null: the Keras version's default

        Builder(int units) {
            super(CellKind.GRU, units);
        }

        @Override
        Builder self() {
            return this;
        }

        /**
         * Keras {@code reset_after}; default true (Keras 3, Keras 2.4+ and tf.keras 2.3.0-tf+), false
         * with a {@link #kerasVersion} up to standalone Keras 2.3.1 or tf.keras 2.2.4-tf
         * ({@link dev.rnnrt.api.KerasVersion#gruResetAfterDefault()}).
         */
        public Builder resetAfter(boolean v) {
            this.resetAfter = v;
            return this;
        }

        @Override
        public Gru build() {
            return new Gru(this);
        }
    }
}
