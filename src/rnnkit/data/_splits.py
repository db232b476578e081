"""Splitting a data set: stratified by class, or by group so that no group spans both parts."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from rnnkit.data._dataset import SequenceDataset
from rnnkit.data._errors import DataError


def stratified_split(
    dataset: SequenceDataset, test_fraction: float, seed: int = 0
) -> tuple[SequenceDataset, SequenceDataset]:
    """Split into `(train, test)` with about `test_fraction` of every class in `test`.

    Every class that has samples lands in both parts (at least one sample each), so a class needs
    2 samples or more. The split depends only on the data's labels and `seed`; both parts keep the
    original sample order.
    """
    test_index = _stratified_test_indices(dataset, test_fraction, seed, "test_fraction")
    return _parts(dataset, test_index)


def group_split(
    dataset: SequenceDataset, test_groups: Iterable[int]
) -> tuple[SequenceDataset, SequenceDataset]:
    """Split into `(train, test)`: the samples whose group is in `test_groups` go to `test`.

    The honest split when samples of one group are alike (the demos of one writer, one speaker).
    """
    if dataset.groups is None:
        raise DataError(f"data set {dataset.name!r} has no groups to split by")
    is_test = np.isin(dataset.groups, np.fromiter(test_groups, dtype=np.int64))
    if is_test.all() or not is_test.any():
        raise DataError(f"data set {dataset.name!r}: test groups leave one part empty")
    return _parts(dataset, np.flatnonzero(is_test))


def holdout_split(
    dataset: SequenceDataset, fraction: float, seed: int = 0, what: str = "test_fraction"
) -> tuple[SequenceDataset, SequenceDataset]:
    """Split into `(kept, held_out)` with about `fraction` of the data held out, chosen by `seed`.

    With `groups` (e.g. LASA demos, speakers) whole groups are held out, at least one, so no group
    spans both parts; without groups the split is stratified like `stratified_split`. `what` names
    the setting in error messages.
    """
    if dataset.groups is None or len(np.unique(dataset.groups)) < 2:
        return _parts(dataset, _stratified_test_indices(dataset, fraction, seed, what))
    _check_fraction(fraction, what)
    groups = np.unique(dataset.groups)
    count = min(max(1, _round(len(groups) * fraction)), len(groups) - 1)
    held_out = np.random.default_rng(seed).choice(groups, size=count, replace=False)
    return group_split(dataset, held_out.tolist())


def train_validation_split(
    dataset: SequenceDataset, validation_fraction: float = 0.1, seed: int = 0
) -> tuple[SequenceDataset, SequenceDataset]:
    """Split training data into `(train, validation)` for early stopping (see `holdout_split`)."""
    return holdout_split(dataset, validation_fraction, seed, "validation_fraction")


def _stratified_test_indices(
    dataset: SequenceDataset, fraction: float, seed: int, what: str
) -> np.ndarray:
    _check_fraction(fraction, what)
    rng = np.random.default_rng(seed)
    chosen = []
    for c, class_name in enumerate(dataset.class_names):
        members = np.flatnonzero(dataset.labels == c)
        if len(members) == 0:
            continue
        if len(members) == 1:
            raise DataError(f"data set {dataset.name!r}: class {class_name!r} has 1 sample; the "
                            f"stratified split of {what} needs at least 2 per class")
        count = min(max(1, _round(len(members) * fraction)), len(members) - 1)
        chosen.append(rng.permutation(members)[:count])
    return np.sort(np.concatenate(chosen))


def _parts(
    dataset: SequenceDataset, test_index: np.ndarray
) -> tuple[SequenceDataset, SequenceDataset]:
    is_test = np.zeros(len(dataset), dtype=bool)
    is_test[test_index] = True
    return dataset.subset(np.flatnonzero(~is_test)), dataset.subset(np.flatnonzero(is_test))


def _check_fraction(fraction: float, what: str) -> None:
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"{what} must be between 0 and 1 (exclusive), got {fraction}")


def _round(x: float) -> int:
    return int(np.floor(x + 0.5))  # half up, not Python's half-to-even
