"""Tiny models and data sets for the training tests (torch.nn only: the tests need no rnnkit model)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class GRUClassifier(nn.Module):
    """``model(x, lengths) -> logits (B, C)`` from the GRU output at each sequence's last valid step."""

    def __init__(self, input_size: int = 1, hidden_size: int = 16, classes: int = 2, dropout: float = 0.0):
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)  # (B, T, H); steps after the end never reach `last`
        last = out[torch.arange(x.shape[0]), lengths.to(x.device) - 1]  # (B, H)
        return self.head(self.dropout(last))  # (B, C)


class StatefulLSTM(nn.Module):
    """An LSTM tagger (``per_step=True``) or classifier that follows the TBPTT state protocol."""

    def __init__(self, input_size: int = 2, hidden_size: int = 8, classes: int = 3, per_step: bool = True):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, classes)
        self.per_step = per_step

    def forward(self, x, lengths, state=None, return_state=False):
        # Packing makes (h, c) the state after each sequence's last valid step, as the protocol asks.
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, (h, c) = self.lstm(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])  # (B, T, H)
        logits = self.head(out) if self.per_step else self.head(h[-1])  # (B, T, C) or (B, C)
        return (logits, (h, c)) if return_state else logits


def sign_of_sum(n: int, seed: int, steps: int = 12, min_length: int = 3):
    """Sequences of N(0, 1) numbers of random length; the class is whether their sum is positive."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_length, steps + 1, (n,), generator=g)  # (N,)
    valid = torch.arange(steps)[None, :] < lengths[:, None]  # (N, T)
    x = torch.randn(n, steps, 1, generator=g) * valid[..., None]  # (N, T, 1), zero padded
    y = (x.sum(dim=(1, 2)) > 0).long()  # (N,)
    return x, lengths, y


def batches(x, lengths, y, batch_size: int):
    """A fixed list of batches (re-iterable), in order."""
    return [(x[i:i + batch_size], lengths[i:i + batch_size], y[i:i + batch_size])
            for i in range(0, len(x), batch_size)]


def shuffled(x, lengths, y, batch_size: int, seed: int):
    """A callable ``epoch -> batches`` that reshuffles every epoch from ``seed`` and the epoch."""
    def for_epoch(epoch: int):
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed * 1000 + epoch))
        return batches(x[order], lengths[order], y[order], batch_size)
    return for_epoch
