package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.RecurrentOutput;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.testing.RandomTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A replayed graph must give the bits the same launches give, call after call with new inputs,
 * masks and states of the shape it was captured for (the graph reads the workspace, it does not
 * keep the first call's data), for every cell and for two layers sharing a shape.
 */
@Tag("gpu")
class GraphReplayTest {

    private static final List<IntFunction<RecurrentLayerBuilder<?>>> CELLS = List.of(Lstm::builder, Gru::builder,
            u -> Gru.builder(u).resetAfter(false), SimpleRnn::builder);

    @Test
    void replaysGiveTheBitsOfPlainLaunches() {
        GpuAvailable.assume();
        RandomTensors r = new RandomTensors(99L);
        try (RecurrentCuda launches = RecurrentCuda.open(false, false);
             RecurrentCuda graphs = RecurrentCuda.open(false, true)) {
            for (IntFunction<RecurrentLayerBuilder<?>> cell : CELLS) {
                for (boolean back : new boolean[] {false, true}) {
                    RecurrentLayer a = cell.apply(48).returnSequences(true).returnState(true).goBackwards(back)
                            .backend(launches).build();
                    a.build(20);
                    List<Tensor> w = new ArrayList<>();
                    for (Tensor t : a.getWeights()) {
                        w.add(r.uniform(0.3, t.shape()));
                    }
                    a.setWeights(w);
                    RecurrentLayer g = cell.apply(48).returnSequences(true).returnState(true).goBackwards(back)
                            .backend(graphs).build();
                    g.setWeights(w);
                    for (int call = 0; call < 4; call++) {
                        Tensor x = r.uniform(1, 6, 11, 20);
                        Mask mask = call % 2 == 0 ? null : r.mask(6, 11, 0.7);
                        List<Tensor> init = new ArrayList<>();
                        for (int s = 0; s < a.stateCount(); s++) {
                            init.add(r.uniform(0.5, 6, 48));
                        }
                        RecurrentOutput expected = a.call(x, init, mask);
                        RecurrentOutput actual = g.call(x, init, mask);
                        for (int k = 0; k < expected.asList().size(); k++) {
                            assertArrayEquals(expected.asList().get(k).data(), actual.asList().get(k).data(),
                                    a.className() + " goBackwards=" + back + " call " + call + " output " + k);
                        }
                    }
                }
            }
        }
    }
}
