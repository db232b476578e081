"""Learning curves: one run's loss and accuracy, and the training loss of several runs.

A history is the training layer's list of per-epoch dicts: ``epoch`` (1-based), ``train_loss``,
``train_accuracy``, ``val_loss``, ``val_accuracy`` (the val ones None without a validation set),
``lr`` and ``seconds`` (cumulative). Missing or None values are gaps, never zeros.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._figure import new_figure, save_png, style_axes

History = Sequence[Mapping[str, Any]]

TRAIN_COLOR = "#1f77b4"
VAL_COLOR = "#ff7f0e"
BEST_COLOR = "#2ca02c"


def _epochs(history: History) -> np.ndarray:
    if not history:
        raise ValueError("history is empty: nothing to plot")
    return np.array([int(row.get("epoch", i + 1)) for i, row in enumerate(history)])  # (E,)


def _column(history: History, key: str) -> np.ndarray:
    """``key`` of every epoch as floats, NaN where missing or None."""
    values = [row.get(key) for row in history]
    return np.array([math.nan if v is None else float(v) for v in values])  # (E,)


def _best_index(history: History, monitor: str) -> int | None:
    """Index of the best ``monitor`` value (lowest loss, else highest), first on ties."""
    values = _column(history, monitor)  # (E,)
    if values.size == 0 or np.all(np.isnan(values)):
        return None
    return int(np.nanargmin(values) if "loss" in monitor else np.nanargmax(values))


def best_epoch(history: History, monitor: str = "val_accuracy") -> int | None:
    """Epoch with the best ``monitor`` value (highest accuracy, lowest loss), earliest on ties.

    None when the history has no value for ``monitor`` (no validation set).
    """
    best = _best_index(history, monitor)
    return None if best is None else int(_epochs(history)[best])


def _plot_pair(ax, epochs, history: History, metric: str, markers: bool) -> None:
    marker = "o" if markers else None
    ax.plot(epochs, _column(history, f"train_{metric}"), color=TRAIN_COLOR, marker=marker,
            markersize=3, linewidth=1.6, label="train")
    val = _column(history, f"val_{metric}")
    if not np.all(np.isnan(val)):
        ax.plot(epochs, val, color=VAL_COLOR, marker=marker, markersize=3, linewidth=1.6,
                linestyle="--", label="validation")


def plot_curves(history: History, path: str | os.PathLike, title: str = "Training curves",
                monitor: str = "val_accuracy") -> Path:
    """Two panels, loss and accuracy against epoch, train and (where present) validation.

    The best epoch by ``monitor`` is marked by a vertical line in both panels and a dot on the
    monitored curve. Returns ``path``.
    """
    from matplotlib.ticker import MaxNLocator

    epochs = _epochs(history)  # (E,)
    markers = len(epochs) <= 30
    fig = new_figure(10, 4)
    loss_ax, acc_ax = fig.subplots(1, 2)
    _plot_pair(loss_ax, epochs, history, "loss", markers)
    _plot_pair(acc_ax, epochs, history, "accuracy", markers)
    loss_ax.set_title("Loss")
    acc_ax.set_title("Accuracy")

    index = _best_index(history, monitor)
    if index is not None:
        best, value = epochs[index], _column(history, monitor)[index]
        marked = loss_ax if "loss" in monitor else acc_ax
        marked.scatter([best], [value], s=50, color=BEST_COLOR, zorder=5)
        for ax in (loss_ax, acc_ax):
            label = f"best {monitor.replace('_', ' ')}: epoch {best} ({value:.4g})"
            ax.axvline(best, color=BEST_COLOR, linestyle=":", linewidth=1.2,
                       label=label if ax is marked else None)

    for ax in (loss_ax, acc_ax):
        style_axes(ax)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    loss_ax.legend(frameon=False, fontsize=9)
    acc_ax.legend(frameon=False, fontsize=9, loc="lower right")
    fig.suptitle(title, fontsize=12)
    return save_png(fig, path)


def _log_scale_helps(curves: Sequence[np.ndarray]) -> bool:
    """Log y when every value is positive and they span more than a factor of 10."""
    values = np.concatenate([c[~np.isnan(c)] for c in curves]) if curves else np.array([])
    if values.size == 0 or np.any(values <= 0):
        return False
    return values.max() / values.min() > 10


def plot_loss_comparison(histories: Mapping[str, History], path: str | os.PathLike,
                         title: str = "Training loss by architecture",
                         metric: str = "train_loss") -> Path:
    """``metric`` (default training loss) against epoch, one line per named history.

    The y axis is logarithmic when the losses span more than a factor of 10. Returns ``path``.
    """
    from matplotlib.ticker import MaxNLocator

    if not histories:
        raise ValueError("no histories to compare")
    fig = new_figure(8, 5)
    ax = fig.subplots()
    colors = _colors(len(histories))
    curves = []
    for (name, history), color in zip(histories.items(), colors, strict=True):
        epochs = _epochs(history)  # (E,)
        values = _column(history, metric)  # (E,)
        curves.append(values)
        ax.plot(epochs, values, color=color, linewidth=1.6, label=str(name),
                marker="o" if len(epochs) <= 30 else None, markersize=2.5)
    if _log_scale_helps(curves):
        ax.set_yscale("log")
    style_axes(ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(title, fontsize=12)
    n = len(histories)
    if n > 8:
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  ncol=1 if n <= 20 else 2)
    else:
        ax.legend(frameon=False, fontsize=9)
    return save_png(fig, path)


def _colors(n: int) -> list:
    """``n`` distinguishable colours: tab10, then tab20, then a sampled viridis."""
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    if n <= 20:
        return [colormaps["tab20"](i) for i in range(n)]
    return [colormaps["viridis"](x) for x in np.linspace(0, 0.95, n)]
