"""Random masks of the recurrent regularisers, drawn by a layer and applied inside a scan.

A layer draws them once per forward call for each direction of each layer (so they are
reproducible from ``torch.manual_seed``) and hands the same tensors to the reference scan and to
the kernel:

* zoneout (Krueger et al. 2016): per unit and step, a state keeps its previous value,
  ``s_t = d_t ⊙ s_{t-1} + (1 - d_t) ⊙ s_new``, with ``d_t ~ Bernoulli(p)`` in training and
  ``d_t = p`` (the expectation) in eval mode;
* recurrent dropout (Gal and Ghahramani 2016): the recurrent weights see ``h̃ = q ⊙ h_{t-1}``
  with one mask ``q`` (scaled by ``1/(1-p)``) for every step of the sequence; None in eval.
"""
from __future__ import annotations

from torch import Tensor

from .._types import NO_NOISE, ScanNoise  # noqa: F401 (re-exported)


def zoneout(new: Tensor, old: Tensor, d: Tensor | None) -> Tensor:
    """s_t = d ⊙ s_{t-1} + (1 - d) ⊙ s_new (identity when d is None)."""
    return new if d is None else d * old + (1 - d) * new


def recurrent_input(h: Tensor, q: Tensor | None) -> Tensor:
    """h̃ = q ⊙ h, what the recurrent weights see (h itself without recurrent dropout)."""
    return h if q is None else q * h
