"""CSV data sets: one row per time step, a sample's rows together and in time order.

    sequence_id,label,f1,f2,...
    a17,up,0.12,3.4
    a17,up,0.15,3.1
    b02,down,...

`sequence_id` may be any text; a new id starts a new sample, and an id that comes back after other
samples is an error (rows must be contiguous). The feature columns may have any names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from rnnkit.data._dataset import SequenceDataset
from rnnkit.data._errors import DataError
from rnnkit.data._labels import encode_labels
from rnnkit.data._parse import parse_numbers, read_text, to_float32


def read_csv(path: str | Path) -> SequenceDataset:
    """Read a CSV data set; classes are the distinct labels, numbers by value, then by name."""
    path = Path(path)
    reader = csv.reader(io.StringIO(read_text(path)))
    try:
        return _read_rows(reader, path)
    except csv.Error as error:
        raise DataError(f"{path} line {reader.line_num}: malformed CSV ({error})") from None


def _read_rows(reader: Iterator[list[str]], path: Path) -> SequenceDataset:
    """The rows of a `csv.reader` (its `line_num` gives the line numbers) as a data set."""
    header = next((row for row in reader if any(f.strip() for f in row)), None)
    if header is None:
        raise DataError(f"{path}: empty file")
    header = [f.strip() for f in header]
    if len(header) < 3 or [h.lower() for h in header[:2]] != ["sequence_id", "label"]:
        raise DataError(f"{path} line {reader.line_num}: expected the header "
                        f"'sequence_id,label,<feature>,...', got {','.join(header)!r}")
    width = len(header)

    sequences: list[np.ndarray] = []
    raw_labels: list[str] = []
    seen: dict[str, int] = {}  # sequence id -> line where it started
    rows: list[list[float]] = []
    row_lines: list[str] = []  # where each row came from, for error messages
    current = None
    for fields in reader:
        number = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != width:
            raise DataError(f"{path} line {number}: expected {width} fields (as in the header), "
                            f"got {len(fields)}")
        sequence_id, label = fields[0].strip(), fields[1].strip()
        if sequence_id != current:
            if sequence_id in seen:
                raise DataError(f"{path} line {number}: sequence {sequence_id!r} started on line "
                                f"{seen[sequence_id]} and comes back after other sequences; "
                                "rows of a sequence must be contiguous")
            if rows:
                sequences.append(to_float32(rows, row_lines))
            seen[sequence_id], current, rows, row_lines = number, sequence_id, [], []
            raw_labels.append(label)
        elif label != raw_labels[-1]:
            raise DataError(f"{path} line {number}: sequence {sequence_id!r} has label {label!r} "
                            f"here but {raw_labels[-1]!r} on line {seen[sequence_id]}")
        where = f"{path} line {number}"
        rows.append(parse_numbers([f.strip() for f in fields[2:]], where))
        row_lines.append(where)
    if not rows:
        raise DataError(f"{path}: no data rows after the header")
    sequences.append(to_float32(rows, row_lines))
    labels, class_names = encode_labels(raw_labels)
    if len(class_names) < 2:
        raise DataError(f"{path}: only one class ({class_names[0]!r}); classification needs at "
                        "least 2")
    return SequenceDataset(sequences, labels, class_names, name=path.stem, source=str(path))


def write_csv(dataset: SequenceDataset, path: str | Path) -> None:
    """Write `dataset` as CSV (`sequence_id` is the sample index) that `read_csv` reads back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["sequence_id", "label", *(f"f{j + 1}" for j in range(dataset.num_features))])
    for i, (sequence, label) in enumerate(zip(dataset.sequences, dataset.labels)):
        name = dataset.class_names[label]
        for row in sequence.tolist():
            writer.writerow([i, name, *(f"{v:.9g}" for v in row)])
    Path(path).write_text(buffer.getvalue(), encoding="utf-8")
