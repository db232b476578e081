"""Class names <-> class indices, in an order a person would expect."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

_NUMBER = re.compile(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?")


def sort_class_names(names: Iterable[str]) -> list[str]:
    """Sort class names, numbers by value ("2" before "10"), then the rest alphabetically."""
    unique = set(names)
    numeric = sorted((n for n in unique if _NUMBER.fullmatch(n)), key=lambda n: (float(n), n))
    other = sorted(n for n in unique if not _NUMBER.fullmatch(n))
    return numeric + other


def encode_labels(raw: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Turn label strings into `(indices int64, class_names)`, names in `sort_class_names` order."""
    class_names = sort_class_names(raw)
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index[r] for r in raw], dtype=np.int64), class_names
