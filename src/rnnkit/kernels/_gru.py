"""The GRU over a whole sequence, both forms: ``forward -> (out, h_n, cache)``, ``backward(dout, dh_n, cache)``.

Equations numbered as in ``rnnkit.cells._gru`` and ``docs/derivations/gru.md`` (t runs T-1 .. 0
for ``reverse``; h̃ = q ⊙ h_{t-1} with recurrent dropout q, else h_{t-1})::

    (1)  r   = σ(W_ir x_t + b_ir + W_hr h̃ + b_hr)
    (2)  z   = σ(W_iz x_t + b_iz + W_hz h̃ + b_hz)
    (3a) n   = tanh(W_in x_t + b_in + r ⊙ (W_hn h̃ + b_hn))      reset_after=True (torch)
    (3b) n   = tanh(W_in x_t + b_in + W_hn (r ⊙ h̃) + b_hn)      reset_after=False (Cho et al.)
    (4)  h'  = (1 - z) ⊙ n + z ⊙ h_{t-1}
    (M)  h_t = μ_t ⊙ h' + (1 - μ_t) ⊙ h_{t-1}                   μ_t = m_t (1 - d_t)
    (Y)  y_t = m_t ⊙ h_t

Speed: the input projections of all steps in one GEMM before the loop; per step one
``h̃ W_hh^T`` GEMM (3a) or two dependent GEMMs ``h̃ W_h{r,z}^T``, ``(r ⊙ h̃) W_hn^T`` (3b) and
in-place pointwise work; backward precomputes the local derivatives ``k_r, k_z, k_n`` for all steps
at once; weight and input gradients are GEMMs over all T*B rows after the loop.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from ..cells import GRUParams
from ..cells._noise import NO_NOISE, ScanNoise
from ._common import blend_weight, input_projection, sigmoid_grad, steps, sum_rows, tanh_grad


class GRUCache(NamedTuple):
    x: Tensor  # (T, B, I)
    weight_ih: Tensor  # (3H, I)
    weight_hh: Tensor  # (3H, H)
    gates: Tensor  # (T, B, 3H) r, z, n after their activations
    hs: Tensor  # (T+1, B, H) states h_t, time layout of _common
    hidden: Tensor  # (T, B, H) W_hn h̃ + b_hn (3a), or r ⊙ h̃ (3b)
    mask: Tensor | None  # (T, B, 1)
    mu: Tensor | None  # (T, B, H|1)
    recurrent: Tensor | None  # (B, H) q


def forward(x: Tensor, h0: Tensor, p: GRUParams, mask: Tensor | None, reverse: bool, reset_after: bool,
            noise: ScanNoise = NO_NOISE) -> tuple[Tensor, Tensor, GRUCache]:
    T, B, _ = x.shape
    H = p.weight_hh.shape[1]
    s = steps(T, reverse)
    q, mu = noise.recurrent, blend_weight(mask, noise.zoneout_h)
    b_hh = p.bias_hh
    if reset_after:  # b_hn stays inside r ⊙ (.), so only b_ih joins the input GEMM
        gates = input_projection(x, p.weight_ih, p.bias_ih)  # (T, B, 3H)
        hidden_all = x.new_empty(T, B, 3 * H)  # (T, B, 3H) W_hh h̃ + b_hh of every step
        hidden = hidden_all[..., 2 * H:]
    else:  # every bias is outside a product: one sum
        bias = p.bias_ih if b_hh is None else (b_hh if p.bias_ih is None else p.bias_ih + b_hh)
        gates = input_projection(x, p.weight_ih, bias)  # (T, B, 3H)
        hidden = hidden_all = x.new_empty(T, B, H)  # (T, B, H) r ⊙ h̃
    hs = x.new_empty(T + 1, B, H)  # (T+1, B, H)
    hs[s.first] = h0
    HS, HID, HN = hs.unbind(0), hidden_all.unbind(0), hidden.unbind(0)
    RZ, R, Z, N = gates[..., :2 * H].unbind(0), *(v.unbind(0) for v in gates.chunk(3, 2))
    MU = None if mu is None else mu.expand(T, B, H).unbind(0)
    W_hh_t, W_rz_t, W_n_t = p.weight_hh.t(), p.weight_hh[:2 * H].t(), p.weight_hh[2 * H:].t()
    h_rec = x.new_empty(B, H) if q is not None else None
    h_new = x.new_empty(B, H) if mu is not None else None
    for t in s.order:
        h_prev, h_next = HS[t + s.offset], HS[t + 1 - s.offset]
        h_in = h_prev if q is None else torch.mul(h_prev, q, out=h_rec)  # h̃ = q ⊙ h_{t-1}
        if reset_after:
            if b_hh is None:
                torch.mm(h_in, W_hh_t, out=HID[t])  # W_hh h̃
            else:
                torch.addmm(b_hh, h_in, W_hh_t, out=HID[t])  # W_hh h̃ + b_hh
            RZ[t].add_(HID[t][:, :2 * H]).sigmoid_()  # (1), (2)
            N[t].addcmul_(R[t], HN[t]).tanh_()  # (3a)
        else:
            RZ[t].addmm_(h_in, W_rz_t).sigmoid_()  # (1), (2)
            N[t].addmm_(torch.mul(R[t], h_in, out=HN[t]), W_n_t).tanh_()  # (3b)
        h_out = h_next if h_new is None else h_new
        torch.lerp(N[t], h_prev, Z[t], out=h_out)  # (4) n + z ⊙ (h_{t-1} - n)
        if MU is not None:
            torch.lerp(h_prev, h_new, MU[t], out=h_next)  # (M)
    out = hs[s.next] * mask if mask is not None else hs[s.next].clone()  # (Y) (T, B, H)
    return out, hs[s.last].clone(), GRUCache(x, p.weight_ih, p.weight_hh, gates, hs, hidden, mask, mu, q)


class GRUGrads(NamedTuple):
    x: Tensor | None  # (T, B, I)
    h0: Tensor  # (B, H)
    params: GRUParams


def backward(dout: Tensor, dh_n: Tensor, cache: GRUCache, reverse: bool, reset_after: bool, has_bias: bool = True,
             need_dx: bool = True) -> GRUGrads:
    x, W_ih, W_hh, gates, hs, hidden, mask, mu, q = cache
    T, B, H = hidden.shape
    s = steps(T, reverse)
    r, z, n = gates.chunk(3, 2)  # 3 x (T, B, H)
    h_prev = hs[s.prev]  # (T, B, H) h_{t-1} of every step
    h_in = h_prev if q is None else h_prev * q  # (T, B, H) h̃
    # the local derivatives of the pointwise chain, for all steps at once
    k = torch.empty_like(gates)  # (T, B, 3H): ∂a_n/∂a_r, ∂h'/∂a_z, ∂h'/∂a_n
    k_r, k_z, k_n = k.chunk(3, 2)
    torch.mul(hidden if reset_after else h_in, sigmoid_grad(r), out=k_r)  # (3a) W_hn h̃ + b_hn | (3b) h̃, times (1)
    torch.mul(h_prev - n, sigmoid_grad(z), out=k_z)  # (4), (2)
    torch.mul(1 - z, tanh_grad(n), out=k_n)  # (4), (3)
    dy = dout if mask is None else dout * mask  # (Y)
    da = torch.empty_like(gates)  # (T, B, 3H) gradients of the pre-activations a_r, a_z, a_n
    dhid = torch.empty_like(hidden)  # (T, B, H) gradient of W_hn h̃ + b_hn (3a) or of r ⊙ h̃ (3b)
    DY, DA, DHID, ZS, RS = dy.unbind(0), da.unbind(0), dhid.unbind(0), z.unbind(0), r.unbind(0)
    DA_R, DA_N = (v.unbind(0) for v in da.chunk(3, 2)[::2])
    DA_ZN, K_ZN = (v[..., H:].unflatten(-1, (2, H)).unbind(0) for v in (da, k))  # (B, 2, H) per step
    K_R = k_r.unbind(0)
    MU = None if mu is None else mu.expand(T, B, H).unbind(0)
    W_rz, W_n = W_hh[:2 * H], W_hh[2 * H:]  # (2H, H), (H, H)
    dh = dh_n + DY[s.order[-1]]  # (Y)
    for j in reversed(range(T)):
        t = s.order[j]
        dh_new = dh if MU is None else dh * MU[t]  # (M)
        torch.mul(dh_new.unsqueeze(1), K_ZN[t], out=DA_ZN[t])  # (4), (2), (3): da_z, da_n
        if reset_after:
            torch.mul(DA_N[t], K_R[t], out=DA_R[t])  # (3a), (1) da_r
            torch.mul(DA_N[t], RS[t], out=DHID[t])  # (3a) d(W_hn h̃ + b_hn)
        else:
            torch.mm(DA_N[t], W_n, out=DHID[t])  # (3b) d(r ⊙ h̃)
            torch.mul(DHID[t], K_R[t], out=DA_R[t])  # (3b), (1) da_r
        dh_in = DA[t][:, :2 * H] @ W_rz  # (1), (2) through W_h{r,z} h̃
        if reset_after:
            dh_in.addmm_(DHID[t], W_n)  # (3a) through W_hn h̃
        else:
            dh_in.addcmul_(DHID[t], RS[t])  # (3b) through r ⊙ h̃
        if q is not None:
            dh_in.mul_(q)  # h̃ = q ⊙ h_{t-1}
        dh_in.addcmul_(dh_new, ZS[t])  # (4) z ⊙ h_{t-1}
        if MU is not None:
            dh_in.add_(dh).sub_(dh_new)  # (M) (1 - μ) dh_t
        if j > 0:
            dh_in.add_(DY[s.order[j - 1]])  # (Y) of the step before
        dh = dh_in
    # weight and input gradients: GEMMs over all T*B rows
    rows = T * B
    da2, dhid2, h_in2 = da.view(rows, 3 * H), dhid.view(rows, H), h_in.reshape(rows, H)
    dW_ih = da2.t() @ x.reshape(rows, -1)  # (1)-(3) (3H, I)
    dW_rz = da2[:, :2 * H].t() @ h_in2  # (1), (2) (2H, H)
    if reset_after:
        dW_n = dhid2.t() @ h_in2  # (3a) (H, H)
    else:
        dW_n = da2[:, 2 * H:].t() @ hidden.reshape(rows, H)  # (3b) (H, H), against r ⊙ h̃
    db_ih = sum_rows(da) if has_bias else None
    db_hh = (torch.cat([db_ih[:2 * H], sum_rows(dhid)]) if reset_after else db_ih) if has_bias else None
    dx = torch.matmul(da, W_ih) if need_dx else None  # (T, B, I)
    return GRUGrads(dx, dh, GRUParams(dW_ih, torch.cat([dW_rz, dW_n]), db_ih, db_hh))


class GRUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, mask, zoneout_h, recurrent, reverse, reset_after, *weights):
        p = GRUParams(*weights)
        out, h_n, cache = forward(x, h0, p, mask, reverse, reset_after, ScanNoise(zoneout_h, None, recurrent))
        ctx.save_for_backward(*cache)
        ctx.options = (reverse, reset_after, p.bias_ih is not None)
        return out, h_n

    @staticmethod
    @once_differentiable
    def backward(ctx, dout, dh_n):
        g = backward(dout, dh_n, GRUCache(*ctx.saved_tensors), *ctx.options, ctx.needs_input_grad[0])
        return g.x, g.h0, None, None, None, None, None, *g.params


def gru_scan(x: Tensor, h0: Tensor, params: GRUParams, mask: Tensor | None, reverse: bool, reset_after: bool,
             *, noise: ScanNoise = NO_NOISE) -> tuple[Tensor, Tensor]:
    """The kernel behind ``impl="kernel"``: same arguments and results as the reference ``gru_scan``."""
    return GRUFunction.apply(x, h0, mask, noise.zoneout_h, noise.recurrent, reverse, reset_after, *params)
