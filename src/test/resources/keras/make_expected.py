#!/usr/bin/env python3
"""Expected outputs of the real Keras files in this folder, computed independently of rnnrt.

For every full-model file (.h5 with a model_config, .keras archive) this script reads the config
and the weights itself with h5py / zipfile / json, runs the model in PyTorch float64 on a fixed
seeded input, and writes <stem>.expected.json with the inputs and outputs (float64 values).
It also writes textgenrnn_lstm_part.expected.json for the Embedding -> LSTM -> LSTM part of the
weights-only textgenrnn file, with the architecture in textgenrnn_lstm_part.json.

Run once, with Debian's python3-h5py, python3-numpy and python3-torch:

    /usr/bin/python3 src/test/resources/keras/make_expected.py

The recurrent cells and Keras' masked loop are those of ../fixtures/recurrent/make_fixtures.py
(documented there). Everything else is written out below from Keras' definitions:
- Keras 1 LSTM weights are per gate (W_i, U_i, b_i, W_c, ..., W_f, ..., W_o): concatenated in
  Keras 2's gate order i, f, c, o. Keras 1 GRU: z, r, h.
- CuDNNLSTM weights (bias of 8H), as Keras 2's _convert_rnn_weights converts them: per gate
  block, input kernel k.T.reshape(k.shape, order='F'), recurrent kernel k.T, bias = the sum of
  the input and recurrent halves.
- hard_sigmoid is clip(0.2x + 0.5, 0, 1) for files whose keras_version is below 3.
- GRU without a reset_after key means reset_after=False.
- Bidirectional: backward copy with go_backwards, both with zero_output_for_mask =
  return_sequences, backward sequence reversed back, merge concat/sum/mul/ave.
- Masking(v): mask = any(x != v, -1), output x * mask. Conv1D causal: k-1 zeros on the left.
- Keras 3 archives: weights in model.weights.h5 under layers/<key>/vars (recurrent: cell/vars),
  <key> being the group whose vars attribute 'name' is the layer's name.
Where a file comes with Keras' own predictions (*.inputs_and_outputs.h5), this implementation is
checked against them first and the script stops if they differ by more than 1e-5.
"""
import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "recurrent"))
import make_fixtures as mf  # noqa: E402

torch.set_default_dtype(torch.float64)


