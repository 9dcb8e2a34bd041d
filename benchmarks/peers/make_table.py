#!/usr/bin/env python3
"""Turns one run-key-shapes.sh run (JMH JSON files + torch.json) into a markdown table and a PNG
plot of throughput against batch size.

    python3 make_table.py RESULTS_DIR PEAK_GFLOPS OUT.md OUT.png
"""
import glob
import json
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

res_dir, peak, out_md, out_png = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = {}
for f in glob.glob(os.path.join(res_dir, "jmh-*.json")):
    for r in json.load(open(f)):
        p = r["params"]
        key = (p["cell"], int(p["units"]), int(p["batch"]), int(p["time"]))
        alloc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score")
        rows.setdefault(key, {})[p["backend"]] = (r["primaryMetric"]["score"], r["primaryMetric"]["scoreError"], alloc)
torch_path = os.path.join(res_dir, "torch.json")
if os.path.exists(torch_path):
    for t in json.load(open(torch_path)):
        key = (t["cell"], t["units"], t["batch"], t["time"])
        if key in rows:
            rows[key]["pytorch"] = (t["ms"], None, None)


def flops(cell, h, b, t):
    g = (4 if cell == "LSTM" else 3) * h
    return 2.0 * t * b * g * (h + h)


lines = ["| cell | H=I | B | T | backend | ms/op (± error) | sequences/s | GFLOP/s | % of peak | alloc B/op |"
         " rnnrt cpu speed vs it (its time / rnnrt cpu time) |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
for key in sorted(rows):
    cell, h, b, t = key
    ours = rows[key].get("cpu", (None,))[0]
    for backend in ("cpu", "cpu-reference", "onnxruntime", "pytorch"):
        if backend not in rows[key]:
            continue
        ms, err, alloc = rows[key][backend]
        gf = flops(*key) / (ms / 1000) / 1e9
        ratio = "" if backend == "cpu" or ours is None else "%.2fx" % (ms / ours)
        lines.append("| %s | %d | %d | %d | %s | %.3f%s | %.0f | %.1f | %.0f%% | %s | %s |" % (
            cell, h, b, t, backend, ms, "" if err is None or err != err else " (± %.3f)" % err, b / (ms / 1000), gf,
            100 * gf / peak, "" if alloc is None else "%.0f" % alloc, ratio))
open(out_md, "w").write("\n".join(lines) + "\n")

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, cell in zip(axes, ("LSTM", "GRU")):
    for backend in ("cpu", "onnxruntime", "pytorch"):
        pts = sorted((k[2], k[2] / (v[backend][0] / 1000)) for k, v in rows.items()
                     if k[0] == cell and k[1] == 512 and k[3] == 32 and backend in v)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=backend)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(cell + ", H = I = 512, T = 32")
    ax.set_xlabel("batch size")
    ax.set_ylabel("sequences / s")
    ax.legend()
fig.tight_layout()
fig.savefig(out_png, dpi=100)
