package dev.rnnrt.io.keras;

/**
 * A model file could not be loaded: it is missing, truncated, corrupt, too large, not a Keras
 * file, or it uses something rnnrt refuses (a Lambda or custom layer). The message names the
 * file, the place in it (layer, weight, entry) and what to do.
 */
public final class ModelLoadException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
