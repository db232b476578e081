"""Double backward (``create_graph=True``) through the kernels: gradient penalties, Hessian-vector products.

The hand-derived backward is not itself differentiable; under ``create_graph`` it differentiates
its twin (the reference scan, registered by ``rnnkit.layers``) instead. Checked by
``gradgradcheck`` and against torch's layers.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.autograd import gradgradcheck

import rnnkit as rk
from rnnkit._types import LSTMParams, LSTMState
from rnnkit.kernels import lstm_scan
from rnnkit.kernels._common import TWINS

F64 = dict(dtype=torch.float64)
LENGTHS = torch.tensor([4, 2])  # unequal: impl="auto" runs the rnnkit kernel, not torch's packed path

VARIANTS = {
    "lstm": lambda: rk.LSTM(3, 4, impl="kernel", **F64),
    "lstm-peephole": lambda: rk.LSTM(3, 4, peephole=True, impl="kernel", **F64),
    "lstmp": lambda: rk.LSTM(3, 4, proj_size=2, peephole=True, impl="kernel", **F64),
    "lstm-layer-norm": lambda: rk.LSTM(3, 4, layer_norm=True, cell_clip=2.0, impl="kernel", **F64),
    "gru": lambda: rk.GRU(3, 4, impl="kernel", **F64),
    "gru-cho": lambda: rk.GRU(3, 4, reset_after=False, impl="kernel", **F64),
    "rnn-tanh": lambda: rk.RNN(3, 4, bidirectional=True, impl="kernel", **F64),
    "rnn-relu": lambda: rk.RNN(3, 4, nonlinearity="relu", impl="kernel", **F64),
}


def _functional(layer: nn.Module, lengths: torch.Tensor | None):
    names = [name for name, _ in layer.named_parameters()]

    def run(x, *weights):
        out, _ = torch.func.functional_call(layer, dict(zip(names, weights)), (x,), {"lengths": lengths})
        return out

    return run


@pytest.mark.parametrize("name", list(VARIANTS))
def test_gradgradcheck_through_the_kernel(name):
    torch.manual_seed(0)
    layer = VARIANTS[name]()
    x = torch.randn(4, 2, 3, **F64, requires_grad=True)
    assert gradgradcheck(_functional(layer, LENGTHS), (x, *layer.parameters()))


@pytest.mark.parametrize("ours, theirs", [
    (lambda: rk.LSTM(3, 4, num_layers=2, **F64), lambda: nn.LSTM(3, 4, num_layers=2, **F64)),
    (lambda: rk.LSTM(3, 4, proj_size=2, **F64), lambda: nn.LSTM(3, 4, proj_size=2, **F64)),
    (lambda: rk.GRU(3, 4, bidirectional=True, **F64), lambda: nn.GRU(3, 4, bidirectional=True, **F64)),
    (lambda: rk.RNN(3, 4, **F64), lambda: nn.RNN(3, 4, **F64)),
], ids=["lstm-2-layers", "lstmp", "bi-gru", "rnn"])
def test_gradient_penalty_equals_torch(ours, theirs):
    """A WGAN-GP style penalty ‖∂L/∂x‖² differentiated w.r.t. the weights: impl="auto" as nn.* computes it."""
    torch.manual_seed(1)
    reference = theirs()
    layer = ours()
    layer.load_state_dict(reference.state_dict())
    x = torch.randn(4, 2, 3, **F64)

    def penalty_grads(module, run):
        x_ = x.clone().requires_grad_()
        out = run(module, x_)
        (dx,) = torch.autograd.grad(out.pow(2).sum(), x_, create_graph=True)
        return torch.autograd.grad(dx.pow(2).sum(), list(module.parameters()))

    def torch_run(module, x_):
        packed = nn.utils.rnn.pack_padded_sequence(x_, LENGTHS, enforce_sorted=False)
        return nn.utils.rnn.pad_packed_sequence(module(packed)[0])[0]

    assert layer.choose_impl(unequal_lengths=True) != "native"  # the kernel (or reference) path, not torch's
    ours_grads = penalty_grads(layer, lambda m, x_: m(x_, lengths=LENGTHS)[0])
    torch_grads = penalty_grads(reference, torch_run)
    for (name, _), mine, expected in zip(layer.named_parameters(), ours_grads, torch_grads):
        torch.testing.assert_close(mine, expected, atol=1e-10, rtol=1e-8, msg=name)


def test_hessian_vector_product_float32_training_path():
    """The float32 GRU that impl="auto" trains with (the kernel on CPU): a Hessian-vector product runs."""
    torch.manual_seed(2)
    layer = rk.GRU(3, 5, batch_first=True)
    x = torch.randn(2, 6, 3)
    params = list(layer.parameters())
    grads = torch.autograd.grad(layer(x)[0].pow(2).sum(), params, create_graph=True)
    vector = [torch.randn_like(p) for p in params]
    hvp = torch.autograd.grad(sum((g * v).sum() for g, v in zip(grads, vector)), params)
    assert all(h.shape == p.shape and torch.isfinite(h).all() for h, p in zip(hvp, params))
    assert any(h.abs().sum() > 0 for h in hvp)


def test_kernel_without_twin_says_so_under_create_graph(monkeypatch):
    monkeypatch.delitem(TWINS, "lstm")
    torch.manual_seed(3)
    x = torch.randn(3, 2, 2, **F64, requires_grad=True)
    params = LSTMParams(torch.randn(8, 2, **F64), torch.randn(8, 2, **F64))
    state = LSTMState(torch.zeros(2, 2, **F64), torch.zeros(2, 2, **F64))
    out, _ = lstm_scan(x, state, params, None, False)
    with pytest.raises(RuntimeError, match="twin"):
        torch.autograd.grad(out.sum(), x, create_graph=True)