def s(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


# ---- reading files ---------------------------------------------------------------------------

class LegacyWeights:
    def __init__(self, group):
        self.g = group

    def get(self, name):
        if name not in self.g:
            return []
        lg = self.g[name]
        return [(s(w), np.asarray(lg[s(w)], dtype=np.float64)) for w in lg.attrs.get("weight_names", [])]


class Keras3Weights:
    def __init__(self, f):
        self.layers = f["layers"]
        self.by_name = {}
        for key in self.layers:
            g = self.layers[key]
            if "vars" in g and "name" in g["vars"].attrs:
                self.by_name[s(g["vars"].attrs["name"])] = key

    def get(self, name):
        key = self.by_name.get(name)
        if key is None:
            return []
        out = []

        def walk(g, path):
            if "vars" in g:
                for i in sorted(g["vars"], key=int):
                    out.append((path + "/vars/" + i, np.asarray(g["vars"][i], dtype=np.float64)))
            for child in ("cell", "forward_layer", "backward_layer", "layer"):
                if child in g:
                    walk(g[child], path + "/" + child)
        walk(self.layers[key], key)
        return out


def keras1_concat(ws, gates):
    d = {n.split("_")[-2] + "_" + n.split("_")[-1]: v for n, v in ws}
    return [np.concatenate([d[p + "_" + g] for g in gates], axis=-1) for p in ("W", "U", "b")]


def cudnn_to_keras(ws, gates, units):
    k, u, b = ws

    def blocks(m):
        return np.hsplit(m, gates)
    kernel = np.hstack([blk.T.reshape(blk.shape, order="F") for blk in blocks(k)])
    recurrent = np.hstack([blk.T for blk in blocks(u)])
    bias = np.sum(np.split(b, 2, axis=0), axis=0)
    return [kernel, recurrent, bias]


def recurrent_weights(cls, ws, units):
    names = [n for n, _ in ws]
    vals = [v for _, v in ws]
    if cls == "LSTM" and len(ws) == 12:
        return keras1_concat(ws, ["i", "f", "c", "o"])
    if cls == "GRU" and len(ws) == 9:
        return keras1_concat(ws, ["z", "r", "h"])
    if cls in ("LSTM", "CuDNNLSTM") and vals[2].shape == (8 * units,):
        return cudnn_to_keras(vals, 4, units)
    return vals


# ---- running a config ----------------------------------------------------------------------------

def act_fn(name, version):
    if name in (None, "linear"):
        return lambda x: x
    if name == "softmax":
        return lambda x: torch.softmax(x, dim=-1)
    return mf.act(name, version)


def run_rnn(cls, cfg, w, x, mask, version, zero_output_for_mask=None, go_backwards=None):
    units = cfg.get("units", cfg.get("output_dim"))
    kind = cls.replace("CuDNN", "")
    c = {"units": units, "activation": cfg.get("activation", "tanh"),
         "recurrent_activation": cfg.get("recurrent_activation", cfg.get("inner_activation", "sigmoid")),
         "keras_version": version, "reset_after": bool(cfg.get("reset_after", False)) or cls == "CuDNNGRU"}
    tw = {k: torch.tensor(v) for k, v in zip(["kernel", "recurrent_kernel", "bias"], w)}
    n = 2 if kind == "LSTM" else 1
    states = [torch.zeros(x.shape[0], units) for _ in range(n)]
    zo = cfg.get("zero_output_for_mask", False) if zero_output_for_mask is None else zero_output_for_mask
    gb = cfg.get("go_backwards", False) if go_backwards is None else go_backwards
    seq, last, states = mf.keras_loop(mf.CELLS[kind](c, tw), x, mask, states, gb, zo)
    out = seq if cfg.get("return_sequences", False) else last
    return [out] + (list(states) if cfg.get("return_state", False) else [])


def apply(layer, inputs, masks, weights, version):
    """Returns (outputs, output masks) of one layer."""
    cls, cfg = layer["class_name"], layer["config"]
    name = cfg["name"]
    x = inputs[0]
    mask = masks[0]
    if cls in ("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU"):
        units = cfg.get("units", cfg.get("output_dim"))
        w = recurrent_weights(cls.replace("CuDNN", ""), weights.get(name), units)
        outs = run_rnn(cls, cfg, w, x, mask, version)
        return outs, [mask if cfg.get("return_sequences") else None] + [None] * (len(outs) - 1)
    if cls == "Bidirectional":
        inner = layer["config"]["layer"]
        icfg = inner["config"]
        units = icfg["units"]
        ws = weights.get(name)
        half = len(ws) // 2
        wf = recurrent_weights(inner["class_name"], ws[:half], units)
        wb = recurrent_weights(inner["class_name"], ws[half:], units)
        rs = icfg.get("return_sequences", False)
        yf = run_rnn(inner["class_name"], icfg, wf, x, mask, version, zero_output_for_mask=rs)
        yb = run_rnn(inner["class_name"], icfg, wb, x, mask, version, zero_output_for_mask=rs,
                     go_backwards=not icfg.get("go_backwards", False))
        a, b = yf[0], yb[0]
        if rs:
            b = b.flip(1)
        mode = cfg.get("merge_mode", "concat")
        y = {"concat": lambda: torch.cat([a, b], -1), "sum": lambda: a + b, "mul": lambda: a * b,
             "ave": lambda: (a + b) / 2}[mode]()
        return [y], [mask if rs else None]
    if cls == "Dense":
        w = [v for _, v in weights.get(name)]
        y = x @ torch.tensor(w[0]) + (torch.tensor(w[1]) if len(w) > 1 else 0)
        return [act_fn(cfg.get("activation"), version)(y)], [mask]
    if cls == "TimeDistributed":
        return apply({"class_name": cfg["layer"]["class_name"], "config": dict(cfg["layer"]["config"], name=name)},
                     inputs, masks, weights, version)
    if cls == "Activation":
        return [act_fn(cfg["activation"], version)(x)], [mask]
    if cls in ("Dropout", "SpatialDropout1D", "GaussianNoise"):
        return [x], [mask]
    if cls == "Masking":
        m = (x != cfg.get("mask_value", 0.0)).any(-1)
        return [x * m.unsqueeze(-1)], [m]
    if cls == "RepeatVector":
        return [x.unsqueeze(1).repeat(1, cfg["n"], 1)], [None]
    if cls == "Flatten":
        return [x.reshape(x.shape[0], -1)], [None]
    if cls == "Reshape":
        return [x.reshape((x.shape[0],) + tuple(cfg["target_shape"]))], [None]
    if cls == "Conv1D":
        w = [v for _, v in weights.get(name)]
        k = torch.tensor(w[0])  # [K, C, F]
        ksize = k.shape[0]
        assert cfg["padding"] == "causal" and cfg["strides"] in ([1], 1) and cfg["dilation_rate"] in ([1], 1)
        xp = F.pad(x.transpose(1, 2), (ksize - 1, 0))  # [B, C, T + K - 1]
        y = F.conv1d(xp, k.permute(2, 1, 0)).transpose(1, 2) + torch.tensor(w[1])
        return [act_fn(cfg.get("activation"), version)(y)], [None]
    if cls == "Embedding":
        e = torch.tensor(weights.get(name)[0][1])
        ids = x.long()
        return [e[ids]], [ids != 0 if cfg.get("mask_zero") else None]
    raise ValueError("no reference for " + cls)


def run_model(config, weights, inputs, version):
    c = config["config"]
    if config["class_name"] == "Sequential":
        layers = c if isinstance(c, list) else c["layers"]
        x, m = inputs[0], None
        for layer in layers:
            if layer["class_name"] == "InputLayer":
                continue
            (x, *_), (m, *_) = apply(layer, [x], [m], weights, version)
        return [x]
    values = {}
    for (name, _, _), t in zip(c["input_layers"], inputs):
        values[name] = ([t], [None])
    for layer in c["layers"]:
        if layer["class_name"] == "InputLayer":
            continue
        node = layer["inbound_nodes"][0]
        srcs = [(e[0], e[2]) for e in node]
        ins = [values[n][0][k] for n, k in srcs]
        ms = [values[n][1][k] for n, k in srcs]
        values[layer["name"]] = apply(layer, ins, ms, weights, version)
    return [values[n][0][k] for n, _, k in c["output_layers"]]


# ---- the files -------------------------------------------------------------------------------------

def open_model(path):
    if path.endswith(".keras"):
        z = zipfile.ZipFile(path)
        config = json.loads(z.read("config.json"))
        version = json.loads(z.read("metadata.json"))["keras_version"]
        f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
        return config, Keras3Weights(f), version
    f = h5py.File(path, "r")
    return json.loads(s(f.attrs["model_config"])), LegacyWeights(f["model_weights"]), s(f.attrs["keras_version"])


def input_shapes(config):
    c = config["config"]
    if config["class_name"] == "Sequential":
        layers = c if isinstance(c, list) else c["layers"]
        lc = layers[0]["config"]
        return [lc.get("batch_input_shape", lc.get("batch_shape"))]
    by = {l["name"]: l for l in c["layers"]}
    return [by[n]["config"]["batch_input_shape"] for n, _, _ in c["input_layers"]]


def tensor_json(name, a):
    a = np.asarray(a, dtype=np.float64)
    return {"name": name, "shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


def main():
    rng = np.random.default_rng(20261122)
    for fn in sorted(os.listdir(HERE)):
        if not (fn.endswith(".h5") or fn.endswith(".keras")) or "inputs_and_outputs" in fn:
            continue
        path = os.path.join(HERE, fn)
        if fn.endswith(".h5") and "model_config" not in h5py.File(path, "r").attrs:
            continue
        config, weights, version = open_model(path)
        stem = fn.rsplit(".", 1)[0]
        golden = os.path.join(HERE, stem + ".inputs_and_outputs.h5")
        if os.path.exists(golden):
            g = h5py.File(golden, "r")
            gx = np.asarray(g["inputs"][list(g["inputs"])[0]], dtype=np.float64)
            gy = np.asarray(g["predictions"][list(g["predictions"])[0]], dtype=np.float64)
            ours = run_model(config, weights, [torch.tensor(gx)], version)[0].numpy()
            diff = float(np.abs(ours - gy).max())
            print(fn, "max |ours - Keras' own predictions| =", diff)
            assert diff < 1e-5, fn
        inputs = []
        for shape in input_shapes(config):
            batch = shape[0] or (1 if any(d and d >= 500 for d in shape[1:]) else 3)
            dims = [d if d is not None else 12 for d in shape[1:]]
            x = mf.f32(rng.uniform(-1, 1, size=[batch] + dims))
            if "masking" in fn:
                x[0, 7:, :] = 0.0   # trailing padding
                x[1, :2, :] = 0.0   # leading padding
                x[2, 4, :] = 0.0    # a gap
            inputs.append(x)
        outs = run_model(config, weights, [torch.tensor(x) for x in inputs], version)
        with open(os.path.join(HERE, stem + ".expected.json"), "w") as fh:
            json.dump({"file": fn, "keras_version": version,
                       "generator": "make_expected.py (PyTorch " + torch.__version__ + ", float64)",
                       "inputs": [tensor_json("input_%d" % i, x) for i, x in enumerate(inputs)],
                       "outputs": [tensor_json("output_%d" % i, o.numpy()) for i, o in enumerate(outs)]},
                      fh, separators=(",", ":"))
        print(fn, [list(o.shape) for o in outs])

    # textgenrnn: weights only (CuDNNLSTM layout); the Embedding -> LSTM -> LSTM part.
    fn = "textgenrnn_cudnnlstm_weights_only_k215.h5"
    with open(os.path.join(HERE, "textgenrnn_lstm_part.json")) as fh:
        config = json.load(fh)
    f = h5py.File(os.path.join(HERE, fn), "r")
    ids = rng.integers(0, 465, size=(2, 40)).astype(np.float64)
    ids[1, :5] = 0  # leading padding ids
    outs = run_model(config, LegacyWeights(f), [torch.tensor(ids)], s(f.attrs["keras_version"]))
    with open(os.path.join(HERE, "textgenrnn_lstm_part.expected.json"), "w") as fh:
        json.dump({"file": fn, "architecture": "textgenrnn_lstm_part.json", "keras_version": s(f.attrs["keras_version"]),
                   "generator": "make_expected.py (PyTorch " + torch.__version__ + ", float64)",
                   "inputs": [tensor_json("input", ids)], "outputs": [tensor_json("rnn_2", outs[0].numpy())]},
                  fh, separators=(",", ":"))
    print(fn, list(outs[0].shape))


if __name__ == "__main__":
    main()
