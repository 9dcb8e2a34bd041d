package dev.rnnrt.io.npy;

/** A .npy file that cannot be read or written, with the file and the reason. */
public final class NpyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public NpyException(String message) {
        super(message);
    }

    public NpyException(String message, Throwable cause) {
        super(message, cause);
    }
}
