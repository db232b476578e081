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
``h̃ W_hh^T`` GEMM (plus ``m W_hr^T`` with a projection) and in-place pointwise work on
preallocated buffers; backward precomputes every local derivative of the pointwise chain for all
steps at once (``k`` below), so that its loop does one ``da W_hh`` GEMM and a few multiplies per
step; weight and input gradients are GEMMs over all T*B rows after the loop.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from ..cells import LSTMParams, LSTMState
from ..cells._noise import NO_NOISE, ScanNoise
from ._common import (LN_EPS, LayerNormCache, bias_sum, blend_weight, input_projection, layer_norm,
                      layer_norm_backward, sigmoid_grad, steps, sum_rows, tanh_grad)


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
    ln_ih_hat: Tensor | None  # (T, B, 4H) normalised W_ih x           (L1)
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
    q = noise.recurrent
    mu_h, mu_c = blend_weight(mask, noise.zoneout_h), blend_weight(mask, noise.zoneout_c)
    peephole, proj, ln = p.weight_ci is not None, p.weight_hr is not None, p.ln_hh_weight is not None
    # (0) / (L1): the input part of the gates for all steps in one GEMM (and one layer norm)
    ln_ih = None
    if ln:
        gates, ln_ih = layer_norm(input_projection(x, p.weight_ih, None), p.ln_ih_weight, bias_sum(p.bias_ih, p.bias_hh))
    else:
        gates = input_projection(x, p.weight_ih, bias_sum(p.bias_ih, p.bias_hh))  # (T, B, 4H)
    hs, cs = x.new_empty(T + 1, B, P), x.new_empty(T + 1, B, H)
    hs[s.first], cs[s.first] = state0.h, state0.c
    c_new = cs[s.next] if mu_c is None else x.new_empty(T, B, H)
    tc = x.new_empty(T, B, H)
    m = x.new_empty(T, B, H) if proj else None
    z_hh = x.new_empty(T, B, 4 * H) if ln else None
    # per-step views, made once
    HS, CS, CN, TC = hs.unbind(0), cs.unbind(0), c_new.unbind(0), tc.unbind(0)
    A, IF, I, F, G, O = gates.unbind(0), *(v.unbind(0) for v in _gate_views(gates))
    M = m.unbind(0) if proj else None
    MU_H = None if mu_h is None else mu_h.expand(T, B, P).unbind(0)
    MU_C = None if mu_c is None else mu_c.expand(T, B, H).unbind(0)
    Z_HH = z_hh.unbind(0) if ln else None
    W_hh_t = p.weight_hh.t()  # (P, 4H)
    W_hr_t = p.weight_hr.t() if proj else None  # (H, P)
    w_cif = torch.stack([p.weight_ci, p.weight_cf]) if peephole else None  # (2, H)
    h_rec = x.new_empty(B, P) if q is not None else None
    h_new = x.new_empty(B, P) if mu_h is not None else None
    hh_stats, c_stats = [], []
    for t in s.order:
        h_prev, c_prev, h_next = HS[t + s.offset], CS[t + s.offset], HS[t + 1 - s.offset]
        h_in = h_prev if q is None else torch.mul(h_prev, q, out=h_rec)  # h̃ = q ⊙ h_{t-1}
        if ln:
            z_ln, *stats = torch.native_layer_norm(torch.mm(h_in, W_hh_t, out=Z_HH[t]), (4 * H,), p.ln_hh_weight,
                                                   None, LN_EPS)
            A[t].add_(z_ln)  # (L1) + LN(W_hh h̃; γ_hh)
            hh_stats.append(stats)
        else:
            A[t].addmm_(h_in, W_hh_t)  # (0) + W_hh h̃
        if peephole:
            IF[t].addcmul_(w_cif, c_prev.unsqueeze(1))  # (1), (2) + w_ci ⊙ c_{t-1}, w_cf ⊙ c_{t-1}
        IF[t].sigmoid_()  # (1), (2)
        G[t].tanh_()  # (3)
        c = torch.mul(F[t], c_prev, out=CN[t]).addcmul_(I[t], G[t])  # (4)
        if cell_clip is not None:
            c.clamp_(-cell_clip, cell_clip)  # (4')
        if peephole:
            O[t].addcmul_(p.weight_co, c)  # (5) + w_co ⊙ c'
        O[t].sigmoid_()  # (5)
        if p.ln_cell_weight is not None:
            c_hat, *stats = torch.native_layer_norm(c, (H,), p.ln_cell_weight, p.ln_cell_bias, LN_EPS)  # (L2)
            torch.tanh(c_hat, out=TC[t])  # (6)
            c_stats.append(stats)
        else:
            torch.tanh(c, out=TC[t])  # (6)
        h_out = h_next if h_new is None else h_new  # where h' goes: the state itself, or a buffer to blend from
        if proj:
            torch.mm(torch.mul(O[t], TC[t], out=M[t]), W_hr_t, out=h_out)  # (6), (7)
        else:
            torch.mul(O[t], TC[t], out=h_out)  # (6), (7)
        if MU_H is not None:
            torch.lerp(h_prev, h_new, MU_H[t], out=h_next)  # (M)
        if MU_C is not None:
            torch.lerp(c_prev, c, MU_C[t], out=CS[t + 1 - s.offset])  # (M)
    out = hs[s.next] * mask if mask is not None else hs[s.next].clone()  # (Y) (T, B, P|H)
    cache = LSTMCache(x, gates, hs, cs, c_new, tc, m, mask, mu_h, mu_c, q,
                      *(ln_ih if ln else (None, None)), z_hh, *_stack_stats(hh_stats, s.order),
                      *_stack_stats(c_stats, s.order))
    return out, LSTMState(hs[s.last].clone(), cs[s.last].clone()), cache


