package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The CUDA workspace's sizes, worked out by hand, and when two calls share a workspace. No GPU needed. */
class WorkspacePlanTest {

    private static final int MAX = WorkspacePlan.FUSED_MAX_H_BYTES;

    private static CellSpec cell(CellKind kind, int in, int h, boolean resetAfter) {
        int g = kind.gates() * h;
        return new CellSpec(kind, h, Activation.TANH, Activation.SIGMOID, resetAfter,
                Tensor.wrap(new float[in * g], in, g), Tensor.wrap(new float[h * g], h, g), null);
    }

    @Test
    void lstmWithSequencesAndMask() {
        // B=3, T=5, I=7, H=2: G=8
        WorkspacePlan p = WorkspacePlan.of(cell(CellKind.LSTM, 7, 2, true), new LoopSpec(false, true, false), 3, 5, 7,
                true);
        Map<String, Long> s = p.sizes();
        assertEquals(List.of("x", "proj", "rec", "h", "prev", "c", "seq", "mask"), List.copyOf(s.keySet()));
        assertEquals(5L * 3 * 7, s.get("x"));
        assertEquals(5L * 3 * 8, s.get("proj"));
        assertEquals(3L * 8, s.get("rec"));
        assertEquals(6L, s.get("h"));
        assertEquals(6L, s.get("c"));
        assertEquals(3L * 5 * 2, s.get("seq"));
        assertEquals(4L, s.get("mask"), "15 mask bytes take 4 floats");
        assertEquals((105L + 120 + 24 + 6 + 6 + 6 + 30 + 4) * 4, p.totalBytes());
    }

    @Test
    void gruResetBeforeHasTheSecondGemmsBuffersAndANarrowRecurrentProduct() {
        WorkspacePlan p = WorkspacePlan.of(cell(CellKind.GRU, 4, 10, false), new LoopSpec(true, false, false), 2, 3, 4,
                false);
        assertTrue(p.resetBefore());
        assertEquals(30, p.gateWidth());
        assertEquals(20, p.recurrentWidth());
        Map<String, Long> s = p.sizes();
        assertEquals(2L * 20, s.get("rec"), "h·U[:, 0:2H] only: z and r");
        assertEquals(20L, s.get("z"));
        assertEquals(20L, s.get("rh"));
        assertEquals(20L, s.get("hz"));
        assertFalse(s.containsKey("c"));
        assertFalse(s.containsKey("seq"));
        assertFalse(s.containsKey("mask"));
        assertTrue(p.describe().contains("reset_after=False"), p.describe());
    }

    @Test
    void gruResetAfterAndSimpleRnnUseTheFullGateWidth() {
        WorkspacePlan gru = WorkspacePlan.of(cell(CellKind.GRU, 4, 10, true), new LoopSpec(false, false, false), 2, 3, 4,
                false);
        assertFalse(gru.resetBefore());
        assertEquals(2L * 30, gru.sizes().get("rec"));
        assertFalse(gru.sizes().containsKey("z"));
        WorkspacePlan rnn = WorkspacePlan.of(cell(CellKind.SIMPLE_RNN, 4, 10, true), new LoopSpec(false, false, false),
                2, 3, 4, false);
        assertEquals(10, rnn.gateWidth());
        assertEquals(List.of("x", "proj", "rec", "h", "prev"), List.copyOf(rnn.sizes().keySet()));
    }

    @Test
    void theLargestTestedShapeIsSizedInLongs() {
        // H=1024, B=256, T=512, I=1024: proj alone has 2^31 floats, past int
        WorkspacePlan p = WorkspacePlan.of(cell(CellKind.LSTM, 1024, 1024, true), new LoopSpec(false, true, false), 256,
                512, 1024, false);
        assertEquals(512L * 256 * 4096, p.sizes().get("proj"));
        assertTrue(p.totalBytes() > Integer.MAX_VALUE);
    }

