package dev.rnnrt.benchmarks;

import static dev.rnnrt.benchmarks.BenchLayers.uniform;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.SimpleRnn;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fast CPU path on the cell variants older Keras files hold, against the sigmoid cells of
 * today's defaults in the same run: LSTM and GRU with Keras 2's hard_sigmoid gates (its default
 * before 2.3), GRU with reset_after=False (likewise), Keras 3's hard_sigmoid; and SimpleRNN with
 * tanh and relu. One layer,
 * return_sequences, weights about 1/√H and the input from a fixed seed; each variant's output is
 * checked against the CPU reference (relative error ≤ 1e-5) before timing.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class GateActivationBenchmark {

    /** lstm-sigmoid, lstm-hard_sigmoid2/3, gru-sigmoid, gru-hard_sigmoid2, gru-reset_before, simple-tanh/relu */
    @Param({"lstm-sigmoid", "lstm-hard_sigmoid2", "lstm-hard_sigmoid3", "gru-sigmoid", "gru-hard_sigmoid2",
        "gru-reset_before", "simple-tanh", "simple-relu"})
    public String variant;

    @Param({"256"})
    public int units;

    @Param({"64"})
    public int batch;

    @Param({"64"})
    public int time;

    private RecurrentLayer layer;
    private Tensor x;

    @Setup(Level.Trial)
    public void setup() {
        SplittableRandom r = new SplittableRandom(20261201L);
        x = uniform(r, 1.0, batch, time, units);
        RecurrentLayer reference = builder().build();
        reference.build(units);
        List<Tensor> weights = new ArrayList<>();
        for (Tensor w : reference.getWeights()) {
            weights.add(uniform(r, 1 / Math.sqrt(units), w.shape()));
        }
        reference.setWeights(weights);
        layer = builder().backend(RecurrentCpu.INSTANCE).build();
        layer.setWeights(weights);
        BenchLayers.check(variant + " H=" + units, reference.call(x).output(), layer.call(x).output(), 1e-5);
    }

    /** The layer of this variant, on the reference until a backend is set. */
    private RecurrentLayerBuilder<?> builder() {
        RecurrentLayerBuilder<?> b = switch (variant) {
            case "lstm-sigmoid" -> Lstm.builder(units).recurrentActivation(Activation.SIGMOID);
            case "lstm-hard_sigmoid2" -> Lstm.builder(units).recurrentActivation(Activation.HARD_SIGMOID_KERAS2);
            case "lstm-hard_sigmoid3" -> Lstm.builder(units).recurrentActivation(Activation.HARD_SIGMOID_KERAS3);
            case "gru-sigmoid" -> Gru.builder(units).resetAfter(true).recurrentActivation(Activation.SIGMOID);
            case "gru-hard_sigmoid2" -> Gru.builder(units).resetAfter(true)
                    .recurrentActivation(Activation.HARD_SIGMOID_KERAS2);
            case "gru-reset_before" -> Gru.builder(units).resetAfter(false).recurrentActivation(Activation.SIGMOID);
            case "simple-tanh" -> SimpleRnn.builder(units).activation(Activation.TANH);
            case "simple-relu" -> SimpleRnn.builder(units).activation(Activation.RELU);
            default -> throw new IllegalArgumentException("variant " + variant);
        };
        return b.returnSequences(true).backend(RecurrentReference.INSTANCE);
    }

    @Benchmark
    public Object forward() {
        return layer.call(x).output();
    }
}
