"""The LSTM cell with forget gate, optional peepholes and optional recurrent projection (LSTMP).

One time step, numbered as in ``docs/derivations/lstm.md``::

    (1) i = σ(W_ii x + b_ii + W_hi h + b_hi + w_ci ⊙ c_prev)     input gate
    (2) f = σ(W_if x + b_if + W_hf h + b_hf + w_cf ⊙ c_prev)     forget gate
    (3) g = tanh(W_ig x + b_ig + W_hg h + b_hg)                   cell candidate
    (4) c = f ⊙ c_prev + i ⊙ g                                    cell state
    (5) o = σ(W_io x + b_io + W_ho h + b_ho + w_co ⊙ c)          output gate (sees the new c)
    (6) m = o ⊙ tanh(c)                                           cell output
    (7) h = W_hr m  (LSTMP, proj_size > 0)   else   h = m

Options, all off by default (``docs/derivations/lstm.md`` numbers them too):

* ``layer_norm=True`` (Ba et al. 2016): the two gate projections are layer-normalised over all 4H
  gate units, each with its own gain, before the biases are added, and the cell state is
  normalised where it enters the output (the carried c stays unnormalised)::

    (L1) a = LN(W_ih x; γ_ih) + b_ih + LN(W_hh h; γ_hh) + b_hh      the gate pre-activations in (1)-(5)
    (L2) ĉ = LN(c; γ_c, β_c),   (6) m = o ⊙ tanh(ĉ)

* ``cell_clip=C``: (4') c = clip(c, -C, C) right after (4), as in Sak et al.'s LSTMP (and TF);
* recurrent dropout (a mask ``q`` from the layer, Gal and Ghahramani 2016): ``W_h* h`` becomes
  ``W_h* (q ⊙ h)`` in (1)-(5).

The peephole terms (``w_c*``, diagonal, Gers and Schmidhuber 2000) exist only with
``peephole=True``; the projection (Sak et al. 2014) only with ``proj_size > 0``. Both together
are the Sak et al. LSTMP. Gate order in the stacked weights is torch's: i, f, g, o.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._types import LSTMParams, LSTMState
from ._checks import batched_state, check_cell_input, check_proj_size, check_sizes
from ._init import init_recurrent_parameters
from ._noise import recurrent_input

LN_EPS = 1e-5  # layer-norm epsilon (torch's default)

FORGET_GATE = 1  # index of f in the stacked (i, f, g, o) blocks


def layer_norm_shapes(hidden_size: int) -> dict[str, tuple[int]]:
    """The layer-norm parameters of ``layer_norm=True`` (gains start at 1, the bias at 0)."""
    return {"ln_ih_weight": (4 * hidden_size,), "ln_hh_weight": (4 * hidden_size,),
            "ln_cell_weight": (hidden_size,), "ln_cell_bias": (hidden_size,)}


def check_cell_clip(cell_clip: float | None) -> float | None:
    if cell_clip is None:
        return None
    if isinstance(cell_clip, bool) or not isinstance(cell_clip, (int, float)) or not cell_clip > 0:
        raise ValueError(f"cell_clip must be None or a positive number, got {cell_clip!r}")
    return float(cell_clip)


def _gate_inputs(x: Tensor, h: Tensor, p: LSTMParams) -> Tensor:
    """The gate pre-activations a (B, 4H): W_ih x + b_ih + W_hh h + b_hh, or (L1) with layer norm."""
    if p.ln_hh_weight is None:
        return F.linear(x, p.weight_ih, p.bias_ih) + F.linear(h, p.weight_hh, p.bias_hh)
    G = p.weight_ih.shape[0]
    a = F.layer_norm(F.linear(x, p.weight_ih), (G,), p.ln_ih_weight, None, LN_EPS) + \
        F.layer_norm(F.linear(h, p.weight_hh), (G,), p.ln_hh_weight, None, LN_EPS)  # (L1)
    for b in (p.bias_ih, p.bias_hh):
        a = a if b is None else a + b
    return a


def lstm_cell(x: Tensor, state: LSTMState, p: LSTMParams, *, recurrent_mask: Tensor | None = None,
              cell_clip: float | None = None) -> LSTMState:
    """One LSTM step: x (B, I), state (h (B, P|H), c (B, H)) -> new state.

    ``recurrent_mask`` (B, P|H) is recurrent dropout's q; ``cell_clip`` bounds c (4').
    """
    h_prev, c_prev = state
    gates = _gate_inputs(x, recurrent_input(h_prev, recurrent_mask), p)  # (B, 4H)
    a_i, a_f, a_g, a_o = gates.chunk(4, dim=1)  # 4 x (B, H)
    if p.weight_ci is not None:
        a_i = a_i + p.weight_ci * c_prev
        a_f = a_f + p.weight_cf * c_prev
    i = torch.sigmoid(a_i)  # (1)
    f = torch.sigmoid(a_f)  # (2)
    g = torch.tanh(a_g)  # (3)
    c = f * c_prev + i * g  # (4)
    if cell_clip is not None:
        c = c.clamp(-cell_clip, cell_clip)  # (4')
    if p.weight_co is not None:
        a_o = a_o + p.weight_co * c
    o = torch.sigmoid(a_o)  # (5)
    if p.ln_cell_weight is not None:
        m = o * torch.tanh(F.layer_norm(c, c.shape[1:], p.ln_cell_weight, p.ln_cell_bias, LN_EPS))  # (L2), (6)
    else:
        m = o * torch.tanh(c)  # (6)
    h = F.linear(m, p.weight_hr) if p.weight_hr is not None else m  # (7) (B, P) or (B, H)
    return LSTMState(h, c)


class LSTMCell(nn.Module):
    """LSTM cell, a drop-in for ``torch.nn.LSTMCell``, with ``peephole`` and ``proj_size`` options.

    ``forward(input, hx=None)`` takes ``hx = (h, c)`` and returns ``LSTMState(h, c)`` (a tuple,
    like torch's). See the module docstring for the equations.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, proj_size: int = 0,
                 peephole: bool = False, layer_norm: bool = False, cell_clip: float | None = None,
                 init: str = "torch", device=None, dtype=None) -> None:
        super().__init__()
        check_sizes(input_size, hidden_size)
        check_proj_size(proj_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.proj_size, self.peephole, self.init = proj_size, peephole, init
        self.layer_norm, self.cell_clip = layer_norm, check_cell_clip(cell_clip)
        real_hidden = proj_size if proj_size > 0 else hidden_size
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, real_hidden, **factory))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size, **factory)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size, **factory)) if bias else None
        self.weight_hr = nn.Parameter(torch.empty(proj_size, hidden_size, **factory)) if proj_size else None
        for name in ("weight_ci", "weight_cf", "weight_co"):
            setattr(self, name, nn.Parameter(torch.empty(hidden_size, **factory)) if peephole else None)
        for name, size in layer_norm_shapes(hidden_size).items():
            setattr(self, name, nn.Parameter(torch.empty(size, **factory)) if layer_norm else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_recurrent_parameters(dict(self.named_parameters()), self.hidden_size, 4, self.init, FORGET_GATE)

    def params(self) -> LSTMParams:
        return LSTMParams(*(getattr(self, name) for name in LSTMParams._fields))

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> LSTMState:
        x, unbatched = check_cell_input(input, self.input_size)
        h0, c0 = (None, None) if hx is None else hx
        h = batched_state(h0, x, self.proj_size or self.hidden_size, "hx[0] (h)", unbatched)
        c = batched_state(c0, x, self.hidden_size, "hx[1] (c)", unbatched)
        state = lstm_cell(x, LSTMState(h, c), self.params(), cell_clip=self.cell_clip)
        return LSTMState(state.h.squeeze(0), state.c.squeeze(0)) if unbatched else state

    def extra_repr(self) -> str:
        extras = (f", proj_size={self.proj_size}" if self.proj_size else "") + (", peephole=True" if self.peephole else "")
        extras += (", layer_norm=True" if self.layer_norm else "") + (f", cell_clip={self.cell_clip}" if self.cell_clip else "")
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}{extras}"
