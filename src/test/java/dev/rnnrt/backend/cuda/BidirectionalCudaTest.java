package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Bidirectional;
import dev.rnnrt.layers.Bidirectional.MergeMode;
import dev.rnnrt.layers.Dense;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Layer;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.Masking;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.model.Model;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Bidirectional layers on the CUDA backend, whose two directions run at the same time on two
 * streams (lanes), against the CPU reference: every cell, merge mode, with and without masks and
 * initial states, directions of other cells and sizes, at a batch that takes the fused step
 * kernels and one that takes cuBLAS, with graphs and without; repeated calls (graph replays on
 * both lanes) give the same bits, and new values the reference's; a stack of two Bidirectional
 * layers with a Dense head as one stack call, and a stateful Bidirectional layer.
 */
@Tag("gpu")
class BidirectionalCudaTest {

    private static final List<Function<Integer, RecurrentLayerBuilder<?>>> CELLS = List.of(
            Lstm::builder, h -> Gru.builder(h).resetAfter(true), h -> Gru.builder(h).resetAfter(false),
            SimpleRnn::builder);

    @Test
    void everyCellAndMergeModeAgainstTheReferenceWithGraphs() {
        GpuAvailable.assume();
        try (RecurrentCuda cuda = RecurrentCuda.open(false, true)) {
            everyCellAndMergeMode(cuda, new RandomTensors(501L));
        }
    }

    @Test
    void everyCellAndMergeModeAgainstTheReferenceWithoutGraphs() {
        GpuAvailable.assume();
        try (RecurrentCuda cuda = RecurrentCuda.open(false, false)) {
            everyCellAndMergeMode(cuda, new RandomTensors(502L));
        }
    }

    private static void everyCellAndMergeMode(RecurrentCuda cuda, RandomTensors r) {
        for (Function<Integer, RecurrentLayerBuilder<?>> cell : CELLS) {
            for (MergeMode mode : MergeMode.values()) {
                // batch 3 runs fused step kernels (LSTM, GRU reset_after), batch 40 cuBLAS GEMMs
                for (int batch : new int[] {3, 40}) {
                    for (boolean masked : new boolean[] {false, true}) {
                        for (boolean initialStates : new boolean[] {false, true}) {
                            Bidirectional dev = Bidirectional.of("bi", cell.apply(24).returnSequences(true)
                                    .returnState(true).backend(cuda).build(), mode, null);
                            Bidirectional ref = Bidirectional.of("bi", cell.apply(24).returnSequences(true)
                                    .returnState(true).backend(RecurrentReference.INSTANCE).build(), mode, null);
                            sameRandomWeights(r, 20, dev, ref);
                            compareTwice(cuda.name() + " " + dev.forwardLayer().className() + " " + mode + " B=" + batch
                                    + (masked ? " masked" : "") + (initialStates ? " with initial states" : ""),
                                    r, dev, ref, batch, 20, masked, initialStates);
                        }
                    }
                }
            }
        }
        // directions of other cells and sizes (an explicit backward layer): the lanes' work differs,
        // and a merge that swapped the sizes would misplace values
        for (MergeMode mode : new MergeMode[] {MergeMode.CONCAT, MergeMode.NONE}) {
            for (int batch : new int[] {3, 40}) {
                Bidirectional dev = mixed(cuda, mode);
                Bidirectional ref = mixed(RecurrentReference.INSTANCE, mode);
                sameRandomWeights(r, 20, dev, ref);
                compareTwice(cuda.name() + " GRU 8 forward, LSTM 40 backward, " + mode + " B=" + batch, r, dev, ref,
                        batch, 20, true, false);
            }
        }
    }

    private static Bidirectional mixed(RecurrentBackend backend, MergeMode mode) {
        return Bidirectional.of("bi", Gru.builder(8).returnSequences(true).returnState(true).backend(backend).build(),
                mode, Lstm.builder(40).returnSequences(true).returnState(true).goBackwards(true).backend(backend).build());
    }

    /**
     * Calls dev and ref on random inputs and compares; calls dev again on the same inputs (the same
     * bits: graph replays on both lanes) and then both on new inputs (replays with new values).
     */
    private static void compareTwice(String what, RandomTensors r, Bidirectional dev, Bidirectional ref, int batch,
                                     int features, boolean masked, boolean initialStates) {
        for (int round = 0; round < 2; round++) {
            List<Tensor> inputs = new ArrayList<>(List.of(r.uniform(1, batch, 11, features)));
            if (initialStates) {
                for (int k = 0; k < 2; k++) {
                    var layer = k == 0 ? dev.forwardLayer() : dev.backwardLayer();
                    for (int s = 0; s < layer.stateCount(); s++) {
                        inputs.add(r.uniform(0.5, batch, layer.units()));
                    }
                }
            }
            List<Mask> masks = masked ? List.of(r.mask(batch, 11, 0.7)) : List.of();
            String call = what + (round == 0 ? "" : ", new values");
            List<Tensor> expected = ref.call(inputs, masks);
            List<Tensor> first = dev.call(inputs, masks);
            assertClose(call, expected, first);
            List<Tensor> again = dev.call(inputs, masks);
            for (int k = 0; k < first.size(); k++) {
                Compare.assertIdentical(call + " second call, output " + k, first.get(k), again.get(k));
            }
        }
    }

