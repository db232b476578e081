"""Each cell against its torch.nn counterpart with copied weights: outputs and every gradient."""
import pytest
import torch

import rnnkit as rk

TOLERANCE = {torch.float32: dict(atol=1e-5, rtol=1e-5), torch.float64: dict(atol=1e-10, rtol=1e-10)}
DTYPES = [torch.float32, torch.float64]


def assert_grads_equal(ours: torch.nn.Module, theirs: torch.nn.Module, tol: dict, rename=lambda n: n) -> None:
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, theirs_params[rename(name)].grad, **tol, msg=f"grad of {name}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_rnn_cell(dtype, nonlinearity, bias):
    torch.manual_seed(0)
    theirs = torch.nn.RNNCell(4, 6, bias=bias, nonlinearity=nonlinearity, dtype=dtype)
    ours = rk.RNNCell(4, 6, bias=bias, nonlinearity=nonlinearity, dtype=dtype)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x, h = torch.randn(3, 4, dtype=dtype), torch.randn(3, 6, dtype=dtype)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out1, out2 = ours(x1, h), theirs(x2, h)
    torch.testing.assert_close(out1, out2, **TOLERANCE[dtype])
    out1.pow(2).sum().backward()
    out2.pow(2).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, **TOLERANCE[dtype])
    assert_grads_equal(ours, theirs, TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_cell(dtype, bias):
    torch.manual_seed(1)
    theirs = torch.nn.LSTMCell(4, 6, bias=bias, dtype=dtype)
    ours = rk.LSTMCell(4, 6, bias=bias, dtype=dtype)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x, h, c = (torch.randn(3, n, dtype=dtype) for n in (4, 6, 6))
    (h1, c1), (h2, c2) = ours(x, (h, c)), theirs(x, (h, c))
    torch.testing.assert_close(h1, h2, **TOLERANCE[dtype])
    torch.testing.assert_close(c1, c2, **TOLERANCE[dtype])
    (h1.sum() + c1.pow(2).sum()).backward()
    (h2.sum() + c2.pow(2).sum()).backward()
    assert_grads_equal(ours, theirs, TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_cell_with_projection_matches_one_step_of_torch_lstm(dtype):
    """torch has no projected LSTMCell; one step of nn.LSTM(proj_size=P) is the same computation."""
    torch.manual_seed(2)
    theirs = torch.nn.LSTM(4, 6, proj_size=3, dtype=dtype)
    ours = rk.LSTMCell(4, 6, proj_size=3, dtype=dtype)
    ours.load_state_dict({k.removesuffix("_l0"): v for k, v in theirs.state_dict().items()}, strict=True)
    x, h, c = torch.randn(2, 4, dtype=dtype), torch.randn(2, 3, dtype=dtype), torch.randn(2, 6, dtype=dtype)
    h1, c1 = ours(x, (h, c))
    _, (h2, c2) = theirs(x[None], (h[None], c[None]))
    torch.testing.assert_close(h1, h2[0], **TOLERANCE[dtype])
    torch.testing.assert_close(c1, c2[0], **TOLERANCE[dtype])
    (h1.sum() + c1.sum()).backward()
    (h2.sum() + c2.sum()).backward()
    assert_grads_equal(ours, theirs, TOLERANCE[dtype], rename=lambda n: n + "_l0")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_gru_cell_torch_form(dtype, bias):
    torch.manual_seed(3)
    theirs = torch.nn.GRUCell(4, 6, bias=bias, dtype=dtype)
    ours = rk.GRUCell(4, 6, bias=bias, dtype=dtype)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x, h = torch.randn(3, 4, dtype=dtype), torch.randn(3, 6, dtype=dtype)
    out1, out2 = ours(x, h), theirs(x, h)
    torch.testing.assert_close(out1, out2, **TOLERANCE[dtype])
    out1.pow(2).sum().backward()
    out2.pow(2).sum().backward()
    assert_grads_equal(ours, theirs, TOLERANCE[dtype])


@pytest.mark.parametrize("ours_class, theirs_class", [(rk.RNNCell, torch.nn.RNNCell), (rk.LSTMCell, torch.nn.LSTMCell),
                                                      (rk.GRUCell, torch.nn.GRUCell)], ids=["rnn", "lstm", "gru"])
def test_unbatched_input_like_torch(ours_class, theirs_class):
    """A 1-D input (and state) gives torch's cell's 1-D result, with and without a given state."""
    torch.manual_seed(4)
    theirs = theirs_class(4, 5)
    ours = ours_class(4, 5)
    ours.load_state_dict(theirs.state_dict())
    x, h = torch.randn(4), torch.randn(5)
    state = (h, torch.randn(5)) if theirs_class is torch.nn.LSTMCell else h
    for args in ((x,), (x, state)):
        mine, expected = ours(*args), theirs(*args)
        for a, b in zip(mine if isinstance(mine, tuple) else (mine,), expected if isinstance(expected, tuple) else (expected,)):
            assert a.shape == b.shape == (5,)
            torch.testing.assert_close(a, b)
