package dev.rnnrt.backend.cuda;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Mask;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentCall;
import dev.rnnrt.backend.RecurrentResult;
import dev.rnnrt.backend.StackCall;
import dev.rnnrt.backend.StackStage;
import dev.rnnrt.backend.cpu.RecurrentCpu;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraphExec;
import jcuda.driver.JCudaDriver;

/**
 * The CUDA backend: the input projection of every timestep as ONE GEMM ([B·T, I] × [I, G], x as
 * given, the input bias added by the kernels that read it), then per step the recurrent GEMM ([B, H] × [H, G]) on cuBLAS (or rnnrt's
 * sgemm_v1 kernel when cuBLAS 12 is missing) and ONE fused kernel from cuda/ that applies the
 * activations, updates h and c, applies the mask and writes the output slice. GRU with
 * reset_after=False takes two kernels around a second GEMM, (r⊙h)·U_h. At batches up to
 * {@value #DEFAULT_FUSED_MAX_BATCH}, an LSTM or GRU (reset_after) step is ONE kernel that computes
 * h·U and the gates together (cuda/recurrent_fused.cu): there a cuBLAS GEMM fills few SMs and
 * costs a launch of its own.
 *
 * <p>Weights are uploaded once per layer and kept; the workspaces ({@link WorkspacePlan}) of the
 * last {@value #KEPT_WORKSPACES} shapes (and lanes) are kept and reused by calls with those shapes,
 * and nothing is allocated inside the time loop. Calls are serialised on the one context; the calls
 * given together to {@link #forwardAll} (the two directions of a Bidirectional layer) run at the
 * same time, each on a stream of its own with its own cuBLAS handle and workspace
 * ({@link CudaContext.Lane}). fp32 by default, TF32 tensor-core GEMMs when opened with
 * {@code tf32}. By default the input GEMM and the step loop are captured once per shape, layer and
 * lane into a CUDA graph and replayed, which removes most of the launch cost per step (measured in
 * benchmarks/results/). A stack of layers ({@link #forwardStack}: stacked recurrent layers and their
 * Dense heads) runs with its values kept on the device; only the last layer's output is copied back.
 *
 * <p>Its tests ({@code @Tag("gpu")}) run on a GPU machine and skip elsewhere.
 */
public final class RecurrentCuda implements RecurrentBackend, AutoCloseable {

    private final CudaContext ctx;
    private final boolean tf32;
    private final boolean graphs;
    /** Batches up to this run each step as one fused kernel (LSTM, GRU reset_after); 0: never. */
    private final int fusedMaxBatch;
    /**
     * Held by every call of every instance, and while one opens: the instances of a process share
     * the device's primary context, and one instance's uploads, copies and allocations on the legacy
     * stream must not run while another captures a graph on one of its streams (CUDA forbids it; the
     * capture would fail).
     */
    private static final Object DEVICE = new Object();

    /**
     * Captured step loops of the kept workspaces, one per workspace, layer (its weights) and loop. A
     * graph records device pointers, so the workspace and the weights must outlive it: it is
     * destroyed with the workspace it was captured on, or with the weights.
     */
    private final Map<GraphKey, CUgraphExec> graphCache = new HashMap<>();
    /** Device weights per layer, keyed on its kernel tensor, freed once that tensor is collected. */
    private final WeakIdentityCache<Tensor, DeviceBuffer[]> weights = new WeakIdentityCache<>();
    /**
     * The workspaces of the last {@value #KEPT_WORKSPACES} shapes and lanes, so that the layers of a
     * stack (each its own shape) keep theirs and their graphs across calls; freeing one destroys the
     * graphs captured on it.
     */
    private final KeptCache<Slot, Workspace> workspaces = new KeptCache<>(KEPT_WORKSPACES, this::drop);
    /**
     * Room for a stack of four layers, or of two Bidirectional ones (a workspace per direction). A
     * stack call with more shapes keeps them all: the workspaces of the call running are never freed.
     */
    static final int KEPT_WORKSPACES = 4;
    /** The output buffers of the Dense and Bidirectional stages of stacks ({@link #forwardStack}). */
    private final KeptCache<HeadSlot, DeviceBuffer> heads = new KeptCache<>(KEPT_HEADS, (slot, buffer) -> buffer.close());
    static final int KEPT_HEADS = 8;
    /** How many stack calls ran, for tests. */
    private long stackCalls;

    /** A Dense or Bidirectional stage's output buffer: its place in the stack and its float count. */
    private record HeadSlot(int stage, long count) {
    }

    /** A workspace's shape and the lane it serves: calls run together never share one. */
    private record Slot(WorkspacePlan plan, int lane) {
    }

    /** What forward is doing, for the message when a CUDA call fails. */
    private String phase = "";
    private boolean closed;

