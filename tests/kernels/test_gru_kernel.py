"""GRU kernel (both forms) vs the reference scan, float64: outputs, final states and every gradient."""
import itertools

import pytest
import torch

import rnnkit as rk
from rnnkit import kernels
from rnnkit.cells import GRUParams, ScanNoise
from rnnkit.layers import _reference

from ._compare import LENGTHS, B, H, I, T, assert_layers_same, assert_same, leaf, step_mask


@pytest.mark.parametrize("reset_after,reverse,lengths,zoneout,recurrent_dropout,bias",
                         list(itertools.product([True, False], [False, True], [None, LENGTHS], [False, True],
                                                [False, True], [True, False])))
def test_scan_matches_reference(reset_after, reverse, lengths, zoneout, recurrent_dropout, bias):
    torch.manual_seed(0)
    p = GRUParams(leaf(3 * H, I), leaf(3 * H, H), leaf(3 * H) if bias else None, leaf(3 * H) if bias else None)
    x, h0 = leaf(T, B, I), leaf(B, H)
    noise = ScanNoise(torch.bernoulli(torch.full((T, B, H), 0.3, dtype=torch.float64)) if zoneout else None, None,
                      torch.bernoulli(torch.full((B, H), 0.7, dtype=torch.float64)) / 0.7 if recurrent_dropout else None)
    args = (x, h0, p, step_mask(lengths), reverse, reset_after)
    present = [(name, t) for name, t in zip(GRUParams._fields, p) if t is not None]
    assert_same(lambda: _reference.gru_scan(*args, noise=noise), lambda: kernels.gru_scan(*args, noise=noise),
                [x, h0, *(t for _, t in present)], ["x", "h0", *(name for name, _ in present)])


@pytest.mark.parametrize("reset_after,bidirectional,lengths,layers",
                         list(itertools.product([True, False], [False, True], [None, LENGTHS], [1, 2])))
def test_layer_matches_reference(reset_after, bidirectional, lengths, layers):
    torch.manual_seed(1)
    x, h0 = leaf(T, B, I), leaf(layers * (1 + bidirectional), B, H)
    assert_layers_same(lambda impl: rk.GRU(I, H, layers, bidirectional=bidirectional, reset_after=reset_after,
                                           impl=impl), x, h0, lengths)


@pytest.mark.parametrize("reset_after", [True, False])
def test_layer_with_every_regulariser_matches_reference(reset_after):
    torch.manual_seed(1)
    assert_layers_same(lambda impl: rk.GRU(I, H, 2, bidirectional=True, reset_after=reset_after, zoneout=0.3,
                                           input_dropout=0.3, recurrent_dropout=0.3, weight_drop=0.3, impl=impl),
                       leaf(T, B, I), None, LENGTHS)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gradcheck_tiny(reset_after):
    torch.manual_seed(2)
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]], dtype=torch.float64).unsqueeze(-1)
    noise = ScanNoise(torch.full((3, 2, 3), 0.25, dtype=torch.float64), None, torch.full((2, 3), 1.5, dtype=torch.float64))

    def fn(x, h0, *weights):
        return kernels.gru_scan(x, h0, GRUParams(*weights), mask, True, reset_after, noise=noise)

    assert torch.autograd.gradcheck(fn, (leaf(3, 2, 2), leaf(2, 3), leaf(9, 2), leaf(9, 3), leaf(9), leaf(9)))
