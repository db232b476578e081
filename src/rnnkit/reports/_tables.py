"""Tables: rows of dicts as HTML, the comparison results as HTML and CSV.

A results row (the contract with the training layer) has the keys of ``RESULT_COLUMNS``; any
extra keys are carried through as extra columns, in order of first appearance. Rows are sorted by
dataset, then test accuracy (best first), and in HTML the best row of each dataset is marked.
"""
from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import write_text_atomic
from ._format import format_value, is_numeric

Row = Mapping[str, Any]

RESULT_COLUMNS = ("dataset", "cell", "architecture", "parameters", "train_accuracy",
                  "test_accuracy", "epochs", "seconds")


def columns_of(rows: Sequence[Row], first: Sequence[str] = ()) -> list[str]:
    """``first``, then every other key of ``rows`` in order of first appearance."""
    columns = list(first)
    for row in rows:
        columns += [key for key in row if key not in columns]
    return columns


def sort_results(rows: Sequence[Row]) -> list[Row]:
    """Rows by dataset, then test accuracy descending (missing last), then architecture."""
    def key(row: Row):
        acc = row.get("test_accuracy")
        return (str(row.get("dataset", "")), acc is None, -(acc or 0.0),
                str(row.get("architecture", "")), str(row.get("cell", "")))
    return sorted(rows, key=key)


def best_rows(rows: Sequence[Row]) -> list[bool]:
    """For each row, whether it has the top test accuracy of its dataset (ties all count)."""
    best: dict[str, float] = {}
    for row in rows:
        acc = row.get("test_accuracy")
        if acc is not None:
            dataset = str(row.get("dataset", ""))
            best[dataset] = max(best.get(dataset, float("-inf")), acc)
    return [row.get("test_accuracy") is not None
            and row["test_accuracy"] == best.get(str(row.get("dataset", ""))) for row in rows]


def _header(column: str) -> str:
    return escape(column.replace("_", " "))


def _numeric_column(rows: Sequence[Row], column: str) -> bool:
    values = [row.get(column) for row in rows if row.get(column) is not None]
    return bool(values) and all(is_numeric(v) for v in values)


def table_html(rows: Sequence[Row], columns: Sequence[str] | None = None,
               row_classes: Sequence[str] | None = None, css_class: str = "data") -> str:
    """``rows`` as an HTML ``<table>``; all text escaped, numbers right-aligned and formatted.

    ``columns`` defaults to every key in order of first appearance; ``row_classes`` gives each
    ``<tr>`` a CSS class (for example ``"best"``), ``css_class`` the table.
    """
    columns = columns_of(rows) if columns is None else list(columns)
    head = "".join(f'<th class="num">{_header(c)}</th>' if _numeric_column(rows, c)
                   else f"<th>{_header(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for column in columns:
            value = row.get(column)
            text = escape(format_value(column, value, thousands=True))
            numeric = is_numeric(value)
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
        css = row_classes[i] if row_classes else ""
        attr = f' class="{escape(css)}"' if css else ""
        body.append(f"<tr{attr}>{''.join(cells)}</tr>")
    return (f'<table class="{escape(css_class)}"><thead><tr>{head}</tr></thead>\n'
            f"<tbody>\n{chr(10).join(body)}\n</tbody></table>")


def results_table_html(rows: Sequence[Row]) -> str:
    """The comparison results as an HTML table, best row per dataset highlighted."""
    columns = columns_of(rows, RESULT_COLUMNS)
    rows = sort_results(rows)
    classes = []
    previous = object()
    for row, best in zip(rows, best_rows(rows), strict=True):
        dataset = row.get("dataset")
        names = ["best" if best else "", "group-start" if dataset != previous else ""]
        classes.append(" ".join(n for n in names if n))
        previous = dataset
    return table_html(rows, columns, classes)


def cells_side_by_side(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Test accuracy of each cell on the same data set and architecture, one row per pair, plus
    each data set's mean over its architectures: the comparison the study is about, in one view.

    Columns: ``dataset``, ``architecture``, then ``<cell>_accuracy`` per cell in order of first
    appearance; None where that cell has no test accuracy on that architecture (not counted in the
    mean). Rows of one data set, architecture and cell are repeats and are averaged; where the rows
    carry a ``seed`` (``compare --seeds``), each cell also gets ``<cell>_sd``, the sample standard
    deviation over the seeds (in the mean row: the mean of those).
    """
    cells = list(dict.fromkeys(str(row["cell"]) for row in rows))
    runs: dict[tuple[str, str], dict[str, list[float]]] = {}
    for row in rows:
        accuracies = runs.setdefault((str(row["dataset"]), str(row["architecture"])), {c: [] for c in cells})
        if row.get("test_accuracy") is not None:
            accuracies[str(row["cell"])].append(float(row["test_accuracy"]))
    repeated = any("seed" in row for row in rows)

    def entry(dataset: str, architecture: str, groups: dict[str, list[float]]) -> dict[str, Any]:
        row: dict[str, Any] = {"dataset": dataset, "architecture": architecture}
        for cell in cells:
            row[f"{cell}_accuracy"] = float(np.mean(groups[cell])) if groups[cell] else None
            if repeated:
                row[f"{cell}_sd"] = float(np.std(groups[cell], ddof=1)) if len(groups[cell]) > 1 else None
        return row

    side_by_side: list[dict[str, Any]] = []
    for dataset in dict.fromkeys(dataset for dataset, _ in runs):
        of_dataset = [entry(dataset, architecture, accuracies)
                      for (name, architecture), accuracies in runs.items() if name == dataset]
        side_by_side += of_dataset
        if len(of_dataset) > 1:
            mean: dict[str, Any] = {"dataset": dataset, "architecture": "mean"}
            for column in (c for c in of_dataset[0] if c.endswith(("_accuracy", "_sd"))):
                values = [r[column] for r in of_dataset if r[column] is not None]
                mean[column] = float(np.mean(values)) if values else None
            side_by_side.append(mean)
    return side_by_side


def key_value_table_html(items: Mapping[str, Any]) -> str:
    """A two-column table of settings, values exactly as Python prints them (``1.0``, ``3e-4``).

    Nested mappings are flattened to dotted keys.
    """
    rows = [{"setting": key, "value": str(value)} for key, value in flatten(items).items()]
    return table_html(rows, ["setting", "value"], css_class="data kv")


def flatten(items: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"hidden": 64}}`` -> ``{"model.hidden": 64}``; other values unchanged."""
    flat: dict[str, Any] = {}
    for key, value in items.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def write_results_csv(rows: Sequence[Row], path: str | os.PathLike) -> Path:
    """The results as CSV (sorted as in HTML), atomically; returns ``path``.

    Accuracies have 4 decimals, seconds 1, integers stay integers, None is an empty field.
    """
    columns = columns_of(rows, RESULT_COLUMNS)
    rows = sort_results(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: format_value(c, row.get(c)) for c in columns})
    return write_text_atomic(path, buffer.getvalue())
