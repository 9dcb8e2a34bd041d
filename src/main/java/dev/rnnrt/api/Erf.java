package dev.rnnrt.api;

/**
 * The error function and its complement in float64, for the exact GELU. The JDK has neither.
 *
 * <p>|x| &lt; 2.5: the Maclaurin series {@code 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))}, whose
 * largest term there is below e^6.25 ≈ 520, so it loses under three digits to cancellation.
 * |x| ≥ 2.5: {@code 1 - erfc(x)} with Laplace's continued fraction
 * {@code erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))}, evaluated from
 * a fixed depth of 120 terms, which reaches float64 precision from x = 1.5 on ({@link #erfc}
 * uses it from there).
 */
final class Erf {

    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);

    private Erf() {
    }

    static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double a = Math.abs(x);
        double r = a < 2.5 ? series(a) : 1.0 - erfcContinuedFraction(a);
        return x < 0 ? -r : r;
    }

    /**
     * erfc(x) = 1 - erf(x), without the cancellation of that difference where erf(x) is near 1:
     * for x ≥ 1.5 the continued fraction itself (relative precision down to erfc's underflow; its
     * 120 terms reach float64 precision from x = 1.5 on), for x ≤ -2.5 {@code 2 - erfc(-x)}, and
     * between them {@code 1 - erf(x)}, which is at least 0.034 there and keeps its digits to a
     * relative 2e-14 (up to x = 2.5, where erfc is 4e-4, it would keep only eleven: a relative 9e-12
     * at x = 2.49).
     */
    static double erfc(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        if (x >= 1.5) {
            return erfcContinuedFraction(x);
        }
        if (x <= -2.5) {
            return 2.0 - erfcContinuedFraction(-x);
        }
        return 1.0 - (x < 0 ? -series(-x) : series(x));
    }

    private static double series(double x) {
        double x2 = x * x;
        double term = x; // (-1)^n x^(2n+1) / n!
        double sum = x;
        for (int n = 1; n < 200; n++) {
            term *= -x2 / n;
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                break;
            }
        }
        return TWO_OVER_SQRT_PI * sum;
    }

    private static double erfcContinuedFraction(double x) {
        if (x > 27) {
            return 0.0; // e^(-729) underflows a double
        }
        double t = x;
        for (int n = 120; n >= 1; n--) {
            t = x + (n / 2.0) / t;
        }
        return Math.exp(-x * x) / (Math.sqrt(Math.PI) * t);
    }
}