class LSTMGrads(NamedTuple):
    x: Tensor | None  # (T, B, I)
    h0: Tensor  # (B, P|H)
    c0: Tensor  # (B, H)
    params: LSTMParams


def backward(dout: Tensor, dh_n: Tensor, dc_n: Tensor, p: LSTMParams, cache: LSTMCache, reverse: bool,
             cell_clip: float | None = None, need_dx: bool = True) -> LSTMGrads:
    x, gates, hs, cs, c_new, tc, m, mask, mu_h, mu_c, q = cache[:11]
    T, B, _ = gates.shape
    H, P = p.weight_hh.shape[0] // 4, p.weight_hh.shape[1]
    s = steps(T, reverse)
    peephole, proj, ln, ln_c = (p.weight_ci is not None, p.weight_hr is not None, p.ln_hh_weight is not None,
                                p.ln_cell_weight is not None)
    i, f, g, o = gates.chunk(4, 2)  # 4 x (T, B, H)
    c_prev = cs[s.prev]  # (T, B, H) c_{t-1} of every step
    # the local derivatives of the pointwise chain, for all steps at once
    k = torch.empty_like(gates)  # (T, B, 4H): ∂c'/∂a_i, ∂c'/∂a_f, ∂c'/∂a_g, ∂m/∂a_o
    k_i, k_f, k_g, k_o = k.chunk(4, 2)
    torch.mul(g, sigmoid_grad(i), out=k_i)  # (4), (1)
    torch.mul(c_prev, sigmoid_grad(f), out=k_f)  # (4), (2)
    torch.mul(i, tanh_grad(g), out=k_g)  # (4), (3)
    torch.mul(tc, sigmoid_grad(o), out=k_o)  # (6), (5)
    k_c = o * tanh_grad(tc)  # (6) ∂m/∂c' (∂m/∂ĉ with layer norm)
    clip_pass = (c_new.abs() < cell_clip).to(c_new.dtype) if cell_clip is not None else None  # (4')
    ln_c_cache = _ln_cache(c_new, cache.ln_c_mean, cache.ln_c_rstd) if ln_c else None
    ln_hh_cache = _ln_cache(cache.z_hh, cache.ln_hh_mean, cache.ln_hh_rstd) if ln else None
    dy = dout if mask is None else dout * mask  # (Y)
    da = torch.empty_like(gates)  # (T, B, 4H) gradient of the gate pre-activations
    dz_hh = torch.empty_like(gates) if ln else da  # (T, B, 4H) gradient of W_hh h̃
    dh_new_all = x.new_empty(T, B, P) if proj else None  # (T, B, P) dh' for dW_hr
    dc_hat = x.new_empty(T, B, H) if ln_c else None  # (T, B, H) dĉ for dγ_c, dβ_c
    DY, DA, DZ_HH, K, K_O, K_C = dy.unbind(0), da.unbind(0), dz_hh.unbind(0), k.unbind(0), k_o.unbind(0), k_c.unbind(0)
    DA_IFG, K_IFG = (v[..., :3 * H].unflatten(-1, (3, H)).unbind(0) for v in (da, k))  # (B, 3, H) per step
    DA_I, DA_F, _, DA_O = (v.unbind(0) for v in da.chunk(4, 2))
    FS = f.unbind(0)
    MU_H = None if mu_h is None else mu_h.expand(T, B, P).unbind(0)
    MU_C = None if mu_c is None else mu_c.expand(T, B, H).unbind(0)
    W_hh, W_hr = p.weight_hh, p.weight_hr
    dh, dc = dh_n + DY[s.order[-1]], dc_n  # (Y); gradients of the state after the step
    for n in reversed(range(T)):
        t = s.order[n]
        dh_new = dh if MU_H is None else dh * MU_H[t]  # (M)
        if proj:
            dh_new_all[t] = dh_new
            dm = dh_new @ W_hr  # (7) (B, H)
        else:
            dm = dh_new  # (7)
        torch.mul(dm, K_O[t], out=DA_O[t])  # (6), (5) da_o
        dtc = dm * K_C[t]  # (6) gradient of c' (of ĉ with layer norm) through m
        if ln_c:
            dc_hat[t] = dtc
            dtc = layer_norm_backward(dtc, LayerNormCache(ln_c_cache.z_hat[t], ln_c_cache.rstd[t]), p.ln_cell_weight)  # (L2)
        dc_carry = dc if MU_C is None else dc * MU_C[t]  # (M) the part of dc_t that reaches c'
        dcn = dtc.add_(dc_carry)  # dc'
        if peephole:
            dcn.addcmul_(p.weight_co, DA_O[t])  # (5) w_co ⊙ c'
        if clip_pass is not None:
            dcn.mul_(clip_pass[t])  # (4')
        torch.mul(dcn.unsqueeze(1), K_IFG[t], out=DA_IFG[t])  # (4), (1)-(3): da_i, da_f, da_g
        dc_prev = dcn * FS[t]  # (4) f ⊙ c_{t-1}
        if peephole:
            dc_prev.addcmul_(p.weight_ci, DA_I[t]).addcmul_(p.weight_cf, DA_F[t])  # (1), (2) w_c* ⊙ c_{t-1}
        if MU_C is not None:
            dc_prev.add_(dc).sub_(dc_carry)  # (M) (1 - μ^c) dc_t
        if ln:
            DZ_HH[t].copy_(layer_norm_backward(DA[t], LayerNormCache(ln_hh_cache.z_hat[t], ln_hh_cache.rstd[t]),
                                               p.ln_hh_weight))  # (L1)
        dy_before = DY[s.order[n - 1]] if n > 0 else None  # (Y) of the step before
        if dy_before is not None and q is None and MU_H is None:
            dh_prev = torch.addmm(dy_before, DZ_HH[t], W_hh)  # (0) W_hh h̃, plus (Y)
        else:
            dh_prev = DZ_HH[t] @ W_hh  # (0) gradient of h̃
            if q is not None:
                dh_prev.mul_(q)  # h̃ = q ⊙ h_{t-1}
            if MU_H is not None:
                dh_prev.add_(dh).sub_(dh_new)  # (M) (1 - μ^h) dh_t
            if dy_before is not None:
                dh_prev.add_(dy_before)  # (Y)
        dh, dc = dh_prev, dc_prev
    # after the loop: the input part of (0) / (L1) for all steps at once
    ln_ih_cache = LayerNormCache(cache.ln_ih_hat, cache.ln_ih_rstd) if ln else None
    dz_ih = layer_norm_backward(da, ln_ih_cache, p.ln_ih_weight) if ln else da  # (L1) (T, B, 4H) gradient of W_ih x
    dx = torch.matmul(dz_ih, p.weight_ih) if need_dx else None  # (0) (T, B, I)
    params = _param_grads(x, da, dz_ih, dz_hh, dh_new_all, dc_hat, p, cache, s, ln_ih_cache, ln_hh_cache, ln_c_cache)
    return LSTMGrads(dx, dh, dc, params)


