"""Record what the gates did: input, forget and output gates, cell and hidden state at every step.

The cells return only the new state; the gates are recomputed here from each step's input and
previous state (taken from the trace of the real run), with the equations of ``rnnkit.cells``
(numbered as there). The recorded ``c`` and ``h`` are recomputed too, so a test can hold them
against the states the cell itself produced.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..cells import GRUParams, LSTMParams, LSTMState, RNNParams
from ..layers import RecurrentLayer
from ._trace import DirectionTrace, tracing

GATE_NAMES = {"rnn": ("a", "h"), "lstm": ("i", "f", "g", "o", "c", "h"), "gru": ("r", "z", "n", "h")}


def rnn_gates(x: Tensor, h: Tensor, p: RNNParams, nonlinearity: str = "tanh") -> dict[str, Tensor]:
    a = F.linear(x, p.weight_ih, p.bias_ih) + F.linear(h, p.weight_hh, p.bias_hh)  # (B, H) pre-activation
    return {"a": a, "h": torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)}


def lstm_gates(x: Tensor, state: LSTMState, p: LSTMParams, cell_clip: float | None = None) -> dict[str, Tensor]:
    if p.ln_hh_weight is not None:
        raise ValueError("recording the gates of a layer-normalised LSTM is not supported")
    h_prev, c_prev = state
    a = F.linear(x, p.weight_ih, p.bias_ih) + F.linear(h_prev, p.weight_hh, p.bias_hh)  # (B, 4H)
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)  # 4 x (B, H)
    if p.weight_ci is not None:
        a_i, a_f = a_i + p.weight_ci * c_prev, a_f + p.weight_cf * c_prev
    i = torch.sigmoid(a_i)  # (1)
    f = torch.sigmoid(a_f)  # (2)
    g = torch.tanh(a_g)  # (3)
    c = f * c_prev + i * g  # (4)
    if cell_clip is not None:
        c = c.clamp(-cell_clip, cell_clip)  # (4')
    if p.weight_co is not None:
        a_o = a_o + p.weight_co * c
    o = torch.sigmoid(a_o)  # (5)
    m = o * torch.tanh(c)  # (6)
    h = F.linear(m, p.weight_hr) if p.weight_hr is not None else m  # (7)
    return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}


def gru_gates(x: Tensor, h: Tensor, p: GRUParams, reset_after: bool = True) -> dict[str, Tensor]:
    H = h.shape[1]
    x_r, x_z, x_n = F.linear(x, p.weight_ih, p.bias_ih).chunk(3, dim=1)  # 3 x (B, H)
    b_hh = p.bias_hh if p.bias_hh is not None else torch.zeros(3 * H, dtype=h.dtype, device=h.device)
    h_r, h_z = F.linear(h, p.weight_hh[:2 * H], b_hh[:2 * H]).chunk(2, dim=1)  # 2 x (B, H)
    r = torch.sigmoid(x_r + h_r)  # (1)
    z = torch.sigmoid(x_z + h_z)  # (2)
    W_hn, b_hn = p.weight_hh[2 * H:], b_hh[2 * H:]
    n = torch.tanh(x_n + (r * F.linear(h, W_hn, b_hn) if reset_after else F.linear(r * h, W_hn, b_hn)))  # (3a)/(3b)
    return {"r": r, "z": z, "n": n, "h": (1 - z) * n + z * h}  # (4)


GATE_FUNCTIONS = {"rnn": rnn_gates, "lstm": lstm_gates, "gru": gru_gates}


@dataclass
class GateRecord:
    """The gates and states of one direction of one layer: each (T, B, H) (padded steps NaN)."""

    name: str
    family: str
    values: dict[str, np.ndarray]
    lengths: np.ndarray  # (B,)

    def sequence(self, b: int) -> dict[str, np.ndarray]:
        """Sequence ``b``'s valid steps: name -> (T_b, H)."""
        return {k: v[: int(self.lengths[b]), b] for k, v in self.values.items()}


@dataclass
class Recording:
    gates: list[GateRecord]  # one per layer and direction of every rnnkit layer, in the order they ran
    attention: np.ndarray | None  # (B, T) attention pooling weights, None when the model has none
    output: Tensor  # what the model returned


@torch.no_grad()
def gates_of(trace: DirectionTrace, layer: RecurrentLayer) -> GateRecord:
    """Recompute every step's gates from the trace's inputs and previous states."""
    params, options = layer.cell_params(trace.layer, trace.direction), layer.cell_options()
    gates = GATE_FUNCTIONS[trace.family]
    T = len(trace.states)
    steps = [gates(trace.inputs[t], trace.previous(t), params, **options) for t in range(T)]
    valid = trace.valid().numpy()[:, :, None]  # (T, B, 1)
    values = {name: np.where(valid, torch.stack([s[name] for s in steps]).detach().cpu().numpy(), np.nan)
              for name in GATE_NAMES[trace.family]}  # each (T, B, H)
    return GateRecord(trace.name, trace.family, values, trace.lengths.numpy().copy())


def record_gates(model: nn.Module, x: Tensor, lengths: Tensor | None = None) -> Recording:
    """Run ``model(x, lengths=lengths)`` (eval mode) and record the gates of every rnnkit layer in it,
    and the attention weights of an attention pooling (any submodule keeping ``last_weights``)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), tracing(model) as traces:
            output = model(x) if lengths is None else model(x, lengths=lengths)
    finally:
        model.train(was_training)
    modules = dict(model.named_modules())
    records = [gates_of(trace, modules[trace.module]) for trace in traces]
    attention = next((m.last_weights for m in model.modules() if getattr(m, "last_weights", None) is not None), None)
    return Recording(records, None if attention is None else attention.detach().cpu().numpy(), output)
