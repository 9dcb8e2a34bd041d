package dev.rnnrt.backend;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/**
 * Runs a recurrent layer's forward pass. Implementations: the CPU reference
 * ({@code backend.cpu.reference.RecurrentReference}), and faster paths tested against it.
 *
 * <p>Arguments arrive checked by the layer: shapes agree with the cell, the mask and states fit
 * the batch. An implementation must not modify its arguments and must be safe to call from
 * several threads at once.
 */
public interface RecurrentBackend {

    /** A short name for messages and benchmark tables: "cpu-reference". */
    String name();

    /**
     * @param cell         the cell and its weights
     * @param loop         how the steps run
     * @param x            [B, T, I], batch-major, T ≥ 1
     * @param mask         [B, T], or null for no mask
     * @param initialState one [B, H] tensor per state ([h, c] for LSTM)
     */
    RecurrentResult forward(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState);
}
