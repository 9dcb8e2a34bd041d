package dev.rnnrt.layers;

import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Makes a layer's initial weights, as Keras' initializers do.
 *
 * <p>Seeded initializers are deterministic: the same seed gives the same values on every call and
 * every machine. The values are rnnrt's own draws, not bit-for-bit those of Keras' random number
 * generators; to reproduce a trained or Keras-initialized model, set its weights directly.
 * Without a seed, each call draws fresh values.
 */
@FunctionalInterface
public interface Initializer {

    /**
     * Values for a weight of the given shape, row-major.
     *
     * @param shape the weight's shape, e.g. {@code [I, 4H]} for an LSTM kernel; not modified
     * @return exactly as many values as the shape holds (a layer refuses other counts, naming
     *         itself); a new array on every call, since the layer keeps it as its weight without a
     *         copy
     */
    float[] sample(int... shape);

    /** Keras {@code zeros}. */
    static Initializer zeros() {
        return constant(0.0);
    }

    /** Keras {@code ones}. */
    static Initializer ones() {
        return constant(1.0);
    }

    /** Keras {@code Constant(value)}: every value is {@code value}. */
    static Initializer constant(double value) {
        return shape -> {
            float[] w = new float[count(shape)];
            java.util.Arrays.fill(w, (float) value);
            return w;
        };
    }

    /** Keras {@code RandomUniform(minval=-0.05, maxval=0.05)}, unseeded: fresh values on every call. */
    static Initializer randomUniform() {
        return uniform(-0.05, 0.05, null);
    }

    /** Keras {@code RandomUniform(minval, maxval, seed)}: uniform in [minval, maxval). */
    static Initializer randomUniform(double minval, double maxval, long seed) {
        return uniform(minval, maxval, seed);
    }

    private static Initializer uniform(double minval, double maxval, Long seed) {
        if (!(maxval >= minval)) {
            throw new IllegalArgumentException("random_uniform needs minval <= maxval; got minval=" + minval
                    + ", maxval=" + maxval + ".");
        }
        return new RandomInitializer(seed, (random, shape) -> {
            float[] w = new float[count(shape)];
            for (int k = 0; k < w.length; k++) {
                w[k] = (float) (minval + (maxval - minval) * random.nextDouble());
            }
            return w;
        });
    }

    /** Keras {@code RandomNormal(mean=0, stddev=0.05)}, unseeded: fresh values on every call. */
    static Initializer randomNormal() {
        return normal(0.0, 0.05, null);
    }

    /** Keras {@code RandomNormal(mean, stddev, seed)}. */
    static Initializer randomNormal(double mean, double stddev, long seed) {
        return normal(mean, stddev, seed);
    }

    private static Initializer normal(double mean, double stddev, Long seed) {
        if (!(stddev >= 0)) {
            throw new IllegalArgumentException("random_normal needs stddev >= 0; got " + stddev + ".");
        }
        return new RandomInitializer(seed, (random, shape) -> {
            float[] w = new float[count(shape)];
            for (int k = 0; k < w.length; k++) {
                w[k] = (float) (mean + stddev * random.nextGaussian());
            }
            return w;
        });
    }

    /** Keras {@code GlorotUniform()}, unseeded (fresh values on every call): Keras' default kernel initializer. */
    static Initializer glorotUniform() {
        return glorot(null);
    }

    /**
     * Keras {@code GlorotUniform(seed)}: uniform in ±sqrt(6 / (fan_in + fan_out)), where a 2-D
     * shape [rows, cols] has fan_in = rows and fan_out = cols, and a 1-D shape [n] has both = n.
     */
    static Initializer glorotUniform(long seed) {
        return glorot(seed);
    }

