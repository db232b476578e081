"""Truncated BPTT: a window covering the sequence is full BPTT; a shorter one cuts the gradient."""

from typing import NamedTuple

import pytest
import torch

from rnnkit.training import (
    TrainConfig,
    bptt_step,
    cross_entropy,
    detach_state,
    fit,
    tbptt_step,
)

from .toys import StatefulLSTM

B, T, F, C = 5, 12, 2, 3  # batch, time, features, classes


def tagger_batch(seed=0, lengths=(12, 9, 5, 1, 11)):
    """Per-step targets (B, T) with -100 after each sequence's end, zero-padded inputs."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    valid = torch.arange(T)[None, :] < lengths[:, None]  # (B, T)
    x = torch.randn(B, T, F, generator=g) * valid[..., None]  # (B, T, F)
    y = torch.randint(0, C, (B, T), generator=g).masked_fill(~valid, -100)  # (B, T)
    return x, lengths, y


def classifier_batch(seed=0, lengths=(12, 9, 5, 1, 11)):
    x, lengths, _ = tagger_batch(seed, lengths)
    y = torch.arange(B) % C  # (B,)
    return x, lengths, y


def model(per_step, seed=0):
    torch.manual_seed(seed)
    return StatefulLSTM(F, 8, C, per_step=per_step).double()


def grads(net):
    return {name: p.grad.clone() for name, p in net.named_parameters()}


@pytest.mark.parametrize("per_step", [True, False])
@pytest.mark.parametrize("window", [T, 50])
def test_window_covering_the_sequence_is_exactly_full_bptt(per_step, window):
    x, lengths, y = tagger_batch() if per_step else classifier_batch()
    x = x.double()
    full, truncated = model(per_step), model(per_step)
    full_stats = bptt_step(full, x, lengths, y, cross_entropy)
    stats = tbptt_step(truncated, x, lengths, y, cross_entropy, window)
    assert stats == full_stats
    for name, g in grads(full).items():
        torch.testing.assert_close(grads(truncated)[name], g, rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("per_step", [True, False])
@pytest.mark.parametrize("window", [1, 4, 5])
def test_short_windows_carry_the_state_so_the_loss_is_unchanged(per_step, window):
    # Detaching changes gradients, never values: same loss and accuracy as over the whole
    # sequence, including the sequences that end inside an early window (lengths 1, 5, 9).
    x, lengths, y = tagger_batch() if per_step else classifier_batch()
    x = x.double()
    full_stats = bptt_step(model(per_step), x, lengths, y, cross_entropy)
    stats = tbptt_step(model(per_step), x, lengths, y, cross_entropy, window)
    assert stats.loss == pytest.approx(full_stats.loss, rel=1e-12)
    assert (stats.correct, stats.valid) == (full_stats.correct, full_stats.valid)


@pytest.mark.parametrize("per_step", [True, False])
def test_no_gradient_reaches_earlier_windows_from_the_last_windows_loss(per_step):
    # All sequences full length, windows of 4 over 12 steps. A classifier's loss sits in the
    # last window only; for the tagger, keep only the last window's targets.
    x, lengths, y = tagger_batch(lengths=(T,) * B) if per_step else classifier_batch(lengths=(T,) * B)
    if per_step:
        y[:, :8] = -100
    x = x.double()

    x_full = x.clone().requires_grad_(True)
    bptt_step(model(per_step), x_full, lengths, y, cross_entropy)
    assert x_full.grad[:, :4].abs().sum() > 0  # full BPTT: the first window's inputs matter

    x_cut = x.clone().requires_grad_(True)
    tbptt_step(model(per_step), x_cut, lengths, y, cross_entropy, window=4)
    assert torch.equal(x_cut.grad[:, :8], torch.zeros_like(x_cut.grad[:, :8]))  # truncated
    assert x_cut.grad[:, 8:].abs().sum() > 0
    torch.testing.assert_close(x_cut.grad[:, 8:], x_full.grad[:, 8:])  # inside the window: exact


def test_fit_with_a_covering_window_repeats_full_bptt_history():
    x, lengths, y = tagger_batch()
    data = [(x, lengths, y), tagger_batch(seed=1)]
    config = TrainConfig(epochs=3, lr=1e-2)
    plain = fit(model(True).float(), data, config, progress=False).history
    windowed = fit(model(True).float(), data, TrainConfig(epochs=3, lr=1e-2, tbptt=T), progress=False).history
    assert without_seconds(windowed) == without_seconds(plain)


def without_seconds(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def test_fit_with_short_windows_trains_a_tagger():
    # Target at each step: the sign of the current input; learnable inside any window.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 40, F, generator=g)
    y = (x[..., 0] > 0).long()
    lengths = torch.full((64,), 40)
    data = [(x[i:i + 16], lengths[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    result = fit(model(True).float(), data, TrainConfig(epochs=8, lr=3e-2, tbptt=8), progress=False)
    assert result.history[-1]["train_accuracy"] > 0.9


class State(NamedTuple):
    h: torch.Tensor
    c: torch.Tensor


def test_detach_state_keeps_the_structure():
    a = torch.ones(2, requires_grad=True) * 2
    state = {"lstm": State(a, a), "gru": [a, (a, None)]}
    out = detach_state(state)
    assert isinstance(out["lstm"], State) and isinstance(out["gru"], list)
    assert not out["lstm"].h.requires_grad and not out["gru"][1][0].requires_grad
    assert out["gru"][1][1] is None
    with pytest.raises(TypeError, match="str"):
        detach_state("h")


def test_batch_without_valid_targets_is_a_clear_error():
    x, lengths, y = tagger_batch()
    with pytest.raises(ValueError, match="no valid target"):
        tbptt_step(model(True), x.double(), lengths, torch.full_like(y, -100), cross_entropy, 4)
