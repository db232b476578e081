"""Gradient flow: mean |grad| per parameter tensor, to see vanishing or exploding gradients.

The caller computes the numbers (this layer does not import torch), for example::

    mean_abs = {name: p.grad.abs().mean().item() for name, p in model.named_parameters()
                if p.grad is not None}
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._figure import new_figure, save_png, style_axes


def plot_gradient_flow(mean_abs: Mapping[str, float], path: str | os.PathLike,
                       max_abs: Mapping[str, float] | None = None,
                       title: str = "Gradient flow") -> Path:
    """Horizontal bars of mean |grad| per parameter (first layer on top), log scale.

    ``max_abs`` (same names) adds a light bar of the largest |grad| behind each mean. Zero
    gradients are drawn at the axis floor and labelled "0". Returns ``path``.
    """
    if not mean_abs:
        raise ValueError("no gradients to plot")
    names = list(mean_abs)
    means = np.array([float(mean_abs[n]) for n in names])  # (L,)
    peaks = np.array([float((max_abs or {}).get(n, np.nan)) for n in names])  # (L,) NaN: none
    positive = np.r_[means, peaks]
    positive = positive[positive > 0]  # NaN compares False
    floor = positive.min() / 10 if positive.size else 1e-12

    L = len(names)
    fig = new_figure(8, float(np.clip(1.2 + 0.28 * L, 3.0, 16.0)))
    ax = fig.subplots()
    y = np.arange(L)[::-1]  # first parameter on top
    has_peak = ~np.isnan(peaks)
    if has_peak.any():
        ax.barh(y[has_peak], np.maximum(peaks[has_peak], floor), color="#c6dbef", height=0.75,
                label="max |grad|")
    ax.barh(y, np.maximum(means, floor), color="#2171b5", height=0.45, label="mean |grad|")
    for yi, m in zip(y, means, strict=True):
        if m == 0:
            ax.text(floor, yi, " 0", va="center", fontsize=8, color="#b2182b")
    ax.set_xscale("log")
    ax.set_yticks(y, names, fontsize=8 if L > 12 else 9)
    style_axes(ax)
    ax.set_xlabel("|gradient|")
    ax.set_title(title, fontsize=12)
    ax.legend(frameon=False, fontsize=9, loc="lower right")
    return save_png(fig, path)
