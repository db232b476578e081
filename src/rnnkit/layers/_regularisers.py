"""The recurrent regularisers a layer draws around its scans; all off by default.

* zoneout (Krueger et al. 2016): each unit of a state keeps its previous value with probability p,
  ``s_t = d_t ⊙ s_{t-1} + (1 - d_t) ⊙ s_new``, ``d_t ~ Bernoulli(p)`` fresh for every step; in
  eval mode ``d_t = p``, the paper's expectation (deterministic, no random mask). The LSTM takes
  one probability for h and c, or a pair ``(p_h, p_c)``.
* variational dropout (Gal and Ghahramani 2016): ``input_dropout`` drops the same input units of a
  sequence at every step (one mask per sequence, per layer and direction), ``recurrent_dropout`` the
  same units of h_{t-1} where it meets the recurrent weights; inverted dropout (kept units scaled by
  1/(1-p)), the identity in eval mode.
* weight drop (Merity et al. 2017): DropConnect on ``W_hh``, one mask per forward call for all
  steps and the whole batch; the identity in eval mode.

Every mask comes from torch's global generator, in a fixed order (layer, direction; input,
weight, recurrent, zoneout h, zoneout c), so ``torch.manual_seed`` reproduces a forward call.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..cells import NO_NOISE, ScanNoise


def _probability(name: str, value: Any, high_inclusive: bool) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and 0 <= value and \
        (value <= 1 if high_inclusive else value < 1)
    if not ok:
        raise ValueError(f"{name} must be a number in [0, 1{']' if high_inclusive else ')'}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Regularisers:
    zoneout_h: float = 0.0  # probability that a unit of h keeps its previous value
    zoneout_c: float = 0.0  # the same for the LSTM cell state c
    input_dropout: float = 0.0  # variational dropout of each layer's input, one mask per sequence
    recurrent_dropout: float = 0.0  # variational dropout of h_{t-1} into W_hh, one mask per sequence
    weight_drop: float = 0.0  # DropConnect on W_hh, one mask per forward call

    @classmethod
    def checked(cls, zoneout: float | tuple[float, float], input_dropout: float, recurrent_dropout: float,
                weight_drop: float, has_cell: bool) -> Regularisers:
        if isinstance(zoneout, tuple) and has_cell and len(zoneout) == 2:
            z_h, z_c = zoneout
        elif isinstance(zoneout, tuple):
            raise ValueError(f"zoneout must be a number{' or a pair (p_h, p_c)' if has_cell else ''}, got {zoneout!r}")
        else:
            z_h = z_c = zoneout
        return cls(_probability("zoneout", z_h, True), _probability("zoneout", z_c, True) if has_cell else 0.0,
                   _probability("input_dropout", input_dropout, False),
                   _probability("recurrent_dropout", recurrent_dropout, False),
                   _probability("weight_drop", weight_drop, False))

    def active(self) -> bool:
        return any(value > 0 for value in (self.zoneout_h, self.zoneout_c, self.input_dropout,
                                           self.recurrent_dropout, self.weight_drop))

    def drop_input(self, x: Tensor, training: bool) -> Tensor:
        """x (T, B, I) with the same input units dropped at every step of a sequence."""
        if not training or self.input_dropout == 0:
            return x
        return x * _dropout_mask(x.shape[1:], self.input_dropout, x)  # (T, B, I) * (B, I)

    def drop_weights(self, params: Any, training: bool) -> Any:
        """The cell's Params with ``W_hh`` DropConnect-ed (a NamedTuple with a ``weight_hh`` field)."""
        if not training or self.weight_drop == 0:
            return params
        return params._replace(weight_hh=params.weight_hh * _dropout_mask(params.weight_hh.shape, self.weight_drop,
                                                                         params.weight_hh))

    def noise(self, T: int, B: int, h_size: int, c_size: int | None, like: Tensor, training: bool) -> ScanNoise:
        """The masks a scan applies inside its loop (``ScanNoise``)."""
        recurrent = None
        if training and self.recurrent_dropout > 0:
            recurrent = _dropout_mask((B, h_size), self.recurrent_dropout, like)  # (B, H_out)
        zoneout_h = _zoneout_mask((T, B, h_size), self.zoneout_h, like, training)  # (T, B, H_out)
        zoneout_c = _zoneout_mask((T, B, c_size), self.zoneout_c, like, training) if c_size else None  # (T, B, H)
        if recurrent is None and zoneout_h is None and zoneout_c is None:
            return NO_NOISE
        return ScanNoise(zoneout_h, zoneout_c, recurrent)


def _dropout_mask(shape: tuple[int, ...], p: float, like: Tensor) -> Tensor:
    """Bernoulli(1 - p) / (1 - p): inverted dropout."""
    return torch.bernoulli(like.new_full(shape, 1 - p)).div_(1 - p)


def _zoneout_mask(shape: tuple[int, int, int], p: float, like: Tensor, training: bool) -> Tensor | None:
    """d_t ~ Bernoulli(p) in training; the expectation p in eval; None for p = 0."""
    if p == 0:
        return None
    if training:
        return torch.rand(shape, dtype=like.dtype, device=like.device).lt_(p)  # Bernoulli(p) as 0/1, the fast way
    return like.new_full((1, 1, 1), p).expand(shape)
