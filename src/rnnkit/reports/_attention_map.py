"""Attention heat maps of an encoder-decoder: which input tokens each output token was read from.

One panel per example: the input tokens (a word's letters) along the x axis, the output tokens
(its phonemes) down the y axis, each cell the attention weight a_tj of output step t on input
step j (each row sums to 1). A well-trained grapheme-to-phoneme model shows a near-diagonal band,
"ph" -> F drawing on two letters, a silent letter on none.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._figure import new_figure, save_png

MAX_COLUMNS = 3  # panels per row of the figure


def plot_attention_maps(weights: Sequence[np.ndarray], sources: Sequence[Sequence[str]],
                        targets: Sequence[Sequence[str]], path: str | os.PathLike,
                        titles: Sequence[str] = ()) -> Path:
    """Draw each example's attention ``weights[n]`` (T_n outputs, S_n inputs) as a heat map; save a PNG.

    ``sources[n]``: the S_n input tokens (x axis), ``targets[n]``: the T_n output tokens (y axis),
    ``titles``: an optional caption per panel. Weights are drawn on one scale from 0 to 1 so that
    panels compare. Returns ``path``.
    """
    if not weights:
        raise ValueError("no attention weights to plot")
    if not len(weights) == len(sources) == len(targets):
        raise ValueError(f"{len(weights)} weight matrices for {len(sources)} sources and {len(targets)} targets")
    maps = [np.asarray(w, dtype=np.float64) for w in weights]  # each (T, S)
    for n, (a, source, target) in enumerate(zip(maps, sources, targets)):
        if a.shape != (len(target), len(source)):
            raise ValueError(f"attention {n} has shape {a.shape}; expected (outputs, inputs) = "
                             f"({len(target)}, {len(source)})")
        if a.size == 0:
            raise ValueError(f"attention {n} is empty: an example needs at least one input and one output token")
    columns = min(MAX_COLUMNS, len(maps))
    rows = math.ceil(len(maps) / columns)
    tallest = max(max(len(t) for t in targets), 1)
    widest = max(max(len(s) for s in sources), 1)
    fig = new_figure(min(14.0, columns * (1.2 + 0.32 * widest)) + 0.8, rows * (1.0 + 0.28 * tallest))
    axes = np.atleast_2d(fig.subplots(rows, columns, squeeze=False)).ravel()
    image = None
    for n, ax in enumerate(axes):
        if n >= len(maps):
            ax.set_visible(False)
            continue
        a, source, target = maps[n], list(sources[n]), list(targets[n])
        image = ax.imshow(a, cmap="Blues", vmin=0.0, vmax=1.0, aspect="equal", interpolation="nearest")
        ax.set_xticks(range(len(source)), [str(s) for s in source], fontsize=9)
        ax.set_yticks(range(len(target)), [str(t) for t in target], fontsize=8)
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        if n < len(titles):
            ax.set_xlabel(titles[n], fontsize=9)
    fig.colorbar(image, ax=list(axes[:len(maps)]), shrink=0.8, label="attention weight")
    return save_png(fig, path)
