package dev.rnnrt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Backend;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cuda.CudaProbe;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.Embedding;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Initializer;
import dev.rnnrt.layers.InputValueException;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Merge;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.layers.StackedRnn;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A call of a stateful model that fails part way (a bad value in a later chunk, a shape error in
 * a later layer) leaves every carried state as it was: the error is the one a fresh model gives,
 * and the next good call gives what it gives on a twin that never saw the failed call. On each
 * backend usable here: the CPU reference, the fast CPU path, and CUDA where a device is visible.
 */
class FailedCallStatesTest {

    private static final long SEED = 771100L;

    /** The backends usable on this machine: both CPU paths, and CUDA where it can run. */
    private static List<Backend> backends() {
        List<Backend> out = new ArrayList<>(List.of(Backend.CPU_REFERENCE, Backend.CPU));
        if (CudaProbe.status().usable()) {
            out.add(Backend.CUDA);
        }
        return out;
    }

    /**
     * A stateful tagger over ids, as a Keras file with {@code batch_input_shape} loads: Embedding,
     * a stateful Bidirectional LSTM, a stateful stack of a GRU and a SimpleRNN cell. Built the
     * same way twice, it has the same weights.
     */
    private static Model tagger(RecurrentBackend be) {
        Lstm forward = seeded(Lstm.builder(4), 10).returnSequences(true).stateful(true).backend(be).build();
        Lstm backward = seeded(Lstm.builder(4), 20).returnSequences(true).stateful(true).goBackwards(true)
                .backend(be).build();
        StackedRnn stack = StackedRnn.builder(seeded(Gru.builder(3), 30).backend(be).build(),
                seeded(SimpleRnn.builder(2), 40).backend(be).build()).name("stack").returnSequences(true)
                .stateful(true).build();
        return Model.sequential("tagger").batchSize(2).input(-1)
                .add(Embedding.of("emb", 7, 3, false, Initializer.randomUniform(-1, 1, SEED)))
                .add(Bidirectional.of("bi", forward, Bidirectional.MergeMode.CONCAT, backward))
                .add(stack)
                .build();
    }

    /** Weights drawn from seeded initializers, distinct per unit and per weight. */
    private static <S extends RecurrentLayerBuilder<S>> S seeded(S b, long k) {
        return b.kernelInitializer(Initializer.randomUniform(-0.6, 0.6, SEED + k))
                .recurrentInitializer(Initializer.randomUniform(-0.6, 0.6, SEED + k + 1))
                .biasInitializer(Initializer.randomUniform(-0.3, 0.3, SEED + k + 2));
    }

    /** [batch, steps] of ids in [0, 7), as floats. */
    private static Tensor ids(RandomTensors r, int batch, int steps) {
        Tensor u = r.uniform(1, batch, steps);
        float[] d = u.data();
        for (int k = 0; k < d.length; k++) {
            d[k] = (float) Math.floor((d[k] + 1) * 3.5f) % 7;
        }
        return u;
    }

    @Test
    void aBadIdInALaterChunkLeavesTheStatesAsTheyWere() {
        for (Backend backend : backends()) {
            try (Backend.Opened opened = backend.open()) {
                RandomTensors r = new RandomTensors(SEED + backend.ordinal());
                Model model = tagger(opened.backend());
                Model twin = tagger(opened.backend());
                Tensor first = ids(r, 4, 5);
                Tensor bad = ids(r, 6, 5);
                bad.data()[4 * 5 + 2] = 9;      // sequence 4 (the third chunk of two), step 2: past the vocabulary
                Tensor next = ids(r, 4, 5);

                Compare.assertIdentical(backend + ": twins agree", twin.predict(List.of(first), 2).get(0),
                        model.predict(List.of(first), 2).get(0));
                InputValueException e = assertThrows(InputValueException.class,
                        () -> model.predict(List.of(bad), 2), backend::toString);
                assertTrue(e.getMessage().contains("Layer 'emb' (Embedding)") && e.getMessage().contains("[4, 2]")
                        && e.getMessage().contains("9"), e.getMessage());
                // a fresh model says the same
                assertEquals(e.getMessage(), assertThrows(InputValueException.class,
                        () -> tagger(opened.backend()).predict(List.of(bad), 2)).getMessage());

                Tensor expected = twin.predict(List.of(next), 2).get(0);
                Compare.assertClose(backend + ": the call after the failed one, seed " + r.seed(), expected,
                        model.predict(List.of(next), 2).get(0), Tolerance.FP32);
                // and the states still carry: a fresh model gives other numbers for that call
                assertNotEquals(0.0, difference(expected, tagger(opened.backend()).predict(List.of(next), 2).get(0)),
                        backend + ": the states did not carry");
            }
        }
    }

    /**
     * A shape error found in a layer after a stateful one has run, in one batch: the stateful
     * layer's states go back.
     */
    @Test
    void aShapeErrorInALaterLayerLeavesTheStatesAsTheyWere() {
        for (Backend backend : backends()) {
            try (Backend.Opened opened = backend.open()) {
                RandomTensors r = new RandomTensors(SEED + 10 + backend.ordinal());
                Supplier<Model> build = () -> Model.functional("residual").input("x", -1, 3).input("y", -1, 4)
                        .add(seeded(Lstm.builder(4), 50).name("lstm").returnSequences(true).stateful(true)
                                .backend(opened.backend()).build(), "x")
                        .add(Merge.of("add", Merge.Mode.ADD), "lstm", "y")
                        .outputs("add").build();
                Model model = build.get();
                Model twin = build.get();
                List<Tensor> first = List.of(r.uniform(1, 3, 5, 3), r.uniform(1, 3, 5, 4));
                List<Tensor> bad = List.of(r.uniform(1, 3, 5, 3), r.uniform(1, 3, 6, 4));
                List<Tensor> next = List.of(r.uniform(1, 3, 4, 3), r.uniform(1, 3, 4, 4));

                Compare.assertIdentical(backend + ": twins agree", twin.predict(first).get(0), model.predict(first).get(0));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.predict(bad));
                assertTrue(e.getMessage().contains("Layer 'add'") && e.getMessage().contains("[3, 6, 4]"),
                        e.getMessage());
                Compare.assertClose(backend + ": the call after the failed one, seed " + r.seed(), twin.predict(next)
                        .get(0), model.predict(next).get(0), Tolerance.FP32);
            }
        }
    }

    /** The largest absolute difference between two tensors of one shape. */
    private static double difference(Tensor a, Tensor b) {
        double d = 0;
        for (int k = 0; k < a.size(); k++) {
            d = Math.max(d, Math.abs(a.data()[k] - b.data()[k]));
        }
        return d;
    }
}
