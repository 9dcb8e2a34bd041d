package dev.rnnrt.testing;

import dev.rnnrt.api.Activation;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.SimpleRnn;
import java.util.List;
import java.util.function.IntFunction;

/** The cells a backend's activation tests run an activation through, one role at a time. */
public final class ActivationRoles {

    private ActivationRoles() {
    }

    /**
     * Builders (given the units) of LSTM, GRU (either reset_after) and SimpleRNN with {@code a} as
     * their activation, and of LSTM and GRU with it as their recurrent_activation. One role at a
     * time: with an unbounded gate (squareplus) and an unbounded activation together, the gates grow
     * with the state they multiply, and the state overflows within a few steps.
     */
    public static List<IntFunction<RecurrentLayerBuilder<?>>> of(Activation a) {
        return List.of(
                u -> Lstm.builder(u).activation(a),
                u -> Lstm.builder(u).recurrentActivation(a),
                u -> Gru.builder(u).activation(a),
                u -> Gru.builder(u).recurrentActivation(a),
                u -> Gru.builder(u).resetAfter(false).activation(a),
                u -> Gru.builder(u).resetAfter(false).recurrentActivation(a),
                u -> SimpleRnn.builder(u).activation(a));
    }
}
