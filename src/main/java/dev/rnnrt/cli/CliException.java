package dev.rnnrt.cli;

/** A user-facing failure of a command: its message is the one line rnnrt prints. */
final class CliException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The exit code for a run that failed (1) and for a command line that was wrong (2). */
    static final int FAILED = 1;
    static final int USAGE = 2;

    private final int exitCode;

    CliException(String message) {
        this(message, FAILED, null);
    }

    CliException(String message, Throwable cause) {
        this(message, FAILED, cause);
    }

    CliException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** A wrong command line: exit code 2. */
    static CliException usage(String message) {
        return new CliException(message, USAGE, null);
    }

    /**
     * Refuses a path option given as an empty string (as {@code --output-dir "$DIR"} gives when DIR is
     * not set), which would otherwise name the current folder. {@code path} may be null (not given).
     */
    static void requireNonEmpty(String option, java.nio.file.Path path) {
        if (path != null && path.toString().isEmpty()) {
            throw usage(option + " is empty; give it a path (an unset shell variable gives an empty one).");
        }
    }

    int exitCode() {
        return exitCode;
    }
}
