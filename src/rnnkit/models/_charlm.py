"""One-to-many: a character-level language model (Graves 2013; Karpathy's char-rnn).

The model reads characters and predicts, at every step, a distribution over the next one::

    e_t = E[x_t]                                   (L1) embedding of the character id x_t
    h_t = stack(e_t, h_{t-1})                      (L2) any rnnkit recurrent stack (RNN/LSTM/GRU ...)
    p(x_{t+1} | x_{<=t}) = softmax(W h_t + b)      (L3) logits over the vocabulary

Trained with teacher forcing (the true previous character is the input at every step) and
generated from by feeding each sampled character back in (``rnnkit.models.sample``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..cells import LSTMState
from ._settings import ModelSettings
from ._stack import RecurrentStack


@dataclass(frozen=True)
class CharLMConfig(ModelSettings):
    """Everything that defines a CharLM; saved as JSON beside its weights."""

    vocab_size: int  # V, characters the model reads and predicts
    cell: str = "lstm"  # "rnn", "lstm" or "gru"
    hidden: tuple[int, ...] = (512, 512)  # width of each recurrent layer, first to last
    embedding: int = 64  # size of the learned character embedding (E)
    dropout: float = 0.0  # on the embedding, between layers and before the output layer
    nonlinearity: str = "tanh"  # rnn only: "tanh" or "relu"
    peephole: bool = False  # lstm only: peephole connections
    proj_size: int = 0  # lstm only: recurrent projection (LSTMP), 0 for none
    layer_norm: bool = False  # lstm only: layer-normalised gates and cell (Ba et al. 2016)
    zoneout: float = 0.0  # probability of keeping each unit's previous state in training (Krueger et al. 2017)
    reset_after: bool = True  # gru only: torch's form (True) or Cho et al.'s (False)
    init: str = "torch"  # "torch" or "keras" initialisation
    impl: str = "auto"  # "auto", "kernel" or "reference"

    def __post_init__(self) -> None:
        self.check_types()
        self.check_stack()
        if self.vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2, got {self.vocab_size}")
        if self.embedding < 1:
            raise ValueError(f"embedding must be at least 1, got {self.embedding}")

    @property
    def architecture(self) -> str:
        """Short name of the shape and variant, e.g. "512-512 emb64", "256 peephole proj128 layernorm"."""
        words = ["-".join(str(h) for h in self.hidden), f"emb{self.embedding}"]
        words += ["relu"] if self.cell == "rnn" and self.nonlinearity == "relu" else []
        words += ["peephole"] if self.cell == "lstm" and self.peephole else []
        words += [f"proj{self.proj_size}"] if self.cell == "lstm" and self.proj_size else []
        words += ["layernorm"] if self.layer_norm else []
        words += [f"zoneout{self.zoneout:g}"] if self.zoneout else []
        words += ["cho"] if self.cell == "gru" and not self.reset_after else []
        return " ".join(words)


class CharLM(nn.Module):
    """A character language model: ``logits (B, T, V) = head(stack(embed(x)))``.

    ``forward(x (B, T) int64, lengths=None, state=None, return_state=False)``: with ``lengths``
    the batch is padded (names, one per row) and padded steps give zero hidden outputs; with
    ``state`` the stack starts from it instead of zeros, and ``return_state=True`` also returns
    the state after each row's last valid step. That is the stateful protocol of truncated BPTT
    (``rnnkit.training.tbptt_step``): a long text runs on from window to window.
    """

    def __init__(self, config: CharLMConfig | None = None, **settings: Any) -> None:
        super().__init__()
        self.config = config if config is not None else CharLMConfig(**settings)
        c = self.config
        self.embed = nn.Embedding(c.vocab_size, c.embedding)  # E of (L1)
        self.stack = RecurrentStack(c.embedding, c.cell, c.hidden, c.dropout, nonlinearity=c.nonlinearity,
                                    peephole=c.peephole, proj_size=c.proj_size, reset_after=c.reset_after,
                                    layer_norm=c.layer_norm, zoneout=c.zoneout, impl=c.impl, init=c.init)
        self.dropout = nn.Dropout(c.dropout)
        self.head = nn.Linear(self.stack.output_size, c.vocab_size)  # W, b of (L3)

    def forward(self, x: Tensor, lengths: Tensor | None = None, state: list[Any] | None = None,
                return_state: bool = False) -> Tensor | tuple[Tensor, list[Any]]:
        if x.dim() != 2 or x.is_floating_point():
            raise ValueError(f"CharLM takes character ids, an integer tensor (B, T); got "
                             f"{x.dtype} of shape {tuple(x.shape)}")
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64)
        e = self.dropout(self.embed(x))  # (L1) (B, T, E)
        h, states = self.stack(e, lengths, state)  # (L2) (B, T, H)
        logits = self.head(self.dropout(h))  # (L3) (B, T, V)
        return (logits, states) if return_state else logits

    @torch.no_grad()
    def step(self, x_t: Tensor, state: list[Any] | None = None) -> tuple[Tensor, list[Any]]:
        """One character per row: ``x_t (B,)`` -> ``(logits (B, V), state)``, for streaming generation."""
        logits, state = self.forward(x_t[:, None], state=state, return_state=True)  # (B, 1, V)
        return logits[:, 0], state

    def init_state(self, batch: int) -> list[Any]:
        """The zero state of every layer for ``batch`` rows: ``h (1, B, H)``, or ``LSTMState`` for the LSTM."""
        parameter = self.head.weight
        states = []
        for layer in self.stack.layers:
            h = parameter.new_zeros(1, batch, layer.output_size)  # (D=1, B, H or P)
            if self.config.cell == "lstm":
                states.append(LSTMState(h, parameter.new_zeros(1, batch, layer.hidden_size)))  # c: (1, B, H)
            else:
                states.append(h)
        return states

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