    /** What a captured step loop depends on beyond its workspace's shape; workspace and weights by identity. */
    private record GraphKey(Workspace workspace, DeviceBuffer[] weights, Activation activation,
                            Activation recurrentActivation, LoopSpec loop) {
        @Override
        public boolean equals(Object o) {
            return o instanceof GraphKey k && k.workspace == workspace && k.weights == weights
                    && k.activation == activation && k.recurrentActivation == recurrentActivation && k.loop.equals(loop);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(workspace) * 31 + System.identityHashCode(weights);
        }
    }

    private RecurrentCuda(CudaContext ctx, boolean tf32, boolean graphs, int fusedMaxBatch) {
        this.ctx = ctx;
        this.tf32 = tf32;
        this.graphs = graphs;
        this.fusedMaxBatch = fusedMaxBatch;
    }

    /**
     * Opens device 0, with CUDA graphs.
     *
     * @throws CudaUnavailableException naming what is missing (driver, device, kernels) and what to install
     */
    public static RecurrentCuda open(boolean tf32) {
        return open(tf32, true);
    }

    /**
     * Opens device 0; with {@code graphs}, the input GEMM and the step loop of each shape and layer
     * are captured once into a CUDA graph and replayed on later calls (fewer launch costs); without,
     * every call launches each step's kernels and GEMMs.
     *
     * @throws CudaUnavailableException naming what is missing (driver, device, kernels) and what to install
     */
    public static RecurrentCuda open(boolean tf32, boolean graphs) {
        return open(tf32, graphs, DEFAULT_FUSED_MAX_BATCH);
    }

    /**
     * Batches up to this size run each LSTM / GRU (reset_after) step as one fused kernel instead of
     * a cuBLAS GEMM and a gate kernel; larger ones use cuBLAS, whose tiles fill the GPU there.
     */
    static final int DEFAULT_FUSED_MAX_BATCH = 16;

    /** As {@link #open(boolean, boolean)}, with the batch limit of the fused step kernels (0: never fused). */
    static RecurrentCuda open(boolean tf32, boolean graphs, int fusedMaxBatch) {
        return open(tf32, graphs, fusedMaxBatch, true);
    }

    /** As {@link #open(boolean, boolean, int)}; without {@code cublas}, every GEMM runs on rnnrt's SGEMM kernel. */
    static RecurrentCuda open(boolean tf32, boolean graphs, int fusedMaxBatch, boolean cublas) {
        CudaStatus status = CudaProbe.status();
        if (!status.usable()) {
            throw new CudaUnavailableException("CUDA cannot be used here: " + status.describe() + ".", null);
        }
        try {
            synchronized (DEVICE) {
                return new RecurrentCuda(new CudaContext(tf32, cublas), tf32, graphs, fusedMaxBatch);
            }
        } catch (RuntimeException | LinkageError e) {
            throw new CudaUnavailableException("CUDA could not be started on " + status.device() + ": " + e.getMessage(), e);
        }
    }

    /** Whether GEMMs run as TF32: asked for, and on cuBLAS (rnnrt's own kernels compute in fp32). */
    public boolean tf32() {
        return tf32 && ctx.usesCublas();
    }

    @Override
    public String name() {
        return "cuda-" + (ctx.usesCublas() ? "cublas" : "sgemm_v1") + (tf32() ? "-tf32" : "-fp32")
                + (graphs ? "-graph" : "");
    }

    /** x is [B, T, I], mask [B, T] or null, states each [B, H]. */
    @Override
    public RecurrentResult forward(CellSpec cell, LoopSpec loop, Tensor x, Mask mask, List<Tensor> initialState) {
        return forwardAll(List.of(new RecurrentCall(cell, loop, x, mask, initialState))).get(0);
    }

    /**
     * Runs the calls {@value CudaContext#LANES} at a time, each of a group on a stream of its own, so
     * that the two directions of a Bidirectional layer run at the same time: every call's inputs are
     * uploaded, then each call's loop is put on its lane (replaying its graph), then the host waits
     * for all of them and downloads the outputs.
     */
    @Override
    public List<RecurrentResult> forwardAll(List<RecurrentCall> calls) {
        synchronized (DEVICE) {
            return forwardAllLocked(calls);
        }
    }

    private synchronized List<RecurrentResult> forwardAllLocked(List<RecurrentCall> calls) {
        checkOpen();
        List<RecurrentResult> out = new ArrayList<>(calls.size());
        for (int from = 0; from < calls.size(); from += CudaContext.LANES) {
            out.addAll(runTogether(calls.subList(from, Math.min(calls.size(), from + CudaContext.LANES))));
        }
        return out;
    }

    /** The refusal of a call after {@link #close()}: what was closed and what to do. */
    static final String CLOSED = "The CUDA backend (RecurrentCuda) was used after it was closed. Close it (or the "
            + "Backend.Opened holding it) only once the layers and models built with it are done; to run again, open a "
            + "new one (Backend.CUDA.open()) and build or load the model with it.";

