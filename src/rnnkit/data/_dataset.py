"""`SequenceDataset`: labelled variable-length sequences in memory, checked once on construction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnkit.data._errors import DataError


@dataclass(frozen=True, eq=False)
class SequenceDataset:
    """Labelled sequences for classification, each its own length.

    Attributes:
        sequences: one float32 array `(T_i, F)` per sample; every `T_i >= 1`, one `F` for all.
        labels: int64 `(n,)` class indices in `0 .. C-1`.
        class_names: the `C` class names; `labels[i]` indexes this list.
        name: a short name for messages and reports ("fsdd-digits", a folder name, ...).
        groups: optional int64 `(n,)` group of each sample (e.g. the LASA demo index, a speaker);
            splits that must not leak across groups use it.
        source: where the data came from (a path, or source and licence of a bundled set).

    Construction converts the arrays to float32 / int64 and raises `DataError` for: no samples, a
    sequence that is not 2-D or has no steps, features that differ between samples, a NaN or
    infinite value (the message gives sample and step), fewer than 2 classes, a label outside
    `0 .. C-1`, repeated class names, or `groups` of the wrong length.
    """

    sequences: list[np.ndarray]
    labels: np.ndarray
    class_names: list[str]
    name: str = "dataset"
    groups: np.ndarray | None = None
    source: str = ""
    _lengths: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # frozen: normalise the fields once here, through object.__setattr__.
        sequences = [np.asarray(s, dtype=np.float32) for s in self.sequences]
        labels = np.asarray(self.labels)
        object.__setattr__(self, "sequences", sequences)
        object.__setattr__(self, "class_names", [str(c) for c in self.class_names])
        object.__setattr__(self, "labels", _as_int64(labels, "labels", self.name))
        if self.groups is not None:
            groups = _as_int64(np.asarray(self.groups), "groups", self.name)
            object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "_lengths", np.array([len(s) for s in sequences], dtype=np.int64))
        self._validate()

    # ------------------------------------------------------------------ properties
    @property
    def num_features(self) -> int:
        """`F`, the number of values per time step."""
        return int(self.sequences[0].shape[1])

    @property
    def num_classes(self) -> int:
        """`C`, the number of class names (a subset may not hold a sample of every class)."""
        return len(self.class_names)

    @property
    def lengths(self) -> np.ndarray:
        """int64 `(n,)` number of steps of each sequence."""
        return self._lengths

    def __len__(self) -> int:
        return len(self.sequences)

    def class_counts(self) -> np.ndarray:
        """int64 `(C,)` number of samples of each class."""
        return np.bincount(self.labels, minlength=self.num_classes)

    def subset(self, indices: Sequence[int] | np.ndarray) -> SequenceDataset:
        """The samples at `indices`, in that order, with the same class names."""
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        return SequenceDataset(
            sequences=[self.sequences[i] for i in idx],
            labels=self.labels[idx],
            class_names=list(self.class_names),
            name=self.name,
            groups=None if self.groups is None else self.groups[idx],
            source=self.source,
        )

    def with_sequences(self, sequences: list[np.ndarray]) -> SequenceDataset:
        """The same labels, names and groups over new sequences (used by scaling)."""
        return SequenceDataset(
            sequences=sequences,
            labels=self.labels,
            class_names=list(self.class_names),
            name=self.name,
            groups=self.groups,
            source=self.source,
        )

    # ------------------------------------------------------------------ checks
    def _validate(self) -> None:
        where = f"data set {self.name!r}"
        if not self.sequences:
            raise DataError(f"{where}: has no samples")
        if len(self.labels) != len(self.sequences):
            raise DataError(
                f"{where}: {len(self.sequences)} sequences but {len(self.labels)} labels"
            )
        num_features = None
        for i, s in enumerate(self.sequences):
            if s.ndim != 2:
                raise DataError(f"{where}: sample {i} has shape {s.shape}; expected (T, F)")
            if s.shape[0] < 1:
                raise DataError(f"{where}: sample {i} has no time steps")
            if num_features is None:
                num_features = s.shape[1]
            elif s.shape[1] != num_features:
                raise DataError(
                    f"{where}: sample {i} has {s.shape[1]} features per step, "
                    f"sample 0 has {num_features}"
                )
        if num_features == 0:
            raise DataError(f"{where}: sequences have 0 features per step")
        self._check_finite(where)
        if len(self.class_names) < 2:
            raise DataError(
                f"{where}: needs at least 2 classes, has {len(self.class_names)} "
                f"({', '.join(self.class_names) or 'none'})"
            )
        if len(set(self.class_names)) != len(self.class_names):
            raise DataError(f"{where}: class names repeat: {self.class_names}")
        bad = np.flatnonzero((self.labels < 0) | (self.labels >= len(self.class_names)))
        if bad.size:
            raise DataError(
                f"{where}: sample {bad[0]} has label {self.labels[bad[0]]}, "
                f"outside 0..{len(self.class_names) - 1}"
            )
        if self.groups is not None and len(self.groups) != len(self.sequences):
            raise DataError(
                f"{where}: {len(self.groups)} groups for {len(self.sequences)} sequences"
            )

    def _check_finite(self, where: str) -> None:
        # One isfinite over all frames is much faster than one per sequence; locate only on failure.
        frames = np.concatenate(self.sequences, axis=0)
        bad_rows = np.flatnonzero(~np.isfinite(frames).all(axis=1))
        if bad_rows.size == 0:
            return
        row = int(bad_rows[0])
        sample = int(np.searchsorted(np.cumsum(self._lengths), row, side="right"))
        step = row - int(self._lengths[:sample].sum())
        value = frames[row][~np.isfinite(frames[row])][0]
        raise DataError(f"{where}: sample {sample} step {step} holds {value} (not a finite number)")


def _as_int64(values: np.ndarray, what: str, name: str) -> np.ndarray:
    """`values` as int64 `(n,)`, refusing fractions and non-numbers instead of truncating them."""
    if values.ndim != 1:
        raise DataError(f"data set {name!r}: {what} must be 1-D, got shape {values.shape}")
    if values.dtype.kind in "iub":
        return values.astype(np.int64)
    if values.dtype.kind == "f" and values.size and np.all(np.mod(values, 1) == 0):
        return values.astype(np.int64)
    if values.size == 0:
        return values.astype(np.int64)
    raise DataError(f"data set {name!r}: {what} must be integers, got dtype {values.dtype}")


@dataclass(frozen=True, eq=False)
class DataSplits:
    """A training set and, where the source has one, a test set (same classes, same features)."""

    train: SequenceDataset
    test: SequenceDataset | None = None

    def __post_init__(self) -> None:
        if self.test is None:
            return
        if self.test.class_names != self.train.class_names:
            raise DataError(
                f"data set {self.train.name!r}: test classes {self.test.class_names} differ from "
                f"train classes {self.train.class_names}"
            )
        if self.test.num_features != self.train.num_features:
            raise DataError(
                f"data set {self.train.name!r}: test has {self.test.num_features} features per "
                f"step, train has {self.train.num_features}"
            )


def align_classes(data: SequenceDataset, class_names: list[str], where: str) -> SequenceDataset:
    """`data` relabelled to index `class_names` (the training classes), e.g. a test set that lacks
    some classes or lists them in another order; a class not in `class_names` is a `DataError`."""
    if data.class_names == class_names:
        return data
    index = {c: i for i, c in enumerate(class_names)}
    present = sorted(set(data.labels.tolist()))
    unknown = [data.class_names[i] for i in present if data.class_names[i] not in index]
    if unknown:
        raise DataError(
            f"{where}: class {unknown[0]!r} does not occur in the training data "
            f"(training classes: {', '.join(class_names)})"
        )
    mapping = np.array([index.get(c, -1) for c in data.class_names], dtype=np.int64)
    return SequenceDataset(
        data.sequences, mapping[data.labels], class_names,
        name=data.name, groups=data.groups, source=data.source,
    )
