"""The batch contract of the training layer, checked once at the door.

A batch is a tuple ``(x, lengths, y)``:

- ``x``: float tensor ``(B, T, F)``, batch first, padded with zeros after each sequence's end;
  or integer token ids ``(B, T)`` for a model that embeds them (a character language model);
- ``lengths``: int64 ``(B,)``, the number of valid steps of each sequence;
- ``y``: int64 ``(B,)`` (one class per sequence) or ``(B, T)`` (one target per step, padded
  steps marked ``-100``, the ``ignore_index`` of the loss), or ``(B, L)`` label strings padded
  with ``-100`` for an objective that reads them (CTC);
- optionally a fourth element, passed to the model as its third argument: ``model(x, lengths,
  decoder_input)``, the previous target tokens an encoder-decoder reads under teacher forcing.

The training layer never builds batches: the caller (data layer, CLI, a test) hands them over,
either as a re-iterable (a list, a ``DataLoader``) or as a callable ``epoch -> iterable`` so that
it can reshuffle every epoch from its own seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
BatchSource = Callable[[int], Iterable[Batch]] | Iterable[Batch]


def epoch_batches(source: BatchSource, epoch: int) -> Iterable[Batch]:
    """The batches of one epoch (1-based) from a callable ``epoch -> iterable`` or a re-iterable."""
    if callable(source):
        return source(epoch)
    if iter(source) is source:
        # A generator or iterator would be used up after the first epoch and the second would
        # silently train on nothing.
        raise TypeError(
            "batches must be re-iterable (a list, a DataLoader) or a callable epoch -> batches, "
            f"not a one-shot {type(source).__name__}"
        )
    return source


def unpack_batch(batch: Any, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, tuple]:
    """Check one batch against the contract; return ``(x, lengths, y, extra)`` with x, y and extra on ``device``.

    ``lengths`` stays where it is (normally the CPU): rnnkit layers take lengths on any device,
    and torch's ``pack_padded_sequence`` insists on CPU lengths, so moving them would only cost
    a device round trip. ``extra`` is ``()`` for a batch of three, or ``(decoder_input,)``.
    """
    if not isinstance(batch, (tuple, list)) or len(batch) not in (3, 4):
        raise TypeError(f"a batch must be a tuple (x, lengths, y) or (x, lengths, y, decoder_input); "
                        f"got {type(batch).__name__}" + (f" of {len(batch)}" if isinstance(batch, (tuple, list)) else ""))
    x, lengths, y, *extra = batch
    is_features = torch.is_tensor(x) and x.dim() == 3 and x.is_floating_point()
    is_tokens = torch.is_tensor(x) and x.dim() == 2 and not x.is_floating_point() and not x.is_complex()
    if not (is_features or is_tokens):
        raise ValueError(f"batch x must be a float tensor (B, T, F) or integer token ids (B, T); got {_describe(x)}")
    B, T = x.shape[:2]
    if not (torch.is_tensor(lengths) and lengths.shape == (B,) and not lengths.is_floating_point()):
        raise ValueError(f"batch lengths must be an integer tensor ({B},); got {_describe(lengths)}")
    if not (torch.is_tensor(y) and y.dim() in (1, 2) and y.shape[0] == B and not y.is_floating_point()):
        raise ValueError(f"batch y must be an integer tensor ({B},), ({B}, {T}) or ({B}, L) (label strings); "
                         f"got {_describe(y)}")
    if extra and not (torch.is_tensor(extra[0]) and extra[0].shape[0] == B):
        raise ValueError(f"batch decoder_input must be a tensor with {B} rows; got {_describe(extra[0])}")
    return x.to(device), lengths, y.to(device), tuple(e.to(device) for e in extra)


def _describe(value: Any) -> str:
    if torch.is_tensor(value):
        return f"{value.dtype} tensor of shape {tuple(value.shape)}"
    return type(value).__name__
