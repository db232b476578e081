"""Class names <-> class indices, in an order a person would expect."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

_NUMBER = re.compile(r"[-+]?\d+(\.\d*)?([eE][-+]?\d+)?")
_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """Sort key that compares digit runs by value: "a2" < "a10", "2.txt" < "10.txt"."""
    # re.split with a group alternates text, number, text, ... so equal positions hold equal types.
    parts = _DIGITS.split(text)
    return tuple(int(p) if i % 2 else p.lower() for i, p in enumerate(parts)), text


def sort_class_names(names: Iterable[str]) -> list[str]:
    """Sort class names: plain numbers by value ("-1", "2", "10"), then the rest naturally."""
    unique = set(names)
    numeric = sorted((n for n in unique if _NUMBER.fullmatch(n)), key=lambda n: (float(n), n))
    other = sorted((n for n in unique if not _NUMBER.fullmatch(n)), key=natural_key)
    return numeric + other


def encode_labels(raw: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Turn label strings into `(indices int64, class_names)`, names in `sort_class_names` order."""
    class_names = sort_class_names(raw)
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index[r] for r in raw], dtype=np.int64), class_names
