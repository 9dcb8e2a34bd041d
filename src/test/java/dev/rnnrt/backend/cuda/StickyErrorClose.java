package dev.rnnrt.backend.cuda;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import dev.rnnrt.testing.RandomTensors;
import java.util.List;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * Run in a JVM of its own by {@link StickyErrorCloseTest} (a sticky error spoils the context of the
 * whole process): opens the backend without cuBLAS (whose runtime would hold the primary context
 * itself) and runs a call, so that workspaces, a graph and weights are kept; faults on an illegal
 * address; closes; prints whether the device's primary context is still held.
 */
final class StickyErrorClose {

    private StickyErrorClose() {
    }

    public static void main(String[] args) {
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuInit(0);
        CUdevice device = new CUdevice();
        JCudaDriver.cuDeviceGet(device, 0);
        RecurrentCuda healthy = RecurrentCuda.open(false, true, RecurrentCuda.DEFAULT_FUSED_MAX_BATCH, false);
        run(healthy);
        healthy.close();
        if (active(device)) {
            System.out.println("baseline-active");         // something else in this process holds it
            return;
        }
        RecurrentCuda cuda = RecurrentCuda.open(false, true, RecurrentCuda.DEFAULT_FUSED_MAX_BATCH, false);
        run(cuda);
        CudaContext bad = new CudaContext(false, false);
        try {
            // y = 0x100: the kernel reads and writes y[0]
            bad.lane(0).launch("dense_bias_activation_v1", 1, 1, 1, new CUdeviceptr().withByteOffset(0x100),
                    new CUdeviceptr(), 0);
            bad.synchronize();
            System.out.println("no-fault");
            return;
        } catch (jcuda.CudaException e) {
            System.out.println("fault: " + e.getMessage());
        }
        try {
            cuda.close();
        } catch (RuntimeException e) {
            System.out.println("backend close: " + e.getMessage());
        }
        try {
            bad.close();
        } catch (RuntimeException e) {
            System.out.println("context close: " + e.getMessage());
        }
        System.out.println(active(device) ? "still-active" : "released");
    }

    private static void run(RecurrentCuda cuda) {
        RandomTensors r = new RandomTensors(11L);
        CellSpec cell = new CellSpec(CellKind.LSTM, 8, Activation.TANH, Activation.SIGMOID, false, r.uniform(0.5, 4, 32),
                r.uniform(0.5, 8, 32), r.uniform(0.5, 32));
        Tensor x = r.uniform(1, 3, 5, 4);
        cuda.forward(cell, new LoopSpec(false, true, false), x, null,
                List.of(Tensor.zeros(3, 8), Tensor.zeros(3, 8)));
    }

    private static boolean active(CUdevice device) {
        int[] flags = new int[1];
        int[] active = new int[1];
        JCudaDriver.cuDevicePrimaryCtxGetState(device, flags, active);
        return active[0] != 0;
    }
}
