"""The LSTM's time loops in PyTorch: the readable version, and the fallback of ``csrc/loops.cpp``.

``forward_loop`` and ``backward_loop`` take exactly the arguments of the C++ ops
``rnnkit::lstm_forward_loop`` / ``lstm_backward_loop``, grouped in the named tuples below (the C++
side reads them in the same field order), and fill the same preallocated buffers, so ``_lstm.py``
calls whichever is available. Equation numbers: ``docs/derivations/lstm.md``.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .._types import LSTMParams

from ._common import LN_EPS, LayerNormCache, layer_norm_backward, sigmoid_grad, steps, tanh_grad


class ForwardBuffers(NamedTuple):
    """What the forward loop writes (and the backward loop reads), preallocated by ``_lstm.forward``."""

    gates: Tensor  # (T, B, 4H) the input part of (0) on entry, the activated i, f, g, o on exit
    hs: Tensor  # (T+1, B, P|H) the states h_t in the time layout of _common (initial state set on entry)
    cs: Tensor  # (T+1, B, H) the states c_t (initial state set on entry)
    c_new: Tensor  # (T, B, H) c' of (4); a view of cs when μ^c is None
    tc: Tensor  # (T, B, H) tanh(c') or tanh(ĉ)
    m: Tensor | None  # (T, B, H) m of (6), with a projection
    z_hh: Tensor | None  # (T, B, 4H) W_hh h̃ before its layer norm     (L1)
    hh_mean: Tensor | None  # (T, B, 1)
    hh_rstd: Tensor | None  # (T, B, 1)
    c_mean: Tensor | None  # (T, B, 1)                                 (L2)
    c_rstd: Tensor | None  # (T, B, 1)


class BackwardBuffers(NamedTuple):
    """What the backward loop reads (dy) and writes, preallocated by ``_lstm.backward``."""

    dy: Tensor  # (T, B, P|H) m_t ⊙ dout
    dh: Tensor  # (B, P|H) the gradient of the final h on entry, of the initial h on exit
    dc: Tensor  # (B, H) the same for c
    da: Tensor  # (T, B, 4H) gradients of the gate pre-activations
    dz_hh: Tensor | None  # (T, B, 4H) gradient of W_hh h̃ before its layer norm (layer norm)
    dh_new_all: Tensor | None  # (T, B, P) dh' for dW_hr (projection)
    dc_hat: Tensor | None  # (T, B, H) dĉ for dγ_c, dβ_c (cell layer norm)


class Masks(NamedTuple):
    mu_h: Tensor | None  # (T, B, P|H) μ^h of (M), dense
    mu_c: Tensor | None  # (T, B, H) μ^c
    q: Tensor | None  # (B, P|H) recurrent dropout's mask


def forward_loop(buffers: ForwardBuffers, p: LSTMParams, masks: Masks, cell_clip: float | None,
                 reverse: bool) -> None:
    """Steps (0)-(7), (M) over the sequence; ``gates`` holds the input part of (0) on entry, the
    activated gates on exit; the states, c', tanh(c'), m and layer-norm statistics are written in place."""
    gates, hs, cs, c_new, tc, m, z_hh, hh_mean, hh_rstd, c_mean, c_rstd = buffers
    mu_h, mu_c, q = masks
    weight_hh, weight_hr = p.weight_hh, p.weight_hr
    weight_ci, weight_cf, weight_co = p.weight_ci, p.weight_cf, p.weight_co
    ln_hh_weight, ln_cell_weight, ln_cell_bias = p.ln_hh_weight, p.ln_cell_weight, p.ln_cell_bias
    T, B, G = gates.shape
    H, P = G // 4, hs.shape[2]
    s = steps(T, reverse)
    HS, CS, CN, TC = hs.unbind(0), cs.unbind(0), c_new.unbind(0), tc.unbind(0)
    A, I, F, G_, O = gates.unbind(0), *(v.unbind(0) for v in gates.chunk(4, 2))
    IF = gates[..., :2 * H].unflatten(-1, (2, H)).unbind(0)  # i and f as one (B, 2, H) block per step
    M = m.unbind(0) if m is not None else None
    MU_H = None if mu_h is None else mu_h.expand(T, B, P).unbind(0)
    MU_C = None if mu_c is None else mu_c.expand(T, B, H).unbind(0)
    W_hh_t = weight_hh.t()  # (P, 4H)
    W_hr_t = weight_hr.t() if weight_hr is not None else None  # (H, P)
    w_cif = torch.stack([weight_ci, weight_cf]) if weight_ci is not None else None  # (2, H)
    h_rec = hs.new_empty(B, P) if q is not None else None
    h_new = hs.new_empty(B, P) if mu_h is not None else None
    for t in s.order:
        h_prev, c_prev, h_next = HS[t + s.offset], CS[t + s.offset], HS[t + 1 - s.offset]
        h_in = h_prev if q is None else torch.mul(h_prev, q, out=h_rec)  # h̃ = q ⊙ h_{t-1}
        if ln_hh_weight is not None:
            z_ln, mean, rstd = torch.native_layer_norm(torch.mm(h_in, W_hh_t, out=z_hh[t]), (G,), ln_hh_weight,
                                                       None, LN_EPS)
            A[t].add_(z_ln)  # (L1) + LN(W_hh h̃; γ_hh)
            hh_mean[t], hh_rstd[t] = mean, rstd
        else:
            A[t].addmm_(h_in, W_hh_t)  # (0) + W_hh h̃
        if w_cif is not None:
            IF[t].addcmul_(w_cif, c_prev.unsqueeze(1))  # (1), (2) + w_ci ⊙ c_{t-1}, w_cf ⊙ c_{t-1}
        IF[t].sigmoid_()  # (1), (2)
        G_[t].tanh_()  # (3)
        c = torch.mul(F[t], c_prev, out=CN[t]).addcmul_(I[t], G_[t])  # (4)
        if cell_clip is not None:
            c.clamp_(-cell_clip, cell_clip)  # (4')
        if weight_co is not None:
            O[t].addcmul_(weight_co, c)  # (5) + w_co ⊙ c'
        O[t].sigmoid_()  # (5)
        if ln_cell_weight is not None:
            c_hat, c_mean[t], c_rstd[t] = torch.native_layer_norm(c, (H,), ln_cell_weight, ln_cell_bias, LN_EPS)  # (L2)
            torch.tanh(c_hat, out=TC[t])  # (6)
        else:
            torch.tanh(c, out=TC[t])  # (6)
        h_out = h_next if h_new is None else h_new  # where h' goes: the state itself, or a buffer to blend from
        if W_hr_t is not None:
            torch.mm(torch.mul(O[t], TC[t], out=M[t]), W_hr_t, out=h_out)  # (6), (7)
        else:
            torch.mul(O[t], TC[t], out=h_out)  # (6), (7)
        if MU_H is not None:
            torch.lerp(h_prev, h_new, MU_H[t], out=h_next)  # (M)
        if MU_C is not None:
            torch.lerp(c_prev, c, MU_C[t], out=CS[t + 1 - s.offset])  # (M)


def backward_loop(grads: BackwardBuffers, buffers: ForwardBuffers, p: LSTMParams, masks: Masks,
                  cell_clip: float | None, reverse: bool) -> None:
    """BPTT over the sequence. ``dy`` (T, B, P) is m_t ⊙ dout; ``dh``, ``dc`` hold the gradients of the
    final state on entry and of the initial state on exit; ``da`` (and ``dz_hh`` with layer norm,
    ``dh_new_all`` with a projection, ``dc_hat`` with cell layer norm) are filled for every step."""
    dy, dh, dc, da, dz_hh, dh_new_all, dc_hat = grads
    gates, _, cs, c_new, tc, _, z_hh, hh_mean, hh_rstd, c_mean, c_rstd = buffers
    mu_h, mu_c, q = masks
    weight_hh, weight_hr = p.weight_hh, p.weight_hr
    weight_ci, weight_cf, weight_co = p.weight_ci, p.weight_cf, p.weight_co
    ln_hh_weight, ln_cell_weight = p.ln_hh_weight, p.ln_cell_weight
    T, B, G = gates.shape
    H, P = G // 4, dh.shape[1]
    s = steps(T, reverse)
    i, f, g, o = gates.chunk(4, 2)  # 4 x (T, B, H)
    # the local derivatives of the pointwise chain, for all steps at once
    k = torch.empty_like(gates)  # (T, B, 4H): ∂c'/∂a_i, ∂c'/∂a_f, ∂c'/∂a_g, ∂m/∂a_o
    k_i, k_f, k_g, k_o = k.chunk(4, 2)
    torch.mul(g, sigmoid_grad(i), out=k_i)  # (4), (1)
    torch.mul(cs[s.prev], sigmoid_grad(f), out=k_f)  # (4), (2)
    torch.mul(i, tanh_grad(g), out=k_g)  # (4), (3)
    torch.mul(tc, sigmoid_grad(o), out=k_o)  # (6), (5)
    k_c = o * tanh_grad(tc)  # (6) ∂m/∂c' (∂m/∂ĉ with layer norm)
    clip_pass = (c_new.abs() < cell_clip).to(c_new.dtype) if cell_clip is not None else None  # (4')
    ln_c = None if ln_cell_weight is None else LayerNormCache((c_new - c_mean) * c_rstd, c_rstd)
    ln_hh = None if ln_hh_weight is None else LayerNormCache((z_hh - hh_mean) * hh_rstd, hh_rstd)
    dz = da if dz_hh is None else dz_hh  # what multiplies W_hh: da, or its layer norm's backward
    DY, DA, DZ, K_O, K_C, FS = dy.unbind(0), da.unbind(0), dz.unbind(0), k_o.unbind(0), k_c.unbind(0), f.unbind(0)
    DA_IFG, K_IFG = (v[..., :3 * H].unflatten(-1, (3, H)).unbind(0) for v in (da, k))  # (B, 3, H) per step
    DA_I, DA_F, _, DA_O = (v.unbind(0) for v in da.chunk(4, 2))
    MU_H = None if mu_h is None else mu_h.expand(T, B, P).unbind(0)
    MU_C = None if mu_c is None else mu_c.expand(T, B, H).unbind(0)
    dh_t, dc_t = dh + DY[s.order[-1]], dc  # (Y); gradients of the state after the step
    for n in reversed(range(T)):
        t = s.order[n]
        dh_new = dh_t if MU_H is None else dh_t * MU_H[t]  # (M)
        if weight_hr is not None:
            dh_new_all[t] = dh_new
            dm = dh_new @ weight_hr  # (7) (B, H)
        else:
            dm = dh_new  # (7)
        torch.mul(dm, K_O[t], out=DA_O[t])  # (6), (5) da_o
        dtc = dm * K_C[t]  # (6) gradient of c' (of ĉ with layer norm) through m
        if ln_c is not None:
            dc_hat[t] = dtc
            dtc = layer_norm_backward(dtc, LayerNormCache(ln_c.z_hat[t], ln_c.rstd[t]), ln_cell_weight)  # (L2)
        dc_carry = dc_t if MU_C is None else dc_t * MU_C[t]  # (M) the part of dc_t that reaches c'
        dcn = dtc.add_(dc_carry)  # dc'
        if weight_co is not None:
            dcn.addcmul_(weight_co, DA_O[t])  # (5) w_co ⊙ c'
        if clip_pass is not None:
            dcn.mul_(clip_pass[t])  # (4')
        torch.mul(dcn.unsqueeze(1), K_IFG[t], out=DA_IFG[t])  # (4), (1)-(3): da_i, da_f, da_g
        dc_prev = dcn * FS[t]  # (4) f ⊙ c_{t-1}
        if weight_ci is not None:
            dc_prev.addcmul_(weight_ci, DA_I[t]).addcmul_(weight_cf, DA_F[t])  # (1), (2) w_c* ⊙ c_{t-1}
        if MU_C is not None:
            dc_prev.add_(dc_t).sub_(dc_carry)  # (M) (1 - μ^c) dc_t
        if ln_hh is not None:
            DZ[t].copy_(layer_norm_backward(DA[t], LayerNormCache(ln_hh.z_hat[t], ln_hh.rstd[t]), ln_hh_weight))  # (L1)
        dy_before = DY[s.order[n - 1]] if n > 0 else None  # (Y) of the step before
        if dy_before is not None and q is None and MU_H is None:
            dh_prev = torch.addmm(dy_before, DZ[t], weight_hh)  # (0) W_hh h̃, plus (Y)
        else:
            dh_prev = DZ[t] @ weight_hh  # (0) gradient of h̃
            if q is not None:
                dh_prev.mul_(q)  # h̃ = q ⊙ h_{t-1}
            if MU_H is not None:
                dh_prev.add_(dh_t).sub_(dh_new)  # (M) (1 - μ^h) dh_t
            if dy_before is not None:
                dh_prev.add_(dy_before)  # (Y)
        dh_t, dc_t = dh_prev, dc_prev
    dh.copy_(dh_t)
    dc.copy_(dc_t)
