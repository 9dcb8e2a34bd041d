package dev.rnnrt.backend;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
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

    /**
     * Runs calls that do not depend on each other (no call reads another's result), such as the
     * two directions of a Bidirectional layer, and returns their results in order. A backend may
     * run them concurrently (the CUDA backend puts them on streams of their own); the results are
     * those of {@link #forward} on each call. This default runs them one after the other.
     */
    default List<RecurrentResult> forwardAll(List<RecurrentCall> calls) {
        List<RecurrentResult> out = new ArrayList<>(calls.size());
        for (RecurrentCall c : calls) {
            out.add(forward(c.cell(), c.loop(), c.x(), c.mask(), c.initialState()));
        }
        return out;
    }
}
