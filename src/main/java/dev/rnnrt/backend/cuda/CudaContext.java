package dev.rnnrt.backend.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.runtime.cudaStream_t;

/**
 * Device 0's primary context, rnnrt's kernel modules, and {@value #LANES} {@link Lane}s: each a
 * stream with a cuBLAS handle of its own when cuBLAS loads (otherwise GEMMs run on the sgemm_v1
 * kernel) and that handle's workspace. Owns all of them; close releases them in reverse order, once. JCuda exceptions are switched on here, so every driver and cuBLAS call is checked.
 */
final class CudaContext implements AutoCloseable {

    static final int BLOCK = 256;
    /** The most rows one launch of the fallback SGEMM covers: grid y (65,535 blocks) of 16 rows. */
    static final int MAX_SGEMM_ROWS = 65_535 * 16;
    /** cuBLAS's workspace: 32 MiB, what NVIDIA recommends for Hopper (4 MiB suffices before it). */
    static final long CUBLAS_WORKSPACE_BYTES = 32L << 20;
    /** Streams (with their cuBLAS handles): calls run together, as Bidirectional's two directions, take one each. */
    static final int LANES = 2;

    /**
     * The bands of rows ({first row, rows}) that the fallback SGEMM of {@code m} rows runs as, each at
     * most {@value #MAX_SGEMM_ROWS} rows. Counted in long: near 2^31 rows the start of the band after
     * the last would pass Integer.MAX_VALUE and wrap to a negative row.
     */
    static List<int[]> sgemmBands(int m) {
        List<int[]> bands = new ArrayList<>();
        for (long row = 0; row < m; row += MAX_SGEMM_ROWS) {
            bands.add(new int[] {(int) row, (int) Math.min(MAX_SGEMM_ROWS, m - row)});
        }
        return bands;
    }

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final List<CUmodule> modules = new ArrayList<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    /** The lanes: lane 0 takes every single call, lane k the k-th of calls run together. */
    private final List<Lane> lanes = new ArrayList<>();
    private final boolean cublasLoaded;
    /** Dynamic shared memory the fused step kernels may use on this device (bytes). */
    private final int fusedSharedBytes;
    private boolean closed;

    /**
     * One stream, with a cuBLAS handle of its own bound to it and that handle's workspace. Every
     * launch and GEMM of a call goes on its lane's stream, so that the call's step loop can be
     * captured into a graph, and two calls on two lanes run at the same time. A handle per lane
     * because graphs captured on two lanes may run at once, and a cuBLAS workspace must not be
     * shared by GEMMs that run at once.
     */
    final class Lane {
        private final CUstream stream = new CUstream();
        /** Recorded by {@link #waitFor} on this lane for another lane to wait on. */
        private final CUevent mark = new CUevent();
        private boolean markCreated;
        private cublasHandle cublas;
        private DeviceBuffer cublasWorkspace;

        private Lane() {
        }

        /** Creates the stream, then the handle when cuBLAS loads; what was made is released by close. */
        private void open(boolean tf32) {
            // Flags 0: a blocking stream, ordered with the legacy stream that cuMemcpyHtoD and
            // cuMemsetD32 use, so uploads before the loop and downloads after it need no extra
            // events; two such streams still run at the same time as each other.
            JCudaDriver.cuStreamCreate(stream, 0);
            lanes.add(this);
            JCudaDriver.cuEventCreate(mark, CUevent_flags.CU_EVENT_DISABLE_TIMING);
            markCreated = true;
            if (cublasLoaded) {
                JCublas2.setExceptionsEnabled(true);
                cublasHandle created = new cublasHandle();
                JCublas2.cublasCreate(created);
                cublas = created;
                // fp32 by default; TF32 tensor cores only when asked for
                JCublas2.cublasSetMathMode(cublas, tf32 ? cublasMath.CUBLAS_TF32_TENSOR_OP_MATH
                        : cublasMath.CUBLAS_DEFAULT_MATH);
                // cuBLAS calls capture into a graph only on the capturing stream and with a workspace
                // of our own (it must not allocate while a stream is capturing)
                JCublas2.cublasSetStream(cublas, new cudaStream_t(stream));
                cublasWorkspace = new DeviceBuffer("cuBLAS workspace", CUBLAS_WORKSPACE_BYTES / Float.BYTES);
                JCublas2.cublasSetWorkspace(cublas, cublasWorkspace.ptr(), CUBLAS_WORKSPACE_BYTES);
            }
        }

