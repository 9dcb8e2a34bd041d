package dev.rnnrt.backend.cuda;

import java.util.List;

/**
 * What {@link CudaProbe} found: whether rnnrt's CUDA backend can run here and, if not, why.
 *
 * @param driver   the CUDA driver library loaded and initialised
 * @param device   the name of device 0, or null when there is none
 * @param cublas   cuBLAS 12 loaded (else the GEMMs run on rnnrt's own kernel)
 * @param kernels  rnnrt's PTX kernels are in this build
 * @param problems what is missing, each with what to do; empty when CUDA is usable
 */
public record CudaStatus(boolean driver, String device, boolean cublas, boolean kernels, List<String> problems) {

    public CudaStatus {
        problems = List.copyOf(problems);
    }

    /** True when the CUDA backend can run (cuBLAS is optional). */
    public boolean usable() {
        return driver && device != null && kernels;
    }

    /** One line: the device and GEMM engine, or the problems. */
    public String describe() {
        if (usable()) {
            return device + ", GEMMs on " + (cublas ? "cuBLAS" : "rnnrt's own SGEMM kernel (cuBLAS 12 not found)");
        }
        return String.join("; ", problems);
    }
}
