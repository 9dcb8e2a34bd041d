package dev.rnnrt.backend.cpu;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.RecurrentOutput;
import dev.rnnrt.testing.RandomTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * One recurrent layer configuration on the reference and on other backends, with the same random
 * weights (about 1.5/√fan-in) and the same random input, mask and initial states, for tests that
 * compare the backends' outputs.
 */
final class SameWeights {

    /** outputs.get(0) is the reference's; then one per backend, in the order given. */
    final List<RecurrentOutput> outputs = new ArrayList<>();
    final String className;

    /**
     * @param builder a fresh, fully configured builder per call (its backend is set here)
     */
    SameWeights(RandomTensors r, Supplier<RecurrentLayerBuilder<?>> builder, int batch, int time, int input,
                int units, boolean masked, RecurrentBackend... backends) {
        RecurrentLayer ref = builder.get().build();
        ref.build(input);
        List<Tensor> w = new ArrayList<>();
        for (Tensor wt : ref.getWeights()) {
            w.add(r.uniform(1.5 / Math.sqrt(Math.max(input, units)), wt.shape()));
        }
        ref.setWeights(w);
        Tensor x = r.uniform(1, batch, time, input);
        Mask mask = masked ? r.mask(batch, time, 0.6) : null;
        List<Tensor> init = new ArrayList<>();
        for (int s = 0; s < ref.stateCount(); s++) {
            init.add(r.uniform(0.5, batch, units));
        }
        outputs.add(ref.call(x, init, mask));
        for (RecurrentBackend b : backends) {
            RecurrentLayer layer = builder.get().backend(b).build();
            layer.setWeights(w);
            outputs.add(layer.call(x, init, mask));
        }
        className = ref.className();
    }
}
