package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.rnnrt.api.Activation;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernels' activation formulas (cuda/common.cuh's rnnrt_activate, compiled for the host by
 * nvcc) against dev.rnnrt.api.Activation on x = -10 … 10 in steps of 1/8, every code: catches a
 * formula or a code table transcribed wrongly, on a machine without a GPU. The device's own
 * tanhf, expf and erff differ from the host's by a few ulp, well inside the backend's 1e-5.
 * Skips where nvcc is not installed.
 */
class ActivationFormulasTest {

    @Test
    void everyKernelActivationMatchesTheJavaDefinition(@TempDir Path dir) throws IOException, InterruptedException {
        assumeTrue(HostNvcc.present(), "nvcc is not on the PATH; the host build of rnnrt_activate needs it");
        int codes = Activation.values().length;
        List<String> lines = HostNvcc.compileAndRun(dir, "activations",
                "#include <cstdio>\n#include \"common.cuh\"\nint main() {\n"
                + "  for (int code = 0; code <= " + codes + "; code++)\n"
                + "    for (int k = -80; k <= 80; k++) {\n"
                + "      float x = k * 0.125f;\n"
                + "      printf(\"%d %a %a\\n\", code, (double) x, (double) rnnrt_activate(code, x));\n"
                + "    }\n  return 0;\n}\n");
        assertEquals((codes + 1) * 161, lines.size());
        for (String line : lines) {
            String[] f = line.split(" ");
            int code = Integer.parseInt(f[0]);
            double x = Double.parseDouble(f[1]);
            if (code == codes) {
                assertTrue(f[2].contains("nan"), "an unknown code gives NaN: " + line);
                continue;
            }
            Activation a = Activation.values()[code];
            double expected = a.apply(x);
            double actual = Double.parseDouble(f[2]);
            assertEquals(expected, actual, 1e-6 + 2e-6 * Math.abs(expected), a + " at x=" + x);
        }
    }
}
