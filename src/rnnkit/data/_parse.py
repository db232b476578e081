"""Reading numbers out of text files, with errors that name the file and the line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rnnkit.data._errors import DataError


def read_text(path: Path) -> str:
    """The whole file as UTF-8 text (a leading byte-order mark, as Excel writes, is dropped); a binary or
    unreadable file is a `DataError`."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error})") from None


def parse_numbers(tokens: Sequence[str], where: str) -> list[float]:
    """`tokens` as floats; `where` ("file line 3") begins the message of a bad token's error."""
    try:
        return [float(t) for t in tokens]
    except ValueError:
        for position, token in enumerate(tokens, 1):
            try:
                float(token)
            except ValueError:
                raise DataError(f"{where}: value {position} {token!r} is not a number") from None
        raise  # unreachable: some token failed above


def to_float32(rows: list[list[float]], wheres: Sequence[str]) -> np.ndarray:
    """Rows of equal length as a float32 `(T, F)` array, refusing NaN, infinity and overflow.

    `wheres[t]` ("file line 7") begins the message when row `t` holds a bad value.
    """
    with np.errstate(over="ignore"):  # values beyond float32 become inf, reported below
        array = np.asarray(rows, dtype=np.float32)
    finite = np.isfinite(array)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise DataError(
            f"{wheres[row]}: value {col + 1} is {rows[row][col]!r}; NaN, "
            "infinite values and values beyond the float32 range are not allowed"
        )
    return array
