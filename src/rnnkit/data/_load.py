"""`load(path or name)`: one entry point for every data form the command line accepts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rnnkit.data._bundled import dataset_names, is_bundled, load_dataset
from rnnkit.data._csv import read_csv
from rnnkit.data._dataset import DataSplits, SequenceDataset, align_classes
from rnnkit.data._errors import DataError
from rnnkit.data._folder import read_folder
from rnnkit.data._npz import read_npz
from rnnkit.data._splits import holdout_split
from rnnkit.data._ts import read_ts

_FILE_READERS: dict[str, Callable[[Path], SequenceDataset]] = {
    ".ts": read_ts,
    ".npz": read_npz,
    ".csv": read_csv,
}


def load(source: str | Path, *, test_fraction: float | None = None, seed: int = 0) -> DataSplits:
    """Load a data set from a path or a bundled name.

    `source` is one of:
    - the name of a bundled data set (`list_datasets()`), with its fixed split;
    - a folder: `train/` (+ `test/`) of class folders, or class folders alone (see `read_folder`),
      or a folder holding one `NAME_TRAIN.ts` (+ `NAME_TEST.ts`), as UEA archives unpack;
    - a `.ts`, `.npz` or `.csv` file. A file named `NAME_TRAIN.<ext>` with a `NAME_TEST.<ext>`
      beside it gives the test split; other files give `test=None`.

    A path that exists wins over a bundled name. When the source has no test split and
    `test_fraction` is given, a `holdout_split` with `seed` makes one (whole groups where the data
    has them); otherwise `test` stays None and the caller decides.
    """
    path = Path(source)
    if not path.exists():
        if isinstance(source, str) and is_bundled(source):
            return load_dataset(source)
        raise DataError(f"{source}: no such file or folder, and not a bundled data set "
                        f"(bundled: {', '.join(dataset_names())})")
    splits = _read_path(path)
    if splits.test is None and test_fraction is not None:
        splits = DataSplits(*holdout_split(splits.train, test_fraction, seed))
    return splits


def _read_path(path: Path) -> DataSplits:
    if path.is_dir():
        train_ts = sorted(path.glob("*_TRAIN.ts")) + sorted(path.glob("*_train.ts"))
        has_classes = any(p.is_dir() and not p.name.startswith(".") for p in path.iterdir())
        if len(train_ts) == 1 and not has_classes:
            return _read_file_pair(train_ts[0])
        return read_folder(path)
    reader = _FILE_READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(f"{path}: unknown data format {path.suffix or '(no extension)'!r}; "
                        "expected a folder, a .ts, .npz or .csv file, or a bundled data set name")
    return _read_file_pair(path)


def _read_file_pair(path: Path) -> DataSplits:
    """`path` alone, or with its `_TEST` twin when `path` is a `NAME_TRAIN.<ext>` file."""
    reader = _FILE_READERS[path.suffix.lower()]
    train = reader(path)
    test_path = _test_twin(path)
    if test_path is None:
        return DataSplits(train)
    train = _renamed(train, path.stem[: -len("_TRAIN")])
    test = align_classes(reader(test_path), train.class_names, str(test_path))
    if test.num_features != train.num_features:
        raise DataError(f"{test_path}: {test.num_features} features per step, but "
                        f"{path} has {train.num_features}")
    return DataSplits(train, _renamed(test, train.name))


def _test_twin(path: Path) -> Path | None:
    stem = path.stem
    if not stem.upper().endswith("_TRAIN"):
        return None
    test_word = "TEST" if stem[-5:].isupper() else "test"
    twin = path.with_name(f"{stem[:-5]}{test_word}{path.suffix}")
    return twin if twin.is_file() else None


def _renamed(data: SequenceDataset, name: str) -> SequenceDataset:
    return SequenceDataset(data.sequences, data.labels, data.class_names, name=name,
                           groups=data.groups, source=data.source)
