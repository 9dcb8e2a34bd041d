"""Keras recurrent weights in a PyTorch module, shared by the peer scripts.

LSTM: Keras gates i, f, c, o are PyTorch's i, f, g, o; kernel [I, 4H] -> weight_ih [4H, I], one
bias (bias_hh = 0). GRU with reset_after=True (PyTorch's only GRU): Keras gates z, r, h become
PyTorch's r, z, n, and the bias rows [input, recurrent] become bias_ih, bias_hh.
"""
import numpy as np
import torch


def torch_module(cell, kernel, recurrent_kernel, bias, units):
    """torch.nn.LSTM / GRU(I, units, batch_first=True) holding the Keras weights (on the CPU)."""
    i = kernel.shape[0]
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    with torch.no_grad():
        if cell == "LSTM":
            m = torch.nn.LSTM(i, units, batch_first=True)
            m.weight_ih_l0.copy_(t(kernel.T))
            m.weight_hh_l0.copy_(t(recurrent_kernel.T))
            m.bias_ih_l0.copy_(t(bias))
            m.bias_hh_l0.zero_()
        else:
            def reorder(a):
                return np.concatenate([a[units:2 * units], a[:units], a[2 * units:]], axis=0)
            m = torch.nn.GRU(i, units, batch_first=True)
            m.weight_ih_l0.copy_(t(reorder(kernel.T)))
            m.weight_hh_l0.copy_(t(reorder(recurrent_kernel.T)))
            m.bias_ih_l0.copy_(t(reorder(bias[0])))
            m.bias_hh_l0.copy_(t(reorder(bias[1])))
    return m
