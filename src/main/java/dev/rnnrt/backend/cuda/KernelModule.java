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
    static final List<String> FILES = List.of("lstm_pointwise", "gru_pointwise", "simple_rnn_pointwise", "sgemm");

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
            JCudaDriver.cuModuleLoadData(module, terminated);
            return module;
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read kernel resource " + resource(file), e);
        }
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
