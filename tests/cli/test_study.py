"""The run pipeline behind ``train`` and ``compare``: data preparation without leakage."""
import numpy as np

from rnnkit import data
from rnnkit.cli import DataConfig, prepare_data


def test_scaler_sees_only_the_fitting_split(stroke_folder):
    prepared = prepare_data(DataConfig(source=str(stroke_folder), scaling="standard", validation_fraction=0.2))
    frames = np.concatenate(prepared.train.sequences)  # scaled with the training statistics
    np.testing.assert_allclose(frames.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(frames.std(axis=0), 1, atol=1e-4)
    for part in (prepared.validation, prepared.test):  # other statistics: not exactly standardised
        assert not np.allclose(np.concatenate(part.sequences).mean(axis=0), 0, atol=1e-5)


def test_split_is_stratified_and_repeatable(stroke_folder):
    first = prepare_data(DataConfig(source=str(stroke_folder), seed=3))
    again = prepare_data(DataConfig(source=str(stroke_folder), seed=3))
    for a, b in zip(first.test.sequences, again.test.sequences):
        np.testing.assert_array_equal(a, b)
    assert set(first.test.labels.tolist()) == {0, 1, 2}
    assert len(first.train) + len(first.validation) + len(first.test) == 72


def test_unscaled_data_is_untouched(stroke_folder):
    raw = data.load(str(stroke_folder), test_fraction=0.3, seed=0)
    prepared = prepare_data(DataConfig(source=str(stroke_folder), scaling="none", validation_fraction=0))
    np.testing.assert_array_equal(np.concatenate(prepared.test.sequences), np.concatenate(raw.test.sequences))
