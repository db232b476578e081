"""What every model's settings dataclass shares: a JSON round trip and type checks at the door.

Settings come back from ``config.json``, which a person may have edited: a wrong type or an
unknown key is one clear ``ValueError`` naming it, not a crash deep inside torch.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ._stack import CELLS

# Annotation names -> accepted types. JSON gives 1 for 1.0, so a float field takes an int; bool is
# an int subclass, so it is refused where a number is meant.
_TYPES = {"int": int, "float": (int, float), "bool": bool, "str": str}
_WIDTHS = "tuple[int, ...]"  # layer widths: a list in JSON, a tuple in the frozen dataclass


class ModelSettings:
    """Base of the frozen model-config dataclasses; call ``self.check_types()`` first in ``__post_init__``."""

    def check_types(self) -> None:
        """Refuse a value of the wrong type; store layer widths as tuples."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.type == _WIDTHS:
                ok = isinstance(value, (list, tuple)) and all(_is_int(h) for h in value)
                expected = "a list of whole numbers, e.g. [64, 64]"
                if ok:
                    object.__setattr__(self, field.name, tuple(value))
            else:
                kind = _TYPES[field.type]
                ok = isinstance(value, kind) and (field.type == "bool" or not isinstance(value, bool))
                expected = field.type
            if not ok:
                raise ValueError(f"{field.name}={value!r}: expected {expected}")

    def check_stack(self) -> None:
        """A recurrent stack's settings: a known cell, positive widths, dropout in [0, 1), and a
        projection narrower than every layer (LSTMP projects H units down to P)."""
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"hidden must be one or more positive widths, got {list(self.hidden)}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if getattr(self, "proj_size", 0) and self.proj_size >= min(self.hidden):
            raise ValueError(f"proj_size must be smaller than every hidden width {list(self.hidden)}, "
                             f"got {self.proj_size}")

    def to_dict(self) -> dict[str, Any]:
        """Every setting, JSON-ready (widths as lists)."""
        return {name: list(value) if isinstance(value, tuple) else value
                for name, value in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        """Build from a dict such as ``to_dict`` wrote; an unknown key is an error naming it."""
        if not isinstance(values, dict):
            raise ValueError(f"model settings must be a JSON object, got {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown model setting(s) {unknown}; known: {sorted(known)}")
        return cls(**values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
