package dev.rnnrt.layers;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.StackCall;
import dev.rnnrt.backend.StackStage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Keras {@code RNN(StackedRNNCells([cell, cell, …]))}, also written {@code RNN([cell, cell, …])}
 * (keras/src/layers/rnn/stacked_rnn_cells.py): at every step the cells run one after the other,
 * each on the output of the one before, and the layer's output is the last cell's.
 *
 * <ul>
 *   <li>The cells are SimpleRNN, LSTM or GRU layers with their default loop options; the stack's
 *       {@code return_sequences}, {@code return_state}, {@code go_backwards}, {@code stateful}
 *       and {@code zero_output_for_mask} apply to it as a whole.</li>
 *   <li>{@code initial_state} and the returned states are the cells' states one cell after the
 *       other: [h1, c1, h2, c2] for two LSTM cells (Keras 3 nests them per cell, [[h1, c1],
 *       [h2, c2]]; their order is the same). Keras 2.0.9-2.2.2 listed them last cell first,
 *       [h2, c2, h1, c1]: {@link Builder#reverseStateOrder}.</li>
 *   <li>A masked step leaves every cell's state as it was (Keras' RNN masks the stacked cell as
 *       one). With {@code go_backwards}, every cell reads the steps in reverse, the first cell's
 *       input and the others' inputs (the first cell's outputs) alike.</li>
 *   <li>Weights: each cell's in its Keras order, one cell after the other, as Keras' {@code
 *       get_weights} lists them.</li>
 * </ul>
 * It computes what stacked layers ({@code LSTM(…, return_sequences=True)} then {@code LSTM(…)})
 * compute, and runs as such: each cell is a recurrent layer, and a stack that a backend keeps on
 * its device ({@link RecurrentBackend#keepsStacks()}) runs there without copies between cells.
 *
 * <p>Unlike Keras' stacked cells, which are the cell objects themselves, the stack runs copies of
 * the layers given to its builder ({@link #cells()}), made when it is built, with the weights those
 * layers have at that moment. Weights set on a given layer afterwards do not reach the stack: set
 * them with {@link #setWeights}, or on {@link #cells()}.
 */
public final class StackedRnn extends Layer {

    private final List<RecurrentLayer> cells;
    private final boolean returnSequences;
    private final boolean returnState;
    private final boolean goBackwards;
    private final boolean stateful;
    private final boolean zeroOutputForMask;
    private final boolean reverseStateOrder;
    private final boolean maskedOutputIsFirstCellState;

    private StackedRnn(Builder b) {
        super(b.name != null ? b.name : uniqueName("rnn"));
        if (b.cells.isEmpty()) {
            throw new IllegalArgumentException("StackedRnn '" + name() + "' needs at least one cell; got none.");
        }
        this.returnSequences = b.returnSequences;
        this.returnState = b.returnState;
        this.goBackwards = b.goBackwards;
        this.stateful = b.stateful;
        this.zeroOutputForMask = b.zeroOutputForMask;
        this.reverseStateOrder = b.reverseStateOrder;
        this.maskedOutputIsFirstCellState = b.maskedOutputIsFirstCellState;
        List<RecurrentLayer> made = new ArrayList<>();
        int n = b.cells.size();
        for (int k = 0; k < n; k++) {
            RecurrentLayer c = b.cells.get(k);
            if (c == null) {
                throw new IllegalArgumentException("StackedRnn '" + name() + "': cell " + k + " is null.");
            }
            if (c.returnSequences() || c.returnState() || c.goBackwards() || c.stateful() || c.timeMajor()
                    || c.zeroOutputForMask()) {
                throw new IllegalArgumentException("StackedRnn '" + name() + "': cell " + k + ", " + c.describe()
                        + ", sets " + c.describeOptions() + "; a cell takes none of return_sequences, return_state, "
                        + "go_backwards, stateful, time_major and zero_output_for_mask. Set them on the stack.");
            }
            boolean last = k == n - 1;
            // a cell's outputs at masked steps never reach the next cell, which keeps its state there;
            // the last cell's are the stack's
            RecurrentLayer.LoopOptions loop = new RecurrentLayer.LoopOptions(!last || returnSequences, false,
                    k == 0 && goBackwards, stateful, last && zeroOutputForMask);
            RecurrentLayer cell = c.recreate(name() + "/" + c.name(), loop);
            if (c.isBuilt()) {
                cell.setWeights(c.getWeights());
            }
            made.add(cell);
        }
        this.cells = List.copyOf(made);
        for (int k = 1; k < n; k++) {
            RecurrentLayer cell = cells.get(k);
            int width = cells.get(k - 1).units();
            if (cell.isBuilt() && cell.getWeights().get(0).dim(0) != width) {
                throw new IllegalArgumentException("StackedRnn '" + name() + "': cell " + k + ", " + cell.describe()
                        + ", has a kernel for " + cell.getWeights().get(0).dim(0) + " input features, but cell "
                        + (k - 1) + " outputs " + width + ".");
            }
        }
    }

    /**
     * A new stack of copies of this one's cells (with {@code copyWeights}, their weights too, where
     * built), under {@code name}, with {@code go_backwards} and {@code zero_output_for_mask} as given
     * and the other options this one's: Bidirectional's two directions.
     */
    StackedRnn recreate(String name, boolean goBackwards, boolean zeroOutputForMask, boolean copyWeights) {
        List<RecurrentLayer> plain = new ArrayList<>();
        for (RecurrentLayer c : cells) {
            RecurrentLayer p = c.recreate(c.name().substring(name().length() + 1),
                    new RecurrentLayer.LoopOptions(false, false, false, false, false));
            if (copyWeights && c.isBuilt()) {
                p.setWeights(c.getWeights());
            }
            plain.add(p);
        }
        return builder(plain).name(name).returnSequences(returnSequences).returnState(returnState)
                .goBackwards(goBackwards).stateful(stateful).zeroOutputForMask(zeroOutputForMask)
                .reverseStateOrder(reverseStateOrder).maskedOutputIsFirstCellState(maskedOutputIsFirstCellState).build();
    }

    /**
     * A stack of the given cells (SimpleRnn, Lstm or Gru layers with default loop options), first to
     * last. The stack runs copies of them (see the class comment): later weights go to the stack.
     */
    public static Builder builder(RecurrentLayer... cells) {
        return new Builder(java.util.Arrays.asList(cells));
    }

    /** A stack of the given cells, first to last. */
    public static Builder builder(List<RecurrentLayer> cells) {
        return new Builder(cells);
    }

    /** The cells as this stack runs them (each a recurrent layer named "&lt;stack&gt;/&lt;cell&gt;"), first to last. */
    public List<RecurrentLayer> cells() {
        return cells;
    }

    public boolean returnSequences() {
        return returnSequences;
    }

    public boolean returnState() {
        return returnState;
    }

    public boolean goBackwards() {
        return goBackwards;
    }

    public boolean stateful() {
        return stateful;
    }

    public boolean zeroOutputForMask() {
        return zeroOutputForMask;
    }

    /** Whether initial and returned states list the cells last first (Keras 2.0.9-2.2.2). */
    public boolean reverseStateOrder() {
        return reverseStateOrder;
    }

    /** The cells' indices in the order their states are listed. */
    private List<Integer> stateOrder() {
        List<Integer> order = new ArrayList<>();
        for (int k = 0; k < cells.size(); k++) {
            order.add(reverseStateOrder ? cells.size() - 1 - k : k);
        }
        return order;
    }

    /** Each cell's part of a flat list of states (or their shapes), listed in {@link #stateOrder()}. */
    private <T> List<List<T>> perCell(List<T> flat) {
        List<List<T>> out = new ArrayList<>(Collections.nCopies(cells.size(), (List<T>) null));
        int at = 0;
        for (int k : stateOrder()) {
            int n = cells.get(k).stateCount();
            out.set(k, flat.subList(at, at + n));
            at += n;
        }
        return out;
    }

    /** The cells' states, given per cell, as one flat list in {@link #stateOrder()}. */
    private <T> List<T> flat(List<List<T>> perCell) {
        List<T> out = new ArrayList<>();
        for (int k : stateOrder()) {
            out.addAll(perCell.get(k));
        }
        return out;
    }

    /** Keras' class: the RNN layer that runs the stacked cells. */
    @Override
    public String className() {
        return "RNN";
    }

    /** The number of initial or returned states: the cells' states together. */
    public int stateCount() {
        int n = 0;
        for (RecurrentLayer c : cells) {
            n += c.stateCount();
        }
        return n;
    }

    /** Builds every cell for the input's features ({@link #build(int)}) where they are known. */
    @Override
    public void build(List<int[]> inputShapes) {
        int features = lastAxis(inputShapes);
        if (features >= 1) {
            build(features);
        }
    }

    /** Builds every cell for inputs of {@code inputSize} features (each later cell for the one before's units). */
    public void build(int inputSize) {
        int width = inputSize;
        for (RecurrentLayer c : cells) {
            c.build(width);
            width = c.units();
        }
    }

    /** The Keras names of the weights, in order: "&lt;cell&gt;/kernel", … for each cell. */
    public List<String> weightNames() {
        List<String> out = new ArrayList<>();
        for (RecurrentLayer c : cells) {
            for (String w : c.weightNames()) {
                out.add(c.name() + "/" + w);
            }
        }
        return out;
    }

    /**
     * Each cell's weights in its Keras order, one cell after the other; copied. Every weight is
     * checked before any is set: a bad one changes nothing.
     *
     * @throws IllegalArgumentException naming the stack, the cell, the weight, its expected and actual shape
     */
    public void setWeights(List<Tensor> weights) {
        checkWeights(weights);
        int at = 0;
        for (RecurrentLayer c : cells) {
            int n = c.weightNames().size();
            c.setWeights(weights.subList(at, at + n));
            at += n;
        }
    }

    /** Checks weights as {@link #setWeights} takes them, changing nothing. */
    void checkWeights(List<Tensor> weights) {
        int total = weightNames().size();
        if (weights == null || weights.size() != total) {
            throw new IllegalArgumentException(describe() + " has " + total + " weights (" + String.join(", ", weightNames())
                    + "); got " + (weights == null ? 0 : weights.size()) + ".");
        }
        int at = 0;
        int width = -1;
        for (int k = 0; k < cells.size(); k++) {
            RecurrentLayer c = cells.get(k);
            List<Tensor> mine = weights.subList(at, at + c.weightNames().size());
            Tensor kernel = mine.get(0);
            if (k > 0 && kernel != null && kernel.rank() == 2 && kernel.dim(0) != width) {
                throw new IllegalArgumentException(describe() + ": cell " + k + " (" + c.name() + ") reads cell "
                        + (k - 1) + "'s " + width + " outputs, so its kernel must have shape [" + width + ", "
                        + kernel.dim(1) + "]; got " + Tensor.shapeString(kernel.shape()) + ".");
            }
            c.checkWeights(mine);
            at += mine.size();
            width = c.units();
        }
    }

    /** Each cell's weights, one cell after the other (copies). */
    public List<Tensor> getWeights() {
        List<Tensor> out = new ArrayList<>();
        for (RecurrentLayer c : cells) {
            out.addAll(c.getWeights());
        }
        return out;
    }

    @Override
    public int maxInputs() {
        return 1 + stateCount();
    }

    /** Inputs: x [T, I], then optionally every cell's initial states in order, each [units of its cell]. */
    @Override
    public List<int[]> outputShapes(List<int[]> inputShapes) {
        checkInputCount(inputShapes.size());
        checkStateCount(inputShapes.size() - 1);
        int[] x = inputShapes.get(0);
        checkRank(x, 2, "[batch, timesteps, features]");
        int[] seq = x;
        List<List<int[]>> initial = inputShapes.size() > 1 ? perCell(inputShapes.subList(1, inputShapes.size())) : null;
        List<List<int[]>> states = new ArrayList<>();
        for (int k = 0; k < cells.size(); k++) {
            RecurrentLayer c = cells.get(k);
            List<int[]> in = new ArrayList<>();
            in.add(seq);
            if (initial != null) {
                in.addAll(initial.get(k));
            }
            List<int[]> out = c.outputShapes(in);
            seq = out.get(0);
            List<int[]> mine = new ArrayList<>();
            for (int j = 0; j < c.stateCount(); j++) {
                mine.add(new int[] {c.units()});
            }
            states.add(mine);
        }
        List<int[]> out = new ArrayList<>();
        out.add(seq);
        if (returnState) {
            out.addAll(flat(states));
        }
        return out;
    }

    /**
     * Inputs: x [B, T, I], then optionally the cells' initial states; the mask applies to x. A
     * stateful stack's call that throws leaves every cell's carried states as they were.
     */
    @Override
    public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
        checkInputCount(inputs.size());
        checkStateCount(inputs.size() - 1);
        Tensor x = inputs.get(0);
        Mask mask = masks == null || masks.isEmpty() ? null : masks.get(0);
        if (inputs.size() == 1 && !returnState && !(maskedOutputIsFirstCellState && mask != null)) {
            Tensor onDevice = onStack(x, mask);
            if (onDevice != null) {
                return listOf(onDevice);
            }
        }
        if (!stateful) {
            return runCells(inputs, mask);
        }
        // the cells run one after the other: when a later one fails, the earlier ones' states go
        // back, so that a failed call leaves every cell's states as they were
        return SavedStates.restoringOnFailure(List.of(this), () -> runCells(inputs, mask));
    }

    /** The cells one after the other on the host: inputs as {@link #call}, mask x's or null. */
    private List<Tensor> runCells(List<Tensor> inputs, Mask mask) {
        Tensor seq = inputs.get(0);
        Mask m = mask;
        List<List<Tensor>> initial = inputs.size() > 1 ? perCell(inputs.subList(1, inputs.size())) : null;
        List<List<Tensor>> states = new ArrayList<>();
        Tensor firstCellSequence = null;
        for (int k = 0; k < cells.size(); k++) {
            RecurrentOutput out = cells.get(k).call(seq, initial == null ? null : initial.get(k), m);
            seq = out.output();
            states.add(out.states());
            if (k == 0) {
                firstCellSequence = seq;
            }
            if (k == 0 && goBackwards && m != null) {
                m = reversed(m);        // the next cells read the first one's outputs, in its (reversed) order
            }
        }
        if (maskedOutputIsFirstCellState && m != null && cells.size() > 1 && !zeroOutputForMask) {
            seq = firstCellStateAtMaskedSteps(seq, firstCellSequence, m);
        }
        List<Tensor> out = new ArrayList<>();
        out.add(seq);
        if (returnState) {
            out.addAll(flat(states));
        }
        return out;
    }

    /**
     * The stack on a backend that keeps it on its device, as one {@link StackCall}; null where that
     * does not apply (another backend, carried states, a mask the later cells read reversed, an
     * input that does not fit: the cells then run one by one and say what is wrong).
     */
    private Tensor onStack(Tensor x, Mask mask) {
        RecurrentBackend backend = cells.get(0).backend();
        if (!backend.keepsStacks() || stateful || goBackwards && mask != null || x == null || x.rank() != 3
                || x.dim(0) < 1 || x.dim(1) < 1 || mask != null && (mask.rows() != x.dim(0) || mask.cols() != x.dim(1))) {
            return null;
        }
        List<StackStage> stages = new ArrayList<>();
        int width = x.dim(2);
        for (RecurrentLayer c : cells) {
            StackStage.Recurrent stage = c.backend() == backend ? c.stackStage(width) : null;
            if (stage == null) {
                return null;
            }
            stages.add(stage);
            width = c.units();
        }
        return backend.forwardStack(new StackCall(stages, x, mask));
    }

    private void checkStateCount(int given) {
        if (given != 0 && given != stateCount()) {
            StringBuilder each = new StringBuilder();
            for (int k : stateOrder()) {
                RecurrentLayer c = cells.get(k);
                each.append(each.length() == 0 ? "" : ", ").append(c.stateCount() == 2 ? "[h, c]" : "[h]")
                        .append(" of ").append(c.units());
            }
            throw new IllegalArgumentException(describe() + ": initial_state must be " + stateCount()
                    + " tensors, each cell's states in turn" + (reverseStateOrder ? ", the last cell's first" : "")
                    + " (" + each + "); got " + given + ".");
        }
    }

    /**
     * {@link Builder#maskedOutputIsFirstCellState}: at the masked steps (m, in processing order) the
     * output is the first cell's state h there, which is that cell's output sequence (a masked step
     * keeps its state, and before its first step it outputs its initial state: its own rule).
     */
    private Tensor firstCellStateAtMaskedSteps(Tensor out, Tensor first, Mask m) {
        int units = cells.get(cells.size() - 1).units();
        if (cells.get(0).units() != units) {
            throw new IllegalArgumentException(describe() + ": Keras 2.2.3-2.2.4 gave masked steps the first cell's "
                    + "state, which needs the first and last cells to have the same units; got "
                    + cells.get(0).units() + " and " + units + ".");
        }
        int batch = m.rows();
        int time = m.cols();
        float[] o = out.data().clone();
        float[] f = first.data();
        for (int b = 0; b < batch; b++) {
            if (returnSequences) {
                for (int p = 0; p < time; p++) {
                    if (!m.get(b, p)) {
                        System.arraycopy(f, (b * time + p) * units, o, (b * time + p) * units, units);
                    }
                }
            } else if (!m.get(b, time - 1)) {
                System.arraycopy(f, (b * time + time - 1) * units, o, b * units, units);
            }
        }
        return Tensor.wrap(o, out.shape());
    }

    private static Mask reversed(Mask m) {
        boolean[][] v = new boolean[m.rows()][m.cols()];
        for (int i = 0; i < m.rows(); i++) {
            for (int j = 0; j < m.cols(); j++) {
                v[i][j] = m.get(i, m.cols() - 1 - j);
            }
        }
        return Mask.of(v);
    }

    /** The sequence output keeps x's mask with return_sequences, as Keras' RNN.compute_mask; states carry none. */
    @Override
    public List<Mask> outputMasks(List<Tensor> inputs, List<Mask> masks, List<Tensor> outputs) {
        return RecurrentLayer.rnnOutputMasks(returnSequences, masks, outputs.size());
    }

    @Override
    public List<Boolean> outputsMasked(List<Boolean> inputsMasked, int outputCount) {
        return RecurrentLayer.rnnOutputsMasked(returnSequences, inputsMasked, outputCount);
    }

    @Override
    public long parameterCount() {
        long n = 0;
        for (RecurrentLayer c : cells) {
            n += c.parameterCount();
        }
        return n;
    }

    @Override
    public boolean isStateful() {
        return stateful;
    }

    /** Forgets every cell's carried states (stateful stacks); a no-op otherwise. */
    @Override
    public void resetState() {
        for (RecurrentLayer c : cells) {
            c.resetState();
        }
    }

    /** A stateful layer's lock, and its parts', guard its carried states. */
    @Override
    void addStateLocks(List<Layer> out) {
        addStateLocksWith(out, cells.toArray(new Layer[0]));
    }

    /** Every cell's carried states (stateful stacks); {@link SavedStates#NONE} otherwise. */
    @Override
    public SavedStates saveStates() {
        return SavedStates.of(cells);
    }

    @Override
    public String describeOptions() {
        StringBuilder sb = new StringBuilder("cells=[");
        for (int k = 0; k < cells.size(); k++) {
            RecurrentLayer c = cells.get(k);
            sb.append(k == 0 ? "" : ", ").append(c.className()).append("Cell(").append(cellOptions(c)).append(')');
        }
        sb.append(']');
        for (String[] o : new String[][] {{"return_sequences", String.valueOf(returnSequences)},
                {"return_state", String.valueOf(returnState)}, {"go_backwards", String.valueOf(goBackwards)},
                {"stateful", String.valueOf(stateful)}, {"zero_output_for_mask", String.valueOf(zeroOutputForMask)}}) {
            if (o[1].equals("true")) {
                sb.append(", ").append(o[0]).append("=True");
            }
        }
        if (reverseStateOrder) {
            sb.append(", states listed last cell first (Keras 2.0.9-2.2.2)");
        }
        if (maskedOutputIsFirstCellState) {
            sb.append(", masked steps output the first cell's state (Keras 2.2.3-2.2.4 on TensorFlow)");
        }
        return sb.toString();
    }

    /** A cell's own options: its layer's, less the loop options the stack sets. */
    private static String cellOptions(RecurrentLayer c) {
        StringBuilder sb = new StringBuilder();
        for (String part : c.describeOptions().split(", ")) {
            if (!part.startsWith("return_sequences") && !part.startsWith("go_backwards") && !part.startsWith("stateful")
                    && !part.startsWith("zero_output_for_mask") && !part.startsWith("return_state")) {
                sb.append(sb.length() == 0 ? "" : ", ").append(part);
            }
        }
        return sb.toString();
    }

    /** Keras' RNN arguments for the stack. */
    public static final class Builder {
        private final List<RecurrentLayer> cells;
        private String name;
        private boolean returnSequences;
        private boolean returnState;
        private boolean goBackwards;
        private boolean stateful;
        private boolean zeroOutputForMask;
        private boolean reverseStateOrder;
        private boolean maskedOutputIsFirstCellState;

        private Builder(List<RecurrentLayer> cells) {
            this.cells = new ArrayList<>(Objects.requireNonNull(cells, "cells"));
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder returnSequences(boolean returnSequences) {
            this.returnSequences = returnSequences;
            return this;
        }

        public Builder returnState(boolean returnState) {
            this.returnState = returnState;
            return this;
        }

        public Builder goBackwards(boolean goBackwards) {
            this.goBackwards = goBackwards;
            return this;
        }

        public Builder stateful(boolean stateful) {
            this.stateful = stateful;
            return this;
        }

        public Builder zeroOutputForMask(boolean zeroOutputForMask) {
            this.zeroOutputForMask = zeroOutputForMask;
            return this;
        }

        /**
         * Lists the cells' states last cell first, [h2, c2, h1, c1] for two LSTM cells, in
         * initial_state and in the returned states, as Keras 2.0.9-2.2.2 did (see
         * {@link dev.rnnrt.api.KerasVersion#stackedCellStatesReversed()}). Default: cell order.
         */
        public Builder reverseStateOrder(boolean reverseStateOrder) {
            this.reverseStateOrder = reverseStateOrder;
            return this;
        }

        /**
         * At a masked step the stack outputs its first cell's state h, as Keras 2.2.3-2.2.4's
         * TensorFlow loop did (it took the stack's first state, states[0], which came from the
         * first cell once the states were listed in cell order; such a stack needs equal units in
         * its first and last cells). Default false: the last cell's previous output, as every
         * other Keras.
         */
        public Builder maskedOutputIsFirstCellState(boolean maskedOutputIsFirstCellState) {
            this.maskedOutputIsFirstCellState = maskedOutputIsFirstCellState;
            return this;
        }

        public StackedRnn build() {
            return new StackedRnn(this);
        }
    }
}
