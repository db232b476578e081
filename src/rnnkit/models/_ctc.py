"""CTC: unsegmented sequence labelling (Graves et al. 2006) with a recurrent encoder.

    y_t = log_softmax(W h_t + b),  h = stack(x)       (C1) K = C + 1 outputs per frame
    loss = -(1/B) Σ_b log p(l_b | x_b)                 (C2) p summed over alignments, see _ctc_decode

Output convention: index ``BLANK`` = 0 is the blank and label k (class k of the data) is output
k + 1. ``collate_ctc`` shifts targets up, ``CTCModel.decode`` and ``transcribe`` shift back, so
outside this file labels are the data's class indices.

The loss is torch's ``ctc_loss``. Its backward returns the gradient with respect to the logits
*before* the log-softmax (pytorch issue 52241), which is right only when the log-softmax is in the
graph, as (C1) puts it; the tests gradcheck the whole logits -> loss path.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data import IGNORE_INDEX, collate
from ._edit_distance import error_rate
from ._ctc_decode import BLANK, ctc_beam_decode, ctc_greedy_decode
from ._frame_encoder import FrameConfig, FrameEncoder


class CTCConfig(FrameConfig):
    """Settings of a CTCModel (the fields of ``FrameConfig``); ``num_classes`` counts labels, not the blank."""


class CTCBatch(NamedTuple):
    """A padded batch for CTC training: ``x, lengths, targets, target_lengths = batch``."""

    x: Tensor  # (B, T, F) float32, zeros after each sequence's length
    lengths: Tensor  # (B,) int64 frames of each sequence
    targets: Tensor  # (B, S) int64 output indices (label + 1), padded with BLANK after target_lengths
    target_lengths: Tensor  # (B,) int64 labels of each sequence


def min_frames(labels: Sequence[Hashable]) -> int:
    """Fewest frames a CTC path for ``labels`` needs: one per label, plus a blank between equal neighbours."""
    return len(labels) + sum(a == b for a, b in zip(labels[:-1], labels[1:]))


def collate_ctc(sequences: Sequence[np.ndarray], labels: Sequence[Sequence[int]]) -> CTCBatch:
    """Pad ``sequences`` (each (T_i, F)) and their label sequences (class indices) into a CTCBatch.

    A label sequence that no path of its sequence's frames can spell (fewer frames than
    ``min_frames``) is a ValueError here, rather than an infinite loss in the middle of training.
    """
    if len(sequences) != len(labels):
        raise ValueError(f"{len(sequences)} sequences but {len(labels)} label sequences")
    x, lengths, _ = collate(sequences)
    target_lengths = torch.tensor([len(target) for target in labels], dtype=torch.int64)  # (B,)
    targets = torch.full((len(labels), max(1, int(target_lengths.max()))), BLANK, dtype=torch.int64)  # (B, S)
    for b, target in enumerate(labels):
        needed = min_frames(list(target))
        if needed > len(sequences[b]):
            raise ValueError(f"sequence {b} has {len(sequences[b])} frames, too few for its {len(target)} "
                             f"labels (CTC needs {needed})")
        targets[b, :len(target)] = torch.as_tensor(np.asarray(target, dtype=np.int64)) + 1  # label -> output
    return CTCBatch(x, lengths, targets, target_lengths)


def ctc_loss(log_probs: Tensor, lengths: Tensor, targets: Tensor, target_lengths: Tensor) -> Tensor:
    """(C2): mean over the batch of -log p(target | x), from log_probs (B, T, K) of (C1).

    ``targets`` (B, S) hold output indices (label + 1, as ``collate_ctc`` makes them). The mean is
    per sequence, not per label: the loss reads in nats per string. An impossible pair (too few
    frames) stays an infinite loss, so it is seen, not silently zeroed (``collate_ctc`` stops it earlier).
    """
    nll = F.ctc_loss(log_probs.transpose(0, 1), targets, lengths.cpu(), target_lengths.cpu(),  # (T, B, K) in
                     blank=BLANK, reduction="none", zero_infinity=False)  # (B,)
    return nll.mean()


class CTCModel(nn.Module):
    """Recurrent encoder + linear + log-softmax over C labels and the blank, trained by CTC.

    ``forward(x (B, T, F), lengths (B,)) -> log_probs (B, T, C + 1)`` (C1), blank at index 0;
    ``loss(log_probs, lengths, targets, target_lengths)`` is ``ctc_loss`` (C2);
    ``decode(x, lengths, beam=1)`` gives each sequence's labels (best path for ``beam=1``, else
    prefix beam search). Padding never changes a valid frame's output.
    """

    def __init__(self, config: CTCConfig | None = None, **settings: Any) -> None:
        super().__init__()
        self.config = config if config is not None else CTCConfig(**settings)
        self.encoder = FrameEncoder(self.config, self.config.num_classes + 1)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return torch.log_softmax(self.encoder(x, lengths), dim=-1)  # (C1) (B, T, C + 1)

    loss = staticmethod(ctc_loss)

    @torch.no_grad()
    def decode(self, x: Tensor, lengths: Tensor, beam: int = 1) -> list[list[int]]:
        """The labels (class indices) of each sequence of a padded batch; dropout is off meanwhile."""
        was_training = self.training
        self.eval()
        try:
            log_probs = self(x, lengths)  # (B, T, C + 1)
        finally:
            self.train(was_training)
        decoded = ctc_greedy_decode(log_probs, lengths) if beam == 1 else ctc_beam_decode(log_probs, lengths, beam)
        return [[k - 1 for k in outputs] for outputs in decoded]  # output index -> label

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def transcribe(model: CTCModel, sequences: Sequence[np.ndarray], beam: int = 1,
               batch_size: int = 64) -> list[list[int]]:
    """The labels ``model`` reads in each of ``sequences`` (each (T_i, F)), in order.

    Batches are sorted by length (less padding) and run on the model's device and dtype.
    """
    parameter = next(model.parameters())
    order = np.argsort([len(s) for s in sequences], kind="stable")
    decoded: list[list[int]] = [[] for _ in sequences]
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        x, lengths, _ = collate([sequences[i] for i in index])
        for i, labels in zip(index, model.decode(x.to(parameter.device, parameter.dtype), lengths, beam)):
            decoded[i] = labels
    return decoded


class CTCObjective:
    """CTC as an ``Objective`` of ``rnnkit.training.fit``: a CTCModel trains on plain label-string batches.

    Batches are ``(x (B, T, F), lengths (B,), y (B, L))`` with ``y`` the class indices of each
    sequence's labels, padded with ``IGNORE_INDEX`` (-100). ``loss`` is (C2), nats per string;
    ``count`` calls a string correct when best-path decoding reads it exactly, so ``fit``'s
    "accuracy" is the string accuracy (greedy) and every string weighs one in epoch means.
    """

    def loss(self, output: Tensor, y: Tensor, lengths: Tensor) -> Tensor:
        valid = y != IGNORE_INDEX  # (B, L)
        targets = torch.where(valid, y + 1, torch.full_like(y, BLANK))  # (B, L) label -> output index
        return ctc_loss(output, lengths, targets, valid.sum(dim=1))

    def count(self, output: Tensor, y: Tensor, lengths: Tensor) -> tuple[int, int]:
        decoded = ctc_greedy_decode(output.detach(), lengths)
        references = [[k + 1 for k in row if k != IGNORE_INDEX] for row in y.tolist()]
        return sum(d == r for d, r in zip(decoded, references)), len(references)


def ctc_metrics(references: Sequence[Sequence[int]], hypotheses: Sequence[Sequence[int]]) -> dict[str, float]:
    """``label_error_rate``: total edit distance / total reference length; ``string_accuracy``:
    the fraction of strings read exactly right."""
    exact = sum(list(r) == list(h) for r, h in zip(references, hypotheses))
    return {"label_error_rate": float(error_rate(references, hypotheses)),
            "string_accuracy": exact / len(references)}
