"""Batches that continue each other (a language model's text streams): the state runs on, detached,
and the per-batch cosine schedule ends at min_lr."""
import math

import numpy as np
import pytest
import torch

from rnnkit.data import stream_batches
from rnnkit.models import CharLM
from rnnkit.training import TrainConfig, evaluate, fit

V = 9


class Recording(torch.nn.Module):
    """A CharLM that remembers the state it was given and the state it returned, per call."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lm = CharLM(vocab_size=V, hidden=[8], embedding=4)
        self.given, self.returned = [], []

    def forward(self, x, lengths=None, state=None, return_state=False):
        self.given.append(state)
        logits, new_state = self.lm(x, lengths, state=state, return_state=True)
        self.returned.append(new_state)
        return (logits, new_state) if return_state else logits


def corpus(n=401, seed=0):
    return np.random.default_rng(seed).integers(0, V, n)


def test_each_window_starts_from_the_detached_final_state_of_the_one_before():
    model = Recording()
    batches = stream_batches(corpus(), batch_size=4, window=25)  # 4 windows per epoch
    fit(model, lambda epoch: batches, TrainConfig(epochs=2, lr=1e-2, carry_state=True, lr_schedule="none"),
        progress=False)
    assert len(model.given) == 8
    for epoch in range(2):
        first = epoch * 4
        assert model.given[first] is None, "every epoch starts from zeros"
        for k in range(first + 1, first + 4):
            (h_in, c_in), (h_out, c_out) = model.given[k][0], model.returned[k - 1][0]
            assert not h_in.requires_grad and not c_in.requires_grad, "detached: the gradient stops at the window"
            torch.testing.assert_close(h_in, h_out.detach())
            torch.testing.assert_close(c_in, c_out.detach())


def test_carried_evaluation_equals_one_pass_over_each_stream():
    torch.manual_seed(0)
    model = CharLM(vocab_size=V, hidden=[8], embedding=4).double()
    ids = corpus()
    windows = stream_batches(ids, batch_size=4, window=7)
    (x, lengths, y), = stream_batches(ids, batch_size=4, window=10_000)  # every stream in one window
    whole = torch.nn.functional.cross_entropy(model(x).reshape(-1, V), y.reshape(-1)).item()
    assert evaluate(model, windows, carry_state=True).loss == pytest.approx(whole, rel=1e-12)
    assert evaluate(model, windows).loss != pytest.approx(whole, rel=1e-6), "without the state the windows differ"


def test_per_batch_cosine_anneals_every_step_down_to_min_lr(monkeypatch):
    model = CharLM(vocab_size=V, hidden=[4], embedding=2)
    batches = stream_batches(corpus(), batch_size=2, window=50)  # 4 batches per epoch
    rates = []

    class Spy(torch.optim.Adam):
        def step(self, closure=None):
            rates.append(self.param_groups[0]["lr"])
            return super().step(closure)

    config = TrainConfig(epochs=3, lr=0.01, min_lr=0.001, lr_schedule="cosine", lr_per_batch=True, carry_state=True)
    monkeypatch.setattr("rnnkit.training._fit.make_optimizer", lambda cfg, params: Spy(params, lr=cfg.lr))
    fit(model, lambda epoch: batches, config, progress=False)
    expected = [0.001 + 0.009 * 0.5 * (1 + math.cos(math.pi * t / 12)) for t in range(12)]
    assert rates == pytest.approx(expected)  # a new rate at every batch, not held for a whole epoch


def test_carry_state_and_tbptt_cannot_both_be_set():
    with pytest.raises(ValueError, match="two forms of truncated BPTT"):
        TrainConfig(carry_state=True, tbptt=10)
    with pytest.raises(ValueError, match="lr_per_batch"):
        TrainConfig(lr_per_batch=True, lr_schedule="plateau")
