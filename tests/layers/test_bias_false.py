"""``bias=False`` at layer level against torch: no bias parameters, the same outputs and gradients."""
import pytest
import torch
from torch import nn

import rnnkit as rk

PAIRS = {
    "rnn": (lambda impl: rk.RNN(3, 5, num_layers=2, bias=False, impl=impl), lambda: nn.RNN(3, 5, 2, bias=False)),
    "lstm": (lambda impl: rk.LSTM(3, 5, num_layers=2, bias=False, bidirectional=True, impl=impl),
             lambda: nn.LSTM(3, 5, 2, bias=False, bidirectional=True)),
    "lstmp": (lambda impl: rk.LSTM(3, 5, bias=False, proj_size=2, impl=impl), lambda: nn.LSTM(3, 5, bias=False, proj_size=2)),
    "gru": (lambda impl: rk.GRU(3, 5, num_layers=2, bias=False, bidirectional=True, impl=impl),
            lambda: nn.GRU(3, 5, 2, bias=False, bidirectional=True)),
}


@pytest.mark.parametrize("lengths", [None, [6, 2, 4]], ids=["full", "padded"])
@pytest.mark.parametrize("impl", ["auto", "kernel", "reference"])
@pytest.mark.parametrize("name", list(PAIRS))
def test_bias_false_matches_torch(name, impl, lengths):
    make_ours, make_theirs = PAIRS[name]
    torch.manual_seed(0)
    theirs = make_theirs().double()
    ours = make_ours(impl).double()
    assert not any("bias" in n for n, _ in ours.named_parameters())
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(6, 3, 3, dtype=torch.float64)
    x_ours, x_theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    out, state = ours(x_ours, lengths=lengths)
    if lengths is None:
        expected, expected_state = theirs(x_theirs)
    else:
        packed, expected_state = theirs(nn.utils.rnn.pack_padded_sequence(x_theirs, lengths, enforce_sorted=False))
        expected = nn.utils.rnn.pad_packed_sequence(packed, total_length=6)[0]
    states = state if isinstance(state, tuple) else (state,)
    expected_states = expected_state if isinstance(expected_state, tuple) else (expected_state,)
    torch.testing.assert_close(out, expected)
    for a, b in zip(states, expected_states):
        torch.testing.assert_close(a, b)
    weights = torch.linspace(-1, 1, out.numel(), dtype=torch.float64).reshape(out.shape)
    ours_grads = torch.autograd.grad((out * weights).sum() + sum(s.pow(2).sum() for s in states),
                                     [x_ours, *ours.parameters()])
    theirs_grads = torch.autograd.grad((expected * weights).sum() + sum(s.pow(2).sum() for s in expected_states),
                                       [x_theirs, *theirs.parameters()])
    for mine, reference in zip(ours_grads, theirs_grads):
        torch.testing.assert_close(mine, reference)
