package dev.rnnrt.benchmarks;

import static dev.rnnrt.benchmarks.BenchLayers.uniform;

import dev.rnnrt.api.KerasVersion;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Conv1D;
import dev.rnnrt.layers.OutputActivation;
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
 * A Conv1D feature extractor in front of a recurrent layer: [B, T, C] → [B, T, filters], kernel 5,
 * padding same, relu. Backend {@code cpu} lays the windows out and multiplies them on the fast CPU
 * path's SGEMM ({@code RecurrentCpu.affine}); {@code cpu-reference} runs the same lowering on the
 * float64 reference's affine map, as every backend computed Conv1D before; the fast output is
 * checked against the reference (≤ 1e-5) before timing.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class Conv1DBenchmark {

    @Param({"32"})
    public int batch;

    @Param({"256"})
    public int time;

    @Param({"64"})
    public int channels;

    @Param({"64"})
    public int filters;

    @Param({"5"})
    public int kernel;

    /** cpu, cpu-reference */
    @Param({"cpu", "cpu-reference"})
    public String backend;

    private Conv1D conv;
    private List<Tensor> x;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom r = new SplittableRandom(20261201L);
        x = List.of(uniform(r, 1.0, batch, time, channels));
        List<Tensor> weights = List.of(uniform(r, 1 / Math.sqrt(kernel * channels), kernel, channels, filters),
                uniform(r, 0.1, filters));
        Conv1D reference = layer(RecurrentReference.INSTANCE, weights);
        Conv1D fast = layer(RecurrentCpu.INSTANCE, weights);
        BenchLayers.check("Conv1D " + batch + "x" + time + "x" + channels + " k" + kernel + " -> " + filters,
                reference.call(x, null).get(0), fast.call(x, null).get(0), 1e-5);
        conv = switch (backend) {
            case "cpu" -> fast;
            case "cpu-reference" -> reference;
            default -> throw new IllegalArgumentException("backend " + backend + ": expected cpu or cpu-reference");
        };
    }

    private Conv1D layer(RecurrentBackend b, List<Tensor> weights) {
        Conv1D c = new Conv1D("conv", filters, kernel, 1, 1, "same",
                OutputActivation.named("relu", KerasVersion.KERAS_3), true, b);
        c.setWeights(weights);
        return c;
    }

    @Benchmark
    public Object forward() {
        return conv.call(x, null);
    }
}
