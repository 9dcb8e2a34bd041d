package dev.rnnrt.testing;

import dev.rnnrt.api.Activation;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

/**
 * The activations Keras 3.7 to 3.10 added (keras/src/activations/activations.py), in float64,
 * written from Keras' docstrings with the defaults a name in a config gets (celu alpha = 1, the
 * shrinks' threshold = 0.5, squareplus b = 4), and on purpose not the way
 * {@link Activation} computes them, so that the tests compare two derivations.
 */
public final class KerasActivationFormulas {

    private KerasActivationFormulas() {
    }

    /** The formula of each activation Keras 3.7 to 3.10 added, in the enum's order. */
    public static Map<Activation, DoubleUnaryOperator> added() {
        Map<Activation, DoubleUnaryOperator> m = new LinkedHashMap<>();
        // alpha * (exp(x / alpha) - 1) for x < 0, x for x >= 0
        m.put(Activation.CELU, x -> {
            double alpha = 1.0;
            return x >= 0 ? x : alpha * (Math.exp(x / alpha) - 1);
        });
        // x if |x| > threshold, else 0
        m.put(Activation.HARD_SHRINK, x -> x > 0.5 || x < -0.5 ? x : 0.0);
        // -1 below -1, 1 above 1, x between
        m.put(Activation.HARD_TANH, x -> x < -1 ? -1.0 : x > 1 ? 1.0 : x);
        // log(1 / (1 + exp(-x))), rearranged so that exp never overflows
        m.put(Activation.LOG_SIGMOID, x -> x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));
        // sign(x) * max(|x| - threshold, 0), OpenVINO's form of x - t above t, x + t below -t, else 0
        m.put(Activation.SOFT_SHRINK, x -> Math.signum(x) * Math.max(Math.abs(x) - 0.5, 0.0));
        // 0 for x <= -1, (x + 1)^2 / 4 between, x for x >= 1
        m.put(Activation.SPARSE_PLUS, x -> x <= -1 ? 0.0 : x >= 1 ? x : (x * x + 2 * x + 1) / 4);
        // 0 for x <= -1, (x + 1) / 2 between, 1 for x >= 1
        m.put(Activation.SPARSE_SIGMOID, x -> Math.min(1.0, Math.max(0.0, (x + 1) / 2)));
        m.put(Activation.SQUAREPLUS, KerasActivationFormulas::squareplus);
        // x - tanh(x), tanh from one exponential of -2|x| (±1 to double precision past |x| = 20)
        m.put(Activation.TANH_SHRINK, x -> {
            if (Math.abs(x) > 20) {
                return x - Math.signum(x);
            }
            double e = Math.exp(-2 * Math.abs(x));
            return x - Math.signum(x) * (1 - e) / (1 + e);
        });
        return m;
    }

    /**
     * (x + sqrt(x² + 4)) / 2 in decimal arithmetic: x² + 4 exactly, and the root with enough digits
     * that the sum keeps 30 of its own where x is large and negative and the two terms cancel.
     */
    static double squareplus(double x) {
        if (!Double.isFinite(x)) {
            return x > 0 ? x : Double.isNaN(x) ? x : 0.0;
        }
        BigDecimal bx = new BigDecimal(x);
        int magnitude = Math.max(0, (int) Math.ceil(Math.log10(Math.abs(x) + 1)));
        MathContext mc = new MathContext(40 + 2 * magnitude);
        BigDecimal root = bx.multiply(bx).add(BigDecimal.valueOf(4)).sqrt(mc);
        return bx.add(root).divide(BigDecimal.valueOf(2), mc).doubleValue();
    }
}
