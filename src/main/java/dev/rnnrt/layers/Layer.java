package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A Keras layer that can sit in a model: it knows its output shapes for given input shapes, how
 * masks pass through it, and how to run.
 *
 * <p>Shapes here leave out the batch axis, as Keras' {@code input_shape} does, and write an
 * unknown size (Keras' {@code None}) as -1. Tensors passed to {@link #call} have the batch axis.
 */
public abstract class Layer {

    private static final Map<String, AtomicInteger> NAME_COUNTERS = new ConcurrentHashMap<>();
    private static final AtomicLong MADE = new AtomicLong();

    private final String name;
    /**
     * The order layers were made in. A layer made of others makes them after itself, so that
     * taking the locks of stateful layers in this order takes a layer's before its parts', as its
     * own calls do ({@link SavedStates#restoringOnFailure}).
     */
    private final long made = MADE.getAndIncrement();

    protected Layer(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("A layer name must not be empty.");
        }
        this.name = name;
    }

    /** A fresh Keras-style name: "dense", then "dense_1", "dense_2", … */
    protected static String uniqueName(String base) {
        int n = NAME_COUNTERS.computeIfAbsent(base, k -> new AtomicInteger()).getAndIncrement();
        return n == 0 ? base : base + "_" + n;
    }

    /** The layer's name, unique within a model. */
    public String name() {
        return name;
    }

    /** The Keras class name, e.g. "Dense". */
    public abstract String className();

    /**
     * The shapes this layer outputs for inputs of the given shapes (no batch axis, -1 = unknown).
     *
     * @throws IllegalArgumentException naming this layer, the expected and the actual shape
     */
    public abstract List<int[]> outputShapes(List<int[]> inputShapes);

    /**
     * Runs the layer.
     *
     * @param inputs one tensor per input, each with the batch axis first; not modified
     * @param masks  one entry per input: its [batch, timesteps] mask, or null
     * @return the outputs, in the order of {@link #outputShapes}
     */
    public abstract List<Tensor> call(List<Tensor> inputs, List<Mask> masks);

    /** Keras' {@code supports_masking}: whether a mask may reach this layer. Default: true. */
    public boolean supportsMasking() {
        return true;
    }

    /**
     * Whether tf.keras (from 2.4) and Keras 3 would stop a mask reaching this layer, which does not
     * support masking, and compute over the masked steps (see {@code
     * ModelBuilder.dropUnusedMasks}). False where Keras would use the mask in a way this layer does
     * not follow. Default: true for layers without {@link #supportsMasking()}.
     */
    public boolean kerasDropsMask() {
        return !supportsMasking();
    }

    /**
     * The output masks, one per output (null for none). Default, as Keras' base layer: with
     * {@code supports_masking} every output carries the first input's mask; without it, none.
     */
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        Mask m = masks.isEmpty() || !supportsMasking() ? null : masks.get(0);
        return Collections.nCopies(outputs.size(), m);
    }

    /**
     * Whether this layer makes its output's mask itself, whatever mask came in (Keras' Masking and
     * Embedding with mask_zero): a mask after it comes from it. Default false.
     */
    public boolean makesMask() {
        return false;
    }

    /** Whether this layer runs a whole model ({@code NestedModel}). Default false. */
    public boolean isModel() {
        return false;
    }

    /** Which outputs carry a mask, given which inputs do; the static form of {@link #outputMasks}. */
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        boolean m = supportsMasking() && !inputsMasked.isEmpty() && inputsMasked.get(0);
        return Collections.nCopies(outputCount, m);
    }

    /** The fewest inputs the layer takes. */
    public int minInputs() {
        return 1;
    }

    /** The most inputs the layer takes. */
    public int maxInputs() {
        return 1;
    }

    /**
     * Makes the weights this layer still lacks from its initializers, now that the shapes of its
     * inputs are known (no batch axis, -1 = unknown), as Keras' {@code build(input_shape)}; a model's
     * {@code build()} calls it on every layer. Layers whose weights follow from their input's last
     * axis make them where that axis is known, wrappers build the layers they wrap (for the shapes
     * those see), and layers without such weights, or with weights already, do nothing (the default).
     *
     * @throws IllegalArgumentException naming the layer, if it has weights for another input size
     */
    public void build(List<int[]> inputShapes) {
    }

    /** The size of the first input's last axis, or -1 where it is unknown or there is none. */
    protected static int lastAxis(List<int[]> inputShapes) {
        int[] x = inputShapes.isEmpty() ? new int[0] : inputShapes.get(0);
        return x.length == 0 ? -1 : x[x.length - 1];
    }

    /** The number of weight values. */
    public long parameterCount() {
        return 0;
    }

    /** Whether the layer carries state from one call to the next. */
    public boolean isStateful() {
        return false;
    }

    /** Forgets carried state; a no-op for layers without any. */
    public void resetState() {
    }

    /**
     * The states this layer carries from call to call, as they are now, to put back with
     * {@link SavedStates#restore()}: a model, or a layer made of several recurrent layers, takes
     * them before a call and restores them when the call fails part way, so that a failed call
     * leaves every state as it was. {@link SavedStates#NONE} for layers without carried states
     * (the default).
     */
    public SavedStates saveStates() {
        return SavedStates.NONE;
    }

    /**
     * Adds the layers whose locks guard this layer's carried states: a stateful recurrent layer
     * itself; a stateful layer made of recurrent layers, itself and its parts'. Nothing for
     * layers without carried states (the default).
     */
    void addStateLocks(List<Layer> out) {
    }

    /** {@link #addStateLocks} of a layer made of {@code parts}: its own lock, then its parts'. */
    final void addStateLocksWith(List<Layer> out, Layer... parts) {
        if (isStateful()) {
            out.add(this);
            for (Layer p : parts) {
                p.addStateLocks(out);
            }
        }
    }

    /** Carried states taken by {@link #saveStates()}, to put back after a call that failed. */
    @FunctionalInterface
    public interface SavedStates {

        /** Nothing to put back: a layer without carried states. */
        SavedStates NONE = () -> { };

        /** Puts the states back as they were when they were taken. */
        void restore();

        /**
         * The states of all of {@code layers}, restored together: each is put back even where
         * another's restore throws, and then the first such failure is thrown.
         */
        static SavedStates of(List<? extends Layer> layers) {
            List<SavedStates> each = new ArrayList<>();
            for (Layer l : layers) {
                SavedStates s = l.saveStates();
                if (s != NONE) {
                    each.add(s);
                }
            }
            return each.isEmpty() ? NONE : () -> {
                Throwable first = null;
                for (SavedStates s : each) {
                    try {
                        s.restore();
                    } catch (RuntimeException | Error e) {
                        if (first == null) {
                            first = e;
                        } else if (first != e) {
                            first.addSuppressed(e);
                        }
                    }
                }
                if (first instanceof Error e) {
                    throw e;
                }
                if (first != null) {
                    throw (RuntimeException) first;
                }
            };
        }

        /**
         * Runs {@code call}, and when it throws, puts the states of {@code layers} back as they
         * were before it and rethrows: for calls that run several stateful layers, or one several
         * times, where a failure after the first has advanced some states would otherwise leave
         * them so. Where putting them back throws too, that failure is added to the call's as
         * suppressed. From taking the states to putting them back it holds the locks of the
         * stateful layers among {@code layers} and of their parts, so that no other call, reset
         * or model sharing a layer changes their states in between, to be undone by the restore.
         */
        static <T> T restoringOnFailure(List<? extends Layer> layers, Supplier<T> call) {
            Set<Layer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            List<Layer> locks = new ArrayList<>();
            for (Layer l : layers) {
                List<Layer> mine = new ArrayList<>();
                l.addStateLocks(mine);
                for (Layer m : mine) {
                    if (seen.add(m)) {
                        locks.add(m);
                    }
                }
            }
            // one order for every caller, a layer before its parts as its own calls take them: no deadlock
            locks.sort(Comparator.comparingLong(l -> l.made));
            return holding(locks, 0, () -> {
                SavedStates before = of(layers);
                try {
                    return call.get();
                } catch (Throwable e) {
                    try {
                        before.restore();
                    } catch (Throwable restoring) {
                        if (restoring != e) {
                            e.addSuppressed(restoring);
                        }
                    }
                    throw e;
                }
            });
        }

        /** Runs {@code body} holding the locks of {@code locks} from index {@code k} on, in order. */
        private static <T> T holding(List<Layer> locks, int k, Supplier<T> body) {
            if (k == locks.size()) {
                return body.get();
            }
            synchronized (locks.get(k)) {
                return holding(locks, k + 1, body);
            }
        }
    }

    /** The options worth showing in a model summary, Keras names, e.g. "units=64, activation=tanh". */
    public String describeOptions() {
        return "";
    }

    /** "Layer 'dense_1' (Dense)", the way messages name this layer. */
    public String describe() {
        return "Layer '" + name + "' (" + className() + ")";
    }

    @Override
    public String toString() {
        return describe();
    }

    // ---- helpers for subclasses ----------------------------------------------------------------

    /** A shape without batch axis as messages print it: [batch, ?, 64]. */
    public static String shapeText(int[] shapeWithoutBatch) {
        StringBuilder sb = new StringBuilder("[batch");
        for (int d : shapeWithoutBatch) {
            sb.append(", ").append(d < 0 ? "?" : Integer.toString(d));
        }
        return sb.append(']').toString();
    }

    /** Checks the input count; the message names this layer. */
    protected final void checkInputCount(int count) {
        if (count < minInputs() || count > maxInputs()) {
            String expected = minInputs() == maxInputs() ? Integer.toString(minInputs())
                    : minInputs() + " to " + (maxInputs() == Integer.MAX_VALUE ? "any number" : maxInputs());
            throw new IllegalArgumentException(describe() + " takes " + expected + " input(s); got " + count + ".");
        }
    }

    /** Checks a shape's rank; the message names this layer. */
    protected final void checkRank(int[] shape, int rankWithoutBatch, String expected) {
        if (shape.length != rankWithoutBatch) {
            throw new IllegalArgumentException(describe() + " expects input " + expected + "; got "
                    + shapeText(shape) + ".");
        }
    }

    /**
     * Refuses a weight that is null or not of the {@code expected} shape, naming this layer, the
     * weight, the expected and the actual shape.
     */
    protected final void checkWeightShape(String weight, Tensor t, int... expected) {
        if (t == null || !t.hasShape(expected)) {
            throw new IllegalArgumentException(describe() + ": weight '" + weight + "' must have shape "
                    + Tensor.shapeString(expected) + "; got " + (t == null ? "null" : Tensor.shapeString(t.shape()))
                    + ".");
        }
    }

    /**
     * The number of values of an output of this shape (batch axis included), checked to fit a Java
     * array; otherwise an error naming the layer, the shape and what to do.
     */
    protected final int valueCount(long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(describe() + ": an output of shape " + java.util.Arrays.toString(shape)
                        + " has more values than a Java array holds (2^31 - 9). " + (shape[0] > 1
                        ? "Predict in smaller batches (predict(inputs, batchSize), or --batch-size on the command line)."
                        : "Even one sequence's output is that large: give shorter sequences."));
            }
        }
        return (int) n;
    }

    /** {@link #valueCount(long...)} of an output shape given as ints (batch axis included). */
    protected final int valueCount(int[] shape) {
        long[] s = new long[shape.length];
        for (int d = 0; d < shape.length; d++) {
            s[d] = shape[d];
        }
        return valueCount(s);
    }

    /**
     * {@code init}'s values for this layer's weight {@code which} of the given shape, checked: an
     * initializer that gives null or another number of values than the shape holds fails here, naming
     * this layer, the initializer argument and the counts.
     *
     * @throws IllegalStateException if the initializer's values do not fit the shape
     */
    protected final float[] initialValues(String which, Initializer init, int... shape) {
        float[] values = init.sample(shape.clone());
        int n = Initializer.count(shape);
        if (values == null || values.length != n) {
            throw new IllegalStateException(describe() + ": " + which + " returned "
                    + (values == null ? "nothing" : values.length + " values") + " for shape "
                    + Tensor.shapeString(shape) + ", which holds " + n + ".");
        }
        return values;
    }

    /** A new mutable list holding {@code first}. */
    protected static <T> List<T> listOf(T first) {
        List<T> l = new ArrayList<>();
        l.add(first);
        return l;
    }
}
