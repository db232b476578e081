"""CTC model and loss: the loss against a brute-force sum over alignments, its gradients, padding,
the label <-> output shift, and a short real training run."""
import itertools
import math

import numpy as np
import pytest
import torch

from rnnkit.data import load_dataset, scale_splits
from rnnkit.data._digit_strings import make_digit_strings
from rnnkit.models import CTCConfig, CTCModel, collate_ctc, ctc_loss, ctc_metrics, min_frames, transcribe

from .test_ctc_decode import collapse


def brute_force_nll(log_probs, target):
    """-log Σ over every path (K^T of them) that collapses to `target` of Π_t y_t[π_t]."""
    T, K = log_probs.shape
    total = sum(math.exp(sum(log_probs[t, k].item() for t, k in enumerate(path)))
                for path in itertools.product(range(K), repeat=T) if collapse(path) == tuple(target))
    return -math.log(total)


# (frames, output-index target): a repeat needing a blank, a target that fills every frame, an empty one
CASES = [(5, [1, 1]), (3, [2, 1, 2]), (4, [2]), (2, [])]


def padded_case(seed=0, K=3):
    torch.manual_seed(seed)
    lengths = torch.tensor([t for t, _ in CASES])
    logits = torch.randn(len(CASES), int(lengths.max()), K, dtype=torch.float64)  # (B, T, K)
    targets = torch.zeros(len(CASES), 3, dtype=torch.int64)
    for b, (_, target) in enumerate(CASES):
        targets[b, :len(target)] = torch.tensor(target, dtype=torch.int64)
    return logits, lengths, targets, torch.tensor([len(t) for _, t in CASES])


def test_ctc_loss_equals_the_brute_force_sum_over_alignments():
    logits, lengths, targets, target_lengths = padded_case()
    log_probs = logits.log_softmax(-1)
    expected = [brute_force_nll(log_probs[b, :t], target) for b, (t, target) in enumerate(CASES)]
    assert ctc_loss(log_probs, lengths, targets, target_lengths).item() == pytest.approx(np.mean(expected), rel=1e-10)
    for b in range(len(CASES)):  # and each alone, so no two errors cancel in the mean
        alone = ctc_loss(log_probs[b:b + 1], lengths[b:b + 1], targets[b:b + 1], target_lengths[b:b + 1])
        assert alone.item() == pytest.approx(expected[b], rel=1e-10)


def test_ctc_loss_gradients_by_gradcheck():
    logits, lengths, targets, target_lengths = padded_case(seed=1)
    logits.requires_grad_(True)
    # through the log-softmax, as CTCModel computes it: torch's ctc_loss backward assumes it is there
    loss = lambda z: ctc_loss(z.log_softmax(-1), lengths, targets, target_lengths)  # noqa: E731
    assert torch.autograd.gradcheck(loss, (logits,))
    loss(logits).backward()
    assert torch.all(logits.grad[3, 2:] == 0)  # padded frames get no gradient


def test_collate_shifts_labels_past_the_blank_and_refuses_impossible_targets():
    sequences = [np.zeros((4, 2), np.float32), np.ones((2, 2), np.float32)]
    batch = collate_ctc(sequences, [np.array([0, 0, 9]), np.array([3])])
    assert batch.targets.tolist() == [[1, 1, 10], [4, 0, 0]]
    assert batch.target_lengths.tolist() == [3, 1] and batch.lengths.tolist() == [4, 2]
    assert min_frames([0, 0, 9]) == 4 and min_frames([1, 2, 1]) == 3
    with pytest.raises(ValueError, match="sequence 0 has 4 frames, too few for its 3 labels"):
        collate_ctc(sequences, [[5, 5, 5], [3]])  # needs 5 frames


