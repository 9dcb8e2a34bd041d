package dev.rnnrt.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.RecurrentLayer;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
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
 * One LSTM or GRU layer (return_sequences) on [batch, time, units] inputs, units = input size,
 * per backend: the CPU reference, the fast CPU path, and ONNX Runtime (CPU, 2 intra-op threads)
 * on the same weights and input. Every backend's output is checked against the fast path's in
 * setup, before anything is timed. FLOPs per call: 2·T·B·G·(I+H), G = 4H (LSTM) or 3H (GRU).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RecurrentBenchmark {

    @Param({"LSTM", "GRU"})
    public String cell;

    @Param({"128", "512", "1024"})
    public int units;

    @Param({"1", "16", "128"})
    public int batch;

    @Param({"32", "256"})
    public int time;

    /** cpu-reference, cpu, onnxruntime */
    @Param({"cpu", "onnxruntime", "cpu-reference"})
    public String backend;

    private RecurrentLayer layer;
    private Tensor x;
    private OrtEnvironment env;
    private OrtSession session;
    private OnnxTensor ortInput;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        BenchCase c = BenchCase.make(cell, units, batch, time);
        x = c.x;
        RecurrentLayer fast = layer(c, RecurrentCpu.INSTANCE);
        Tensor expected = fast.call(x).output();
        switch (backend) {
            case "cpu" -> layer = fast;
            case "cpu-reference" -> {
                if ((long) batch * time * units > 16L * 32 * 512) {
                    throw new IllegalStateException("cpu-reference is only run on small shapes (it takes minutes here)");
                }
                layer = layer(c, RecurrentReference.INSTANCE);
                check(expected, layer.call(x).output());
            }
            case "onnxruntime" -> {
                env = OrtEnvironment.getEnvironment();
                OrtSession.SessionOptions options = new OrtSession.SessionOptions();
                options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
                session = env.createSession(c.dir.resolve("model.onnx").toString(), options);
                ortInput = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.swapFirstAxes().data()),
                        new long[] {time, batch, units});
                check(expected, ortOutput());
            }
            default -> throw new IllegalArgumentException(backend);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        if (ortInput != null) {
            ortInput.close();
        }
        if (session != null) {
            session.close();
        }
    }

    @Benchmark
    public Object forward() throws OrtException {
        if (session != null) {
            try (OrtSession.Result r = session.run(Map.of("X", ortInput))) {
                return r.get(0).getValue();
            }
        }
        return layer.call(x).output();
    }

    /** ORT's Y [T, 1, B, H] as [B, T, H]. */
    private Tensor ortOutput() throws OrtException {
        try (OrtSession.Result r = session.run(Map.of("X", ortInput))) {
            FloatBuffer y = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] v = new float[y.remaining()];
            y.get(v);
            return Tensor.wrap(v, time, batch, units).swapFirstAxes();
        }
    }

    private RecurrentLayer layer(BenchCase c, RecurrentBackend b) {
        return BenchLayers.layer(cell, units, List.of(c.kernel, c.recurrentKernel, c.bias), b);
    }

    /** The peers compute in float32 with their own orders of summation: ≤ 1e-4. */
    private void check(Tensor expected, Tensor actual) {
        BenchLayers.check(backend + " on " + cell + " H=" + units + " B=" + batch + " T=" + time, expected, actual,
                1e-4);
    }
}
