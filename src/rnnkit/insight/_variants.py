"""The models of the long-dependency experiment: a cell and the remedies the notes list.

Each variant is one recurrent layer and a linear read-out, trained the same way; they differ only in
the cell, its nonlinearity, the initialisation of the recurrent weights and whether gradients are
clipped:

* ``rnn``: tanh Elman RNN, torch's uniform initialisation, no clipping (the textbook failure);
* ``rnn-clip``: the same with gradient-norm clipping (Pascanu et al. 2013), against explosion only;
* ``rnn-orth``: orthogonal recurrent weights (Saxe et al. 2014), clipped;
* ``irnn``: ReLU with the identity as recurrent weights and zero biases (Le et al. 2015), clipped;
* ``lstm``: torch's initialisation, clipped; ``lstm-fb1``: forget-gate bias 1 (Gers et al. 2000,
  Jozefowicz et al. 2015), clipped;
* ``gru``: torch's initialisation, clipped.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..models import make_layer

IRNN_INPUT_STD = 1e-3  # Le et al. 2015: input weights from N(0, 0.001)


@dataclass(frozen=True)
class Variant:
    name: str
    cell: str  # "rnn", "lstm" or "gru"
    nonlinearity: str = "tanh"  # rnn only
    recurrent_init: str = "torch"  # "torch", "orthogonal" or "identity"
    forget_bias: float | None = None  # lstm only: the total forget-gate bias (b_if + b_hf), None: torch's
    clip: bool = True  # clip the gradient norm before each step


VARIANTS = {v.name: v for v in (
    Variant("rnn", "rnn", clip=False),
    Variant("rnn-clip", "rnn"),
    Variant("rnn-orth", "rnn", recurrent_init="orthogonal"),
    Variant("irnn", "rnn", nonlinearity="relu", recurrent_init="identity"),
    Variant("lstm", "lstm"),
    Variant("lstm-fb1", "lstm", forget_bias=1.0),
    Variant("gru", "gru"),
)}


def variant(name: str) -> Variant:
    if name not in VARIANTS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(VARIANTS)}")
    return VARIANTS[name]


class Readout(nn.Module):
    """One recurrent layer and a linear read-out of its last output, or of every output (``per_step``)."""

    def __init__(self, layer: nn.Module, output_size: int, per_step: bool) -> None:
        super().__init__()
        self.layer, self.per_step = layer, per_step
        self.head = nn.Linear(layer.hidden_size, output_size)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        outputs, _ = self.layer(x, lengths=lengths)  # (B, T, H)
        return self.head(outputs if self.per_step else outputs[:, -1])  # (B, T, O) or (B, O)


def build_model(v: Variant, input_size: int, hidden: int, output_size: int, per_step: bool) -> Readout:
    """The variant's layer (batch first) with its initialisation, and the read-out."""
    layer = make_layer(v.cell, input_size, hidden, nonlinearity=v.nonlinearity)
    init_layer(layer, v)
    return Readout(layer, output_size, per_step)


@torch.no_grad()
def init_layer(layer: nn.Module, v: Variant) -> None:
    """Apply the variant's recurrent initialisation and forget-gate bias to a one-layer rnnkit layer."""
    H = layer.hidden_size
    if v.recurrent_init == "orthogonal":
        for block in layer.weight_hh_l0.chunk(layer.gates, 0):  # each (H, H) gate block
            nn.init.orthogonal_(block)
    elif v.recurrent_init == "identity":
        layer.weight_hh_l0.copy_(torch.eye(H))
        layer.bias_ih_l0.zero_()
        layer.bias_hh_l0.zero_()
        nn.init.normal_(layer.weight_ih_l0, 0.0, IRNN_INPUT_STD)
    elif v.recurrent_init != "torch":
        raise ValueError(f"unknown recurrent_init {v.recurrent_init!r}")
    if v.forget_bias is not None:
        f = slice(layer.forget_gate * H, (layer.forget_gate + 1) * H)  # the f block of (i, f, g, o)
        layer.bias_ih_l0[f] = v.forget_bias
        layer.bias_hh_l0[f] = 0.0
