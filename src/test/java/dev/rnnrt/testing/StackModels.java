package dev.rnnrt.testing;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.InferenceNoOp;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Masking;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.model.Model;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Sequential models whose recurrent layers run on a given backend, made twice with the same random
 * weights, for tests that compare a model run as stacks ({@code RecurrentBackend.forwardStack})
 * with the same model run layer by layer. Input [batch, timesteps, {@value #FEATURES}]; each
 * starts with Masking(0), so zeroed steps of x are masked, unless built without it.
 */
public final class StackModels {

    public static final int FEATURES = 6;

    /** A named model recipe and the runs ("first..last") a stacking backend gets from it. */
    public record Recipe(String name, List<String> runs, Function<RecurrentBackend, List<Layer>> layers) {
        public Model build(RecurrentBackend backend) {
            return build(backend, true);
        }

        /** The model, starting with Masking(0) or, without {@code masking}, with no mask anywhere. */
        public Model build(RecurrentBackend backend, boolean masking) {
            var b = Model.sequential(name).input(-1, FEATURES);
            if (masking) {
                b.add(Masking.of(0.0));
            }
            for (Layer l : layers.apply(backend)) {
                b.add(l);
            }
            return b.build();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private StackModels() {
    }

    /**
     * Recipes that cover every cell, go_backwards, zero_output_for_mask, Bidirectional with every
     * merge mode, Dense before and after recurrent layers, softmax last, layers whose device
     * workspaces can be shared; the last has six layers.
     */
    public static List<Recipe> recipes(int units) {
        return List.of(
                new Recipe("lstm_gru_heads", List.of("lstm_a..soft"), be -> List.of(
                        Lstm.builder(units).name("lstm_a").returnSequences(true).backend(be).build(),
                        InferenceNoOp.dropout(0.3),
                        Gru.builder(units).name("gru_b").resetAfter(false).returnSequences(true).backend(be).build(),
                        TimeDistributed.of("td", Dense.builder(units / 2 + 1).activation("relu").build()),
                        Dense.builder(5).name("soft").activation("softmax").build())),
                new Recipe("rnn_back_lstm_last", List.of("rnn_a..lin"), be -> List.of(
                        SimpleRnn.builder(units).name("rnn_a").returnSequences(true).goBackwards(true).backend(be)
                                .build(),
                        Lstm.builder(units + 3).name("lstm_b").zeroOutputForMask(true).backend(be).build(),
                        Dense.builder(7).name("tanh_head").activation("tanh").build(),
                        Dense.builder(3).name("lin").useBias(false).build())),
                new Recipe("gru_dense_lstm", List.of("gru_a..sig"), be -> List.of(
                        Gru.builder(units).name("gru_a").resetAfter(true).returnSequences(true).backend(be).build(),
                        Dense.builder(units).name("mid").build(),
                        Lstm.builder(units).name("lstm_b").returnSequences(true).goBackwards(true).backend(be).build(),
                        Dense.builder(2).name("sig").activation("sigmoid").build())),
                new Recipe("bidirectional", List.of("bi_a..bi_c"), be -> List.of(
                        Bidirectional.of("bi_a", Lstm.builder(units).returnSequences(true).backend(be).build(),
                                Bidirectional.MergeMode.CONCAT, null),
                        InferenceNoOp.dropout(0.2),
                        Bidirectional.of("bi_b", Gru.builder(units).resetAfter(false).returnSequences(true).backend(be)
                                .build(), Bidirectional.MergeMode.SUM, null),
                        TimeDistributed.of("td", Dense.builder(units).activation("swish").build()),
                        Bidirectional.of("bi_c", SimpleRnn.builder(units).zeroOutputForMask(true).backend(be).build(),
                                Bidirectional.MergeMode.MUL, null))),
                new Recipe("bidirectional_last", List.of("lstm_a..soft"), be -> List.of(
                        Lstm.builder(units).name("lstm_a").returnSequences(true).goBackwards(true).backend(be).build(),
                        Bidirectional.of("bi_b", Gru.builder(units + 2).resetAfter(true).backend(be).build(),
                                Bidirectional.MergeMode.AVE, null),
                        Dense.builder(4).name("soft").activation("softmax").build())),
                // directions of other cells and sizes: the lanes' work differs, and a merge that swapped
                // the two sizes would misplace values
                new Recipe("bidirectional_mixed", List.of("lstm_a..head"), be -> List.of(
                        Lstm.builder(units).name("lstm_a").returnSequences(true).backend(be).build(),
                        Bidirectional.of("bi_b", Gru.builder(8).resetAfter(true).returnSequences(true).backend(be).build(),
                                Bidirectional.MergeMode.CONCAT, Lstm.builder(units + 16).returnSequences(true)
                                        .goBackwards(true).backend(be).build()),
                        TimeDistributed.of("head", Dense.builder(3).build()))),
                // the second LSTM and the Bidirectional layer's forward copy have equal workspace plans on
                // one lane (a device backend may give them one workspace): the backward copy must still
                // read the second LSTM's output
                new Recipe("same_shape_into_bidirectional", List.of("lstm_a..head"), be -> List.of(
                        Lstm.builder(units).name("lstm_a").returnSequences(true).backend(be).build(),
                        Lstm.builder(units).name("lstm_b").returnSequences(true).backend(be).build(),
                        Bidirectional.of("bi_c", Lstm.builder(units).returnSequences(true).backend(be).build(),
                                Bidirectional.MergeMode.CONCAT, null),
                        TimeDistributed.of("head", Dense.builder(3).build()))),
                new Recipe("six_lstms", List.of("l0..l5"), be -> {
                    List<Layer> l = new ArrayList<>();
                    for (int k = 0; k < 6; k++) {
                        l.add(Lstm.builder(units + k).name("l" + k).returnSequences(k < 5).backend(be).build());
                    }
                    return l;
                }));
    }

    /** The recipe of that name among {@link #recipes(int)}. */
    public static Recipe recipe(int units, String name) {
        for (Recipe r : recipes(units)) {
            if (r.name().equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("No recipe named " + name);
    }

    /**
     * Gives the layers of every model (made from one recipe) the same random weights: runs the first
     * on {@code x} so that every layer is built, then draws each weight (scale about 1.5/√fan-in).
     */
    public static void sameRandomWeights(RandomTensors r, Tensor x, Model... models) {
        for (Model m : models) {
            m.predict(List.of(x));
        }
        List<List<Layer>> layers = new ArrayList<>();
        for (Model m : models) {
            layers.add(m.layers());
        }
        for (int k = 0; k < layers.get(0).size(); k++) {
            List<Tensor> w = weightsOf(layers.get(0).get(k));
            if (w == null) {
                continue;
            }
            List<Tensor> fresh = new ArrayList<>();
            for (Tensor t : w) {
                int fanIn = t.rank() == 2 ? t.dim(0) : t.dim(t.rank() - 1);
                fresh.add(r.uniform(1.5 / Math.sqrt(Math.max(1, fanIn)), t.shape()));
            }
            for (List<Layer> l : layers) {
                setWeights(l.get(k), fresh);
            }
        }
    }

    private static List<Tensor> weightsOf(Layer l) {
        if (l instanceof RecurrentLayer r) {
            return r.getWeights();
        }
        if (l instanceof Dense d) {
            return d.getWeights();
        }
        if (l instanceof TimeDistributed td && td.inner() instanceof Dense d) {
            return d.getWeights();
        }
        if (l instanceof Bidirectional b) {
            return b.getWeights();
        }
        return null;
    }

    private static void setWeights(Layer l, List<Tensor> w) {
        if (l instanceof RecurrentLayer r) {
            r.setWeights(w);
        } else if (l instanceof Dense d) {
            d.setWeights(w);
        } else if (l instanceof TimeDistributed td && td.inner() instanceof Dense d) {
            d.setWeights(w);
        } else if (l instanceof Bidirectional b) {
            b.setWeights(w);
        }
    }

    /** x [batch, timesteps, FEATURES] of random values; with {@code masked}, about a third of the steps zeroed (masked). */
    public static Tensor input(RandomTensors r, int batch, int timesteps, boolean masked) {
        Tensor x = r.uniform(1, batch, timesteps, FEATURES);
        if (masked) {
            var keep = r.mask(batch, timesteps, 0.65);
            float[] d = x.data();
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < timesteps; t++) {
                    if (!keep.get(b, t)) {
                        java.util.Arrays.fill(d, (b * timesteps + t) * FEATURES, (b * timesteps + t + 1) * FEATURES, 0f);
                    }
                }
            }
        }
        return x;
    }
}
