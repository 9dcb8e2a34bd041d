package dev.rnnrt.benchmarks;

import dev.rnnrt.backend.cpu.PackedB;
import dev.rnnrt.backend.cpu.Sgemm;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fp32 peak that "% of peak" in results/ is measured against: rnnrt's SGEMM kernel alone
 * ({@link Sgemm#best()}, B packed once) on [m, k] × [k, n] operands that fit the L3 cache (by default
 * the shape of an LSTM H = 512 input projection: [128, 512] × [512, 2048]), one
 * per thread, on every core at once ({@code -t} = the core count). GFLOP/s per thread =
 * 2·m·n·k / (µs/op · 1000); the machine's peak is at least the sum over the threads.
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

    @Benchmark
    public float[] multiply() {
        gemm.multiply(a, 0, k, b, c, 0, n, m, false);
        return c;
    }
}
