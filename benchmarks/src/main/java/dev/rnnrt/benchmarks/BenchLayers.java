package dev.rnnrt.benchmarks;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayer;
import java.util.List;
import java.util.SplittableRandom;

/** What the benchmarks share: the layer under test, and the check of a backend's output before timing. */
final class BenchLayers {

    private BenchLayers() {
    }

    /** An LSTM or GRU (reset_after) layer returning sequences, with these Keras-layout weights. */
    static RecurrentLayer layer(String cell, int units, List<Tensor> weights, RecurrentBackend backend) {
        RecurrentLayer l = cell.equals("LSTM") ? Lstm.builder(units).returnSequences(true).backend(backend).build()
                : Gru.builder(units).resetAfter(true).returnSequences(true).backend(backend).build();
        l.setWeights(weights);
        return l;
    }

    /** A tensor of values drawn uniformly from [-scale, scale). */
    static Tensor uniform(SplittableRandom r, double scale, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (scale * (2 * r.nextDouble() - 1));
        }
        return t;
    }

    /** Fails, naming {@code what}, unless ‖actual − expected‖ / ‖expected‖ ≤ tolerance. */
    static void check(String what, Tensor expected, Tensor actual, double tolerance) {
        double d = 0;
        double n = 0;
        for (int k = 0; k < expected.size(); k++) {
            double e = expected.data()[k];
            double a = actual.data()[k];
            d += (e - a) * (e - a);
            n += e * e;
        }
        double rel = Math.sqrt(d / n);
        if (!(rel <= tolerance)) {
            throw new IllegalStateException(what + " disagrees with rnnrt's fast CPU path: relative error " + rel
                    + " > " + tolerance);
        }
    }
}
