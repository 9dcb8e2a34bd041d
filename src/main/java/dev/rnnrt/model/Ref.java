package dev.rnnrt.model;

/**
 * A reference to one output of a model input or layer: {@code "lstm"} is output 0 of layer
 * "lstm", {@code "lstm[2]"} its output 2 (for an LSTM with return_state: the cell state c).
 */
record Ref(String name, int index) {

    static Ref parse(String text, String context) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(context + ": an input reference is empty; name a model input or a layer.");
        }
        String t = text.trim();
        if (t.endsWith("]")) {
            int open = t.lastIndexOf('[');
            if (open > 0) {
                try {
                    int idx = Integer.parseInt(t.substring(open + 1, t.length() - 1));
                    if (idx < 0) {
                        throw new NumberFormatException();
                    }
                    return new Ref(t.substring(0, open), idx);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(context + ": cannot read the reference '" + text
                            + "'; write 'layer' for its first output or 'layer[k]' for output k.");
                }
            }
        }
        return new Ref(t, 0);
    }

    @Override
    public String toString() {
        return index == 0 ? name : name + "[" + index + "]";
    }
}
