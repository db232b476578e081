"""Time masking of training batches, the time half of SpecAugment (Park et al. 2019).

Each training sequence gets one span of ``w`` consecutive steps set to zero, with ``w`` drawn
uniformly from ``0 .. min(max_width, length // 4)`` and the span placed uniformly inside the
sequence. On standardised features zero is the training mean, so a masked span reads as "no
information here" and the model learns not to lean on any single stretch of frames. It suits
spectral frames (MFCCs, filter banks); on positions such as pen trajectories a zeroed span is a
jump to the mean position, not missing data, so it is off unless asked for.
"""
from __future__ import annotations

import torch


def time_mask(x: torch.Tensor, lengths: torch.Tensor, max_width: int,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """A copy of ``x`` (B, T, F) with one random span of at most ``max_width`` valid steps zeroed per sequence.

    At most a quarter of a sequence is masked, so short sequences keep most of their steps.
    Draws from ``generator`` (torch's global generator when None, which ``fit`` seeds).
    """
    if max_width < 0:
        raise ValueError(f"max_width must be >= 0, got {max_width}")
    lengths = lengths.to(x.device)
    limit = torch.clamp(lengths // 4, max=max_width)  # (B,) widest span allowed per sequence
    uniform = torch.rand(2, x.shape[0], generator=generator).to(x.device)
    width = (uniform[0] * (limit + 1)).long()  # uniform over 0 .. limit
    start = (uniform[1] * (lengths - width + 1)).long()  # uniform over 0 .. length - width
    steps = torch.arange(x.shape[1], device=x.device)
    masked = (steps >= start[:, None]) & (steps < (start + width)[:, None])  # (B, T)
    return x.masked_fill(masked.unsqueeze(-1), 0.0)
