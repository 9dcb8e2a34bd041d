package dev.rnnrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Backend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cuda.CudaProbe;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** {@code --device} on a machine without a usable GPU: Backend's choice, the command line's words. */
class DeviceTest {

    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    private static void needsNoGpu() {
        Assumptions.assumeFalse(CudaProbe.status().usable(), "these cases are about a machine without a usable GPU");
    }

    @Test
    void cpuRunsTheFastPathAndRefusesTf32() {
        try (Backend.Opened cpu = Device.CPU.resolve("fp32", err)) {
            assertEquals(RecurrentCpu.INSTANCE, cpu.backend());
        }
        CliException e = assertThrows(CliException.class, () -> Device.CPU.resolve("tf32", err));
        assertTrue(e.getMessage().contains("Use --precision fp32 with --device cpu"), e.getMessage());
        assertEquals("", errBytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void autoFallsBackToTheCpuSayingWhyInOneLine() {
        needsNoGpu();
        try (Backend.Opened auto = Device.AUTO.resolve("fp32", err)) {
            assertEquals(RecurrentCpu.INSTANCE, auto.backend());
        }
        String line = errBytes.toString(StandardCharsets.UTF_8);
        assertTrue(line.startsWith("rnnrt: running on the CPU (CUDA cannot be used: "), line);
        assertEquals(1, line.lines().count(), line);
    }

    @Test
    void autoWithTf32IsRefusedRatherThanRunInFp32() {
        needsNoGpu();
        CliException e = assertThrows(CliException.class, () -> Device.AUTO.resolve("tf32", err));
        assertTrue(e.getMessage().startsWith("--precision tf32 needs CUDA, which cannot be used here: "), e.getMessage());
    }

    @Test
    void cudaNamesWhatIsMissingInTheCommandLinesWords() {
        needsNoGpu();
        CliException e = assertThrows(CliException.class, () -> Device.CUDA.resolve("fp32", err));
        assertTrue(e.getMessage().startsWith("--device cuda was requested but CUDA cannot be used: "
                + CudaProbe.status().describe()), e.getMessage());
        assertTrue(e.getMessage().endsWith("Use --device auto or --device cpu to run on the CPU."), e.getMessage());
    }
}
