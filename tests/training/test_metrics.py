"""Loss and accuracy over valid targets; evaluate returns predictions for a confusion matrix."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnkit.training import accuracy, count_correct, cross_entropy, evaluate

from .toys import StatefulLSTM


def test_accuracy_counts_only_valid_targets():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]]])  # (1, 3, 2): predicts 0, 1, 0
    y = torch.tensor([[0, 0, -100]])  # the third step is padding
    assert count_correct(logits, y) == (1, 2)
    assert accuracy(logits, y) == 0.5


def test_cross_entropy_ignores_padding_and_serves_both_shapes():
    torch.manual_seed(0)
    logits, y = torch.randn(4, 3), torch.tensor([0, 2, 1, 1])
    torch.testing.assert_close(cross_entropy(logits, y), F.cross_entropy(logits, y))
    steps = torch.randn(2, 3, 4)
    y_steps = torch.tensor([[1, 3, -100], [0, -100, -100]])
    expected = F.cross_entropy(steps[[0, 0, 1], [0, 1, 0]], torch.tensor([1, 3, 0]))
    torch.testing.assert_close(cross_entropy(steps, y_steps), expected)


def test_misaligned_output_is_a_clear_error():
    with pytest.raises(ValueError, match=r"model output of shape \(4, 3\) does not match targets of shape \(4, 5\)"):
        count_correct(torch.randn(4, 3), torch.zeros(4, 5, dtype=torch.long))


def test_evaluate_returns_valid_targets_and_predictions_and_keeps_the_mode():
    torch.manual_seed(0)
    model = StatefulLSTM(2, 8, 3, per_step=True)
    lengths = torch.tensor([4, 2, 3])
    x = torch.randn(3, 4, 2) * (torch.arange(4)[None, :] < lengths[:, None])[..., None]
    y = torch.tensor([[0, 1, 2, 0], [1, 1, -100, -100], [2, 0, 1, -100]])
    whole = evaluate(model, [(x, lengths, y)])
    assert model.training  # put back as found
    assert all(p.grad is None for p in model.parameters())  # under no_grad
    assert whole.y_true.dtype == np.int64 and whole.y_true.tolist() == [0, 1, 2, 0, 1, 1, 2, 0, 1]
    with torch.no_grad():
        logits = model.eval()(x, lengths)
    assert whole.y_pred.tolist() == logits.argmax(-1)[y != -100].tolist()
    assert whole.accuracy == np.mean(whole.y_true == whole.y_pred)

    # Batches of different sizes: weighted by valid targets, the same as one batch.
    split = evaluate(model, [(x[:1], lengths[:1], y[:1]), (x[1:], lengths[1:], y[1:])])
    assert split.loss == pytest.approx(whole.loss, rel=1e-6)
    assert split.accuracy == whole.accuracy
