package dev.rnnrt.cli;

import dev.rnnrt.api.Backend;
import dev.rnnrt.backend.cuda.CudaProbe;
import dev.rnnrt.backend.cuda.CudaStatus;
import dev.rnnrt.backend.cuda.CudaUnavailableException;
import java.io.PrintStream;

/**
 * {@code --device}: where the recurrent layers run. The choice itself is {@link Backend}'s (AUTO
 * runs on CUDA when it is usable and otherwise on the CPU, saying why in one line); this adds the
 * command line's words to its refusals.
 */
enum Device {
    AUTO(Backend.AUTO), CPU(Backend.CPU), CUDA(Backend.CUDA);

    private final Backend backend;

    Device(Backend backend) {
        this.backend = backend;
    }

    /**
     * Opens the backend; AUTO's fallback line goes to {@code err}. CUDA fails naming what is
     * missing; TF32 needs CUDA (AUTO does not fall back to fp32 when it was asked for).
     */
    Backend.Opened resolve(String precision, PrintStream err) {
        boolean tf32 = precision.equals("tf32");
        if (tf32 && this == CPU) {
            throw new CliException("--precision tf32 applies to CUDA; the CPU computes in fp32. "
                    + "Use --precision fp32 with --device cpu.");
        }
        CudaStatus status = this == CPU ? null : CudaProbe.status();
        if (tf32 && this == AUTO && !status.usable()) {
            throw new CliException("--precision tf32 needs CUDA, which cannot be used here: " + status.describe()
                    + ". Use --precision fp32.");
        }
        try {
            return backend.open(tf32, err::println);
        } catch (CudaUnavailableException e) {
            if (!status.usable()) {
                throw new CliException("--device cuda was requested but CUDA cannot be used: " + status.describe()
                        + ". Use --device auto or --device cpu to run on the CPU.", e);
            }
            // CUDA is there but would not start: the backend's reason, in the command line's words
            String reason = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
            throw new CliException(reason + " Use --device cpu to run on the CPU.", e);
        }
    }
}
