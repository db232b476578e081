"""The GRU's time loops in PyTorch: the readable version, and the fallback of ``csrc/loops.cpp``.

``forward_loop`` and ``backward_loop`` take exactly the arguments of the C++ ops
``rnnkit::gru_forward_loop`` / ``gru_backward_loop`` and fill the same preallocated buffers.
Equation numbers: ``docs/derivations/gru.md``.
"""
from __future__ import annotations

import torch
from torch import Tensor

from ._common import sigmoid_grad, steps, tanh_grad


def forward_loop(gates: Tensor, hs: Tensor, hidden: Tensor, weight_hh: Tensor, bias_hh: Tensor | None,
                 mu: Tensor | None, q: Tensor | None, reset_after: bool, reverse: bool) -> None:
    """Steps (1)-(4), (M): ``gates`` (T, B, 3H) holds the input part on entry, r, z, n on exit;
    ``hidden`` receives W_hh h̃ + b_hh (3a, (T, B, 3H)) or r ⊙ h̃ (3b, (T, B, H)) of every step."""
    T, B, G = gates.shape
    H = G // 3
    s = steps(T, reverse)
    HS, HID = hs.unbind(0), hidden.unbind(0)
    RZ, R, Z, N = gates[..., :2 * H].unbind(0), *(v.unbind(0) for v in gates.chunk(3, 2))
    HN = hidden[..., 2 * H:].unbind(0) if reset_after else HID  # (3a) W_hn h̃ + b_hn | (3b) r ⊙ h̃
    MU = None if mu is None else mu.expand(T, B, H).unbind(0)
    W_hh_t, W_rz_t, W_n_t = weight_hh.t(), weight_hh[:2 * H].t(), weight_hh[2 * H:].t()
    h_rec = hs.new_empty(B, H) if q is not None else None
    h_new = hs.new_empty(B, H) if mu is not None else None
    for t in s.order:
        h_prev, h_next = HS[t + s.offset], HS[t + 1 - s.offset]
        h_in = h_prev if q is None else torch.mul(h_prev, q, out=h_rec)  # h̃ = q ⊙ h_{t-1}
        if reset_after:
            if bias_hh is None:
                torch.mm(h_in, W_hh_t, out=HID[t])  # W_hh h̃
            else:
                torch.addmm(bias_hh, h_in, W_hh_t, out=HID[t])  # W_hh h̃ + b_hh
            RZ[t].add_(HID[t][:, :2 * H]).sigmoid_()  # (1), (2)
            N[t].addcmul_(R[t], HN[t]).tanh_()  # (3a)
        else:
            RZ[t].addmm_(h_in, W_rz_t).sigmoid_()  # (1), (2)
            N[t].addmm_(torch.mul(R[t], h_in, out=HN[t]), W_n_t).tanh_()  # (3b)
        h_out = h_next if h_new is None else h_new
        torch.lerp(N[t], h_prev, Z[t], out=h_out)  # (4) n + z ⊙ (h_{t-1} - n)
        if MU is not None:
            torch.lerp(h_prev, h_new, MU[t], out=h_next)  # (M)


def backward_loop(dy: Tensor, dh: Tensor, da: Tensor, dhid: Tensor, gates: Tensor, hs: Tensor, hidden: Tensor,
                  weight_hh: Tensor, mu: Tensor | None, q: Tensor | None, reset_after: bool, reverse: bool) -> None:
    """BPTT over the sequence. ``dy`` (T, B, H) is m_t ⊙ dout; ``dh`` holds the gradient of the final
    state on entry and of the initial state on exit; ``da`` (T, B, 3H) receives da_r, da_z, da_n and
    ``dhid`` (T, B, H) du (3a) or dv (3b) of every step. ``hidden`` is u (3a) or v = r ⊙ h̃ (3b)."""
    T, B, G = gates.shape
    H = G // 3
    s = steps(T, reverse)
    r, z, n = gates.chunk(3, 2)  # 3 x (T, B, H)
    h_prev = hs[s.prev]  # (T, B, H) h_{t-1} of every step
    # the local derivatives of the pointwise chain, for all steps at once
    k = torch.empty_like(gates)  # (T, B, 3H): ∂a_n/∂a_r (3a) or ∂v/∂a_r (3b), ∂h'/∂a_z, ∂h'/∂a_n
    k_r, k_z, k_n = k.chunk(3, 2)
    torch.mul(hidden if reset_after else h_prev if q is None else h_prev * q, sigmoid_grad(r), out=k_r)  # (3a) u | (3b) h̃, (1)
    torch.mul(h_prev - n, sigmoid_grad(z), out=k_z)  # (4), (2)
    torch.mul(1 - z, tanh_grad(n), out=k_n)  # (4), (3)
    DY, DA, DHID, ZS, RS = dy.unbind(0), da.unbind(0), dhid.unbind(0), z.unbind(0), r.unbind(0)
    DA_R, DA_N = (v.unbind(0) for v in da.chunk(3, 2)[::2])
    DA_ZN, K_ZN = (v[..., H:].unflatten(-1, (2, H)).unbind(0) for v in (da, k))  # (B, 2, H) per step
    K_R = k_r.unbind(0)
    MU = None if mu is None else mu.expand(T, B, H).unbind(0)
    W_rz, W_n = weight_hh[:2 * H], weight_hh[2 * H:]  # (2H, H), (H, H)
    dh_t = dh + DY[s.order[-1]]  # (Y)
    for j in reversed(range(T)):
        t = s.order[j]
        dh_new = dh_t if MU is None else dh_t * MU[t]  # (M)
        torch.mul(dh_new.unsqueeze(1), K_ZN[t], out=DA_ZN[t])  # (4), (2), (3): da_z, da_n
        if reset_after:
            torch.mul(DA_N[t], K_R[t], out=DA_R[t])  # (3a), (1) da_r
            torch.mul(DA_N[t], RS[t], out=DHID[t])  # (3a) du
        else:
            torch.mm(DA_N[t], W_n, out=DHID[t])  # (3b) dv
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
            dh_in.add_(dh_t).sub_(dh_new)  # (M) (1 - μ) dh_t
        if j > 0:
            dh_in.add_(DY[s.order[j - 1]])  # (Y) of the step before
        dh_t = dh_in
    dh.copy_(dh_t)
