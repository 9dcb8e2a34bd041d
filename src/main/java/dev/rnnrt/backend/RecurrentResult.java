package dev.rnnrt.backend;

import dev.rnnrt.api.Tensor;
import java.util.List;

/**
 * What a backend returns for one recurrent layer call.
 *
 * @param output [B, T, H] in processing order when sequences were asked for, otherwise [B, H]
 * @param states the final states, each [B, H], in the cell's order ([h, c] for LSTM)
 */
public record RecurrentResult(Tensor output, List<Tensor> states) {
    public RecurrentResult {
        states = List.copyOf(states);
    }
}
