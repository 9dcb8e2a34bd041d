package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.rnnrt.testing.RandomTensors;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import jcuda.driver.JCudaDriver;
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
                "--add-modules", "jdk.incubator.vector", "-Djava.library.path=" + System.getProperty("java.library.path", ""),
                "-cp", classPath(), StickyErrorClose.class.getName()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        assumeFalse(out.contains("baseline-active"), "the primary context stays held after a healthy close: " + out);
        assertTrue(out.contains("fault: "), out);
        assertTrue(out.contains("released"), out);
    }

    /**
     * This JVM's class path with the entries of the loader that loaded the tests: the JUnit console
     * launcher, for one, loads them from its --class-path, not java.class.path.
     */
    private static String classPath() throws Exception {
        Set<String> entries = new LinkedHashSet<>();
        for (ClassLoader l = StickyErrorCloseTest.class.getClassLoader(); l != null; l = l.getParent()) {
            if (l instanceof URLClassLoader u) {
                for (URL url : u.getURLs()) {
                    entries.add(Path.of(url.toURI()).toString());
                }
            }
        }
        for (Class<?> c : List.of(StickyErrorClose.class, RecurrentCuda.class, JCudaDriver.class, RandomTensors.class)) {
            entries.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        entries.addAll(List.of(System.getProperty("java.class.path").split(File.pathSeparator)));
        return String.join(File.pathSeparator, entries);
    }
}
