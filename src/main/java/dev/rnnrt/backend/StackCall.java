package dev.rnnrt.backend;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.List;

/**
 * Layers that run one after the other, each on the previous one's output, for
 * {@link RecurrentBackend#forwardStack}: a stack of recurrent layers and the Dense layers around
 * and after them. Only the last stage's output is wanted, so a backend that keeps values on a
 * device need not copy anything back between stages.
 *
 * <p>The first stage is recurrent (or Bidirectional) and reads {@code x}; every recurrent stage
 * (each direction of a Bidirectional one) runs from zero states with {@code mask} (a mask passes
 * unchanged through recurrent layers that return sequences and through Dense); a recurrent stage
 * that returns only its last output must be followed by Dense stages only. The constructor checks
 * all of this, naming the stage.
 *
 * @param stages the layers, in order
 * @param x      [B, T, I], batch-major, I the first stage's input size
 * @param mask   [B, T], or null for none
 */
public record StackCall(List<StackStage> stages, Tensor x, Mask mask) {

    public StackCall {
        stages = List.copyOf(stages);
        if (stages.isEmpty() || stages.get(0) instanceof StackStage.Dense) {
            throw new IllegalArgumentException("A stack starts with a recurrent or Bidirectional stage; got "
                    + (stages.isEmpty() ? "no stages" : stages.get(0).getClass().getSimpleName()) + ".");
        }
        if (x == null || x.rank() != 3 || x.dim(0) < 1 || x.dim(1) < 1) {
            throw new IllegalArgumentException("A stack takes x [batch, timesteps, features] with at least one "
                    + "sequence and one step; got " + (x == null ? "null" : Tensor.shapeString(x.shape())) + ".");
        }
        if (mask != null && (mask.rows() != x.dim(0) || mask.cols() != x.dim(1))) {
            throw new IllegalArgumentException("The stack's mask must have shape [batch, timesteps] = [" + x.dim(0)
                    + ", " + x.dim(1) + "]; got " + Tensor.shapeString(mask.shape()) + ".");
        }
        int width = x.dim(2);
        boolean sequences = true;
        for (int k = 0; k < stages.size(); k++) {
            StackStage s = stages.get(k);
            if (s.inputSize() != width) {
                throw new IllegalArgumentException("Stage " + k + " of the stack (" + s.getClass().getSimpleName()
                        + ") takes " + s.inputSize() + " features; the " + (k == 0 ? "input" : "stage before")
                        + " gives " + width + ".");
            }
            if (!(s instanceof StackStage.Dense)) {
                if (!sequences) {
                    throw new IllegalArgumentException("Stage " + k + " of the stack is recurrent, but an earlier "
                            + "recurrent stage returns only its last step; it needs return_sequences.");
                }
                sequences = returnsSequences(s);
            }
            width = s.outputSize();
        }
    }

    /** Whether a recurrent or Bidirectional stage returns sequences. */
    private static boolean returnsSequences(StackStage s) {
        return s instanceof StackStage.Bidirectional bi ? bi.returnsSequences()
                : ((StackStage.Recurrent) s).loop().returnSequences();
    }

    /** The batch size, B. */
    public int batch() {
        return x.dim(0);
    }

    /** The timesteps, T. */
    public int timesteps() {
        return x.dim(1);
    }

    /**
     * The shape of the last stage's output: [B, T, width] when every recurrent stage returns
     * sequences, else [B, width].
     */
    public int[] outputShape() {
        boolean sequences = true;
        for (StackStage s : stages) {
            if (!(s instanceof StackStage.Dense)) {
                sequences = returnsSequences(s);
            }
        }
        int width = stages.get(stages.size() - 1).outputSize();
        return sequences ? new int[] {batch(), timesteps(), width} : new int[] {batch(), width};
    }
}
