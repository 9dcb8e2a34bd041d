package dev.rnnrt.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.backend.cuda.CudaProbe;
import dev.rnnrt.backend.cuda.CudaStatus;
import dev.rnnrt.backend.cuda.CudaUnavailableException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Choosing a backend: AUTO's fallback with its one line, explicit CUDA's refusal, the CPU choices. */
class BackendTest {

    private static final String NO_DRIVER = "the CUDA driver library could not be loaded (libcuda.so.1: cannot open "
            + "shared object file: No such file or directory); install the NVIDIA driver (it provides libcuda.so.1)";
    private static final CudaStatus WITHOUT_DRIVER = new CudaStatus(false, null, false, true, List.of(NO_DRIVER));
    private static final CudaStatus WITHOUT_DEVICE = new CudaStatus(true, null, false, true,
            List.of("the CUDA driver sees no device; check nvidia-smi"));

    @Test
    void autoWithoutADriverRunsOnTheCpuAndLogsWhyInOneLine() {
        List<String> log = new ArrayList<>();
        try (Backend.Opened o = Backend.AUTO.open(false, WITHOUT_DRIVER, log::add)) {
            assertSame(RecurrentCpu.INSTANCE, o.backend());
            assertEquals(List.of("rnnrt: running on the CPU (CUDA cannot be used: " + NO_DRIVER + ")."), log);
        }
    }

    @Test
    void autoWithTf32FallingBackSaysItComputesInFp32() {
        List<String> log = new ArrayList<>();
        Backend.AUTO.open(true, WITHOUT_DEVICE, log::add).close();
        assertEquals(1, log.size());
        assertTrue(log.get(0).startsWith("rnnrt: running on the CPU in fp32 (CUDA cannot be used: the CUDA driver "
                + "sees no device"), log.get(0));
    }

    @Test
    void explicitCudaNamesWhatIsMissingAndWhatToInstall() {
        List<String> log = new ArrayList<>();
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> Backend.CUDA.open(false, WITHOUT_DRIVER, log::add));
        assertEquals("Backend CUDA was requested but CUDA cannot be used here: " + NO_DRIVER
                + ". Use Backend.AUTO or Backend.CPU to run on the CPU.", e.getMessage());
        assertTrue(log.isEmpty(), "a refusal is not also logged");
    }

    @Test
    void theCpuChoicesNeverProbeCudaAndRefuseTf32() {
        List<String> log = new ArrayList<>();
        // null status: the CPU choices must not need one
        assertSame(RecurrentCpu.INSTANCE, Backend.CPU.open(false, null, log::add).backend());
        assertSame(RecurrentReference.INSTANCE, Backend.CPU_REFERENCE.open(false, null, log::add).backend());
        assertTrue(log.isEmpty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Backend.CPU.open(true, null, log::add));
        assertEquals("TF32 applies to CUDA; Backend.CPU computes in fp32. Open it with tf32=false.", e.getMessage());
    }

    @Test
    void onThisMachineTheRealProbeDecides() {
        CudaStatus s = CudaProbe.status();
        assumeFalse(s.usable(), "CUDA is usable here; the fallback is covered by the tests above");
        List<String> log = new ArrayList<>();      // the fallback line, kept here instead of printed
        try (Backend.Opened o = Backend.AUTO.open(false, log::add)) {
            assertSame(RecurrentCpu.INSTANCE, o.backend());
        }
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).contains(s.describe()), log.get(0));
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, Backend.CUDA::open);
        assertTrue(e.getMessage().contains(s.describe()), e.getMessage());
    }
}
