package dev.rnnrt.layers;

import dev.rnnrt.api.Activation;
import dev.rnnrt.backend.CellKind;
import java.util.Objects;

/** A builder for the gated cells (LSTM, GRU), which add {@code recurrent_activation}. */
public abstract class GatedLayerBuilder<S extends GatedLayerBuilder<S>> extends RecurrentLayerBuilder<S> {
    Activation recurrentActivation; // null: the Keras version's default
    String recurrentActivationName; // resolved at build, once the Keras version is known

    GatedLayerBuilder(CellKind kind, int units) {
        super(kind, units);
    }

    /** Keras {@code recurrent_activation}; default sigmoid (hard_sigmoid before Keras 2.3). */
    public S recurrentActivation(Activation activation) {
        this.recurrentActivation = Objects.requireNonNull(activation, "recurrent_activation");
        this.recurrentActivationName = null;
        return self();
    }

    /** Keras {@code recurrent_activation} by name; hard_sigmoid as in {@link #kerasVersion}. */
    public S recurrentActivation(String name) {
        // an unknown name fails here, at the call that gave it
        checkName("recurrent_activation", () -> Activation.named(name, kerasVersion));
        this.recurrentActivationName = name;
        this.recurrentActivation = null;
        return self();
    }

    Activation resolvedRecurrentActivation() {
        if (recurrentActivationName != null) {
            return Activation.named(recurrentActivationName, kerasVersion);
        }
        return recurrentActivation != null ? recurrentActivation : defaultRecurrentActivation();
    }
}
