package dev.rnnrt.backend;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.cpu.reference.DenseReference;
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

    /**
     * Keras Dense's affine map on the last axis: {@code y = x·kernel + bias} for x [rows, I] (every
     * leading axis flattened), kernel [I, U], bias [U] or null; returns [rows, U], a new array.
     * Dense layers given this backend compute with it. This default is the float64 reference
     * ({@code DenseReference}); the fast CPU path overrides it with its SGEMM.
     */
    default float[] affine(float[] x, int rows, Tensor kernel, Tensor bias) {
        return DenseReference.affine(x, rows, kernel.dim(0), kernel.data(), bias == null ? null : bias.data(),
                kernel.dim(1));
    }

    /**
     * Whether {@link #forwardStack} saves work over running the stack's layers one by one (the
     * CUDA backend keeps the values between layers on the device). A model hands stacks only to
     * backends that say so. Default: false.
     */
    default boolean keepsStacks() {
        return false;
    }

    /**
     * Runs the stages of {@code call} in order, each on the previous one's output, and returns the
     * last stage's output ({@link StackCall#outputShape()}): the same values as {@link #forward}
     * on each recurrent stage (zero initial states, the call's mask), {@link #forwardAll} on both
     * directions of a Bidirectional stage and its merge, and Keras' Dense on each Dense stage.
     * This default does exactly that, one stage after the other on the host.
     */
    default Tensor forwardStack(StackCall call) {
        Tensor value = call.x();
        for (StackStage stage : call.stages()) {
            if (stage instanceof StackStage.Recurrent r) {
                value = forward(r.cell(), r.loop(), value, call.mask(), zeroStates(r, call.batch())).output();
            } else if (stage instanceof StackStage.Bidirectional bi) {
                List<RecurrentResult> both = forwardAll(List.of(
                        new RecurrentCall(bi.forward().cell(), bi.forward().loop(), value, call.mask(),
                                zeroStates(bi.forward(), call.batch())),
                        new RecurrentCall(bi.backward().cell(), bi.backward().loop(), value, call.mask(),
                                zeroStates(bi.backward(), call.batch()))));
                Tensor second = both.get(1).output();
                value = bi.merge().apply(both.get(0).output(),
                        bi.returnsSequences() ? StackStage.Merge.reverseTime(second) : second);
            } else if (stage instanceof StackStage.Dense d) {
                value = applyDense(d, value);
            }
        }
        return value;
    }

    private static List<Tensor> zeroStates(StackStage.Recurrent r, int batch) {
        List<Tensor> zeros = new ArrayList<>();
        for (int s = 0; s < r.cell().kind().stateCount(); s++) {
            zeros.add(Tensor.zeros(batch, r.cell().units()));
        }
        return zeros;
    }

    /** Keras' Dense on the last axis of {@code x}, on the host ({@link #affine}). */
    private Tensor applyDense(StackStage.Dense d, Tensor x) {
        int in = d.inputSize();
        int units = d.outputSize();
        int rows = x.size() / in;
        float[] y = affine(x.data(), rows, d.kernel(), d.bias());
        if (d.activation() != Activation.LINEAR) {
            for (int k = 0; k < y.length; k++) {
                y[k] = (float) d.activation().apply(y[k]);
            }
        }
        int[] shape = x.shape();
        shape[shape.length - 1] = units;
        return Tensor.wrap(y, shape);
    }
}
