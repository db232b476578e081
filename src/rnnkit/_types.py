"""The named tuples that the cells (the reference) and the kernels (the fast path) both speak.

They live below both layers so that neither imports the other: the weights of one cell
(torch's names and shapes; absent ones are None), the LSTM's state, and the random masks of the
recurrent regularisers that a layer draws once and hands to whichever implementation runs.
"""
from __future__ import annotations

from typing import NamedTuple

from torch import Tensor


class RNNParams(NamedTuple):
    """The weights of one RNN cell (torch's names and shapes)."""

    weight_ih: Tensor  # (H, I)
    weight_hh: Tensor  # (H, H)
    bias_ih: Tensor | None  # (H,)
    bias_hh: Tensor | None  # (H,)


class GRUParams(NamedTuple):
    """The weights of one GRU cell (torch's names and shapes)."""

    weight_ih: Tensor  # (3H, I)
    weight_hh: Tensor  # (3H, H)
    bias_ih: Tensor | None  # (3H,)
    bias_hh: Tensor | None  # (3H,)


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
    ln_ih_weight: Tensor | None = None  # (4H,) γ_ih, layer norm of W_ih x
    ln_hh_weight: Tensor | None = None  # (4H,) γ_hh, layer norm of W_hh h
    ln_cell_weight: Tensor | None = None  # (H,) γ_c, layer norm of c
    ln_cell_bias: Tensor | None = None  # (H,) β_c


class ScanNoise(NamedTuple):
    """The masks of the recurrent regularisers for one scan (``rnnkit.cells._noise`` says how they act)."""

    zoneout_h: Tensor | None = None  # (T, B, H_out) d_t for h: 1 keeps h_{t-1}
    zoneout_c: Tensor | None = None  # (T, B, H) d_t for the LSTM cell state c
    recurrent: Tensor | None = None  # (B, H_out) q, Gal's mask on h_{t-1} where it meets W_hh


NO_NOISE = ScanNoise()
