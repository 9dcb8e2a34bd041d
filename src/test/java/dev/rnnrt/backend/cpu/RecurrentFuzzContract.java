package dev.rnnrt.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.Bidirectional.MergeMode;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Embedding;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.layers.StackedRnn;
import dev.rnnrt.layers.TimeDistributed;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Randomized differential test of a fast backend: configurations drawn from a seeded generator, each
 * built twice with the same weights, once on the float64 reference and once on one of the
 * {@link #fastBackends} (drawn per case), and compared within {@link Tolerance#FP32}. It draws the
 * cell (SimpleRNN, LSTM, GRU with either reset_after, LSTM with unit_forget_bias), every activation
 * and recurrent activation but the discontinuous hard_shrink ({@link #ACTIVATIONS}; both
 * hard_sigmoids), use_bias, widths that are not multiples of a vector (1, 3, 17, 33, 100, 257),
 * batch 1..70, timesteps 1..40, go_backwards, return_sequences and return_state, initial states,
 * masks (random, rows or every step masked, leading and trailing padding), zero_output_for_mask,
 * time_major, stateful calls with resetStates, the step API, Bidirectional (every merge mode, an
 * inner go_backwards layer, an explicit backward layer, initial states), stacked cells, models with
 * Embedding(mask_zero) and Dense or TimeDistributed(Dense) heads, models of stacked recurrent and
 * Bidirectional layers with Dense heads, calls from two threads at once: of one layer and of one
 * model (each caller gets its own right result) and of a stateful layer (the calls run one after
 * the other, in either order), and a call with one wrong argument followed by a right one, of a
 * layer, a Bidirectional layer or a stack of cells.
 *
 * <p>States that grow past float32's range (unbounded activations in the gates) are not compared:
 * see {@link #compareAll}.
 *
 * <p>Each test class runs a few cases of each kind; {@code -Drnnrt.fuzz.cases=N} runs N of each and
 * {@code -Drnnrt.fuzz.seed=S} another seed. A failure names its case's seed S and the command that runs
 * that case alone ({@code -Drnnrt.fuzz.case=S} with the test method).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class RecurrentFuzzContract {

    private static final int CASES = Integer.getInteger("rnnrt.fuzz.cases", 8);
    protected static final long SEED = Long.getLong("rnnrt.fuzz.seed", 20_240_611L);
    /** Most reference multiply-adds per case, so that the suite stays within seconds. */
    private static final long BUDGET = Long.getLong("rnnrt.fuzz.budget", 3_000_000L);

    private static final int[] WIDTHS = {1, 3, 17, 33, 100, 257};
    /**
     * Every activation but hard_shrink, whose jump at ±0.5 turns a float32 rounding of a
     * pre-activation at the jump into a difference of 0.5 in the output (seen: 1.2e-7 from it, in
     * a GRU of 33 units): RecurrentCpuActivationsTest runs it on the fast path on inputs it chooses.
     */
    private static final Activation[] ACTIVATIONS = java.util.Arrays.stream(Activation.values())
            .filter(a -> a != Activation.HARD_SHRINK).toArray(Activation[]::new);

    private final ExecutorService callers = Executors.newFixedThreadPool(2);

    @AfterAll
    void stop() {
        callers.shutdownNow();
        // cases left uncompared must stay exceptions, or the test compares little
        String counts = illConditionedCases.get() + " ill-conditioned and " + explodedCases.get()
                + " exploding comparisons of " + compared.get();
        if (Boolean.getBoolean("rnnrt.fuzz.debug")) {
            System.err.println(counts);
        }
        if (ONLY_CASE == null) {
            assertTrue(illConditionedCases.get() + explodedCases.get() <= Math.max(2, compared.get() / 5), counts);
        }
    }

    /** The backends under test, one drawn per case; each is compared with the float64 reference. */
    protected abstract List<RecurrentBackend> fastBackends();

    /** How a failure's case runs alone: the Maven command up to the test selection. */
    protected String rerunCommand() {
        return "mvn -o test -Drnnrt.ptx.skip=true";
    }

    /** One recurrent cell's configuration, buildable on any backend. */
    private record CellConfig(CellKind kind, int units, Activation activation, Activation recurrentActivation,
                              boolean useBias, boolean resetAfter, boolean unitForgetBias) {

        RecurrentLayerBuilder<?> builder() {
            switch (kind) {
                case LSTM:
                    return Lstm.builder(units).activation(activation).recurrentActivation(recurrentActivation)
                            .unitForgetBias(unitForgetBias).useBias(useBias);
                case GRU:
                    return Gru.builder(units).activation(activation).recurrentActivation(recurrentActivation)
                            .resetAfter(resetAfter).useBias(useBias);
                default:
                    return SimpleRnn.builder(units).activation(activation).useBias(useBias);
            }
        }

        @Override
        public String toString() {
            String s = kind.kerasName() + "(" + units + ", " + activation.name();
            if (kind != CellKind.SIMPLE_RNN) {
                s += ", rec=" + recurrentActivation.name();
            }
            if (kind == CellKind.GRU) {
                s += ", reset_after=" + resetAfter;
            }
            if (kind == CellKind.LSTM && unitForgetBias) {
                s += ", unit_forget_bias";
            }
            return s + (useBias ? "" : ", no bias") + ")";
        }
    }

    /** The loop options of a layer. */
    private record LoopConfig(boolean returnSequences, boolean returnState, boolean goBackwards,
                              boolean zeroOutputForMask, boolean stateful, boolean timeMajor) {

        <S extends RecurrentLayerBuilder<S>> RecurrentLayer apply(RecurrentLayerBuilder<S> b, RecurrentBackend backend) {
            return b.returnSequences(returnSequences).returnState(returnState).goBackwards(goBackwards)
                    .zeroOutputForMask(zeroOutputForMask).stateful(stateful).timeMajor(timeMajor).backend(backend)
                    .build();
        }
    }

    /** A seeded draw of everything one case needs. */
    private static final class Draw {
        final SplittableRandom random;
        final RandomTensors tensors;
        final long seed;
        final StringBuilder log = new StringBuilder();

        final List<RecurrentBackend> fast;

        Draw(long seed, List<RecurrentBackend> fast) {
            this.seed = seed;
            this.fast = fast;
            this.random = new SplittableRandom(seed);
            this.tensors = new RandomTensors(seed ^ 0x5DEECE66DL);
        }

        boolean coin() {
            return random.nextBoolean();
        }

        int between(int lo, int hi) {
            return random.nextInt(lo, hi + 1);
        }

        <T> T pick(T[] values) {
            return values[random.nextInt(values.length)];
        }

        int width() {
            return random.nextInt(3) == 0 ? between(1, 9) : WIDTHS[random.nextInt(WIDTHS.length)];
        }

        CellConfig cell(int units) {
            // half the cells take the common activations (the vector gates), the rest any activation
            return cell(units, coin());
        }

        CellConfig cell(int units, boolean common) {
            CellKind kind = pick(CellKind.values());
            Activation act = common ? (kind == CellKind.SIMPLE_RNN ? pick(new Activation[] {Activation.TANH,
                    Activation.RELU, Activation.SIGMOID, Activation.LINEAR}) : Activation.TANH) : pick(ACTIVATIONS);
            Activation rec = common ? pick(new Activation[] {Activation.SIGMOID, Activation.HARD_SIGMOID_KERAS2,
                    Activation.HARD_SIGMOID_KERAS3}) : pick(ACTIVATIONS);
            return new CellConfig(kind, units, act, rec, random.nextInt(5) != 0, coin(), coin());
        }

        /** Batch and timesteps that keep the reference within the budget for a cell of this cost per step. */
        int[] batchAndTime(long perStep) {
            int b = random.nextInt(4) == 0 ? 1 : between(1, 70);
            int t = between(1, 40);
            while ((long) b * t * perStep > BUDGET && (b > 1 || t > 1)) {
                if (t > 1 && (b == 1 || coin())) {
                    t = (t + 1) / 2;
                } else {
                    b = (b + 1) / 2;
                }
            }
            return new int[] {b, t};
        }

        /** A mask [B, T] of one of several kinds, or null. */
        Mask mask(int b, int t) {
            int kind = random.nextInt(8);
            boolean[] m = new boolean[b * t];
            String what;
            switch (kind) {
                case 0 -> {
                    log.append(" mask=none");
                    return null;
                }
                case 1 -> {
                    what = "all-false";
                }
                case 2 -> {
                    what = "leading";
                    for (int i = 0; i < b; i++) {
                        int start = random.nextInt(t + 1);
                        for (int s = start; s < t; s++) {
                            m[i * t + s] = true;
                        }
                    }
                }
                case 3 -> {
                    what = "trailing";
                    for (int i = 0; i < b; i++) {
                        int len = random.nextInt(t + 1);
                        for (int s = 0; s < len; s++) {
                            m[i * t + s] = true;
                        }
                    }
                }
                case 4 -> {
                    what = "rows-false";
                    for (int i = 0; i < b; i++) {
                        boolean row = coin();
                        for (int s = 0; s < t; s++) {
                            m[i * t + s] = row && random.nextDouble() < 0.8;
                        }
                    }
                }
                case 5 -> {
                    what = "all-true";
                    java.util.Arrays.fill(m, true);
                }
                default -> {
                    what = "random";
                    double keep = random.nextDouble();
                    for (int k = 0; k < m.length; k++) {
                        m[k] = random.nextDouble() < keep;
                    }
                }
            }
            log.append(" mask=").append(what);
            return Mask.of(m, b, t);
        }

        RecurrentBackend fast() {
            int k = random.nextInt(fast.size());
            RecurrentBackend f = fast.get(k);
            log.append(" fast=#").append(k).append(' ').append(f.name()).append(f == RecurrentCpu.INSTANCE ? "(instance)" : "");
            return f;
        }

        /** Weights at the scale trained models have (about 1/sqrt(fan-in)), shaped as the layer's. */
        List<Tensor> weightsLike(List<Tensor> shapes, int fanIn) {
            double scale = Math.min(0.7, 1.5 / Math.sqrt(fanIn));
            List<Tensor> w = new ArrayList<>();
            for (Tensor t : shapes) {
                w.add(tensors.uniform(scale, t.shape()));
            }
            return w;
        }

        List<Tensor> states(int count, int b, int units) {
            List<Tensor> s = new ArrayList<>();
            for (int k = 0; k < count; k++) {
                s.add(tensors.uniform(1, b, units));
            }
            return s;
        }

        String context(String what) {
            return what + " seed=" + seed + log;
        }
    }

    /** {@code -Drnnrt.fuzz.case=S}: each test method run draws only the case of seed S, the seed a failure names. */
    private static final Long ONLY_CASE = Long.getLong("rnnrt.fuzz.case");

    /** One drawn case. */
    private interface Case {
        void run(Draw d) throws Exception;
    }

    /**
     * Runs {@code count} cases of a scenario (or only {@link #ONLY_CASE}); a failure says how to
     * run that case alone.
     */
    private void runCases(String method, int scenario, int count, Case body) {
        for (int n = 0; n < (ONLY_CASE == null ? count : 1); n++) {
            Draw d = new Draw(ONLY_CASE == null ? caseSeed(scenario, n) : ONLY_CASE, fastBackends());
            try {
                body.run(d);
            } catch (Throwable t) {
                String rerun = "rerun this case alone with: " + rerunCommand() + " -Dtest="
                        + getClass().getSimpleName() + "#" + method + " -Drnnrt.fuzz.case=" + d.seed;
                throw new AssertionError(rerun + "\n" + (t instanceof AssertionError ? t.getMessage()
                        : d.context("case") + ": " + t), t);
            }
        }
    }

    private static long caseSeed(int scenario, int n) {
        return SEED * 1_000_003L + scenario * 100_003L + n;
    }

    /** Random weights for a built layer; an LSTM with unit_forget_bias keeps the bias its initializer made. */
    private static void randomWeights(Draw d, RecurrentLayer ref, CellConfig c, int inputSize) {
        ref.build(inputSize);
        List<Tensor> w = d.weightsLike(ref.getWeights(), Math.max(inputSize, c.units()));
        if (c.kind() == CellKind.LSTM && c.unitForgetBias() && c.useBias()) {
            w.set(2, ref.getWeights().get(2)); // zeros but ones on the forget gate
        }
        ref.setWeights(w);
    }

    /**
     * Compares every output within {@link Tolerance#FP32}. An output whose reference left
     * float32's range ({@link #explodes}) is not compared; the others are. Where one is outside the
     * tolerance, the case is checked for being ill-conditioned: {@code perturbed} runs the reference
     * again, its states rounded to float32 after every step ({@link StepwiseReference}), on inputs
     * moved by a few float32 roundings ({@link #NUDGE}); if that alone moves that output of the
     * reference by more than {@link #ILL_CONDITIONED}, no float32 computation can match it to 1e-5
     * (unbounded activations in the gates, states growing past float32's range), and the output is
     * counted, not failed, so long as the fast path is no further from the reference than
     * {@link #ILL_CONDITIONED_RATIO} times that move: a fast path that is wrong by more than
     * rounding can explain (a NaN, a value far off) still fails.
     *
     * @return whether every output was compared within the tolerance: false where one was left
     *         uncompared, so that a stateful case stops there (its fast layer carries states that
     *         rounding has moved, which the next call's conditioning check, started from the
     *         reference's states, would not account for)
     */
    protected boolean compareAll(String ctx, List<Tensor> expected, List<Tensor> actual,
                                   Supplier<List<Tensor>> perturbed) {
        assertEquals(expected.size(), actual.size(), ctx + ": output count");
        compared.incrementAndGet();
        if (Boolean.getBoolean("rnnrt.fuzz.debug")) {
            debugNonFinite(ctx, expected, actual);
        }
        boolean exploded = false;
        boolean illConditioned = false;
        double[] moved = null;
        int attempts = 0;
        for (int k = 0; k < expected.size(); k++) {
            Tensor e = expected.get(k);
            if (explodes(e)) {
                // unbounded activations can make the states grow without limit (exponential, relu
                // gates), past what float32 holds: float32 and float64 then part ways (an LSTM's h
                // from a c past float32's range), and no model is trained to do that
                exploded = true;
                continue;
            }
            try {
                Compare.assertClose(ctx + " output " + k, e, actual.get(k), Tolerance.FP32);
            } catch (AssertionError failure) {
                if (perturbed == null) {
                    throw failure;
                }
                double err = relativeError(e, actual.get(k));
                double fastErr = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
                // a few draws of the rounding, so that one draw's cancellations do not hide the sensitivity
                while (attempts < NUDGE_ATTEMPTS && !explained(fastErr, moved, k)) {
                    nudgeAttempt = attempts++;
                    List<Tensor> p = perturbed.get();
                    if (moved == null) {
                        moved = new double[expected.size()];
                    }
                    for (int j = 0; j < expected.size(); j++) {
                        double m = relativeError(expected.get(j), p.get(j));
                        moved[j] = Double.isNaN(m) ? Double.POSITIVE_INFINITY : Math.max(moved[j], m);
                    }
                }
                if (!explained(fastErr, moved, k)) {
                    throw new AssertionError(failure.getMessage() + " (float32 rounding of the inputs moves the "
                            + "reference's output " + k + " by " + (moved == null ? 0 : moved[k]) + "; the case is "
                            + "left uncompared only where that is above " + ILL_CONDITIONED + " and the fast path's "
                            + "error at most " + ILL_CONDITIONED_RATIO + " times it)", failure);
                }
                illConditioned = true;
                if (Boolean.getBoolean("rnnrt.fuzz.debug")) {
                    System.err.println("ill-conditioned output " + k + ": fast " + fastErr + ", rounding " + moved[k]
                            + ", ratio " + fastErr / moved[k] + ": " + ctx);
                }
            }
        }
        if (illConditioned) {
            illConditionedCases.incrementAndGet();
        } else if (exploded) {
            explodedCases.incrementAndGet();
        }
        return !illConditioned && !exploded;
    }

    /** Whether the perturbed reference's move of output k makes the fast path's error there rounding's doing. */
    private static boolean explained(double fastErr, double[] moved, int k) {
        return moved != null && moved[k] > ILL_CONDITIONED && fastErr <= ILL_CONDITIONED_RATIO * moved[k];
    }

    /** Lists the values the fast path made non-finite where the reference is finite ({@code -Drnnrt.fuzz.debug=true}). */
    private static void debugNonFinite(String ctx, List<Tensor> expected, List<Tensor> actual) {
        for (int k = 0; k < expected.size(); k++) {
            float[] e = expected.get(k).data();
            float[] a = actual.get(k).data();
            for (int j = 0; j < a.length; j++) {
                if (!Float.isFinite(a[j]) && Float.isFinite(e[j])) {
                    System.err.println(ctx + ": output " + k + " #" + j + " expected " + e[j] + ", got " + a[j]);
                }
            }
        }
    }

    /** How many draws of the rounding the conditioning check tries, and the one it is on. */
    private static final int NUDGE_ATTEMPTS = 3;
    private int nudgeAttempt;

    /**
     * The relative move of each input for the conditioning check: eight float32 roundings (2^-20),
     * well above the noise of the float64 reference itself.
     */
    private static final double NUDGE = 0x1p-20;

    /**
     * How far inputs moved by {@link #NUDGE} may move the reference in a case that is compared:
     * the reference's sensitivity to one float32 rounding (2^-23) at most {@link Tolerance#FP32} / 20.
     */
    private static final double ILL_CONDITIONED = Tolerance.FP32 / 20 * (NUDGE / 0x1p-23);
    /**
     * How much further than the perturbed reference the fast path may be in an ill-conditioned
     * output: its own roundings (sums of up to I + H products, float32 activations) are a few times
     * the perturbation's, and the conditioning amplifies both alike; a defect is off by far more.
     */
    private static final double ILL_CONDITIONED_RATIO = 100;
    private final java.util.concurrent.atomic.AtomicInteger illConditionedCases =
            new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger explodedCases =
            new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger compared =
            new java.util.concurrent.atomic.AtomicInteger();

    private static double relativeError(Tensor e, Tensor a) {
        double[] ev = new double[e.size()];
        for (int k = 0; k < ev.length; k++) {
            ev[k] = e.data()[k];
        }
        return Compare.relativeError(ev, a.data());
    }

    /** t with every value moved by a relative {@link #NUDGE}, up or down at random. */
    private Tensor nudge(Tensor t, long seed) {
        SplittableRandom r = new SplittableRandom(seed + nudgeAttempt * 0x9E3779B97F4A7C15L);
        float[] v = t.toArray();
        for (int k = 0; k < v.length; k++) {
            v[k] = (float) (v[k] * (1 + (r.nextBoolean() ? 1 : -1) * NUDGE));
        }
        return Tensor.wrap(v, t.shape());
    }

    private List<Tensor> nudge(List<Tensor> ts, long seed) {
        if (ts == null) {
            return null;
        }
        List<Tensor> out = new ArrayList<>();
        for (Tensor t : ts) {
            out.add(nudge(t, seed++));
        }
        return out;
    }

    /** Values past this magnitude mean the states grew without limit. */
    private static final double EXPLODED_MAGNITUDE = 1e4;

    private static boolean explodes(Tensor t) {
        for (float v : t.data()) {
            if (!(Math.abs(v) <= EXPLODED_MAGNITUDE)) {
                return true;
            }
        }
        return false;
    }

    // ---- the comparison itself ----------------------------------------------------------------------

    /** t with every value times {@code factor}. */
    protected static Tensor scaled(Tensor t, double factor) {
        float[] v = t.toArray();
        for (int k = 0; k < v.length; k++) {
            v[k] = (float) (v[k] * factor);
        }
        return Tensor.wrap(v, t.shape());
    }

    // ---- single layers ---------------------------------------------------------------------------

    @Test
    public void singleLayers() throws Exception {
        runCases("singleLayers", 1, CASES * 4, this::singleLayer);
    }

    private void singleLayer(Draw d) {
        int units = d.width();
        int in = d.width();
        CellConfig c = d.cell(units);
        boolean stateful = d.random.nextInt(4) == 0;
        LoopConfig loop = new LoopConfig(d.coin(), d.coin(), d.coin(), d.coin(), stateful, d.random.nextInt(5) == 0);
        d.log.append(" ").append(c).append(" I=").append(in).append(" ").append(loop);
        long perStep = (long) c.kind().gates() * units * (in + units) * (stateful ? 3 : 1);
        int[] bt = d.batchAndTime(perStep);
        int b = bt[0];
        int t = bt[1];
        d.log.append(" B=").append(b).append(" T=").append(t);
        RecurrentBackend fast = d.fast();
        RecurrentLayer ref = loop.apply(c.builder(), RecurrentReference.INSTANCE);
        randomWeights(d, ref, c, in);
        RecurrentLayer fst = loop.apply(c.builder(), fast);
        fst.setWeights(ref.getWeights());
        // the stepwise reference without carried states, for the conditioning check
        RecurrentLayer free = new LoopConfig(loop.returnSequences(), loop.returnState(), loop.goBackwards(),
                loop.zeroOutputForMask(), false, loop.timeMajor()).apply(c.builder(), StepwiseReference.INSTANCE);
        free.setWeights(ref.getWeights());
        int calls = stateful ? 3 : 1;
        for (int call = 0; call < calls; call++) {
            Tensor x = d.tensors.uniform(1.5, b, t, in);
            Mask mask = d.mask(b, t);
            List<Tensor> init = d.random.nextInt(3) == 0 ? d.states(c.kind().stateCount(), b, units) : null;
            d.log.append(" init=").append(init != null);
            if (loop.timeMajor()) {
                x = x.swapFirstAxes();
                mask = mask == null ? null : mask.transpose();
            }
            List<Tensor> from = init != null || !stateful || ref.states().isEmpty() ? init : ref.states();
            List<Tensor> expected = ref.call(x, init, mask).asList();
            List<Tensor> actual = fst.call(x, init, mask).asList();
            Tensor xx = x;
            Mask mm = mask;
            boolean compared = compareAll(d.context("call " + call), expected, actual,
                    () -> free.call(nudge(xx, d.seed), nudge(from, d.seed + 7), mm).asList());
            if (stateful) {
                compared &= compareAll(d.context("carried states after call " + call), ref.states(), fst.states(),
                    () -> free.call(nudge(xx, d.seed), nudge(from, d.seed + 7), mm).states());
                if (!compared) {
                    d.log.append(" (carried states left uncompared: no further calls)");
                    break;
                }
                if (call == 1 && d.coin()) {
                    d.log.append(" reset");
                    ref.resetStates();
                    fst.resetStates();
                }
            }
        }
        if (!loop.timeMajor()) {
            // the step API: one step ([B, I]) or a few ([B, s, I]) from explicit states
            int steps = d.between(0, Math.min(t, 3));
            Tensor x = steps == 0 ? d.tensors.uniform(1.5, b, in) : d.tensors.uniform(1.5, b, steps, in);
            List<Tensor> states = d.coin() ? d.states(c.kind().stateCount(), b, units) : null;
            d.log.append(" step ").append(steps).append(" states=").append(states != null);
            compareAll(d.context("step"), ref.step(x, states).asList(), fst.step(x, states).asList(),
                    () -> free.step(nudge(x, d.seed), nudge(states, d.seed + 7)).asList());
        }
    }

    // ---- Bidirectional -----------------------------------------------------------------------------

    @Test
    public void bidirectionalLayers() throws Exception {
        runCases("bidirectionalLayers", 2, CASES * 2, this::bidirectional);
    }

    private void bidirectional(Draw d) {
        int units = d.width();
        int in = d.width();
        CellConfig c = d.cell(units);
        MergeMode merge = d.pick(MergeMode.values());
        LoopConfig loop = new LoopConfig(d.coin(), d.coin(), d.coin(), d.coin(), false, d.random.nextInt(5) == 0);
        boolean keras2Masking = d.random.nextInt(4) == 0;
        // an explicit backward layer a third of the time: another cell, the opposite go_backwards
        CellConfig back = d.random.nextInt(3) == 0
                ? d.cell(merge == MergeMode.CONCAT || merge == MergeMode.NONE ? d.width() : units) : null;
        LoopConfig backLoop = back == null ? null : new LoopConfig(loop.returnSequences(), loop.returnState(),
                !loop.goBackwards(), d.coin(), false, loop.timeMajor());
        d.log.append(" Bidirectional(").append(c).append(", ").append(merge).append(", backward ").append(back)
                .append(") I=").append(in).append(" ").append(loop).append(keras2Masking ? " keras<=2.3 masked outputs" : "");
        long perStep = (long) c.kind().gates() * units * (in + units);
        if (back != null) {
            perStep += (long) back.kind().gates() * back.units() * (in + back.units());
        } else {
            perStep *= 2;
        }
        int[] bt = d.batchAndTime(perStep);
        int b = bt[0];
        int t = bt[1];
        d.log.append(" B=").append(b).append(" T=").append(t);
        RecurrentBackend fast = d.fast();
        List<Tensor> weights = new ArrayList<>();
        Function<RecurrentBackend, Bidirectional> make = backend -> {
            Bidirectional bi = Bidirectional.of(null, loop.apply(c.builder(), backend), merge,
                    back == null ? null : backLoop.apply(back.builder(), backend), !keras2Masking);
            bi.build(in);
            if (weights.isEmpty()) {
                for (RecurrentLayer dir : List.of(bi.forwardLayer(), bi.backwardLayer())) {
                    weights.addAll(d.weightsLike(dir.getWeights(), Math.max(in, dir.units())));
                }
            }
            bi.setWeights(weights);
            return bi;
        };
        Bidirectional ref = make.apply(RecurrentReference.INSTANCE);
        Bidirectional fst = make.apply(fast);
        Tensor x = d.tensors.uniform(1.5, b, t, in);
        Mask mask = d.mask(b, t);
        List<Tensor> inputs = new ArrayList<>(List.of(loop.timeMajor() ? x.swapFirstAxes() : x));
        // Keras halves initial_state between the directions: directions with different numbers of
        // states cannot take it (refused, RecurrentErrorsTest)
        boolean statesSplit = back == null || back.kind().stateCount() == c.kind().stateCount();
        if (d.random.nextInt(3) == 0 && statesSplit) {
            d.log.append(" init");
            inputs.addAll(d.states(c.kind().stateCount(), b, units));
            inputs.addAll(back == null ? d.states(c.kind().stateCount(), b, units)
                    : d.states(back.kind().stateCount(), b, back.units()));
        }
        List<Mask> masks = mask == null ? null
                : java.util.Collections.singletonList(loop.timeMajor() ? mask.transpose() : mask);
        compareAll(d.context("Bidirectional"), ref.call(inputs, masks), fst.call(inputs, masks),
                () -> make.apply(StepwiseReference.INSTANCE).call(nudge(inputs, d.seed), masks));
    }

    // ---- stacked cells -----------------------------------------------------------------------------

    @Test
    public void stackedCells() throws Exception {
        runCases("stackedCells", 3, CASES * 2, this::stacked);
    }

    private void stacked(Draw d) {
        int in = d.width();
        int count = d.between(1, 3);
        List<CellConfig> cells = new ArrayList<>();
        long perStep = 0;
        int width = in;
        for (int k = 0; k < count; k++) {
            CellConfig c = d.cell(d.width());
            cells.add(c);
            perStep += (long) c.kind().gates() * c.units() * (width + c.units());
            width = c.units();
        }
        boolean stateful = d.random.nextInt(5) == 0;
        boolean sequences = d.coin();
        boolean state = d.coin();
        boolean backwards = d.coin();
        boolean zero = d.coin();
        d.log.append(" StackedRnn").append(cells).append(" I=").append(in).append(" seq=").append(sequences)
                .append(" state=").append(state).append(" backwards=").append(backwards).append(" zero=").append(zero)
                .append(" stateful=").append(stateful);
        int[] bt = d.batchAndTime(perStep * (stateful ? 2 : 1));
        int b = bt[0];
        int t = bt[1];
        d.log.append(" B=").append(b).append(" T=").append(t);
        RecurrentBackend fast = d.fast();
        java.util.function.BiFunction<RecurrentBackend, Boolean, StackedRnn> makeStack = (backend, carries) -> {
            List<RecurrentLayer> layers = new ArrayList<>();
            for (CellConfig c : cells) {
                layers.add(c.builder().backend(backend).build());
            }
            return StackedRnn.builder(layers).returnSequences(sequences).returnState(state).goBackwards(backwards)
                    .zeroOutputForMask(zero).stateful(carries).build();
        };
        Function<RecurrentBackend, StackedRnn> make = backend -> makeStack.apply(backend, stateful);
        StackedRnn ref = make.apply(RecurrentReference.INSTANCE);
        StackedRnn fst = make.apply(fast);
        ref.build(in);
        fst.build(in);
        List<Tensor> w = new ArrayList<>();
        int fanIn = in;
        for (RecurrentLayer cell : ref.cells()) {
            w.addAll(d.weightsLike(cell.getWeights(), Math.max(fanIn, cell.units())));
            fanIn = cell.units();
        }
        ref.setWeights(w);
        fst.setWeights(w);
        for (int call = 0; call < (stateful ? 2 : 1); call++) {
            Tensor x = d.tensors.uniform(1.5, b, t, in);
            Mask mask = d.mask(b, t);
            List<Tensor> inputs = new ArrayList<>(List.of(x));
            if (d.random.nextInt(3) == 0) {
                d.log.append(" init");
                for (CellConfig c : cells) {
                    inputs.addAll(d.states(c.kind().stateCount(), b, c.units()));
                }
            }
            List<Mask> masks = mask == null ? null : java.util.Collections.singletonList(mask);
            // the conditioning check runs a stack that carries nothing, started from the states the
            // reference carries into this call (unless the call gives its own)
            List<Tensor> perturbedInputs = new ArrayList<>(inputs);
            if (stateful && inputs.size() == 1) {
                for (RecurrentLayer cell : ref.cells()) {
                    perturbedInputs.addAll(cell.states());
                }
            }
            boolean compared = compareAll(d.context("StackedRnn call " + call), ref.call(inputs, masks),
                    fst.call(inputs, masks), () -> {
                        StackedRnn stepwise = makeStack.apply(StepwiseReference.INSTANCE, false);
                        stepwise.build(in);
                        stepwise.setWeights(w);
                        return stepwise.call(nudge(perturbedInputs, d.seed), masks);
                    });
            if (!compared) {
                break; // the carried states may differ by what rounding explained (see compareAll)
            }
        }
    }

    // ---- models -----------------------------------------------------------------------------------

    @Test
    public void models() throws Exception {
        runCases("models", 4, CASES, this::model);
    }

    /** Embedding(mask_zero) → recurrent or Bidirectional (sequences) → TimeDistributed(Dense) or a last-step layer → Dense. */
    private static Model buildModel(Draw d, long seed, RecurrentBackend backend, int vocab, int embed, int t,
                                    CellConfig c, int mode, List<Tensor> weights) {
        Embedding emb = Embedding.of("emb", vocab, embed, true, dev.rnnrt.layers.Initializer.zeros());
        RecurrentLayer inner = c.builder().name("rnn").returnSequences(mode != 2).backend(backend).build();
        Layer rec = mode == 1 ? Bidirectional.of("bi", inner, MergeMode.CONCAT, null) : inner;
        String head = "softmax";
        Dense dense = Dense.builder(c.units() % 5 + 2).name("head").activation(head).backend(backend).build();
        Layer top = mode == 2 ? dense : TimeDistributed.of("td", dense);
        Model m = Model.sequential("fuzz_model_" + seed).input(t).add(emb).add(rec).add(top).build();
        List<Layer> withWeights = List.of(emb, rec, dense);
        if (weights.isEmpty()) {
            for (Layer l : withWeights) {
                List<Tensor> w = l == rec && rec instanceof Bidirectional bi ? bidirectionalWeights(bi) : getWeights(l);
                weights.addAll(d.weightsLike(w, Math.max(embed, c.units())));
            }
        }
        int k = 0;
        for (Layer l : withWeights) {
            int n = (l == rec && rec instanceof Bidirectional bi) ? bidirectionalWeights(bi).size() : getWeights(l).size();
            setWeights(l, weights.subList(k, k + n));
            k += n;
        }
        return m;
    }

    private static List<Tensor> bidirectionalWeights(Bidirectional bi) {
        List<Tensor> w = new ArrayList<>(bi.forwardLayer().getWeights());
        w.addAll(bi.backwardLayer().getWeights());
        return w;
    }

    private static List<Tensor> getWeights(Layer l) {
        if (l instanceof Embedding e) {
            return e.getWeights();
        }
        if (l instanceof Dense dn) {
            return dn.getWeights();
        }
        return ((RecurrentLayer) l).getWeights();
    }

    private static void setWeights(Layer l, List<Tensor> w) {
        if (l instanceof Embedding e) {
            e.setWeights(w);
        } else if (l instanceof Dense dn) {
            dn.setWeights(w);
        } else if (l instanceof Bidirectional bi) {
            bi.setWeights(w);
        } else {
            ((RecurrentLayer) l).setWeights(w);
        }
    }

    private void model(Draw d) {
        int units = d.width();
        int embed = d.width();
        int vocab = d.between(2, 30);
        CellConfig c = d.cell(units);
        int mode = d.random.nextInt(3);
        int[] bt = d.batchAndTime((mode == 1 ? 2L : 1L) * c.kind().gates() * units * (embed + units));
        int b = bt[0];
        int t = bt[1];
        d.log.append(" model ").append(c).append(" mode=").append(mode).append(" vocab=").append(vocab)
                .append(" E=").append(embed).append(" B=").append(b).append(" T=").append(t);
        RecurrentBackend fast = d.fast();
        long seed = d.random.nextLong();
        List<Tensor> weights = new ArrayList<>();
        Model ref = buildModel(d, seed, RecurrentReference.INSTANCE, vocab, embed, t, c, mode, weights);
        Model fst = buildModel(d, seed, fast, vocab, embed, t, c, mode, weights);
        // ids with zeros (masked) here and there, whole rows of them sometimes
        float[] ids = new float[b * t];
        double zeros = d.random.nextDouble() * 0.6;
        for (int k = 0; k < ids.length; k++) {
            ids[k] = d.random.nextDouble() < zeros ? 0 : d.between(1, vocab - 1);
        }
        Tensor x = Tensor.wrap(ids, b, t);
        int chunk = d.between(1, b);
        d.log.append(" chunk=").append(chunk);
        // the ids cannot move: the weights do (a copy of the reference model with nudged weights)
        compareAll(d.context("model"), ref.predict(List.of(x), chunk), fst.predict(List.of(x), chunk), () -> {
            List<Tensor> nudged = nudge(weights, seed);
            return buildModel(d, seed, StepwiseReference.INSTANCE, vocab, embed, t, c, mode, nudged)
                    .predict(List.of(x), chunk);
        });
    }

    // ---- bad input --------------------------------------------------------------------------------

    @Test
    public void badInputThenGoodInput() throws Exception {
        runCases("badInputThenGoodInput", 9, CASES, this::badThenGood);
    }

    /**
     * A call with one argument wrong — x of another rank or feature size, a mask or an initial
     * state of another shape, one state too few or too many, and for a stateful layer x of another
     * batch size than its carried states — fails with an IllegalArgumentException naming the layer
     * and what was wrong (so that it fails for that reason, not another), changes no carried state,
     * and leaves the layer (and its backend: no device error left behind) giving the reference's
     * numbers on the next, right call.
     */
    private void badThenGood(Draw d) {
        int units = d.width();
        int in = d.width();
        CellConfig c = d.cell(units, true);
        boolean stateful = d.coin();
        LoopConfig loop = new LoopConfig(d.coin(), d.coin(), d.coin(), d.coin(), stateful, false);
        int[] bt = d.batchAndTime((long) c.kind().gates() * units * (in + units) * 3);
        int b = bt[0];
        int t = bt[1];
        d.log.append(" ").append(c).append(" I=").append(in).append(" ").append(loop).append(" B=").append(b)
                .append(" T=").append(t);
        RecurrentBackend fast = d.fast();
        RecurrentLayer ref = loop.apply(c.builder().name("checked_layer"), RecurrentReference.INSTANCE);
        randomWeights(d, ref, c, in);
        RecurrentLayer fst = loop.apply(c.builder().name("checked_layer"), fast);
        fst.setWeights(ref.getWeights());
        if (stateful) {                                      // states to keep through the bad call
            Tensor x0 = d.tensors.uniform(1.5, b, t, in);
            compareAll(d.context("first call"), ref.call(x0).asList(), fst.call(x0).asList(), null);
        }
        int states = c.kind().stateCount();
        Tensor x = d.tensors.uniform(1.5, b, t, in);
        Tensor badX = x;
        Mask badMask = null;
        List<Tensor> badStates = null;
        String what;
        String said;                                         // what the message must say was wrong
        switch (d.random.nextInt(stateful ? 7 : 6)) {
            case 0 -> {
                badX = d.coin() ? d.tensors.uniform(1, b, in) : d.tensors.uniform(1, b, t, in, 2);
                what = "x of rank " + badX.rank();
                said = "rank " + badX.rank();
            }
            case 1 -> {
                badX = d.tensors.uniform(1, b, t, in + (in > 1 && d.coin() ? -1 : 1));
                what = "x of " + badX.dim(2) + " features";
                said = "expects input [batch, timesteps, " + in + "]";
            }
            case 2 -> {
                badMask = d.coin() || t == 1 ? Mask.all(b + 1, t) : Mask.all(b, t - 1);
                what = "a mask of another shape";
                said = "the mask must have shape [batch, timesteps] = [" + b + ", " + t + "]";
            }
            case 3 -> {
                badStates = d.states(states + (d.coin() ? 1 : -1), b, units);
                what = badStates.size() + " initial states";
                said = "initial_state must be " + states + " tensor(s)";
            }
            case 4 -> {
                badStates = new ArrayList<>(d.states(states, b, units));
                int k = d.random.nextInt(states);
                badStates.set(k, d.coin() ? d.tensors.uniform(1, b + 1, units) : d.tensors.uniform(1, b, units + 1));
                what = "initial state " + k + " of shape " + java.util.Arrays.toString(badStates.get(k).shape());
                said = "initial_state[" + k + "] must have shape [" + b + ", " + units + "]";
            }
            case 5 -> {
                badStates = new ArrayList<>(d.states(states, b, units));
                badStates.set(0, d.tensors.uniform(1, units));
                what = "an initial state of rank 1";
                said = "initial_state[0] must have shape [" + b + ", " + units + "]";
            }
            default -> {
                badX = d.tensors.uniform(1, b + 1, t, in);
                what = "x of " + (b + 1) + " sequences on states carried for " + b;
                said = "holds states for a batch of " + b + " sequences";
            }
        }
        d.log.append(" bad: ").append(what);
        List<Tensor> before = stateful ? fst.states() : null;
        Tensor bx = badX;
        Mask bm = badMask;
        List<Tensor> bs = badStates;
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> fst.call(bx, bs, bm), d.context("the bad call"));
        assertTrue(e.getMessage().contains("'checked_layer'") && e.getMessage().contains(said),
                d.context("the message names the layer and says '" + said + "': ") + e.getMessage());
        if (stateful) {
            compareAll(d.context("carried states after the bad call"), before, fst.states(), null);
        }
        Mask mask = d.mask(b, t);
        compareAll(d.context("the right call after it"), ref.call(x, null, mask).asList(), fst.call(x, null, mask).asList(),
                null);
    }

    @Test
    public void badInputThenGoodInputWrapped() throws Exception {
        runCases("badInputThenGoodInputWrapped", 10, CASES, this::badThenGoodWrapped);
    }

    /**
     * {@link #badThenGood} for a Bidirectional layer (both directions on one backend, which may run
     * them together) or a StackedRnn of two or three cells, stateful or not: initial states one too
     * few or too many, one direction's or one cell's state of another shape, a mask of another shape,
     * x of another feature size, and for a stateful layer x of another batch size. The bad call fails
     * with an IllegalArgumentException naming the layer (or its direction or cell) and what was
     * wrong; no direction or cell keeps changed states (one that ran before the failing one is put
     * back); the next, right call gives the reference's numbers.
     */
    private void badThenGoodWrapped(Draw d) {
        int in = d.width();
        boolean stateful = d.coin();
        boolean bidirectional = d.coin();
        List<CellConfig> cells = new ArrayList<>();
        int count = bidirectional ? 1 : d.between(2, 3);
        long perStep = 0;
        int width = in;
        for (int k = 0; k < count; k++) {
            CellConfig c = d.cell(d.width(), true);
            cells.add(c);
            perStep += (long) c.kind().gates() * c.units() * (width + c.units());
            width = c.units();
        }
        boolean sequences = d.coin();
        boolean backwards = d.coin();
        MergeMode merge = d.pick(MergeMode.values());
        int[] bt = d.batchAndTime(perStep * (bidirectional ? 2 : 1) * 3);
        int b = bt[0];
        int t = bt[1];
        d.log.append(bidirectional ? " Bidirectional[" + merge + "](" + cells.get(0) + ")" : " StackedRnn" + cells)
                .append(" I=").append(in).append(" seq=").append(sequences).append(" backwards=").append(backwards)
                .append(" stateful=").append(stateful).append(" B=").append(b).append(" T=").append(t);
        // the units of each initial state, in the order the layer takes them (forward, then backward;
        // each cell's in turn)
        List<Integer> stateUnits = new ArrayList<>();
        for (int dir = 0; dir < (bidirectional ? 2 : 1); dir++) {
            for (CellConfig c : cells) {
                for (int k = 0; k < c.kind().stateCount(); k++) {
                    stateUnits.add(c.units());
                }
            }
        }
        Function<RecurrentBackend, Layer> make = backend -> {
            if (bidirectional) {
                // its directions are named after it: forward_checked_layer, backward_checked_layer
                RecurrentLayer inner = cells.get(0).builder().name("checked_layer").returnSequences(sequences)
                        .goBackwards(backwards).stateful(stateful).backend(backend).build();
                return Bidirectional.of("checked_layer", inner, merge, null);
            }
            List<RecurrentLayer> layers = new ArrayList<>();
            for (int k = 0; k < cells.size(); k++) {
                layers.add(cells.get(k).builder().name("cell_" + k).backend(backend).build());
            }
            return StackedRnn.builder(layers).name("checked_layer").returnSequences(sequences).goBackwards(backwards)
                    .stateful(stateful).build();
        };
        Layer ref = make.apply(RecurrentReference.INSTANCE);
        Layer fst = make.apply(d.fast());
        List<Tensor> w = new ArrayList<>();
        if (ref instanceof Bidirectional bi) {
            bi.build(in);
            for (RecurrentLayer dir : List.of(bi.forwardLayer(), bi.backwardLayer())) {
                w.addAll(d.weightsLike(dir.getWeights(), Math.max(in, dir.units())));
            }
            bi.setWeights(w);
            ((Bidirectional) fst).setWeights(w);
        } else {
            StackedRnn stack = (StackedRnn) ref;
            stack.build(in);
            int fanIn = in;
            for (RecurrentLayer cell : stack.cells()) {
                w.addAll(d.weightsLike(cell.getWeights(), Math.max(fanIn, cell.units())));
                fanIn = cell.units();
            }
            stack.setWeights(w);
            ((StackedRnn) fst).setWeights(w);
        }
        if (stateful) {                                      // states to keep through the bad call
            Tensor x0 = d.tensors.uniform(1.5, b, t, in);
            compareAll(d.context("first call"), ref.call(List.of(x0), null), fst.call(List.of(x0), null), null);
        }
        Tensor x = d.tensors.uniform(1.5, b, t, in);
        List<Tensor> bad = new ArrayList<>(List.of(x));
        Mask badMask = null;
        String what;
        String said;                                         // what the message must say was wrong
        switch (d.random.nextInt(stateful ? 5 : 4)) {
            case 0 -> {
                int n = stateUnits.size() + (d.coin() ? 1 : -1);
                for (int k = 0; k < n; k++) {
                    bad.add(d.tensors.uniform(1, b, stateUnits.get(Math.min(k, stateUnits.size() - 1))));
                }
                what = n + " initial states";
                // one too many is more inputs than the layer takes
                said = n > stateUnits.size() ? "input(s); got " + (n + 1) : "initial_state must be "
                        + stateUnits.size() + " tensors";
            }
            case 1 -> {
                int k = d.random.nextInt(stateUnits.size());
                for (int j = 0; j < stateUnits.size(); j++) {
                    int u = stateUnits.get(j);
                    bad.add(j != k ? d.tensors.uniform(1, b, u)
                            : d.coin() ? d.tensors.uniform(1, b + 1, u) : d.tensors.uniform(1, b, u + 1));
                }
                what = "initial state " + k + " of shape " + java.util.Arrays.toString(bad.get(k + 1).shape());
                said = "must have shape [" + b + ", " + stateUnits.get(k) + "]";
            }
            case 2 -> {
                badMask = d.coin() || t == 1 ? Mask.all(b + 1, t) : Mask.all(b, t - 1);
                what = "a mask of another shape";
                said = "the mask must have shape [batch, timesteps] = [" + b + ", " + t + "]";
            }
            case 3 -> {
                bad.set(0, d.tensors.uniform(1, b, t, in + (in > 1 && d.coin() ? -1 : 1)));
                what = "x of " + bad.get(0).dim(2) + " features";
                said = "expects input [batch, timesteps, " + in + "]";
            }
            default -> {
                bad.set(0, d.tensors.uniform(1, b + 1, t, in));
                what = "x of " + (b + 1) + " sequences on states carried for " + b;
                said = "holds states for a batch of " + b + " sequences";
            }
        }
        d.log.append(" bad: ").append(what);
        List<Tensor> before = stateful ? carried(fst) : null;
        List<Mask> bm = badMask == null ? null : List.of(badMask);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> fst.call(bad, bm), d.context("the bad call"));
        assertTrue(e.getMessage().contains("checked_layer") && e.getMessage().contains(said),
                d.context("the message names the layer and says '" + said + "': ") + e.getMessage());
        if (stateful) {
            List<Tensor> after = carried(fst);
            assertEquals(before.size(), after.size(), d.context("carried states after the bad call"));
            for (int k = 0; k < before.size(); k++) {
                Compare.assertIdentical(d.context("carried state " + k + " after the bad call"), before.get(k),
                        after.get(k));
            }
        }
        Mask mask = d.mask(b, t);
        List<Tensor> good = new ArrayList<>(List.of(x));
        if (d.coin()) {
            d.log.append(" init");
            for (int u : stateUnits) {
                good.add(d.tensors.uniform(1, b, u));
            }
        }
        List<Mask> masks = mask == null ? null : List.of(mask);
        compareAll(d.context("the right call after it"), ref.call(good, masks), fst.call(good, masks), null);
        if (stateful) {
            compareAll(d.context("carried states after the right call"), carried(ref), carried(fst), null);
        }
    }

    /** The carried states of a stateful Bidirectional (forward's, then backward's) or StackedRnn (each cell's). */
    private static List<Tensor> carried(Layer layer) {
        List<Tensor> out = new ArrayList<>();
        List<RecurrentLayer> parts = layer instanceof Bidirectional bi ? List.of(bi.forwardLayer(), bi.backwardLayer())
                : ((StackedRnn) layer).cells();
        for (RecurrentLayer p : parts) {
            out.addAll(p.states());
        }
        return out;
    }

    // ---- stacked layers ---------------------------------------------------------------------------

    @Test
    public void stackedLayerModels() throws Exception {
        runCases("stackedLayerModels", 8, CASES, this::stackedLayers);
    }

    /**
     * [Masking(0)] → one to three recurrent or Bidirectional layers (all but the last returning
     * sequences), Dense or TimeDistributed(Dense) between or after them: a backend that keeps a
     * stack's values between its layers (the CUDA backend's stack call) runs them as one.
     *
     * <p>The cells take the common activations ({@link Draw#cell(int, boolean)}): the stack's
     * plumbing is what this draws, and {@link #singleLayers} the activations. With any activation, a
     * layer's values can leave float32's range inside the model while the reference's final output
     * stays finite, which no float32 backend can match and {@link #compareAll}, seeing only that
     * output, does not recognise: a GRU with hard_silu gates whose states pass 3e38 (infinite in the
     * reference's float32 output, NaN on the CUDA backend) before a Dense(tanh) that saturates them,
     * or an exponential gate of inf times a mish of exactly -0 (NaN in float32, as in Keras; 0 in
     * float64).
     */
    private void stackedLayers(Draw d) {
        int in = d.width();
        boolean masking = d.coin();
        int count = d.between(1, 3);
        List<Function<RecurrentBackend, Layer>> makers = new ArrayList<>();
        long perStep = 0;
        int width = in;
        String[] heads = {"linear", "relu", "tanh", "sigmoid", "softmax", "swish"};
        for (int k = 0; k < count; k++) {
            CellConfig c = d.cell(d.width(), true);
            boolean last = k == count - 1;
            LoopConfig loop = new LoopConfig(!last || d.coin(), false, d.coin(), d.coin(), false, false);
            MergeMode merge = d.random.nextInt(3) == 0 ? d.pick(new MergeMode[] {MergeMode.CONCAT, MergeMode.SUM,
                    MergeMode.AVE, MergeMode.MUL}) : null;
            String name = "rnn_" + k;
            String biName = "bi_" + k;
            d.log.append(" ").append(merge == null ? "" : "Bidirectional[" + merge + "](").append(c).append(' ')
                    .append(loop).append(merge == null ? "" : ")");
            makers.add(backend -> {
                RecurrentLayer l = loop.apply(c.builder().name(name), backend);
                return merge == null ? l : Bidirectional.of(biName, l, merge, null);
            });
            int dirs = merge == null ? 1 : 2;
            perStep += dirs * (long) c.kind().gates() * c.units() * (width + c.units());
            width = merge == MergeMode.CONCAT ? 2 * c.units() : c.units();
            if (d.random.nextInt(3) == 0 || last && d.coin()) {
                int units = d.width();
                String act = d.pick(heads);
                boolean td = loop.returnSequences() && d.coin();
                d.log.append(td ? " TimeDistributed(Dense(" : " Dense(").append(units).append(", ").append(act)
                        .append(td ? "))" : ")");
                String dense = "dense_" + k;
                String tdName = "td_" + k;
                makers.add(backend -> {
                    Dense layer = Dense.builder(units).name(dense).activation(act).backend(backend).build();
                    return td ? TimeDistributed.of(tdName, layer) : layer;
                });
                width = units;
            }
        }
        int[] bt = d.batchAndTime(perStep);
        int b = bt[0];
        int t = bt[1];
        d.log.append(" I=").append(in).append(" masking=").append(masking).append(" B=").append(b).append(" T=").append(t);
        RecurrentBackend fast = d.fast();
        Function<RecurrentBackend, Model> make = backend -> {
            var m = Model.sequential("fuzz_stack_" + d.seed).input(-1, in);
            if (masking) {
                m.add(dev.rnnrt.layers.Masking.of(0.0));
            }
            for (Function<RecurrentBackend, Layer> l : makers) {
                m.add(l.apply(backend));
            }
            return m.build();
        };
        Tensor x = d.tensors.uniform(1.5, b, t, in);
        if (masking) {
            // whole steps of zeros, masked: some sequences padded at the end, some steps here and there
            float[] v = x.data();
            for (int row = 0; row < b; row++) {
                int length = d.coin() ? t : d.between(0, t);
                for (int s = 0; s < t; s++) {
                    if (s >= length || d.random.nextInt(8) == 0) {
                        java.util.Arrays.fill(v, (row * t + s) * in, (row * t + s + 1) * in, 0f);
                    }
                }
            }
        }
        Model ref = make.apply(RecurrentReference.INSTANCE);
        Model fst = make.apply(fast);
        Model stepwise = make.apply(StepwiseReference.INSTANCE);
        dev.rnnrt.testing.StackModels.sameRandomWeights(d.tensors, x, ref, fst, stepwise);
        int chunk = d.between(1, b);
        d.log.append(" chunk=").append(chunk);
        compareAll(d.context("stacked layers"), ref.predict(List.of(x), chunk), fst.predict(List.of(x), chunk),
                () -> stepwise.predict(List.of(nudge(x, d.seed)), chunk));
    }

    // ---- two callers at once ----------------------------------------------------------------------

    @Test
    public void twoCallersAtOnce() throws Exception {
        runCases("twoCallersAtOnce", 5, CASES, this::twoCallers);
    }

    @Test
    public void twoCallersOfAModelAtOnce() throws Exception {
        runCases("twoCallersOfAModelAtOnce", 6, CASES, this::twoModelCallers);
    }

    /** A model (not stateful) called from two threads at once gives each caller its own, right result. */
    private void twoModelCallers(Draw d) throws Exception {
        int units = d.width();
        int embed = d.width();
        int vocab = d.between(2, 30);
        CellConfig c = d.cell(units);
        int mode = d.random.nextInt(3);
        int[] bt = d.batchAndTime((mode == 1 ? 2L : 1L) * c.kind().gates() * units * (embed + units) * 4);
        int b = bt[0];
        int t = bt[1];
        d.log.append(" two callers of a model ").append(c).append(" mode=").append(mode).append(" B=").append(b)
                .append(" T=").append(t);
        RecurrentBackend fast = d.fast();
        long seed = d.random.nextLong();
        List<Tensor> weights = new ArrayList<>();
        Model ref = buildModel(d, seed, RecurrentReference.INSTANCE, vocab, embed, t, c, mode, weights);
        Model fst = buildModel(d, seed, fast, vocab, embed, t, c, mode, weights);
        List<Tensor> xs = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            float[] ids = new float[b * t];
            for (int j = 0; j < ids.length; j++) {
                ids[j] = d.random.nextInt(4) == 0 ? 0 : d.between(1, vocab - 1);
            }
            xs.add(Tensor.wrap(ids, b, t));
        }
        List<Future<List<Tensor>>> futures = new ArrayList<>();
        for (Tensor x : xs) {
            futures.add(callers.submit(() -> fst.predict(List.of(x))));
        }
        for (int k = 0; k < xs.size(); k++) {
            Tensor x = xs.get(k);
            compareAll(d.context("concurrent predict " + k), ref.predict(List.of(x)), futures.get(k).get(), () ->
                    buildModel(d, seed, StepwiseReference.INSTANCE, vocab, embed, t, c, mode, nudge(weights, seed))
                            .predict(List.of(x)));
        }
    }

    @Test
    public void twoCallersOfAStatefulLayer() throws Exception {
        runCases("twoCallersOfAStatefulLayer", 7, CASES, this::twoStatefulCallers);
    }

    /**
     * A stateful layer serialises its calls: two callers at once each get the result of running after
     * the other or before it, and the carried states are those of one of the two orders.
     */
    private void twoStatefulCallers(Draw d) throws Exception {
        int units = d.width();
        int in = d.width();
        // the common activations: the calls' results are compared without the conditioning check
        CellConfig c = d.cell(units, true);
        LoopConfig loop = new LoopConfig(d.coin(), true, d.coin(), d.coin(), true, false);
        int[] bt = d.batchAndTime((long) c.kind().gates() * units * (in + units) * 6);
        int b = bt[0];
        int t = bt[1];
        d.log.append(" two callers of a stateful ").append(c).append(" I=").append(in).append(" B=").append(b)
                .append(" T=").append(t);
        RecurrentBackend fast = d.fast();
        RecurrentLayer ref = loop.apply(c.builder(), RecurrentReference.INSTANCE);
        randomWeights(d, ref, c, in);
        RecurrentLayer fst = loop.apply(c.builder(), fast);
        fst.setWeights(ref.getWeights());
        Tensor x1 = d.tensors.uniform(1.5, b, t, in);
        Tensor x2 = d.tensors.uniform(1.5, b, t, in);
        Future<List<Tensor>> f1 = callers.submit(() -> fst.call(x1).asList());
        Future<List<Tensor>> f2 = callers.submit(() -> fst.call(x2).asList());
        List<Tensor> a1 = f1.get();
        List<Tensor> a2 = f2.get();
        // the two orders on the reference
        List<Tensor> first1 = ref.call(x1).asList();
        List<Tensor> then2 = ref.call(x2).asList();
        List<Tensor> after12 = ref.states();
        ref.resetStates();
        List<Tensor> first2 = ref.call(x2).asList();
        List<Tensor> then1 = ref.call(x1).asList();
        List<Tensor> after21 = ref.states();
        // the order the fast layer's results are nearest to must match the reference throughout
        List<Tensor> actualStates = fst.states();
        boolean oneFirst = distance(first1, a1) + distance(then2, a2) + distance(after12, actualStates)
                <= distance(first2, a2) + distance(then1, a1) + distance(after21, actualStates);
        String ctx = d.context("stateful callers, " + (oneFirst ? "x1" : "x2") + " first");
        compareAll(ctx + " first call", oneFirst ? first1 : first2, oneFirst ? a1 : a2, null);
        compareAll(ctx + " second call", oneFirst ? then2 : then1, oneFirst ? a2 : a1, null);
        compareAll(ctx + " carried states", oneFirst ? after12 : after21, actualStates, null);
    }

    private static double distance(List<Tensor> expected, List<Tensor> actual) {
        double worst = 0;
        for (int k = 0; k < expected.size(); k++) {
            double e = relativeError(expected.get(k), actual.get(k));
            worst = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(worst, e);
        }
        return worst;
    }

    private static boolean explodes(List<Tensor> ts) {
        for (Tensor t : ts) {
            if (explodes(t)) {
                return true;
            }
        }
        return false;
    }

    private void twoCallers(Draw d) throws Exception {
        int units = d.coin() ? 257 : d.width();
        int in = d.width();
        CellConfig c = d.cell(units);
        LoopConfig loop = new LoopConfig(true, true, d.coin(), d.coin(), false, false);
        d.log.append(" two callers ").append(c).append(" I=").append(in).append(" ").append(loop);
        RecurrentBackend fast = d.fast();
        RecurrentLayer ref = loop.apply(c.builder(), RecurrentReference.INSTANCE);
        randomWeights(d, ref, c, in);
        RecurrentLayer fst = loop.apply(c.builder(), fast);
        fst.setWeights(ref.getWeights());
        RecurrentLayer stepwise = loop.apply(c.builder(), StepwiseReference.INSTANCE);
        stepwise.setWeights(ref.getWeights());
        int rounds = 3;
        List<Tensor[]> xs = new ArrayList<>();
        List<Mask[]> masks = new ArrayList<>();
        for (int k = 0; k < 2 * rounds; k++) {
            int[] bt = d.batchAndTime((long) c.kind().gates() * units * (in + units) * 2 * rounds);
            xs.add(new Tensor[] {d.tensors.uniform(1.5, bt[0], bt[1], in)});
            masks.add(new Mask[] {d.mask(bt[0], bt[1])});
        }
        List<Future<List<Tensor>>> futures = new ArrayList<>();
        for (int k = 0; k < xs.size(); k++) {
            Tensor x = xs.get(k)[0];
            Mask m = masks.get(k)[0];
            futures.add(callers.submit(() -> fst.call(x, null, m).asList()));
        }
        for (int k = 0; k < xs.size(); k++) {
            List<Tensor> expected = ref.call(xs.get(k)[0], null, masks.get(k)[0]).asList();
            Tensor x = xs.get(k)[0];
            Mask m = masks.get(k)[0];
            compareAll(d.context("concurrent call " + k), expected, futures.get(k).get(),
                    () -> stepwise.call(nudge(x, d.seed), null, m).asList());
        }
    }
}
