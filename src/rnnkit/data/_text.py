"""Text for language models: reading it, splitting it, and cutting it into training batches.

Two shapes of text, two ways to batch it:

- **A long text** (a play, a book): held-out parts are contiguous stretches (the last 10 % is the
  test text, validation stretches are spread over the rest), and the text is cut into ``B``
  parallel streams read in windows of ``K`` characters.
  Batch ``k + 1`` continues batch ``k`` row by row, so a model that carries its state across
  batches reads every stream from its start (truncated BPTT over the corpus)::

      stream b = text[offset + b n : offset + (b + 1) n]      n = (N - 1 - offset) // B
      x_k = streams[:, kK : (k + 1)K]      y_k = the same positions, one character later

- **A list of short items** (names, words), one per line: each item is its own sequence, read
  after an end-of-item symbol and followed by it (``x = "\\n" + name``, ``y = name + "\\n"``), so
  the model learns where names start and end; batches are padded with ``lengths``.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnnkit.data._collate import IGNORE_INDEX
from rnnkit.data._errors import DataError

END = "\n"  # ends an item of a line-per-item text, and starts the next: one symbol for both

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # x (B, T) int64, lengths (B,), y (B, T)


@dataclass(frozen=True)
class TextParts:
    """The three parts of a text or of a list of items (each a string, or a list of items)."""

    train: str | list[str]
    validation: str | list[str]
    test: str | list[str]


def read_text_file(path: str | Path) -> str:
    """The contents of a UTF-8 text file; a binary, undecodable or empty file is a ``DataError``."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: a folder; a language model trains on one text file (UTF-8)")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror or err})") from None
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DataError(f"{path}: binary data (a NUL byte at offset {nul}), not a text file")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark is not a character of the text
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (undecodable byte at offset {err.start})") from None
    text = text.replace("\r\n", "\n")
    if not text.strip():
        raise DataError(f"{path}: empty; a language model needs text to learn from")
    return text


VALIDATION_PIECES = 20  # a long text's validation part is cut from this many places spread over it


def split_text(text: str, validation_fraction: float, test_fraction: float,
               pieces: int = VALIDATION_PIECES) -> TextParts:
    """The last ``t`` of the text tests; ``v`` of it, in ``pieces`` stretches spread evenly over the rest,
    validates; the remaining text, joined, trains.

    Contiguous stretches, never shuffled characters: neighbouring characters are near-copies of
    each other, so a random split would test on text the model has as good as seen. The test text
    is one block at the end (the closing plays of a collection), and the validation stretches come
    from all over the rest, so training still reads every part of the text before the test (a
    validation block just before it would keep the test's own play out of training).
    """
    n = len(text)
    test_start = n - round(n * test_fraction)
    validation_chars = round(n * validation_fraction)
    count = max(1, min(pieces, validation_chars // 200))  # stretches of at least ~200 characters
    train, validation, start = [], [], 0
    for k in range(count):
        piece = validation_chars // count + (k < validation_chars % count)  # the sizes add up exactly
        # the k-th stretch ends at (k + 1) / count of the way to the test text
        end = round((k + 1) * test_start / count)
        train.append(text[start:end - piece])
        validation.append(text[end - piece:end])
        start = end
    return TextParts("".join(train), "".join(validation), text[test_start:])


def split_items(items: Sequence[str], validation_fraction: float, test_fraction: float, seed: int) -> TextParts:
    """A seeded random split of distinct items (names): each item is in exactly one part."""
    distinct = sorted(set(items))
    order = np.random.default_rng(seed).permutation(len(distinct))
    n_test, n_validation = round(len(distinct) * test_fraction), round(len(distinct) * validation_fraction)
    shuffled = [distinct[i] for i in order]
    return TextParts(shuffled[n_test + n_validation:], shuffled[n_test:n_test + n_validation], shuffled[:n_test])


def stream_batches(ids: np.ndarray, batch_size: int, window: int, offset: int = 0) -> list[Batch]:
    """The windows of ``batch_size`` parallel streams over ``ids`` (see the module docstring).

    Every row of a batch has the same length (``window``, or less in the last one); the text
    past the last full column of streams (fewer than ``batch_size`` characters) is left out.
    """
    ids = np.asarray(ids, dtype=np.int64)
    n = (len(ids) - 1 - offset) // batch_size  # characters per stream
    if n < 1:
        raise DataError(f"a text of {len(ids)} characters is too short for {batch_size} streams; "
                        "use a smaller batch size or more text")
    x = torch.from_numpy(ids[offset:offset + batch_size * n].reshape(batch_size, n))  # (B, n)
    y = torch.from_numpy(ids[offset + 1:offset + 1 + batch_size * n].reshape(batch_size, n))  # (B, n)
    batches = []
    for t0 in range(0, n, window):
        t1 = min(t0 + window, n)
        lengths = torch.full((batch_size,), t1 - t0, dtype=torch.int64)
        batches.append((x[:, t0:t1], lengths, y[:, t0:t1]))
    return batches


def item_batches(items: Sequence[Sequence[int]], end: int, batch_size: int,
                 seed: int | np.random.Generator | None = None) -> Iterator[Batch]:
    """Padded batches of items: ``x = [end] + item``, ``y = item + [end]``, padding ``y = -100``.

    Shuffled when ``seed`` is given, else in order.
    """
    order = np.arange(len(items))
    if seed is not None:
        order = np.random.default_rng(seed).permutation(len(items))
    for start in range(0, len(items), batch_size):
        chosen = [items[i] for i in order[start:start + batch_size]]
        lengths = torch.tensor([len(item) + 1 for item in chosen], dtype=torch.int64)  # (B,)
        x = torch.zeros(len(chosen), int(lengths.max()), dtype=torch.int64)  # (B, T)
        y = torch.full_like(x, IGNORE_INDEX)  # (B, T)
        for row, item in enumerate(chosen):
            x[row, :len(item) + 1] = torch.tensor([end, *item])
            y[row, :len(item) + 1] = torch.tensor([*item, end])
        yield x, lengths, y
