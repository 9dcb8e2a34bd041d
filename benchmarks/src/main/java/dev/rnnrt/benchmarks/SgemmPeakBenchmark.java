package dev.rnnrt.benchmarks;

import dev.rnnrt.backend.cpu.PackedB;
import dev.rnnrt.backend.cpu.Sgemm;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fp32 peak of the machine and how much of it rnnrt's SGEMM kernel reaches, on every core at
 * once ({@code -t} = the core count). {@link #fmaThroughput}: twelve independent chains of
 * vector FMAs (the Vector API's preferred width), nothing else: GFLOP/s per thread =
 * 12·lanes·2 / (ns/op), where an op is one round of the twelve; the machine's fp32 peak is the sum
 * over the threads, and "% of peak" in results/ is against it. {@link #multiply}: rnnrt's SGEMM
 * kernel alone ({@link Sgemm#best()}, B packed once) on [m, k] × [k, n] operands that fit the L3
 * cache (by default the shape of an LSTM H = 512 input projection: [128, 512] × [512, 2048]), one
 * per thread: GFLOP/s per thread = 2·m·n·k / (µs/op · 1000), the most the fast CPU path can reach
 * in its GEMMs.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class SgemmPeakBenchmark {

    @Param({"128"})
    public int m;

    @Param({"512"})
    public int k;

    @Param({"2048"})
    public int n;

    private final Sgemm gemm = Sgemm.best();
    private float[] a;
    private PackedB b;
    private float[] c;

    @Setup
    public void setup() {
        if (!gemm.name().startsWith("vector")) {
            throw new IllegalStateException("SgemmPeakBenchmark needs the Vector API SGEMM; got " + gemm.name()
                    + ". Run the JVM with --add-modules jdk.incubator.vector.");
        }
        SplittableRandom r = new SplittableRandom(11L);
        a = new float[m * k];
        float[] bb = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        for (int i = 0; i < bb.length; i++) {
            bb[i] = (float) (r.nextDouble() * 2 - 1);
        }
        b = gemm.pack(bb, 0, n, k, n);
        c = new float[m * n];
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Rounds of twelve FMAs per call of {@link #fmaThroughput}. */
    private static final int ROUNDS = 4096;
    private final float[] seeds = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.1f, 1.2f, 1.3f, 0.9999f, 1e-5f};

    /** One round: twelve FMAs on independent accumulators, enough to cover the FMA latency. */
    @Benchmark
    @OperationsPerInvocation(ROUNDS)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public float fmaThroughput() {
        FloatVector a = FloatVector.broadcast(S, seeds[12]);
        FloatVector b = FloatVector.broadcast(S, seeds[13]);
        FloatVector c0 = FloatVector.broadcast(S, seeds[0]);
        FloatVector c1 = FloatVector.broadcast(S, seeds[1]);
        FloatVector c2 = FloatVector.broadcast(S, seeds[2]);
        FloatVector c3 = FloatVector.broadcast(S, seeds[3]);
        FloatVector c4 = FloatVector.broadcast(S, seeds[4]);
        FloatVector c5 = FloatVector.broadcast(S, seeds[5]);
        FloatVector c6 = FloatVector.broadcast(S, seeds[6]);
        FloatVector c7 = FloatVector.broadcast(S, seeds[7]);
        FloatVector c8 = FloatVector.broadcast(S, seeds[8]);
        FloatVector c9 = FloatVector.broadcast(S, seeds[9]);
        FloatVector c10 = FloatVector.broadcast(S, seeds[10]);
        FloatVector c11 = FloatVector.broadcast(S, seeds[11]);
        for (int i = 0; i < ROUNDS; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(VectorOperators.ADD);
    }

    /** [m, k] × [k, n] with B packed once. */
    @Benchmark
    public float[] multiply() {
        gemm.multiply(a, 0, k, b, c, 0, n, m, false);
        return c;
    }
}
