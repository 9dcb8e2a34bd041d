package dev.rnnrt.api;

import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import dev.rnnrt.backend.cpu.reference.RecurrentReference;
import dev.rnnrt.backend.cuda.CudaProbe;
import dev.rnnrt.backend.cuda.CudaStatus;
import dev.rnnrt.backend.cuda.CudaUnavailableException;
import dev.rnnrt.backend.cuda.RecurrentCuda;
import java.util.function.Consumer;

/**
 * Where the recurrent layers run, for library users (the command line's {@code --device} says the
 * same). {@link #AUTO} takes CUDA when it is usable and otherwise the fast CPU path, logging the
 * reason in one line; {@link #CUDA} fails instead, naming what is missing and what to install.
 * Nothing touches JCuda's classes unless AUTO or CUDA is opened, and even then only through
 * {@link CudaProbe}, which turns a missing driver into a reason instead of a crash.
 */
public enum Backend {
    /** CUDA when usable, else {@link #CPU} with one logged line saying why. */
    AUTO,
    /** The float64 reference loops: slow, the definition of the right answer. */
    CPU_REFERENCE,
    /** The fast CPU path. */
    CPU,
    /** The CUDA backend; fails naming what is missing when it cannot run. */
    CUDA;

    private static final System.Logger LOG = System.getLogger("dev.rnnrt.backend");

    /**
     * An opened backend. Close it when done: for CUDA that frees the device weights, workspace
     * and context; for the CPU it does nothing.
     *
     * @param backend     what the layers run on ({@code RecurrentLayerBuilder.backend})
     * @param description the backend and, for CUDA, the device and GEMM engine
     * @param owned       what close releases, or null
     */
    public record Opened(RecurrentBackend backend, String description, AutoCloseable owned) implements AutoCloseable {
        @Override
        public void close() {
            if (owned != null) {
                try {
                    owned.close();
                } catch (Exception e) {
                    throw new IllegalStateException("Closing " + description + " failed: " + e.getMessage(), e);
                }
            }
        }
    }

    /** Opens this backend in fp32. */
    public Opened open() {
        return open(false);
    }

    /**
     * Opens this backend.
     *
     * @param tf32 TF32 tensor-core GEMMs on CUDA (relative error up to about 5e-3); only CUDA and
     *             AUTO accept it, and AUTO falling back to the CPU computes in fp32 and says so
     * @throws CudaUnavailableException for {@link #CUDA} when CUDA cannot be used here
     */
    public Opened open(boolean tf32) {
        return open(tf32, line -> LOG.log(System.Logger.Level.INFO, line));
    }

    /**
     * Opens this backend, giving AUTO's one line about falling back to the CPU to {@code log}
     * instead of {@link System.Logger} (a command line prints it).
     *
     * @throws CudaUnavailableException for {@link #CUDA} when CUDA cannot be used here
     */
    public Opened open(boolean tf32, Consumer<String> log) {
        return open(tf32, this == CPU || this == CPU_REFERENCE ? null : CudaProbe.status(), log);
    }

    /** The decision, with the probe's status and the log passed in so that it is tested without a GPU. */
    Opened open(boolean tf32, CudaStatus status, Consumer<String> log) {
        switch (this) {
            case CPU_REFERENCE, CPU -> {
                if (tf32) {
                    throw new IllegalArgumentException("TF32 applies to CUDA; Backend." + this
                            + " computes in " + (this == CPU ? "fp32" : "float64") + ". Open it with tf32=false.");
                }
                return this == CPU ? cpu() : new Opened(RecurrentReference.INSTANCE,
                        "cpu reference (" + RecurrentReference.INSTANCE.name() + ")", null);
            }
            default -> {
                // AUTO or CUDA
            }
        }
        if (!status.usable()) {
            if (this == CUDA) {
                throw new CudaUnavailableException("Backend CUDA was requested but CUDA cannot be used here: "
                        + status.describe() + ". Use Backend.AUTO or Backend.CPU to run on the CPU.", null);
            }
            log.accept("rnnrt: running on the CPU" + (tf32 ? " in fp32" : "") + " (CUDA cannot be used: "
                    + status.describe() + ").");
            return cpu();
        }
        try {
            RecurrentCuda cuda = RecurrentCuda.open(tf32);
            if (tf32 && !cuda.tf32()) {
                log.accept("rnnrt: TF32 needs cuBLAS, which could not be loaded; computing in fp32 on rnnrt's own "
                        + "GEMM kernel.");
            }
            return new Opened(cuda, "cuda (" + status.device() + ", " + cuda.name() + ")", cuda);
        } catch (CudaUnavailableException e) {
            if (this == CUDA) {
                throw new CudaUnavailableException(e.getMessage() + " Use Backend.AUTO or Backend.CPU to run on the CPU.",
                        e);
            }
            log.accept("rnnrt: running on the CPU" + (tf32 ? " in fp32" : "") + " (" + e.getMessage() + ").");
            return cpu();
        }
    }

    private static Opened cpu() {
        return new Opened(RecurrentCpu.INSTANCE, "cpu (" + RecurrentCpu.INSTANCE.name() + ")", null);
    }
}
