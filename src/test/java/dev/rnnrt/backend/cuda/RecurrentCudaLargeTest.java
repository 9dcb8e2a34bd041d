package dev.rnnrt.backend.cuda;

import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayer;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.RecurrentOutput;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend on random layers of every kind, medium shapes against the float64 reference,
 * large ones (units up to 1024, batch up to 256, time up to 512) against the fast CPU path, which
 * is itself tested against the reference (the reference would take hours there). fp32 and TF32.
 */
@Tag("gpu")
class RecurrentCudaLargeTest {

    private static final long SEED = 4242L;

    private static final List<IntFunction<RecurrentLayerBuilder<?>>> CELLS = List.of(Lstm::builder,
            Gru::builder, u -> Gru.builder(u).resetAfter(false), SimpleRnn::builder);

    @Test
    void mediumShapesAgainstTheReference() {
        GpuAvailable.assume();
        try (RecurrentCuda cuda = RecurrentCuda.open(false)) {
            RandomTensors r = new RandomTensors(SEED);
            for (IntFunction<RecurrentLayerBuilder<?>> cell : CELLS) {
                compare(r, cell, cuda, RecurrentReference.INSTANCE, 8, 40, 96, 128, Tolerance.FP32);
                compare(r, cell, cuda, RecurrentReference.INSTANCE, 3, 17, 33, 65, Tolerance.FP32);
            }
        }
    }

    @Test
    void fusedStepsUpToTheirLargestBatchAgainstTheReference() {
        GpuAvailable.assume();
        try (RecurrentCuda cuda = RecurrentCuda.open(false, true, WorkspacePlan.FUSED_KERNEL_MAX_BATCH)) {
            RandomTensors r = new RandomTensors(SEED + 2);
            for (IntFunction<RecurrentLayerBuilder<?>> cell : CELLS) {
                // H not a multiple of 4 (scalar loads) with odd units per block, and a multiple of 4
                // (16-byte loads); B·H within the kernels' shared memory, B past their 8 rows per pass
                compare(r, cell, cuda, RecurrentReference.INSTANCE, 64, 9, 40, 131, Tolerance.FP32);
                compare(r, cell, cuda, RecurrentReference.INSTANCE, 33, 12, 17, 5, Tolerance.FP32);
                compare(r, cell, cuda, RecurrentReference.INSTANCE, 19, 7, 20, 512, Tolerance.FP32);
                // 40 KiB of h, the most the kernels take
                compare(r, cell, cuda, RecurrentReference.INSTANCE, 10, 5, 16, 1024, Tolerance.FP32);
            }
        }
    }

    @Test
    void largeShapesAgainstTheFastCpuPath() {
        GpuAvailable.assume();
        int[][] shapes = {{256, 64, 512, 512}, {64, 512, 256, 256}, {32, 64, 1024, 1024}, {1, 512, 128, 128}};
        for (boolean tf32 : new boolean[] {false, true}) {
            try (RecurrentCuda cuda = RecurrentCuda.open(tf32)) {
                RandomTensors r = new RandomTensors(SEED + 1);
                for (int[] s : shapes) {
                    for (IntFunction<RecurrentLayerBuilder<?>> cell : CELLS) {
                        compare(r, cell, cuda, RecurrentCpu.INSTANCE, s[0], s[1], s[2], s[3],
                                tf32 ? Tolerance.TF32 : Tolerance.FP32);
                    }
                }
            }
        }
    }

    private static void compare(RandomTensors r, IntFunction<RecurrentLayerBuilder<?>> cell, RecurrentBackend gpu,
                                RecurrentBackend cpu, int b, int t, int i, int h, double threshold) {
        RecurrentLayer ref = cell.apply(h).returnSequences(true).returnState(true).goBackwards(t % 2 == 1)
                .backend(cpu).build();
        ref.build(i);
        List<Tensor> w = new ArrayList<>();
        double scale = 1.5 / Math.sqrt(Math.max(i, h));
        for (Tensor wt : ref.getWeights()) {
            w.add(r.uniform(scale, wt.shape()));
        }
        ref.setWeights(w);
        RecurrentLayer dev = cell.apply(h).returnSequences(true).returnState(true).goBackwards(t % 2 == 1)
                .backend(gpu).build();
        dev.setWeights(w);
        Tensor x = r.uniform(1, b, t, i);
        Mask mask = r.mask(b, t, 0.9);
        List<Tensor> init = new ArrayList<>();
        for (int s = 0; s < ref.stateCount(); s++) {
            init.add(r.uniform(0.5, b, h));
        }
        RecurrentOutput expected = ref.call(x, init, mask);
        RecurrentOutput actual = dev.call(x, init, mask);
        for (int k = 0; k < expected.asList().size(); k++) {
            Compare.assertClose(ref.className() + " " + gpu.name() + " vs " + cpu.name() + " B=" + b + " T=" + t + " I="
                    + i + " H=" + h + " seed " + r.seed() + " output " + k, expected.asList().get(k),
                    actual.asList().get(k), threshold);
        }
    }
}
