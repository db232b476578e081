"""The LSTM cell with forget gate, optional peepholes and optional recurrent projection (LSTMP).

One time step, numbered as in ``docs/derivations/lstm.md``::

    (1) i = σ(W_ii x + b_ii + W_hi h + b_hi + w_ci ⊙ c_prev)     input gate
    (2) f = σ(W_if x + b_if + W_hf h + b_hf + w_cf ⊙ c_prev)     forget gate
    (3) g = tanh(W_ig x + b_ig + W_hg h + b_hg)                   cell candidate
    (4) c = f ⊙ c_prev + i ⊙ g                                    cell state
    (5) o = σ(W_io x + b_io + W_ho h + b_ho + w_co ⊙ c)          output gate (sees the new c)
    (6) m = o ⊙ tanh(c)                                           cell output
    (7) h = W_hr m  (LSTMP, proj_size > 0)   else   h = m

The peephole terms (``w_c*``, diagonal, Gers and Schmidhuber 2000) exist only with
``peephole=True``; the projection (Sak et al. 2014) only with ``proj_size > 0``. Both together
are the Sak et al. LSTMP. Gate order in the stacked weights is torch's: i, f, g, o.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import batched_state, check_cell_input, check_proj_size, check_sizes
from ._init import init_recurrent_parameters

FORGET_GATE = 1  # index of f in the stacked (i, f, g, o) blocks


class LSTMState(NamedTuple):
    h: Tensor  # (B, P) with a projection, else (B, H)
    c: Tensor  # (B, H)


class LSTMParams(NamedTuple):
    """The weights of one LSTM cell (torch's names and shapes; absent ones are None)."""

    weight_ih: Tensor  # (4H, I)
    weight_hh: Tensor  # (4H, P) with a projection, else (4H, H)
    bias_ih: Tensor | None = None  # (4H,)
    bias_hh: Tensor | None = None  # (4H,)
    weight_ci: Tensor | None = None  # (H,) peephole into i
    weight_cf: Tensor | None = None  # (H,) peephole into f
    weight_co: Tensor | None = None  # (H,) peephole into o
    weight_hr: Tensor | None = None  # (P, H) projection


def lstm_cell(x: Tensor, state: LSTMState, p: LSTMParams) -> LSTMState:
    """One LSTM step: x (B, I), state (h (B, P|H), c (B, H)) -> new state."""
    h_prev, c_prev = state
    gates = F.linear(x, p.weight_ih, p.bias_ih) + F.linear(h_prev, p.weight_hh, p.bias_hh)  # (B, 4H)
    a_i, a_f, a_g, a_o = gates.chunk(4, dim=1)  # 4 x (B, H)
    if p.weight_ci is not None:
        a_i = a_i + p.weight_ci * c_prev
        a_f = a_f + p.weight_cf * c_prev
    i = torch.sigmoid(a_i)  # (1)
    f = torch.sigmoid(a_f)  # (2)
    g = torch.tanh(a_g)  # (3)
    c = f * c_prev + i * g  # (4)
    if p.weight_co is not None:
        a_o = a_o + p.weight_co * c
    o = torch.sigmoid(a_o)  # (5)
    m = o * torch.tanh(c)  # (6)
    h = F.linear(m, p.weight_hr) if p.weight_hr is not None else m  # (7) (B, P) or (B, H)
    return LSTMState(h, c)


class LSTMCell(nn.Module):
    """LSTM cell, a drop-in for ``torch.nn.LSTMCell``, with ``peephole`` and ``proj_size`` options.

    ``forward(input, hx=None)`` takes ``hx = (h, c)`` and returns ``LSTMState(h, c)`` (a tuple,
    like torch's). See the module docstring for the equations.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, proj_size: int = 0,
                 peephole: bool = False, init: str = "torch", device=None, dtype=None) -> None:
        super().__init__()
        check_sizes(input_size, hidden_size)
        check_proj_size(proj_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.proj_size, self.peephole, self.init = proj_size, peephole, init
        real_hidden = proj_size if proj_size > 0 else hidden_size
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, real_hidden, **factory))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size, **factory)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size, **factory)) if bias else None
        self.weight_hr = nn.Parameter(torch.empty(proj_size, hidden_size, **factory)) if proj_size else None
        for name in ("weight_ci", "weight_cf", "weight_co"):
            setattr(self, name, nn.Parameter(torch.empty(hidden_size, **factory)) if peephole else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_recurrent_parameters(dict(self.named_parameters()), self.hidden_size, 4, self.init, FORGET_GATE)

    def params(self) -> LSTMParams:
        return LSTMParams(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                          self.weight_ci, self.weight_cf, self.weight_co, self.weight_hr)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> LSTMState:
        x, unbatched = check_cell_input(input, self.input_size)
        h0, c0 = (None, None) if hx is None else hx
        h = batched_state(h0, x, self.proj_size or self.hidden_size, "hx[0] (h)", unbatched)
        c = batched_state(c0, x, self.hidden_size, "hx[1] (c)", unbatched)
        state = lstm_cell(x, LSTMState(h, c), self.params())
        return LSTMState(state.h.squeeze(0), state.c.squeeze(0)) if unbatched else state

    def extra_repr(self) -> str:
        extras = (f", proj_size={self.proj_size}" if self.proj_size else "") + (", peephole=True" if self.peephole else "")
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}{extras}"