    @Test
    void aStackOfTwoBidirectionalLayersWithADenseHeadLeaksNothing() {
        GpuAvailable.assume();
        RandomTensors r = new RandomTensors(503L);
        try (RecurrentCuda cuda = RecurrentCuda.open(false)) {
            Model dev = stack(cuda);
            Model ref = stack(RecurrentReference.INSTANCE);
            List<Layer> refLayers = ref.layers();
            List<Layer> devLayers = dev.layers();
            for (int k = 0; k < refLayers.size(); k++) {
                if (refLayers.get(k) instanceof Bidirectional b) {
                    List<Tensor> w = randomLike(r, b.getWeights());
                    b.setWeights(w);
                    ((Bidirectional) devLayers.get(k)).setWeights(w);
                } else if (refLayers.get(k) instanceof Dense d) {
                    List<Tensor> w = randomLike(r, d.getWeights());
                    d.setWeights(w);
                    ((Dense) devLayers.get(k)).setWeights(w);
                }
            }
            Tensor x = r.uniform(1, 9, 17, 12);
            // zero a tail of each sequence for the Masking layer
            float[] data = x.data().clone();
            for (int b = 0; b < 9; b++) {
                for (int t = 17 - b; t < 17; t++) {
                    for (int f = 0; f < 12; f++) {
                        data[(b * 17 + t) * 12 + f] = 0f;
                    }
                }
            }
            Tensor masked = Tensor.wrap(data, 9, 17, 12);
            List<String> runs = dev.stackedRuns();
            assertEquals(1, runs.size(), "the two Bidirectional layers and the head run as one stack: " + runs);
            assertEquals(devLayers.get(1).name() + ".." + devLayers.get(3).name(), runs.get(0));
            Tensor expected = ref.predict(masked);
            long calls = cuda.stackCalls();
            Tensor first = dev.predict(masked);
            assertEquals(calls + 1, cuda.stackCalls(), "one stack call");
            Compare.assertClose("stack of two Bidirectional layers with a Dense head", expected, first, Tolerance.FP32);
            long free = freeBytes();
            for (int k = 0; k < 200; k++) {
                Compare.assertIdentical("call " + k, first, dev.predict(masked));
            }
            assertEquals(free, freeBytes(), "device memory free after the first call and after 200 more");
        }
    }

    @Test
    void aStatefulBidirectionalLayerCarriesItsStates() {
        GpuAvailable.assume();
        RandomTensors r = new RandomTensors(504L);
        try (RecurrentCuda cuda = RecurrentCuda.open(false)) {
            Bidirectional dev = Bidirectional.of(Lstm.builder(16).stateful(true).returnState(true).backend(cuda).build());
            Bidirectional ref = Bidirectional.of(Lstm.builder(16).stateful(true).returnState(true)
                    .backend(RecurrentReference.INSTANCE).build());
            sameRandomWeights(r, 8, dev, ref);
            for (int call = 0; call < 4; call++) {
                List<Tensor> x = List.of(r.uniform(1, 5, 7, 8));
                assertClose("stateful call " + call, ref.call(x, List.of()), dev.call(x, List.of()));
            }
        }
    }

    private static Model stack(RecurrentBackend backend) {
        return Model.sequential("bistack").input(-1, 12).add(Masking.of(0.0))
                .add(Bidirectional.of(Lstm.builder(32).returnSequences(true).backend(backend).build()))
                .add(Bidirectional.of(Gru.builder(16).backend(backend).build(), MergeMode.SUM))
                .add(Dense.builder(3).activation("softmax").build())
                .build();
    }

    private static void sameRandomWeights(RandomTensors r, int in, Bidirectional a, Bidirectional b) {
        a.build(in);
        b.build(in);
        List<Tensor> w = randomLike(r, a.getWeights());
        a.setWeights(w);
        b.setWeights(w);
    }

    private static List<Tensor> randomLike(RandomTensors r, List<Tensor> weights) {
        List<Tensor> w = new ArrayList<>();
        for (Tensor t : weights) {
            w.add(r.uniform(0.3, t.shape()));
        }
        return w;
    }

    private static void assertClose(String what, List<Tensor> expected, List<Tensor> actual) {
        assertEquals(expected.size(), actual.size(), what + ": number of outputs");
        for (int k = 0; k < expected.size(); k++) {
            Compare.assertClose(what + " output " + k, expected.get(k), actual.get(k), Tolerance.FP32);
        }
    }

    private static long freeBytes() {
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return free[0];
    }
}
