"""Stratified, group and train / validation splits."""

import numpy as np
import pytest

from rnnkit.data import (
    DataError,
    SequenceDataset,
    group_split,
    load,
    stratified_split,
    train_validation_split,
    write_npz,
)

from .conftest import make_dataset


def test_stratified_split_keeps_every_class_in_both_parts():
    data = make_dataset(n=40, class_names=("a", "b", "c", "d"))
    train, test = stratified_split(data, test_fraction=0.2, seed=0)
    assert train.class_counts().tolist() == [8] * 4
    assert test.class_counts().tolist() == [2] * 4
    assert train.class_names == test.class_names == data.class_names


def test_stratified_split_partitions_the_data():
    data = make_dataset(n=30)
    train, test = stratified_split(data, 0.3, seed=5)
    ids = lambda part: {s.tobytes() for s in part.sequences}  # noqa: E731
    assert ids(train).isdisjoint(ids(test))
    assert ids(train) | ids(test) == ids(data)


def test_stratified_split_is_reproducible_from_the_seed():
    data = make_dataset(n=60)
    first = stratified_split(data, 0.5, seed=7)[1]
    again = stratified_split(data, 0.5, seed=7)[1]
    other = stratified_split(data, 0.5, seed=8)[1]
    same = [np.array_equal(a, b) for a, b in zip(first.sequences, again.sequences)]
    assert all(same)
    assert not all(np.array_equal(a, b) for a, b in zip(first.sequences, other.sequences))


def test_small_classes_still_reach_both_parts():
    data = make_dataset(n=6, class_names=("a", "b", "c"))  # 2 per class
    for fraction in (0.01, 0.99):
        train, test = stratified_split(data, fraction, seed=0)
        assert train.class_counts().tolist() == test.class_counts().tolist() == [1, 1, 1]


def test_single_sample_class_cannot_be_stratified():
    data = SequenceDataset([np.zeros((1, 1))] * 3, [0, 0, 1], ["a", "b"])
    with pytest.raises(DataError, match="class 'b' has 1 sample"):
        stratified_split(data, 0.5, seed=0)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_fraction_must_be_inside_zero_one(toy, fraction):
    with pytest.raises(ValueError, match="between 0 and 1"):
        stratified_split(toy, fraction, seed=0)


def test_group_split_holds_out_whole_groups():
    data = make_dataset(n=12, groups=True)  # groups 0..3, 3 samples each
    train, test = group_split(data, [1, 3])
    assert set(test.groups.tolist()) == {1, 3}
    assert set(train.groups.tolist()) == {0, 2}


def test_validation_split_without_groups_is_stratified():
    data = make_dataset(n=30)
    train, validation = train_validation_split(data, 0.2, seed=1)
    assert validation.class_counts().tolist() == [2, 2, 2]
    assert len(train) == 24


def test_validation_split_with_groups_holds_out_groups():
    data = make_dataset(n=15, groups=True)  # groups 0..4
    train, validation = train_validation_split(data, 0.2, seed=1)
    held_out = set(validation.groups.tolist())
    assert len(held_out) == 1
    assert held_out.isdisjoint(train.groups.tolist())
    again = train_validation_split(data, 0.2, seed=1)[1]
    assert again.groups.tolist() == validation.groups.tolist()


def test_load_holds_out_whole_groups_for_the_test_split(tmp_path):
    """Samples of one group (a writer's demos, a speaker) are alike: none may span train and test."""
    rng = np.random.default_rng(0)
    sequences = [rng.normal(size=(5, 2)).astype(np.float32) for _ in range(40)]
    dataset = SequenceDataset(sequences, np.arange(40) % 2, ["a", "b"], name="grouped",
                              groups=np.arange(40) // 8)  # 5 groups of 8
    write_npz(dataset, tmp_path / "grouped.npz")
    splits = load(tmp_path / "grouped.npz", test_fraction=0.2, seed=1)
    assert set(splits.train.groups.tolist()).isdisjoint(splits.test.groups.tolist())
    assert len(splits.test) == 8
