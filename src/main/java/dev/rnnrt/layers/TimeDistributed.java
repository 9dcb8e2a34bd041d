package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Keras {@code TimeDistributed(layer)}: applies the inner layer to every timestep of
 * [batch, timesteps, ...] and keeps the mask. The inner layer sees [batch × timesteps, ...]; a
 * recurrent or Bidirectional layer inside runs over each step's own sequence of a
 * [batch, timesteps, time, features] input (hierarchical models), without masks; so does a whole
 * model ({@link dev.rnnrt.model.NestedModel}), which makes its own masks inside. A mask the wrapped
 * layer makes (Masking, Embedding with mask_zero) is not passed on, as in Keras 3.
 */
public final class TimeDistributed extends Layer {

    private final Layer inner;

    private TimeDistributed(String name, Layer inner) {
        super(name);
        this.inner = inner;
        if (inner.maxInputs() < 1 || inner.isStateful()) {
            throw new IllegalArgumentException("TimeDistributed cannot wrap " + inner.describe()
                    + (inner.isStateful() ? ", which is stateful: its states would pass between the sequences of "
                    + "different steps" : "") + ".");
        }
    }

    /** A recurrent layer inside runs over the inner sequences, [batch, steps, time, features] → per step. */
    private boolean wrapsRecurrent() {
        return inner instanceof RecurrentLayer || inner instanceof Bidirectional || inner instanceof StackedRnn
                || inner instanceof BidirectionalStack
                || inner.isModel();
    }

    /**
     * Takes a mask only where the wrapped layer acts on single steps: a mask over [batch, steps] means
     * nothing to a recurrent layer over each step's own sequence (Keras fails on such a mask).
     */
    @Override
    public boolean supportsMasking() {
        return !wrapsRecurrent();
    }

    /** Keras passes the mask on into the wrapped layer's steps; rnnrt refuses it there. */
    @Override
    public boolean kerasDropsMask() {
        return false;
    }

    /** Wraps {@code inner}, named "time_distributed", "time_distributed_1", … */
    public static TimeDistributed of(Layer inner) {
        return new TimeDistributed(uniqueName("time_distributed"), inner);
    }

    /** Wraps {@code inner} under the given name. */
    public static TimeDistributed of(String name, Layer inner) {
        return new TimeDistributed(name, inner);
    }

    /** The wrapped layer. */
    public Layer inner() {
        return inner;
    }

    @Override
    public String className() {
        return "TimeDistributed";
    }

    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        int[] x = inputShapes.get(0);
        if (x.length < 2) {
            throw new IllegalArgumentException(describe() + " expects input [batch, timesteps, ...]; got "
                    + shapeText(x) + ".");
        }
        int[] step = java.util.Arrays.copyOfRange(x, 1, x.length);
        List<int[]> innerOut;
        try {
            innerOut = inner.outputShapes(List.of(step));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(describe() + ": " + e.getMessage(), e);
        }
        List<int[]> out = new ArrayList<>();
        for (int[] s : innerOut) {
            int[] o = new int[s.length + 1];
            o[0] = x[0];
            System.arraycopy(s, 0, o, 1, s.length);
            out.add(o);
        }
        return out;
    }

    /** x is [B, T, ...]; the inner layer runs on [B·T, ...]. */
    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        Tensor x = inputs.get(0);
        if (x.rank() < 3) {
            throw new IllegalArgumentException(describe() + " expects input [batch, timesteps, ...]; got "
                    + Tensor.shapeString(x.shape()) + ".");
        }
        int[] shape = x.shape();
        int[] flat = new int[shape.length - 1];
        flat[0] = shape[0] * shape[1];
        System.arraycopy(shape, 2, flat, 1, shape.length - 2);
        List<Tensor> results;
        try {
            results = inner.call(List.of(x.reshape(flat)), java.util.Collections.singletonList(null));
        } catch (InputValueException e) {
            // the inner layer's row r is batch position r / T, step r % T
            int[] at = e.position();
            int[] back = new int[at.length + 1];
            back[0] = at[0] / shape[1];
            back[1] = at[0] % shape[1];
            System.arraycopy(at, 1, back, 2, at.length - 1);
            throw e.at(describe() + ", running it on each step,", back);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(describe() + " runs " + inner.describe() + " on each step's input, "
                    + "batch and steps as one axis: " + Tensor.shapeString(flat) + " from " + Tensor.shapeString(shape)
                    + ". " + e.getMessage(), e);
        }
        List<Tensor> out = new ArrayList<>();
        for (Tensor y : results) {
            int[] ys = y.shape();
            int[] back = new int[ys.length + 1];
            back[0] = shape[0];
            back[1] = shape[1];
            System.arraycopy(ys, 1, back, 2, ys.length - 1);
            out.add(y.reshape(back));
        }
        return out;
    }

    /** Builds the wrapped layer for what it sees: each step of the input, [timesteps, ...] without the first axis. */
    @Override
    public void build(List<int[]> inputShapes) {
        int[] x = inputShapes.isEmpty() ? new int[0] : inputShapes.get(0);
        if (x.length >= 2) {
            inner.build(List.of(java.util.Arrays.copyOfRange(x, 1, x.length)));
        }
    }

    @Override
    public long parameterCount() {
        return inner.parameterCount();
    }

    @Override
    public String describeOptions() {
        return "layer=" + inner.className() + "(" + inner.describeOptions() + ")";
    }
}
