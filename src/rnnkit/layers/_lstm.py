"""``rnnkit.LSTM``: stacked, optionally bidirectional LSTM layers with peepholes and projection.

A drop-in for ``torch.nn.LSTM`` (same parameter names, ``proj_size`` included), plus
``peephole=True`` (diagonal ``weight_ci/cf/co``, the Gers and Schmidhuber LSTM), which torch lacks;
peepholes with ``proj_size > 0`` give the LSTMP of Sak et al. 2014. ``layer_norm=True`` gives the
LayerNorm-LSTM of Ba et al. 2016 (parameters ``ln_ih_weight_l{k}``, ``ln_hh_weight_l{k}`` (4H,),
``ln_cell_weight_l{k}``, ``ln_cell_bias_l{k}`` (H,), equations (L1), (L2) in ``rnnkit.cells._lstm``);
``cell_clip=C`` bounds the cell state to [-C, C].
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .. import kernels
from ..cells import LSTMParams, LSTMState
from ..cells._lstm import FORGET_GATE, check_cell_clip, layer_norm_shapes
from ._base import RecurrentLayer, _state_tensor


class LSTM(RecurrentLayer):
    """LSTM layers (equations in ``rnnkit.cells.LSTMCell``).

    ``output, (h_n, c_n) = lstm(input, (h_0, c_0)=None, lengths=None)``; shapes and names as
    ``torch.nn.LSTM``; the final state is an ``LSTMState(h, c)`` named tuple. See
    ``RecurrentLayer`` for the padding semantics and ``impl``.
    """

    gates = 4
    scan_name = "lstm_scan"
    forget_gate = FORGET_GATE

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, *, peephole: bool = False, layer_norm: bool = False,
                 cell_clip: float | None = None, impl: str = "auto", init: str = "torch",
                 zoneout: float | tuple[float, float] = 0.0, input_dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 weight_drop: float = 0.0, device=None, dtype=None) -> None:
        from ..cells._checks import check_proj_size

        check_proj_size(proj_size, hidden_size)
        self.peephole, self.layer_norm, self.cell_clip = peephole, layer_norm, check_cell_clip(cell_clip)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size=proj_size, impl=impl, init=init, zoneout=zoneout, input_dropout=input_dropout,
                         recurrent_dropout=recurrent_dropout, weight_drop=weight_drop, device=device, dtype=dtype)

    def cell_shapes(self, layer_input: int) -> dict[str, tuple[int, ...]]:
        shapes = super().cell_shapes(layer_input)
        if self.peephole:
            shapes |= {"weight_ci": (self.hidden_size,), "weight_cf": (self.hidden_size,),
                       "weight_co": (self.hidden_size,)}
        if self.layer_norm:
            shapes |= layer_norm_shapes(self.hidden_size)
        return shapes

    def cell_params(self, layer: int, direction: int) -> LSTMParams:
        s = self.suffix(layer, direction)
        return LSTMParams(*(getattr(self, name + s, None) for name in LSTMParams._fields))

    def cell_options(self) -> dict[str, float]:
        return {} if self.cell_clip is None else {"cell_clip": self.cell_clip}

    def native_fn(self):
        if self.peephole or self.layer_norm or self.cell_clip is not None:
            return None
        # torch's LSTMP has no oneDNN kernel on CPU; rnnkit's is faster there (rnnkit.kernels.beats_native)
        if self.proj_size > 0 and kernels.beats_native("lstm_projection", self.weight_hh_l0, self.training):
            return None
        return torch._VF.lstm

    def check_state(self, hx: Any, batch: int, x: Tensor, unbatched: bool) -> LSTMState:
        layers = self.num_layers * self.num_directions
        if hx is None:
            h0 = c0 = None
        elif isinstance(hx, tuple) and len(hx) == 2:
            h0, c0 = hx
        else:
            raise ValueError("hx must be a tuple (h_0, c_0) for an LSTM")
        return LSTMState(_state_tensor(h0, "h_0", (layers, batch, self.output_size), x, unbatched),
                         _state_tensor(c0, "c_0", (layers, batch, self.hidden_size), x, unbatched))

    def split_state(self, hx: LSTMState, index: int) -> LSTMState:
        return LSTMState(hx.h[index], hx.c[index])

    def stack_states(self, states: list[LSTMState]) -> LSTMState:
        return LSTMState(torch.stack([s.h for s in states]), torch.stack([s.c for s in states]))

    def _native_state(self, final: list[Tensor]) -> LSTMState:
        return LSTMState(*final)

    def extra_repr(self) -> str:
        return super().extra_repr() + (", peephole=True" if self.peephole else "") + \
            (", layer_norm=True" if self.layer_norm else "") + (f", cell_clip={self.cell_clip}" if self.cell_clip else "")
