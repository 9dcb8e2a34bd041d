package dev.rnnrt.backend;

/** The recurrent cells rnnrt runs, with their Keras gate layout. */
public enum CellKind {
    /** {@code h' = act(x·W + h·U + b)}; one gate, state [h]. */
    SIMPLE_RNN("SimpleRNN", 1, 1),
    /** Gates i, f, c, o in that order along the last weight axis; state [h, c]. */
    LSTM("LSTM", 4, 2),
    /** Gates z, r, h in that order along the last weight axis; state [h]. */
    GRU("GRU", 3, 1);

    private final String kerasName;
    private final int gates;
    private final int stateCount;

    CellKind(String kerasName, int gates, int stateCount) {
        this.kerasName = kerasName;
        this.gates = gates;
        this.stateCount = stateCount;
    }

    /** The Keras class name, for messages: "LSTM". */
    public String kerasName() {
        return kerasName;
    }

    /** The number of gate blocks in the kernels' last axis: G = gates × H. */
    public int gates() {
        return gates;
    }

    /** The number of state tensors: 2 for LSTM (h, c), 1 otherwise (h). */
    public int stateCount() {
        return stateCount;
    }
}
