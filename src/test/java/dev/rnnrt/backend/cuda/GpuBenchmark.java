package dev.rnnrt.backend.cuda;

import dev.rnnrt.api.Activation;
import dev.rnnrt.api.Tensor;
import dev.rnnrt.backend.CellKind;
import dev.rnnrt.backend.CellSpec;
import dev.rnnrt.backend.LoopSpec;
import dev.rnnrt.backend.RecurrentBackend;
import dev.rnnrt.backend.RecurrentCall;
import dev.rnnrt.backend.RecurrentResult;
import dev.rnnrt.backend.StackCall;
import dev.rnnrt.backend.StackStage;
import dev.rnnrt.io.npy.NpyWriter;
import dev.rnnrt.testing.RandomTensors;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUgraphExec;

/**
 * The GPU benchmark (a program, not a test): for each shape of the matrix, times the CUDA backend's
 * device work (input GEMM + step loop, CUDA events, median of {@value #REPS} after {@value #WARMUP}
 * warm-ups) as launches on a stream and as a CUDA-graph replay, in fp32 and TF32, and the whole
 * {@code forward} call with its transfers (host clock). It checks the variants against each other
 * and writes each case's weights, input and final states as .npy files, so that
 * {@code benchmarks/gpu/torch_cudnn.py} can check cuDNN's outputs against ours before timing it on
 * the same data. Then it measures where a batch-1 LSTM step's time goes. First of all it times
 * the two directions of a Bidirectional layer run together (two streams) against one after the other,
 * and a stack of three LSTM layers with a Dense head run as one stack call (values kept on the
 * device) against layer by layer (each layer's output copied to the host and back).
 *
 * <p>Usage: {@code GpuBenchmark OUT_DIR CASE_DIR [units,..] [batches,..] [times,..]}; run by
 * {@code benchmarks/gpu/run-gpu.sh} on a GPU machine.
 */
public final class GpuBenchmark {

    static final int WARMUP = 5;
    static final int REPS = 20;
    private static final LoopSpec SEQUENCES = new LoopSpec(false, true, false);

