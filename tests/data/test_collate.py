"""Padding into batch-first tensors, and iterating over batches."""

import numpy as np
import pytest
import torch

from rnnkit.data import Batch, batch_indices, batches, collate

from .conftest import make_dataset


def test_collate_pads_with_zeros_and_reports_lengths():
    sequences = [np.full((2, 3), 1.0), np.full((4, 3), 2.0), np.full((1, 3), 3.0)]
    x, lengths, labels = collate(sequences, [2, 0, 1])
    assert x.shape == (3, 4, 3) and x.dtype == torch.float32
    assert lengths.tolist() == [2, 4, 1] and lengths.dtype == torch.int64
    assert labels.tolist() == [2, 0, 1] and labels.dtype == torch.int64
    for i, s in enumerate(sequences):
        torch.testing.assert_close(x[i, : len(s)], torch.from_numpy(s).float())
        assert (x[i, len(s) :] == 0).all()


def test_collate_without_labels():
    batch = collate([np.ones((2, 1))])
    assert batch.labels is None
    assert isinstance(batch.to("cpu"), Batch)


def test_collate_needs_a_sequence():
    with pytest.raises(ValueError):
        collate([])


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("bucket", [False, True])
def test_batches_visit_every_sample_once(shuffle, bucket):
    data = make_dataset(n=23)
    seen = np.concatenate(list(batch_indices(data.lengths, 5, shuffle=shuffle, seed=0,
                                             bucket=bucket)))
    assert sorted(seen.tolist()) == list(range(23))
    sizes = [len(b.labels) for b in batches(data, 5, shuffle=shuffle, seed=0, bucket=bucket)]
    assert sorted(sizes) == [3, 5, 5, 5, 5]


def test_batches_follow_the_data_order_without_shuffle():
    data = make_dataset(n=7)
    first = next(batches(data, 4))
    assert first.labels.tolist() == data.labels[:4].tolist()
    torch.testing.assert_close(first.x[1, : data.lengths[1]], torch.from_numpy(data.sequences[1]))


def test_shuffle_is_reproducible_and_a_generator_changes_order_per_epoch():
    lengths = np.arange(1, 41)
    order = lambda seed: np.concatenate(list(batch_indices(lengths, 8, shuffle=True, seed=seed)))  # noqa: E731
    np.testing.assert_array_equal(order(3), order(3))
    rng = np.random.default_rng(3)
    epoch_1, epoch_2 = order(rng), order(rng)
    assert not np.array_equal(epoch_1, epoch_2)
    np.testing.assert_array_equal(epoch_1, order(3))


def test_drop_last():
    assert [len(b) for b in batch_indices(np.ones(10), 4, drop_last=True)] == [4, 4]


def test_bucketing_cuts_padding():
    data = make_dataset(n=200, max_length=50)

    def padded_steps(**options):
        return sum(b.x.shape[0] * b.x.shape[1] for b in batches(data, 10, seed=0, **options))

    assert padded_steps(bucket=True) < 0.8 * padded_steps()
    assert padded_steps(shuffle=True, bucket=True) < 0.8 * padded_steps(shuffle=True)