    /** Checks that the backend is not closed and makes its context current. */
    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(CLOSED);
        }
        ctx.makeCurrent();
    }

    /** One call of a group: its lane, plan, workspace and weights. */
    private record Staged(RecurrentCall call, CudaContext.Lane lane, WorkspacePlan plan, Workspace ws, DeviceBuffer[] w,
                          Pointer mask) {
    }

    /** At most {@value CudaContext#LANES} calls, call k on lane k. */
    private List<RecurrentResult> runTogether(List<RecurrentCall> group) {
        List<Staged> staged = new ArrayList<>(group.size());
        Set<Slot> pinned = new HashSet<>();
        WorkspacePlan plan = null;
        try {
            phase = "release of weights no layer uses any more";
            freeUnusedWeights();
            for (int k = 0; k < group.size(); k++) {
                RecurrentCall c = group.get(k);
                plan = planOf(c);
                phase = "upload of the weights";
                DeviceBuffer[] w = deviceWeights(c.cell());
                phase = "allocation of the workspace (" + plan.totalBytes() + " bytes)";
                Slot slot = new Slot(plan, k);
                pinned.add(slot);
                Workspace ws = workspace(slot, pinned);
                phase = "upload of the inputs";
                staged.add(new Staged(c, ctx.lane(k), plan, ws, w, upload(c, plan, ws)));
            }
            for (Staged st : staged) {
                plan = st.plan();
                enqueue(st);
            }
            phase = "synchronisation after the time loop (a kernel or GEMM of the loop failed)";
            ctx.synchronize();
            List<RecurrentResult> out = new ArrayList<>(staged.size());
            for (Staged st : staged) {
                plan = st.plan();
                phase = "download of the outputs";
                out.add(download(st));
            }
            return out;
        } catch (jcuda.CudaException e) {
            throw new CudaFailure(phase, plan, CudaProbe.status().device(), e);
        }
    }

    @Override
    public boolean keepsStacks() {
        return true;
    }

    /**
     * Dense layers outside a stack compute on the host with the fast CPU path's SGEMM; those in a
     * stack run on the device ({@link #forwardStack}).
     */
    @Override
    public float[] affine(float[] x, int rows, Tensor kernel, Tensor bias) {
        return RecurrentCpu.INSTANCE.affine(x, rows, kernel, bias);
    }

    /**
     * Runs a stack with its values kept on the device. Every buffer is found or allocated first
     * (none that the stack uses is freed), then x and the mask are uploaded; then each recurrent
     * stage copies the stage before's output into its workspace on the device, starts from zero
     * states and runs its loop on lane 0 (its graph replayed, as {@link #forward} does); a
     * Bidirectional stage does so for each direction, the second on lane 1 at the same time, then
     * lane 0 waits for lane 1 and one kernel merges the two outputs; each Dense stage is one GEMM
     * into a buffer of its own and one kernel that adds the bias and applies the activation. The
     * host waits once, at the end, and copies back the last stage's output. Stages with equal
     * shapes on one lane share a workspace: they run one after the other.
     */
    @Override
    public Tensor forwardStack(StackCall call) {
        synchronized (DEVICE) {
            return forwardStackLocked(call);
        }
    }

    private synchronized Tensor forwardStackLocked(StackCall call) {
        checkOpen();
        List<StackStage> stages = call.stages();
        int n = stages.size();
        int b = call.batch();
        int t = call.timesteps();
        boolean masked = call.mask() != null;
        WorkspacePlan plan = null;
        try {
            phase = "release of weights no layer uses any more";
            freeUnusedWeights();
            List<Prepared> prepared = new ArrayList<>(n);
            Set<Slot> pinned = new HashSet<>();
            Set<HeadSlot> pinnedHeads = new HashSet<>();
            int width = call.x().dim(2);
            boolean sequences = true;
            for (int k = 0; k < n; k++) {
                StackStage stage = stages.get(k);
                List<Direction> dirs = new ArrayList<>(2);
                if (stage instanceof StackStage.Recurrent r) {
                    dirs.add(direction(k, r, 0, b, t, width, masked, pinned));
                } else if (stage instanceof StackStage.Bidirectional bi) {
                    dirs.add(direction(k, bi.forward(), 0, b, t, width, masked, pinned));
                    dirs.add(direction(k, bi.backward(), 1, b, t, width, masked, pinned));
                }
                if (!dirs.isEmpty()) {
                    sequences = dirs.get(0).stage().loop().returnSequences();
                }
                int rows = sequences ? b * t : b;
                DeviceBuffer out = null;
                DeviceBuffer[] denseWeights = null;
                long count = (long) rows * stage.outputSize();
                if (count > Integer.MAX_VALUE - 8) {
                    // every stage's output could be the one copied back into a Java array
                    throw new IllegalArgumentException("Stage " + k + " of the stack (" + stage.outputSize()
                            + " features) would output " + count + " values, more than a Java array holds (2^31 - 9); "
                            + "call the model on fewer sequences at a time.");
                }
                if (!(stage instanceof StackStage.Recurrent)) {
                    if (stage instanceof StackStage.Dense d) {
                        phase = "upload of the weights of stage " + k + " (Dense)";
                        denseWeights = denseWeights(d);
                    }
                    phase = "allocation of the output of stage " + k + " (" + count * Float.BYTES + " bytes)";
                    HeadSlot slot = new HeadSlot(k, count);
                    pinnedHeads.add(slot);
                    out = head(slot, pinnedHeads);
                }
                prepared.add(new Prepared(stage, dirs, out, denseWeights, rows));
                width = stage.outputSize();
            }
            phase = "upload of the input";
            for (Direction d : prepared.get(0).directions()) {
                plan = d.plan();
                d.ws().get("x").upload(call.x().data(), call.x().size());
            }
            if (masked) {
                phase = "upload of the mask";
                byte[] m = maskBytes(call.mask(), b, t);
                for (Prepared p : prepared) {
                    for (Direction d : p.directions()) {
                        JCudaDriver.cuMemcpyHtoD(d.ws().get("mask").ptr(), Pointer.to(m), m.length);
                    }
                }
            }
            CudaContext.Lane lane = ctx.lane(0);
            CUdeviceptr previous = null;
            long previousCount = 0;
            for (int k = 0; k < n; k++) {
                Prepared p = prepared.get(k);
                StackStage stage = p.stage();
                phase = "start of stage " + k;
                // on the legacy stream, ordered after the work of both lanes (blocking streams). Every
                // direction takes its copy of the input before any is reset: the previous stage's
                // output can be the sequence buffer of a workspace a direction here shares with it
                // (equal plans on one lane), which resetStates poisons.
                if (k > 0) {
                    for (Direction d : p.directions()) {
                        plan = d.plan();
                        JCudaDriver.cuMemcpyDtoD(d.ws().get("x").ptr(), previous, previousCount * Float.BYTES);
                    }
                }
                for (Direction d : p.directions()) {
                    plan = d.plan();
                    resetStates(d.stage().cell(), d.plan(), d.ws());
                }
                for (Direction d : p.directions()) {
                    plan = d.plan();
                    Pointer mask = masked ? d.ws().get("mask").ptr() : new CUdeviceptr();
                    enqueue(d.lane(), d.stage().cell(), d.stage().loop(), d.plan(), d.ws(), d.w(), mask);
                }
                plan = null;
                if (stage instanceof StackStage.Recurrent) {
                    previous = p.directions().get(0).output();
                } else if (stage instanceof StackStage.Bidirectional bi) {
                    phase = "stage " + k + " (Bidirectional merge)";
                    lane.waitFor(ctx.lane(1));
                    boolean seq = bi.returnsSequences();
                    int count = p.rows() * bi.outputSize();
                    lane.launch("bidirectional_merge_v1", count, count, seq ? t : 1, bi.forward().outputSize(),
                            bi.backward().outputSize(), seq ? 1 : 0, bi.merge().ordinal(),
                            p.directions().get(0).output(), p.directions().get(1).output(), p.out().ptr());
                    previous = p.out().ptr();
                } else if (stage instanceof StackStage.Dense d) {
                    int in = d.inputSize();
                    int units = d.outputSize();
                    phase = "stage " + k + " (Dense GEMM and bias/activation kernel)";
                    lane.gemm(previous, in, p.denseWeights()[0].ptr(), units, p.out().ptr(), units, p.rows(), units, in,
                            false);
                    Pointer bias = p.denseWeights()[2] == null ? new CUdeviceptr() : p.denseWeights()[2].ptr();
                    int count = p.rows() * units;
                    lane.launch("dense_bias_activation_v1", count, count, units, p.out().ptr(), bias,
                            d.activation().ordinal());
                    previous = p.out().ptr();
                }
                previousCount = (long) p.rows() * stage.outputSize();
            }
            phase = "synchronisation after the stack (a kernel or GEMM of it failed)";
            ctx.synchronize();
            Tensor out = Tensor.zeros(call.outputShape());
            phase = "download of the output";
            JCudaDriver.cuMemcpyDtoH(Pointer.to(out.data()), previous, (long) out.size() * Float.BYTES);
            stackCalls++;
            return out;
        } catch (jcuda.CudaException e) {
            throw new CudaFailure(phase + " of a stack of " + n + " layers", plan, CudaProbe.status().device(), e);
        }
    }

    /** One recurrent direction of a stack stage, ready to run: its lane, plan, workspace and weights. */
    private record Direction(StackStage.Recurrent stage, CudaContext.Lane lane, WorkspacePlan plan, Workspace ws,
                             DeviceBuffer[] w) {
        /** Where its output is: the sequence, or the last step's output. */
        CUdeviceptr output() {
            return stage.loop().returnSequences() ? ws.get("seq").ptr() : ws.get("prev").ptr();
        }
    }

    /**
     * A stack stage ready to run: its recurrent directions (one, two for Bidirectional, none for
     * Dense), its output buffer (Dense and Bidirectional), the Dense weights, and its output rows.
     */
    private record Prepared(StackStage stage, List<Direction> directions, DeviceBuffer out, DeviceBuffer[] denseWeights,
                            int rows) {
    }

    /** A direction of stage k on lane {@code laneIndex}: its weights on the device and its workspace, pinned. */
    private Direction direction(int k, StackStage.Recurrent r, int laneIndex, int b, int t, int width, boolean masked,
                                Set<Slot> pinned) {
        WorkspacePlan plan = WorkspacePlan.of(r.cell(), r.loop(), b, t, width, masked, fusedMaxBatch,
                ctx.fusedSharedBytes());
        phase = "upload of the weights of stage " + k + " (" + plan.describe() + ")";
        DeviceBuffer[] w = deviceWeights(r.cell());
        phase = "allocation of the workspace of stage " + k + " (" + plan.describe() + ", " + plan.totalBytes()
                + " bytes)";
        Slot slot = new Slot(plan, laneIndex);
        pinned.add(slot);
        return new Direction(r, ctx.lane(laneIndex), plan, workspace(slot, pinned), w);
    }

    /** How many stack calls ran to the end; for tests. */
    synchronized long stackCalls() {
        return stackCalls;
    }

    /** Zero states for a stack stage, and its output sequence poisoned, on the legacy stream (ordered with lane 0). */
    private static void resetStates(CellSpec cell, WorkspacePlan plan, Workspace ws) {
        long bh = (long) plan.batch() * plan.units();
        JCudaDriver.cuMemsetD32(ws.get("h").ptr(), 0, bh);
        if (cell.kind() == CellKind.LSTM) {
            JCudaDriver.cuMemsetD32(ws.get("c").ptr(), 0, bh);
        }
        JCudaDriver.cuMemsetD32(ws.get("prev").ptr(), 0, bh);
        if (plan.sequences()) {
            ws.get("seq").poison(bh * plan.timesteps());
        }
    }

    /** The mask as the kernels read it: one byte per [b, t], batch-major. */
    private static byte[] maskBytes(Mask mask, int b, int t) {
        byte[] m = new byte[b * t];
        for (int i = 0; i < b; i++) {
            for (int s = 0; s < t; s++) {
                m[i * t + s] = (byte) (mask.get(i, s) ? 1 : 0);
            }
        }
        return m;
    }

    /** A Dense or Bidirectional stage's output buffer: kept from an earlier call, or new. */
    private DeviceBuffer head(HeadSlot slot, Set<HeadSlot> pinned) {
        return heads.get(slot, pinned, k -> new DeviceBuffer("output of stack stage " + k.stage(), k.count()));
    }

    /** A Dense stage's weights on the device, uploaded on first use: kernel, null, bias or null, null. */
    private DeviceBuffer[] denseWeights(StackStage.Dense d) {
        return weights.get(d.kernel(), k -> {
            DeviceBuffer[] w = new DeviceBuffer[4];
            try {
                w[0] = upload("Dense kernel", d.kernel());
                w[2] = d.bias() == null ? null : upload("Dense bias", d.bias());
                return w;
            } catch (RuntimeException e) {
                close(w);                                  // what was uploaded before the failure
                throw e;
            }
        });
    }

    private WorkspacePlan planOf(RecurrentCall c) {
        Tensor x = c.x();
        return WorkspacePlan.of(c.cell(), c.loop(), x.dim(0), x.dim(1), x.dim(2), c.mask() != null, fusedMaxBatch,
                ctx.fusedSharedBytes());
    }

    /**
     * The workspace for this shape and lane: a kept one when a recent call had them, else a new one
     * ({@link KeptCache}: none that the running call uses, {@code pinned}, is freed for it). Two calls
     * of one group never share a workspace (their lanes differ).
     */
    private Workspace workspace(Slot slot, Set<Slot> pinned) {
        return workspaces.get(slot, pinned, s -> new Workspace(s.plan()));
    }

    /** Copies the input, initial states and mask to the workspace (on the legacy stream); returns the mask pointer. */
    private Pointer upload(RecurrentCall c, WorkspacePlan plan, Workspace ws) {
        int b = plan.batch();
        int t = plan.timesteps();
        int in = plan.inputSize();
        int h = plan.units();
        DeviceBuffer hs = ws.get("h");
        // [B·T, I] as given (batch-major): the kernels find step t's row of b at proj + (b·T + t)·G
        ws.get("x").upload(c.x().data(), b * t * in);
        hs.upload(c.initialState().get(0).data(), b * h);
        if (c.cell().kind() == CellKind.LSTM) {
            ws.get("c").upload(c.initialState().get(1).data(), b * h);
        }
        JCudaDriver.cuMemsetD32(ws.get("prev").ptr(), 0, (long) b * h);
        if (c.loop().returnSequences()) {
            ws.get("seq").poison((long) b * t * h);
        }
        Mask mask = c.mask();
        if (mask == null) {
            return new CUdeviceptr();
        }
        byte[] m = maskBytes(mask, b, t);
        JCudaDriver.cuMemcpyHtoD(ws.get("mask").ptr(), Pointer.to(m), m.length);
        return ws.get("mask").ptr();
    }

    /** Puts the call's loop on its lane: its graph's replay (captured on first use), or the launches. */
    private void enqueue(Staged st) {
        enqueue(st.lane(), st.call().cell(), st.call().loop(), st.plan(), st.ws(), st.w(), st.mask());
    }

    /** Puts a loop on its lane: its graph's replay (captured on first use), or the launches. */
    private void enqueue(CudaContext.Lane lane, CellSpec cell, LoopSpec loop, WorkspacePlan plan, Workspace ws,
                         DeviceBuffer[] w, Pointer mask) {
        if (graphs) {
            GraphKey key = new GraphKey(ws, w, cell.activation(), cell.recurrentActivation(), loop);
            CUgraphExec exec = graphCache.get(key);
            if (exec == null) {
                phase = "capture of the step loop into a CUDA graph";
                exec = lane.capture(() -> enqueueLoop(lane, cell, loop, plan, ws, w, mask));
                graphCache.put(key, exec);
            }
            phase = "replay of the step loop's CUDA graph";
            lane.replay(exec);
        } else {
            enqueueLoop(lane, cell, loop, plan, ws, w, mask);
        }
    }

    /** The output and final states of a finished call. */
    private static RecurrentResult download(Staged st) {
        WorkspacePlan plan = st.plan();
        Workspace ws = st.ws();
        LoopSpec loop = st.call().loop();
        int b = plan.batch();
        int t = plan.timesteps();
        int h = plan.units();
        float[] out = new float[loop.returnSequences() ? b * t * h : b * h];
        (loop.returnSequences() ? ws.get("seq") : ws.get("prev")).download(out, out.length);
        List<Tensor> states = new ArrayList<>();
        float[] hOut = new float[b * h];
        // fused steps alternate between h and h2: step p writes h2 when p is even
        (plan.fused() && t % 2 == 1 ? ws.get("h2") : ws.get("h")).download(hOut, hOut.length);
        states.add(Tensor.wrap(hOut, b, h));
        if (st.call().cell().kind() == CellKind.LSTM) {
            float[] cOut = new float[b * h];
            ws.get("c").download(cOut, cOut.length);
            states.add(Tensor.wrap(cOut, b, h));
        }
        Tensor output = loop.returnSequences() ? Tensor.wrap(out, b, t, h) : Tensor.wrap(out, b, h);
        return new RecurrentResult(output, states);
    }

    /**
     * Puts the input projection and the whole time loop on the stream: launches and GEMMs only,
     * so that it can be captured into a graph as it is.
     */
    private void enqueueLoop(CudaContext.Lane lane, CellSpec cell, LoopSpec loop, WorkspacePlan plan, Workspace ws,
                             DeviceBuffer[] w, Pointer maskPtr) {
        int b = plan.batch();
        int t = plan.timesteps();
        int in = plan.inputSize();
        int h = plan.units();
        int g = plan.gateWidth();
        int recWidth = plan.recurrentWidth();
        DeviceBuffer xs = ws.get("x");
        DeviceBuffer proj = ws.get("proj");
        DeviceBuffer hs = ws.get("h");
        DeviceBuffer prev = ws.get("prev");
        Pointer cs = cell.kind() == CellKind.LSTM ? ws.get("c").ptr() : new CUdeviceptr();
        phase = "input projection GEMM";
        // proj[B·T, G] = x[B·T, I] · W[I, G]; the kernels add the input bias as they read it
        lane.gemm(xs.ptr(), in, w[0].ptr(), g, proj.ptr(), g, b * t, g, in, false);
        Pointer inBias = w[2] == null ? new CUdeviceptr() : w[2].ptr();
        // GRU reset_after: the recurrent bias row, added by the gate kernels to h·U
        Pointer recBias = w[2] == null || !cell.resetAfter() || cell.kind() != CellKind.GRU ? new CUdeviceptr()
                : w[2].at(g);
        int stride = t * g;
        Pointer seqPtr = loop.returnSequences() ? ws.get("seq").ptr() : new CUdeviceptr();
        Pointer z = plan.resetBefore() ? ws.get("z").ptr() : null;
        Pointer rh = plan.resetBefore() ? ws.get("rh").ptr() : null;
        Pointer hz = plan.resetBefore() ? ws.get("hz").ptr() : null;
        int zero = loop.zeroOutputForMask() ? 1 : 0;
        int act = cell.activation().ordinal();
        int recAct = cell.recurrentActivation().ordinal();
        if (plan.fused()) {
            enqueueFusedSteps(lane, cell, loop, plan, ws, w, inBias, recBias, seqPtr, maskPtr, zero, act, recAct);
            return;
        }
        DeviceBuffer rec = ws.get("rec");
        for (int p = 0; p < t; p++) {
            int step = loop.goBackwards() ? t - 1 - p : p;
            phase = "step " + p + " (recurrent GEMM and fused kernel)";
            Pointer projT = proj.at((long) step * g);
            // rec[B, width] = h[B, H] · U[H, 0:width]
            lane.gemm(hs.ptr(), h, w[1].ptr(), g, rec.ptr(), recWidth, b, recWidth, h, false);
            switch (cell.kind()) {
                case LSTM -> lane.launch("lstm_pointwise_v2", (long) b * h, b, h, t, p, step, projT, stride, inBias,
                        rec.ptr(), hs.ptr(), cs, prev.ptr(), seqPtr, maskPtr, zero, act, recAct);
                case SIMPLE_RNN -> lane.launch("simple_rnn_pointwise_v2", (long) b * h, b, h, t, p, step, projT, stride,
                        inBias, rec.ptr(), hs.ptr(), prev.ptr(), seqPtr, maskPtr, zero, act);
                case GRU -> {
                    if (!plan.resetBefore()) {
                        lane.launch("gru_reset_after_pointwise_v2", (long) b * h, b, h, t, p, step, projT, stride,
                                inBias, rec.ptr(), recBias, hs.ptr(), prev.ptr(), seqPtr, maskPtr, zero, act, recAct);
                    } else {
                        lane.launch("gru_reset_before_gates_v2", (long) b * h, b, h, projT, stride, inBias, rec.ptr(),
                                hs.ptr(), z, rh, recAct);
                        // hz[B, H] = (r⊙h)[B, H] · U[H, 2H:3H]
                        lane.gemm(rh, h, w[1].at(2L * h), g, hz, h, b, h, h, false);
                        lane.launch("gru_reset_before_update_v2", (long) b * h, b, h, t, p, step, projT, stride, inBias, hz,
                                z, hs.ptr(), prev.ptr(), seqPtr, maskPtr, zero, act);
                    }
                }
                default -> throw new IllegalStateException("No CUDA kernels for " + cell.kind());
            }
        }
    }

    /**
     * For benchmarks: the device time of the input GEMM and the step loop alone, without the
     * transfers of {@link #forward}: runs forward once on {@code x} (upload, and capture when
     * graphs are on), then times {@code reps} replays (or launch sequences) on the uploaded data with
     * CUDA events and returns each one's milliseconds. Each run continues from the state the last
     * one left, which changes no cost.
     */
    float[] timeDeviceLoop(CellSpec cell, LoopSpec loop, Tensor x, List<Tensor> initialState, int warmup, int reps) {
        synchronized (DEVICE) {
            return timeDeviceLoopLocked(cell, loop, x, initialState, warmup, reps);
        }
    }

    private synchronized float[] timeDeviceLoopLocked(CellSpec cell, LoopSpec loop, Tensor x,
                                                      List<Tensor> initialState, int warmup, int reps) {
        forward(cell, loop, x, null, initialState);
        WorkspacePlan plan = WorkspacePlan.of(cell, loop, x.dim(0), x.dim(1), x.dim(2), false, fusedMaxBatch,
                ctx.fusedSharedBytes());
        Slot slot = new Slot(plan, 0);
        Workspace ws = workspace(slot, Set.of(slot));
        DeviceBuffer[] w = deviceWeights(cell);
        CudaContext.Lane lane = ctx.lane(0);
        Runnable once;
        if (graphs) {
            CUgraphExec exec = graphCache.get(new GraphKey(ws, w, cell.activation(), cell.recurrentActivation(), loop));
            once = () -> lane.replay(exec);
        } else {
            Pointer noMask = new CUdeviceptr();
            once = () -> enqueueLoop(lane, cell, loop, plan, ws, w, noMask);
        }
        ctx.makeCurrent();
        return lane.time(once, warmup, reps);
    }

    /**
     * The time loop with one fused kernel per step (cuda/recurrent_fused.cu): h·Uᵀ and the gates,
     * reading h from one buffer and writing the other.
     */
    private void enqueueFusedSteps(CudaContext.Lane lane, CellSpec cell, LoopSpec loop, WorkspacePlan plan, Workspace ws, DeviceBuffer[] w,
                                   Pointer inBias, Pointer recBias, Pointer seqPtr, Pointer maskPtr, int zero,
                                   int act, int recAct) {
        DeviceBuffer proj = ws.get("proj");
        DeviceBuffer h = ws.get("h");
        DeviceBuffer h2 = ws.get("h2");
        DeviceBuffer prev = ws.get("prev");
        int b = plan.batch();
        int t = plan.timesteps();
        int units = plan.units();
        int g = plan.gateWidth();
        int blocks = (units + WorkspacePlan.FUSED_UNITS - 1) / WorkspacePlan.FUSED_UNITS;
        int sharedBytes = b * units * Float.BYTES; // h, copied by each block
        boolean lstm = cell.kind() == CellKind.LSTM;
        int stride = t * g;
        for (int p = 0; p < t; p++) {
            int step = loop.goBackwards() ? t - 1 - p : p;
            phase = "step " + p + " (fused recurrent product and gates)";
            Pointer projT = proj.at((long) step * g);
            Pointer in = (p % 2 == 0 ? h : h2).ptr();
            Pointer out = (p % 2 == 0 ? h2 : h).ptr();
            if (lstm) {
                lane.launchBlocks("lstm_step_fused_v2", blocks, sharedBytes, b, units, t, p, step, projT, stride, inBias,
                        w[3].ptr(), in, out, ws.get("c").ptr(), prev.ptr(), seqPtr, maskPtr, zero, act, recAct);
            } else {
                lane.launchBlocks("gru_step_fused_v2", blocks, sharedBytes, b, units, t, p, step, projT, stride, inBias,
                        w[3].ptr(), recBias, in, out, prev.ptr(), seqPtr, maskPtr, zero, act, recAct);
            }
        }
    }

    /** Frees the device weights of layers whose kernel tensors were collected, and their graphs. */
    private void freeUnusedWeights() {
        for (DeviceBuffer[] dead : weights.purge()) {
            graphCache.entrySet().removeIf(e -> {
                if (e.getKey().weights() == dead) {
                    ctx.destroy(e.getValue());
                    return true;
                }
                return false;
            });
            close(dead);
        }
    }

    private static void close(DeviceBuffer[] w) {
        for (DeviceBuffer d : w) {
            if (d != null) {
                d.close();
            }
        }
    }

    /** Destroys the graphs captured on the slot's workspace, then frees it. */
    private void drop(Slot slot, Workspace ws) {
        graphCache.entrySet().removeIf(e -> {
            if (e.getKey().workspace() == ws) {
                ctx.destroy(e.getValue());
                return true;
            }
            return false;
        });
        ws.close();
    }

    /** The layer's weights on the device, uploaded on first use: kernel, recurrent kernel, bias or null. */
    private DeviceBuffer[] deviceWeights(CellSpec cell) {
        return weights.get(cell.kernel(), k -> {
            DeviceBuffer[] w = new DeviceBuffer[4];
            try {
                w[0] = upload("kernel", cell.kernel());
                w[1] = upload("recurrent_kernel", cell.recurrentKernel());
                w[2] = cell.bias() == null ? null : upload("bias", cell.bias());
                if (fusedMaxBatch > 0 && (cell.kind() == CellKind.LSTM || cell.kind() == CellKind.GRU && cell.resetAfter())) {
                    // Uᵀ [G, H] for the fused step kernels, which read each gate column contiguously
                    w[3] = upload("recurrent_kernel (transposed)", transpose(cell.recurrentKernel()));
                }
                return w;
            } catch (RuntimeException e) {
                close(w);                                  // what was uploaded before the failure
                throw e;
            }
        });
    }

    private static Tensor transpose(Tensor m) {
        int rows = m.dim(0);
        int cols = m.dim(1);
        float[] src = m.data();
        float[] dst = new float[src.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                dst[c * rows + r] = src[r * cols + c];
            }
        }
        return Tensor.wrap(dst, cols, rows);
    }

    private static DeviceBuffer upload(String name, Tensor t) {
        DeviceBuffer b = new DeviceBuffer(name, t.size());
        try {
            b.upload(t.data(), t.size());
            return b;
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
    }

    /** Frees the weights and the context, all of it even where a release fails (the first failure is thrown). Idempotent. */
    @Override
    public void close() {
        synchronized (DEVICE) {
            closeLocked();
        }
    }

    private synchronized void closeLocked() {
        if (closed) {
            return;
        }
        closed = true;
        // each step even where one before failed: after a sticky CUDA error every free fails, and
        // the context must still be released (see Releases)
        Releases r = new Releases();
        r.run(ctx::makeCurrent);
        r.run(workspaces::clear);
        r.run(heads::clear);
        for (DeviceBuffer[] w : weights.clear()) {
            r.run(() -> close(w));
        }
        r.run(ctx::close);
        r.done();
    }
}
