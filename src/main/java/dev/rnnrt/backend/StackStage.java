package dev.rnnrt.backend;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;
import java.util.Objects;

/**
 * One layer of a {@link StackCall}: a recurrent layer, a Bidirectional one, or a Dense layer acting
 * on the last axis.
 */
public sealed interface StackStage {

    /** The width of the last axis this stage takes. */
    int inputSize();

    /** The width of the last axis this stage returns. */
    int outputSize();

    /**
     * A recurrent layer run from zero states, on the mask the stack was given.
     *
     * @param cell the cell and its weights
     * @param loop how the steps run; every recurrent stage but the last must return sequences
     */
    record Recurrent(CellSpec cell, LoopSpec loop) implements StackStage {
        public Recurrent {
            Objects.requireNonNull(cell, "cell");
            Objects.requireNonNull(loop, "loop");
        }

        @Override
        public int inputSize() {
            return cell.inputSize();
        }

        @Override
        public int outputSize() {
            return cell.units();
        }
    }

    /**
     * A Keras Bidirectional layer: both directions run from zero states on the same input and mask
     * (a backend may run them at once), the second's output reversed in time when they return
     * sequences, then merged ({@link Merge#apply}).
     *
     * @param forward  the first direction
     * @param backward the second, with the opposite go_backwards and the same return_sequences
     * @param merge    how the outputs combine
     */
    record Bidirectional(Recurrent forward, Recurrent backward, Merge merge) implements StackStage {
        public Bidirectional {
            Objects.requireNonNull(forward, "forward");
            Objects.requireNonNull(backward, "backward");
            Objects.requireNonNull(merge, "merge");
            if (forward.inputSize() != backward.inputSize()
                    || forward.loop().returnSequences() != backward.loop().returnSequences()
                    || merge != Merge.CONCAT && forward.outputSize() != backward.outputSize()) {
                String units = merge != Merge.CONCAT ? " and units (merge " + merge.kerasName() + ")" : "";
                throw new IllegalArgumentException("A Bidirectional stage needs directions with the same input "
                        + "size and return_sequences" + units + "; got " + describe(forward) + " and "
                        + describe(backward) + ".");
            }
        }

        private static String describe(Recurrent r) {
            return r.cell().kind().kerasName() + " (" + r.inputSize() + " → " + r.outputSize()
                    + (r.loop().returnSequences() ? ", sequences" : "") + ")";
        }

        /** Whether the directions return sequences. */
        public boolean returnsSequences() {
            return forward.loop().returnSequences();
        }

        @Override
        public int inputSize() {
            return forward.inputSize();
        }

        @Override
        public int outputSize() {
            return merge == Merge.CONCAT ? forward.outputSize() + backward.outputSize() : forward.outputSize();
        }
    }

    /** How a Bidirectional layer merges its two outputs (Keras' merge_mode, but None). */
    enum Merge {
        CONCAT("concat"), SUM("sum"), MUL("mul"), AVE("ave");

        private final String kerasName;

        Merge(String kerasName) {
            this.kerasName = kerasName;
        }

        public String kerasName() {
            return kerasName;
        }

        /**
         * Merges the first direction's output with the second's (already reversed in time): concat
         * on the last axis (first, then second), or element-wise x + y, x · y, (x + y) / 2 in float.
         */
        public Tensor apply(Tensor first, Tensor second) {
            if (this == CONCAT) {
                int ha = first.dim(-1);
                int hb = second.dim(-1);
                int rows = first.size() / ha;
                float[] out = new float[rows * (ha + hb)];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(first.data(), r * ha, out, r * (ha + hb), ha);
                    System.arraycopy(second.data(), r * hb, out, r * (ha + hb) + ha, hb);
                }
                int[] shape = first.shape();
                shape[shape.length - 1] = ha + hb;
                return Tensor.wrap(out, shape);
            }
            float[] a = first.data();
            float[] b = second.data();
            float[] out = new float[a.length];
            for (int k = 0; k < out.length; k++) {
                out[k] = switch (this) {
                    case SUM -> a[k] + b[k];
                    case MUL -> a[k] * b[k];
                    default -> (a[k] + b[k]) / 2;
                };
            }
            return Tensor.wrap(out, first.shape());
        }

        /** y [B, T, H] with the time axis reversed. */
        public static Tensor reverseTime(Tensor y) {
            int b = y.dim(0);
            int t = y.dim(1);
            int h = y.dim(2);
            float[] out = new float[y.size()];
            for (int i = 0; i < b; i++) {
                for (int s = 0; s < t; s++) {
                    System.arraycopy(y.data(), (i * t + s) * h, out, (i * t + (t - 1 - s)) * h, h);
                }
            }
            return Tensor.wrap(out, b, t, h);
        }
    }

    /**
     * Keras {@code Dense} on the last axis: {@code y = activation(x·kernel + bias)}.
     *
     * @param kernel     [I, units]
     * @param bias       [units], or null for none
     * @param activation an element-wise activation
     */
    record Dense(Tensor kernel, Tensor bias, Activation activation) implements StackStage {
        public Dense {
            Objects.requireNonNull(kernel, "kernel");
            Objects.requireNonNull(activation, "activation");
            if (kernel.rank() != 2 || bias != null && !bias.hasShape(kernel.dim(1))) {
                throw new IllegalArgumentException("A Dense stage needs kernel [I, units] and bias [units] or none; got "
                        + "kernel " + Tensor.shapeString(kernel.shape()) + " and bias "
                        + (bias == null ? "none" : Tensor.shapeString(bias.shape())) + ".");
            }
        }

        @Override
        public int inputSize() {
            return kernel.dim(0);
        }

        @Override
        public int outputSize() {
            return kernel.dim(1);
        }
    }
}
