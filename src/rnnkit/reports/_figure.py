"""Figures without pyplot: no global figure state, no backend switch, nothing left open.

matplotlib is imported here, lazily, so ``import rnnkit`` never needs it. A bare
``matplotlib.figure.Figure`` renders PNG through the Agg canvas whatever backend pyplot would use.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .._atomic import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 120  # sharp in a browser at 100 % zoom, small files


def new_figure(width: float, height: float) -> Figure:
    """A fresh figure of ``width`` x ``height`` inches, laid out with constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save_png(fig: Figure, path: str | os.PathLike) -> Path:
    """Write ``fig`` to ``path`` as PNG, atomically, and return the path."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", facecolor="white")
    return Path(path)


def style_axes(ax) -> None:
    """The house style: light grid behind the data, no top and right spines."""
    ax.grid(True, color="#d9d9d9", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
