"""The two reports the command line writes: one training run, and a comparison of runs.

They only arrange blocks of ``_html``; a caller wanting a different page composes ``Section``s
and calls ``write_report`` itself.
"""
from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._confusion import accuracy, class_metrics
from ._curves import History, best_epoch
from ._html import Figure, Html, KeyValues, Section, Summary, Table, write_report
from ._tables import best_rows, cells_side_by_side, results_table_html, sort_results, table_html

KEY_METRICS = ("test_accuracy", "train_accuracy", "val_accuracy",
               "test_nats_per_char", "test_bits_per_char", "baseline_unigram_nats_per_char", "generated_new_fraction",
               "test_per", "test_wer", "test_per_beam", "test_wer_beam",
               "test_label_error_rate", "test_string_accuracy", "test_label_error_rate_beam",
               "baseline_label_error_rate", "test_frame_accuracy", "test_segment_error_rate",
               "parameters", "epochs", "kept_epoch", "seconds")  # shown first, as cards, when present
HISTORY_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_bits_per_char", "lr",
                   "seconds")


def _scalars(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The plain numbers and strings of ``metrics`` (per-epoch lists and the like left out)."""
    return {k: v for k, v in metrics.items()
            if v is None or isinstance(v, (str, numbers.Number))}


def class_metrics_rows(cm: ArrayLike, class_names: Sequence[object] | None = None) -> list[dict]:
    """One row per class (precision, recall, F1, support) plus a macro-average row."""
    cm = np.asarray(cm)
    scores = class_metrics(cm)
    names = list(range(cm.shape[0])) if class_names is None else list(class_names)
    if len(names) != cm.shape[0]:
        raise ValueError(f"{len(names)} class names for a {cm.shape[0]}x{cm.shape[0]} matrix")
    rows = [{"class": str(name), "precision": float(p), "recall": float(r), "f1": float(f),
             "support": int(s)}
            for name, p, r, f, s in zip(names, *scores, strict=True)]
    rows.append({"class": "macro average", "precision": float(scores.precision.mean()),
                 "recall": float(scores.recall.mean()), "f1": float(scores.f1.mean()),
                 "support": int(scores.support.sum())})
    return rows


def write_run_report(path: str | os.PathLike, title: str, *, metrics: Mapping[str, Any],
                     config: Mapping[str, Any], history: History | None = None,
                     figures: Sequence[Figure] = (), confusion: ArrayLike | None = None,
                     class_names: Sequence[object] | None = None, subtitle: str = "",
                     monitor: str = "val_accuracy", extra_sections: Sequence[Section] = ()) -> Path:
    """The report of one training run: key figures, plots, per-class scores, settings, epochs.

    ``metrics`` is the run's ``metrics.json`` content (non-scalar entries are skipped),
    ``config`` its ``config.json``, ``confusion`` the test confusion matrix; ``extra_sections``
    (a task's own: generated samples, decoded examples) follow the figures. Returns ``path``.
    """
    scalars = _scalars(metrics)
    key = {k.replace("_", " "): scalars[k] for k in KEY_METRICS if k in scalars}
    if history:
        best = best_epoch(history, monitor)  # by the monitor early stopping watched
        if best is not None:
            key[f"best epoch ({monitor.replace('_', ' ')})"] = best
    if confusion is not None and "test_accuracy" not in scalars:
        key["test accuracy"] = accuracy(confusion)
    sections = [Section("Summary", [Summary(key)])]
    if figures:
        sections.append(Section("Figures", list(figures)))
    sections.extend(extra_sections)
    if confusion is not None:
        sections.append(Section("Per-class scores", [Table(
            class_metrics_rows(confusion, class_names),
            caption="Precision, recall and F1 of each class on the test set.")]))
    rest = {k: v for k, v in scalars.items() if k not in KEY_METRICS}
    if rest:
        sections.append(Section("Other metrics", [KeyValues(rest)]))
    sections.append(Section("Configuration", [KeyValues(config)]))
    if history:
        columns = [c for c in HISTORY_COLUMNS if any(r.get(c) is not None for r in history)]
        sections.append(Section("Epochs", [Table(history, columns, collapsed=True,
                                                 caption=f"All {len(history)} epochs")]))
    return write_report(path, title, sections, subtitle)


def write_comparison_report(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]], *,
                            title: str = "Architecture comparison", figures: Sequence[Figure] = (),
                            config: Mapping[str, Any] | None = None, subtitle: str = "") -> Path:
    """The report of ``rnnkit compare``: best per dataset, the results table, plots, settings."""
    in_given_order, rows = rows, sort_results(rows)
    key: dict[str, Any] = {"runs": len(rows)}
    for row, best in zip(rows, best_rows(rows), strict=True):
        name = f"best run on {row.get('dataset')}"
        if best and name not in key:
            key[name] = f"{str(row.get('cell', '')).upper()} {row.get('architecture')} · {row['test_accuracy']:.4f}"
    sections = [
        Section("Summary", [Summary(key)]),
        Section("Results", [Html(f'<div class="table-wrap">{results_table_html(rows)}</div>'),
                            "Sorted by dataset, then test accuracy; the best run of each dataset "
                            "is highlighted."]),
    ]
    if len({row.get("cell") for row in rows}) > 1:
        side_by_side = cells_side_by_side(in_given_order)  # cells and shapes as the grid lists them
        sections.append(Section("Cells side by side", [
            Html(f'<div class="table-wrap">{table_html(side_by_side)}</div>'),
            "Test accuracy of each cell on the same data set and architecture (over several seeds: "
            "their mean, and the standard deviation as sd); 'mean' averages a cell over the "
            "architectures it ran."]))
    if figures:
        sections.append(Section("Figures", list(figures)))
    if config:
        sections.append(Section("Configuration", [KeyValues(config)]))
    return write_report(path, title, sections, subtitle)
