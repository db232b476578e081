"""Sequence tagging: a class for every frame, and the segments that runs of equal classes make.

    z_t = W h_t + b,  h = stack(x)                          (G1) logits (B, T, C)
    loss = -(1/N) Σ_{valid b, t} log softmax(z_t)[y_{b,t}]  (G2) N valid frames; padded y = -100

(G2) is ``rnnkit.training.cross_entropy``, so a tagger trains with ``rnnkit.training.fit`` on the
batches ``collate_tagged`` makes. Decoding takes the arg-max class of every frame and reads runs
of equal classes as segments (``frames_to_segments``). Its ``min_run`` drops runs too short to be
a spoken digit: the flicker of a half-trained tagger, each run of which would count as an inserted
label. A run cannot show where one segment ends and an equal one begins: with classes only, "1 1"
spoken without a gap of another class is read as "1". ``tagger_metrics`` counts that as an error,
so on strings with equal neighbours the segment error rate of even perfect frame labels is above 0
(``segment_error_floor`` measures it: 7.5 % on fsdd-strings, where 1 join in 10 repeats a digit).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from ..data import IGNORE_INDEX, collate
from ._edit_distance import error_rate
from ._frame_encoder import FrameConfig, FrameEncoder


class TaggerConfig(FrameConfig):
    """Settings of a SequenceTagger (the fields of ``FrameConfig``)."""


class TaggedBatch(NamedTuple):
    """A padded batch with a target per frame, the training contract ``(x, lengths, y)``."""

    x: Tensor  # (B, T, F) float32, zeros after each sequence's length
    lengths: Tensor  # (B,) int64 frames of each sequence
    y: Tensor  # (B, T) int64 class of each frame, IGNORE_INDEX (-100) at padded frames


class Segment(NamedTuple):
    """A run of frames ``start <= t < end`` that share the class ``label``."""

    label: int
    start: int
    end: int


def collate_tagged(sequences: Sequence[np.ndarray], frame_labels: Sequence[np.ndarray]) -> TaggedBatch:
    """Pad ``sequences`` (each (T_i, F)) and their frame labels ((T_i,)) into a TaggedBatch."""
    x, lengths, _ = collate(sequences)
    y = torch.full(x.shape[:2], IGNORE_INDEX, dtype=torch.int64)  # (B, T)
    for b, labels in enumerate(frame_labels):
        if len(labels) != len(sequences[b]):
            raise ValueError(f"sequence {b} has {len(sequences[b])} frames but {len(labels)} frame labels")
        y[b, :len(labels)] = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    return TaggedBatch(x, lengths, y)


class SequenceTagger(nn.Module):
    """Recurrent encoder + linear: ``forward(x (B, T, F), lengths (B,)) -> logits (B, T, C)`` (G1).

    Padding never changes a valid frame's logits; the logits at padded frames mean nothing.
    """

    def __init__(self, config: TaggerConfig | None = None, **settings: Any) -> None:
        super().__init__()
        self.config = config if config is not None else TaggerConfig(**settings)
        self.encoder = FrameEncoder(self.config, self.config.num_classes)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self.encoder(x, lengths)  # (G1) (B, T, C)

    @torch.no_grad()
    def predict(self, x: Tensor, lengths: Tensor) -> list[np.ndarray]:
        """The arg-max class of every valid frame, one int64 (T_b,) array per sequence; dropout off."""
        was_training = self.training
        self.eval()
        try:
            best = self(x, lengths).argmax(dim=-1).cpu().numpy()  # (B, T)
        finally:
            self.train(was_training)
        return [best[b, :length] for b, length in enumerate(lengths.tolist())]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def tag(model: SequenceTagger, sequences: Sequence[np.ndarray], batch_size: int = 64) -> list[np.ndarray]:
    """The class ``model`` gives each frame of each of ``sequences`` (each (T_i, F)), in order.

    Batches are sorted by length (less padding) and run on the model's device and dtype.
    """
    parameter = next(model.parameters())
    order = np.argsort([len(s) for s in sequences], kind="stable")  # similar lengths batch with little padding
    tags: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * len(sequences)
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        x, lengths, _ = collate([sequences[i] for i in index])
        for i, frames in zip(index, model.predict(x.to(parameter.device, parameter.dtype), lengths)):
            tags[i] = frames
    return tags


def frames_to_segments(frame_labels: Sequence[int] | np.ndarray, min_run: int = 1) -> list[Segment]:
    """Runs of equal frame labels, in order: [0, 0, 3, 3, 3, 0] -> (0, 0, 2), (3, 2, 5), (0, 5, 6).

    ``min_run`` > 1 smooths: a run shorter than ``min_run`` frames counts as noise and is dropped,
    and equal runs it separated join into one segment that spans it: with ``min_run=2``
    [4, 4, 4, 1, 4, 4] is one segment (4, 0, 6), not three.
    """
    labels = np.asarray(frame_labels).reshape(-1)
    if labels.size == 0:
        return []
    starts = np.flatnonzero(np.concatenate([[True], labels[1:] != labels[:-1]]))  # first frame of each run
    ends = np.append(starts[1:], labels.size)
    segments: list[Segment] = []
    for s, e in zip(starts.tolist(), ends.tolist()):
        if e - s < min_run:
            continue
        if segments and segments[-1].label == labels[s]:
            segments[-1] = segments[-1]._replace(end=e)
        else:
            segments.append(Segment(int(labels[s]), s, e))
    return segments


def tagger_metrics(labels: Sequence[Sequence[int]], frame_labels: Sequence[np.ndarray],
                   predicted_frames: Sequence[np.ndarray], min_run: int = 1) -> dict[str, float]:
    """``frame_accuracy``: correct frames / all frames, pooled over sequences.
    ``segment_error_rate``: edit distance between the labels of the predicted segments
    (``frames_to_segments(predicted, min_run)``) and the reference ``labels``, summed, over the
    total reference length (as a label error rate)."""
    if not len(frame_labels) == len(predicted_frames) == len(labels):
        raise ValueError(f"{len(labels)} label sequences, {len(frame_labels)} frame labellings and "
                         f"{len(predicted_frames)} predictions")
    correct = total = 0
    for reference, predicted in zip(frame_labels, predicted_frames):
        if len(reference) != len(predicted):
            raise ValueError(f"a sequence of {len(reference)} frames got {len(predicted)} predictions")
        correct += int(np.sum(np.asarray(reference) == np.asarray(predicted)))
        total += len(reference)
    segments = [[s.label for s in frames_to_segments(p, min_run)] for p in predicted_frames]
    return {"frame_accuracy": correct / total,
            "segment_error_rate": float(error_rate([list(reference) for reference in labels], segments))}


def segment_error_floor(labels: Sequence[Sequence[int]], frame_labels: Sequence[np.ndarray]) -> float:
    """The segment error rate of perfect frame labels: what merging equal neighbours alone costs."""
    return tagger_metrics(labels, frame_labels, frame_labels)["segment_error_rate"]
