package dev.rnnrt.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.rnnrt.api.Tensor;
import java.util.Arrays;

/** Relative-error comparison, ‖actual − expected‖₂ / ‖expected‖₂, with a readable failure. */
public final class Compare {

    private Compare() {
    }

    /** ‖a − e‖ / ‖e‖; when ‖e‖ is 0, the absolute ‖a‖ instead, so all-zero expectations still compare. */
    public static double relativeError(double[] expected, float[] actual) {
        double diff = 0;
        double norm = 0;
        for (int k = 0; k < expected.length; k++) {
            double d = actual[k] - expected[k];
            diff += d * d;
            norm += expected[k] * expected[k];
        }
        return norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    }

    /** Asserts shape equality and relative error within {@code threshold}; the message names the context. */
    public static void assertClose(String context, int[] expectedShape, double[] expected, Tensor actual,
                                   double threshold) {
        assertArrayEquals(expectedShape, actual.shape(), () -> context + ": shape");
        float[] a = actual.data();
        if (a.length != expected.length) {
            fail(context + ": " + a.length + " values, expected " + expected.length);
        }
        for (float v : a) {
            if (!Float.isFinite(v)) {
                fail(context + ": non-finite output " + v);
            }
        }
        double err = relativeError(expected, a);
        if (!(err <= threshold)) {
            int worst = 0;
            for (int k = 1; k < a.length; k++) {
                if (Math.abs(a[k] - expected[k]) > Math.abs(a[worst] - expected[worst])) {
                    worst = k;
                }
            }
            fail(String.format("%s: relative error %.3e > %.1e; shape %s; worst element #%d expected %.9g, got %.9g",
                    context, err, threshold, Arrays.toString(expectedShape), worst, expected[worst], a[worst]));
        }
    }

    /** Asserts two tensors are close, the first taken as the reference. */
    public static void assertClose(String context, Tensor expected, Tensor actual, double threshold) {
        double[] e = new double[expected.size()];
        for (int k = 0; k < e.length; k++) {
            e[k] = expected.data()[k];
        }
        assertClose(context, expected.shape(), e, actual, threshold);
    }

    /** Asserts bit-for-bit equality of values and shapes. */
    public static void assertIdentical(String context, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), () -> context + ": shape");
        assertArrayEquals(expected.data(), actual.data(), () -> context + ": values");
    }
}
