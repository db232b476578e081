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

from .._types import NO_NOISE, GRUParams, ScanNoise
from . import _extension as extension
from . import _gru_loops
from ._common import bias_sum, blend_weight, from_op_list, input_projection, linear, op_list, steps, sum_rows
from ._ops import define_scan_op, gradients_out, tensor_state_twin


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
    mu = blend_weight(mask, noise.zoneout_h)
    if reset_after:  # b_hn stays inside r ⊙ (.), so only b_ih joins the input GEMM
        gates = input_projection(x, p.weight_ih, p.bias_ih)  # (T, B, 3H)
        hidden_all = x.new_empty(T, B, 3 * H)  # (T, B, 3H) W_hh h̃ + b_hh of every step
        hidden = hidden_all[..., 2 * H:]  # (T, B, H) u = W_hn h̃ + b_hn
    else:  # every bias is outside a product: one sum
        gates = input_projection(x, p.weight_ih, bias_sum(p.bias_ih, p.bias_hh))  # (T, B, 3H)
        hidden = hidden_all = x.new_empty(T, B, H)  # (T, B, H) v = r ⊙ h̃
    hs = x.new_empty(T + 1, B, H)  # (T+1, B, H)
    hs[s.first] = h0
    loop = extension.op("gru_forward_loop", x) or _gru_loops.forward_loop  # the time loop: C++ or PyTorch
    loop(gates, hs, hidden_all, p.weight_hh, p.bias_hh if reset_after else None,
         None if mu is None else mu.expand(T, B, H).contiguous(), _contiguous(noise.recurrent), reset_after, reverse)
    out = hs[s.next] * mask if mask is not None else hs[s.next].clone()  # (Y) (T, B, H)
    return out, hs[s.last].clone(), GRUCache(x, p.weight_ih, p.weight_hh, gates, hs, hidden, mask, mu, noise.recurrent)


class GRUGrads(NamedTuple):
    x: Tensor | None  # (T, B, I)
    h0: Tensor  # (B, H)
    params: GRUParams


def backward(dout: Tensor, dh_n: Tensor, cache: GRUCache, reverse: bool, reset_after: bool, has_bias: bool = True,
             need_dx: bool = True) -> GRUGrads:
    x, W_ih, W_hh, gates, hs, hidden, mask, mu, q = cache
    T, B, H = hidden.shape
    s = steps(T, reverse)
    dy = (dout if mask is None else dout * mask).contiguous()  # (Y) the loops expect (T, B, ·) contiguous
    dh = dh_n.clone(memory_format=torch.contiguous_format)  # gradient of the final state in, of the initial out
    da = torch.empty_like(gates)  # (T, B, 3H) gradients of the pre-activations a_r, a_z, a_n
    dhid = torch.empty_like(hidden, memory_format=torch.contiguous_format)  # (T, B, H) du (3a) or dv (3b)
    loop = extension.op("gru_backward_loop", x) or _gru_loops.backward_loop  # the time loop: C++ or PyTorch
    loop(dy, dh, da, dhid, gates, hs, hidden, W_hh, None if mu is None else mu.expand(T, B, H).contiguous(), _contiguous(q),
         reset_after, reverse)
    h_in = hs[s.prev] if q is None else hs[s.prev] * q  # (T, B, H) h̃ of every step
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
    dx = linear(da, W_ih.t()) if need_dx else None  # (1)-(3) (T, B, I) W_ih^T da
    return GRUGrads(dx, dh, GRUParams(dW_ih, torch.cat([dW_rz, dW_n]), db_ih, db_hh))


def _contiguous(t: Tensor | None) -> Tensor | None:
    return None if t is None else t.contiguous()


def _scan(x: Tensor, state: list[Tensor], mask: Tensor | None, noise: list[Tensor], weights: list[Tensor],
          reverse: bool, reset_after: bool) -> list[Tensor]:
    """[out, h_n, *fresh]: the op form of ``forward`` (see _ops.py)."""
    out, h_n, cache = forward(x, state[0], GRUParams(*from_op_list(weights)), mask, reverse, reset_after,
                              ScanNoise(*from_op_list(noise)))
    return op_list([out, h_n, cache.gates, cache.hs, cache.hidden.clone() if reset_after else cache.hidden], x)


def _scan_backward(grads: list[Tensor], x: Tensor, mask: Tensor | None, noise: list[Tensor], weights: list[Tensor],
                   fresh: list[Tensor], reverse: bool, reset_after: bool, need_dx: bool) -> list[Tensor]:
    dout, dh_n = grads
    zoneout_h, _, recurrent = from_op_list(noise)
    p = GRUParams(*from_op_list(weights))
    gates, hs, hidden = fresh
    cache = GRUCache(x, p.weight_ih, p.weight_hh, gates, hs, hidden, mask, blend_weight(mask, zoneout_h), recurrent)
    g = backward(dout, dh_n, cache, reverse, reset_after, p.bias_ih is not None, need_dx)
    return gradients_out(g.x, [g.h0], g.params, x)


scan_op = define_scan_op("gru", "bool reset_after", _scan, _scan_backward, tensor_state_twin(GRUParams))


def gru_scan(x: Tensor, h0: Tensor, params: GRUParams, mask: Tensor | None, reverse: bool, reset_after: bool,
             *, noise: ScanNoise = NO_NOISE) -> tuple[Tensor, Tensor]:
    """The kernel behind ``impl="kernel"``: same arguments and results as the reference ``gru_scan``."""
    out, h_n, *_ = scan_op(x, [h0], mask, op_list(noise, x), op_list(params, x), reverse, reset_after)
    return out, h_n