def _param_grads(x, da, dz_ih, dz_hh, dh_new_all, dc_hat, p, cache, s, ln_ih_cache, ln_hh_cache,
                 ln_c_cache) -> LSTMParams:
    """Every weight gradient as a GEMM or a reduction over all T*B rows."""
    T, B, G = da.shape
    H, P = G // 4, p.weight_hh.shape[1]
    rows = T * B
    h_in = cache.hs[s.prev] if cache.recurrent is None else cache.hs[s.prev] * cache.recurrent  # (T, B, P) h̃
    dW_hh = dz_hh.reshape(rows, G).t() @ h_in.reshape(rows, P)  # (0) (4H, P)
    dW_ih = dz_ih.reshape(rows, G).t() @ x.reshape(rows, -1)  # (0) (4H, I)
    db = sum_rows(da) if p.bias_ih is not None else None  # (0) the same for b_ih and b_hh
    g_ih = g_hh = g_c = b_c = None
    if p.ln_ih_weight is not None:
        g_ih, g_hh = sum_rows(da * ln_ih_cache.z_hat), sum_rows(da * ln_hh_cache.z_hat)  # (L1) dγ_ih, dγ_hh
    w_ci = w_cf = w_co = W_hr = None
    if p.weight_ci is not None:
        da_i, da_f, _, da_o = da.chunk(4, 2)
        c_prev = cache.cs[s.prev]
        w_ci, w_cf, w_co = sum_rows(da_i * c_prev), sum_rows(da_f * c_prev), sum_rows(da_o * cache.c_new)  # (1), (2), (5)
    if p.weight_hr is not None:
        W_hr = dh_new_all.reshape(rows, P).t() @ cache.m.reshape(rows, H)  # (7) (P, H)
    if p.ln_cell_weight is not None:
        g_c, b_c = sum_rows(dc_hat * ln_c_cache.z_hat), sum_rows(dc_hat)  # (L2) dγ_c, dβ_c
    return LSTMParams(dW_ih, dW_hh, db, db, w_ci, w_cf, w_co, W_hr, g_ih, g_hh, g_c, b_c)


