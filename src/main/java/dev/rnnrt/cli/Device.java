package dev.rnnrt.cli;

import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import java.io.PrintStream;

/** {@code --device}: where the recurrent layers run. */
enum Device {
    AUTO, CPU, CUDA;

    /** The backend chosen for a device and precision, and how to name it in summaries. */
    record Choice(RecurrentBackend backend, String description) {
    }

    /**
     * AUTO runs on CUDA when it is usable and otherwise on the CPU, saying why in one line on
     * {@code err}; CUDA fails with what is missing; TF32 needs CUDA.
     */
    Choice resolve(String precision, PrintStream err) {
        String cudaMissing = "this build of rnnrt has no CUDA backend yet";
        switch (this) {
            case CUDA:
                throw new CliException("--device cuda was requested but CUDA cannot be used: " + cudaMissing
                        + ". Use --device auto or --device cpu to run on the CPU.");
            case AUTO:
                if (precision.equals("tf32")) {
                    throw new CliException("--precision tf32 needs a CUDA device, and " + cudaMissing
                            + ". Use --precision fp32.");
                }
                err.println("rnnrt: running on the CPU (" + cudaMissing + ").");
                return cpu();
            default:
                if (precision.equals("tf32")) {
                    throw new CliException("--precision tf32 applies to CUDA; the CPU computes in fp32. "
                            + "Use --precision fp32 with --device cpu.");
                }
                return cpu();
        }
    }

    private static Choice cpu() {
        return new Choice(RecurrentCpu.INSTANCE, "cpu (" + RecurrentCpu.INSTANCE.name() + ")");
    }
}