    private static Initializer glorot(Long seed) {
        return new RandomInitializer(seed, (random, shape) -> {
            int fanIn = shape.length == 0 ? 1 : (shape.length == 1 ? shape[0] : count(shape) / shape[shape.length - 1]);
            int fanOut = shape.length == 0 ? 1 : shape[shape.length - 1];
            if (shape.length > 2) {
                // Keras: receptive field × channels; for the 2-D weights of recurrent layers the rule above.
                int receptive = count(shape) / (shape[shape.length - 1] * shape[shape.length - 2]);
                fanIn = shape[shape.length - 2] * receptive;
                fanOut = shape[shape.length - 1] * receptive;
            }
            double limit = Math.sqrt(6.0 / Math.max(1, fanIn + fanOut));
            float[] w = new float[count(shape)];
            for (int k = 0; k < w.length; k++) {
                w[k] = (float) ((2 * random.nextDouble() - 1) * limit);
            }
            return w;
        });
    }

    /** Keras {@code Orthogonal(gain=1)}, unseeded (fresh values on every call): Keras' default recurrent initializer. */
    static Initializer orthogonal() {
        return new RandomInitializer(null, (random, shape) -> Orthogonal.sample(random, 1.0, shape));
    }

    /**
     * Keras {@code Orthogonal(gain, seed)}: for a [rows, cols] weight, orthonormal columns when
     * rows ≥ cols and orthonormal rows otherwise (an LSTM recurrent kernel [H, 4H] has
     * orthonormal rows), scaled by {@code gain}. Made as Keras makes it: the Q factor of a
     * normal matrix with the signs of R's diagonal taken positive.
     */
    static Initializer orthogonal(double gain, long seed) {
        return new RandomInitializer(seed, (random, shape) -> Orthogonal.sample(random, gain, shape));
    }

    /**
     * The initializer a Keras config names, with Keras' default arguments and no seed:
     * {@code zeros}, {@code ones}, {@code constant} (value 0), {@code glorot_uniform},
     * {@code orthogonal}, {@code random_uniform}, {@code random_normal}. Class names such as
     * {@code GlorotUniform} are accepted too.
     *
     * @throws IllegalArgumentException for an unknown name, listing the known ones
     */
    static Initializer named(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace("_", "");
        switch (key) {
            case "zeros":
            case "zero":
                return zeros();
            case "ones":
            case "one":
                return ones();
            case "constant":
                return constant(0.0);
            case "glorotuniform":
                return glorotUniform();
            case "orthogonal":
                return orthogonal();
            case "randomuniform":
            case "uniform":
                return randomUniform();
            case "randomnormal":
            case "normal":
                return randomNormal();
            default:
                throw new IllegalArgumentException("Unknown initializer '" + name + "'. Supported: zeros, ones, "
                        + "constant, glorot_uniform, orthogonal, random_uniform, random_normal. "
                        + "To use other values, set the layer's weights directly.");
        }
    }

    /** The number of values of a shape. */
    static int count(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("Weight shape " + java.util.Arrays.toString(shape)
                        + " has a negative dimension.");
            }
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Weight shape " + java.util.Arrays.toString(shape)
                    + " is too large for one array.");
        }
        return (int) n;
    }

    /**
     * A random initializer. With a seed it restarts its generator from the seed on every call, so
     * every call gives the same values (as a Keras initializer with an int seed does); without one
     * each call starts a generator from a fresh seed and gives new values (as Keras' {@code
     * seed=None}, which is why each layer, and each direction of a Bidirectional layer, made from
     * the same config gets its own weights).
     */
    final class RandomInitializer implements Initializer {
        interface Draw {
            float[] draw(Random random, int[] shape);
        }

        private final Long seed;
        private final Draw draw;

        /** @param seed null for fresh values on every call */
        RandomInitializer(Long seed, Draw draw) {
            this.seed = seed;
            this.draw = draw;
        }

        @Override
        public float[] sample(int... shape) {
            long s = seed != null ? seed : ThreadLocalRandom.current().nextLong();
            return draw.draw(new Random(s), shape.clone());
        }
    }
}
