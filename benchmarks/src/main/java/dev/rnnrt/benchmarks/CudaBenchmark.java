package dev.rnnrt.benchmarks;

import static dev.rnnrt.benchmarks.BenchLayers.uniform;

import dev.rnnrt.api.Backend;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.layers.RecurrentLayer;
import java.util.ArrayList;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CUDA backend in JMH, for its GC profiler: one LSTM or GRU layer (return_sequences) called
 * with host tensors, as a user calls it, so a call includes its transfers. With
 * {@code -prof gc}, bytes/op that do not grow with the number of steps (beyond the output
 * tensor) show that the per-step loop allocates nothing on the host.
 *
 * <p>Self-contained, so that it runs on a GPU machine without Python or ONNX Runtime (packed by
 * {@code gpu/pack-jmh.sh}, run by {@code gpu/run-jmh-gpu.sh}): the weights (about 1/√H) and the
 * input are drawn here from a fixed seed, and each backend's output is checked against rnnrt's
 * fast CPU path in setup (relative error ≤ 1e-4 in fp32, ≤ 5e-3 in TF32) before anything is
 * timed. Backend {@code cpu} is the fast CPU path itself, the baseline of the same run. Without a
 * usable GPU the CUDA backends fail in setup, naming what is missing.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class CudaBenchmark {

    @Param({"LSTM", "GRU"})
    public String cell;

    @Param({"128", "512", "1024"})
    public int units;

    @Param({"1", "16", "128"})
    public int batch;

    @Param({"32", "256"})
    public int time;

    /** cuda (fp32), cuda-tf32, cpu */
    @Param({"cuda", "cuda-tf32", "cpu"})
    public String backend;

    private Backend.Opened opened;
    private RecurrentLayer layer;
    private Tensor x;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom r = new SplittableRandom(20261122L);
        x = uniform(r, 1.0, batch, time, units);
        List<Tensor> weights = new ArrayList<>();
        int g = (cell.equals("LSTM") ? 4 : 3) * units;
        double scale = 1 / Math.sqrt(units);
        weights.add(uniform(r, scale, units, g));
        weights.add(uniform(r, scale, units, g));
        weights.add(cell.equals("LSTM") ? uniform(r, scale, g) : uniform(r, scale, 2, g));
        Tensor expected = layer(weights, RecurrentCpu.INSTANCE).call(x).output();
        boolean tf32 = backend.equals("cuda-tf32");
        switch (backend) {
            case "cpu" -> opened = Backend.CPU.open();
            case "cuda", "cuda-tf32" -> opened = Backend.CUDA.open(tf32);
            default -> throw new IllegalArgumentException("backend " + backend + ": expected cuda, cuda-tf32 or cpu");
        }
        layer = layer(weights, opened.backend());
        BenchLayers.check(backend + " on " + cell + " H=" + units + " B=" + batch + " T=" + time, expected,
                layer.call(x).output(), tf32 ? 5e-3 : 1e-4);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (opened != null) {
            opened.close();
        }
    }

    @Benchmark
    public Object forward() {
        return layer.call(x).output();
    }

    private RecurrentLayer layer(List<Tensor> weights, RecurrentBackend b) {
        return BenchLayers.layer(cell, units, weights, b);
    }
}
