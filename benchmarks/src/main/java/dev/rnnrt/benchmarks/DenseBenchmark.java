package dev.rnnrt.benchmarks;

import static dev.rnnrt.benchmarks.BenchLayers.uniform;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Dense;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A Dense head on every step of a sequence output (TimeDistributed(Dense) or Dense on [B, T, H]):
 * [B·T, H] × [H, units] + bias, softmax left out. Backend {@code cpu} is the fast CPU path's SGEMM
 * ({@code RecurrentCpu.affine}), {@code cpu-reference} the float64 reference loops that Dense used
 * on every backend before; the fast output is checked against the reference (≤ 1e-5) before timing.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class DenseBenchmark {

    /** B·T rows: batch 64 × 64 steps. */
    @Param({"4096"})
    public int rows;

    @Param({"256"})
    public int input;

    @Param({"1000"})
    public int units;

    /** cpu, cpu-reference */
    @Param({"cpu", "cpu-reference"})
    public String backend;

    private Dense dense;
    private Tensor x;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom r = new SplittableRandom(20261201L);
        x = uniform(r, 1.0, rows, input);
        List<Tensor> weights = List.of(uniform(r, 1 / Math.sqrt(input), input, units), uniform(r, 0.1, units));
        Dense reference = layer(RecurrentReference.INSTANCE, weights);
        Dense fast = layer(RecurrentCpu.INSTANCE, weights);
        BenchLayers.check("Dense " + rows + "x" + input + "x" + units, reference.apply(x), fast.apply(x), 1e-5);
        dense = switch (backend) {
            case "cpu" -> fast;
            case "cpu-reference" -> reference;
            default -> throw new IllegalArgumentException("backend " + backend + ": expected cpu or cpu-reference");
        };
    }

    private Dense layer(RecurrentBackend b, List<Tensor> weights) {
        Dense d = Dense.builder(units).backend(b).build();
        d.setWeights(weights);
        return d;
    }

    @Benchmark
    public Object forward() {
        return dense.apply(x);
    }
}
