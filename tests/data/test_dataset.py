"""SequenceDataset: normalisation, properties and the checks made on construction."""

import numpy as np
import pytest

from rnnkit.data import DataError, DataSplits, SequenceDataset

from .conftest import make_dataset


def test_properties_and_dtypes(toy):
    assert toy.num_features == 3
    assert toy.num_classes == 3
    assert toy.lengths.dtype == np.int64
    np.testing.assert_array_equal(toy.lengths, [len(s) for s in toy.sequences])
    assert toy.labels.dtype == np.int64
    assert all(s.dtype == np.float32 for s in toy.sequences)
    assert toy.class_counts().tolist() == [4, 4, 4]
    assert len(toy) == 12


def test_converts_float64_and_int_lists():
    data = SequenceDataset([np.ones((2, 1)), np.zeros((3, 1))], [0, 1], ["x", "y"])
    assert data.sequences[0].dtype == np.float32
    assert data.labels.dtype == np.int64


def test_subset_keeps_names_and_groups():
    data = make_dataset(groups=True)
    part = data.subset([5, 0])
    assert part.class_names == data.class_names
    np.testing.assert_array_equal(part.labels, data.labels[[5, 0]])
    np.testing.assert_array_equal(part.groups, data.groups[[5, 0]])
    np.testing.assert_array_equal(part.sequences[0], data.sequences[5])


def test_nan_names_sample_and_step():
    sequences = [np.zeros((3, 2)), np.zeros((4, 2))]
    sequences[1][2, 1] = np.nan
    with pytest.raises(DataError, match="sample 1 step 2 holds nan"):
        SequenceDataset(sequences, [0, 1], ["a", "b"])


def test_inf_is_refused():
    with pytest.raises(DataError, match="sample 0 step 0 holds inf"):
        SequenceDataset([np.full((1, 1), np.inf), np.zeros((1, 1))], [0, 1], ["a", "b"])


@pytest.mark.parametrize(
    ("sequences", "labels", "names", "message"),
    [
        ([], [], ["a", "b"], "no samples"),
        ([np.zeros((2, 3)), np.zeros((2, 4))], [0, 1], ["a", "b"], "sample 1 has 4 features"),
        ([np.zeros((2, 3)), np.zeros((0, 3))], [0, 1], ["a", "b"], "sample 1 has no time steps"),
        ([np.zeros((2, 3)), np.zeros(3)], [0, 1], ["a", "b"], r"expected \(T, F\)"),
        ([np.zeros((2, 3))], [0], ["a"], "at least 2 classes"),
        ([np.zeros((2, 3))], [2], ["a", "b"], "outside 0..1"),
        ([np.zeros((2, 3))], [0, 1], ["a", "b"], "1 sequences but 2 labels"),
        ([np.zeros((2, 3))], [0], ["a", "a"], "repeat"),
        ([np.zeros((2, 3))], [0.5], ["a", "b"], "must be integers"),
    ],
)
def test_invalid_construction(sequences, labels, names, message):
    with pytest.raises(DataError, match=message):
        SequenceDataset(sequences, np.array(labels), names)


def test_groups_length_checked():
    with pytest.raises(DataError, match="groups"):
        SequenceDataset([np.zeros((1, 1))] * 2, [0, 1], ["a", "b"], groups=[0])


def test_splits_must_agree(toy):
    other = SequenceDataset([np.zeros((1, 3))] * 2, [0, 1], ["x", "y"])
    with pytest.raises(DataError, match="test classes"):
        DataSplits(toy, other)
    narrow = SequenceDataset([np.zeros((1, 2))] * 2, [0, 1], ["a", "b", "c"])
    with pytest.raises(DataError, match="features"):
        DataSplits(toy, narrow)
