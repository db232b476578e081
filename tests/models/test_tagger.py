"""SequenceTagger: padding, the frame-target batches and their loss, segments and the tagging metrics."""
import numpy as np
import pytest
import torch

from rnnkit.data import load_dataset, make_digit_strings, scale_splits
from rnnkit.models import (SequenceTagger, TaggerConfig, collate_tagged, frames_to_segments, segment_error_floor,
                           tag, tagger_metrics)
from rnnkit.training import IGNORE_INDEX, TrainConfig, cross_entropy, fit


def make(**settings) -> SequenceTagger:
    torch.manual_seed(0)
    return SequenceTagger(input_size=3, num_classes=4, hidden=[5, 4], dropout=0.0, **settings).double().eval()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_batch_tags_each_sequence_as_alone(cell, bidirectional):
    model = make(cell=cell, bidirectional=bidirectional)
    lengths = torch.tensor([6, 2, 4])
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    x[1, 2:] = float("nan")  # garbage in the padding
    x[2, 4:] = 1e6
    logits = model(x, lengths)
    assert logits.shape == (3, 6, 4)
    predicted = model.predict(x, lengths)
    for b, length in enumerate(lengths.tolist()):
        alone = model(x[b:b + 1, :length], torch.tensor([length]))
        torch.testing.assert_close(logits[b:b + 1, :length], alone)
        np.testing.assert_array_equal(predicted[b], alone[0].argmax(-1).numpy())


def test_collated_targets_mark_padding_and_the_loss_skips_it():
    sequences = [np.random.default_rng(0).normal(size=(t, 3)) for t in (4, 2)]
    batch = collate_tagged(sequences, [np.array([0, 0, 3, 3]), np.array([1, 2])])
    assert batch.y.tolist() == [[0, 0, 3, 3], [1, 2, IGNORE_INDEX, IGNORE_INDEX]]
    logits = torch.randn(2, 4, 4)
    valid = [logits[0, t].log_softmax(-1)[c] for t, c in enumerate([0, 0, 3, 3])]
    valid += [logits[1, t].log_softmax(-1)[c] for t, c in enumerate([1, 2])]
    torch.testing.assert_close(cross_entropy(logits, batch.y), -torch.stack(valid).mean())  # mean over 6 frames
    with pytest.raises(ValueError, match="sequence 1 has 2 frames but 3 frame labels"):
        collate_tagged(sequences, [np.zeros(4), np.zeros(3)])


def test_tag_keeps_input_order_and_matches_predict():
    model = make()
    sequences = [np.random.default_rng(i).normal(size=(t, 3)) for i, t in enumerate([5, 1, 3, 2])]
    tags = tag(model, sequences, batch_size=3)
    for s, frames in zip(sequences, tags):
        expected = model.predict(torch.as_tensor(s)[None], torch.tensor([len(s)]))[0]
        np.testing.assert_array_equal(frames, expected)


def test_frames_to_segments_by_hand():
    assert frames_to_segments([0, 0, 3, 3, 3, 0]) == [(0, 0, 2), (3, 2, 5), (0, 5, 6)]
    assert frames_to_segments(np.array([7])) == [(7, 0, 1)]
    assert frames_to_segments([]) == []


def test_short_runs_are_dropped_and_their_neighbours_join():
    frames = [4, 4, 4, 1, 4, 4, 2, 2, 2, 0]
    assert frames_to_segments(frames, min_run=2) == [(4, 0, 6), (2, 6, 9)]
    assert frames_to_segments(frames, min_run=4) == []
    labels, reference = [[4, 2]], [np.array([4] * 6 + [2] * 4)]
    assert tagger_metrics(labels, reference, [np.array(frames)])["segment_error_rate"] == 1.5  # 4 1 4 2 0: 3 insertions
    assert tagger_metrics(labels, reference, [np.array(frames)], min_run=2)["segment_error_rate"] == 0.0


def test_tagger_metrics_by_hand():
    labels = [[1, 2], [3, 3]]  # the second string says "3 3"
    frames = [np.array([1, 1, 2, 2]), np.array([3, 3, 3])]
    predicted = [np.array([1, 2, 2, 2]), np.array([3, 3, 3])]
    metrics = tagger_metrics(labels, frames, predicted)
    assert metrics["frame_accuracy"] == pytest.approx(6 / 7)
    assert metrics["segment_error_rate"] == pytest.approx(1 / 4)  # "3 3" read as one "3"
    assert segment_error_floor(labels, frames) == pytest.approx(1 / 4)
    with pytest.raises(ValueError, match="a sequence of 4 frames got 3 predictions"):
        tagger_metrics(labels, frames, [np.zeros(3), np.zeros(3)])


def test_a_few_seconds_of_fit_tag_spoken_digit_frames_far_better_than_chance():
    # The tagger trains with the training layer's own loop and loss; chance frame accuracy is 0.1.
    splits, _ = scale_splits(load_dataset("fsdd-digits"))
    train = make_digit_strings(splits.train, 200, max_digits=3, seed=0)
    test = make_digit_strings(splits.test, 100, max_digits=3, seed=1)
    torch.manual_seed(0)
    model = SequenceTagger(input_size=13, num_classes=10, cell="gru", hidden=[32], dropout=0.0)
    batches = [collate_tagged([train.sequences[i] for i in index], [train.frame_labels[i] for i in index])
               for index in np.array_split(np.arange(len(train)), 25)]
    fit(model, batches, TrainConfig(epochs=6, lr=2e-2), progress=False)
    metrics = tagger_metrics(test.labels, test.frame_labels, tag(model, test.sequences), min_run=4)
    assert metrics["frame_accuracy"] > 0.6 and metrics["segment_error_rate"] < 0.5


def test_config_round_trip():
    config = TaggerConfig(input_size=13, num_classes=10, hidden=[16], cell="lstm", peephole=True)
    assert TaggerConfig.from_dict(config.to_dict()) == config
    assert SequenceTagger(config).encoder.head.out_features == 10
