package dev.rnnrt.layers;

import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * What a recurrent layer call gives: the output and the final states.
 *
 * @param output      [batch, timesteps, units] with {@code return_sequences} (in processing order,
 *                    so reversed with {@code go_backwards}; [timesteps, batch, units] with
 *                    {@code time_major}), else [batch, units]
 * @param states      the final states, each [batch, units]: [h, c] for LSTM, [h] for GRU and SimpleRNN
 * @param returnState the layer's {@code return_state}: whether Keras would return the states too
 */
public record RecurrentOutput(Tensor output, List<Tensor> states, boolean returnState) {

    public RecurrentOutput {
        states = List.copyOf(states);
    }

    /** What Keras returns: {@code [output, h, c]} (LSTM) or {@code [output, h]} with return_state, else {@code [output]}. */
    public List<Tensor> asList() {
        List<Tensor> out = new ArrayList<>();
        out.add(output);
        if (returnState) {
            out.addAll(states);
        }
        return out;
    }

    /** The final hidden state h, [batch, units]. */
    public Tensor h() {
        return states.get(0);
    }

    /** The final cell state c of an LSTM, [batch, units]. */
    public Tensor c() {
        if (states.size() < 2) {
            throw new IllegalStateException("Only an LSTM has a cell state c; this layer's state is [h].");
        }
        return states.get(1);
    }
}
