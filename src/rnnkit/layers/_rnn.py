"""``rnnkit.RNN``: the stacked, optionally bidirectional Elman RNN, a drop-in for ``torch.nn.RNN``."""
from __future__ import annotations

import torch

from .. import kernels
from ..cells import RNNParams
from ..cells._rnn import check_nonlinearity
from ._base import RecurrentLayer


class RNN(RecurrentLayer):
    """Elman RNN layers: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``, act = tanh or relu.

    ``output, h_n = rnn(input, h_0=None, lengths=None)``; shapes and names as ``torch.nn.RNN``.
    See ``RecurrentLayer`` for the padding semantics and ``impl``.
    """

    gates = 1
    scan_name = "rnn_scan"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 *, impl: str = "auto", init: str = "torch", zoneout: float = 0.0, input_dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, weight_drop: float = 0.0, device=None,
                 dtype=None) -> None:
        self.nonlinearity = check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         impl=impl, init=init, zoneout=zoneout, input_dropout=input_dropout,
                         recurrent_dropout=recurrent_dropout, weight_drop=weight_drop, device=device, dtype=dtype)

    def cell_params(self, layer: int, direction: int) -> RNNParams:
        s = self.suffix(layer, direction)
        return RNNParams(getattr(self, "weight_ih" + s), getattr(self, "weight_hh" + s),
                         getattr(self, "bias_ih" + s, None), getattr(self, "bias_hh" + s, None))

    def cell_options(self) -> dict[str, str]:
        return {"nonlinearity": self.nonlinearity}

    def native_fn(self):
        # rnnkit's kernel beats torch's RNN for a training step on CPU (rnnkit.kernels.beats_native)
        if kernels.beats_native("rnn", self.weight_hh_l0, self.training and torch.is_grad_enabled()):
            return None
        return torch._VF.rnn_tanh if self.nonlinearity == "tanh" else torch._VF.rnn_relu

    def extra_repr(self) -> str:
        return super().extra_repr() + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")
