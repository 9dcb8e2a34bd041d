#!/usr/bin/env python3
"""PyTorch/cuDNN on the GPU benchmark's cases (written by dev.rnnrt.backend.cuda.GpuBenchmark):
torch.nn.LSTM / GRU on CUDA with the same weights and input (mapped by peers/keras_torch.py; the
GRU is Keras reset_after=True). Before timing, cuDNN's final h (and c) in fp32 are
checked against rnnrt's: relative error at most 1e-4, or the case fails. Then fp32 (TF32 off) and
TF32 are timed like rnnrt: CUDA events around each call, median of 20 after 5 warm-ups.

    python3 torch_cudnn.py CASE_DIR OUT_CSV
"""
import csv
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from keras_torch import torch_module  # noqa: E402

WARMUP, REPS, CHECK = 5, 20, 1e-4


def rel(a, ref):
    a, ref = a.double(), ref.double()
    return float((a - ref).norm() / ref.norm())


def time_ms(m, x):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(WARMUP):
        m(x)
    torch.cuda.synchronize()
    times = []
    for _ in range(REPS):
        start.record()
        m(x)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(np.median(times)), min(times)


def main():
    root, out = sys.argv[1], sys.argv[2]
    torch.backends.cudnn.enabled = True
    rows, failures = [], []
    for name in sorted(os.listdir(root)):
        cell, h, t, b = name.split("_")
        h, t, b = int(h), int(t), int(b)
        d = os.path.join(root, name)
        load = lambda f: np.load(os.path.join(d, f + ".npy"))
        with torch.inference_mode():
            m = torch_module(cell, load("kernel"), load("recurrent_kernel"), load("bias"), h).cuda()
            x = torch.from_numpy(load("x")).cuda()
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            y, state = m(x)
            hn = state[0][0] if cell == "LSTM" else state[0]
            err = rel(hn.cpu(), torch.from_numpy(load("h")))
            if cell == "LSTM":
                err = max(err, rel(state[1][0].cpu(), torch.from_numpy(load("c"))))
            if not err <= CHECK:
                failures.append(f"{name}: cuDNN's final state differs from rnnrt's by {err:.2e}")
                continue
            fp32 = time_ms(m, x)
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
            tf32 = time_ms(m, x)
        rows.append([cell, h, t, b, f"{fp32[0]:.4f}", f"{fp32[1]:.4f}", f"{tf32[0]:.4f}", f"{tf32[1]:.4f}", f"{err:.3e}"])
        print(f"{cell:4} H={h:4} T={t:3} B={b:3}  cudnn fp32 {fp32[0]:.3f} ms  tf32 {tf32[0]:.3f} ms  "
              f"state vs rnnrt {err:.1e}", flush=True)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cell", "units", "time", "batch", "cudnn_fp32_ms", "cudnn_fp32_min_ms", "cudnn_tf32_ms",
                    "cudnn_tf32_min_ms", "state_rel_err_vs_rnnrt"])
        w.writerows(rows)
    print(f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name()}")
    if failures:
        print("\n".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
