"""Mixed precision and the initial state's dtype and device, on every path ``impl`` can take.

Under ``torch.autocast("cpu", dtype=torch.bfloat16)`` torch's fused LSTM/GRU/RNN (the native path)
and the reference (its matrix products) compute partly in bfloat16; rnnkit's kernels are custom ops
that autocast leaves alone, so they keep float32, where the recurrence accumulates over every step
(and the C++ loops have no bfloat16 code). Stated tolerance against float32: exact on the kernel,
3e-2 absolute on the others (8 bits of mantissa, T=12), and gradients within 5 % in norm.
"""
from __future__ import annotations

import pytest
import torch

import rnnkit as rk

LENGTHS = torch.tensor([12, 7, 9, 3])
BF16_TOL = 3e-2

CONFIGS = {
    "lstm": lambda impl: rk.LSTM(8, 16, impl=impl),
    "lstm-peephole": lambda impl: rk.LSTM(8, 16, peephole=True, impl=impl),
    "lstmp": lambda impl: rk.LSTM(8, 16, proj_size=4, impl=impl),
    "gru": lambda impl: rk.GRU(8, 16, impl=impl),
    "rnn": lambda impl: rk.RNN(8, 16, impl=impl),
}


@pytest.mark.parametrize("impl", ["auto", "kernel", "reference"])
@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "padded"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_bfloat16_autocast_matches_float32(name, lengths, impl):
    torch.manual_seed(0)
    layer = CONFIGS[name](impl)
    x = torch.randn(12, 4, 8)
    expected, _ = layer(x, lengths=lengths)
    expected_grads = torch.autograd.grad(expected.sum(), list(layer.parameters()))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, _ = layer(x, lengths=lengths)
    grads = torch.autograd.grad(out.float().sum(), list(layer.parameters()))
    low_precision = layer.choose_impl(lengths is not None) != "kernel"
    assert out.dtype == torch.float32 or low_precision
    tol = dict(atol=BF16_TOL, rtol=0) if low_precision else dict(atol=0, rtol=0)
    torch.testing.assert_close(out.float(), expected, **tol)
    for mine, reference in zip(grads, expected_grads):
        assert mine.dtype == torch.float32  # the weights' gradients stay in their own dtype
        if low_precision:
            assert (mine - reference).norm() <= 0.05 * reference.norm()
        else:
            torch.testing.assert_close(mine, reference, atol=0, rtol=0)


@pytest.mark.parametrize("make", [lambda: rk.GRU(2, 3), lambda: rk.LSTM(2, 3, peephole=True)], ids=["gru", "lstm"])
def test_initial_state_of_another_dtype_is_a_clear_error(make):
    layer, x = make(), torch.randn(4, 1, 2)
    h0 = torch.zeros(1, 1, 3, dtype=torch.float64)
    state = h0 if isinstance(layer, rk.GRU) else (h0, h0)
    with pytest.raises(ValueError, match=r"dtype torch.float64 but the input has torch.float32"):
        layer(x, state)


def test_initial_state_on_another_device_is_a_clear_error():
    with pytest.raises(ValueError, match="is on meta but the input is on cpu"):
        rk.GRU(2, 3)(torch.randn(4, 1, 2), torch.zeros(1, 1, 3, device="meta"))
