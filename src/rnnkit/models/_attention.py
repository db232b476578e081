"""Attention of a decoder over the encoder's outputs, padding excluded.

Score of decoder state (query) s against encoder output (memory) h_j, for each kind::

    additive (Bahdanau et al. 2015):   e_j = v^T tanh(W s + U h_j)         W (A, Q), U (A, K), v (A,)
    dot      (Luong et al. 2015):      e_j = s^T h_j                       needs Q = K
    general  (Luong et al. 2015):      e_j = s^T W h_j                     W (Q, K)

then, over the valid steps j < length only::

    a_j = exp(e_j) / Σ_{k < length} exp(e_k)      (masked softmax: a padded step has a_j = 0 exactly)
    c   = Σ_j a_j h_j                             the context vector

The part of each score that depends on the memory alone (``U h_j``, ``W h_j``) is computed once
per source by `keys` and reused at every decoder step.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from ._pooling import valid_steps

ATTENTIONS = ("additive", "dot", "general")


class AttentionOutput(NamedTuple):
    context: Tensor  # (B, Tq, K) c, one per query
    weights: Tensor  # (B, Tq, S) a, zero at padded source steps


def masked_softmax(scores: Tensor, lengths: Tensor) -> Tensor:
    """Softmax of scores (B, Tq, S) over the first ``lengths[b]`` source steps; the rest get 0."""
    valid = valid_steps(lengths, scores.shape[-1])[:, None, :]  # (B, 1, S)
    return torch.softmax(scores.masked_fill(~valid, float("-inf")), dim=-1)  # (B, Tq, S)


class Attention(nn.Module):
    """Additive, dot or general attention of queries (B, Tq, Q) over a memory (B, S, K).

    ``forward(query, memory, lengths, keys=None) -> AttentionOutput(context, weights)``; pass
    ``keys=attention.keys(memory)`` to reuse them across decoder steps.
    """

    def __init__(self, kind: str, query_size: int, memory_size: int, attention_size: int | None = None) -> None:
        super().__init__()
        if kind not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {kind!r}")
        if kind == "dot" and query_size != memory_size:
            raise ValueError(f"dot attention needs the decoder width ({query_size}) to equal the encoder "
                             f"output width ({memory_size}); use 'general' or 'additive'")
        self.kind = kind
        if kind == "additive":
            attention_size = attention_size or query_size
            self.query_proj = nn.Linear(query_size, attention_size, bias=False)  # W
            self.memory_proj = nn.Linear(memory_size, attention_size, bias=True)  # U (with the bias of the sum)
            self.v = nn.Linear(attention_size, 1, bias=False)  # v
        elif kind == "general":
            self.memory_proj = nn.Linear(memory_size, query_size, bias=False)  # W

    def keys(self, memory: Tensor) -> Tensor:
        """The query-independent part of the scores: U h (B, S, A), W h (B, S, Q) or h itself (dot)."""
        return memory if self.kind == "dot" else self.memory_proj(memory)

    def scores(self, query: Tensor, keys: Tensor) -> Tensor:
        """e (B, Tq, S) for queries (B, Tq, Q)."""
        if self.kind == "additive":
            hidden = torch.tanh(self.query_proj(query)[:, :, None, :] + keys[:, None, :, :])  # (B, Tq, S, A)
            return self.v(hidden).squeeze(-1)  # (B, Tq, S)
        return query @ keys.transpose(1, 2)  # (B, Tq, S): s^T h_j (dot) or s^T W h_j (general)

    def forward(self, query: Tensor, memory: Tensor, lengths: Tensor, keys: Tensor | None = None) -> AttentionOutput:
        keys = self.keys(memory) if keys is None else keys
        weights = masked_softmax(self.scores(query, keys), lengths)  # (B, Tq, S)
        return AttentionOutput(weights @ memory, weights)  # c: (B, Tq, K)