def make(**settings) -> CTCModel:
    torch.manual_seed(0)
    return CTCModel(input_size=3, num_classes=4, hidden=[5, 4], dropout=0.0, **settings).double().eval()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_batch_gives_each_sequence_its_output_alone(cell, bidirectional):
    model = make(cell=cell, bidirectional=bidirectional)
    lengths = torch.tensor([6, 2, 4])
    x = torch.randn(3, 6, 3, dtype=torch.float64)
    x[1, 2:] = float("nan")  # garbage in the padding
    x[2, 4:] = 1e6
    log_probs = model(x, lengths)
    assert log_probs.shape == (3, 6, 5)
    targets, target_lengths = torch.tensor([[1, 2], [3, 0], [4, 4]]), torch.tensor([2, 1, 2])
    for b, length in enumerate(lengths.tolist()):
        alone = model(x[b:b + 1, :length], torch.tensor([length]))
        torch.testing.assert_close(log_probs[b:b + 1, :length], alone)
        loss_alone = ctc_loss(alone, torch.tensor([length]), targets[b:b + 1], target_lengths[b:b + 1])
        torch.testing.assert_close(ctc_loss(log_probs[b:b + 1], lengths[b:b + 1], targets[b:b + 1],
                                            target_lengths[b:b + 1]), loss_alone)
    assert model.decode(x, lengths, beam=4)[1] == model.decode(x[1:2, :2], torch.tensor([2]), beam=4)[0]


def test_decode_and_transcribe_give_class_indices_in_input_order():
    model = make()
    with torch.no_grad():  # every frame says output 3, i.e. class 2, so each sequence reads [2]
        model.encoder.head.weight.zero_()
        model.encoder.head.bias.copy_(torch.tensor([0.0, 0, 0, 5, 0]))
    sequences = [np.random.default_rng(i).normal(size=(t, 3)) for i, t in enumerate([5, 1, 3])]
    assert transcribe(model, sequences, batch_size=2) == [[2], [2], [2]]
    assert transcribe(model, sequences, beam=3) == [[2], [2], [2]]
    model.train()
    model.decode(torch.randn(1, 2, 3, dtype=torch.float64), torch.tensor([2]))
    assert model.training  # decode put the mode back


def test_ctc_metrics_by_hand():
    metrics = ctc_metrics([[1, 2, 3], [4]], [[1, 3], [4]])
    assert metrics == {"label_error_rate": 0.25, "string_accuracy": 0.5}


def test_config_round_trip_and_errors():
    config = CTCConfig(input_size=13, num_classes=10, cell="gru", hidden=[32, 16])
    assert CTCConfig.from_dict(config.to_dict()) == config and config.bidirectional
    assert CTCModel(config).encoder.head.out_features == 11  # the labels and the blank
    with pytest.raises(ValueError, match="cell must be one of"):
        CTCConfig(input_size=13, num_classes=10, cell="transformer")
    with pytest.raises(ValueError, match=r"hidden='\[32\]': expected"):
        CTCConfig(input_size=13, num_classes=10, hidden="[32]")
    with pytest.raises(ValueError, match=r"unknown model setting\(s\) \['blank'\]"):
        CTCConfig.from_dict({"input_size": 13, "num_classes": 10, "blank": 0})


def test_a_few_seconds_of_training_reads_spoken_digit_strings_far_better_than_chance():
    # Guessing digits at random, even with the right count, gives a label error rate of 0.9.
    splits, _ = scale_splits(load_dataset("fsdd-digits"))
    train = make_digit_strings(splits.train, 200, max_digits=3, seed=0)
    test = make_digit_strings(splits.test, 100, max_digits=3, seed=1)
    torch.manual_seed(0)
    model = CTCModel(input_size=13, num_classes=10, cell="gru", hidden=[32], dropout=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    rng = np.random.default_rng(0)
    for _ in range(15):
        for index in np.array_split(rng.permutation(len(train)), len(train) // 8):
            batch = collate_ctc([train.sequences[i] for i in index], [train.labels[i] for i in index])
            loss = model.loss(model(batch.x, batch.lengths), batch.lengths, batch.targets, batch.target_lengths)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    metrics = ctc_metrics(test.labels, transcribe(model, test.sequences))
    assert metrics["label_error_rate"] < 0.35 and metrics["string_accuracy"] > 0.4
