#!/usr/bin/env python3
"""Plots one run of run-gpu.sh (rnnrt-gpu.csv and cudnn.csv in RUN_DIR): sequences per second
against batch size, one panel per cell, units and steps, for rnnrt's CUDA backend (graph replay,
launches, the whole call with its transfers; fp32 and TF32) and cuDNN (fp32, TF32) timed in the
same call. Needs matplotlib (Debian: python3-matplotlib).

    python3 plot_gpu.py RUN_DIR OUT.png
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def main():
    run, out_png = sys.argv[1], sys.argv[2]
    ours = {}
    for r in read(os.path.join(run, "rnnrt-gpu.csv")):
        ours[(r["cell"], int(r["units"]), int(r["time"]), int(r["batch"]), r["variant"])] = float(r["median_ms"])
    cudnn = {(r["cell"], int(r["units"]), int(r["time"]), int(r["batch"])): r
             for r in read(os.path.join(run, "cudnn.csv"))}
    panels = sorted({k[:3] for k in cudnn}, key=lambda p: (p[0] != "LSTM", p[1], p[2]))
    # (label, style, ms of a key)
    series = [
        ("rnnrt fp32, graph", "-o", lambda k: ours.get(k + ("fp32-graph",))),
        ("rnnrt fp32, launches", ":o", lambda k: ours.get(k + ("fp32-stream",))),
        ("rnnrt fp32, whole call (transfers)", "-.o", lambda k: ours.get(k + ("fp32-graph-forward",))),
        ("rnnrt TF32, graph", "-s", lambda k: ours.get(k + ("tf32-graph",))),
        ("cuDNN fp32", "--^", lambda k: float(cudnn[k]["cudnn_fp32_ms"])),
        ("cuDNN TF32", "--v", lambda k: float(cudnn[k]["cudnn_tf32_ms"])),
    ]
    cols = 4
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, (cell, h, t) in zip(axes.flat, panels):
        batches = sorted(b for (c, hh, tt, b) in cudnn if (c, hh, tt) == (cell, h, t))
        for label, style, ms in series:
            xs, ys = [], []
            for b in batches:
                v = ms((cell, h, t, b))
                if v:
                    xs.append(b)
                    ys.append(b / (v * 1e-3))
            ax.plot(xs, ys, style, label=label, markersize=4)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(f"{cell} H=I={h}, T={t}", fontsize=9)
        ax.set_xlabel("batch")
        ax.set_ylabel("sequences/s")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(series), fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(out_png, dpi=90)


if __name__ == "__main__":
    main()
