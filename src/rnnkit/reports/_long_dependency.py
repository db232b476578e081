"""The long-dependency experiment's figures: the score reached against the length, per model, and the
learning curves behind it.

The caller passes plain rows (``RunResult.row()`` and its curve); this module needs numpy and, when
drawing, matplotlib.
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._figure import new_figure, save_png, style_axes

METRIC_LABELS = {"mse": "test MSE", "recall_ce": "cross-entropy per recalled symbol (nats)"}
STYLES = {"rnn": ("#d62728", "o", "-"), "rnn-clip": ("#ff7f0e", "v", "--"), "rnn-orth": ("#8c564b", "s", "--"),
          "irnn": ("#9467bd", "D", "-."), "lstm": ("#1f77b4", "o", "-"), "lstm-fb1": ("#17becf", "^", "--"),
          "gru": ("#2ca02c", "o", "-")}


def _style(model: str, k: int) -> tuple[str, str, str]:
    return STYLES.get(model, (f"C{k % 10}", "o", "-"))


def plot_length_sweep(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike, *, title: str = "",
                      solved_line: float | None = None) -> Path:
    """Final score (log scale) against the length, one line per model, the memoryless baseline dashed.

    ``rows`` hold ``model``, ``length``, ``final``, ``baseline``, ``metric`` and ``diverged``; a
    diverged run is drawn as an x at the top. ``solved_line`` draws the threshold of "solved".
    """
    if not rows:
        raise ValueError("no results to plot")
    fig = new_figure(7.5, 4.6)
    ax = fig.subplots()
    finals = np.array([float(r["final"]) for r in rows])
    finite = finals[np.isfinite(finals) & (finals > 0)]
    baseline = float(rows[0]["baseline"])
    top = max(baseline, float(finite.max()) if finite.size else baseline) * 3
    models = list(dict.fromkeys(r["model"] for r in rows))
    for k, model in enumerate(models):
        mine = sorted((r for r in rows if r["model"] == model), key=lambda r: r["length"])
        color, marker, line = _style(model, k)
        lengths = [r["length"] for r in mine]
        values = [float(r["final"]) if not r["diverged"] else np.nan for r in mine]
        ax.plot(lengths, values, line, color=color, marker=marker, label=model, linewidth=1.6, markersize=5)
        bad = [r["length"] for r in mine if r["diverged"]]
        if bad:
            ax.plot(bad, [top] * len(bad), "x", color=color, markersize=8, markeredgewidth=2)
    ax.axhline(baseline, color="#555555", linestyle=":", linewidth=1.2, label=f"baseline {baseline:.3g}")
    if solved_line is not None:
        ax.axhline(solved_line, color="#999999", linestyle="--", linewidth=0.8, label=f"solved below {solved_line:.3g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    lengths = sorted({r["length"] for r in rows})
    ax.set_xticks(lengths, [str(n) for n in lengths])
    ax.minorticks_off()
    style_axes(ax)
    ax.set_xlabel("sequence length" if rows[0]["metric"] == "mse" else "delay (steps between seeing and recalling)")
    ax.set_ylabel(METRIC_LABELS.get(rows[0]["metric"], rows[0]["metric"]) + " at the end")
    ax.set_title(title, fontsize=12)
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return save_png(fig, path)


def plot_learning_curves(runs: Sequence[Mapping[str, Any]], path: str | os.PathLike, *, title: str = "") -> Path:
    """One panel per length: the held-out score against the step, one line per model.

    ``runs`` hold ``model``, ``length``, ``metric``, ``baseline`` and ``curve`` [(step, value), ...].
    """
    if not runs:
        raise ValueError("no learning curves to plot")
    lengths = sorted({r["length"] for r in runs})
    columns = min(3, len(lengths))
    rows_n = -(-len(lengths) // columns)
    fig = new_figure(4.2 * columns + 1.4, 3.2 * rows_n)
    axes = np.atleast_1d(fig.subplots(rows_n, columns, squeeze=False).ravel())
    models = list(dict.fromkeys(r["model"] for r in runs))
    for ax, length in zip(axes, lengths):
        for k, model in enumerate(models):
            for r in runs:
                if r["model"] == model and r["length"] == length:
                    steps, values = zip(*r["curve"]) if r["curve"] else ((), ())
                    color, _, line = _style(model, k)
                    ax.plot(steps, values, line, color=color, label=model, linewidth=1.3)
        ax.axhline(float(runs[0]["baseline"]), color="#555555", linestyle=":", linewidth=1.0)
        ax.set_yscale("log")
        style_axes(ax)
        ax.set_title(f"length {length}", fontsize=10)
        ax.set_xlabel("step")
    for ax in axes[len(lengths):]:
        ax.set_visible(False)
    axes[0].set_ylabel(METRIC_LABELS.get(runs[0]["metric"], runs[0]["metric"]))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", frameon=False, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=12)
    return save_png(fig, path)


def write_experiment_files(out: str | os.PathLike, rows: Sequence[Mapping[str, Any]],
                           curves: Sequence[Sequence[tuple[int, float]]], settings: Mapping[str, Any],
                           summary: Mapping[str, Any], *, title: str) -> dict[str, Path]:
    """results.csv, results.json, length_sweep.png, curves.png and report.html into ``out``.

    ``rows[k]`` is one run's table row and ``curves[k]`` its (step, metric) pairs; ``settings`` and
    ``summary`` go into the JSON and the report as given. Returns the paths by name.
    """
    from .._atomic import write_json_atomic
    from ._html import Figure, KeyValues, Section, Table, write_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    columns = list(rows[0])
    paths = {"csv": _write_csv(rows, columns, out / "results.csv")}
    runs = [dict(r) | {"curve": [list(point) for point in c]} for r, c in zip(rows, curves, strict=True)]
    paths["json"] = write_json_atomic(out / "results.json", {"settings": dict(settings), "summary": dict(summary),
                                                              "runs": runs})
    solved = float(settings.get("solved_below", 0.1)) * float(rows[0]["baseline"])
    paths["figure"] = plot_length_sweep(rows, out / "length_sweep.png", title=title, solved_line=solved)
    paths["curves"] = plot_learning_curves(runs, out / "curves.png", title=f"{title}: held-out score during training")
    sections = [
        Section("Score reached against length", [
            Figure(paths["figure"], "The held-out score after the budget of steps, per model, against the length "
                                    "(log scales); dotted: the memoryless baseline; x at the top: the run diverged."),
            Table(rows, columns, "One run per model and length; solved_at: the first evaluated step below the "
                                 "solved line.")]),
        Section("Learning curves", [Figure(paths["curves"], "The held-out score at each evaluation.")]),
        Section("Summary", [KeyValues({k: str(v) for k, v in summary.items()})]),
        Section("Settings", [KeyValues(dict(settings))]),
    ]
    paths["report"] = write_report(out / "report.html", title, sections,
                                   subtitle=f"{len(rows)} runs, {sum(float(r['seconds']) for r in rows):.0f} s of training")
    return paths


def _write_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], path: Path) -> Path:
    """The rows as CSV in the order given, numbers as the HTML tables write them."""
    from .._atomic import write_text_atomic
    from ._format import format_value

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: format_value(c, row.get(c)) for c in columns})
    return write_text_atomic(path, buffer.getvalue())
