"""Many-to-many: a recurrent stack and one linear layer applied at every frame.

The common body of the CTC model and the sequence tagger: ``scores_t = W dropout(h_t) + b`` for
every frame t of ``h = stack(x)``, bidirectional by default because a frame's label depends on what
comes after it as much as on what came before (the end of a spoken digit tells which digit it was).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ._settings import ModelSettings
from ._stack import RecurrentStack


@dataclass(frozen=True)
class FrameConfig(ModelSettings):
    """Everything that defines a frame-level model; saved as JSON beside its weights."""

    input_size: int  # features per frame (F)
    num_classes: int  # C, the labels; a CTC model has one output more (the blank)
    cell: str = "lstm"  # "rnn", "lstm" or "gru"
    hidden: tuple[int, ...] = (128, 128)  # width of each recurrent layer, first to last
    dropout: float = 0.2  # between recurrent layers and before the output layer
    bidirectional: bool = True  # a reverse direction in every layer
    nonlinearity: str = "tanh"  # rnn only: "tanh" or "relu"
    peephole: bool = False  # lstm only: peephole connections
    proj_size: int = 0  # lstm only: recurrent projection (LSTMP), 0 for none
    reset_after: bool = True  # gru only: torch's form (True) or Cho et al.'s (False)
    init: str = "torch"  # "torch" or "keras" initialisation
    impl: str = "auto"  # "auto", "kernel" or "reference"

    def __post_init__(self) -> None:
        self.check_types()
        self.check_stack()
        if self.num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {self.num_classes}")
        if self.input_size < 1:
            raise ValueError(f"input_size must be at least 1, got {self.input_size}")


class FrameEncoder(nn.Module):
    """``forward(x (B, T, F), lengths (B,)) -> scores (B, T, num_outputs)``, one score vector per frame.

    Padding never changes a valid frame's scores (the layers mask it); the scores at padded frames
    are the output layer's bias and mean nothing: losses, decoders and metrics read only the first
    ``lengths[b]`` frames.
    """

    def __init__(self, config: FrameConfig, num_outputs: int) -> None:
        super().__init__()
        c = config
        self.stack = RecurrentStack(c.input_size, c.cell, c.hidden, c.dropout, c.bidirectional,
                                    nonlinearity=c.nonlinearity, peephole=c.peephole, proj_size=c.proj_size,
                                    reset_after=c.reset_after, impl=c.impl, init=c.init)
        self.dropout = nn.Dropout(c.dropout)
        self.head = nn.Linear(self.stack.output_size, num_outputs)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.int64)
        h, _ = self.stack(x, lengths)  # (B, T, D*H)
        return self.head(self.dropout(h))  # (B, T, K)
