package dev.rnnrt.backend;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/**
 * One recurrent layer call, as {@link RecurrentBackend#forward} takes it, for
 * {@link RecurrentBackend#forwardAll}.
 *
 * @param cell         the cell and its weights
 * @param loop         how the steps run
 * @param x            [B, T, I], batch-major, T ≥ 1
 * @param mask         [B, T], or null for no mask
 * @param initialState one [B, H] tensor per state ([h, c] for LSTM)
 */
public record RecurrentCall(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState) {
    public RecurrentCall {
        initialState = List.copyOf(initialState);
    }
}
