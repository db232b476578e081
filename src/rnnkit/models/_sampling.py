"""Generating from a language model: feed each sampled token back in as the next input.

The next token is drawn from the model's distribution sharpened or flattened by a temperature
and optionally cut to the ``k`` most likely tokens::

    p_i ∝ exp(z_i / τ)   over the k largest logits z_i (top-k), 0 elsewhere

``τ -> 0`` (and ``k = 1``) is greedy decoding, the arg-max at every step; ``τ = 1`` and no cut
samples from the model as trained.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor


def check_sampling(temperature: float, top_k: int | None) -> None:
    if not temperature >= 0:  # also refuses NaN
        raise ValueError(f"temperature must be >= 0 (0 is greedy decoding), got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1 (1 is greedy decoding), got {top_k}")


def next_token(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
               generator: torch.Generator | None = None) -> Tensor:
    """One token id per row of ``logits (B, V)``, drawn as the module docstring says; ``(B,)`` int64."""
    check_sampling(temperature, top_k)
    if temperature == 0 or top_k == 1:
        return logits.argmax(dim=-1)  # greedy: the limit of τ -> 0
    z = logits.float() / temperature  # (B, V)
    if top_k is not None and top_k < z.shape[-1]:
        kth_largest = z.topk(top_k, dim=-1).values[:, -1:]  # (B, 1)
        z = z.masked_fill(z < kth_largest, float("-inf"))
    p = torch.softmax(z, dim=-1)  # (B, V)
    return torch.multinomial(p, 1, generator=generator)[:, 0]


@torch.no_grad()
def generate(model: Any, prime: Sequence[int], length: int, temperature: float = 1.0, top_k: int | None = None,
             seed: int | None = None, stop: int | None = None) -> Iterator[int]:
    """Yield up to ``length`` token ids sampled after ``prime``, one at a time (for streaming output).

    ``model`` follows CharLM's stateful protocol (``model(x, state=..., return_state=True)``).
    The prime is read in one forward pass; then each sampled token is fed back through
    ``model.step``. With ``stop``, generation ends after yielding that token (a name's end).
    The same ``seed`` gives the same tokens.
    """
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    if len(prime) == 0:
        raise ValueError("the prime must hold at least one token: the model needs an input to start from")
    check_sampling(temperature, top_k)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        x = torch.tensor([list(prime)], dtype=torch.int64, device=device)  # (1, T_prime)
        logits, state = model(x, state=None, return_state=True)  # (1, T_prime, V)
        logits = logits[:, -1]  # (1, V): the distribution after the prime's last token
        for _ in range(length):
            token = next_token(logits.cpu(), temperature, top_k, generator)  # (1,)
            yield int(token)
            if stop is not None and int(token) == stop:
                return
            logits, state = model.step(token.to(device), state)
    finally:
        model.train(was_training)
