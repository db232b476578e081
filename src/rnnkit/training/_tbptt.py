"""Backpropagation through time for one batch: full, or truncated to windows of k steps.

Both functions run forward and backward and leave the gradients in ``.grad`` (summed into
whatever is there); zeroing, clipping and the optimiser step are the caller's. Both return the
batch's mean loss over valid targets and its accuracy counts.

Truncated BPTT (Williams and Peng 1990; Sutskever 2013) cuts a long batch into windows of
``window`` steps. The recurrent state runs on from window to window, so the forward pass
computes exactly the same outputs as over the whole sequence, but it is *detached* at each
boundary: the backward pass of a window stops at its first step. Memory then grows with the
window, not with T, and each window's graph is freed as soon as its loss is back-propagated.

Stateful-model protocol (what a model needs for ``tbptt``)::

    output, state = model(x, lengths, state=state, return_state=True)

- ``x`` is one window ``(B, k, F)`` and ``lengths`` the valid steps of each sequence inside it
  (1..k); ``state`` is None for the first window, then whatever the model returned for the
  previous one: any tensor, or tuple / NamedTuple / list / dict of tensors (``LSTMState(h, c)``).
  It must be the state after each sequence's last valid step, as rnnkit layers return it.
- ``output`` is per-step logits ``(B, k, C)`` for a tagger or language model, or ``(B, C)`` for a
  classifier (computed from the state after the last valid step of the window).
- Called as ``model(x, lengths)`` the model returns ``output`` alone, as everywhere else.

Where the loss is taken:

- per-step targets ``y (B, T)``: on every window, on the targets of that window's steps;
- one class per sequence ``y (B,)``: only on the window holding the sequence's last valid step
  ("the last window's output carries the loss"), since only there is the output its final one.

Each window's mean loss is weighted by its share of the batch's valid targets, so the sum over
windows is the mean over the batch and a window covering the whole sequence reproduces full
BPTT exactly. Only unidirectional models make sense here: a backward direction would need the
future windows.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch

from ._metrics import IGNORE_INDEX, LossFn, Objective, as_objective


class StepStats(NamedTuple):
    """What one batch's forward/backward measured."""

    loss: float  # mean loss over the batch's valid targets (NaN or inf when training diverged)
    correct: int  # valid targets predicted correctly
    valid: int  # valid targets (weight of this batch in the epoch averages)


def bptt_step(model: torch.nn.Module, x: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor,
              loss_fn: LossFn | Objective, state: Any = None, return_state: bool = False,
              inputs: tuple = ()) -> StepStats | tuple[StepStats, Any]:
    """Full BPTT: one forward over the whole batch, one backward through every step.

    With ``return_state`` the model is called statefully (from ``state``, None for zeros) and
    its final state comes back too, for the caller to carry into the next batch. ``inputs``
    are further arguments of the model (an encoder-decoder's decoder input).
    """
    _valid_targets(y)
    objective = as_objective(loss_fn)
    if return_state:
        logits, state = model(x, lengths, state=state, return_state=True)
    else:
        logits = model(x, lengths, *inputs)
    loss = objective.loss(logits, y, lengths)
    loss.backward()
    correct, valid = objective.count(logits.detach(), y, lengths)
    stats = StepStats(loss.item(), correct, valid)
    return (stats, state) if return_state else stats


def tbptt_step(model: torch.nn.Module, x: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor,
               loss_fn: LossFn | Objective, window: int) -> StepStats:
    """Truncated BPTT over windows of ``window`` steps (see the module docstring for the protocol)."""
    if window < 1:
        raise ValueError(f"tbptt window must be >= 1, got {window}")
    per_step = y.dim() == 2
    total = _valid_targets(y)
    objective = as_objective(loss_fn)
    lengths_cpu = lengths.cpu()
    steps = int(lengths_cpu.max())  # windows after every sequence has ended would carry no loss
    state = None
    loss_sum, correct_sum = 0.0, 0
    for t0 in range(0, steps, window):
        t1 = min(t0 + window, steps)
        # Valid steps of each sequence inside [t0, t1). A sequence that ended earlier is given
        # one (padding) step, since layers refuse a length of 0; its output there is masked out
        # of the loss below and its state is never used again.
        window_lengths = (lengths_cpu - t0).clamp(1, t1 - t0).to(lengths.device)
        output, state = model(x[:, t0:t1], window_lengths, state=state, return_state=True)
        state = detach_state(state)  # the truncation: no gradient flows into earlier windows
        if per_step:
            target = y[:, t0:t1]  # (B, k)
        else:
            ends_here = ((lengths_cpu > t0) & (lengths_cpu <= t1)).to(y.device)  # (B,)
            target = torch.where(ends_here, y, torch.full_like(y, IGNORE_INDEX))  # (B,)
        correct, valid = objective.count(output.detach(), target, window_lengths)
        if valid == 0:
            continue  # nothing to learn here (the loss would be 0/0); the state still ran on
        loss = objective.loss(output, target, window_lengths) * (valid / total)
        loss.backward()
        loss_sum += loss.item()
        correct_sum += correct
    return StepStats(loss_sum, correct_sum, total)


def _valid_targets(y: torch.Tensor) -> int:
    valid = int((y != IGNORE_INDEX).sum())
    if valid == 0:
        # Caught here because the loss would be 0/0 = NaN and read as a diverged run.
        raise ValueError(f"a batch has no valid target: every entry of y {tuple(y.shape)} is {IGNORE_INDEX}")
    return valid


def detach_state(state: Any) -> Any:
    """``state`` with every tensor detached, keeping its structure (tuple, NamedTuple, list, dict)."""
    if state is None:
        return None
    if torch.is_tensor(state):
        return state.detach()
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # NamedTuple such as LSTMState(h, c)
        return type(state)(*(detach_state(s) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    if isinstance(state, dict):
        return {key: detach_state(value) for key, value in state.items()}
    raise TypeError(f"cannot detach a recurrent state of type {type(state).__name__}")
