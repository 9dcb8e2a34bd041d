package dev.rnnrt.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr for runs longer than a few seconds: it draws nothing during
 * the first {@link #DELAY_NANOS}, and then at most five times a second.
 */
final class ProgressBar {

    static final long DELAY_NANOS = 2_000_000_000L;
    private static final long INTERVAL_NANOS = 200_000_000L;
    private static final int WIDTH = 30;

    private final PrintStream err;
    private final boolean enabled;
    private final long total;
    private final long start;
    private long lastDraw;
    private boolean drawn;

    ProgressBar(PrintStream err, boolean enabled, long total, long startNanos) {
        this.err = err;
        this.enabled = enabled;
        this.total = total;
        this.start = startNanos;
    }

    /** Reports {@code done} of the total sequences at time {@code now} (System.nanoTime()). */
    void update(long done, long now) {
        if (!enabled || now - start < DELAY_NANOS || (drawn && now - lastDraw < INTERVAL_NANOS && done < total)) {
            return;
        }
        lastDraw = now;
        drawn = true;
        err.print("\r" + line(done, total, (now - start) / 1e9));
        err.flush();
    }

    /** Ends the line if anything was drawn. */
    void finish() {
        if (drawn) {
            err.println();
        }
    }

    boolean drawn() {
        return drawn;
    }

    static String line(long done, long total, double seconds) {
        double f = total == 0 ? 1 : (double) done / total;
        int filled = (int) Math.round(f * WIDTH);
        double rate = seconds > 0 ? done / seconds : 0;
        return String.format(Locale.ROOT, "[%s%s] %3.0f%% %d/%d sequences, %.0f seq/s", "=".repeat(filled),
                " ".repeat(WIDTH - filled), 100 * f, done, total, rate);
    }
}
