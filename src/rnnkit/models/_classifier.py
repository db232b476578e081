"""Many-to-one: a recurrent stack read out by a pooling and a linear layer (a sequence classifier)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..cells import LSTMState
from ._pooling import POOLINGS, AttentionPooling, max_pool, mean_pool
from ._settings import ModelSettings
from ._stack import RecurrentStack


@dataclass(frozen=True)
class ClassifierConfig(ModelSettings):
    """Everything that defines a SequenceClassifier; saved as JSON beside its weights."""

    input_size: int  # features per time step (F)
    num_classes: int  # C
    cell: str = "lstm"  # "rnn", "lstm" or "gru"
    hidden: tuple[int, ...] = (64, 64)  # width of each recurrent layer, first to last
    dropout: float = 0.2  # between recurrent layers and before the output layer
    bidirectional: bool = False  # a reverse direction in every layer
    # attention by default: it reads the whole sequence and learns where to look; the final state
    # alone fails where the end carries no class information (LASA pen strokes all end at (0, 0)).
    pooling: str = "attention"  # "last" state, "mean"/"max" over valid steps, or "attention"
    nonlinearity: str = "tanh"  # rnn only: "tanh" or "relu"
    peephole: bool = False  # lstm only: peephole connections
    proj_size: int = 0  # lstm only: recurrent projection (LSTMP), 0 for none
    reset_after: bool = True  # gru only: torch's form (True) or Cho et al.'s (False)
    init: str = "torch"  # "torch" or "keras" initialisation
    impl: str = "auto"  # "auto", "kernel" or "reference"

    def __post_init__(self) -> None:
        self.check_types()
        self.check_stack()
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {self.num_classes}")
        if self.input_size < 1:
            raise ValueError(f"input_size must be at least 1, got {self.input_size}")

    @property
    def architecture(self) -> str:
        """Short name of the shape and variant, e.g. "64-32-32", "bi-64-64 attention", "64 peephole proj32"."""
        words = [("bi-" if self.bidirectional else "") + "-".join(str(h) for h in self.hidden)]
        words += ["relu"] if self.cell == "rnn" and self.nonlinearity == "relu" else []
        words += ["peephole"] if self.cell == "lstm" and self.peephole else []
        words += [f"proj{self.proj_size}"] if self.cell == "lstm" and self.proj_size else []
        words += ["cho"] if self.cell == "gru" and not self.reset_after else []
        words += [self.pooling] if self.pooling != "last" else []
        return " ".join(words)


class SequenceClassifier(nn.Module):
    """Classify padded sequences: ``logits = Linear(dropout(pool(stack(x))))``.

    ``forward(x (B, T, F), lengths (B,)) -> logits (B, C)``. For truncated BPTT it also follows
    the stateful protocol ``forward(x, lengths, state=state, return_state=True) -> (logits, state)``
    (unidirectional, ``pooling="last"`` only: other poolings need the whole sequence).
    """

    def __init__(self, config: ClassifierConfig | None = None, **settings: Any) -> None:
        super().__init__()
        self.config = config if config is not None else ClassifierConfig(**settings)
        c = self.config
        self.stack = RecurrentStack(c.input_size, c.cell, c.hidden, c.dropout, c.bidirectional,
                                    nonlinearity=c.nonlinearity, peephole=c.peephole, proj_size=c.proj_size,
                                    reset_after=c.reset_after, impl=c.impl, init=c.init)
        width = self.stack.output_size
        self.attention = AttentionPooling(width) if c.pooling == "attention" else None
        self.dropout = nn.Dropout(c.dropout)
        self.head = nn.Linear(width, c.num_classes)

    def forward(self, x: Tensor, lengths: Tensor | None = None, state: list[Any] | None = None,
                return_state: bool = False) -> Tensor | tuple[Tensor, list[Any]]:
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64, device=x.device)
        lengths = lengths.to(x.device)
        if (state is not None or return_state) and (self.config.bidirectional or self.config.pooling != "last"):
            raise ValueError("carrying state across windows (truncated BPTT) needs a unidirectional model "
                             "with pooling='last'")
        outputs, states = self.stack(x, lengths, state)  # (B, T, D*H)
        logits = self.head(self.dropout(self.pool(outputs, lengths, states[-1])))  # (B, C)
        return (logits, states) if return_state else logits

    def pool(self, outputs: Tensor, lengths: Tensor, last_state: Any) -> Tensor:
        pooling = self.config.pooling
        if pooling == "last":
            h_n = last_state.h if isinstance(last_state, LSTMState) else last_state  # (D, B, H)
            return torch.cat(list(h_n), dim=1)  # (B, D*H): forward final, then the reverse one (after step 0)
        if pooling == "mean":
            return mean_pool(outputs, lengths)
        if pooling == "max":
            return max_pool(outputs, lengths)
        return self.attention(outputs, lengths)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
