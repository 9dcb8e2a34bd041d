package dev.rnnrt.backend.cuda;

import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.cpu.RecurrentFuzzContract;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;

/**
 * {@link RecurrentFuzzContract}'s random cases on the CUDA backend (fp32), drawn among the ways it
 * runs a layer: the default (graphs, fused step kernels up to batch 16), launches on the stream
 * without graphs, fused steps up to the kernels' own batch limit, no fused steps (a cuBLAS GEMM and a
 * gate kernel per step), and rnnrt's own SGEMM kernel in place of cuBLAS. Skips, with the reason,
 * where no GPU is usable.
 */
@Tag("gpu")
class RecurrentCudaFuzzTest extends RecurrentFuzzContract {

    private final List<RecurrentCuda> variants = new ArrayList<>();

    @BeforeAll
    void open() {
        if (CudaProbe.status().usable()) {
            variants.add(RecurrentCuda.open(false, true));
            variants.add(RecurrentCuda.open(false, false));
            variants.add(RecurrentCuda.open(false, true, WorkspacePlan.FUSED_KERNEL_MAX_BATCH));
            variants.add(RecurrentCuda.open(false, true, 0));
            variants.add(RecurrentCuda.open(false, true, RecurrentCuda.DEFAULT_FUSED_MAX_BATCH, false));
        }
    }

    /** Per case, so that every skipped case is reported with the reason. */
    @BeforeEach
    void needsAGpu() {
        GpuAvailable.assume();
    }

    @AfterAll
    void close() {
        for (RecurrentCuda v : variants) {
            v.close();
        }
    }

    @Override
    protected List<RecurrentBackend> fastBackends() {
        return List.copyOf(variants);
    }

    @Override
    protected String rerunCommand() {
        return "(on a GPU, or with the emulator's libraries of cuda/emu/build.sh first on LD_LIBRARY_PATH) "
                + super.rerunCommand();
    }
}
