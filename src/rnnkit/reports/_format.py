"""How numbers read in tables: one rule, shared by the HTML and the CSV writers.

Accuracies and other fractions get 4 decimals, losses 4, seconds 1, integers stay integers, the
learning rate and other floats keep 4 significant digits. ``None`` is an empty cell.
"""
from __future__ import annotations

import math
import numbers


def _is_fraction(column: str) -> bool:
    name = column.lower()
    return name.endswith(("accuracy", "_acc", "precision", "recall", "f1", "loss", "_sd"))


def _is_seconds(column: str) -> bool:
    name = column.lower()
    return name == "seconds" or name.endswith("_seconds")


def format_value(column: str, value: object, *, thousands: bool = False) -> str:
    """``value`` of ``column`` as table text; ``thousands`` groups integer digits (``12,345``)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}" if thousands else str(int(value))
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if _is_seconds(column):
        return f"{value:.1f}"
    if _is_fraction(column):
        return f"{value:.4f}"
    return f"{value:.4g}"


def is_numeric(value: object) -> bool:
    """True for numbers (not bools): such cells are right-aligned."""
    return isinstance(value, numbers.Number) and not isinstance(value, bool)
