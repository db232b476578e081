"""Synthetic long-dependency tasks: the adding problem and copy memory.

Adding problem (Hochreiter and Schmidhuber 1997, in the form of Le et al. 2015): each input step
has two features, a number drawn from U[0, 1] and a marker. Exactly two steps are marked, one in
the first half of the sequence and one in the second; the target is the sum of the two marked
numbers. A model that ignores the input and predicts 1 (the mean of the sum) scores
``MSE = Var(u1 + u2) = 2/12 ≈ 0.167``; solving it means carrying the first number across at
least half the sequence.

Copy memory (Hochreiter and Schmidhuber 1997; Arjovsky et al. 2016): ``S`` symbols drawn from an
alphabet of 8, then ``delay - 1`` blanks, a delimiter, and ``S`` more blanks; the target is blank
everywhere except the last ``S`` steps, which must repeat the first ``S`` symbols. The memoryless
solution (blanks, then a uniform guess) costs ``log 8 ≈ 2.08`` nats per recalled symbol.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

COPY_ALPHABET = 8  # symbols 1..8; 0 is the blank, 9 the delimiter
COPY_BLANK, COPY_DELIMITER = 0, COPY_ALPHABET + 1


class TaskBatch(NamedTuple):
    x: Tensor  # (B, T, I) float inputs, batch first
    y: Tensor  # adding: (B,) the sum; copy: (B, T) the symbol at each step


@dataclass(frozen=True)
class Task:
    """A synthetic task: how to draw a batch, how many outputs, how to score."""

    name: str  # "adding" or "copy"
    symbols: int = 10  # copy only: S, how many symbols to remember

    def __post_init__(self) -> None:
        if self.name not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.name!r}")
        if self.symbols < 1:
            raise ValueError(f"symbols must be at least 1, got {self.symbols}")

    @property
    def input_size(self) -> int:
        return 2 if self.name == "adding" else COPY_DELIMITER + 1  # one-hot over blank, 8 symbols, delimiter

    @property
    def output_size(self) -> int:
        return 1 if self.name == "adding" else COPY_ALPHABET + 1  # the sum; or blank and the 8 symbols

    @property
    def per_step(self) -> bool:
        """True when the model answers at every step (copy), False when once at the end (adding)."""
        return self.name == "copy"

    @property
    def metric(self) -> str:
        return "mse" if self.name == "adding" else "recall_ce"

    @property
    def baseline(self) -> float:
        """The score of the best answer that ignores the input's past: 1/6 (adding), log 8 (copy)."""
        return 1.0 / 6.0 if self.name == "adding" else math.log(COPY_ALPHABET)

    def sequence_length(self, length: int) -> int:
        """Steps the model reads for a task of this ``length`` (copy adds the symbols twice)."""
        return length if self.name == "adding" else length + 2 * self.symbols

    def batch(self, batch_size: int, length: int, generator: torch.Generator) -> TaskBatch:
        if self.name == "adding":
            return adding_batch(batch_size, length, generator)
        return copy_batch(batch_size, length, self.symbols, generator)

    def loss(self, output: Tensor, y: Tensor) -> Tensor:
        """The training loss: MSE of the sum, or cross-entropy at every step of the copy."""
        if self.name == "adding":
            return F.mse_loss(output.squeeze(-1), y)  # output (B, 1)
        return F.cross_entropy(output.flatten(0, 1), y.flatten())  # output (B, T, 9)

    def score(self, output: Tensor, y: Tensor) -> dict[str, float]:
        """The reported figures: the metric, and for copy the accuracy on the recalled symbols."""
        if self.name == "adding":
            return {"mse": float(F.mse_loss(output.squeeze(-1), y))}
        recall_out, recall_y = output[:, -self.symbols:], y[:, -self.symbols:]  # (B, S, 9), (B, S)
        return {"recall_ce": float(F.cross_entropy(recall_out.flatten(0, 1), recall_y.flatten())),
                "recall_accuracy": float((recall_out.argmax(-1) == recall_y).float().mean())}


TASKS = ("adding", "copy")


def adding_batch(batch_size: int, length: int, generator: torch.Generator) -> TaskBatch:
    """x (B, T, 2): numbers in U[0, 1] and the two markers; y (B,): the sum of the marked numbers."""
    if length < 2:
        raise ValueError(f"the adding problem needs length >= 2, got {length}")
    values = torch.rand(batch_size, length, generator=generator)  # (B, T)
    half = length // 2
    first = torch.randint(0, half, (batch_size,), generator=generator)  # (B,) in the first half
    second = torch.randint(half, length, (batch_size,), generator=generator)  # (B,) in the second half
    markers = torch.zeros(batch_size, length)  # (B, T)
    rows = torch.arange(batch_size)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]  # (B,)
    return TaskBatch(torch.stack([values, markers], dim=2), y)  # (B, T, 2)


def copy_batch(batch_size: int, delay: int, symbols: int, generator: torch.Generator) -> TaskBatch:
    """x (B, T, 10) one-hot with T = delay + 2S: S symbols, delay - 1 blanks, the delimiter, S blanks;
    y (B, T): blanks, then the S symbols again."""
    if delay < 1:
        raise ValueError(f"the copy task needs a delay >= 1, got {delay}")
    T = delay + 2 * symbols
    sequence = torch.randint(1, COPY_ALPHABET + 1, (batch_size, symbols), generator=generator)  # (B, S)
    tokens = torch.full((batch_size, T), COPY_BLANK, dtype=torch.int64)  # (B, T)
    tokens[:, :symbols] = sequence
    tokens[:, symbols + delay - 1] = COPY_DELIMITER
    y = torch.full((batch_size, T), COPY_BLANK, dtype=torch.int64)  # (B, T)
    y[:, -symbols:] = sequence
    return TaskBatch(F.one_hot(tokens, COPY_DELIMITER + 1).float(), y)  # (B, T, 10)
