"""How often training feeds the decoder the target rather than its own prediction (Bengio et al. 2015).

The probability ε_i of feeding the target at training step (or epoch) i, decaying from ``start``
towards ``minimum`` ("scheduled sampling")::

    constant:         ε_i = start
    linear:           ε_i = max(minimum, start - k i)
    exponential:      ε_i = max(minimum, start k^i)                    0 < k < 1
    inverse_sigmoid:  ε_i = max(minimum, start k / (k + exp(i / k)))   k >= 1

The ratio goes to `Seq2Seq.forward(..., teacher_forcing=ε_i)`.
"""
from __future__ import annotations

import math

SCHEDULES = ("constant", "linear", "exponential", "inverse_sigmoid")


def teacher_forcing_ratio(step: int, schedule: str = "constant", start: float = 1.0, k: float = 0.0,
                          minimum: float = 0.0) -> float:
    """ε_step of the named schedule (module docstring)."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    if not 0 <= minimum <= start <= 1:
        raise ValueError(f"need 0 <= minimum <= start <= 1, got minimum={minimum}, start={start}")
    if step < 0:
        raise ValueError(f"step must be 0 or more, got {step}")
    if schedule == "constant":
        return start
    if schedule == "linear":
        if k < 0:
            raise ValueError(f"linear decay needs k >= 0 (the drop per step), got {k}")
        return max(minimum, start - k * step)
    if schedule == "exponential":
        if not 0 < k < 1:
            raise ValueError(f"exponential decay needs 0 < k < 1, got {k}")
        return max(minimum, start * k ** step)
    if k < 1:
        raise ValueError(f"inverse_sigmoid decay needs k >= 1, got {k}")
    return max(minimum, start * k / (k + math.exp(min(step / k, 700.0))))  # exp overflows past ~709
