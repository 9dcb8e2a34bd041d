package dev.rnnrt.layers;

import java.util.Arrays;

/**
 * A value in a layer's input that the layer cannot take, such as an id past an Embedding's
 * vocabulary, with its place in that input (batch axis first). Wrappers that run the layer on
 * rearranged rows (TimeDistributed runs it on [batch·steps, …]) and callers that split the
 * input into batches restate the place in their own terms with {@link #at}.
 */
public final class InputValueException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String subject;
    private final int[] position;
    private final String problem;

    /**
     * @param subject  the layer and the value: "Layer 'emb' (Embedding): id 9.0"
     * @param position where the value is in the layer's input, batch axis first
     * @param problem  what is wrong and what to do: "is not a whole number in [0, 5). …"
     */
    public InputValueException(String subject, int[] position, String problem) {
        super(subject + " at " + Arrays.toString(position) + " " + problem);
        this.subject = subject;
        this.position = position.clone();
        this.problem = problem;
    }

    /** Where the value is, batch axis first; a copy. */
    public int[] position() {
        return position.clone();
    }

    /**
     * The same complaint at another place, with {@code context} before it: a wrapper's view of
     * the value ("Layer 'td' (TimeDistributed), running it on each step,"), or "" for none.
     */
    public InputValueException at(String context, int[] newPosition) {
        InputValueException e = new InputValueException(context.isEmpty() ? subject : context + " " + subject,
                newPosition, problem);
        e.initCause(this);
        return e;
    }
}
