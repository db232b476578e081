"""Gradient flow through time: how much of the loss's gradient reaches each step, and why.

For every layer and direction of the rnnkit layers in a model, over one batch:

* ``loss_grad``: ``‖∂L/∂h_t‖``, the gradient the loss sends to the state after step t (through the
  outputs and every later step), and for an LSTM ``cell_grad``: ``‖∂L/∂c_t‖``;
* ``state_jacobian``: ``‖∂h_T/∂h_t‖₂``, the spectral norm of the Jacobian of the last state with
  respect to the state t steps earlier (c_t held fixed for an LSTM): for an Elman RNN the product
  ``Π_k diag(f'(a_k)) W_hh`` of the notes, which vanishes or explodes geometrically;
* ``step_jacobian``: ``‖∂s_t/∂s_{t-1}‖₂`` per step, the one-step factor of that product; for an
  LSTM ``s = (h, c)``, so it includes the constant error carousel ``∂c_t/∂c_{t-1} = diag(f_t)``.

Each is a mean over the batch's sequences against the distance ``T_b - 1 - t`` from each
sequence's end (for a reverse direction, from step 0, where it ends). Everything is computed by
autograd on the step-by-step trace (``rnnkit.insight.trace_layer``), whatever ``impl`` the model
uses, with the model in eval mode (no dropout).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..cells import LSTMState
from ._trace import DirectionTrace, tracing

JACOBIAN_ROWS = 256  # rows (steps x sequences) of one-step Jacobians computed at once


@dataclass
class FlowCurve:
    """The gradient flow of one direction of one layer; every array is indexed by the distance k."""

    name: str  # "stack.layers.0 layer 0", "layer 1 reverse" ...
    family: str  # "rnn", "lstm" or "gru"
    loss_grad: np.ndarray  # (K,) mean ‖∂L/∂h_t‖ at distance k
    cell_grad: np.ndarray | None  # (K,) mean ‖∂L/∂c_t‖ (LSTM), else None
    state_jacobian: np.ndarray | None  # (K,) mean ‖∂h_T/∂h_t‖₂, None when not computed
    step_jacobian: np.ndarray | None  # (K,) mean ‖∂s_t/∂s_{t-1}‖₂ of the step at distance k
    count: np.ndarray  # (K,) sequences long enough to have a step at distance k

    @property
    def distance(self) -> np.ndarray:
        return np.arange(len(self.count))

    def to_dict(self) -> dict[str, Any]:
        def listed(a):
            return None if a is None else [float(v) for v in a]
        return {"name": self.name, "family": self.family, "distance": self.distance.tolist(),
                "loss_grad": listed(self.loss_grad), "cell_grad": listed(self.cell_grad),
                "state_jacobian": listed(self.state_jacobian), "step_jacobian": listed(self.step_jacobian),
                "count": self.count.tolist()}


@dataclass
class GradientFlow:
    loss: float
    curves: list[FlowCurve]

    def to_dict(self) -> dict[str, Any]:
        return {"loss": self.loss, "curves": [c.to_dict() for c in self.curves]}


def gradient_flow(model: nn.Module, x: Tensor, lengths: Tensor | None = None, y: Tensor | None = None,
                  loss_fn: Callable[..., Tensor] | None = None, *, jacobians: bool = True) -> GradientFlow:
    """The gradient flow of ``loss_fn(model(x, lengths), y)`` (cross-entropy by default) over one batch.

    ``model`` is anything that contains rnnkit layers and is called as ``model(x, lengths=lengths)``, or
    ``model(x)`` when ``lengths`` is None; ``loss_fn(output, y)``, or ``loss_fn(output)`` without
    ``y``, returns a scalar. ``jacobians=False`` skips the two Jacobian curves (they cost one
    backward pass per hidden unit, batched). The model's weights and ``.grad`` are left untouched.
    """
    if loss_fn is None:
        if y is None:
            raise ValueError("give the targets y, or a loss_fn that needs none")
        loss_fn = F.cross_entropy
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad(), tracing(model) as traces:
            output = model(x) if lengths is None else model(x, lengths=lengths)
        loss = loss_fn(output) if y is None else loss_fn(output, y)
        if loss.dim() != 0:
            raise ValueError(f"the loss must be a scalar, got shape {tuple(loss.shape)}")
        curves = [_curve(trace, loss, jacobians) for trace in traces]
    finally:
        model.train(was_training)
    return GradientFlow(float(loss.detach()), curves)


def loss_gradients(trace: DirectionTrace, loss: Tensor) -> tuple[Tensor, Tensor | None]:
    """‖∂L/∂h_t‖ and (LSTM) ‖∂L/∂c_t‖ per step and sequence: (T, B) each."""
    wrt = trace.states + (trace.cells or [])
    grads = torch.autograd.grad(loss, wrt, retain_graph=True, allow_unused=True)
    norms = torch.stack([torch.zeros(w.shape[0]) if g is None else g.detach().norm(dim=1).cpu()
                         for g, w in zip(grads, wrt)])  # (T or 2T, B)
    T = len(trace.states)
    return norms[:T], (norms[T:] if trace.cells is not None else None)


def state_jacobians(trace: DirectionTrace) -> Tensor:
    """∂h_T/∂h_t per step and sequence: (T, B, H_out, H_out), row j for unit j of the last state."""
    final = trace.final  # (B, H)
    B, H = final.shape
    eye = torch.eye(H, dtype=final.dtype, device=final.device)[:, None, :].expand(H, B, H)  # (H, B, H)
    grads = torch.autograd.grad(final, trace.states, grad_outputs=eye, retain_graph=True, allow_unused=True,
                                is_grads_batched=True)  # T x (H, B, H)
    rows = [torch.zeros(H, B, s.shape[1], dtype=final.dtype) if g is None else g.detach().cpu()
            for g, s in zip(grads, trace.states)]
    return torch.stack(rows).permute(0, 2, 1, 3)  # (T, B, H, H)


def step_jacobians(trace: DirectionTrace) -> Tensor:
    """‖∂s_t/∂s_{t-1}‖₂ per step and sequence, (T, B): the cell re-run on detached copies of each step's
    input and previous state, all steps at once in chunks of rows."""
    T, B = len(trace.states), trace.lengths.shape[0]
    x = trace.inputs.detach().reshape(T * B, -1)  # (T*B, I)
    previous = [trace.previous(t) for t in range(T)]
    lstm = isinstance(trace.initial, LSTMState)
    h_prev = torch.cat([(p.h if lstm else p).detach() for p in previous])  # (T*B, H_out)
    c_prev = torch.cat([p.c.detach() for p in previous]) if lstm else None  # (T*B, H)
    norms = []
    for start in range(0, T * B, JACOBIAN_ROWS):
        rows = slice(start, start + JACOBIAN_ROWS)
        h = h_prev[rows].clone().requires_grad_(True)
        inputs = [h]
        with torch.enable_grad():
            if lstm:
                c = c_prev[rows].clone().requires_grad_(True)
                inputs.append(c)
                new = trace.step(x[rows], LSTMState(h, c))
                s = torch.cat([new.h, new.c], dim=1)  # (N, H_out + H)
            else:
                s = trace.step(x[rows], h)  # (N, H)
        N, D = s.shape
        eye = torch.eye(D, dtype=s.dtype, device=s.device)[:, None, :].expand(D, N, D)  # (D, N, D)
        grads = torch.autograd.grad(s, inputs, grad_outputs=eye, is_grads_batched=True)  # each (D, N, ·)
        jacobian = torch.cat(grads, dim=2).permute(1, 0, 2)  # (N, D, D)
        norms.append(torch.linalg.matrix_norm(jacobian.detach().cpu(), ord=2))  # (N,)
    return torch.cat(norms).reshape(T, B)


def by_distance(values: Tensor, trace: DirectionTrace) -> tuple[np.ndarray, np.ndarray]:
    """Mean over valid (step, sequence) pairs at each distance: (T, B) -> (K,), and the counts (K,)."""
    valid, distance = trace.valid(), trace.distance()
    K = int(trace.lengths.max())
    d = distance[valid].numpy()
    v = values[valid].double().numpy()
    count = np.bincount(d, minlength=K)[:K]
    total = np.bincount(d, weights=v, minlength=K)[:K]
    return total / np.maximum(count, 1), count


def _curve(trace: DirectionTrace, loss: Tensor, jacobians: bool) -> FlowCurve:
    loss_grad, cell_grad = loss_gradients(trace, loss)
    grad_mean, count = by_distance(loss_grad, trace)
    cell_mean = None if cell_grad is None else by_distance(cell_grad, trace)[0]
    state_mean = step_mean = None
    if jacobians:
        spectral = torch.linalg.matrix_norm(state_jacobians(trace), ord=2)  # (T, B)
        state_mean = by_distance(spectral, trace)[0]
        step_mean = by_distance(step_jacobians(trace), trace)[0]
    return FlowCurve(trace.name, trace.family, grad_mean, cell_mean, state_mean, step_mean, count)
