"""The Elman RNN over a whole sequence: ``forward -> (out, h_n, cache)``, ``backward(dout, dh_n, cache)``.

Equations, numbered as in ``docs/derivations/rnn.md`` (t runs T-1 .. 0 for ``reverse``)::

    (1) a_t   = W_ih x_t + b_ih + W_hh h̃_{t-1} + b_hh,   h̃ = q ⊙ h (recurrent dropout q, else h̃ = h)
    (2) h'_t  = act(a_t)                                  act = tanh or relu
    (M) h_t   = μ_t ⊙ h'_t + (1 - μ_t) ⊙ h_{t-1}          μ_t = m_t (1 - d_t): lengths mask, zoneout
    (Y) y_t   = m_t ⊙ h_t

and BPTT, the lecture's ∇_h(t) L = W^T ∇_h(t+1) L diag(1 - h(t+1)²) + ∇_y(t) L, masked::

    dh_t  += m_t ⊙ dy_t                 (Y)
    dh'_t  = μ_t ⊙ dh_t                 (M)
    da_t   = dh'_t ⊙ act'(h'_t)         (2)
    dh_{t-1} = q ⊙ (da_t W_hh) + (1 - μ_t) ⊙ dh_t      (1), (M)

Speed: the input projection of all steps is one GEMM before the loop; the loop does one
``h W_hh^T`` GEMM and the activation in place per step (one ``da W_hh`` GEMM and one multiply
backward); the weight and input gradients are three GEMMs over all T*B rows after the loop.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .._types import NO_NOISE, RNNParams, ScanNoise
from ._common import (bias_sum, blend_weight, from_op_list, input_projection, linear, op_list, relu_grad, steps,
                      tanh_grad)
from ._ops import define_scan_op, gradients_out, tensor_state_twin


class RNNCache(NamedTuple):
    x: Tensor  # (T, B, I)
    weight_ih: Tensor  # (H, I)
    weight_hh: Tensor  # (H, H)
    hs: Tensor  # (T+1, B, H) states h_t in the time layout of _common
    h_new: Tensor  # (T, B, H) h'_t = act(a_t); a view of hs when μ is None
    mask: Tensor | None  # (T, B, 1) m_t
    mu: Tensor | None  # (T, B, H|1) μ_t
    recurrent: Tensor | None  # (B, H) q


def forward(x: Tensor, h0: Tensor, p: RNNParams, mask: Tensor | None, reverse: bool, nonlinearity: str,
            noise: ScanNoise = NO_NOISE) -> tuple[Tensor, Tensor, RNNCache]:
    T, B, _ = x.shape
    H = p.weight_hh.shape[0]
    s = steps(T, reverse)
    act_ = torch.tanh_ if nonlinearity == "tanh" else torch.relu_
    q, mu = noise.recurrent, blend_weight(mask, noise.zoneout_h)
    a = input_projection(x, p.weight_ih, bias_sum(p.bias_ih, p.bias_hh))  # (T, B, H) W_ih x + b, all steps
    hs = x.new_empty(T + 1, B, H)  # (T+1, B, H)
    hs[s.first] = h0
    h_new = hs[s.next] if mu is None else a  # act(a) in place: in the state buffer, or in a to blend from
    A, S, NEW = a.unbind(0), hs.unbind(0), h_new.unbind(0)
    MU = None if mu is None else mu.expand(T, B, H).unbind(0)
    W_hh_t = p.weight_hh.t()  # (H, H)
    h_rec = x.new_empty(B, H) if q is not None else None
    for t in s.order:
        h_prev, h_next = S[t + s.offset], S[t + 1 - s.offset]
        if q is not None:
            h_prev = torch.mul(h_prev, q, out=h_rec)  # h̃ = q ⊙ h
        torch.addmm(A[t], h_prev if q is None else h_rec, W_hh_t, out=NEW[t])  # (1)
        act_(NEW[t])  # (2)
        if MU is not None:
            torch.lerp(S[t + s.offset], NEW[t], MU[t], out=h_next)  # (M)
    out = hs[s.next] * mask if mask is not None else hs[s.next].clone()  # (Y) (T, B, H)
    return out, hs[s.last].clone(), RNNCache(x, p.weight_ih, p.weight_hh, hs, h_new, mask, mu, q)


class RNNGrads(NamedTuple):
    x: Tensor | None  # (T, B, I)
    h0: Tensor  # (B, H)
    params: RNNParams


def backward(dout: Tensor, dh_n: Tensor, cache: RNNCache, reverse: bool, nonlinearity: str,
             has_bias: bool = True, need_dx: bool = True) -> RNNGrads:
    x, W_ih, W_hh, hs, h_new, mask, mu, q = cache
    T, B, H = h_new.shape
    s = steps(T, reverse)
    d_act = tanh_grad(h_new) if nonlinearity == "tanh" else relu_grad(h_new)  # (2) act'(a) for all steps
    dy = dout if mask is None else dout * mask  # (Y) (T, B, H)
    da = torch.empty_like(h_new)  # (T, B, H)
    DY, DA, DACT = dy.unbind(0), da.unbind(0), d_act.unbind(0)
    MU = None if mu is None else mu.expand(T, B, H).unbind(0)
    dh = dh_n + DY[s.order[-1]]  # (Y) gradient of the last state
    for k in reversed(range(T)):
        t = s.order[k]
        dh_new = dh if MU is None else dh * MU[t]  # (M)
        torch.mul(dh_new, DACT[t], out=DA[t])  # (2)
        if k == 0:
            dh_rec = DA[t] @ W_hh  # (1) gradient of h̃_{t-1}
        elif q is None and MU is None:
            dh_rec = torch.addmm(DY[s.order[k - 1]], DA[t], W_hh)  # (1), plus (Y) of the step before
        else:
            dh_rec = DA[t] @ W_hh  # (1)
        if q is not None:
            dh_rec.mul_(q)  # (1) h̃ = q ⊙ h
        if MU is not None:
            dh_rec.add_(dh - dh_new)  # (M) the (1 - μ) part that skips the step
        if k > 0 and (q is not None or MU is not None):
            dh_rec.add_(DY[s.order[k - 1]])  # (Y) of the step before
        dh = dh_rec
    # weight and input gradients: a few GEMMs over all T*B rows
    da2 = da.view(T * B, H)
    h_rec = hs[s.prev] if q is None else hs[s.prev] * q  # (T, B, H) h̃_{t-1} of every step
    dW_hh = da2.t() @ h_rec.reshape(T * B, H)  # (1) (H, H)
    dW_ih = da2.t() @ x.reshape(T * B, -1)  # (1) (H, I)
    db = da2.sum(0) if has_bias else None  # (1) (H,), the same for b_ih and b_hh
    dx = linear(da, W_ih.t()) if need_dx else None  # (1) (T, B, I) W_ih^T da
    return RNNGrads(dx, dh, RNNParams(dW_ih, dW_hh, db, db))


def _scan(x: Tensor, state: list[Tensor], mask: Tensor | None, noise: list[Tensor], weights: list[Tensor],
          reverse: bool, nonlinearity: str) -> list[Tensor]:
    """[out, h_n, *fresh]: the op form of ``forward`` (see _ops.py)."""
    out, h_n, cache = forward(x, state[0], RNNParams(*from_op_list(weights)), mask, reverse, nonlinearity,
                              ScanNoise(*from_op_list(noise)))
    return op_list([out, h_n, cache.hs, None if cache.mu is None else cache.h_new], x)  # else h_new is a view of hs


def _scan_backward(grads: list[Tensor], x: Tensor, mask: Tensor | None, noise: list[Tensor], weights: list[Tensor],
                   fresh: list[Tensor], reverse: bool, nonlinearity: str, need_dx: bool) -> list[Tensor]:
    dout, dh_n = grads
    zoneout_h, _, recurrent = from_op_list(noise)
    p = RNNParams(*from_op_list(weights))
    hs, h_new = from_op_list(fresh)
    if h_new is None:
        h_new = hs[steps(x.shape[0], reverse).next]
    cache = RNNCache(x, p.weight_ih, p.weight_hh, hs, h_new, mask, blend_weight(mask, zoneout_h), recurrent)
    g = backward(dout, dh_n, cache, reverse, nonlinearity, p.bias_ih is not None, need_dx)
    return gradients_out(g.x, [g.h0], g.params, x)


scan_op = define_scan_op("rnn", "str nonlinearity", _scan, _scan_backward, tensor_state_twin(RNNParams))


def rnn_scan(x: Tensor, h0: Tensor, params: RNNParams, mask: Tensor | None, reverse: bool, nonlinearity: str,
             *, noise: ScanNoise = NO_NOISE) -> tuple[Tensor, Tensor]:
    """The kernel behind ``impl="kernel"``: same arguments and results as the reference ``rnn_scan``."""
    out, h_n, *_ = scan_op(x, [h0], mask, op_list(noise, x), op_list(params, x), reverse, nonlinearity)
    return out, h_n
