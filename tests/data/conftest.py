"""Small synthetic data sets shared by the data-layer tests."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.data import SequenceDataset


def make_dataset(
    n: int = 12,
    num_features: int = 3,
    class_names: tuple[str, ...] = ("a", "b", "c"),
    max_length: int = 7,
    seed: int = 0,
    groups: bool = False,
) -> SequenceDataset:
    """`n` sequences of random lengths 1..max_length, labels cycling through the classes."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, max_length + 1, size=n)
    sequences = [rng.normal(size=(t, num_features)).astype(np.float32) for t in lengths]
    labels = np.arange(n) % len(class_names)
    return SequenceDataset(
        sequences, labels, list(class_names), name="toy",
        groups=np.arange(n) // len(class_names) if groups else None,
    )


def assert_same_data(actual: SequenceDataset, expected: SequenceDataset) -> None:
    """Same class names, labels and (bit for bit) sequences, in the same order."""
    assert actual.class_names == expected.class_names
    np.testing.assert_array_equal(actual.labels, expected.labels)
    assert len(actual) == len(expected)
    for a, e in zip(actual.sequences, expected.sequences):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, e)


def by_class(dataset: SequenceDataset) -> SequenceDataset:
    """The order a folder reader returns: class by class, the original order within a class."""
    return dataset.subset(np.argsort(dataset.labels, kind="stable"))


@pytest.fixture
def toy() -> SequenceDataset:
    return make_dataset()
