"""Folder data sets: `train/` and `test/`, one folder per class, one text file per sample.

Layout (`test/` optional; without `train/`, the class folders may sit in the root itself):

    root/train/<class name>/<sample file>
    root/test/<class name>/<sample file>

A sample file is one of two text forms:
- rows of numbers, one row per time step, separated by whitespace or commas -> `(T, F)`;
- the pen-stroke form, ONE line `N x1 y1 x2 y2 ... xN yN` -> `(N, 2)`. It is recognised by its
  shape: a single line whose first token is written as a whole number `N >= 1` (no sign, no
  decimal point) followed by exactly `2N` numbers. (A one-row file of that exact shape is therefore
  read as a stroke: give a one-step sample a decimal point, "3.0", to keep it a row.)
Blank lines are skipped; hidden files (".name") are ignored. Files are read in natural order
("2.txt" before "10.txt"); classes are sorted the same way.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rnnkit.data._dataset import DataSplits, SequenceDataset, align_classes
from rnnkit.data._errors import DataError
from rnnkit.data._labels import natural_key, sort_class_names
from rnnkit.data._parse import parse_numbers, read_text, to_float32

_WHOLE_NUMBER = re.compile(r"\d+")


def read_folder(root: str | Path) -> DataSplits:
    """Read a folder data set; `test` is None when there is no `test/` folder."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    if (root / "train").is_dir():
        train = read_class_folders(root / "train", name=root.name)
        test = None
        if (root / "test").is_dir():
            test = read_class_folders(
                root / "test", name=root.name, num_features=train.num_features
            )
            test = align_classes(test, train.class_names, str(root / "test"))
        return DataSplits(train, test)
    if (root / "test").is_dir():
        raise DataError(f"{root}: has a test/ folder but no train/ folder")
    return DataSplits(read_class_folders(root, name=root.name))


def read_class_folders(
    folder: Path, *, name: str, num_features: int | None = None
) -> SequenceDataset:
    """One data set from `folder/<class>/<sample file>`; every class folder must hold a sample."""
    class_dirs = [p for p in _visible(folder) if p.is_dir()]
    if not class_dirs:
        raise DataError(f"{folder}: no class folders (expected <class name>/<sample files> in it)")
    class_names = sort_class_names(p.name for p in class_dirs)
    if len(class_names) < 2:
        raise DataError(
            f"{folder}: only one class folder ({class_names[0]!r}); classification needs at least 2"
        )
    sequences: list[np.ndarray] = []
    labels: list[int] = []
    for label, class_name in enumerate(class_names):
        files = sorted(_visible(folder / class_name), key=lambda p: natural_key(p.name))
        if not files:
            raise DataError(f"{folder / class_name}: no sample files")
        for path in files:
            if path.is_dir():
                raise DataError(f"{path}: a folder inside a class folder; expected sample files")
            sample = read_sample_file(path, num_features)
            num_features = sample.shape[1]
            sequences.append(sample)
            labels.append(label)
    return SequenceDataset(sequences, np.array(labels), class_names, name=name, source=str(folder))


def read_sample_file(path: Path, num_features: int | None = None) -> np.ndarray:
    """One sample file (rows or pen-stroke form) as float32 `(T, F)`.

    `num_features`, when given, is the F of the samples read before; a file that disagrees is an
    error.
    """
    numbered = [
        (number, line.replace(",", " ").split())
        for number, line in enumerate(read_text(path).splitlines(), 1)
        if line.strip()
    ]
    if not numbered:
        raise DataError(f"{path}: empty file (no numbers)")
    if len(numbered) == 1 and num_features in (None, 2) and _is_pen_stroke(numbered[0][1]):
        number, tokens = numbered[0]
        if num_features is not None and num_features != 2:
            raise DataError(
                f"{path} line {number}: a pen-stroke sample (x, y per step) but the other samples "
                f"have {num_features} numbers per step"
            )
        where = f"{path} line {number}"
        values = to_float32([parse_numbers(tokens[1:], where)], [where])  # (1, 2N)
        return values.reshape(-1, 2)  # (N, 2)
    rows = []
    origin = "as in the samples read before"
    for number, tokens in numbered:
        if num_features is None:
            num_features, origin = len(tokens), f"as on line {number}"
        elif len(tokens) != num_features:
            raise DataError(
                f"{path} line {number}: expected {num_features} numbers ({origin}), "
                f"got {len(tokens)}"
            )
        rows.append(parse_numbers(tokens, f"{path} line {number}"))
    return to_float32(rows, [f"{path} line {number}" for number, _ in numbered])


def _is_pen_stroke(tokens: list[str]) -> bool:
    return (
        len(tokens) >= 3
        and _WHOLE_NUMBER.fullmatch(tokens[0]) is not None
        and len(tokens) == 1 + 2 * int(tokens[0])
    )


def write_folder(
    data: DataSplits | SequenceDataset, root: str | Path, *, pen_strokes: bool = False
) -> None:
    """Write `data` as a folder data set: `DataSplits` -> `train/` (+ `test/`), a data set -> class
    folders directly in `root`.

    Files are named by the sample's index (`<i>.txt`); `pen_strokes=True` writes 2-feature data in
    the one-line pen-stroke form. Values get 9 significant digits, which float32 survives exactly.
    """
    root = Path(root)
    if isinstance(data, SequenceDataset):
        _write_class_folders(data, root, pen_strokes)
        return
    _write_class_folders(data.train, root / "train", pen_strokes)
    if data.test is not None:
        _write_class_folders(data.test, root / "test", pen_strokes)


def _write_class_folders(data: SequenceDataset, folder: Path, pen_strokes: bool) -> None:
    if pen_strokes and data.num_features != 2:
        raise DataError(
            f"pen-stroke files hold (x, y) steps; {data.name!r} has {data.num_features} features"
        )
    for class_name in data.class_names:
        if not class_name or class_name.startswith(".") or "/" in class_name or "\\" in class_name:
            raise DataError(f"class name {class_name!r} cannot be a folder name")
        (folder / class_name).mkdir(parents=True, exist_ok=True)
    for i, (sequence, label) in enumerate(zip(data.sequences, data.labels)):
        if pen_strokes:
            values = [_number(v) for v in sequence.reshape(-1).tolist()]
            text = " ".join([str(len(sequence)), *values])
        else:
            text = "\n".join(" ".join(_number(v) for v in row) for row in sequence.tolist())
        (folder / data.class_names[label] / f"{i}.txt").write_text(text + "\n", encoding="utf-8")


def _number(value: float) -> str:
    """9 significant digits (float32 survives exactly), always with a '.' or exponent, so that a
    one-step rows file never looks like a pen stroke (whose count N is a bare whole number)."""
    text = f"{value:.9g}"
    return text if any(c in text for c in ".e") else text + ".0"


def _visible(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".")]
