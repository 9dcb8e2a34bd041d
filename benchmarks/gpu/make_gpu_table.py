#!/usr/bin/env python3
"""Turns one run of run-gpu.sh (rnnrt-gpu.csv, cudnn.csv, rnnrt-gpu-breakdown.csv, env.txt in
RUN_DIR) into the markdown tables of benchmarks/results/. Ratios are rnnrt's time over cuDNN's,
both measured in that one call: below 1 means rnnrt is faster.

    python3 make_gpu_table.py RUN_DIR > table.md
"""
import csv
import os
import sys

# The prototype's graph column over cuDNN (LSTM, T=256, I=H), measured on an H100 with cuDNN in
# the same call: the bar this backend is held to.
PROTOTYPE = {
    ("fp32", 512, 1): 0.48, ("fp32", 512, 16): 0.73, ("fp32", 512, 64): 0.70, ("fp32", 512, 256): 0.83,
    ("fp32", 1024, 1): 0.61, ("fp32", 1024, 16): 0.60, ("fp32", 1024, 64): 0.72, ("fp32", 1024, 256): 0.93,
    ("tf32", 512, 1): 0.37, ("tf32", 512, 16): 0.34, ("tf32", 512, 64): 0.41, ("tf32", 512, 256): 0.48,
    ("tf32", 1024, 1): 0.70, ("tf32", 1024, 16): 0.63, ("tf32", 1024, 64): 0.72, ("tf32", 1024, 256): 0.83,
}


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    run = sys.argv[1]
    ours = {}
    for r in read(os.path.join(run, "rnnrt-gpu.csv")):
        ours[(r["cell"], int(r["units"]), int(r["time"]), int(r["batch"]), r["variant"])] = r
    cudnn = {(r["cell"], int(r["units"]), int(r["time"]), int(r["batch"])): r
             for r in read(os.path.join(run, "cudnn.csv"))}
    keys = sorted(cudnn, key=lambda k: (k[0] != "LSTM", k[1], k[2], k[3]))

    def ms(k, variant):
        return float(ours[k + (variant,)]["median_ms"])

    def tflops(k, t):
        cell, h, steps, b = k
        gates = 4 if cell == "LSTM" else 3
        return 2 * steps * b * gates * h * (2 * h) / (t * 1e-3) / 1e12

    print("| cell | H | T | B | rnnrt fp32 graph ms | stream ms | whole call ms | cuDNN fp32 ms | **fp32 ratio** "
          "| prototype | rnnrt TF32 ms | cuDNN TF32 ms | **TF32 ratio** | prototype | rnnrt fp32 TFLOP/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    worst = []
    for k in keys:
        cell, h, t, b = k
        g, s, fwd, tf = ms(k, "fp32-graph"), ms(k, "fp32-stream"), ms(k, "fp32-graph-forward"), ms(k, "tf32-graph")
        c32, ctf = float(cudnn[k]["cudnn_fp32_ms"]), float(cudnn[k]["cudnn_tf32_ms"])
        p32 = PROTOTYPE.get(("fp32", h, b)) if cell == "LSTM" and t == 256 else None
        ptf = PROTOTYPE.get(("tf32", h, b)) if cell == "LSTM" and t == 256 else None
        r32, rtf = g / c32, tf / ctf
        if p32 is not None:
            worst.append((cell, h, t, b, "fp32", r32, p32))
            worst.append((cell, h, t, b, "tf32", rtf, ptf))
        fmt = lambda p: "" if p is None else f"{p:.2f}"
        print(f"| {cell} | {h} | {t} | {b} | {g:.3f} | {s:.3f} | {fwd:.3f} | {c32:.3f} | **{r32:.2f}** | {fmt(p32)} "
              f"| {tf:.3f} | {ctf:.3f} | **{rtf:.2f}** | {fmt(ptf)} | {tflops(k, g):.2f} |")
    print()
    errs = [float(r["rel_err_vs_fp32_stream"]) for r in ours.values() if r["variant"].startswith("fp32-graph")
            and r["variant"] != "fp32-graph-forward"]
    tf_errs = [float(r["rel_err_vs_fp32_stream"]) for r in ours.values() if r["variant"] == "tf32-graph"]
    state = [float(r["state_rel_err_vs_rnnrt"]) for r in cudnn.values()]
    print(f"Checks in the same run: fp32 graph variants vs fp32 stream, largest relative difference "
          f"{max(errs):.1e}; TF32 vs fp32 {max(tf_errs):.1e}; cuDNN's final states vs rnnrt's (fp32) "
          f"{max(state):.1e} (the run fails above 1e-4).")
    print()
    behind = [w for w in worst if w[5] > w[6]]
    print(f"Rows with the prototype's numbers: {len(worst)}; rnnrt's ratio is at least as good on "
          f"{len(worst) - len(behind)}." + ("" if not behind else " Behind: " + ", ".join(
              f"{c} H={h} B={b} {m} {r:.2f} vs {p:.2f}" for c, h, t, b, m, r, p in behind) + "."))
    print()
    print("Where an LSTM step's time goes (us per step, T=256, median of 20, CUDA events; "
          "the fused kernel only where h fits its shared memory):")
    print()
    rows = read(os.path.join(run, "rnnrt-gpu-breakdown.csv"))
    parts = list(dict.fromkeys(r["part"] for r in rows))
    shapes = list(dict.fromkeys((int(r["units"]), int(r["batch"])) for r in rows))
    print("| part | " + " | ".join(f"H={h} B={b} stream | graph" for h, b in shapes) + " |")
    print("|---|" + "---|---|" * len(shapes))
    val = {(r["part"], int(r["units"]), int(r["batch"]), r["mode"]): float(r["us_per_step"]) for r in rows}
    cell = lambda k: f"{val[k]:.2f}" if k in val else "–"
    for p in parts:
        print(f"| {p} | " + " | ".join(f"{cell((p, h, b, 'stream'))} | {cell((p, h, b, 'graph'))}"
                                      for h, b in shapes) + " |")
    bi = os.path.join(run, "rnnrt-gpu-bidirectional.csv")
    if os.path.exists(bi):
        print()
        print("A Bidirectional layer's two directions (whole calls with their transfers, fp32 graphs, median of "
              "20, host clock): one after the other, and together on two streams:")
        print()
        print("| cell | H | T | B | one after the other ms | together ms | speed-up | largest relative difference |")
        print("|---|---|---|---|---|---|---|---|")
        for r in read(bi):
            print(f"| {r['cell']} | {r['units']} | {r['time']} | {r['batch']} | {float(r['one_after_the_other_ms']):.3f} "
                  f"| {float(r['together_ms']):.3f} | {float(r['speedup']):.2f}x | {float(r['rel_err']):.1e} |")
    st = os.path.join(run, "rnnrt-gpu-stack.csv")
    if os.path.exists(st):
        print()
        print("Three LSTM layers and a Dense head (whole calls with their transfers, fp32 graphs, median of 20, host "
              "clock): layer by layer (each output to the host and back, Dense on the host), and as one stack "
              "call (values kept on the device):")
        print()
        print("| layers | H | T | B | layer by layer ms | stack ms | speed-up | largest relative difference |")
        print("|---|---|---|---|---|---|---|---|")
        for r in read(st):
            print(f"| {r['layers']} | {r['units']} | {r['time']} | {r['batch']} | {float(r['layer_by_layer_ms']):.3f} "
                  f"| {float(r['stack_ms']):.3f} | {float(r['speedup']):.2f}x | {float(r['rel_err']):.1e} |")

if __name__ == "__main__":
    main()
