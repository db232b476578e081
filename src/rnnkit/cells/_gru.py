"""The GRU cell in torch's form (``reset_after=True``) and Cho et al.'s original (``reset_after=False``).

One time step, numbered as in ``docs/derivations/gru.md``::

    (1) r  = σ(W_ir x + b_ir + W_hr h + b_hr)                    reset gate
    (2) z  = σ(W_iz x + b_iz + W_hz h + b_hz)                    update gate
    (3a) n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))           reset_after=True (torch, cuDNN)
    (3b) n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)           reset_after=False (Cho et al. 2014)
    (4) h' = (1 - z) ⊙ n + z ⊙ h

Gate order in the stacked weights is torch's: r, z, n.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._types import GRUParams
from ._checks import batched_state, check_cell_input, check_sizes
from ._init import init_recurrent_parameters
from ._noise import recurrent_input


def gru_cell(x: Tensor, h: Tensor, p: GRUParams, reset_after: bool = True, *,
             recurrent_mask: Tensor | None = None) -> Tensor:
    """One GRU step: x (B, I), h (B, H) -> h' (B, H).

    ``recurrent_mask`` (B, H): recurrent dropout's q; the weights W_h* see h̃ = q ⊙ h in (1)-(3),
    the interpolation (4) the undropped h (Gal and Ghahramani 2016).
    """
    H = h.shape[1]
    h_rec = recurrent_input(h, recurrent_mask)  # (B, H) h̃
    x_r, x_z, x_n = F.linear(x, p.weight_ih, p.bias_ih).chunk(3, dim=1)  # 3 x (B, H)
    W_hrz, W_hn = p.weight_hh[: 2 * H], p.weight_hh[2 * H:]  # (2H, H), (H, H)
    b_hrz, b_hn = (None, None) if p.bias_hh is None else (p.bias_hh[: 2 * H], p.bias_hh[2 * H:])
    h_r, h_z = F.linear(h_rec, W_hrz, b_hrz).chunk(2, dim=1)  # 2 x (B, H)
    r = torch.sigmoid(x_r + h_r)  # (1)
    z = torch.sigmoid(x_z + h_z)  # (2)
    if reset_after:
        n = torch.tanh(x_n + r * F.linear(h_rec, W_hn, b_hn))  # (3a)
    else:
        n = torch.tanh(x_n + F.linear(r * h_rec, W_hn, b_hn))  # (3b)
    return (1 - z) * n + z * h  # (4)


class GRUCell(nn.Module):
    """GRU cell, a drop-in for ``torch.nn.GRUCell``; ``reset_after=False`` gives Cho et al.'s GRU."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, reset_after: bool = True,
                 init: str = "torch", device=None, dtype=None) -> None:
        super().__init__()
        check_sizes(input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.reset_after, self.init = reset_after, init
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size, **factory))
        self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size, **factory)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size, **factory)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_recurrent_parameters(dict(self.named_parameters()), self.hidden_size, 3, self.init)

    def params(self) -> GRUParams:
        return GRUParams(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, unbatched = check_cell_input(input, self.input_size)
        h = batched_state(hx, x, self.hidden_size, "hx", unbatched)
        h = gru_cell(x, h, self.params(), self.reset_after)
        return h.squeeze(0) if unbatched else h

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}, reset_after={self.reset_after}"
