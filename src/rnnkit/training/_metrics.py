"""Loss and accuracy over valid targets, and evaluation of a model over a set of batches.

Valid targets are those not equal to ``IGNORE_INDEX`` (-100): for sequence classification
every sequence, for per-step targets every step inside a sequence. Losses are means over valid
targets, and averages over several batches weight each batch by its number of valid targets,
so an epoch's loss is the mean over all its targets however the batches were cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from ..data import IGNORE_INDEX  # target value of padded steps; torch's default ignore_index
from ._batch import Batch, unpack_batch


LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class Objective(Protocol):
    """What a model is trained and scored by, where a loss of (output, target) alone does not do.

    CTC is the case in point: its loss needs each sequence's number of frames, and its targets
    (label strings) are not aligned with the frames. ``fit`` and ``evaluate`` take either a plain
    ``loss_fn(output, y)`` (scored by arg-max accuracy) or an object with these two methods.
    """

    def loss(self, output: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The batch's mean loss over its valid targets (with a gradient)."""

    def count(self, output: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> tuple[int, int]:
        """``(correct, valid)``: what accuracy counts, and the batch's weight in epoch means."""


class PerTarget:
    """A plain ``loss_fn(output, y)`` as an ``Objective``, scored by arg-max accuracy per valid target."""

    def __init__(self, loss_fn: LossFn = None) -> None:
        self.loss_fn = loss_fn or cross_entropy

    def loss(self, output: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.loss_fn(output, y)

    def count(self, output: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> tuple[int, int]:
        return count_correct(output, y)


def as_objective(loss: LossFn | Objective | None) -> Objective:
    """``loss`` as an Objective: cross-entropy when None, a plain function wrapped in ``PerTarget``."""
    if hasattr(loss, "loss") and hasattr(loss, "count"):
        return loss
    return PerTarget(loss)


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over valid targets: logits ``(B, C)`` for y ``(B,)``, ``(B, T, C)`` for ``(B, T)``.

    The default loss of ``fit`` and ``evaluate``. Flattening the time axis into the batch lets
    one call serve classifiers and taggers alike; padded steps (``-100``) drop out. A batch
    with no valid target gives NaN (torch's 0/0), which callers avoid by skipping it.
    """
    _check_aligned(logits, y)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=IGNORE_INDEX)


def count_correct(logits: torch.Tensor, y: torch.Tensor) -> tuple[int, int]:
    """``(correct, valid)``: arg-max predictions equal to the target, and valid targets."""
    _check_aligned(logits, y)
    valid = y != IGNORE_INDEX
    correct = (logits.argmax(dim=-1) == y) & valid
    return int(correct.sum()), int(valid.sum())


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of valid targets predicted correctly (NaN when there is none)."""
    correct, valid = count_correct(logits, y)
    return correct / valid if valid else float("nan")


class EvalResult(NamedTuple):
    """Result of ``evaluate``; unpacks as ``loss, accuracy, y_true, y_pred``."""

    loss: float  # mean loss over valid targets
    accuracy: float  # fraction of valid targets predicted correctly
    y_true: np.ndarray  # int64 (N,), the valid targets in batch order (flattened over steps); empty for CTC
    y_pred: np.ndarray  # int64 (N,), the arg-max prediction for each, for a confusion matrix


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    batches: Iterable[Batch],
    loss_fn: LossFn | Objective | None = None,
    device: torch.device | str | None = None,
    carry_state: bool = False,
) -> EvalResult:
    """Loss, accuracy and predictions of ``model`` over ``batches`` in eval mode (no dropout).

    ``model(x, lengths)`` must return logits ``(B, C)`` or ``(B, T, C)`` aligned with ``y``.
    ``device`` defaults to that of the model's first parameter. With ``carry_state`` the batches
    continue each other (streams of one text, ``TrainConfig.carry_state``): each starts from the
    final state of the one before. The model's train/eval mode is
    put back afterwards, so evaluating in the middle of training changes nothing.
    """
    objective = as_objective(loss_fn)
    device = torch.device(device) if device is not None else _model_device(model)
    was_training = model.training
    model.eval()
    loss_sum, correct_sum, valid_sum = 0.0, 0, 0
    y_true, y_pred = [], []
    state = None
    try:
        for batch in batches:
            x, lengths, y, extra = unpack_batch(batch, device)
            if carry_state:
                logits, state = model(x, lengths, state=state, return_state=True)
            else:
                logits = model(x, lengths, *extra)
            correct, valid = objective.count(logits, y, lengths)
            if valid == 0:
                continue
            loss_sum += objective.loss(logits, y, lengths).item() * valid
            correct_sum += correct
            valid_sum += valid
            if logits.shape[:-1] == y.shape:  # a prediction per target (not CTC's label strings)
                mask = y != IGNORE_INDEX
                y_true.append(y[mask].cpu())
                y_pred.append(logits.argmax(dim=-1)[mask].cpu())
    finally:
        model.train(was_training)
    if valid_sum == 0:
        raise ValueError("evaluate: the batches hold no valid target")
    return EvalResult(
        loss=loss_sum / valid_sum,
        accuracy=correct_sum / valid_sum,
        y_true=torch.cat(y_true).numpy().astype(np.int64) if y_true else np.zeros(0, np.int64),
        y_pred=torch.cat(y_pred).numpy().astype(np.int64) if y_pred else np.zeros(0, np.int64),
    )


def _check_aligned(logits: torch.Tensor, y: torch.Tensor) -> None:
    if logits.dim() != y.dim() + 1 or logits.shape[:-1] != y.shape:
        raise ValueError(
            f"model output of shape {tuple(logits.shape)} does not match targets of shape {tuple(y.shape)}: "
            "expected logits (B, C) for y (B,), or (B, T, C) for y (B, T)"
        )


def _model_device(model: torch.nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")
