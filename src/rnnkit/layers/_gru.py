"""``rnnkit.GRU``: stacked, optionally bidirectional GRU layers, a drop-in for ``torch.nn.GRU``.

``reset_after=True`` is torch's (and cuDNN's) GRU; ``reset_after=False`` is the original GRU of
Cho et al. 2014, the form in the lecture notes, which torch does not have.
"""
from __future__ import annotations

import torch

from .. import kernels
from ..cells import GRUParams
from ._base import RecurrentLayer


class GRU(RecurrentLayer):
    """GRU layers (equations in ``rnnkit.cells.GRUCell``).

    ``output, h_n = gru(input, h_0=None, lengths=None)``; shapes and names as ``torch.nn.GRU``.
    See ``RecurrentLayer`` for the padding semantics and ``impl``.
    """

    gates = 3
    scan_name = "gru_scan"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, *,
                 reset_after: bool = True, impl: str = "auto", init: str = "torch", zoneout: float = 0.0, input_dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, weight_drop: float = 0.0, device=None,
                 dtype=None) -> None:
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         impl=impl, init=init, zoneout=zoneout, input_dropout=input_dropout,
                         recurrent_dropout=recurrent_dropout, weight_drop=weight_drop, device=device, dtype=dtype)

    def cell_params(self, layer: int, direction: int) -> GRUParams:
        s = self.suffix(layer, direction)
        return GRUParams(getattr(self, "weight_ih" + s), getattr(self, "weight_hh" + s),
                         getattr(self, "bias_ih" + s, None), getattr(self, "bias_hh" + s, None))

    def cell_options(self) -> dict[str, bool]:
        return {"reset_after": self.reset_after}

    def native_fn(self):
        # torch has no fused GRU training kernel on CPU: rnnkit's is faster there (rnnkit.kernels.beats_native)
        if not self.reset_after or kernels.beats_native("gru", self.weight_hh_l0, self.training and torch.is_grad_enabled()):
            return None
        return torch._VF.gru

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.reset_after else ", reset_after=False")
