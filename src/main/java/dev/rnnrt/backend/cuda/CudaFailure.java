package dev.rnnrt.backend.cuda;

/**
 * A CUDA driver or cuBLAS call failed during a forward pass: names the operation, the cell and its
 * shapes, and the device. Kernels launch asynchronously, so a kernel's failure can surface at the
 * next synchronising call; the message then names that call.
 */
public final class CudaFailure extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    CudaFailure(String op, WorkspacePlan plan, String device, Throwable cause) {
        super(message(op, plan, device, cause.getMessage()), cause);
    }

    static String message(String op, WorkspacePlan plan, String device, String cudaSays) {
        return "CUDA failed in " + op + (plan == null ? "" : " for " + plan.describe()) + " on " + device + ": "
                + cudaSays;
    }
}
