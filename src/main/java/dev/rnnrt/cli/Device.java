package dev.rnnrt.cli;

import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cuda.CudaProbe;
import dev.rnnrt.backend.cuda.CudaStatus;
import dev.rnnrt.backend.cuda.CudaUnavailableException;
import dev.rnnrt.backend.cuda.RecurrentCuda;
import java.io.PrintStream;

/** {@code --device}: where the recurrent layers run. */
enum Device {
    AUTO, CPU, CUDA;

    /** The backend chosen, how to name it in summaries, and what to close after the run. */
    record Choice(RecurrentBackend backend, String description, AutoCloseable resource) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            if (resource != null) {
                resource.close();
            }
        }
    }

    /**
     * AUTO runs on CUDA when it is usable and otherwise on the CPU, saying why in one line on
     * {@code err}; CUDA fails naming what is missing; TF32 needs CUDA.
     */
    Choice resolve(String precision, PrintStream err) {
        boolean tf32 = precision.equals("tf32");
        if (this == CPU) {
            if (tf32) {
                throw new CliException("--precision tf32 applies to CUDA; the CPU computes in fp32. "
                        + "Use --precision fp32 with --device cpu.");
            }
            return cpu();
        }
        CudaStatus status = CudaProbe.status();
        if (!status.usable()) {
            if (this == CUDA) {
                throw new CliException("--device cuda was requested but CUDA cannot be used: " + status.describe()
                        + ". Use --device auto or --device cpu to run on the CPU.");
            }
            if (tf32) {
                throw new CliException("--precision tf32 needs CUDA, which cannot be used here: " + status.describe()
                        + ". Use --precision fp32.");
            }
            err.println("rnnrt: running on the CPU (CUDA cannot be used: " + status.describe() + ").");
            return cpu();
        }
        try {
            RecurrentCuda cuda = RecurrentCuda.open(tf32);
            return new Choice(cuda, "cuda (" + status.device() + ", " + cuda.name() + ")", cuda);
        } catch (CudaUnavailableException e) {
            if (this == CUDA) {
                throw new CliException(e.getMessage() + " Use --device cpu to run on the CPU.", e);
            }
            err.println("rnnrt: running on the CPU (" + e.getMessage() + ").");
            return cpu();
        }
    }

    private static Choice cpu() {
        return new Choice(RecurrentCpu.INSTANCE, "cpu (" + RecurrentCpu.INSTANCE.name() + ")", null);
    }
}
