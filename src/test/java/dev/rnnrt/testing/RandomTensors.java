package dev.rnnrt.testing;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import java.util.SplittableRandom;

/** Seeded random inputs: signed values, distinct per element. Put the seed in failure messages. */
public final class RandomTensors {

    private final SplittableRandom random;
    private final long seed;

    public RandomTensors(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    public long seed() {
        return seed;
    }

    /** Uniform in [-scale, scale). */
    public Tensor uniform(double scale, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int k = 0; k < n; k++) {
            v[k] = (float) ((2 * random.nextDouble() - 1) * scale);
        }
        return Tensor.wrap(v, shape);
    }

    /** A mask with about {@code keepFraction} of the steps set. */
    public Mask mask(int rows, int cols, double keepFraction) {
        boolean[] m = new boolean[rows * cols];
        for (int k = 0; k < m.length; k++) {
            m[k] = random.nextDouble() < keepFraction;
        }
        return Mask.of(m, rows, cols);
    }
}
