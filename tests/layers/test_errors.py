"""Bad arguments raise a ValueError whose message names the argument and the expected value."""
import pytest
import torch

import rnnkit as rk


@pytest.mark.parametrize("kwargs,words", [
    (dict(proj_size=8), ["proj_size", "hidden_size=8"]),
    (dict(proj_size=9), ["proj_size", "hidden_size=8"]),
    (dict(proj_size=-1), ["proj_size", "non-negative"]),
    (dict(num_layers=0), ["num_layers", "positive"]),
    (dict(dropout=1.5), ["dropout", "[0, 1]"]),
    (dict(impl="fast"), ["impl", "reference"]),
    (dict(init="xavier"), ["init", "keras"]),
])
def test_bad_constructor_arguments(kwargs, words):
    with pytest.raises(ValueError) as error:
        rk.LSTM(4, 8, **kwargs)
    for word in words:
        assert word in str(error.value)


def test_bad_sizes_and_nonlinearity():
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        rk.GRU(4, 0)
    with pytest.raises(ValueError, match="input_size must be a positive int"):
        rk.RNN(-1, 4)
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        rk.RNN(4, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="proj_size must be smaller than hidden_size=4"):
        rk.LSTMCell(3, 4, proj_size=4)


@pytest.mark.parametrize("layer_class", [rk.RNN, rk.LSTM, rk.GRU])
def test_wrong_input_width(layer_class):
    with pytest.raises(ValueError, match=r"input_size=4 features .* got 5"):
        layer_class(4, 6)(torch.randn(3, 2, 5))


@pytest.mark.parametrize("shape", [(3,), (2, 3, 2, 4)])
def test_wrong_input_rank(shape):
    with pytest.raises(ValueError, match=r"input must be 3-D .* got %d-D" % len(shape)):
        rk.LSTM(4, 6)(torch.randn(shape))


@pytest.mark.parametrize("lengths,message", [
    ([3, 0], "at least 1, got 0 for sequence 1"),
    ([5, 2], "at most the sequence length T=3, got 5 for sequence 0"),
    ([-1, 2], "positive, got -1 for sequence 0"),
    ([3], r"one entry per sequence, \(B,\) = \(2,\), got 1"),
    ([[3, 2]], "1-D"),
    ([2.0, 3.0], "integer"),
])
def test_bad_lengths(lengths, message):
    with pytest.raises(ValueError, match=message):
        rk.GRU(4, 6)(torch.randn(3, 2, 4), lengths=torch.tensor(lengths))


def test_lengths_with_packed_sequence():
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.randn(3, 2, 4), [3, 2])
    with pytest.raises(ValueError, match="lengths must be None for a PackedSequence"):
        rk.GRU(4, 6)(packed, lengths=torch.tensor([3, 2]))


def test_mismatched_states():
    x = torch.randn(3, 2, 4)
    with pytest.raises(ValueError, match=r"hx must have shape .* = \(2, 2, 6\), got \(1, 2, 6\)"):
        rk.GRU(4, 6, num_layers=2)(x, torch.zeros(1, 2, 6))
    with pytest.raises(ValueError, match=r"h_0 must have shape .* = \(2, 2, 3\), got \(2, 2, 6\)"):
        rk.LSTM(4, 6, bidirectional=True, proj_size=3)(x, (torch.zeros(2, 2, 6), torch.zeros(2, 2, 6)))
    with pytest.raises(ValueError, match=r"c_0 must have shape .* = \(1, 2, 6\), got \(1, 3, 6\)"):
        rk.LSTM(4, 6)(x, (torch.zeros(1, 2, 6), torch.zeros(1, 3, 6)))
    with pytest.raises(ValueError, match=r"tuple \(h_0, c_0\)"):
        rk.LSTM(4, 6)(x, torch.zeros(1, 2, 6))
    with pytest.raises(ValueError, match=r"hx\[1\] \(c\) must have shape \(2, 6\), got \(2, 5\)"):
        rk.LSTMCell(4, 6)(torch.randn(2, 4), (torch.zeros(2, 6), torch.zeros(2, 5)))


def test_impl_kernel_without_a_kernel_says_so(monkeypatch):
    layer = rk.LSTM(4, 6, peephole=True, impl="kernel")
    monkeypatch.setattr(type(layer), "has_kernel", lambda self: False)
    with pytest.raises(ValueError, match="impl='kernel': no rnnkit kernel"):
        layer(torch.randn(3, 2, 4))