def _gate_views(gates: Tensor) -> tuple[Tensor, ...]:
    """(T, B, 4H) -> the views (i and f as one (T, B, 2, H) block, i, f, g, o)."""
    H = gates.shape[2] // 4
    return (gates[..., :2 * H].unflatten(-1, (2, H)), *gates.chunk(4, 2))


def _stack_stats(stats: list[list[Tensor]], order: range) -> tuple[Tensor | None, Tensor | None]:
    """Per-step layer-norm (mean, rstd), collected in processing order, as (T, B, 1) tensors in time order."""
    if not stats:
        return None, None
    if order.step < 0:
        stats = stats[::-1]
    return tuple(torch.stack(column) for column in zip(*stats))


def _ln_cache(z: Tensor, mean: Tensor, rstd: Tensor) -> LayerNormCache:
    return LayerNormCache((z - mean) * rstd, rstd)


class LSTMFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, c0, mask, zoneout_h, zoneout_c, recurrent, reverse, cell_clip, *weights):
        p = LSTMParams(*weights)
        out, state_n, cache = forward(x, LSTMState(h0, c0), p, mask, reverse,
                                      ScanNoise(zoneout_h, zoneout_c, recurrent), cell_clip)
        ctx.save_for_backward(*p, *cache)
        ctx.options = (reverse, cell_clip)
        return out, state_n.h, state_n.c

    @staticmethod
    @once_differentiable
    def backward(ctx, dout, dh_n, dc_n):
        saved, n = ctx.saved_tensors, len(LSTMParams._fields)
        g = backward(dout, dh_n, dc_n, LSTMParams(*saved[:n]), LSTMCache(*saved[n:]), *ctx.options,
                     ctx.needs_input_grad[0])
        return g.x, g.h0, g.c0, None, None, None, None, None, None, *g.params


def lstm_scan(x: Tensor, state0: LSTMState, params: LSTMParams, mask: Tensor | None, reverse: bool, *,
              noise: ScanNoise = NO_NOISE, cell_clip: float | None = None) -> tuple[Tensor, LSTMState]:
    """The kernel behind ``impl="kernel"``: same arguments and results as the reference ``lstm_scan``."""
    out, h_n, c_n = LSTMFunction.apply(x, state0.h, state0.c, mask, *noise, reverse, cell_clip, *params)
    return out, LSTMState(h_n, c_n)
