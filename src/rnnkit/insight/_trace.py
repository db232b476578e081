"""Run a recurrent layer step by step through its cells and keep every state: the trace that gradient
flow and gate recording read.

``trace_layer(layer, x, hx, lengths)`` returns what the layer returns (``(output, h_n)`` or
``(output, (h_n, c_n))``, computed by the cell functions of ``rnnkit.cells`` exactly as
``impl="reference"`` computes it) and one ``DirectionTrace`` per layer and direction: the state
after every step, as tensors inside the autograd graph, so that ``torch.autograd.grad`` can ask for
``∂L/∂h_t`` of any step. ``tracing(model)`` does this for every rnnkit layer inside a model while it
runs. Padding follows the layers' rule (``rnnkit.layers.RecurrentLayer``): at a padded step the
state is carried unchanged and the output is zero.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor, nn

from ..cells import LSTMState, gru_cell, lstm_cell, rnn_cell
from ..layers import RecurrentLayer

CELL_FUNCTIONS = {"rnn_scan": rnn_cell, "lstm_scan": lstm_cell, "gru_scan": gru_cell}
FAMILIES = {"rnn_scan": "rnn", "lstm_scan": "lstm", "gru_scan": "gru"}


@dataclass
class DirectionTrace:
    """One direction of one layer over one batch, time-major (index t is step t for both directions)."""

    layer: int  # 0 = the first layer of the rnnkit module
    direction: int  # 0 forward, 1 reverse
    family: str  # "rnn", "lstm" or "gru"
    inputs: Tensor  # (T, B, I) what this direction read (padding zeroed)
    initial: Tensor | LSTMState  # the state before the first step, (B, H_out) or LSTMState
    states: list[Tensor]  # T x (B, H_out): h_t, the state after step t, in the autograd graph
    cells: list[Tensor] | None  # T x (B, H): c_t (LSTM only)
    final: Tensor  # (B, H_out): h after each sequence's last step (reverse: after step 0)
    lengths: Tensor  # (B,) valid steps per sequence
    step: Callable[[Tensor, Any], Any]  # the cell of this direction: (x_t, state) -> new state
    module: str = ""  # the rnnkit module's name inside the model ("" for a bare layer)
    final_cell: Tensor | None = None  # (B, H): c after each sequence's last step (LSTM only)

    @property
    def name(self) -> str:
        """"layer 0", "layer 1 reverse"; a model's stack of one-layer modules (``stack.layers.K``) counts K."""
        stacked = re.fullmatch(r"(?:.*\.)?layers\.(\d+)", self.module)
        where = "" if stacked or not self.module else f"{self.module} "
        layer = int(stacked.group(1)) + self.layer if stacked else self.layer
        return f"{where}layer {layer}" + (" reverse" if self.direction == 1 else "")

    def valid(self) -> Tensor:
        """(T, B) boolean: True at the steps each sequence really has."""
        T = len(self.states)
        return torch.arange(T)[:, None] < self.lengths.cpu()[None, :]

    def distance(self) -> Tensor:
        """(T, B) steps from each step to the end of its direction (T_b - 1 - t forward, t reverse)."""
        t = torch.arange(len(self.states))[:, None]
        return t.expand(-1, len(self.lengths)) if self.direction == 1 else self.lengths.cpu()[None, :] - 1 - t

    def previous(self, t: int) -> Tensor | LSTMState:
        """The state the cell read at step t: after t-1 forward, after t+1 reverse, the initial one at the start."""
        T, s = len(self.states), t + (1 if self.direction == 1 else -1)
        if not 0 <= s < T:
            return self.initial
        return LSTMState(self.states[s], self.cells[s]) if self.cells is not None else self.states[s]


def check_traceable(layer: RecurrentLayer) -> None:
    if not isinstance(layer, RecurrentLayer) or layer.scan_name not in CELL_FUNCTIONS:
        raise ValueError(f"can trace rnnkit RNN, LSTM and GRU layers only, got {type(layer).__name__}")
    if layer.regularisers.active():
        raise ValueError("cannot trace a layer with zoneout, input or recurrent dropout or weight drop")


