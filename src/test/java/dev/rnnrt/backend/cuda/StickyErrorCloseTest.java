package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * After a sticky CUDA error (an illegal address) every call in the context fails, frees included.
 * Closing the backend must still release all it can, down to its reference to the device's primary
 * context; without cuBLAS (whose runtime holds a reference of its own) none is then left. In a JVM
 * of its own ({@link StickyErrorClose}): the fault spoils the context of the whole process.
 */
@Tag("gpu")
class StickyErrorCloseTest {

    @Test
    void closingAfterAStickyErrorStillReleasesThePrimaryContext() throws Exception {
        GpuAvailable.assume();
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                StickyErrorClose.class.getName()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        assumeFalse(out.contains("baseline-active"), "the primary context stays held after a healthy close: " + out);
        assertTrue(out.contains("fault: "), out);
        assertTrue(out.contains("released"), out);
    }
}
