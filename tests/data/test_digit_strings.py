"""fsdd-strings: clips joined into digit strings, their labels per string and per frame, and the split."""
import time

import numpy as np
import pytest

from rnnkit.data import DataError, LabelledStrings, load_dataset, load_fsdd_strings, make_digit_strings

from .conftest import make_dataset


@pytest.fixture(scope="module")
def fsdd():
    splits = load_dataset("fsdd-digits")
    train, test = load_fsdd_strings(train_count=300, test_count=100, clips=splits)
    return splits, train, test


def frame_rows(sequences):
    return {row.tobytes() for s in sequences for row in s}


def test_no_test_clip_is_heard_in_training(fsdd):
    # Compared by content, not by clip_ids: every frame of a training string is a frame of a
    # training clip and of no test clip (no frame of FSDD occurs in both splits), and vice versa.
    splits, train, test = fsdd
    train_clip_rows, test_clip_rows = frame_rows(splits.train.sequences), frame_rows(splits.test.sequences)
    assert not train_clip_rows & test_clip_rows
    assert frame_rows(train.sequences) <= train_clip_rows
    assert frame_rows(test.sequences) <= test_clip_rows


def test_strings_are_their_clips_joined_with_a_label_for_every_frame(fsdd):
    splits, train, _ = fsdd
    clips = splits.train
    for x, labels, frames, ids in zip(train.sequences, train.labels, train.frame_labels, train.clip_ids):
        np.testing.assert_array_equal(labels, clips.labels[ids])
        pieces = np.split(np.arange(len(x)), np.cumsum(clips.lengths[ids])[:-1])  # frame indices of each clip
        assert len(pieces) == len(ids) and sum(len(p) for p in pieces) == len(x)
        for clip, piece in zip(ids, pieces):
            np.testing.assert_array_equal(x[piece], clips.sequences[clip])
            assert np.all(frames[piece] == clips.labels[clip])


def test_same_seed_same_strings_and_another_seed_others():
    clips = make_dataset(n=30, seed=1)
    first, again = make_digit_strings(clips, 50, seed=3), make_digit_strings(clips, 50, seed=3)
    other = make_digit_strings(clips, 50, seed=4)
    for a, b in zip(first.sequences + first.frame_labels, again.sequences + again.frame_labels):
        np.testing.assert_array_equal(a, b)
    assert [ids.tolist() for ids in first.clip_ids] == [ids.tolist() for ids in again.clip_ids]
    assert [ids.tolist() for ids in first.clip_ids] != [ids.tolist() for ids in other.clip_ids]


def test_digit_counts_cover_the_bounds():
    strings = make_digit_strings(make_dataset(n=10), 500, min_digits=2, max_digits=4, seed=0)
    counts = {len(labels) for labels in strings.labels}
    assert counts == {2, 3, 4}
    assert strings.num_classes == 3 and strings.num_features == 3 and len(strings) == 500


def test_default_counts_and_the_generator_is_fast(fsdd):
    splits, _, _ = fsdd
    start = time.perf_counter()
    train, test = load_fsdd_strings(clips=splits)
    assert time.perf_counter() - start < 2.0
    assert (len(train), len(test)) == (6000, 1000)
    assert {len(l) for l in train.labels} == set(range(1, 8))
    assert train.class_names == [str(d) for d in range(10)]


def test_subset_and_with_sequences_keep_labels_aligned():
    strings = make_digit_strings(make_dataset(n=10), 6, seed=0)
    part = strings.subset([4, 1])
    np.testing.assert_array_equal(part.frame_labels[0], strings.frame_labels[4])
    np.testing.assert_array_equal(part.sequences[1], strings.sequences[1])
    doubled = part.with_sequences([2 * s for s in part.sequences])
    np.testing.assert_array_equal(doubled.sequences[0], 2 * strings.sequences[4])
    assert doubled.labels is part.labels


def test_inconsistent_strings_are_refused():
    x = [np.zeros((3, 2), np.float32)]
    with pytest.raises(DataError, match="string 0 has 3 frames, 2 frame labels"):
        LabelledStrings(x, [np.array([1])], [np.array([1, 1])], [np.array([0])], ["a", "b"])
    with pytest.raises(ValueError, match="min_digits <= max_digits"):
        make_digit_strings(make_dataset(), 5, min_digits=3, max_digits=2)