def cell_step(layer: RecurrentLayer, index: int, direction: int) -> Callable[[Tensor, Any], Any]:
    """The cell function of one direction of one layer, with its weights and options bound."""
    cell, params, options = CELL_FUNCTIONS[layer.scan_name], layer.cell_params(index, direction), layer.cell_options()
    return lambda x_t, state: cell(x_t, state, params, **options)


def trace_layer(layer: RecurrentLayer, input: Tensor, hx: Any = None, lengths: Tensor | None = None,
                module: str = "") -> tuple[tuple[Tensor, Any], list[DirectionTrace]]:
    """Run ``layer`` step by step; return ``(output, final)`` as the layer would, and the traces.

    ``input`` is (T, B, I), or (B, T, I) for a ``batch_first`` layer; packed and unbatched inputs
    are refused. Between layers, dropout acts as the layer's does in training mode.
    """
    check_traceable(layer)
    if not isinstance(input, Tensor) or input.dim() != 3:
        raise ValueError("tracing needs a padded 3-D batch (PackedSequence and unbatched input are not traced)")
    x = input.transpose(0, 1) if layer.batch_first else input  # (T, B, I)
    T, B = x.shape[0], x.shape[1]
    state0 = layer.check_state(hx, B, x, False)
    lengths = torch.full((B,), T, dtype=torch.int64) if lengths is None else torch.as_tensor(lengths).cpu().long()
    valid = (torch.arange(T)[:, None] < lengths[None, :]).to(x.device)[:, :, None]  # (T, B, 1)
    x = torch.where(valid, x, 0.0)
    is_lstm = layer.scan_name == "lstm_scan"
    traces, finals = [], []
    for index in range(layer.num_layers):
        outputs = []
        for direction in range(layer.num_directions):
            initial = layer.split_state(state0, index * layer.num_directions + direction)
            trace = _trace_direction(layer, index, direction, x, initial, valid, lengths, module)
            traces.append(trace)
            outputs.append(torch.stack(trace.states) * valid)  # (T, B, H_out), zero at padded steps
            finals.append(LSTMState(trace.final, trace.final_cell) if is_lstm else trace.final)
        x = torch.cat(outputs, dim=2)  # (T, B, D*H_out)
        if layer.dropout > 0 and layer.training and index < layer.num_layers - 1:
            x = nn.functional.dropout(x, layer.dropout, training=True)
    output = x.transpose(0, 1) if layer.batch_first else x
    return (output, layer.stack_states(finals)), traces


def _trace_direction(layer: RecurrentLayer, index: int, direction: int, x: Tensor, initial: Any, valid: Tensor,
                     lengths: Tensor, module: str) -> DirectionTrace:
    step = cell_step(layer, index, direction)
    T = x.shape[0]
    states: list[Tensor] = [x] * T  # placeholders, each overwritten below
    cells: list[Tensor] | None = [x] * T if isinstance(initial, LSTMState) else None
    state = initial
    for t in (reversed(range(T)) if direction == 1 else range(T)):
        new = step(x[t], state)
        if isinstance(new, LSTMState):  # a padded step carries the state unchanged
            state = LSTMState(torch.where(valid[t], new.h, state.h), torch.where(valid[t], new.c, state.c))
            states[t], cells[t] = state.h, state.c
        else:
            state = torch.where(valid[t], new, state)
            states[t] = state
    lstm = isinstance(state, LSTMState)
    return DirectionTrace(index, direction, FAMILIES[layer.scan_name], x, initial, states, cells,
                          state.h if lstm else state, lengths, step, module, state.c if lstm else None)


@contextmanager
def tracing(model: nn.Module) -> Iterator[list[DirectionTrace]]:
    """While inside, every rnnkit layer of ``model`` runs through ``trace_layer``; the list yielded
    fills with the traces of every call, in the order the layers ran."""
    traces: list[DirectionTrace] = []
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, RecurrentLayer)]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no rnnkit RNN, LSTM or GRU layer to trace")
    for _, layer in layers:
        check_traceable(layer)

    def traced(name: str, layer: RecurrentLayer):
        def forward(input: Tensor, hx: Any = None, lengths: Tensor | None = None):
            result, found = trace_layer(layer, input, hx, lengths, module=name)
            traces.extend(found)
            return result
        return forward

    for name, layer in layers:
        layer.forward = traced(name, layer)  # an instance attribute shadows the class's forward
    try:
        yield traces
    finally:
        for _, layer in layers:
            del layer.forward