    private GpuBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args[0]);
        Path cases = Path.of(args[1]);
        int[] units = args.length > 2 ? ints(args[2]) : new int[] {128, 512, 1024};
        int[] batches = args.length > 3 ? ints(args[3]) : new int[] {1, 16, 64, 256};
        int[] times = args.length > 4 ? ints(args[4]) : new int[] {32, 256};
        Files.createDirectories(out);
        Files.createDirectories(cases);
        bidirectional(out.resolve("rnnrt-gpu-bidirectional.csv"), units);
        stacks(out.resolve("rnnrt-gpu-stack.csv"), units);
        // the default (fused steps up to DEFAULT_FUSED_MAX_BATCH) on a stream and as a graph, then
        // graphs with the fused steps off and on at every batch the kernels take, then TF32
        String[] variants = {"fp32-stream", "fp32-graph", "fp32-graph-gemm", "fp32-graph-fused", "tf32-graph"};
        RecurrentCuda[] cuda = {RecurrentCuda.open(false, false), RecurrentCuda.open(false, true),
            RecurrentCuda.open(false, true, 0), RecurrentCuda.open(false, true, WorkspacePlan.FUSED_KERNEL_MAX_BATCH),
            RecurrentCuda.open(true, true)};
        System.out.println("device: " + CudaProbe.status().describe() + "; engines: " + cuda[0].name() + ", "
                + cuda[4].name() + "; fused steps up to B=" + RecurrentCuda.DEFAULT_FUSED_MAX_BATCH);
        try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(out.resolve("rnnrt-gpu.csv")))) {
            csv.println("cell,units,time,batch,variant,median_ms,min_ms,rel_err_vs_fp32_stream");
            RandomTensors r = new RandomTensors(20261122L);
            for (CellKind kind : new CellKind[] {CellKind.LSTM, CellKind.GRU}) {
                for (int h : units) {
                    for (int t : times) {
                        for (int b : batches) {
                            measure(kind, h, t, b, r, cuda, variants, csv, cases);
                            csv.flush();
                        }
                    }
                }
            }
        } finally {
            for (RecurrentCuda c : cuda) {
                c.close();
            }
        }
        try (PrintWriter csv = new PrintWriter(Files.newBufferedWriter(out.resolve("rnnrt-gpu-breakdown.csv")))) {
            csv.println("units,time,batch,part,mode,us_per_step");
            for (int h : units) {
                breakdown(h, 256, 1, csv);
            }
            breakdown(512, 256, 64, csv);
            breakdown(512, 256, 256, csv);
        }
    }

    private static void measure(CellKind kind, int h, int t, int b, RandomTensors r, RecurrentCuda[] cuda,
                                String[] variants, PrintWriter csv, Path cases) throws IOException {
        boolean lstm = kind == CellKind.LSTM;
        CellSpec cell = randomCell(kind, h, r);
        Tensor x = r.uniform(1, b, t, h);
        List<Tensor> init = List.of(Tensor.zeros(b, h), Tensor.zeros(b, h)).subList(0, lstm ? 2 : 1);
        RecurrentResult base = null;
        StringBuilder line = new StringBuilder(String.format("%-4s H=%4d T=%3d B=%3d", kind, h, t, b));
        for (int v = 0; v < cuda.length; v++) {
            RecurrentResult res = cuda[v].forward(cell, SEQUENCES, x, null, init);
            if (v == 0) {
                base = res;
            }
            double err = relErr(res.output(), base.output());
            float[] ms = cuda[v].timeDeviceLoop(cell, SEQUENCES, x, init, WARMUP, REPS);
            Arrays.sort(ms);
            csv.printf("%s,%d,%d,%d,%s,%.4f,%.4f,%.3e%n", kind, h, t, b, variants[v], ms[ms.length / 2], ms[0], err);
            line.append(String.format("  %s %.3f", variants[v], ms[ms.length / 2]));
            if (v == 1) {
                writeCase(cases.resolve(kind + "_" + h + "_" + t + "_" + b), cell, x, res);
            }
        }
        // the whole call: upload, device work, download (host clock), fp32 with a graph
        long[] ns = new long[REPS];
        for (int k = 0; k < WARMUP + REPS; k++) {
            long start = System.nanoTime();
            cuda[1].forward(cell, SEQUENCES, x, null, init);
            if (k >= WARMUP) {
                ns[k - WARMUP] = System.nanoTime() - start;
            }
        }
        Arrays.sort(ns);
        csv.printf("%s,%d,%d,%d,%s,%.4f,%.4f,%.3e%n", kind, h, t, b, "fp32-graph-forward", ns[REPS / 2] / 1e6,
                ns[0] / 1e6, 0.0);
        System.out.println(line.append(String.format("  forward %.3f", ns[REPS / 2] / 1e6)));
    }

    /**
     * A Bidirectional layer's two directions given to {@code forwardAll} together (two lanes, run at
     * the same time) against two {@code forward} calls, each a whole call with its transfers (host
     * clock, median of {@value #REPS}), fp32 with graphs, T = 256, units up to 512.
     */
    private static void bidirectional(Path csvPath, int[] units) throws IOException {
        LoopSpec backwards = new LoopSpec(true, true, false);
        RandomTensors r = new RandomTensors(20261201L);
        try (RecurrentCuda cuda = RecurrentCuda.open(false, true);
             PrintWriter csv = new PrintWriter(Files.newBufferedWriter(csvPath))) {
            csv.println("cell,units,time,batch,one_after_the_other_ms,together_ms,speedup,rel_err");
            for (CellKind kind : new CellKind[] {CellKind.LSTM, CellKind.GRU}) {
                for (int h : units) {
                    if (h > 512) {
                        continue;
                    }
                    for (int b : new int[] {1, 64}) {
                        int t = 256;
                        CellSpec fwd = randomCell(kind, h, r);
                        CellSpec bwd = randomCell(kind, h, r);
                        Tensor x = r.uniform(1, b, t, h);
                        List<Tensor> init = List.of(Tensor.zeros(b, h), Tensor.zeros(b, h))
                                .subList(0, kind == CellKind.LSTM ? 2 : 1);
                        List<RecurrentCall> calls = List.of(
                                new RecurrentCall(fwd, SEQUENCES, x, null, init),
                                new RecurrentCall(bwd, backwards, x, null, init));
                        long[] apart = new long[REPS];
                        long[] together = new long[REPS];
                        List<RecurrentResult> a = null;
                        List<RecurrentResult> both = null;
                        for (int k = 0; k < WARMUP + REPS; k++) {
                            long start = System.nanoTime();
                            a = List.of(cuda.forward(fwd, SEQUENCES, x, null, init),
                                    cuda.forward(bwd, backwards, x, null, init));
                            long mid = System.nanoTime();
                            both = cuda.forwardAll(calls);
                            long end = System.nanoTime();
                            if (k >= WARMUP) {
                                apart[k - WARMUP] = mid - start;
                                together[k - WARMUP] = end - mid;
                            }
                        }
                        Arrays.sort(apart);
                        Arrays.sort(together);
                        double err = Math.max(relErr(both.get(0).output(), a.get(0).output()),
                                relErr(both.get(1).output(), a.get(1).output()));
                        double msApart = apart[REPS / 2] / 1e6;
                        double msTogether = together[REPS / 2] / 1e6;
                        csv.printf("%s,%d,%d,%d,%.4f,%.4f,%.3f,%.3e%n", kind, h, t, b, msApart, msTogether,
                                msApart / msTogether, err);
                        System.out.printf("bidirectional %-4s H=%4d T=%3d B=%3d  apart %.3f ms  together %.3f ms"
                                + "  (%.2fx)  rel err %.1e%n", kind, h, t, b, msApart, msTogether, msApart / msTogether, err);
                    }
                }
            }
        }
    }

    /**
     * Three LSTM layers (H units each, the last returning its last step) and a Dense head of 10
     * units: {@code forwardStack} (values kept on the device, one download) against the same stages
     * layer by layer ({@code forward} per layer, each output downloaded and uploaded again, Dense on
     * the host), whole calls on the host clock, median of {@value #REPS}; fp32 with graphs, T = 64.
     */
    private static void stacks(Path csvPath, int[] units) throws IOException {
        RandomTensors r = new RandomTensors(20261202L);
        try (RecurrentCuda cuda = RecurrentCuda.open(false, true);
             PrintWriter csv = new PrintWriter(Files.newBufferedWriter(csvPath))) {
            RecurrentBackend layered = new RecurrentBackend() {
                @Override
                public String name() {
                    return "layer by layer on " + cuda.name();
                }

                @Override
                public RecurrentResult forward(CellSpec cell, LoopSpec loop, Tensor x, dev.rnnrt.api.Mask mask,
                                               List<Tensor> initialState) {
                    return cuda.forward(cell, loop, x, mask, initialState);
                }
            };
            csv.println("layers,units,time,batch,layer_by_layer_ms,stack_ms,speedup,rel_err");
            LoopSpec last = new LoopSpec(false, false, false);
            for (int h : units) {
                if (h > 512) {
                    continue;
                }
                for (int b : new int[] {1, 64, 256}) {
                    int t = 64;
                    List<StackStage> stages = List.of(new StackStage.Recurrent(randomCell(CellKind.LSTM, h, r), SEQUENCES),
                            new StackStage.Recurrent(randomCell(CellKind.LSTM, h, r), SEQUENCES),
                            new StackStage.Recurrent(randomCell(CellKind.LSTM, h, r), last),
                            new StackStage.Dense(r.uniform(1.0 / Math.sqrt(h), h, 10), r.uniform(0.1, 10),
                                    Activation.TANH));
                    StackCall call = new StackCall(stages, r.uniform(1, b, t, h), null);
                    long[] apart = new long[REPS];
                    long[] stacked = new long[REPS];
                    Tensor a = null;
                    Tensor s = null;
                    for (int k = 0; k < WARMUP + REPS; k++) {
                        long start = System.nanoTime();
                        a = layered.forwardStack(call);
                        long mid = System.nanoTime();
                        s = cuda.forwardStack(call);
                        long end = System.nanoTime();
                        if (k >= WARMUP) {
                            apart[k - WARMUP] = mid - start;
                            stacked[k - WARMUP] = end - mid;
                        }
                    }
                    Arrays.sort(apart);
                    Arrays.sort(stacked);
                    double err = relErr(s, a);
                    double msApart = apart[REPS / 2] / 1e6;
                    double msStack = stacked[REPS / 2] / 1e6;
                    csv.printf("LSTMx3+Dense,%d,%d,%d,%.4f,%.4f,%.3f,%.3e%n", h, t, b, msApart, msStack,
                            msApart / msStack, err);
                    System.out.printf("stack LSTMx3+Dense H=%4d T=%3d B=%3d  layer by layer %.3f ms  stack %.3f ms"
                            + "  (%.2fx)  rel err %.1e%n", h, t, b, msApart, msStack, msApart / msStack, err);
                }
            }
        }
    }

    private static CellSpec randomCell(CellKind kind, int h, RandomTensors r) {
        int g = kind.gates() * h;
        double scale = 1 / Math.sqrt(h);
        boolean lstm = kind == CellKind.LSTM;
        return new CellSpec(kind, h, Activation.TANH, Activation.SIGMOID, !lstm, r.uniform(scale, h, g),
                r.uniform(scale, h, g), lstm ? r.uniform(scale, g) : r.uniform(scale, 2, g));
    }

    private static void writeCase(Path dir, CellSpec cell, Tensor x, RecurrentResult res) throws IOException {
        Files.createDirectories(dir);
        NpyWriter.write(dir.resolve("kernel.npy"), cell.kernel(), true);
        NpyWriter.write(dir.resolve("recurrent_kernel.npy"), cell.recurrentKernel(), true);
        NpyWriter.write(dir.resolve("bias.npy"), cell.bias(), true);
        NpyWriter.write(dir.resolve("x.npy"), x, true);
        NpyWriter.write(dir.resolve("h.npy"), res.states().get(0), true);
        if (res.states().size() > 1) {
            NpyWriter.write(dir.resolve("c.npy"), res.states().get(1), true);
        }
    }

    /**
     * Where an LSTM step's time goes: T steps of only the recurrent GEMM, only the gate kernel, both,
     * and the fused step kernel (where h fits its shared memory), each as launches on the stream
     * and as a graph replay; and the input GEMM.
     */
    private static void breakdown(int h, int t, int b, PrintWriter csv) {
        int g = 4 * h;
        RandomTensors r = new RandomTensors(7L);
        try (CudaContext ctx = new CudaContext(false);
             DeviceBuffer u = filled("U", h * g, r);
             DeviceBuffer w = filled("W", h * g, r);
             DeviceBuffer x = filled("x", t * b * h, r);
             DeviceBuffer proj = filled("proj", t * b * g, r);
             DeviceBuffer rec = filled("rec", b * g, r);
             DeviceBuffer hs = filled("h", b * h, r);
             DeviceBuffer cs = filled("c", b * h, r);
             DeviceBuffer prev = filled("prev", b * h, r);
             DeviceBuffer seq = filled("seq", t * b * h, r);
             DeviceBuffer h2 = filled("h2", b * h, r);
             DeviceBuffer bias = filled("bias", g, r)) {
            ctx.makeCurrent();
            CudaContext.Lane lane = ctx.lane(0);
            Pointer noMask = new CUdeviceptr();
            int act = Activation.TANH.ordinal();
            int recAct = Activation.SIGMOID.ordinal();
            Runnable gemms = () -> {
                for (int p = 0; p < t; p++) {
                    lane.gemm(hs.ptr(), h, u.ptr(), g, rec.ptr(), g, b, g, h, false);
                }
            };
            Runnable kernels = () -> {
                for (int p = 0; p < t; p++) {
                    lane.launch("lstm_pointwise_v2", (long) b * h, b, h, t, p, p, proj.at((long) p * b * g), g, bias.ptr(),
                            rec.ptr(), hs.ptr(), cs.ptr(), prev.ptr(), seq.ptr(), noMask, 0, act, recAct);
                }
            };
            Runnable steps = () -> {
                for (int p = 0; p < t; p++) {
                    lane.gemm(hs.ptr(), h, u.ptr(), g, rec.ptr(), g, b, g, h, false);
                    lane.launch("lstm_pointwise_v2", (long) b * h, b, h, t, p, p, proj.at((long) p * b * g), g, bias.ptr(),
                            rec.ptr(), hs.ptr(), cs.ptr(), prev.ptr(), seq.ptr(), noMask, 0, act, recAct);
                }
            };
            Runnable inputGemm = () -> lane.gemm(x.ptr(), h, w.ptr(), g, proj.ptr(), g, t * b, g, h, false);
            int fusedBlocks = (h + WorkspacePlan.FUSED_UNITS - 1) / WorkspacePlan.FUSED_UNITS;
            Runnable fused = () -> {
                for (int p = 0; p < t; p++) {
                    lane.launchBlocks("lstm_step_fused_v2", fusedBlocks, b * h * Float.BYTES, b, h, t, p, p,
                            proj.at((long) p * b * g), g, bias.ptr(), u.ptr(),
                            (p % 2 == 0 ? hs : h2).ptr(), (p % 2 == 0 ? h2 : hs).ptr(), cs.ptr(), prev.ptr(), seq.ptr(),
                            noMask, 0, act, recAct);
                }
            };
            String[] names = {"recurrent GEMM", "gate kernel", "GEMM + gate kernel", "fused step kernel",
                "input GEMM (whole sequence)"};
            Runnable[] parts = {gemms, kernels, steps, fused, inputGemm};
            StringBuilder line = new StringBuilder("breakdown LSTM B=" + b + " H=" + h + " T=" + t + " us/step:");
            for (int k = 0; k < parts.length; k++) {
                if (parts[k] == fused && (long) b * h * Float.BYTES > ctx.fusedSharedBytes()) {
                    continue;
                }
                for (boolean graph : new boolean[] {false, true}) {
                    Runnable work = parts[k];
                    CUgraphExec exec = null;
                    if (graph) {
                        exec = lane.capture(work);
                        CUgraphExec e = exec;
                        work = () -> lane.replay(e);
                    }
                    float[] ms = lane.time(work, WARMUP, REPS);
                    Arrays.sort(ms);
                    double us = ms[ms.length / 2] * 1000.0 / t;
                    csv.printf("%d,%d,%d,%s,%s,%.3f%n", h, t, b, names[k], graph ? "graph" : "stream", us);
                    line.append(String.format("  %s/%s %.2f", names[k], graph ? "graph" : "stream", us));
                    if (exec != null) {
                        ctx.destroy(exec);
                    }
                }
            }
            System.out.println(line);
        }
    }

    private static DeviceBuffer filled(String name, int n, RandomTensors r) {
        DeviceBuffer d = new DeviceBuffer(name, n);
        d.upload(r.uniform(0.1, n).data(), n);
        return d;
    }

    private static double relErr(Tensor a, Tensor ref) {
        double num = 0;
        double den = 0;
        float[] x = a.data();
        float[] y = ref.data();
        for (int k = 0; k < y.length; k++) {
            num += (x[k] - (double) y[k]) * (x[k] - (double) y[k]);
            den += (double) y[k] * y[k];
        }
        return Math.sqrt(num / den);
    }

    private static int[] ints(String csv) {
        List<Integer> v = new ArrayList<>();
        for (String s : csv.split(",")) {
            v.add(Integer.parseInt(s.trim()));
        }
        return v.stream().mapToInt(Integer::intValue).toArray();
    }
}
