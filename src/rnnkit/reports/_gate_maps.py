"""Heat maps of what a recurrent layer did over one sequence: its gates, cell and hidden state per
step and unit, and below them the attention weight of each step when the model pools by attention.

Gates (values in [0, 1]: LSTM i, f, o; GRU r, z) share one sequential scale from 0 to 1; states and
candidates (c, h, g, n, the RNN's pre-activation a) a diverging scale centred on 0.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ._figure import new_figure, save_png, style_axes

GATES = {"i": "input gate i", "f": "forget gate f", "o": "output gate o", "r": "reset gate r", "z": "update gate z"}
STATES = {"g": "cell candidate g", "n": "candidate n", "c": "cell state c", "h": "hidden state h",
          "a": "pre-activation a"}


def plot_gate_maps(values: Mapping[str, np.ndarray], path: str | os.PathLike, *, title: str = "",
                   attention: Sequence[float] | None = None, steps: Sequence[str] | None = None) -> Path:
    """One heat map per entry of ``values`` (name -> (T, H) array, time along x, units down y), and
    ``attention`` (T,) as bars underneath; ``steps`` labels the time axis. Returns ``path``."""
    if not values:
        raise ValueError("no gate values to plot")
    maps = {name: np.asarray(v, dtype=np.float64) for name, v in values.items()}
    T = {m.shape[0] for m in maps.values()}
    if len(T) != 1 or any(m.ndim != 2 for m in maps.values()):
        raise ValueError("every gate map must be (T, H) with the same T")
    T = T.pop()
    if T == 0:
        raise ValueError("the sequence has no steps")
    if attention is not None and len(attention) != T:
        raise ValueError(f"attention has {len(attention)} steps for gate maps of {T}")
    rows = len(maps) + (attention is not None)
    H = max(m.shape[1] for m in maps.values())
    fig = new_figure(min(16.0, 3.0 + 0.09 * T), 0.8 + rows * min(2.4, 0.6 + 0.03 * H))
    axes = np.atleast_1d(fig.subplots(rows, 1, sharex=True, squeeze=False).ravel())
    for ax, (name, m) in zip(axes, maps.items()):
        if name in GATES:
            image = ax.imshow(m.T, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            bound = float(np.nanmax(np.abs(m))) or 1.0
            image = ax.imshow(m.T, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest")
        ax.set_ylabel("unit", fontsize=8)
        ax.set_title(GATES.get(name) or STATES.get(name) or name, fontsize=9, loc="left")
        fig.colorbar(image, ax=ax, pad=0.01, fraction=0.03)
    if attention is not None:
        ax = axes[-1]
        ax.bar(np.arange(T), np.asarray(attention, dtype=np.float64), color="#6a51a3", width=0.9)
        ax.set_xlim(-0.5, T - 0.5)
        style_axes(ax)
        ax.set_title("attention weight a_t", fontsize=9, loc="left")
    if steps is not None:
        axes[-1].set_xticks(range(T), [str(s) for s in steps], fontsize=7)
    axes[-1].set_xlabel("step t")
    if title:
        fig.suptitle(title, fontsize=11)
    return save_png(fig, path)
