"""Turning a sequence of hidden states into one vector, padding excluded.

Attention pooling as in the lecture notes (and Yang et al. 2016)::

    u_t = tanh(W h_t + b)                          (A1) a learned key per step
    a_t = exp(u_t^T u) / Σ_s exp(u_s^T u)           (A2) softmax against a learned context u
    l   = Σ_t a_t h_t                               (A3) the attention-weighted summary

Padded steps get a_t = 0 (their score is -inf before the softmax).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

POOLINGS = ("last", "mean", "max", "attention")


def valid_steps(lengths: Tensor, max_length: int) -> Tensor:
    """(B, T) boolean, True at valid steps."""
    return torch.arange(max_length, device=lengths.device)[None, :] < lengths[:, None]


def mean_pool(outputs: Tensor, lengths: Tensor) -> Tensor:
    """Mean over the valid steps: outputs (B, T, D) -> (B, D). Padded outputs are already zero."""
    return outputs.sum(dim=1) / lengths.to(outputs.dtype)[:, None]


def max_pool(outputs: Tensor, lengths: Tensor) -> Tensor:
    """Maximum over the valid steps: (B, T, D) -> (B, D)."""
    mask = valid_steps(lengths, outputs.shape[1])[:, :, None]  # (B, T, 1)
    return outputs.masked_fill(~mask, float("-inf")).amax(dim=1)


class AttentionPooling(nn.Module):
    """Attention pooling (A1)-(A3); the weights of the last call are kept in ``last_weights`` (B, T)."""

    def __init__(self, size: int, attention_size: int | None = None) -> None:
        super().__init__()
        attention_size = attention_size or size
        self.key = nn.Linear(size, attention_size)  # W, b of (A1)
        self.context = nn.Parameter(torch.empty(attention_size).uniform_(-0.1, 0.1))  # u of (A2)
        self.last_weights: Tensor | None = None

    def forward(self, outputs: Tensor, lengths: Tensor) -> Tensor:
        u = torch.tanh(self.key(outputs))  # (A1) (B, T, A)
        scores = u @ self.context  # (B, T)
        scores = scores.masked_fill(~valid_steps(lengths, outputs.shape[1]), float("-inf"))
        a = torch.softmax(scores, dim=1)  # (A2) (B, T)
        self.last_weights = a.detach()
        return (a[:, :, None] * outputs).sum(dim=1)  # (A3) (B, D)
