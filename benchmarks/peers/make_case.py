#!/usr/bin/env python3
"""Makes one benchmark case: seeded weights in Keras' layout, an input, and the equivalent ONNX
model for ONNX Runtime. Used by the JMH benchmark's setup and by torch_bench.py, so that every
backend and peer runs the same weights on the same input.

    make_case.py CELL H I B T SEED OUT_DIR      (CELL: LSTM or GRU)

Writes OUT_DIR/{kernel,recurrent_kernel,bias,x}.npy (x is [B, T, I], batch-major) and
OUT_DIR/model.onnx: one ONNX LSTM / GRU node, opset 14, layout 0 (X is [T, B, I]), forward,
outputs Y [T, 1, B, H] and Y_h. Keras -> ONNX mapping: ONNX W is [1, G, I] with gates
i, o, f, c for LSTM (Keras i, f, c, o) and z, r, h for GRU (as Keras); B = [input bias,
recurrent bias]; GRU uses linear_before_reset=1, which is Keras' reset_after=True.
Needs Debian's python3-numpy and python3-onnx.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

cell, H, I, B, T, seed, out = sys.argv[1], *map(int, sys.argv[2:7]), sys.argv[7]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(seed)
G = (4 if cell == "LSTM" else 3) * H
lim = 1 / np.sqrt(H)
kernel = rng.uniform(-lim, lim, (I, G)).astype(np.float32)
recurrent = rng.uniform(-lim, lim, (H, G)).astype(np.float32)
bias = rng.uniform(-lim, lim, (G,) if cell == "LSTM" else (2, G)).astype(np.float32)
x = rng.uniform(-1, 1, (B, T, I)).astype(np.float32)
for name, a in (("kernel", kernel), ("recurrent_kernel", recurrent), ("bias", bias), ("x", x)):
    np.save(os.path.join(out, name + ".npy"), a)


def gates(m, order):
    """m is [rows, G] in Keras gate order; returns [1, G, rows] in `order` (indices of Keras gates)."""
    blocks = np.split(m, len(order), axis=1)
    return np.concatenate([blocks[k].T for k in order], axis=0)[None]


if cell == "LSTM":
    order = [0, 3, 1, 2]  # ONNX i, o, f, c from Keras i, f, c, o
    w, r = gates(kernel, order), gates(recurrent, order)
    wb = np.concatenate([np.split(bias, 4)[k] for k in order])
    b = np.concatenate([wb, np.zeros_like(wb)])[None]
    node = helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y", "Y_h", "Y_c"], hidden_size=H)
    outputs = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [T, 1, B, H]),
               helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [1, B, H]),
               helper.make_tensor_value_info("Y_c", TensorProto.FLOAT, [1, B, H])]
else:
    order = [0, 1, 2]
    w, r = gates(kernel, order), gates(recurrent, order)
    b = np.concatenate([bias[0], bias[1]])[None]
    node = helper.make_node("GRU", ["X", "W", "R", "B"], ["Y", "Y_h"], hidden_size=H, linear_before_reset=1)
    outputs = [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [T, 1, B, H]),
               helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [1, B, H])]
graph = helper.make_graph([node], cell.lower(),
                          [helper.make_tensor_value_info("X", TensorProto.FLOAT, [T, B, I])], outputs,
                          initializer=[numpy_helper.from_array(w.astype(np.float32), "W"),
                                       numpy_helper.from_array(r.astype(np.float32), "R"),
                                       numpy_helper.from_array(b.astype(np.float32), "B")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
model.ir_version = 7
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "model.onnx"))
