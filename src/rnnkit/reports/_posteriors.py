"""Per-frame label posteriors over time: the spikes of a CTC model, the runs of a tagger.

One panel per utterance, time on the x axis, one coloured line per label. The CTC blank, which
takes most frames of a trained model, is drawn apart as a grey area so the label spikes stand out.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._figure import new_figure, save_png, style_axes

BLANK_COLOR = "#bbbbbb"


def plot_posteriors(posteriors: Sequence[np.ndarray], path: str | os.PathLike, class_names: Sequence[str],
                    blank: int | None = None, titles: Sequence[str] = ()) -> Path:
    """Plot each utterance's probabilities ``(T_i, K)`` over time, one panel each, and save a PNG.

    ``blank``: the column of the CTC blank (``None`` for a tagger, whose ``K`` columns are the
    ``class_names``); the other columns, in order, are the classes. Returns ``path``.
    """
    if not posteriors:
        raise ValueError("no posteriors to plot")
    from matplotlib import colormaps

    colors = colormaps["tab10" if len(class_names) <= 10 else "tab20"]
    fig = new_figure(10, 2.2 * len(posteriors) + 0.6)
    axes = np.atleast_1d(fig.subplots(len(posteriors), 1, squeeze=False)[:, 0])
    for n, (ax, probs) in enumerate(zip(axes, posteriors)):
        probs = np.asarray(probs, dtype=np.float64)  # (T, K)
        expected = len(class_names) + (blank is not None)
        if probs.ndim != 2 or probs.shape[1] != expected:
            raise ValueError(f"posteriors {n} have shape {probs.shape}; expected (T, {expected})")
        steps = np.arange(len(probs))  # (T,)
        labels = [k for k in range(probs.shape[1]) if k != blank]
        if blank is not None:
            ax.fill_between(steps, probs[:, blank], color=BLANK_COLOR, alpha=0.6, linewidth=0, label="blank")
        for c, k in enumerate(labels):
            ax.plot(steps, probs[:, k], color=colors(c % colors.N), linewidth=1.4, label=str(class_names[c]))
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0, max(1, len(probs) - 1))
        ax.set_ylabel("probability")
        if n < len(titles):
            ax.set_title(titles[n], fontsize=9, loc="left")
        style_axes(ax)
    axes[-1].set_xlabel("frame")
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return save_png(fig, path)
