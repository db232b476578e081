"""The LSTM over a whole sequence: ``forward -> (out, state_n, cache)``, ``backward(dout, ..., cache)``.

Peepholes, projection (LSTMP), layer norm, cell clipping, zoneout and recurrent dropout, all in
one scan. Equations numbered as in ``rnnkit.cells._lstm`` and ``docs/derivations/lstm.md``
(t runs T-1 .. 0 for ``reverse``; h̃ = q ⊙ h_{t-1} with recurrent dropout, else h_{t-1})::

    (0)  a   = W_ih x_t + b_ih + W_hh h̃ + b_hh        (L1) with layer norm:  LN(W_ih x_t; γ_ih) + b_ih + LN(W_hh h̃; γ_hh) + b_hh
    (1)  i   = σ(a_i + w_ci ⊙ c_{t-1})
    (2)  f   = σ(a_f + w_cf ⊙ c_{t-1})
    (3)  g   = tanh(a_g)
    (4)  c'  = f ⊙ c_{t-1} + i ⊙ g                    (4') c' = clip(c', -C, C)
    (5)  o   = σ(a_o + w_co ⊙ c')
    (6)  m   = o ⊙ tanh(c')                          (L2) with layer norm:  m = o ⊙ tanh(ĉ), ĉ = LN(c'; γ_c, β_c)
    (7)  h'  = W_hr m   (projection)   else h' = m
    (M)  h_t = μ^h_t ⊙ h' + (1 - μ^h_t) ⊙ h_{t-1},   c_t = μ^c_t ⊙ c' + (1 - μ^c_t) ⊙ c_{t-1}
    (Y)  y_t = m_t ⊙ h_t                             μ_t = m_t (1 - d_t): lengths mask m, zoneout d

Speed: all input projections (and their layer norm) in one GEMM before the loop; per step one
``h̃ W_hh^T`` GEMM (plus ``m W_hr^T`` with a projection) and pointwise work on preallocated
buffers, in the time loops of ``_lstm_loops.py`` or their C++ twins (``csrc/lstm.h``: one fused
pass over the cells); backward likewise one ``dz W_hh`` GEMM per step; the weight and input
gradients are GEMMs and one fused layer-norm pass over all T*B rows after the loop.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .._types import NO_NOISE, LSTMParams, LSTMState, ScanNoise
from . import _extension as extension
from . import _lstm_loops
from ._lstm_loops import BackwardBuffers, ForwardBuffers, Masks
from ._common import (LN_EPS, bias_sum, blend_weight, from_op_list, input_projection, layer_norm_grads, linear,
                      op_list, steps, sum_rows)
from ._ops import define_scan_op, gradients_out


class LSTMCache(NamedTuple):
    x: Tensor  # (T, B, I)
    gates: Tensor  # (T, B, 4H) the gates i, f, g, o after their activations
    hs: Tensor  # (T+1, B, P|H) states h_t, time layout of _common
    cs: Tensor  # (T+1, B, H) states c_t
    c_new: Tensor  # (T, B, H) c' of (4); a view of cs when μ^c is None
    tc: Tensor  # (T, B, H) tanh(c') or tanh(ĉ)
    m: Tensor | None  # (T, B, H) m of (6), kept for dW_hr with a projection
    mask: Tensor | None  # (T, B, 1)
    mu_h: Tensor | None  # (T, B, P|H|1) μ^h
    mu_c: Tensor | None  # (T, B, H|1) μ^c
    recurrent: Tensor | None  # (B, P|H) q
    z_ih: Tensor | None  # (T, B, 4H) W_ih x before its layer norm      (L1)
    ln_ih_mean: Tensor | None  # (T, B, 1)
    ln_ih_rstd: Tensor | None  # (T, B, 1)
    z_hh: Tensor | None  # (T, B, 4H) W_hh h̃ before its layer norm     (L1)
    ln_hh_mean: Tensor | None  # (T, B, 1)
    ln_hh_rstd: Tensor | None  # (T, B, 1)
    ln_c_mean: Tensor | None  # (T, B, 1)                                 (L2)
    ln_c_rstd: Tensor | None  # (T, B, 1)


def forward(x: Tensor, state0: LSTMState, p: LSTMParams, mask: Tensor | None, reverse: bool,
            noise: ScanNoise = NO_NOISE, cell_clip: float | None = None) -> tuple[Tensor, LSTMState, LSTMCache]:
    T, B, _ = x.shape
    H, P = p.weight_hh.shape[0] // 4, p.weight_hh.shape[1]
    s = steps(T, reverse)
    mu_h, mu_c = blend_weight(mask, noise.zoneout_h), blend_weight(mask, noise.zoneout_c)
    ln, ln_c = p.ln_hh_weight is not None, p.ln_cell_weight is not None
    # (0) / (L1): the input part of the gates for all steps in one GEMM (and one layer norm)
    ln_ih = (None, None, None)
    if ln:
        z_ih = input_projection(x, p.weight_ih, None)  # (T, B, 4H)
        gates, mean, rstd = torch.native_layer_norm(z_ih, (4 * H,), p.ln_ih_weight, bias_sum(p.bias_ih, p.bias_hh),
                                                    LN_EPS)  # (L1) LN(W_ih x; γ_ih) + b_ih + b_hh
        ln_ih = (z_ih, mean, rstd)
    else:
        gates = input_projection(x, p.weight_ih, bias_sum(p.bias_ih, p.bias_hh))  # (T, B, 4H)
    hs, cs = x.new_empty(T + 1, B, P), x.new_empty(T + 1, B, H)
    hs[s.first], cs[s.first] = state0.h, state0.c
    c_new = cs[s.next] if mu_c is None else x.new_empty(T, B, H)  # (T, B, H) c'
    tc = x.new_empty(T, B, H)  # (T, B, H) tanh(c') or tanh(ĉ)
    m = x.new_empty(T, B, H) if p.weight_hr is not None else None  # (T, B, H)
    z_hh, hh_mean, hh_rstd = (x.new_empty(T, B, 4 * H), x.new_empty(T, B, 1), x.new_empty(T, B, 1)) if ln else (None,) * 3
    c_mean, c_rstd = (x.new_empty(T, B, 1), x.new_empty(T, B, 1)) if ln_c else (None, None)
    loop = extension.op("lstm_forward_loop", x) or _lstm_loops.forward_loop  # the time loop: C++ or PyTorch
    loop(ForwardBuffers(gates, hs, cs, c_new, tc, m, z_hh, hh_mean, hh_rstd, c_mean, c_rstd), p,
         Masks(_dense(mu_h, P), _dense(mu_c, H), _dense(noise.recurrent, P)), cell_clip, reverse)
    out = hs[s.next] * mask if mask is not None else hs[s.next].clone()  # (Y) (T, B, P|H)
    cache = LSTMCache(x, gates, hs, cs, c_new, tc, m, mask, mu_h, mu_c, noise.recurrent, *ln_ih, z_hh, hh_mean,
                      hh_rstd, c_mean, c_rstd)
    return out, LSTMState(hs[s.last].clone(), cs[s.last].clone()), cache


class LSTMGrads(NamedTuple):
    x: Tensor | None  # (T, B, I)
    h0: Tensor  # (B, P|H)
    c0: Tensor  # (B, H)
    params: LSTMParams


def backward(dout: Tensor, dh_n: Tensor, dc_n: Tensor, p: LSTMParams, cache: LSTMCache, reverse: bool,
             cell_clip: float | None = None, need_dx: bool = True) -> LSTMGrads:
    x, gates, mask = cache.x, cache.gates, cache.mask
    T, B, _ = gates.shape
    H, P = p.weight_hh.shape[0] // 4, p.weight_hh.shape[1]
    s = steps(T, reverse)
    ln, ln_c = p.ln_hh_weight is not None, p.ln_cell_weight is not None
    dy = (dout if mask is None else dout * mask).contiguous()  # (Y) the loops expect (T, B, ·) contiguous (T, B, P)
    dh = dh_n.clone(memory_format=torch.contiguous_format)  # gradient of the final state in, of the initial out
    dc = dc_n.clone(memory_format=torch.contiguous_format)
    da = torch.empty_like(gates)  # (T, B, 4H) gradient of the gate pre-activations
    dz_hh = torch.empty_like(gates) if ln else None  # (T, B, 4H) gradient of W_hh h̃ before its layer norm
    dh_new_all = x.new_empty(T, B, P) if p.weight_hr is not None else None  # (T, B, P) dh' for dW_hr
    dc_hat = x.new_empty(T, B, H) if ln_c else None  # (T, B, H) dĉ for dγ_c, dβ_c
    loop = extension.op("lstm_backward_loop", x) or _lstm_loops.backward_loop  # the time loop: C++ or PyTorch
    buffers = ForwardBuffers(gates, cache.hs, cache.cs, cache.c_new, cache.tc, cache.m, cache.z_hh, cache.ln_hh_mean,
                             cache.ln_hh_rstd, cache.ln_c_mean, cache.ln_c_rstd)
    loop(BackwardBuffers(dy, dh, dc, da, dz_hh, dh_new_all, dc_hat), buffers, p,
         Masks(_dense(cache.mu_h, P), _dense(cache.mu_c, H), _dense(cache.recurrent, P)), cell_clip, reverse)
    dz_hh = da if dz_hh is None else dz_hh
    # after the loop: the input part of (0) / (L1) and the layer-norm parameters, for all steps at once
    g_ih = g_hh = g_c = b_c = None
    dz_ih = da
    grads = extension.op("layer_norm_grads", x) or layer_norm_grads  # (L) for all rows: C++ or PyTorch
    if ln:
        dz_ih, g_ih, _ = grads(da, cache.z_ih, cache.ln_ih_mean, cache.ln_ih_rstd, p.ln_ih_weight, True, False)  # (L1)
        _, g_hh, _ = grads(da, cache.z_hh, cache.ln_hh_mean, cache.ln_hh_rstd, p.ln_hh_weight, False, False)  # (L1)
    if ln_c:
        _, g_c, b_c = grads(dc_hat, cache.c_new, cache.ln_c_mean, cache.ln_c_rstd, p.ln_cell_weight, False, True)  # (L2)
    dx = linear(dz_ih, p.weight_ih.t()) if need_dx else None  # (0) (T, B, I) W_ih^T dz_ih
    rows = T * B
    h_in = cache.hs[s.prev] if cache.recurrent is None else cache.hs[s.prev] * cache.recurrent  # (T, B, P) h̃
    dW_hh = dz_hh.reshape(rows, 4 * H).t() @ h_in.reshape(rows, P)  # (0) (4H, P)
    dW_ih = dz_ih.reshape(rows, 4 * H).t() @ x.reshape(rows, -1)  # (0) (4H, I)
    db = sum_rows(da) if p.bias_ih is not None else None  # (0) the same for b_ih and b_hh
    w_ci = w_cf = w_co = W_hr = None
    if p.weight_ci is not None:
        da_i, da_f, _, da_o = da.chunk(4, 2)
        c_prev = cache.cs[s.prev]
        w_ci, w_cf, w_co = sum_rows(da_i * c_prev), sum_rows(da_f * c_prev), sum_rows(da_o * cache.c_new)  # (1), (2), (5)
    if p.weight_hr is not None:
        W_hr = dh_new_all.reshape(rows, P).t() @ cache.m.reshape(rows, H)  # (7) (P, H)
    params = LSTMParams(dW_ih, dW_hh, db, db, w_ci, w_cf, w_co, W_hr, g_ih, g_hh, g_c, b_c)
    return LSTMGrads(dx, dh, dc, params)


def _dense(mask: Tensor | None, width: int) -> Tensor | None:
    """A mask as a contiguous (..., width) tensor for the loops (μ of a lengths mask is (T, B, 1))."""
    return None if mask is None else mask.expand(*mask.shape[:-1], width).contiguous()


# The cache fields the forward creates, which the backward op takes back (the rest of the cache are the
# scan's inputs, or made from them again): see _ops.py.
FRESH = ("gates", "hs", "cs", "c_new", "tc", "m", "z_ih", "ln_ih_mean", "ln_ih_rstd", "z_hh", "ln_hh_mean",
         "ln_hh_rstd", "ln_c_mean", "ln_c_rstd")


def _scan(x: Tensor, state: list[Tensor], mask: Tensor | None, noise: list[Tensor], weights: list[Tensor],
          reverse: bool, cell_clip: float | None) -> list[Tensor]:
    out, state_n, cache = forward(x, LSTMState(*state), LSTMParams(*from_op_list(weights)), mask, reverse,
                                  ScanNoise(*from_op_list(noise)), cell_clip)
    cache = cache._replace(c_new=None if cache.mu_c is None else cache.c_new)  # else a view of cs: made again
    return op_list([out, *state_n, *(getattr(cache, name) for name in FRESH)], x)


def _scan_backward(grads: list[Tensor], x: Tensor, mask: Tensor | None, noise: list[Tensor], weights: list[Tensor],
                   fresh: list[Tensor], reverse: bool, cell_clip: float | None, need_dx: bool) -> list[Tensor]:
    dout, dh_n, dc_n = grads
    zoneout_h, zoneout_c, recurrent = from_op_list(noise)
    cache = dict(zip(FRESH, from_op_list(fresh)))
    if cache["c_new"] is None:
        cache["c_new"] = cache["cs"][steps(x.shape[0], reverse).next]
    cache = LSTMCache(x=x, mask=mask, mu_h=blend_weight(mask, zoneout_h), mu_c=blend_weight(mask, zoneout_c),
                      recurrent=recurrent, **cache)
    g = backward(dout, dh_n, dc_n, LSTMParams(*from_op_list(weights)), cache, reverse, cell_clip, need_dx)
    return gradients_out(g.x, [g.h0, g.c0], g.params, x)


def _call_twin(twin, x, state, mask, noise, weights, reverse, cell_clip):
    out, state_n = twin(x, LSTMState(*state), LSTMParams(*from_op_list(weights)), mask, reverse,
                        noise=ScanNoise(*from_op_list(noise)), cell_clip=cell_clip)
    return out, *state_n


scan_op = define_scan_op("lstm", "float? cell_clip", _scan, _scan_backward, _call_twin)


def lstm_scan(x: Tensor, state0: LSTMState, params: LSTMParams, mask: Tensor | None, reverse: bool, *,
              noise: ScanNoise = NO_NOISE, cell_clip: float | None = None) -> tuple[Tensor, LSTMState]:
    """The kernel behind ``impl="kernel"``: same arguments and results as the reference ``lstm_scan``."""
    out, h_n, c_n, *_ = scan_op(x, list(state0), mask, op_list(noise, x), op_list(params, x), reverse, cell_clip)
    return out, LSTMState(h_n, c_n)
