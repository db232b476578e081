"""Initialisation: torch's default distribution, and Keras's (orthogonal recurrent weights, forget bias 1)."""
import math

import torch

import rnnkit as rk


def test_torch_scheme_bounds_every_parameter():
    layer = rk.LSTM(10, 16, num_layers=2, peephole=True, proj_size=8)
    bound = 1 / math.sqrt(16)
    for name, p in layer.named_parameters():
        assert p.abs().max() <= bound, name
        assert p.std() > bound / 4, f"{name} looks constant"


def test_keras_scheme():
    layer = rk.LSTM(10, 16, num_layers=2, bidirectional=True, peephole=True, init="keras")
    for name, p in layer.named_parameters():
        if name.startswith("weight_hh"):
            for block in p.detach().chunk(4, 0):  # each gate's (H, H) block is orthogonal
                torch.testing.assert_close(block @ block.T, torch.eye(16), atol=1e-5, rtol=0)
        elif name.startswith("bias_ih"):
            i, f, g, o = p.detach().chunk(4)
            assert torch.all(f == 1) and torch.all(torch.cat([i, g, o]) == 0), name
        elif name.startswith(("bias_hh", "weight_c")):
            assert torch.all(p == 0), name
        elif name.startswith("weight_ih"):
            limit = math.sqrt(6 / sum(p.shape))  # Glorot uniform
            assert p.abs().max() <= limit, name


def test_keras_scheme_for_gru_and_cells():
    gru = rk.GRU(5, 6, init="keras")
    assert torch.all(gru.bias_ih_l0 == 0)
    cell = rk.LSTMCell(5, 6, init="keras")
    assert torch.all(cell.bias_ih.chunk(4)[1] == 1)


def test_reset_parameters_redraws():
    layer = rk.GRU(5, 6)
    before = layer.weight_hh_l0.detach().clone()
    layer.reset_parameters()
    assert not torch.equal(before, layer.weight_hh_l0)
