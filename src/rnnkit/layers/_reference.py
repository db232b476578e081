"""The reference implementation of a layer direction: the cell, stepped over time by autograd.

Slow, and obviously right: the kernels and torch's native modules are checked against it.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import torch
from torch import Tensor

from ..cells import GRUParams, LSTMParams, LSTMState, RNNParams, gru_cell, lstm_cell, rnn_cell

State = TypeVar("State", Tensor, LSTMState)


def _blend(new: State, old: State, m: Tensor) -> State:
    """s_t = m ⊙ s_new + (1 - m) ⊙ s_{t-1}, for a tensor state or each field of a tuple state."""
    if isinstance(new, tuple):
        return type(new)(*(m * n + (1 - m) * o for n, o in zip(new, old)))
    return m * new + (1 - m) * old


def reference_scan(step: Callable[[Tensor, State], State], x: Tensor, state: State, mask: Tensor | None,
                   reverse: bool) -> tuple[Tensor, State]:
    """Run ``step`` over x (T, B, I) from ``state``; return outputs (T, B, H_out) and the final state.

    ``mask`` (T, B, 1) marks valid steps (padding must already be zero in x); ``reverse`` runs
    t = T-1 .. 0.
    """
    T = x.shape[0]
    outputs: list[Tensor] = [x] * T  # placeholders, each overwritten below
    for t in (reversed(range(T)) if reverse else range(T)):
        new = step(x[t], state)
        if mask is not None:
            new = _blend(new, state, mask[t])
        state = new
        h = state.h if isinstance(state, LSTMState) else state  # (B, H_out)
        outputs[t] = h if mask is None else mask[t] * h
    return torch.stack(outputs), state  # (T, B, H_out)


def rnn_scan(x: Tensor, h0: Tensor, params: RNNParams, mask: Tensor | None, reverse: bool,
             nonlinearity: str) -> tuple[Tensor, Tensor]:
    return reference_scan(lambda x_t, h: rnn_cell(x_t, h, params, nonlinearity), x, h0, mask, reverse)


def lstm_scan(x: Tensor, state0: LSTMState, params: LSTMParams, mask: Tensor | None,
              reverse: bool) -> tuple[Tensor, LSTMState]:
    return reference_scan(lambda x_t, s: lstm_cell(x_t, s, params), x, state0, mask, reverse)


def gru_scan(x: Tensor, h0: Tensor, params: GRUParams, mask: Tensor | None, reverse: bool,
             reset_after: bool) -> tuple[Tensor, Tensor]:
    return reference_scan(lambda x_t, h: gru_cell(x_t, h, params, reset_after), x, h0, mask, reverse)
