"""A stack of recurrent layers of possibly different widths (the assignment's "64-32-32").

``torch.nn.LSTM(num_layers=3)`` needs one width for every layer; a study compares shapes like
64-32-32, so each layer here is its own rnnkit layer, with dropout between them.
"""
from __future__ import annotations

from typing import Any, Sequence

from torch import Tensor, nn

from ..layers import GRU, LSTM, RNN

CELLS = ("rnn", "lstm", "gru")


def make_layer(cell: str, input_size: int, hidden_size: int, *, bidirectional: bool = False,
               nonlinearity: str = "tanh", peephole: bool = False, proj_size: int = 0, reset_after: bool = True,
               layer_norm: bool = False, zoneout: float = 0.0, impl: str = "auto",
               init: str = "torch") -> RNN | LSTM | GRU:
    """One batch-first rnnkit layer of the named cell family with its family's options."""
    if layer_norm and cell != "lstm":
        raise ValueError(f"layer_norm is an LSTM option; the {cell} layers have none")
    common = dict(batch_first=True, bidirectional=bidirectional, impl=impl, init=init, zoneout=zoneout)
    if cell == "rnn":
        return RNN(input_size, hidden_size, nonlinearity=nonlinearity, **common)
    if cell == "lstm":
        return LSTM(input_size, hidden_size, proj_size=proj_size, peephole=peephole, layer_norm=layer_norm, **common)
    if cell == "gru":
        return GRU(input_size, hidden_size, reset_after=reset_after, **common)
    raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")


class RecurrentStack(nn.Module):
    """Layers ``hidden[0] - hidden[1] - ...`` over batch-first input, with dropout between them.

    ``forward(x (B, T, F), lengths (B,), state=None) -> (outputs (B, T, D*H_last), states)`` where
    ``states`` is a list with each layer's final state (the layer's ``h_n`` or ``(h_n, c_n)``).
    """

    def __init__(self, input_size: int, cell: str, hidden: Sequence[int], dropout: float = 0.0,
                 bidirectional: bool = False, **cell_options: Any) -> None:
        super().__init__()
        if not hidden:
            raise ValueError("hidden must list at least one layer width, e.g. [64, 32]")
        layers, width = [], input_size
        for size in hidden:
            layer = make_layer(cell, width, int(size), bidirectional=bidirectional, **cell_options)
            layers.append(layer)
            width = layer.output_size * layer.num_directions
        self.layers = nn.ModuleList(layers)
        self.dropout = nn.Dropout(dropout)
        self.output_size = width

    def forward(self, x: Tensor, lengths: Tensor, state: list[Any] | None = None) -> tuple[Tensor, list[Any]]:
        states = []
        for k, layer in enumerate(self.layers):
            if k > 0:
                x = self.dropout(x)
            x, final = layer(x, None if state is None else state[k], lengths=lengths)  # (B, T, D*H_k)
            states.append(final)
        return x, states
