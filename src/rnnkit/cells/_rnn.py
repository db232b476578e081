"""The Elman RNN cell: one time step, as the lecture writes it.

    h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),   act = tanh or relu

(the course notes' ``h(t) = g_h(W_I x(t) + W_R h(t-1) + b_h)``, with ``b_h = b_ih + b_hh``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._types import RNNParams
from ._checks import batched_state, check_cell_input, check_sizes
from ._init import init_recurrent_parameters
from ._noise import recurrent_input

NONLINEARITIES = ("tanh", "relu")


def check_nonlinearity(nonlinearity: str) -> str:
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
    return nonlinearity


def rnn_cell(x: Tensor, h: Tensor, p: RNNParams, nonlinearity: str = "tanh", *,
             recurrent_mask: Tensor | None = None) -> Tensor:
    """One step of the Elman RNN: x (B, I), h (B, H) -> h' (B, H).

    ``recurrent_mask`` (B, H): recurrent dropout's q, so that W_hh sees q ⊙ h (Gal and Ghahramani 2016).
    """
    h_rec = recurrent_input(h, recurrent_mask)  # (B, H)
    a = F.linear(x, p.weight_ih, p.bias_ih) + F.linear(h_rec, p.weight_hh, p.bias_hh)  # (B, H)
    return torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)


class RNNCell(nn.Module):
    """Elman RNN cell, a drop-in for ``torch.nn.RNNCell``.

    .. math:: h_t = \\mathrm{act}(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 *, init: str = "torch", device=None, dtype=None) -> None:
        super().__init__()
        check_sizes(input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.nonlinearity = check_nonlinearity(nonlinearity)
        self.init = init
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size, **factory))
        self.bias_ih = nn.Parameter(torch.empty(hidden_size, **factory)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(hidden_size, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_recurrent_parameters(dict(self.named_parameters()), self.hidden_size, 1, self.init)

    def params(self) -> RNNParams:
        return RNNParams(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, unbatched = check_cell_input(input, self.input_size)
        h = batched_state(hx, x, self.hidden_size, "hx", unbatched)
        h = rnn_cell(x, h, self.params(), self.nonlinearity)
        return h.squeeze(0) if unbatched else h

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, nonlinearity={self.nonlinearity!r}, bias={self.bias}"
