#!/usr/bin/env python3
"""PyTorch (CPU) on the benchmark cases that make_case.py wrote: torch.nn.LSTM / GRU with the same
weights (Keras layout mapped to PyTorch's by keras_torch.py), outputs checked against the
float64 result of the same module, then timed: 3 warm-ups, median of 7 calls. Prints JSON.

    OMP_WAIT_POLICY=PASSIVE python3 torch_bench.py CASES_DIR
"""
import json
import os
import sys
import time

import numpy as np
import torch

from keras_torch import torch_module

torch.set_num_threads(os.cpu_count())
root = sys.argv[1]
results = []
for name in sorted(os.listdir(root)):
    d = os.path.join(root, name)
    cell, h, b, t = name.split("_")
    H, B, T = int(h[1:]), int(b[1:]), int(t[1:])
    k, u, bias, x = (np.load(os.path.join(d, f + ".npy")) for f in ("kernel", "recurrent_kernel", "bias", "x"))
    with torch.inference_mode():
        m = torch_module(cell, k, u, bias, H)
        xt = torch.from_numpy(x)
        y32 = m(xt)[0]
        y64 = m.double()(xt.double())[0]
        m.float()
        rel = float((y32.double() - y64).norm() / y64.norm())
        for _ in range(3):
            m(xt)
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            m(xt)
            times.append(time.perf_counter() - t0)
    results.append({"cell": cell, "units": H, "batch": B, "time": T, "ms": 1000 * float(np.median(times)),
                    "ms_min": 1000 * min(times), "ms_max": 1000 * max(times), "rel_err_vs_fp64": rel,
                    "threads": torch.get_num_threads(), "torch": torch.__version__})
print(json.dumps(results, indent=1))
