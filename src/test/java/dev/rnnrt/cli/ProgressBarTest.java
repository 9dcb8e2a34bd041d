package dev.rnnrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void drawsNothingForShortRunsAndThenAtMostFiveTimesASecond() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ProgressBar bar = new ProgressBar(err, true, 100, 0);
        bar.update(10, SECOND);
        assertFalse(bar.drawn(), "nothing in the first two seconds");
        bar.update(50, 2 * SECOND + 1);
        assertTrue(bar.drawn());
        String first = bytes.toString(StandardCharsets.UTF_8);
        bar.update(51, 2 * SECOND + 2);
        assertEquals(first, bytes.toString(StandardCharsets.UTF_8), "no redraw within 200 ms");
        bar.update(100, 2 * SECOND + 3);
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("100/100"), "the last update always draws");
        bar.finish();
        assertTrue(bytes.toString(StandardCharsets.UTF_8).endsWith("\n"));
    }

    @Test
    void disabledDrawsNothing() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 10, 0);
        bar.update(10, 10 * SECOND);
        bar.finish();
        assertEquals(0, bytes.size());
    }

    @Test
    void lineShowsFractionCountsAndRate() {
        String line = ProgressBar.line(25, 100, 0.5);
        assertTrue(line.startsWith("[" + "=".repeat(8) + " ".repeat(22) + "]"), line);
        assertTrue(line.contains(" 25% 25/100 sequences, 50 seq/s"), line);
    }
}
