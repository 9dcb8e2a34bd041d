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

    /**
     * Every activation to a relative 1e-6 (about eight float32 roundings) where a formula could lose
     * its digits to cancellation: |x| from 2^-40 to 2^-1 in steps of a quarter octave, both signs,
     * and the tails, |x| from 1 to 40 in steps of 1/4. An absolute error of a few roundings of x
     * passes the coarse grid above but is all the digits of x - tanh(x) near 0, or of GELU's
     * 1 + erf(x/√2) at x = -6. Only where float32 itself has no relative digits left (its
     * subnormals, GELU below x = -13.1) is the bound two of its smallest steps.
     */
    @Test
    void everyKernelActivationKeepsItsRelativeDigitsNearZeroAndInTheTails(@TempDir Path dir)
            throws IOException, InterruptedException {
        assumeTrue(HostNvcc.present(), "nvcc is not on the PATH; the host build of rnnrt_activate needs it");
        int codes = Activation.values().length;
        List<String> lines = HostNvcc.compileAndRun(dir, "activation_digits",
                "#include <cmath>\n#include <cstdio>\n#include \"common.cuh\"\nint main() {\n"
                + "  for (int code = 0; code < " + codes + "; code++)\n"
                + "    for (int s = -1; s <= 1; s += 2) {\n"
                + "      for (int k = -160; k <= -4; k++) {\n"
                + "        float x = s * ldexpf(powf(2.0f, (k % 4) * 0.25f), k / 4);\n"
                + "        printf(\"%d %a %a\\n\", code, (double) x, (double) rnnrt_activate(code, x));\n"
                + "      }\n"
                + "      for (int k = 4; k <= 160; k++) {\n"
                + "        float x = s * k * 0.25f;\n"
                + "        printf(\"%d %a %a\\n\", code, (double) x, (double) rnnrt_activate(code, x));\n"
                + "      }\n"
                + "    }\n  return 0;\n}\n");
        assertEquals(codes * 2 * (157 + 157), lines.size());
        StringBuilder failures = new StringBuilder();
        for (String line : lines) {
            String[] f = line.split(" ");
            Activation a = Activation.values()[Integer.parseInt(f[0])];
            double x = Double.parseDouble(f[1]);
            double expected = a.apply(x);
            if (a == Activation.HARD_SHRINK && Math.abs(x) == 0.5 || Math.abs(expected) > Float.MAX_VALUE) {
                continue; // the jump itself; past float32's range (exponential at 40)
            }
            double actual = f[2].contains("inf") || f[2].contains("nan") ? Double.NaN : Double.parseDouble(f[2]);
            double allowed = Math.max(1e-6 * Math.abs(expected), 2 * Float.MIN_VALUE);
            if (!(Math.abs(actual - expected) <= allowed)) {
                failures.append(a).append(" at x=").append(x).append(": expected ").append(expected).append(", got ")
                        .append(actual).append(" (relative error ").append(Math.abs(actual - expected) / Math.abs(expected))
                        .append(")\n");
            }
        }
        assertTrue(failures.length() == 0, failures.toString());
    }

    /**
     * Every activation at NaN, the infinities, the ends of the float range, ±0 and the smallest
     * floats: NaN where the enum gives NaN (fmaxf and fminf would turn it into a number), finite where
     * the enum is finite (squareplus's sum would pass FLT_MAX above about 1.7e38), and, for gelu and
     * tanh_shrink, a zero of the enum's sign where the enum gives zero (Keras' x - tanh(x) is +0 at
     * x = -0, its x * Φ(x) -0; other activations' zeros may differ in sign, as Keras' backends do;
     * a value that only float32 rounds to zero may be a zero of either sign).
     */
    @Test
    void everyActivationMatchesTheJavaDefinitionAtNaNAndTheEndsOfTheRange(@TempDir Path dir)
            throws IOException, InterruptedException {
        assumeTrue(HostNvcc.present(), "nvcc is not on the PATH; the host build of rnnrt_activate needs it");
        int first = 0;
        int codes = Activation.values().length;
        float[] xs = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MAX_VALUE,
            3e38f, -3e38f, 2e38f, -2e38f, 1e20f, -1e20f, 0.0f, -0.0f, Float.MIN_VALUE, -Float.MIN_VALUE,
            Float.MIN_NORMAL, -Float.MIN_NORMAL, 1e-20f, -1e-20f};
        StringBuilder values = new StringBuilder();
        for (float x : xs) {
            values.append(Float.isNaN(x) ? "NAN" : Float.isInfinite(x) ? (x > 0 ? "INFINITY" : "-INFINITY")
                    : Float.toHexString(x) + "f").append(", ");
        }
        List<String> lines = HostNvcc.compileAndRun(dir, "activation_edges",
                "#include <cmath>\n#include <cstdio>\n#include \"common.cuh\"\nint main() {\n"
                + "  const float xs[] = {" + values + "};\n"
                + "  for (int code = " + first + "; code < " + codes + "; code++)\n"
                + "    for (int k = 0; k < " + xs.length + "; k++)\n"
                + "      printf(\"%d %d %a\\n\", code, k, (double) rnnrt_activate(code, xs[k]));\n"
                + "  return 0;\n}\n");
        assertEquals((codes - first) * xs.length, lines.size());
        for (String line : lines) {
            String[] f = line.split(" ");
            Activation a = Activation.values()[Integer.parseInt(f[0])];
            float x = xs[Integer.parseInt(f[1])];
            double exact = a.apply(x);
            double expected = (float) exact;
            String where = a + " at x=" + x + ": " + line;
            if (Double.isNaN(expected)) {
                assertTrue(f[2].contains("nan"), where);
                continue;
            }
            assertTrue(!f[2].contains("nan") && !f[2].contains("inf") || Double.isInfinite(expected), where);
            double actual = f[2].contains("inf") ? (f[2].startsWith("-") ? Double.NEGATIVE_INFINITY
                    : Double.POSITIVE_INFINITY) : Double.parseDouble(f[2]);
            if (Double.isInfinite(expected)
                    || exact == 0 && (a == Activation.GELU || a == Activation.TANH_SHRINK)) {
                assertEquals(expected, actual, where); // equal bits: a zero's sign too
            } else {
                assertEquals(expected, actual, 1e-6 + 2e-6 * Math.abs(expected), where);
            }
        }
    }
}