        /** Launches a 1-D kernel over {@code n} threads; args are Integer or Pointer (device pointers). */
        void launch(String kernel, long n, Object... args) {
            int grid = (int) ((n + BLOCK - 1) / BLOCK);
            launchBlocks(kernel, Math.max(1, grid), 0, args);
        }

        /** Launches {@code blocks} blocks of {@value #BLOCK} threads with {@code sharedBytes} of dynamic shared memory. */
        void launchBlocks(String kernel, int blocks, int sharedBytes, Object... args) {
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
            JCudaDriver.cuLaunchKernel(function(kernel), blocks, 1, 1, BLOCK, 1, 1, sharedBytes, stream,
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
                        Pointer.to(new float[] {1f}), b, ldb, a, lda, Pointer.to(new float[] {accumulate ? 1f : 0f}),
                        c, ldc);
                return;
            }
            // rows go on grid y, at most 65,535 blocks of 16: taller products run as bands of rows
            for (int[] band : sgemmBands(m)) {
                int row = band[0];
                int rows = band[1];
                Pointer[] params = {Pointer.to(new int[] {rows}), Pointer.to(new int[] {n}), Pointer.to(new int[] {k}),
                    Pointer.to(a.withByteOffset((long) row * lda * Sizeof.FLOAT)), Pointer.to(new int[] {lda}),
                    Pointer.to(b), Pointer.to(new int[] {ldb}),
                    Pointer.to(c.withByteOffset((long) row * ldc * Sizeof.FLOAT)), Pointer.to(new int[] {ldc}),
                    Pointer.to(new int[] {accumulate ? 1 : 0})};
                JCudaDriver.cuLaunchKernel(function("sgemm_v1"), (n + 15) / 16, (rows + 15) / 16, 1, 16, 16, 1, 0,
                        stream, Pointer.to(params), null);
            }
        }

        /**
         * Records what {@code enqueue} puts on this lane's stream (launches and cuBLAS calls only: no
         * allocation, copy or synchronisation) into a graph, and returns it instantiated. Nothing runs
         * until {@link #replay}. Kernel arguments and GEMM scalars are recorded by value, device
         * pointers as they are: the buffers must outlive the graph. Replay it on this lane only (its
         * GEMMs use this lane's cuBLAS workspace).
         */
        CUgraphExec capture(Runnable enqueue) {
            check();
            CUgraph graph = new CUgraph();
            JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
            boolean ended = false;
            try {
                enqueue.run();
                JCudaDriver.cuStreamEndCapture(stream, graph);
                ended = true;
            } finally {
                if (!ended) {
                    // leave the stream usable: end the broken capture (freeing what it made), keep the first error
                    try {
                        JCudaDriver.cuStreamEndCapture(stream, graph);
                        JCudaDriver.cuGraphDestroy(graph);
                    } catch (RuntimeException ignored) {
                        // the capture was already invalidated: no graph was made
                    }
                }
            }
            try {
                CUgraphExec exec = new CUgraphExec();
                JCudaDriver.cuGraphInstantiate(exec, graph, 0);
                return exec;
            } finally {
                JCudaDriver.cuGraphDestroy(graph);
            }
        }

        /**
         * Makes the work put on this lane from now on wait for the work put on {@code other} so far
         * (an event recorded there; the host does not wait).
         */
        void waitFor(Lane other) {
            check();
            JCudaDriver.cuEventRecord(other.mark, other.stream);
            JCudaDriver.cuStreamWaitEvent(stream, other.mark, 0);
        }

        /** Runs a graph captured on this lane. */
        void replay(CUgraphExec exec) {
            check();
            JCudaDriver.cuGraphLaunch(exec, stream);
        }

        /**
         * For benchmarks: runs {@code work} (which only enqueues on this lane's stream) {@code warmup}
         * times, then {@code reps} times between two events each, and returns each run's device time
         * in milliseconds. The host waits for each run, so launch costs on the host are part of the time.
         */
        float[] time(Runnable work, int warmup, int reps) {
            check();
            CUevent start = new CUevent();
            CUevent end = new CUevent();
            JCudaDriver.cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
            try {
                JCudaDriver.cuEventCreate(end, CUevent_flags.CU_EVENT_DEFAULT);
                try {
                    for (int k = 0; k < warmup; k++) {
                        work.run();
                    }
                    JCudaDriver.cuStreamSynchronize(stream);
                    float[] ms = new float[reps];
                    float[] one = new float[1];
                    for (int k = 0; k < reps; k++) {
                        JCudaDriver.cuEventRecord(start, stream);
                        work.run();
                        JCudaDriver.cuEventRecord(end, stream);
                        JCudaDriver.cuEventSynchronize(end);
                        JCudaDriver.cuEventElapsedTime(one, start, end);
                        ms[k] = one[0];
                    }
                    return ms;
                } finally {
                    JCudaDriver.cuEventDestroy(end);
                }
            } finally {
                JCudaDriver.cuEventDestroy(start);
            }
        }

