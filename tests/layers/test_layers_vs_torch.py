"""Every layer against torch.nn with copied weights: outputs, final states and all gradients.

The weights are loaded with ``load_state_dict(strict=True)`` from the torch module, so the
parameter names and shapes are torch's. Both the reference implementation and ``impl="auto"``
(which hands native configurations to torch's fused kernel) are checked.
"""
import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnkit as rk

from .conftest import TOLERANCE

VARIANTS = {
    "rnn_tanh": (rk.RNN, torch.nn.RNN, dict(nonlinearity="tanh")),
    "rnn_relu": (rk.RNN, torch.nn.RNN, dict(nonlinearity="relu")),
    "lstm": (rk.LSTM, torch.nn.LSTM, {}),
    "lstmp": (rk.LSTM, torch.nn.LSTM, dict(proj_size=3)),
    "gru": (rk.GRU, torch.nn.GRU, {}),
}
T, B, I, H = 6, 4, 5, 7
LENGTHS = [6, 2, 4, 1]


def make_pair(variant, num_layers, bidirectional, batch_first, dtype, impl):
    ours_class, torch_class, options = VARIANTS[variant]
    torch.manual_seed(0)
    theirs = torch_class(I, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
                         dtype=dtype, **options)
    ours = ours_class(I, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
                      dtype=dtype, impl=impl, **options)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return ours, theirs


def initial_state(module, dtype):
    layers = module.num_layers * (2 if module.bidirectional else 1)
    h_size = getattr(module, "proj_size", 0) or module.hidden_size
    h0 = torch.randn(layers, B, h_size, dtype=dtype, requires_grad=True)
    if isinstance(module, (torch.nn.LSTM, rk.LSTM)):
        return h0, torch.randn(layers, B, module.hidden_size, dtype=dtype, requires_grad=True)
    return h0


def as_tuple(state):
    return tuple(state) if isinstance(state, tuple) else (state,)


def loss_of(output, state):
    """A loss that weights every element differently, so any misplaced value changes a gradient."""
    weights = torch.linspace(0.5, 1.5, output.numel(), dtype=output.dtype).reshape(output.shape)
    return (output * weights).sum() + sum(s.pow(2).sum() for s in as_tuple(state))


def check_gradients(ours, theirs, inputs_ours, inputs_theirs, tol):
    for a, b in zip(inputs_ours, inputs_theirs):
        torch.testing.assert_close(a.grad, b.grad, **tol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, theirs_params[name].grad, **tol, msg=lambda m: f"grad of {name}: {m}")


GRID = list(itertools.product(VARIANTS, [1, 3], [False, True], [False, True], [False, True]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("impl", ["reference", "auto"])
@pytest.mark.parametrize("variant,num_layers,bidirectional,batch_first,with_lengths", GRID,
                         ids=[f"{v}-L{n}-{'bi' if b else 'uni'}-{'bf' if f else 'tf'}-{'len' if m else 'full'}"
                              for v, n, b, f, m in GRID])
def test_layer_matches_torch(variant, num_layers, bidirectional, batch_first, with_lengths, impl, dtype):
    ours, theirs = make_pair(variant, num_layers, bidirectional, batch_first, dtype, impl)
    shape = (B, T, I) if batch_first else (T, B, I)
    x = torch.randn(shape, dtype=dtype)
    state = initial_state(theirs, dtype)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    s1 = tuple(s.detach().clone().requires_grad_() for s in as_tuple(state))
    s2 = tuple(s.detach().clone().requires_grad_() for s in as_tuple(state))
    hx1, hx2 = (s1 if len(s1) == 2 else s1[0]), (s2 if len(s2) == 2 else s2[0])

    if with_lengths:
        lengths = torch.tensor(LENGTHS)
        out1, final1 = ours(x1, hx1, lengths=lengths)
        packed = pack_padded_sequence(x2, lengths, batch_first=batch_first, enforce_sorted=False)
        out2, final2 = theirs(packed, hx2)
        out2, _ = pad_packed_sequence(out2, batch_first=batch_first, total_length=T)
    else:
        out1, final1 = ours(x1, hx1)
        out2, final2 = theirs(x2, hx2)

    tol = TOLERANCE[dtype]
    torch.testing.assert_close(out1, out2, **tol)
    for a, b in zip(as_tuple(final1), as_tuple(final2)):
        torch.testing.assert_close(a, b, **tol)
    loss_of(out1, final1).backward()
    loss_of(out2, final2).backward()
    check_gradients(ours, theirs, (x1, *s1), (x2, *s2), tol)


@pytest.mark.parametrize("impl", ["reference", "auto"])
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_sequence_in_packed_sequence_out(variant, bidirectional, impl):
    dtype = torch.float64
    ours, theirs = make_pair(variant, 2, bidirectional, False, dtype, impl)
    x = torch.randn(T, B, I, dtype=dtype)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    lengths = torch.tensor(LENGTHS)
    out1, final1 = ours(pack_padded_sequence(x1, lengths, enforce_sorted=False))
    out2, final2 = theirs(pack_padded_sequence(x2, lengths, enforce_sorted=False))
    assert isinstance(out1, torch.nn.utils.rnn.PackedSequence)
    torch.testing.assert_close(out1.batch_sizes, out2.batch_sizes)
    torch.testing.assert_close(out1.sorted_indices, out2.sorted_indices)
    torch.testing.assert_close(out1.data, out2.data, **TOLERANCE[dtype])
    for a, b in zip(as_tuple(final1), as_tuple(final2)):
        torch.testing.assert_close(a, b, **TOLERANCE[dtype])
    (out1.data.sum() + sum(s.sum() for s in as_tuple(final1))).backward()
    (out2.data.sum() + sum(s.sum() for s in as_tuple(final2))).backward()
    check_gradients(ours, theirs, (x1,), (x2,), TOLERANCE[dtype])


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_unbatched_input_like_torch(variant):
    ours, theirs = make_pair(variant, 2, True, False, torch.float64, "reference")
    x = torch.randn(T, I, dtype=torch.float64)
    out1, final1 = ours(x)
    out2, final2 = theirs(x)
    torch.testing.assert_close(out1, out2)
    for a, b in zip(as_tuple(final1), as_tuple(final2)):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("impl", ["reference", "auto"])
def test_dropout_between_layers_only_in_training(impl):
    torch.manual_seed(0)
    layer = rk.LSTM(I, H, num_layers=3, dropout=0.5, impl=impl)
    plain = rk.LSTM(I, H, num_layers=3, impl=impl)
    plain.load_state_dict(layer.state_dict())
    x = torch.randn(T, B, I)
    layer.eval()
    torch.testing.assert_close(layer(x)[0], plain(x)[0])
    layer.train()
    assert not torch.allclose(layer(x)[0], plain(x)[0])
