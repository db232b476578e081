"""LSTM kernel vs the reference scan, float64: outputs, final states and every gradient, over all options."""
import itertools

import pytest
import torch

import rnnkit as rk
from rnnkit import kernels
from rnnkit.cells import LSTMParams, LSTMState, ScanNoise
from rnnkit.layers import _reference

from ._compare import LENGTHS, B, H, I, P, T, assert_layers_same, assert_same, leaf, step_mask


def lstm_params(peephole=False, proj=False, layer_norm=False, bias=True) -> LSTMParams:
    G, H_out = 4 * H, P if proj else H
    return LSTMParams(
        leaf(G, I), leaf(G, H_out), leaf(G) if bias else None, leaf(G) if bias else None,
        *((leaf(H), leaf(H), leaf(H)) if peephole else (None, None, None)),
        leaf(P, H) if proj else None,
        *((1 + leaf(G), 1 + leaf(G), 1 + leaf(H), leaf(H)) if layer_norm else (None,) * 4))


def check_scan(peephole=False, proj=False, layer_norm=False, reverse=False, lengths=None, bias=True,
               zoneout=False, recurrent_dropout=False, cell_clip=None):
    torch.manual_seed(0)
    p = lstm_params(peephole, proj, layer_norm, bias)
    H_out = P if proj else H
    x, h0, c0 = leaf(T, B, I), leaf(B, H_out), leaf(B, H)
    noise = ScanNoise(
        torch.bernoulli(torch.full((T, B, H_out), 0.3, dtype=torch.float64)) if zoneout else None,
        torch.bernoulli(torch.full((T, B, H), 0.4, dtype=torch.float64)) if zoneout else None,
        torch.bernoulli(torch.full((B, H_out), 0.7, dtype=torch.float64)) / 0.7 if recurrent_dropout else None)
    args = (x, LSTMState(h0, c0), p, step_mask(lengths), reverse)
    present = [(name, t) for name, t in zip(LSTMParams._fields, p) if t is not None]
    assert_same(lambda: _reference.lstm_scan(*args, noise=noise, cell_clip=cell_clip),
                lambda: kernels.lstm_scan(*args, noise=noise, cell_clip=cell_clip),
                [x, h0, c0, *(t for _, t in present)], ["x", "h0", "c0", *(name for name, _ in present)])


@pytest.mark.parametrize("peephole,proj,layer_norm,reverse,lengths",
                         list(itertools.product([False, True], [False, True], [False, True], [False, True],
                                                [None, LENGTHS])))
def test_scan_matches_reference(peephole, proj, layer_norm, reverse, lengths):
    check_scan(peephole, proj, layer_norm, reverse, lengths)


@pytest.mark.parametrize("zoneout,recurrent_dropout,cell_clip,bias",
                         list(itertools.product([False, True], [False, True], [None, 0.3], [True, False])))
def test_scan_with_regularisers_matches_reference(zoneout, recurrent_dropout, cell_clip, bias):
    check_scan(True, True, True, True, LENGTHS, bias, zoneout, recurrent_dropout, cell_clip)
    check_scan(False, False, False, False, None, bias, zoneout, recurrent_dropout, cell_clip)


@pytest.mark.parametrize("peephole,proj,layer_norm,bidirectional,lengths,layers",
                         list(itertools.product([False, True], [False, True], [False, True], [False, True],
                                                [None, LENGTHS], [1, 2])))
def test_layer_matches_reference(peephole, proj, layer_norm, bidirectional, lengths, layers):
    D, H_out = 1 + bidirectional, P if proj else H
    torch.manual_seed(1)
    x, h0, c0 = leaf(T, B, I), leaf(layers * D, B, H_out), leaf(layers * D, B, H)
    assert_layers_same(lambda impl: rk.LSTM(I, H, layers, bidirectional=bidirectional, proj_size=P if proj else 0,
                                            peephole=peephole, layer_norm=layer_norm, impl=impl),
                       x, (h0, c0), lengths)


def test_layer_with_every_regulariser_matches_reference():
    torch.manual_seed(1)
    x = leaf(T, B, I)
    assert_layers_same(lambda impl: rk.LSTM(I, H, 2, bidirectional=True, proj_size=P, peephole=True, layer_norm=True,
                                            cell_clip=0.5, zoneout=(0.2, 0.4), input_dropout=0.3,
                                            recurrent_dropout=0.3, weight_drop=0.3, impl=impl),
                       x, None, LENGTHS)


def test_gradcheck_tiny():
    torch.manual_seed(2)
    Tt, Bt, It, Ht, Pt = 3, 2, 2, 3, 2
    p = LSTMParams(leaf(4 * Ht, It), leaf(4 * Ht, Pt), leaf(4 * Ht), leaf(4 * Ht), leaf(Ht), leaf(Ht), leaf(Ht),
                   leaf(Pt, Ht), 1 + leaf(4 * Ht), 1 + leaf(4 * Ht), 1 + leaf(Ht), leaf(Ht))
    mask = torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]], dtype=torch.float64).unsqueeze(-1)
    noise = ScanNoise(torch.tensor(0.3, dtype=torch.float64).expand(Tt, Bt, Pt), None,
                      torch.full((Bt, Pt), 1.25, dtype=torch.float64))

    def fn(x, h0, c0, *weights):
        out, state = kernels.lstm_scan(x, LSTMState(h0, c0), LSTMParams(*weights), mask, True, noise=noise,
                                       cell_clip=2.0)
        return out, state.h, state.c

    assert torch.autograd.gradcheck(fn, (leaf(Tt, Bt, It), leaf(Bt, Pt), leaf(Bt, Ht), *p))


def test_input_that_needs_no_gradient_gets_none():
    torch.manual_seed(3)
    p = lstm_params()
    x = torch.randn(T, B, I, dtype=torch.float64)
    out, _ = kernels.lstm_scan(x, LSTMState(torch.zeros(B, H, dtype=torch.float64),
                                                torch.zeros(B, H, dtype=torch.float64)), p, None, False)
    out.sum().backward()
    assert x.grad is None and p.weight_ih.grad is not None
