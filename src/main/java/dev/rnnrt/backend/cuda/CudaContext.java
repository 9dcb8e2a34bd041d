package dev.rnnrt.backend.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;

/**
 * Device 0's primary context, rnnrt's kernel modules, and a cuBLAS handle when cuBLAS loads
 * (otherwise GEMMs run on the sgemm_v1 kernel). Owns all of them; close releases them in reverse
 * order, once. JCuda exceptions are switched on here, so every driver and cuBLAS call is checked.
 */
final class CudaContext implements AutoCloseable {

    private static final int BLOCK = 256;

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final List<CUmodule> modules = new ArrayList<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final cublasHandle cublas;
    private final CUstream stream = new CUstream(); // the legacy default stream
    private boolean closed;

    CudaContext(boolean tf32) {
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuInit(0);
        JCudaDriver.cuDeviceGet(device, 0);
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        JCudaDriver.cuCtxSetCurrent(context);
        for (String file : KernelModule.FILES) {
            CUmodule m = KernelModule.load(file);
            modules.add(m);
        }
        cublasHandle h = null;
        if (CudaProbe.status().cublas()) {
            JCublas2.setExceptionsEnabled(true);
            h = new cublasHandle();
            JCublas2.cublasCreate(h);
            // fp32 by default; TF32 tensor cores only when asked for
            JCublas2.cublasSetMathMode(h, tf32 ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH : cublasMath.CUBLAS_DEFAULT_MATH);
        }
        this.cublas = h;
    }

    boolean usesCublas() {
        return cublas != null;
    }

    /** Makes the context current on the calling thread. */
    void makeCurrent() {
        check();
        JCudaDriver.cuCtxSetCurrent(context);
    }

    CUfunction function(String name) {
        check();
        return functions.computeIfAbsent(name, n -> {
            for (CUmodule m : modules) {
                try {
                    return KernelModule.function(m, n);
                } catch (RuntimeException notInThisModule) {
                    // look in the next module
                }
            }
            throw new IllegalStateException("No kernel named " + n + " in rnnrt's PTX modules.");
        });
    }

    /** Launches a 1-D kernel over {@code n} threads; args are Integer or Pointer (device pointers). */
    void launch(String kernel, long n, Object... args) {
        Pointer[] params = new Pointer[args.length];
        for (int k = 0; k < args.length; k++) {
            Object a = args[k];
            if (a instanceof Integer i) {
                params[k] = Pointer.to(new int[] {i});
            } else if (a instanceof Pointer p) {
                params[k] = Pointer.to(p);
            } else {
                throw new IllegalArgumentException("Kernel argument " + k + " of " + kernel + " is " + a);
            }
        }
        int grid = (int) ((n + BLOCK - 1) / BLOCK);
        JCudaDriver.cuLaunchKernel(function(kernel), Math.max(1, grid), 1, 1, BLOCK, 1, 1, 0, stream,
                Pointer.to(params), null);
    }

    /**
     * Row-major C[m, n] = A[m, k] · B[k, n] (+ C when accumulate).
     * cuBLAS is column-major: a row-major [r, c] matrix with leading dimension ld is the
     * column-major [c, r] matrix with the same ld, i.e. its transpose. So C = A·B row-major is
     * Cᵀ = Bᵀ·Aᵀ column-major: cublasSgemm(N, N, n, m, k, B, ldb, A, lda, C, ldc), no transposes.
     */
    void gemm(Pointer a, int lda, Pointer b, int ldb, Pointer c, int ldc, int m, int n, int k, boolean accumulate) {
        if (cublas != null) {
            JCublas2.cublasSgemm(cublas, cublasOperation.CUBLAS_OP_N, cublasOperation.CUBLAS_OP_N, n, m, k,
                    Pointer.to(new float[] {1f}), b, ldb, a, lda, Pointer.to(new float[] {accumulate ? 1f : 0f}), c, ldc);
            return;
        }
        Pointer[] params = {Pointer.to(new int[] {m}), Pointer.to(new int[] {n}), Pointer.to(new int[] {k}),
            Pointer.to(a), Pointer.to(new int[] {lda}), Pointer.to(b), Pointer.to(new int[] {ldb}), Pointer.to(c),
            Pointer.to(new int[] {ldc}), Pointer.to(new int[] {accumulate ? 1 : 0})};
        JCudaDriver.cuLaunchKernel(function("sgemm_v1"), (n + 15) / 16, (m + 15) / 16, 1, 16, 16, 1, 0, stream,
                Pointer.to(params), null);
    }

    void synchronize() {
        JCudaDriver.cuCtxSynchronize();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (cublas != null) {
            JCublas2.cublasDestroy(cublas);
        }
        for (int k = modules.size() - 1; k >= 0; k--) {
            JCudaDriver.cuModuleUnload(modules.get(k));
        }
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("The CUDA context was used after it was closed.");
        }
    }
}
