"""Cell variants torch lacks: peepholes (checked at zero and by their equation) and Cho et al.'s GRU."""
import numpy as np
import pytest
import torch

import rnnkit as rk

CELLS = {
    "rnn_tanh": lambda: rk.RNNCell(3, 4, nonlinearity="tanh", dtype=torch.float64),
    "rnn_relu": lambda: rk.RNNCell(3, 4, nonlinearity="relu", dtype=torch.float64),
    "lstm": lambda: rk.LSTMCell(3, 4, dtype=torch.float64),
    "lstm_peephole": lambda: rk.LSTMCell(3, 4, peephole=True, dtype=torch.float64),
    "lstmp": lambda: rk.LSTMCell(3, 4, proj_size=2, dtype=torch.float64),
    "lstmp_peephole": lambda: rk.LSTMCell(3, 4, proj_size=2, peephole=True, dtype=torch.float64),
    "lstm_no_bias": lambda: rk.LSTMCell(3, 4, bias=False, peephole=True, dtype=torch.float64),
    "gru": lambda: rk.GRUCell(3, 4, dtype=torch.float64),
    "gru_cho": lambda: rk.GRUCell(3, 4, reset_after=False, dtype=torch.float64),
}


@pytest.mark.parametrize("name", CELLS)
def test_gradcheck(name):
    """Autograd's numerical Jacobians agree with the analytic ones for inputs, states and weights."""
    torch.manual_seed(0)
    cell = CELLS[name]()
    names, weights = zip(*cell.named_parameters())
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    if isinstance(cell, rk.LSTMCell):
        state = (torch.randn(2, cell.proj_size or 4, dtype=torch.float64, requires_grad=True),
                 torch.randn(2, 4, dtype=torch.float64, requires_grad=True))
    else:
        state = (torch.randn(2, 4, dtype=torch.float64, requires_grad=True),)

    n_state = len(state)

    def run(x, *tensors):
        states, params = tensors[:n_state], dict(zip(names, tensors[n_state:]))
        out = torch.func.functional_call(cell, params, (x, states if n_state == 2 else states[0]))
        return tuple(out) if isinstance(out, tuple) else out

    weights = tuple(w.detach().clone().requires_grad_() for w in weights)
    assert torch.autograd.gradcheck(run, (x, *state, *weights))


def test_peepholes_at_zero_equal_the_plain_lstm():
    torch.manual_seed(1)
    plain = rk.LSTMCell(3, 5, proj_size=2, dtype=torch.float64)
    peephole = rk.LSTMCell(3, 5, proj_size=2, peephole=True, dtype=torch.float64)
    peephole.load_state_dict(plain.state_dict(), strict=False)
    for name in ("weight_ci", "weight_cf", "weight_co"):
        torch.nn.init.zeros_(getattr(peephole, name))
    x, h, c = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64)
    for a, b in zip(peephole(x, (h, c)), plain(x, (h, c))):
        torch.testing.assert_close(a, b, atol=1e-14, rtol=1e-14)


def test_peepholes_follow_their_equations():
    """i and f see c_prev, o sees the new c (Gers and Schmidhuber; Graves)."""
    torch.manual_seed(2)
    cell = rk.LSTMCell(3, 4, peephole=True, dtype=torch.float64)
    x, h, c_prev = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    a = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    a_i, a_f, a_g, a_o = a.split(4, dim=1)
    sig = torch.sigmoid
    i, f, g = sig(a_i + cell.weight_ci * c_prev), sig(a_f + cell.weight_cf * c_prev), torch.tanh(a_g)
    c = f * c_prev + i * g
    o = sig(a_o + cell.weight_co * c)
    h_new, c_new = cell(x, (h, c_prev))
    torch.testing.assert_close(c_new, c)
    torch.testing.assert_close(h_new, o * torch.tanh(c))


def cho_gru_step_numpy(x, h, W_ih, W_hh, b_ih, b_hh):
    """Cho et al. 2014, written independently from the weights split per gate:
    r = σ(W_r x + U_r h), z = σ(W_z x + U_z h), h~ = tanh(W x + U (r ⊙ h)), h' = z ⊙ h + (1 - z) ⊙ h~."""
    def sigma(v):
        return 1.0 / (1.0 + np.exp(-v))

    H = h.shape[1]
    W_r, W_z, W_n = W_ih[:H], W_ih[H:2 * H], W_ih[2 * H:]
    U_r, U_z, U_n = W_hh[:H], W_hh[H:2 * H], W_hh[2 * H:]
    r = sigma(x @ W_r.T + b_ih[:H] + h @ U_r.T + b_hh[:H])
    z = sigma(x @ W_z.T + b_ih[H:2 * H] + h @ U_z.T + b_hh[H:2 * H])
    candidate = np.tanh(x @ W_n.T + b_ih[2 * H:] + (r * h) @ U_n.T + b_hh[2 * H:])
    return z * h + (1.0 - z) * candidate


def test_original_gru_against_independent_numpy_steps():
    torch.manual_seed(3)
    layer = rk.GRU(3, 5, reset_after=False, dtype=torch.float64, impl="reference")
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    out, h_n = layer(x)
    w = {k: v.detach().numpy() for k, v in layer.state_dict().items()}
    h = np.zeros((2, 5))
    for t in range(6):
        h = cho_gru_step_numpy(x[t].numpy(), h, w["weight_ih_l0"], w["weight_hh_l0"], w["bias_ih_l0"], w["bias_hh_l0"])
        np.testing.assert_allclose(out[t].detach().numpy(), h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n[0].detach().numpy(), h, rtol=1e-12, atol=1e-12)


def test_original_gru_differs_from_torch_form():
    torch.manual_seed(4)
    cho = rk.GRUCell(3, 5, reset_after=False)
    torch_form = rk.GRUCell(3, 5)
    torch_form.load_state_dict(cho.state_dict())
    x, h = torch.randn(2, 3), torch.randn(2, 5)
    assert not torch.allclose(cho(x, h), torch_form(x, h))
