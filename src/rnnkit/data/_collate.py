"""Padding variable-length sequences into batches (batch first), and iterating over batches.

Plain numpy -> torch: one zero-filled `(B, T_max, F)` array per batch, no DataLoader workers; for
the small data sets here that costs far less than the model step.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import torch

from rnnkit.data._dataset import SequenceDataset

IGNORE_INDEX = -100  # the target of a padded step, which losses skip (torch's default ignore_index)

# With bucketing, sequences are sorted by length within pools of this many batches: batches hold
# sequences of similar length (little padding) while the pools keep the order random.
BUCKET_POOL_BATCHES = 50


class Batch(NamedTuple):
    """A padded batch, batch first: unpacks as `x, lengths, labels = batch`."""

    x: torch.Tensor  # (B, T_max, F) float32, zeros after each sequence's length
    lengths: torch.Tensor  # (B,) int64, valid steps of each sequence
    labels: torch.Tensor | None  # (B,) int64 class indices, None when collated without labels

    def to(self, device: torch.device | str) -> Batch:
        """The batch on `device` (lengths included; the layers accept lengths on any device)."""
        labels = None if self.labels is None else self.labels.to(device)
        return Batch(self.x.to(device), self.lengths.to(device), labels)


def collate(
    sequences: Sequence[np.ndarray], labels: Sequence[int] | np.ndarray | None = None
) -> Batch:
    """Pad `sequences` (each `(T_i, F)`) with zeros into one batch-first float32 tensor."""
    if len(sequences) == 0:
        raise ValueError("collate needs at least one sequence")
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)  # (B,)
    num_features = sequences[0].shape[1]
    x = np.zeros((len(sequences), int(lengths.max()), num_features), dtype=np.float32)  # (B, T, F)
    for i, s in enumerate(sequences):
        x[i, : len(s)] = s
    y = None if labels is None else torch.as_tensor(np.asarray(labels, dtype=np.int64))
    return Batch(torch.from_numpy(x), torch.from_numpy(lengths), y)


def batch_indices(
    lengths: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int | np.random.Generator | None = None,
    bucket: bool = False,
    drop_last: bool = False,
) -> Iterator[np.ndarray]:
    """Yield the sample indices of each batch.

    shuffle: a random order from `seed` (pass one `np.random.Generator` across epochs to get a new,
        still reproducible, order every epoch); otherwise the data order.
    bucket: group sequences of similar length to cut padding (and time): without shuffle the
        batches simply run from shortest to longest; with shuffle the data are sorted by length
        within random pools of `BUCKET_POOL_BATCHES` batches and the batch order is shuffled.
    drop_last: leave out a final batch smaller than `batch_size`.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    lengths = np.asarray(lengths)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths)) if shuffle else np.arange(len(lengths))
    if bucket and len(order):
        pool = batch_size * BUCKET_POOL_BATCHES if shuffle else len(order)
        pools = np.split(order, range(pool, len(order), pool))
        order = np.concatenate([p[np.argsort(lengths[p], kind="stable")] for p in pools])
    chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if drop_last and chunks and len(chunks[-1]) < batch_size:
        chunks.pop()
    if bucket and shuffle:  # sorted pools would otherwise give short-to-long runs of batches
        chunks = [chunks[i] for i in rng.permutation(len(chunks))]
    yield from chunks


def batches(
    dataset: SequenceDataset,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int | np.random.Generator | None = None,
    bucket: bool = False,
    drop_last: bool = False,
) -> Iterator[Batch]:
    """Yield padded `Batch`es of `dataset`; options as in `batch_indices`."""
    for index in batch_indices(dataset.lengths, batch_size, shuffle=shuffle, seed=seed,
                               bucket=bucket, drop_last=drop_last):
        yield collate([dataset.sequences[i] for i in index], dataset.labels[index])
