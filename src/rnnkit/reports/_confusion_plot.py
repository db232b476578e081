"""Confusion matrix heat map, readable from 2 up to about 30 classes.

The figure, fonts and label rotation scale with the number of classes C; zero cells are left blank
once C > 12, so the errors stand out instead of a sea of zeros.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from ._confusion import _square, accuracy
from ._figure import new_figure, save_png

MAX_NAME = 18  # longer class names are cut to this many characters on the axes


def _short(name: object) -> str:
    text = str(name)
    return text if len(text) <= MAX_NAME else text[: MAX_NAME - 1] + "…"


def _cell_font(C: int) -> float:
    return 10.0 if C <= 10 else 8.0 if C <= 16 else 6.5 if C <= 24 else 5.5


def plot_confusion(cm: ArrayLike, class_names: Sequence[object] | None, path: str | os.PathLike,
                   normalize: bool = False, title: str = "Confusion matrix") -> Path:
    """Heat map of ``cm`` (rows true, columns predicted) with the value in every cell.

    ``normalize=True`` divides each row by its class size, so the cells are recall fractions
    and the diagonal is per-class recall; otherwise cells are counts. The title gives the
    accuracy and the number of samples. ``class_names`` None numbers the classes. Returns ``path``.
    """
    cm = _square(cm)
    C = cm.shape[0]
    names = [str(i) for i in range(C)] if class_names is None else [_short(n) for n in class_names]
    if len(names) != C:
        raise ValueError(f"{len(names)} class names for a {C}x{C} confusion matrix")
    counts = cm.astype(np.float64)  # (C, C)
    rows = counts.sum(axis=1, keepdims=True)  # (C, 1)
    shown = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0) if normalize \
        else counts  # (C, C)

    side = float(np.clip(2.8 + 0.38 * C, 4.5, 14.0))
    fig = new_figure(side + 1.2, side)
    ax = fig.subplots()
    vmax = 1.0 if normalize else max(float(shown.max()), 1.0)
    image = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=vmax, interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8, label="fraction of true class" if normalize else "count")

    font = _cell_font(C)
    for t in range(C):
        for p in range(C):
            if cm[t, p] == 0 and C > 12:
                continue
            text = f"{shown[t, p]:.2f}" if normalize else f"{int(cm[t, p])}"
            color = "white" if shown[t, p] > 0.55 * vmax else "#1a1a1a"
            ax.text(p, t, text, ha="center", va="center", fontsize=font, color=color)

    tick_font = 10 if C <= 10 else 8 if C <= 20 else 7
    ax.set_xticks(range(C), names, fontsize=tick_font, rotation=0 if C <= 6 else 45,
                  ha="center" if C <= 6 else "right", rotation_mode="anchor")
    ax.set_yticks(range(C), names, fontsize=tick_font)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"{title}\naccuracy {accuracy(cm):.2%} on {int(cm.sum()):,} samples", fontsize=12)
    return save_png(fig, path)