        /** Releases the handle, its workspace, the event and the stream, newest first; each even if one before failed. */
        private void close() {
            Releases r = new Releases();
            if (cublas != null) {
                r.run(() -> JCublas2.cublasDestroy(cublas));
            }
            if (cublasWorkspace != null) {
                r.run(cublasWorkspace::close);
            }
            if (markCreated) {
                r.run(() -> JCudaDriver.cuEventDestroy(mark));
            }
            r.run(() -> JCudaDriver.cuStreamDestroy(stream));
            r.done();
        }
    }

    CudaContext(boolean tf32) {
        this(tf32, true);
    }

    /** With {@code cublas} false, GEMMs run on rnnrt's SGEMM kernel even where cuBLAS loads (tests of that path). */
    CudaContext(boolean tf32, boolean cublas) {
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuInit(0);
        JCudaDriver.cuDeviceGet(device, 0);
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        cublasLoaded = cublas && CudaProbe.status().cublas();
        try {
            JCudaDriver.cuCtxSetCurrent(context);
            for (String file : KernelModule.FILES) {
                CUmodule m = KernelModule.load(file);
                modules.add(m);
            }
            fusedSharedBytes = raiseFusedSharedLimit();
            for (int k = 0; k < LANES; k++) {
                new Lane().open(tf32);
            }
        } catch (RuntimeException | Error e) {
            // release what was made, newest first, and report the first failure
            for (int k = lanes.size() - 1; k >= 0; k--) {
                Lane lane = lanes.get(k);
                quietly(e, lane::close);
            }
            for (int k = modules.size() - 1; k >= 0; k--) {
                CUmodule m = modules.get(k);
                quietly(e, () -> JCudaDriver.cuModuleUnload(m));
            }
            quietly(e, () -> JCudaDriver.cuDevicePrimaryCtxRelease(device));
            throw e;
        }
    }

    /** Runs a release step of a failed construction; its own failure is attached to the first one. */
    private static void quietly(Throwable first, Runnable release) {
        if (release == null) {
            return;
        }
        try {
            release.run();
        } catch (RuntimeException | Error second) {
            first.addSuppressed(second);
        }
    }

    /**
     * The fused step kernels copy h into dynamic shared memory: lets them take up to
     * {@link WorkspacePlan#FUSED_MAX_H_BYTES}, or what the device allows a block beside their 4 KiB
     * of static shared memory, and returns that (past 48 KiB a kernel must ask for it).
     */
    private int raiseFusedSharedLimit() {
        int[] optIn = new int[1];
        JCudaDriver.cuDeviceGetAttribute(optIn,
                CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, device);
        int bytes = Math.max(0, Math.min(WorkspacePlan.FUSED_MAX_H_BYTES, optIn[0] - 4096));
        for (String kernel : new String[] {"lstm_step_fused_v2", "gru_step_fused_v2"}) {
            JCudaDriver.cuFuncSetAttribute(function(kernel),
                    CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
        }
        return bytes;
    }

    int fusedSharedBytes() {
        return fusedSharedBytes;
    }

    boolean usesCublas() {
        return cublasLoaded;
    }

    /** Lane {@code k}, 0 ≤ k < {@value #LANES}. */
    Lane lane(int k) {
        check();
        return lanes.get(k);
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

    /** Waits for the work of every lane. */
    void synchronize() {
        JCudaDriver.cuCtxSynchronize();
    }

    void destroy(CUgraphExec exec) {
        JCudaDriver.cuGraphExecDestroy(exec);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // every step, even after a failure (a sticky CUDA error fails them all): the primary
        // context must be released, or it outlives this instance with the error in it
        Releases r = new Releases();
        for (int k = lanes.size() - 1; k >= 0; k--) {
            r.run(lanes.get(k)::close);
        }
        for (int k = modules.size() - 1; k >= 0; k--) {
            CUmodule m = modules.get(k);
            r.run(() -> JCudaDriver.cuModuleUnload(m));
        }
        r.run(() -> JCudaDriver.cuDevicePrimaryCtxRelease(device));
        r.done();
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("The CUDA context was used after it was closed.");
        }
    }
}
