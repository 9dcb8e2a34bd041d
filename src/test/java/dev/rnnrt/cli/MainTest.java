package dev.rnnrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void demoPrintsBothReturnStateExamples() {
        assertEquals(0, run("demo"));
        String text = out.toString(StandardCharsets.UTF_8);
        // notebook (sigmoid), then article (hard_sigmoid), as they print them
        assertTrue(text.contains("[[[0.00772376]\n  [0.01633997]\n  [0.02572775]]] (1, 3, 1)"), text);
        assertTrue(text.contains("[[0.02572775]] (1, 1)"), text);
        assertTrue(text.contains("array([[0.05020291]], dtype=float32)]"), text);
        assertTrue(text.contains("[[[0.00767819]\n  [0.01597687]\n  [0.02480672]]] (1, 3, 1)"), text);
        assertTrue(text.contains("[[0.02480672]] (1, 1)"), text);
        assertTrue(text.indexOf("0.00772376") < text.indexOf("0.00767819"));
    }

    @Test
    void noCommandPrintsTheUsage() {
        assertEquals(0, run());
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("predict") && text.contains("summary") && text.contains("info") && text.contains("demo"),
                text);
    }

    @Test
    void unknownCommandFailsWithOneLine() {
        assertEquals(2, run("predictt"));
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.startsWith("rnnrt: ") && e.contains("predictt"), e);
        assertEquals(1, e.strip().lines().count(), e);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void infoSaysWhatRunsHere() {
        assertEquals(0, run("info"));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("Java") && text.contains("CPU") && text.contains("cuda"), text);
    }
}
