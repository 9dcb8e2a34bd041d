package dev.rnnrt.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The element-wise activations a recurrent layer can use, each with the exact Keras definition.
 * Computed in float64.
 *
 * <p>{@code hard_sigmoid} has two definitions, so it is two constants: {@link #HARD_SIGMOID_KERAS2}
 * (Keras 1, 2 and tf.keras: {@code clip(0.2x + 0.5, 0, 1)}) and {@link #HARD_SIGMOID_KERAS3}
 * ({@code relu6(x + 3) / 6}). Look it up by name with {@link #named(String, KerasVersion)}.
 * The definitions follow keras/src/activations/activations.py (Keras 3) and
 * keras/activations.py (Keras 2), with the default parameters a name in a config gets (the
 * constants from {@link #CELU} on came with Keras 3.7 to 3.10). {@code threshold}, {@code glu}
 * and {@code sparsemax} are refused by name, saying why: the first needs arguments, the other two
 * are not element-wise.
 */
public enum Activation {
    LINEAR("linear") {
        @Override
        public double apply(double x) {
            return x;
        }
    },
    TANH("tanh") {
        @Override
        public double apply(double x) {
            return Math.tanh(x);
        }
    },
    SIGMOID("sigmoid") {
        @Override
        public double apply(double x) {
            return sigmoid(x);
        }
    },
    /** Keras 1 and 2, tf.keras: {@code clip(0.2x + 0.5, 0, 1)}. */
    HARD_SIGMOID_KERAS2("hard_sigmoid") {
        @Override
        public double apply(double x) {
            return Math.min(1.0, Math.max(0.0, 0.2 * x + 0.5));
        }
    },
    /** Keras 3: {@code relu6(x + 3) / 6}. */
    HARD_SIGMOID_KERAS3("hard_sigmoid") {
        @Override
        public double apply(double x) {
            return hardSigmoid3(x);
        }
    },
    RELU("relu") {
        @Override
        public double apply(double x) {
            return x > 0 ? x : 0.0;
        }
    },
    RELU6("relu6") {
        @Override
        public double apply(double x) {
            return Math.min(6.0, Math.max(0.0, x));
        }
    },
    /** Keras 3's {@code leaky_relu} with its default {@code negative_slope=0.2}. */
    LEAKY_RELU("leaky_relu") {
        @Override
        public double apply(double x) {
            return x >= 0 ? x : 0.2 * x;
        }
    },
    /** {@code alpha = 1}. */
    ELU("elu") {
        @Override
        public double apply(double x) {
            return x > 0 ? x : Math.expm1(x);
        }
    },
    SELU("selu") {
        @Override
        public double apply(double x) {
            return SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x));
        }
    },
    SOFTSIGN("softsign") {
        @Override
        public double apply(double x) {
            return x / (1.0 + Math.abs(x));
        }
    },
    /** {@code log(1 + exp(x))}, computed without overflow. */
    SOFTPLUS("softplus") {
        @Override
        public double apply(double x) {
            return softplus(x);
        }
    },
    /** {@code x * sigmoid(x)}; Keras also calls it {@code silu}. */
    SWISH("swish") {
        @Override
        public double apply(double x) {
            return x * sigmoid(x);
        }
    },
    /** Keras 3's {@code hard_silu} (also {@code hard_swish}): {@code x * relu6(x + 3) / 6}. */
    HARD_SILU("hard_silu") {
        @Override
        public double apply(double x) {
            return x * hardSigmoid3(x);
        }
    },
    /** {@code x * tanh(softplus(x))}. */
    MISH("mish") {
        @Override
        public double apply(double x) {
            return x * Math.tanh(softplus(x));
        }
    },
    /**
     * The exact GELU, {@code x * Φ(x)} with the normal CDF: Keras' default {@code approximate=False}.
     * Φ(x) = erfc(-x/√2) / 2, which keeps its digits for negative x, where {@code 1 + erf(x/√2)}
     * cancels (all of them below x ≈ -8).
     */
    GELU("gelu") {
        @Override
        public double apply(double x) {
            return 0.5 * x * Erf.erfc(-x / Math.sqrt(2.0));
        }
    },
    EXPONENTIAL("exponential") {
        @Override
        public double apply(double x) {
            return Math.exp(x);
        }
    },
    /**
     * Keras 3.7+'s {@code celu} with its default {@code alpha=1}: {@code max(x, 0) + alpha ·
     * expm1(min(x, 0) / alpha)}, as keras/src/backend/tensorflow/nn.py computes it.
     */
    CELU("celu") {
        @Override
        public double apply(double x) {
            return Math.max(x, 0.0) + CELU_ALPHA * Math.expm1(Math.min(x, 0.0) / CELU_ALPHA);
        }
    },
    /** Keras 3.7+'s {@code hard_shrink} with its default {@code threshold=0.5}: x where |x| > 0.5, else 0. */
    HARD_SHRINK("hard_shrink") {
        @Override
        public double apply(double x) {
            return Math.abs(x) > SHRINK_THRESHOLD ? x : 0.0;
        }
    },
    /** Keras 3.7+'s {@code hard_tanh}: {@code clip(x, -1, 1)}. */
    HARD_TANH("hard_tanh") {
        @Override
        public double apply(double x) {
            return Math.min(1.0, Math.max(-1.0, x));
        }
    },
    /** Keras 3.7+'s {@code log_sigmoid}: {@code log(sigmoid(x)) = -softplus(-x)}, computed without overflow. */
    LOG_SIGMOID("log_sigmoid") {
        @Override
        public double apply(double x) {
            return -softplus(-x);
        }
    },
    /**
     * Keras 3.7+'s {@code soft_shrink} with its default {@code threshold=0.5}: x − 0.5 above 0.5,
     * x + 0.5 below −0.5, else 0.
     */
    SOFT_SHRINK("soft_shrink") {
        @Override
        public double apply(double x) {
            if (x > SHRINK_THRESHOLD) {
                return x - SHRINK_THRESHOLD;
            }
            return x < -SHRINK_THRESHOLD ? x + SHRINK_THRESHOLD : 0.0;
        }
    },
    /** Keras 3.8+'s {@code sparse_plus}: 0 for x ≤ −1, (x + 1)² / 4 for −1 &lt; x &lt; 1, x for x ≥ 1. */
    SPARSE_PLUS("sparse_plus") {
        @Override
        public double apply(double x) {
            if (x <= -1.0) {
                return 0.0;
            }
            return x < 1.0 ? 0.25 * ((x + 1.0) * (x + 1.0)) : x;
        }
    },
    /** Keras 3.10+'s {@code sparse_sigmoid}: 0 for x ≤ −1, (x + 1) / 2 for −1 &lt; x &lt; 1, 1 for x ≥ 1. */
    SPARSE_SIGMOID("sparse_sigmoid") {
        @Override
        public double apply(double x) {
            if (x <= -1.0) {
                return 0.0;
            }
            return x >= 1.0 ? 1.0 : 0.5 * (x + 1.0);
        }
    },
    /**
     * Keras 3.7+'s {@code squareplus} with its default {@code b=4}: {@code (x + sqrt(x² + b)) / 2}.
     * For x &lt; 0 it is computed as the equal {@code b / (2 (sqrt(x² + b) − x))}, which keeps its
     * digits where the sum cancels; neither x² nor a sum is formed where it would overflow.
     */
    SQUAREPLUS("squareplus") {
        @Override
        public double apply(double x) {
            double ax = Math.abs(x);
            // sqrt(x² + b) is |x| to double precision long before x² overflows
            double root = ax > 1e100 ? ax : Math.sqrt(x * x + SQUAREPLUS_B);
            // halved before they are added: x + root passes Double.MAX_VALUE for |x| above about 9e307
            return x >= 0 ? 0.5 * x + 0.5 * root : 0.25 * SQUAREPLUS_B / (0.5 * root - 0.5 * x);
        }
    },
    /**
     * Keras 3.7+'s {@code tanh_shrink}: {@code x - tanh(x)}. Below |x| = 0.1 the difference cancels
     * (all digits near |x| = 1e-8), so there it is tanh's Taylor series from x³ on:
     * x³/3 - 2x⁵/15 + 17x⁷/315 - 62x⁹/2835 + 1382x¹¹/155925 - 21844x¹³/6081075, whose first
     * term left out is below 5e-15 of the sum. A zero result is +0, as Keras' x - tanh(x) gives it
     * (at x = -0, and where x³/3 underflows): the series alone would give -0 for negative x.
     */
    TANH_SHRINK("tanh_shrink") {
        @Override
        public double apply(double x) {
            if (Math.abs(x) < 0.1) {
                double x2 = x * x;
                return x * x2 * (1.0 / 3 + x2 * (-2.0 / 15 + x2 * (17.0 / 315 + x2 * (-62.0 / 2835
                        + x2 * (1382.0 / 155925 + x2 * (-21844.0 / 6081075)))))) + 0.0;
            }
            return x - Math.tanh(x);
        }
    };

    /** SELU constants from Klambauer et al. (2017), as Keras defines them. */
    static final double SELU_ALPHA = 1.6732632423543772848170429916717;
    static final double SELU_SCALE = 1.0507009873554804934193349852946;

    /** The defaults Keras uses when these activations are named by string. */
    static final double CELU_ALPHA = 1.0;
    static final double SHRINK_THRESHOLD = 0.5;
    static final double SQUAREPLUS_B = 4.0;

    private final String kerasName;

    Activation(String kerasName) {
        this.kerasName = kerasName;
    }

    /** Applies the activation to one value. */
    public abstract double apply(double x);

    /** The name Keras uses in configs ({@code "tanh"}, {@code "hard_sigmoid"}, …). */
    public String kerasName() {
        return kerasName;
    }

    /**
     * The activation a Keras config names, e.g. {@code "tanh"} or {@code "hard_sigmoid"}.
     *
     * @param name    a Keras activation name; case and a {@code keras.activations.} prefix are ignored;
     *                null, {@code ""} and {@code "None"} mean linear, as Keras' {@code activation=None}
     * @param version the Keras version the name comes from: it decides what {@code hard_sigmoid} means
     * @throws IllegalArgumentException for a name rnnrt does not know, listing the names it does
     */
    public static Activation named(String name, KerasVersion version) {
        if (version == null) {
            throw new IllegalArgumentException("A Keras version is needed to look up activation '" + name
                    + "': hard_sigmoid means clip(0.2x+0.5, 0, 1) in Keras 2 and relu6(x+3)/6 in Keras 3.");
        }
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        if (key.startsWith("keras.activations.")) {
            key = key.substring("keras.activations.".length());
        }
        switch (key) {
            case "hard_sigmoid":
                return version.hardSigmoid();
            case "silu":
                return SWISH;
            case "hard_swish":
                return HARD_SILU;
            case "":
            case "none":
                return LINEAR;
            case "threshold":
                throw new IllegalArgumentException("Activation '" + name + "' cannot be used by name: Keras' "
                        + "threshold(x, threshold, default_value) has no defaults for its two arguments, so a "
                        + "config that names it gives none (and Keras cannot call it either). Between layers, a "
                        + "ReLU layer with threshold=t computes threshold(x, t, 0).");
            case "glu":
                throw new IllegalArgumentException("Activation '" + name + "' is not element-wise: Keras' glu "
                        + "splits the last axis into halves a and b and returns a * sigmoid(b), half as wide. "
                        + "rnnrt computes element-wise activations only (and softmax, log_softmax in Dense and "
                        + "Activation layers).");
            case "sparsemax":
                throw new IllegalArgumentException("Activation '" + name + "' is not element-wise: Keras' "
                        + "sparsemax projects each vector along the last axis onto the probability simplex, "
                        + "so every output depends on the whole vector. rnnrt computes element-wise activations "
                        + "only (and softmax, log_softmax in Dense and Activation layers).");
            default:
                for (Activation a : values()) {
                    if (a.kerasName.equals(key)) {
                        return a;
                    }
                }
                throw new IllegalArgumentException("Unknown activation '" + name + "'. Supported: "
                        + String.join(", ", supportedNames())
                        + ". Custom activations cannot be loaded; retrain or re-export with a built-in one.");
        }
    }

    /** The Keras names rnnrt knows, aliases included. */
    public static List<String> supportedNames() {
        List<String> names = new ArrayList<>();
        for (Activation a : values()) {
            if (!names.contains(a.kerasName)) {
                names.add(a.kerasName);
            }
        }
        names.add("silu");
        names.add("hard_swish");
        return names;
    }

    static double sigmoid(double x) {
        // Written so that neither branch overflows.
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    static double hardSigmoid3(double x) {
        return Math.min(6.0, Math.max(0.0, x + 3.0)) / 6.0;
    }

    static double softplus(double x) {
        return Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs(x)));
    }
}
