package dev.rnnrt.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rnnrt.api.Activation;
import dev.rnnrt.backend.StackStage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The CUDA backend's host side, checked on any machine. */
class CudaHostTest {

    @Test
    void activationCodesInTheKernelsMatchTheJavaEnum() throws IOException {
        String header = Files.readString(Path.of("cuda/common.cuh"));
        Matcher m = Pattern.compile("#define ACT_([A-Z0-9_]+) (\\d+)").matcher(header);
        Map<String, Integer> codes = new HashMap<>();
        while (m.find()) {
            codes.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        assertEquals(Activation.values().length, codes.size(), "one code per activation: " + codes);
        for (Activation a : Activation.values()) {
            assertEquals(a.ordinal(), codes.get(a.name().toUpperCase(Locale.ROOT)), a.name());
            assertTrue(header.contains("case ACT_" + a.name() + ":"), "rnnrt_activate handles " + a.name());
        }
    }

    @Test
    void mergeCodesInTheKernelsMatchTheJavaEnum() throws IOException {
        String cu = Files.readString(Path.of("cuda/stack.cu"));
        Matcher m = Pattern.compile("#define MERGE_([A-Z]+) (\\d+)").matcher(cu);
        Map<String, Integer> codes = new HashMap<>();
        while (m.find()) {
            codes.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        assertEquals(StackStage.Merge.values().length, codes.size(), "one code per merge: " + codes);
        for (StackStage.Merge merge : StackStage.Merge.values()) {
            assertEquals(merge.ordinal(), codes.get(merge.name()), merge.name());
            assertTrue(cu.contains("case MERGE_" + merge.name() + ":") || merge == StackStage.Merge.CONCAT,
                    "bidirectional_merge_v1 handles " + merge.name());
        }
    }

    @Test
    void everyKernelTheBackendLaunchesIsInThePtx() throws IOException {
        String host = Files.readString(Path.of("src/main/java/dev/rnnrt/backend/cuda/RecurrentCuda.java"))
                + Files.readString(Path.of("src/main/java/dev/rnnrt/backend/cuda/CudaContext.java"));
        Matcher m = Pattern.compile("\"([a-z_]+_v\\d+)\"").matcher(host);
        StringBuilder ptx = new StringBuilder();
        for (String f : KernelModule.FILES) {
            ptx.append(Files.readString(Path.of("src/main/resources/dev/rnnrt/cuda/" + f + ".ptx")));
        }
        int n = 0;
        while (m.find()) {
            n++;
            assertTrue(ptx.toString().contains(".entry " + m.group(1) + "("), m.group(1) + " is missing from the PTX");
        }
        assertTrue(n >= 6, "found " + n + " kernel names");
        assertTrue(KernelModule.allPresent());
    }

    @Test
    void withoutAUsableDeviceTheStatusSaysWhatIsMissing() {
        CudaStatus s = CudaProbe.status();
        if (s.usable()) {
            assertTrue(s.problems().isEmpty());
            assertTrue(s.describe().contains(s.device()));
            return;
        }
        assertFalse(s.problems().isEmpty());
        assertTrue(s.describe().contains("driver") || s.describe().contains("device") || s.describe().contains("kernels"),
                s.describe());
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> RecurrentCuda.open(false));
        assertTrue(e.getMessage().startsWith("CUDA cannot be used here: "), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
    }

    @Test
    void nativeLoadFailuresAreCutToTheLineThatMatters() {
        String jcudaStyle = "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Operating system name: Linux\n---(start of nested stack traces)---\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver.so: libcuda.so.1: cannot open shared object file: "
                + "No such file or directory\n\tat java.base/...";
        assertEquals("libcuda.so.1: cannot open shared object file: No such file or directory",
                CudaProbe.concise(new UnsatisfiedLinkError(jcudaStyle)));
        assertEquals("something else", CudaProbe.concise(new RuntimeException("something else\nmore")));
    }

    @Test
    void aDriverTooOldForThePtxIsToldToUpdate() throws IOException {
        for (String f : KernelModule.FILES) {
            byte[] ptx = Files.readAllBytes(Path.of("src/main/resources/dev/rnnrt/cuda/" + f + ".ptx"));
            assertTrue(KernelModule.toolkitRelease(ptx).matches("\\d+\\.\\d+"), f);
        }
        assertEquals("The CUDA driver could not load rnnrt's kernels /dev/rnnrt/cuda/sgemm.ptx "
                + "(CUDA_ERROR_UNSUPPORTED_PTX_VERSION); the PTX was compiled by CUDA 13.0 and needs an NVIDIA "
                + "driver for CUDA 13.0 or newer: update the driver, or rebuild the PTX with the CUDA toolkit the "
                + "driver supports (cuda/build-ptx.sh).",
                KernelModule.loadFailure("sgemm", "13.0", "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"));
        assertEquals("The CUDA driver could not load rnnrt's kernels /dev/rnnrt/cuda/sgemm.ptx "
                + "(CUDA_ERROR_OUT_OF_MEMORY).", KernelModule.loadFailure("sgemm", "13.0", "CUDA_ERROR_OUT_OF_MEMORY"));
    }
}
