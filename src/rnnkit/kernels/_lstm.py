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

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from .._types import NO_NOISE, LSTMParams, LSTMState, ScanNoise
from . import _extension as extension
from . import _lstm_loops
from ._common import (LN_EPS, bias_sum, blend_weight, input_projection, layer_norm_grads, linear, steps, sum_rows,
                      twin_grads)


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
    loop(gates, hs, cs, c_new, tc, m, z_hh, hh_mean, hh_rstd, c_mean, c_rstd, p.weight_hh, p.weight_hr, p.weight_ci,
         p.weight_cf, p.weight_co, p.ln_hh_weight, p.ln_cell_weight, p.ln_cell_bias, _dense(mu_h, P), _dense(mu_c, H),
         _dense(noise.recurrent, P), cell_clip, reverse)
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
    loop(dy, dh, dc, da, dz_hh, dh_new_all, dc_hat, gates, cache.cs, cache.c_new, cache.tc, cache.z_hh,
         cache.ln_hh_mean, cache.ln_hh_rstd, cache.ln_c_mean, cache.ln_c_rstd, p.weight_hh, p.weight_hr, p.weight_ci,
         p.weight_cf, p.weight_co, p.ln_hh_weight, p.ln_cell_weight, _dense(cache.mu_h, P), _dense(cache.mu_c, H),
         _dense(cache.recurrent, P), cell_clip, reverse)
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


class LSTMFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, twin, x, h0, c0, mask, zoneout_h, zoneout_c, recurrent, reverse, cell_clip, *weights):
        p = LSTMParams(*weights)
        out, state_n, cache = forward(x, LSTMState(h0, c0), p, mask, reverse,
                                      ScanNoise(zoneout_h, zoneout_c, recurrent), cell_clip)
        ctx.save_for_backward(h0, c0, *p, *cache)
        ctx.options, ctx.twin = (reverse, cell_clip), twin
        return out, state_n.h, state_n.c

    @staticmethod
    def backward(ctx, dout, dh_n, dc_n):
        h0, c0, *saved = ctx.saved_tensors
        p, cache, needs = LSTMParams(*saved[:N_PARAMS]), LSTMCache(*saved[N_PARAMS:]), ctx.needs_input_grad
        if torch.is_grad_enabled():  # create_graph=True: the twin's gradients, as a graph
            g = twin_grads(ctx.twin, (cache.x, h0, c0, *p), needs[1:4] + needs[10:], (dout, dh_n, dc_n))
            return None, *g[:3], None, None, None, None, None, None, *g[3:]
        g = backward(dout, dh_n, dc_n, p, cache, *ctx.options, needs[1])
        return None, g.x, g.h0, g.c0, None, None, None, None, None, None, *g.params


N_PARAMS = len(LSTMParams._fields)


def lstm_scan(x: Tensor, state0: LSTMState, params: LSTMParams, mask: Tensor | None, reverse: bool, *,
              noise: ScanNoise = NO_NOISE, cell_clip: float | None = None,
              twin: Callable[..., tuple[Tensor, LSTMState]] | None = None) -> tuple[Tensor, LSTMState]:
    """The kernel behind ``impl="kernel"``: same arguments and results as the reference ``lstm_scan``.

    ``twin``: a differentiable scan with the same arguments (the reference), used only for
    higher-order gradients (``create_graph=True``; see ``_common.twin_grads``).
    """
    def rerun(x, h0, c0, *weights):
        out, (h_n, c_n) = twin(x, LSTMState(h0, c0), LSTMParams(*weights), mask, reverse, noise=noise,
                               cell_clip=cell_clip)
        return out, h_n, c_n

    out, h_n, c_n = LSTMFunction.apply(None if twin is None else rerun, x, state0.h, state0.c, mask, *noise, reverse,
                                       cell_clip, *params)
    return out, LSTMState(h_n, c_n)
