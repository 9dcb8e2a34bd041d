package dev.rnnrt.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Tensor;
import dev.rnnrt.layers.Gru;
import dev.rnnrt.layers.Lstm;
import dev.rnnrt.layers.RecurrentLayerBuilder;
import dev.rnnrt.layers.SimpleRnn;
import dev.rnnrt.testing.Compare;
import dev.rnnrt.testing.RandomTensors;
import dev.rnnrt.testing.Tolerance;
import java.util.List;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The input projection runs in chunks of steps: the plan's arithmetic, and the same numbers
 * whether a sequence is projected in one chunk or in many (uneven last chunk, masks,
 * go_backwards), on the batch-split and the unit-split paths.
 */
class ChunkPlanTest {

    @Test
    void theRowFloorWinsOverTheSizeCap() {
        ChunkPlan plan = new ChunkPlan(1 << 16, 128);
        // LSTM H = 128, 8 rows per thread: 16 steps reach both 128 rows and the 64 Ki-float cap
        assertEquals(16, plan.steps(8, 512, 256));
        // LSTM H = 1024, 8 rows: the cap alone would give 2 steps; the floor asks for 16
        assertEquals(16, plan.steps(8, 4096, 32));
        // 64 rows of LSTM H = 512: 2 steps for 128 rows, over the cap, as the floor says
        assertEquals(2, plan.steps(64, 2048, 32));
        // batch 1 of a small layer: the cap allows more than the floor
        assertEquals(512, plan.steps(1, 128, 1000));
        // never more steps than the sequence, never fewer than one
        assertEquals(7, plan.steps(1, 128, 7));
        assertEquals(1, plan.steps(1000, 4096, 5));
        assertEquals(1, new ChunkPlan(1, 1).steps(3, 10, 9));
    }

    @Test
    void aPlanNeedsPositiveLimits() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ChunkPlan(0, 128));
        assertTrue(e.getMessage().contains("projFloats=0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ChunkPlan(1024, -1));
    }

    @Test
    void manySmallChunksGiveTheNumbersOfOneChunk() {
        RandomTensors r = new RandomTensors(90210L);
        List<IntFunction<RecurrentLayerBuilder<?>>> cells = List.of(Lstm::builder, Gru::builder,
                h -> Gru.builder(h).resetAfter(false), SimpleRnn::builder);
        RecurrentCpu oneChunk = RecurrentCpu.create(Sgemm.best(), 2, new ChunkPlan(Integer.MAX_VALUE, 1));
        // one step per chunk, then three (11 = 3 + 3 + 3 + 2 steps)
        ChunkPlan[] plans = {new ChunkPlan(1, 1), new ChunkPlan(1, 3)};
        // {batch, input, units}: batch 1 with 128 units takes the unit split on two threads
        int[][] shapes = {{5, 7, 9}, {1, 12, 128}};
        for (int[] s : shapes) {
            for (IntFunction<RecurrentLayerBuilder<?>> cell : cells) {
                for (boolean masked : new boolean[] {false, true}) {
                    for (ChunkPlan plan : plans) {
                        compare(r, cell, oneChunk, plan, s[0], 11, s[1], s[2], masked);
                    }
                }
            }
        }
    }

    private static void compare(RandomTensors r, IntFunction<RecurrentLayerBuilder<?>> cell, RecurrentCpu whole,
                                ChunkPlan plan, int b, int t, int i, int h, boolean masked) {
        SameWeights run = new SameWeights(r, () -> cell.apply(h).returnSequences(true).returnState(true)
                .goBackwards(masked), b, t, i, h, masked, whole, RecurrentCpu.create(Sgemm.best(), 2, plan));
        List<Tensor> expected = run.outputs.get(0).asList();
        String ctx = run.className + " B=" + b + " I=" + i + " H=" + h + " mask=" + masked + " " + plan
                + " seed=" + r.seed();
        for (int k = 0; k < expected.size(); k++) {
            Tensor inOne = run.outputs.get(1).asList().get(k);
            Tensor inMany = run.outputs.get(2).asList().get(k);
            // the same products; only the SGEMM's row tiles (8, 4, 1 rows) may sum in another order
            Compare.assertClose(ctx + " output " + k + " vs one chunk", inOne, inMany, 1e-6);
            Compare.assertClose(ctx + " output " + k, expected.get(k), inMany, Tolerance.FP32);
        }
    }
}
