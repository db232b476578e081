"""Kernel vs reference through the layers for what the scan-level tests do not reach: batch-first inputs
(transposed, non-contiguous tensors in and gradients back), and float32 (the GEMM backends)."""
import pytest
import torch

import rnnkit as rk

from ._compare import LENGTHS, B, H, I, P, T, assert_layers_same, leaf

LAYERS = {
    "rnn": lambda impl, **kw: rk.RNN(I, H, 2, bidirectional=True, impl=impl, **kw),
    "lstm": lambda impl, **kw: rk.LSTM(I, H, 2, bidirectional=True, impl=impl, **kw),
    "lstmp_peephole_ln": lambda impl, **kw: rk.LSTM(I, H, 2, bidirectional=True, proj_size=P, peephole=True,
                                                     layer_norm=True, cell_clip=0.8, impl=impl, **kw),
    "gru": lambda impl, **kw: rk.GRU(I, H, 2, bidirectional=True, impl=impl, **kw),
    "gru_cho": lambda impl, **kw: rk.GRU(I, H, 2, bidirectional=True, reset_after=False, impl=impl, **kw),
}
F32 = dict(atol=2e-5, rtol=2e-4)


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "lengths"])
@pytest.mark.parametrize("name", LAYERS)
def test_batch_first(name, lengths):
    torch.manual_seed(1)
    x = leaf(B, T, I)  # (B, T, I): the layer transposes it, and the output gradient comes back transposed
    assert_layers_same(lambda impl: LAYERS[name](impl, batch_first=True, zoneout=0.2, recurrent_dropout=0.2),
                       x, None, lengths)


@pytest.mark.parametrize("name", LAYERS)
def test_float32(name):
    torch.manual_seed(1)
    x = torch.randn(T, B, I).requires_grad_()
    assert_layers_same(lambda impl: LAYERS[name](impl), x, None, LENGTHS, dtype=torch.float32, tol=F32)


@pytest.mark.parametrize("family", ["lstm", "gru", "gru_cho"])
def test_float32_at_a_size_that_takes_the_onednn_gemm(family):
    """Recurrent weights with both sides >= 256 take oneDNN's packed GEMM in the C++ loops."""
    torch.manual_seed(1)
    make = {"lstm": lambda impl: rk.LSTM(8, 256, impl=impl), "gru": lambda impl: rk.GRU(8, 256, impl=impl),
            "gru_cho": lambda impl: rk.GRU(8, 256, reset_after=False, impl=impl)}[family]
    x = torch.randn(3, 2, 8).requires_grad_()
    assert_layers_same(make, x, None, torch.tensor([3, 2]), dtype=torch.float32, tol=dict(atol=1e-4, rtol=1e-3))
