package dev.rnnrt.backend.cuda;

/** CUDA was asked for but cannot be used here; the message says what is missing and what to install. */
public final class CudaUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
