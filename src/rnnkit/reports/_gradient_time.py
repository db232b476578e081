"""Gradient flow through time, drawn: one line per model (and per layer and direction) on three panels.

(a) ``‖∂L/∂h_t‖`` against the distance ``T - t``: how much of the loss's gradient reaches a step that
far back; (b) ``‖∂h_T/∂h_t‖₂``: how strongly the last state depends on that step; (c) the spectral
norm of the one-step recurrent Jacobian at that step. A vanishing gradient is a straight falling
line on these log axes (a product of factors below 1, panel c); the LSTM's cell state
(dotted in panel a) keeps its gradient over distances where h's falls away.

Input: ``rnnkit.insight.GradientFlow.to_dict()["curves"]`` per model, plain lists of numbers.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._figure import new_figure, save_png, style_axes

FAMILY_COLORS = {"rnn": "#d62728", "lstm": "#1f77b4", "gru": "#2ca02c"}
LINE_STYLES = ("-", "--", "-.", (0, (1, 1)))
PANELS = (("loss_grad", "‖∂L/∂h_t‖"), ("state_jacobian", "‖∂h_T/∂h_t‖₂"), ("step_jacobian", "‖∂s_t/∂s_{t-1}‖₂ per step"))


def _positive(values: Sequence[float | None]) -> np.ndarray:
    a = np.array([np.nan if v is None else float(v) for v in values])
    a[~(a > 0)] = np.nan  # a zero gradient has no place on a log axis
    return a


def plot_gradient_time(flows: Mapping[str, Sequence[Mapping[str, Any]]], path: str | os.PathLike, *,
                       title: str = "Gradient flow through time") -> Path:
    """Draw the curves of every model in ``flows`` (label -> list of curve dicts); save a PNG.

    A curve dict has ``name``, ``family``, ``distance`` and the arrays ``loss_grad``, ``cell_grad``,
    ``state_jacobian``, ``step_jacobian`` (the last three may be None). Returns ``path``.
    """
    if not flows or not any(flows.values()):
        raise ValueError("no gradient-flow curves to plot")
    has_jacobians = any(c.get("state_jacobian") is not None for curves in flows.values() for c in curves)
    panels = PANELS if has_jacobians else PANELS[:1]
    fig = new_figure(4.6 * len(panels) + 1.8, 4.2)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    unlabelled_color = 0
    for label, curves in flows.items():
        family_color = FAMILY_COLORS.get(curves[0].get("family", "")) if curves else None
        if family_color is None or sum(1 for c in flows.values() if c and c[0].get("family") == curves[0]["family"]) > 1:
            family_color = f"C{unlabelled_color % 10}"
            unlabelled_color += 1
        for k, curve in enumerate(curves):
            name = label if len(curves) == 1 else f"{label} · {curve['name']}"
            style = LINE_STYLES[k % len(LINE_STYLES)]
            distance = np.asarray(curve["distance"])
            for ax, (key, _) in zip(axes, panels):
                if curve.get(key) is not None:
                    ax.plot(distance, _positive(curve[key]), linestyle=style, color=family_color, linewidth=1.5,
                            label=name)
            if curve.get("cell_grad") is not None:
                axes[0].plot(distance, _positive(curve["cell_grad"]), linestyle=":", color=family_color,
                             linewidth=1.2, label=f"{name}: ‖∂L/∂c_t‖")
    for ax, (_, ylabel) in zip(axes, panels):
        ax.set_yscale("log")
        style_axes(ax)
        ax.set_xlabel("distance T − t (steps back from the end)")
        ax.set_title(ylabel, fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", frameon=False, fontsize=8)
    fig.suptitle(title, fontsize=12)
    return save_png(fig, path)
