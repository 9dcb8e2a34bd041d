package dev.rnnrt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Backend;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentResult;
import dev.rnnrt.backend.cuda.CudaProbe;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.BidirectionalStack;
import dev.rnnrt.layers.Embedding;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Initializer;
import dev.rnnrt.layers.InputValueException;
import dev.rnnrt.layers.Layer;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A call of a stateful model or layer that fails part way (a bad value in a later chunk, a shape
 * error in a later layer, a backend that fails for one direction or cell) leaves every carried
 * state as it was: the error is the one a fresh model gives, and the next good call gives what it
 * gives on a twin that never saw the failed call. On each backend usable here: the CPU reference,
 * the fast CPU path, and CUDA where a device is visible.
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

    /**
     * Layers made of several recurrent layers, called directly, whose later part fails on its
     * backend: Bidirectional with its directions on two backends, a stack whose second cell fails,
     * and a Bidirectional stack whose backward stack fails.
     */
    @Test
    void aBackendFailingForOnePartOfALayerLeavesEveryPartsStatesAsTheyWere() {
        for (Backend backend : backends()) {
            try (Backend.Opened opened = backend.open()) {
                RecurrentBackend be = opened.backend();
                List<Function<FailingBackend, Layer>> makers = List.of(
                        f -> Bidirectional.of("bi", seeded(Gru.builder(3), 60).returnSequences(true).stateful(true)
                                .backend(be).build(), Bidirectional.MergeMode.CONCAT,
                                seeded(Gru.builder(3), 70).returnSequences(true).stateful(true).goBackwards(true)
                                        .backend(f).build()),
                        f -> StackedRnn.builder(seeded(Lstm.builder(4), 80).backend(be).build(),
                                seeded(Gru.builder(3), 90).backend(f).build()).name("stack").stateful(true).build(),
                        f -> BidirectionalStack.of("bistack", StackedRnn.builder(
                                        seeded(SimpleRnn.builder(3), 100).backend(be).build(),
                                        seeded(Lstm.builder(2), 110).backend(be).build()).stateful(true).build(),
                                Bidirectional.MergeMode.SUM, StackedRnn.builder(
                                        seeded(Gru.builder(4), 120).backend(f).build(),
                                        seeded(Lstm.builder(2), 130).backend(f).build()).goBackwards(true)
                                        .stateful(true).build(), true));
                for (int k = 0; k < makers.size(); k++) {
                    RandomTensors r = new RandomTensors(SEED + 20 + 10 * k + backend.ordinal());
                    FailingBackend failing = new FailingBackend(be);
                    Layer layer = makers.get(k).apply(failing);
                    Layer twin = makers.get(k).apply(new FailingBackend(be));
                    String what = backend + ", " + layer.describe();
                    Tensor first = r.uniform(1, 2, 5, 3);
                    Tensor next = r.uniform(1, 2, 4, 3);

                    Compare.assertIdentical(what + ": twins agree", call(twin, first), call(layer, first));
                    failing.fail = true;
                    IllegalStateException e = assertThrows(IllegalStateException.class,
                            () -> call(layer, r.uniform(1, 2, 5, 3)), what);
                    assertEquals(FailingBackend.MESSAGE, e.getMessage());
                    failing.fail = false;
                    Compare.assertClose(what + ": the call after the failed one, seed " + r.seed(), call(twin, next),
                            call(layer, next), Tolerance.FP32);
                }
            }
        }
    }

    /**
     * While a call of a stateful model waits in its failing last layer, another thread works with
     * a stateful layer that call has already run, through a second model that shares it: resets
     * it and calls it with another batch size. What that thread did is not undone when the failed
     * call puts its states back: the second model's calls give what the layer gives from zeros,
     * and go on doing so with that batch size. For a recurrent layer, and for each layer made of
     * several.
     */
    @Test
    void aFailedCallPutsNoStatesBackOverWhatAnotherThreadDidMeanwhile() throws Exception {
        try (Backend.Opened opened = Backend.CPU_REFERENCE.open()) {
            RecurrentBackend be = opened.backend();
            List<Supplier<Layer>> makers = List.of(
                    () -> seeded(Lstm.builder(4), 140).returnSequences(true).stateful(true).backend(be).build(),
                    () -> Bidirectional.of("bi", seeded(Gru.builder(3), 180).returnSequences(true).stateful(true)
                                    .backend(be).build(), Bidirectional.MergeMode.CONCAT,
                            seeded(Gru.builder(3), 190).returnSequences(true).stateful(true).goBackwards(true)
                                    .backend(be).build()),
                    () -> StackedRnn.builder(seeded(Lstm.builder(4), 200).backend(be).build(),
                            seeded(Gru.builder(3), 210).backend(be).build()).returnSequences(true).stateful(true)
                            .build(),
                    () -> BidirectionalStack.of("bistack", StackedRnn.builder(
                            seeded(SimpleRnn.builder(3), 220).backend(be).build(),
                            seeded(Lstm.builder(2), 230).backend(be).build()).returnSequences(true).stateful(true)
                            .build(), Bidirectional.MergeMode.SUM, true));
            for (int k = 0; k < makers.size(); k++) {
                RandomTensors r = new RandomTensors(SEED + 50 + k);
                FailingBackend failing = new FailingBackend(be);
                Layer shared = makers.get(k).get();
                Model a = Model.sequential("a").input(-1, 3).add(shared)
                        .add(seeded(Gru.builder(3), 150).name("gru").stateful(true).backend(failing).build()).build();
                Model b = Model.sequential("b").input(-1, 3).add(shared).build();
                Layer twin = makers.get(k).get();
                String what = shared.describe();
                List<Tensor> y = List.of(r.uniform(1, 3, 4, 3), r.uniform(1, 3, 5, 3));

                a.predict(r.uniform(1, 2, 5, 3));
                failing.fail = true;
                failing.pause = new CountDownLatch(1);
                AtomicReference<Throwable> failed = new AtomicReference<>();
                Thread caller = new Thread(() -> failed.set(assertThrows(IllegalStateException.class,
                        () -> a.predict(r.uniform(1, 2, 6, 3)))));
                caller.start();
                assertTrue(failing.paused.await(10, TimeUnit.SECONDS), what + ": the failing call did not reach its "
                        + "last layer");
                List<Tensor> fromB = new ArrayList<>();
                AtomicReference<Throwable> other = new AtomicReference<>();
                Thread meanwhile = new Thread(() -> {
                    try {
                        b.resetStates();
                        fromB.add(b.predict(y.get(0)));
                    } catch (Throwable t) {
                        other.set(t);
                    }
                });
                meanwhile.start();
                // it either waits for the failing call to end, or has done its work before that ends
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (meanwhile.getState() != Thread.State.BLOCKED && meanwhile.getState() != Thread.State.TERMINATED
                        && System.nanoTime() < until) {
                    Thread.sleep(1);
                }
                failing.pause.countDown();
                caller.join(10_000);
                meanwhile.join(10_000);

                assertEquals(FailingBackend.MESSAGE, failed.get().getMessage(), what);
                assertEquals(null, other.get(), what);
                Compare.assertClose(what + ": the second model's call after its reset, seed " + r.seed(),
                        call(twin, y.get(0)), fromB.get(0), Tolerance.FP32);
                Compare.assertClose(what + ": the second model's next call, seed " + r.seed(), call(twin, y.get(1)),
                        b.predict(y.get(1)), Tolerance.FP32);
            }
        }
    }

    /**
     * Two models that share two stateful layers and run them in opposite orders, called from two
     * threads at once, each holding its layers' locks for the whole call: both finish, the locks
     * being taken in one order whatever the model's.
     */
    @Test
    void modelsSharingStatefulLayersInOppositeOrdersDoNotDeadlock() throws Exception {
        try (Backend.Opened opened = Backend.CPU_REFERENCE.open()) {
            RecurrentBackend be = opened.backend();
            Lstm first = seeded(Lstm.builder(3), 240).returnSequences(true).stateful(true).backend(be).build();
            Gru second = seeded(Gru.builder(3), 250).returnSequences(true).stateful(true).backend(be).build();
            Model ab = Model.sequential("ab").input(-1, 3).add(first).add(second).build();
            Model ba = Model.sequential("ba").input(-1, 3).add(second).add(first).build();
            Tensor x = new RandomTensors(SEED + 70).uniform(1, 1, 2, 3);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (Model m : List.of(ab, ba)) {
                threads.add(new Thread(() -> {
                    try {
                        for (int k = 0; k < 500; k++) {
                            m.predict(x);
                        }
                    } catch (Throwable t) {
                        failure.set(t);
                    }
                }));
            }
            for (Thread t : threads) {
                t.setDaemon(true);
                t.start();
            }
            for (Thread t : threads) {
                t.join(30_000);
                assertEquals(Thread.State.TERMINATED, t.getState(), "the two models' calls wait for each other");
            }
            assertEquals(null, failure.get());
        }
    }

    /**
     * A layer of the user's whose states cannot be put back (its restore throws) before a
     * stateful LSTM, in a call that fails in its last layer: the call's own failure is what the
     * caller gets, with the restore's added as suppressed, and the LSTM's states go back all the
     * same.
     */
    @Test
    void aRestoreThatThrowsHidesNeitherTheFailureNorTheOtherLayersRestores() {
        try (Backend.Opened opened = Backend.CPU_REFERENCE.open()) {
            RecurrentBackend be = opened.backend();
            RandomTensors r = new RandomTensors(SEED + 60);
            FailingBackend failing = new FailingBackend(be);
            Supplier<Lstm> lstm = () -> seeded(Lstm.builder(4), 160).name("lstm").returnSequences(true)
                    .stateful(true).backend(be).build();
            Model model = Model.sequential("m").input(-1, 3).add(new Unrestorable()).add(lstm.get())
                    .add(seeded(Gru.builder(3), 170).name("gru").stateful(true).backend(failing).build()).build();
            Lstm twin = lstm.get();
            Tensor first = r.uniform(1, 2, 5, 3);
            Tensor next = r.uniform(1, 2, 4, 3);

            model.predict(first);
            twin.call(first);
            failing.fail = true;
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> model.predict(r.uniform(1, 2, 5, 3)));
            assertEquals(FailingBackend.MESSAGE, e.getMessage());
            assertEquals(1, e.getSuppressed().length);
            assertEquals(Unrestorable.MESSAGE, e.getSuppressed()[0].getMessage());
            failing.fail = false;
            Compare.assertClose("the LSTM's call after the failed one, seed " + r.seed(), twin.call(next).output(),
                    model.layers().get(1).call(List.of(next), null).get(0), Tolerance.FP32);
        }
    }

    /** A stateful layer of the user's that passes its input on and cannot put its states back. */
    private static final class Unrestorable extends Layer {

        static final String MESSAGE = "these states cannot be put back";

        Unrestorable() {
            super("unrestorable");
        }

        @Override
        public String className() {
            return "Unrestorable";
        }

        @Override
        public List<int[]> outputShapes(List<int[]> inputShapes) {
            return List.of(inputShapes.get(0));
        }

        @Override
        public List<Tensor> call(List<Tensor> inputs, List<Mask> masks) {
            return List.of(inputs.get(0));
        }

        @Override
        public boolean isStateful() {
            return true;
        }

        @Override
        public SavedStates saveStates() {
            return () -> {
                throw new UnsupportedOperationException(MESSAGE);
            };
        }
    }

    private static Tensor call(Layer layer, Tensor x) {
        return layer.call(List.of(x), null).get(0);
    }

    /** The largest absolute difference between two tensors of one shape. */
    private static double difference(Tensor a, Tensor b) {
        double d = 0;
        for (int k = 0; k < a.size(); k++) {
            d = Math.max(d, Math.abs(a.data()[k] - b.data()[k]));
        }
        return d;
    }

    /** A backend that runs another one's arithmetic, or fails while {@link #fail} is set. */
    private static final class FailingBackend implements RecurrentBackend {

        static final String MESSAGE = "the device failed (a test of what a failure leaves)";

        private final RecurrentBackend inner;
        volatile boolean fail;
        /** When set, a failing call counts down {@link #paused} and waits for this before it throws. */
        volatile CountDownLatch pause;
        final CountDownLatch paused = new CountDownLatch(1);

        FailingBackend(RecurrentBackend inner) {
            this.inner = inner;
        }

        @Override
        public String name() {
            return "failing " + inner.name();
        }

        @Override
        public RecurrentResult forward(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState) {
            if (fail) {
                CountDownLatch p = pause;
                if (p != null) {
                    paused.countDown();
                    try {
                        p.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                throw new IllegalStateException(MESSAGE);
            }
            return inner.forward(cell, loop, x, mask, initialState);
        }
    }
}
