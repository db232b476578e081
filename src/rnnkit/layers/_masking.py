"""Padded batches: checking ``lengths`` and turning them into a per-step mask.

The one masking formula, used by the reference scan and by every kernel::

    s_t = m_t ⊙ s_new + (1 - m_t) ⊙ s_{t-1}        (state held past the end)
    y_t = m_t ⊙ h_t                                 (outputs zero at padded steps)

With padding at the end of each sequence, a forward scan keeps the state of the last valid step,
and a reverse scan (t = T-1 .. 0) keeps the initial state through the padding and then runs over
the valid prefix only, so its final state is the state after step 0 (flax's ``flip_sequences``
semantics, without flipping anything).
"""
from __future__ import annotations

import torch
from torch import Tensor


def check_lengths(lengths: Tensor | list[int], max_length: int, batch: int, device: torch.device) -> Tensor:
    """Validate ``lengths`` against a (T=max_length, B=batch) input; return it as int64 on ``device``."""
    lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1:
        raise ValueError(f"lengths must be a 1-D tensor of shape (B,) = ({batch},), got shape {tuple(lengths.shape)}")
    if lengths.dtype.is_floating_point or lengths.dtype == torch.bool or lengths.is_complex():
        raise ValueError(f"lengths must be an integer tensor, got dtype {lengths.dtype}")
    if lengths.numel() != batch:
        raise ValueError(f"lengths must have one entry per sequence, (B,) = ({batch},), got {lengths.numel()}")
    lengths = lengths.to(device=device, dtype=torch.int64)
    low, high = int(lengths.min()), int(lengths.max())
    if low < 0:
        raise ValueError(f"lengths must be positive, got {low} for sequence {int(lengths.argmin())}")
    if low == 0:
        raise ValueError(f"lengths must be at least 1, got 0 for sequence {int(lengths.argmin())}")
    if high > max_length:
        raise ValueError(f"lengths must be at most the sequence length T={max_length}, "
                         f"got {high} for sequence {int(lengths.argmax())}")
    return lengths


def step_mask(lengths: Tensor, max_length: int, dtype: torch.dtype) -> Tensor:
    """m[t, b] = 1 where step t is inside sequence b, else 0: shape (T, B, 1)."""
    steps = torch.arange(max_length, device=lengths.device)  # (T,)
    return (steps[:, None] < lengths[None, :]).to(dtype).unsqueeze(-1)  # (T, B, 1)
