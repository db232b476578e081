"""UEA / sktime `.ts` files: a header of `@` lines, then one sample per line.

    # comment lines start with '#'
    @problemName   Gestures
    @timeStamps    false
    @univariate    false
    @dimensions    3
    @equalLength   false
    @classLabel    true up down
    @data
    0.1,0.2,0.3:1.0,1.1,1.2:5.0,5.1,5.2:up

A data line holds one comma-separated series per dimension, the dimensions separated by `:`, and the
class label last; the sample becomes `(T, D)`, one column per dimension. Dimensions of one sample
must have the same length; samples may differ in length. Header keywords are case-insensitive.
Not supported, each with a clear `DataError`: missing values `?` (rnnkit does not impute), time
stamps, regression targets (`@targetLabel`) and files without class labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnkit.data._dataset import SequenceDataset
from rnnkit.data._errors import DataError
from rnnkit.data._parse import parse_numbers, read_text, to_float32


def read_ts(path: str | Path) -> SequenceDataset:
    """Read one `.ts` file; class order is the order of `@classLabel`."""
    path = Path(path)
    lines = read_text(path).splitlines()
    header: dict[str, tuple[int, list[str]]] = {}
    data_start = None
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not text.startswith("@"):
            raise DataError(f"{path} line {number}: data before the @data line")
        keyword, *values = text[1:].split() or [""]
        if keyword.lower() == "data":
            data_start = number
            break
        header[keyword.lower()] = (number, values)
    if data_start is None:
        raise DataError(f"{path}: no @data line (is this a .ts file?)")
    class_names = _class_labels(header, path)
    num_dims = _declared_dimensions(header)

    sequences: list[np.ndarray] = []
    labels: list[int] = []
    index = {c: i for i, c in enumerate(class_names)}
    for number in range(data_start + 1, len(lines) + 1):
        text = lines[number - 1].strip()
        if not text or text.startswith("#"):
            continue
        where = f"{path} line {number}"
        *dims, label = (part.strip() for part in text.split(":"))
        if not dims:
            raise DataError(f"{where}: expected '<values>:...:<label>', found no ':'")
        if label not in index:
            raise DataError(
                f"{where}: class label {label!r} is not declared in @classLabel "
                f"(declared: {', '.join(class_names)})"
            )
        if num_dims is None:
            num_dims = len(dims)
        elif len(dims) != num_dims:
            raise DataError(f"{where}: expected {num_dims} dimensions, got {len(dims)}")
        sequences.append(_parse_sample(dims, where))
        labels.append(index[label])
    if not sequences:
        raise DataError(f"{path}: no samples after @data")
    name = _problem_name(header) or path.stem
    return SequenceDataset(sequences, np.array(labels), class_names, name=name, source=str(path))


def _class_labels(header: dict[str, tuple[int, list[str]]], path: Path) -> list[str]:
    if "targetlabel" in header and _flag(header["targetlabel"][1]):
        raise DataError(f"{path} line {header['targetlabel'][0]}: regression (@targetLabel "
                        "true) is not supported; rnnkit reads classification problems")
    if "timestamps" in header and _flag(header["timestamps"][1]):
        raise DataError(f"{path} line {header['timestamps'][0]}: time-stamped .ts files are not "
                        "supported; write the values without time stamps")
    if "classlabel" not in header:
        raise DataError(f"{path}: no @classLabel line; rnnkit reads classification problems")
    number, values = header["classlabel"]
    if not _flag(values):
        raise DataError(f"{path} line {number}: @classLabel false (no class labels); "
                        "rnnkit reads classification problems")
    names = values[1:]
    if len(names) < 2:
        raise DataError(f"{path} line {number}: @classLabel declares {len(names)} class(es); "
                        "classification needs at least 2")
    if len(set(names)) != len(names):
        raise DataError(f"{path} line {number}: @classLabel repeats a class: {' '.join(names)}")
    return names


def _declared_dimensions(header: dict[str, tuple[int, list[str]]]) -> int | None:
    if "univariate" in header and _flag(header["univariate"][1]):
        return 1
    for keyword in ("dimensions", "dimension"):
        if keyword in header and header[keyword][1] and header[keyword][1][0].isdigit():
            return int(header[keyword][1][0])
    return None


def _parse_sample(dims: list[str], where: str) -> np.ndarray:
    """`D` comma-separated series of one length -> float32 `(T, D)`."""
    series = []
    for d, text in enumerate(dims, 1):
        tokens = [t.strip() for t in text.split(",")]
        if tokens == [""]:
            raise DataError(f"{where}: dimension {d} has no values")
        if "?" in tokens:
            raise DataError(
                f"{where}: dimension {d} has a missing value '?' at step {tokens.index('?') + 1}; "
                "rnnkit does not impute missing values, fill or drop them first"
            )
        if series and len(tokens) != len(series[0]):
            raise DataError(
                f"{where}: dimension {d} has {len(tokens)} values, dimension 1 has "
                f"{len(series[0])}; dimensions of one sample must have the same length"
            )
        values = parse_numbers(tokens, f"{where} dimension {d}")
        series.append(to_float32([values], [f"{where} dimension {d}"])[0])  # (T,)
    return np.stack(series, axis=1)  # (T, D)


def _flag(values: list[str]) -> bool:
    return bool(values) and values[0].lower() == "true"


def _problem_name(header: dict[str, tuple[int, list[str]]]) -> str | None:
    values = header.get("problemname", (0, []))[1]
    return " ".join(values) or None


def write_ts(
    dataset: SequenceDataset, path: str | Path, *, problem_name: str | None = None
) -> None:
    """Write `dataset` as a `.ts` file that `read_ts` (and sktime / aeon) can read.

    Class names become the `@classLabel` list, so they may not hold whitespace, ':' or ','.
    """
    for name in dataset.class_names:
        if not name or any(c.isspace() or c in ":,#" for c in name):
            raise DataError(f"class name {name!r} cannot be written to a .ts file")
    lengths = dataset.lengths
    equal = bool((lengths == lengths[0]).all())
    lines = [
        f"@problemName {(problem_name or dataset.name).replace(' ', '_')}",
        "@timeStamps false",
        "@missing false",
        f"@univariate {str(dataset.num_features == 1).lower()}",
        f"@dimensions {dataset.num_features}",
        f"@equalLength {str(equal).lower()}",
        *([f"@seriesLength {lengths[0]}"] if equal else []),
        f"@classLabel true {' '.join(dataset.class_names)}",
        "@data",
    ]
    for sequence, label in zip(dataset.sequences, dataset.labels):
        dims = (",".join(f"{v:.9g}" for v in column) for column in sequence.T.tolist())
        lines.append(":".join([*dims, dataset.class_names[label]]))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
