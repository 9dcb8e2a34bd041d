package dev.rnnrt.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * rnnrt's kernels: the PTX that cuda/build-ptx.sh compiled from cuda/*.cu, loaded from the jar
 * through the driver API (the driver JIT-compiles it for the device). Nothing calls nvcc at run time.
 */
final class KernelModule {

    /** The PTX resources, one per .cu file. */
    static final List<String> FILES = List.of("lstm_pointwise", "gru_pointwise", "simple_rnn_pointwise", "recurrent_fused", "sgemm",
            "stack");

    private KernelModule() {
    }

    static boolean allPresent() {
        for (String f : FILES) {
            if (KernelModule.class.getResource(resource(f)) == null) {
                return false;
            }
        }
        return true;
    }

    /** Loads one PTX module into the current context. */
    static CUmodule load(String file) {
        try (InputStream in = KernelModule.class.getResourceAsStream(resource(file))) {
            if (in == null) {
                throw new IllegalStateException("Missing kernel resource " + resource(file));
            }
            byte[] ptx = in.readAllBytes();
            byte[] terminated = java.util.Arrays.copyOf(ptx, ptx.length + 1); // the driver wants a C string
            CUmodule module = new CUmodule();
            try {
                JCudaDriver.cuModuleLoadData(module, terminated);
            } catch (jcuda.CudaException e) {
                throw new IllegalStateException(loadFailure(file, toolkitRelease(ptx), e.getMessage()), e);
            }
            return module;
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read kernel resource " + resource(file), e);
        }
    }

    private static final java.util.regex.Pattern RELEASE =
            java.util.regex.Pattern.compile("Cuda compilation tools, release (\\d+\\.\\d+)");

    /** The CUDA toolkit release that compiled a PTX file, from nvcc's header comment; null if absent. */
    static String toolkitRelease(byte[] ptx) {
        String head = new String(ptx, 0, Math.min(ptx.length, 512), java.nio.charset.StandardCharsets.US_ASCII);
        java.util.regex.Matcher m = RELEASE.matcher(head);
        return m.find() ? m.group(1) : null;
    }

    /**
     * The message when the driver refuses our PTX. The usual cause is a driver older than the
     * toolkit that compiled the PTX: a driver JIT-compiles PTX from its own CUDA release or older.
     */
    static String loadFailure(String file, String release, String cudaSays) {
        String cause = cudaSays == null ? "" : cudaSays;
        String advice = cause.contains("UNSUPPORTED_PTX_VERSION") || cause.contains("INVALID_PTX")
                ? "; the PTX was compiled by CUDA " + (release == null ? "(unknown release)" : release)
                        + " and needs an NVIDIA driver for CUDA " + (release == null ? "that release" : release)
                        + " or newer: update the driver, or rebuild the PTX with the CUDA toolkit the driver "
                        + "supports (cuda/build-ptx.sh)"
                : "";
        return "The CUDA driver could not load rnnrt's kernels " + resource(file) + " (" + cause + ")" + advice + ".";
    }

    static CUfunction function(CUmodule module, String name) {
        CUfunction f = new CUfunction();
        JCudaDriver.cuModuleGetFunction(f, module, name);
        return f;
    }

    private static String resource(String file) {
        return "/dev/rnnrt/cuda/" + file + ".ptx";
    }
}
