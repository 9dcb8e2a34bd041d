package dev.rnnrt.io.keras;

/**
 * A model file could not be loaded: it is missing, truncated, corrupt, too large, not a Keras
 * file, or it uses something rnnrt refuses (a Lambda or custom layer). The message names the
 * file, the place in it (layer, weight, entry) and what to do.
 */
public final class ModelLoadException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What was wrong, where a caller such as the command line says it in its own terms. */
    public enum Kind {
        /** Anything not listed below; the message says what. */
        OTHER,
        /** The file holds weights but no model config (as {@code save_weights} writes): nothing to build. */
        WEIGHTS_ONLY
    }

    private final Kind kind;

    public ModelLoadException(String message) {
        this(message, Kind.OTHER);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
        this.kind = Kind.OTHER;
    }

    public ModelLoadException(String message, Kind kind) {
        super(message);
        this.kind = kind;
    }

    /** What was wrong; {@link Kind#OTHER} unless the loader marked it. */
    public Kind kind() {
        return kind;
    }
}
