"""Scaler: fitted on the training split only, guarded against constant features, saved as JSON."""

import json

import numpy as np
import pytest

from rnnkit.data import DataError, DataSplits, Scaler, SequenceDataset, scale_splits

from .conftest import make_dataset


def frames(dataset):
    return np.concatenate(dataset.sequences).astype(np.float64)


def test_standard_gives_zero_mean_unit_std_on_train(toy):
    scaled = Scaler("standard").fit(toy).transform(toy)
    np.testing.assert_allclose(frames(scaled).mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(frames(scaled).std(axis=0), 1, atol=1e-5)
    np.testing.assert_array_equal(scaled.lengths, toy.lengths)
    np.testing.assert_array_equal(scaled.labels, toy.labels)
    assert all(s.dtype == np.float32 for s in scaled.sequences)


def test_minmax_maps_train_to_unit_interval(toy):
    scaled = Scaler("minmax").fit(toy).transform(toy)
    np.testing.assert_allclose(frames(scaled).min(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(frames(scaled).max(axis=0), 1, atol=1e-6)


def test_statistics_come_from_train_only():
    train = make_dataset(seed=1)
    test = make_dataset(seed=2)
    # A test split with wildly different statistics must not move the scaler at all.
    shifted = test.with_sequences([s * 50 + 1000 for s in test.sequences])
    _, scaler_a = scale_splits(DataSplits(train, test))
    scaled_b, scaler_b = scale_splits(DataSplits(train, shifted))
    assert scaler_a.to_dict() == scaler_b.to_dict() == Scaler().fit(train).to_dict()
    # ...so the shifted test data stay far from zero mean: they were not standardised on themselves.
    assert frames(scaled_b.test).mean() > 100
    np.testing.assert_allclose(frames(scaled_b.train).mean(axis=0), 0, atol=1e-6)


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_constant_feature_is_guarded(kind):
    data = SequenceDataset(
        [np.array([[5.0, 1.0], [5.0, 2.0]]), np.array([[5.0, 3.0]])], [0, 1], ["a", "b"]
    )
    scaled = Scaler(kind).fit(data).transform(data)
    column = frames(scaled)[:, 0]
    assert np.isfinite(column).all()
    np.testing.assert_array_equal(column, 0.0)


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_json_round_trip(toy, kind):
    scaler = Scaler(kind).fit(toy)
    restored = Scaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    assert restored.kind == kind
    x = toy.sequences[0]
    np.testing.assert_array_equal(restored.transform_array(x), scaler.transform_array(x))


def test_misuse_is_reported(toy):
    with pytest.raises(ValueError, match="unknown scaler kind"):
        Scaler("robust")
    with pytest.raises(RuntimeError, match="not fitted"):
        Scaler().transform(toy)
    scaler = Scaler().fit(toy)
    with pytest.raises(DataError, match="fitted on 3 features, data has 2"):
        scaler.transform_array(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="not a saved Scaler"):
        Scaler.from_dict({"kind": "standard"})
