"""CharLM: streaming equals the whole sequence, truncated BPTT equals full BPTT over one window,
sampling limits equal greedy decoding, and padded names score as if alone."""
import pytest
import torch

from rnnkit.cells import LSTMState
from rnnkit.models import CharLM, generate, next_token
from rnnkit.training import bptt_step, cross_entropy, tbptt_step

V = 11  # vocabulary size of the toy models

VARIANTS = [
    dict(cell="lstm", hidden=[12, 9]),
    dict(cell="lstm", hidden=[12], peephole=True, proj_size=5),
    dict(cell="lstm", hidden=[10], layer_norm=True),
    dict(cell="gru", hidden=[12, 8]),
    dict(cell="gru", hidden=[12], reset_after=False),
    dict(cell="rnn", hidden=[12, 12]),
]


def toy(seed=0, **settings):
    torch.manual_seed(seed)
    return CharLM(vocab_size=V, embedding=6, **settings).double().eval()


def text(B=3, T=17, seed=1):
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("settings", VARIANTS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_step_by_step_gives_the_logits_of_the_whole_sequence(settings):
    model, x = toy(**settings), text()
    whole = model(x)  # (B, T, V)
    state = model.init_state(x.shape[0])
    for t in range(x.shape[1]):
        logits, state = model.step(x[:, t], state)
        torch.testing.assert_close(logits, whole[:, t], rtol=1e-10, atol=1e-10)


def test_init_state_is_the_zero_state_the_layers_start_from():
    model, x = toy(cell="lstm", hidden=[12], proj_size=4), text()
    state = model.init_state(3)
    assert isinstance(state[0], LSTMState) and state[0].h.shape == (1, 3, 4) and state[0].c.shape == (1, 3, 12)
    torch.testing.assert_close(model(x, state=state), model(x))


def _gradients(model):
    return {name: p.grad.clone() for name, p in model.named_parameters()}


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_truncated_bptt_with_one_window_over_the_sequence_is_full_bptt(cell):
    x, y = text(), text(seed=2)
    lengths = torch.full((3,), x.shape[1])
    full, truncated = toy(cell=cell, hidden=[8, 8]), toy(cell=cell, hidden=[8, 8])
    bptt_step(full, x, lengths, y, cross_entropy)
    tbptt_step(truncated, x, lengths, y, cross_entropy, window=x.shape[1])
    for name, grad in _gradients(full).items():
        torch.testing.assert_close(_gradients(truncated)[name], grad, rtol=1e-10, atol=1e-12, msg=name)


def test_shorter_windows_carry_the_state_and_cut_only_the_gradient():
    """Windows of 5: the forward pass equals the whole sequence's, the gradient differs (it is truncated)."""
    x, y = text(), text(seed=2)
    lengths = torch.full((3,), x.shape[1])
    model = toy(cell="lstm", hidden=[8])
    whole = model(x)
    pieces, state = [], None
    for t0 in range(0, x.shape[1], 5):
        logits, state = model(x[:, t0:t0 + 5], state=state, return_state=True)
        pieces.append(logits)
    torch.testing.assert_close(torch.cat(pieces, dim=1), whole, rtol=1e-10, atol=1e-12)

    full, truncated = toy(cell="lstm", hidden=[8]), toy(cell="lstm", hidden=[8])
    full_stats = bptt_step(full, x, lengths, y, cross_entropy)
    truncated_stats = tbptt_step(truncated, x, lengths, y, cross_entropy, window=5)
    assert truncated_stats.loss == pytest.approx(full_stats.loss, rel=1e-10)  # same forward, same loss
    assert not torch.allclose(truncated.stack.layers[0].weight_hh_l0.grad, full.stack.layers[0].weight_hh_l0.grad)


def _greedy_by_brute_force(model, prime, length):
    """Arg-max of the last step, recomputing the whole sequence from scratch each time (no state kept)."""
    sequence = list(prime)
    for _ in range(length):
        sequence.append(int(model(torch.tensor([sequence]))[0, -1].argmax()))
    return sequence[len(prime):]


def test_temperature_zero_and_top_k_one_are_greedy_decoding():
    model = toy(cell="lstm", hidden=[16])
    expected = _greedy_by_brute_force(model, [1, 2, 3], 12)
    assert list(generate(model, [1, 2, 3], 12, temperature=0)) == expected
    assert list(generate(model, [1, 2, 3], 12, top_k=1, seed=5)) == expected
    assert list(generate(model, [1, 2, 3], 12, temperature=1e-4, seed=5)) == expected  # the limit τ -> 0


def test_a_seed_reproduces_a_sample_and_another_seed_changes_it():
    model = toy(cell="gru", hidden=[16])
    first = list(generate(model, [4], 40, seed=7))
    assert list(generate(model, [4], 40, seed=7)) == first
    assert list(generate(model, [4], 40, seed=8)) != first


def test_top_k_draws_only_among_the_k_most_likely():
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.0, -1.0]]).repeat(2000, 1)  # (B, V)
    drawn = next_token(logits, temperature=5.0, top_k=2, generator=torch.Generator().manual_seed(0))
    assert set(drawn.tolist()) == {1, 3}


def test_generation_stops_after_the_stop_symbol():
    model = toy(cell="lstm", hidden=[16])
    greedy = list(generate(model, [1], 30, temperature=0))
    stop = greedy[4]
    assert list(generate(model, [1], 30, temperature=0, stop=stop)) == greedy[:greedy.index(stop) + 1]


def test_a_padded_batch_of_names_scores_each_as_if_alone():
    model = toy(cell="lstm", hidden=[8, 8])
    names = [torch.tensor([1, 2, 3, 4, 5, 6]), torch.tensor([7, 8]), torch.tensor([9, 1, 2])]
    x = torch.nn.utils.rnn.pad_sequence(names, batch_first=True, padding_value=10)  # garbage in the padding
    padded = model(x, torch.tensor([6, 2, 3]))
    for row, name in enumerate(names):
        torch.testing.assert_close(padded[row, :len(name)], model(name[None])[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bad, message", [
    (dict(temperature=-1.0), "temperature must be >= 0"),
    (dict(top_k=0), "top_k must be >= 1"),
    (dict(length=0), "length must be at least 1"),
])
def test_bad_sampling_settings_are_clear_errors(bad, message):
    settings = dict(length=5) | bad
    with pytest.raises(ValueError, match=message):
        list(generate(toy(cell="rnn", hidden=[4]), [1], **settings))


def test_float_input_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="character ids"):
        toy(cell="rnn", hidden=[4])(torch.randn(2, 3, 6))