    @Test
    void callsWithTheSameShapeShareAWorkspaceAndOthersDoNot() {
        CellSpec lstm = cell(CellKind.LSTM, 7, 2, true);
        LoopSpec loop = new LoopSpec(false, true, false);
        assertEquals(WorkspacePlan.of(lstm, loop, 3, 5, 7, false), WorkspacePlan.of(lstm, loop, 3, 5, 7, false));
        assertNotEquals(WorkspacePlan.of(lstm, loop, 3, 5, 7, false), WorkspacePlan.of(lstm, loop, 4, 5, 7, false));
        assertNotEquals(WorkspacePlan.of(lstm, loop, 3, 5, 7, false), WorkspacePlan.of(lstm, loop, 3, 5, 7, true));
        assertNotEquals(WorkspacePlan.of(lstm, loop, 3, 5, 7, false),
                WorkspacePlan.of(lstm, new LoopSpec(false, false, false), 3, 5, 7, false));
    }

    @Test
    void emptyShapesAreRefusedNamingThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkspacePlan.of(cell(CellKind.LSTM, 7, 2, true), new LoopSpec(false, true, false), 0, 5, 7, false));
        assertTrue(e.getMessage().contains("B=0"), e.getMessage());
    }

    @Test
    void sequencesWhoseProjectionRowPassesAnIntAreRefusedWithTheLongestThatFits() {
        LoopSpec loop = new LoopSpec(false, false, false);
        // LSTM H=512: T·4H reaches 2^31 at T = 2^20, which the kernels' int row stride cannot hold
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkspacePlan.of(cell(CellKind.LSTM, 1, 512, true), loop, 2, 1 << 20, 1, false));
        assertTrue(e.getMessage().contains("at most 1048575 timesteps for LSTM with H=512"), e.getMessage());
        assertTrue(e.getMessage().contains("T=1048576") && e.getMessage().contains("CPU backend"), e.getMessage());
        assertEquals((1L << 20) - 1, WorkspacePlan.of(cell(CellKind.LSTM, 1, 512, true), loop, 2, (1 << 20) - 1, 1, false)
                .timesteps());
        // GRU counts three gates, SimpleRNN one
        assertThrows(IllegalArgumentException.class,
                () -> WorkspacePlan.of(cell(CellKind.GRU, 1, 256, true), loop, 1, 2_796_203, 1, false));
        WorkspacePlan.of(cell(CellKind.GRU, 1, 256, true), loop, 1, 2_796_202, 1, false);
        WorkspacePlan.of(cell(CellKind.SIMPLE_RNN, 1, 256, true), loop, 1, 8_388_607, 1, false);
        assertThrows(IllegalArgumentException.class,
                () -> WorkspacePlan.of(cell(CellKind.SIMPLE_RNN, 1, 256, true), loop, 1, 8_388_608, 1, false));
    }

    @Test
    void aFailureNamesTheOperationTheShapesAndTheDevice() {
        WorkspacePlan p = WorkspacePlan.of(cell(CellKind.GRU, 4, 10, false), new LoopSpec(false, false, false), 2, 3, 4,
                false);
        String m = CudaFailure.message("step 2 (recurrent GEMM and fused kernel)", p, "NVIDIA H100 80GB HBM3",
                "CUDA_ERROR_ILLEGAL_ADDRESS");
        assertEquals("CUDA failed in step 2 (recurrent GEMM and fused kernel) for GRU (reset_after=False) B=2, T=3, "
                + "I=4, H=10 on NVIDIA H100 80GB HBM3: CUDA_ERROR_ILLEGAL_ADDRESS", m);
    }

    @Test
    void fusedStepsReplaceTheRecurrentProductBufferWithASecondHBuffer() {
        LoopSpec loop = new LoopSpec(false, false, false);
        // LSTM B=3, T=5, I=7, H=2 with fused steps up to B=16
        WorkspacePlan p = WorkspacePlan.of(cell(CellKind.LSTM, 7, 2, true), loop, 3, 5, 7, false, 16, MAX);
        assertTrue(p.fused());
        Map<String, Long> s = p.sizes();
        assertEquals(List.of("x", "proj", "h", "h2", "prev", "c"), List.copyOf(s.keySet()));
        assertEquals(6L, s.get("h2"));
        assertTrue(p.describe().endsWith("fused steps"), p.describe());
    }

    @Test
    void fusedStepsOnlyForCellsWithAFusedKernelAndBatchesUpToTheLimit() {
        LoopSpec loop = new LoopSpec(false, false, false);
        assertTrue(WorkspacePlan.of(cell(CellKind.GRU, 4, 10, true), loop, 16, 3, 4, false, 16, MAX).fused());
        assertFalse(WorkspacePlan.of(cell(CellKind.GRU, 4, 10, true), loop, 17, 3, 4, false, 16, MAX).fused());
        assertFalse(WorkspacePlan.of(cell(CellKind.GRU, 4, 10, false), loop, 2, 3, 4, false, 16, MAX).fused(),
                "GRU reset_after=False has no fused kernel");
        assertFalse(WorkspacePlan.of(cell(CellKind.SIMPLE_RNN, 4, 10, true), loop, 2, 3, 4, false, 16, MAX).fused());
        assertFalse(WorkspacePlan.of(cell(CellKind.LSTM, 4, 10, true), loop, 2, 3, 4, false, 0, MAX).fused());
        int limit = WorkspacePlan.FUSED_KERNEL_MAX_BATCH;
        assertTrue(WorkspacePlan.of(cell(CellKind.LSTM, 4, 10, true), loop, limit, 3, 4, false, 1000, MAX).fused());
        assertFalse(WorkspacePlan.of(cell(CellKind.LSTM, 4, 10, true), loop, limit + 1, 3, 4, false, 1000, MAX).fused(),
                "the kernels' own batch limit holds whatever is asked for");
        // h must fit the kernels' shared memory: 40 KiB is B·H ≤ 10240 floats, 20 KiB B·H ≤ 5120
        assertTrue(WorkspacePlan.of(cell(CellKind.LSTM, 4, 1024, true), loop, 10, 3, 4, false, 1000, MAX).fused());
        assertFalse(WorkspacePlan.of(cell(CellKind.LSTM, 4, 1024, true), loop, 11, 3, 4, false, 1000, MAX).fused());
        assertFalse(WorkspacePlan.of(cell(CellKind.LSTM, 4, 1024, true), loop, 11, 3, 4, false, 1000, 2 * MAX).fused(),
                "never past the kernels' own limit");
        assertTrue(WorkspacePlan.of(cell(CellKind.LSTM, 4, 1024, true), loop, 5, 3, 4, false, 1000, 20 * 1024).fused());
        assertFalse(WorkspacePlan.of(cell(CellKind.LSTM, 4, 1024, true), loop, 6, 3, 4, false, 1000, 20 * 1024).fused(),
                "a device that gives less shared memory");
    }

    @Test
    void hostConstantsMatchTheFusedKernelsDefines() throws IOException {
        String cu = Files.readString(Path.of("cuda", "recurrent_fused.cu"));
        assertEquals(WorkspacePlan.FUSED_UNITS, define(cu, "FUSED_UNITS"));
        assertEquals(CudaContext.BLOCK, define(cu, "FUSED_THREADS"), "the launch's block size");
        assertEquals(WorkspacePlan.FUSED_KERNEL_MAX_BATCH, define(cu, "FUSED_THREADS") / define(cu, "FUSED_UNITS"));
        assertTrue(cu.contains("#define FUSED_MAX_H_BYTES (" + WorkspacePlan.FUSED_MAX_H_BYTES / 1024 + " * 1024)"),
                "FUSED_MAX_H_BYTES");
    }

    private static int define(String source, String name) {
        Matcher m = Pattern.compile("#define " + name + " (\\d+)").matcher(source);
        assertTrue(m.find(), name + " not defined in cuda/recurrent_fused.cu");
        return Integer.parseInt(m.group(1));
    }
}
