"""Padded batches: each sequence of a batch run with ``lengths`` equals that sequence run alone,
and garbage (even NaN) in the padding changes nothing."""
import pytest
import torch

import rnnkit as rk

LAYERS = {
    "rnn_relu": lambda impl: rk.RNN(3, 5, num_layers=2, nonlinearity="relu", bidirectional=True, impl=impl),
    "lstm": lambda impl: rk.LSTM(3, 5, num_layers=2, bidirectional=True, impl=impl),
    "lstmp_peephole": lambda impl: rk.LSTM(3, 5, num_layers=2, proj_size=2, peephole=True, bidirectional=True, impl=impl),
    "gru": lambda impl: rk.GRU(3, 5, num_layers=2, bidirectional=True, impl=impl),
    "gru_cho": lambda impl: rk.GRU(3, 5, num_layers=2, reset_after=False, bidirectional=True, impl=impl),
}
IMPLS = ["reference", "auto"]
LENGTHS = [7, 3, 5, 1]


def as_tuple(state):
    return tuple(state) if isinstance(state, tuple) else (state,)


def make(name, impl):
    torch.manual_seed(0)
    return LAYERS[name](impl).double()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", LAYERS)
def test_padded_batch_equals_each_sequence_alone(name, impl):
    layer = make(name, impl)
    torch.manual_seed(1)
    x = torch.randn(7, 4, 3, dtype=torch.float64, requires_grad=True)
    out, final = layer(x, lengths=torch.tensor(LENGTHS))
    loss_weights = torch.randn_like(out)
    names, params = zip(*layer.named_parameters())
    for b, length in enumerate(LENGTHS):
        alone_x = x.detach()[:length, b:b + 1].clone().requires_grad_()
        alone_out, alone_final = layer(alone_x)
        torch.testing.assert_close(out[:length, b:b + 1], alone_out)
        assert torch.all(out[length:, b] == 0), "outputs at padded steps must be zero"
        for batched_state, alone_state in zip(as_tuple(final), as_tuple(alone_final)):
            torch.testing.assert_close(batched_state[:, b:b + 1], alone_state)

        # input and parameter gradients: the same per-sequence loss, through the batch and alone
        batch_loss = (out[:length, b] * loss_weights[:length, b]).sum() + sum(s[:, b].pow(2).sum() for s in as_tuple(final))
        x_grad, *batch_grads = torch.autograd.grad(batch_loss, [x, *params], retain_graph=True)
        alone_loss = (alone_out[:, 0] * loss_weights[:length, b]).sum() + sum(s[:, 0].pow(2).sum() for s in as_tuple(alone_final))
        alone_x_grad, *alone_grads = torch.autograd.grad(alone_loss, [alone_x, *params])
        torch.testing.assert_close(x_grad[:length, b:b + 1], alone_x_grad)
        assert torch.all(x_grad[length:, b] == 0), "padding must get no gradient"
        for name, a, expected in zip(names, batch_grads, alone_grads):  # padded steps add nothing to a weight's gradient
            torch.testing.assert_close(a, expected, msg=lambda m, name=name, b=b: f"gradient of {name}, sequence {b}: {m}")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", LAYERS)
def test_nan_in_padding_changes_nothing(name, impl):
    layer = make(name, impl)
    torch.manual_seed(2)
    x = torch.randn(7, 4, 3, dtype=torch.float64)
    lengths = torch.tensor(LENGTHS)
    garbage = x.clone()
    for b, length in enumerate(LENGTHS):
        garbage[length:, b] = float("nan")
    clean_x, dirty_x = x.clone().requires_grad_(), garbage.clone().requires_grad_()
    clean_out, clean_final = layer(clean_x, lengths=lengths)
    dirty_out, dirty_final = layer(dirty_x, lengths=lengths)
    torch.testing.assert_close(dirty_out, clean_out)
    for a, b in zip(as_tuple(dirty_final), as_tuple(clean_final)):
        torch.testing.assert_close(a, b)
    params = list(layer.parameters())
    clean_grads = torch.autograd.grad(clean_out.sum() + sum(s.sum() for s in as_tuple(clean_final)), [clean_x, *params])
    dirty_grads = torch.autograd.grad(dirty_out.sum() + sum(s.sum() for s in as_tuple(dirty_final)), [dirty_x, *params])
    for (param, _), dirty, clean in zip([("input", None), *layer.named_parameters()], dirty_grads, clean_grads):
        torch.testing.assert_close(dirty, clean, msg=param)  # the same gradients as clean padding, NaN nowhere


def test_lengths_on_any_device_and_as_list():
    layer = make("lstm", "reference")
    x = torch.randn(7, 4, 3, dtype=torch.float64)
    out_tensor, _ = layer(x, lengths=torch.tensor(LENGTHS, dtype=torch.int32))
    out_list, _ = layer(x, lengths=LENGTHS)
    torch.testing.assert_close(out_tensor, out_list)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ["lstm", "gru_cho"])
def test_full_lengths_equal_no_lengths(name, impl):
    """Every sequence at full length, in a batch padded by one step of garbage: the masked path runs,
    and gives what the unpadded batch gives without lengths."""
    layer = make(name, impl)
    torch.manual_seed(3)
    x = torch.randn(7, 4, 3, dtype=torch.float64)
    padded = torch.cat([x, 1e3 * torch.randn(1, 4, 3, dtype=torch.float64)])  # (8, 4, 3)
    out, final = layer(padded, lengths=[7] * 4)
    expected_out, expected_final = layer(x)
    torch.testing.assert_close(out[:7], expected_out)
    assert torch.all(out[7] == 0)
    for a, b in zip(as_tuple(final), as_tuple(expected_final)):
        torch.testing.assert_close(a, b)
