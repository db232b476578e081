"""The reference implementation of a layer direction: the cell, stepped over time by autograd.

Slow, and obviously right: the kernels and torch's native modules are checked against it.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import torch
from torch import Tensor

from ..cells import NO_NOISE, GRUParams, LSTMParams, LSTMState, RNNParams, ScanNoise, gru_cell, lstm_cell, rnn_cell
from ..cells._noise import zoneout
from ..kernels import register_twin

State = TypeVar("State", Tensor, LSTMState)


def _blend(new: State, old: State, m: Tensor) -> State:
    """s_t = m ⊙ s_new + (1 - m) ⊙ s_{t-1}, for a tensor state or each field of a tuple state."""
    if isinstance(new, tuple):
        return type(new)(*(m * n + (1 - m) * o for n, o in zip(new, old)))
    return m * new + (1 - m) * old


def _zoneout(new: State, old: State, d: tuple[Tensor | None, ...]) -> State:
    """s_t = d ⊙ s_{t-1} + (1 - d) ⊙ s_new for each state (d None: no zoneout on that state)."""
    if isinstance(new, tuple):
        return type(new)(*(zoneout(n, o, d_s) for n, o, d_s in zip(new, old, d)))
    return zoneout(new, old, d[0])


def reference_scan(step: Callable[[Tensor, State], State], x: Tensor, state: State, mask: Tensor | None,
                   reverse: bool, zoneout_masks: tuple[Tensor | None, ...] = ()) -> tuple[Tensor, State]:
    """Run ``step`` over x (T, B, I) from ``state``; return outputs (T, B, H_out) and the final state.

    ``mask`` (T, B, 1) marks valid steps (padding must already be zero in x); ``reverse`` runs
    t = T-1 .. 0; ``zoneout_masks`` holds zoneout's d (T, B, ·) for each state (h, or h and c; None
    for a state without zoneout), applied before the padding mask.
    """
    T = x.shape[0]
    outputs: list[Tensor] = [x] * T  # placeholders, each overwritten below
    zoned = any(d is not None for d in zoneout_masks)
    for t in (reversed(range(T)) if reverse else range(T)):
        new = step(x[t], state)
        if zoned:
            new = _zoneout(new, state, tuple(None if d is None else d[t] for d in zoneout_masks))
        if mask is not None:
            new = _blend(new, state, mask[t])
        state = new
        h = state.h if isinstance(state, LSTMState) else state  # (B, H_out)
        outputs[t] = h if mask is None else mask[t] * h
    return torch.stack(outputs), state  # (T, B, H_out)


def rnn_scan(x: Tensor, h0: Tensor, params: RNNParams, mask: Tensor | None, reverse: bool,
             nonlinearity: str, *, noise: ScanNoise = NO_NOISE) -> tuple[Tensor, Tensor]:
    return reference_scan(lambda x_t, h: rnn_cell(x_t, h, params, nonlinearity, recurrent_mask=noise.recurrent),
                          x, h0, mask, reverse, (noise.zoneout_h,))


def lstm_scan(x: Tensor, state0: LSTMState, params: LSTMParams, mask: Tensor | None,
              reverse: bool, *, noise: ScanNoise = NO_NOISE, cell_clip: float | None = None) -> tuple[Tensor, LSTMState]:
    return reference_scan(lambda x_t, s: lstm_cell(x_t, s, params, recurrent_mask=noise.recurrent, cell_clip=cell_clip),
                          x, state0, mask, reverse, (noise.zoneout_h, noise.zoneout_c))


def gru_scan(x: Tensor, h0: Tensor, params: GRUParams, mask: Tensor | None, reverse: bool,
             reset_after: bool, *, noise: ScanNoise = NO_NOISE) -> tuple[Tensor, Tensor]:
    return reference_scan(lambda x_t, h: gru_cell(x_t, h, params, reset_after, recurrent_mask=noise.recurrent),
                          x, h0, mask, reverse, (noise.zoneout_h,))


# each kernel's backward differentiates its reference twin when a higher-order gradient is asked for
register_twin("rnn", rnn_scan)
register_twin("lstm", lstm_scan)
register_twin("gru", gru_scan)
