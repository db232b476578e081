"""Regularisers at the layer level: masks reproducible from the seed, eval-mode behaviour, dispatch,
parameters and state dicts, and the reference equations of layer norm, zoneout and cell clipping."""
import pytest
import torch

import rnnkit as rk
from rnnkit.cells import LSTMCell, LSTMState

FAMILIES = {
    "rnn": lambda **kw: rk.RNN(3, 5, 2, bidirectional=True, **kw),
    "lstm": lambda **kw: rk.LSTM(3, 5, 2, bidirectional=True, proj_size=2, peephole=True, **kw),
    "gru": lambda **kw: rk.GRU(3, 5, 2, bidirectional=True, **kw),
    "gru_cho": lambda **kw: rk.GRU(3, 5, 2, bidirectional=True, reset_after=False, **kw),
}
NOISY = dict(zoneout=0.3, input_dropout=0.3, recurrent_dropout=0.3, weight_drop=0.3)
NOISE_FREE = dict(input_dropout=0.3, recurrent_dropout=0.3, weight_drop=0.3)  # the identity in eval mode


def run(layer, seed):
    torch.manual_seed(seed)
    x = torch.randn(6, 4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    return layer(x, lengths=torch.tensor([6, 2, 5, 3]))[0]


def twin(family, impl, seed=0, **kw):
    torch.manual_seed(seed)
    return FAMILIES[family](impl=impl, **kw).double()


@pytest.mark.parametrize("impl", ["kernel", "reference"])
@pytest.mark.parametrize("family", FAMILIES)
def test_masks_are_reproducible_from_the_seed(family, impl):
    layer = twin(family, impl, **NOISY)
    assert torch.equal(run(layer, 11), run(layer, 11))
    assert not torch.allclose(run(layer, 11), run(layer, 12))


@pytest.mark.parametrize("impl", ["kernel", "reference"])
@pytest.mark.parametrize("family", FAMILIES)
def test_dropouts_are_the_identity_in_eval_mode(family, impl):
    plain, noisy = twin(family, impl).eval(), twin(family, impl, **NOISE_FREE).eval()
    torch.testing.assert_close(run(noisy, 1), run(plain, 2), atol=1e-12, rtol=0)


@pytest.mark.parametrize("impl", ["kernel", "reference"])
@pytest.mark.parametrize("family", FAMILIES)
def test_eval_mode_is_deterministic(family, impl):
    layer = twin(family, impl, **NOISY).eval()
    assert torch.equal(run(layer, 1), run(layer, 2))


def test_zoneout_in_eval_mode_is_the_expectation():
    """Krueger et al.: at test time h_t = p h_{t-1} + (1 - p) h_new (here a one-layer GRU, by hand)."""
    p = 0.3
    layer = rk.GRU(3, 4, zoneout=p, impl="kernel").double().eval()
    cell = rk.GRUCell(3, 4).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    h = torch.zeros(2, 4, dtype=torch.float64)
    for t in range(5):
        h = p * h + (1 - p) * cell(x[t], h)
    torch.testing.assert_close(layer(x)[1][0], h)


def test_zoneout_one_keeps_the_initial_state_in_training():
    layer = rk.LSTM(3, 4, zoneout=1.0, impl="kernel").double().train()
    h0, c0 = torch.randn(1, 2, 4, dtype=torch.float64), torch.randn(1, 2, 4, dtype=torch.float64)
    _, (h_n, c_n) = layer(torch.randn(5, 2, 3, dtype=torch.float64), (h0, c0))
    assert torch.equal(h_n, h0) and torch.equal(c_n, c0)


@pytest.mark.parametrize("family", FAMILIES)
def test_auto_runs_the_kernel_when_regularised(family):
    assert FAMILIES[family](**NOISY).choose_impl() == "kernel"
    assert rk.LSTM(3, 5, layer_norm=True).choose_impl() == "kernel"
    assert rk.LSTM(3, 5, cell_clip=3.0).choose_impl() == "kernel"


def test_torch_state_dicts_still_load_strictly():
    ours = rk.LSTM(3, 5, 2, bidirectional=True, proj_size=2)
    ours.load_state_dict(torch.nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2).state_dict(), strict=True)


def test_layer_norm_parameters_are_named_and_start_as_the_identity():
    layer = rk.LSTM(3, 5, layer_norm=True, init="keras")
    shapes = {name: tuple(p.shape) for name, p in layer.named_parameters() if name.startswith("ln_")}
    assert shapes == {"ln_ih_weight_l0": (20,), "ln_hh_weight_l0": (20,), "ln_cell_weight_l0": (5,),
                      "ln_cell_bias_l0": (5,)}
    assert torch.all(layer.ln_ih_weight_l0 == 1) and torch.all(layer.ln_cell_bias_l0 == 0)


def test_layer_norm_cell_is_ba_et_al():
    """(L1), (L2) written out: LN of each projection over all 4H units, LN of c into the output only."""
    torch.manual_seed(0)
    cell = LSTMCell(3, 4, layer_norm=True).double()
    with torch.no_grad():
        for p in (cell.ln_ih_weight, cell.ln_hh_weight, cell.ln_cell_weight, cell.ln_cell_bias):
            p.uniform_(0.5, 1.5)
    x, h, c = (torch.randn(2, n, dtype=torch.float64) for n in (3, 4, 4))

    def ln(v, gain, bias=None):
        return gain * (v - v.mean(1, keepdim=True)) / torch.sqrt(v.var(1, unbiased=False, keepdim=True) + 1e-5) + \
            (0 if bias is None else bias)

    a = ln(x @ cell.weight_ih.T, cell.ln_ih_weight) + cell.bias_ih + ln(h @ cell.weight_hh.T, cell.ln_hh_weight) + cell.bias_hh
    i, f, g, o = a.chunk(4, 1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(ln(c_new, cell.ln_cell_weight, cell.ln_cell_bias))
    state = cell(x, (h, c))
    torch.testing.assert_close(state, LSTMState(h_new, c_new))


def test_cell_clip_bounds_the_cell_state():
    layer = rk.LSTM(3, 4, cell_clip=0.1, impl="kernel")
    with torch.no_grad():
        layer.bias_ih_l0.fill_(5.0)  # gates open, g near 1: c grows past the clip
    _, (_, c_n) = layer(torch.randn(8, 2, 3))
    assert c_n.abs().max() <= 0.1 + 1e-7 and torch.allclose(c_n.abs(), torch.full_like(c_n, 0.1))


@pytest.mark.parametrize("kwargs", [dict(zoneout=1.5), dict(input_dropout=1.0), dict(recurrent_dropout=-0.1),
                                    dict(weight_drop="0.2"), dict(zoneout=(0.1, 0.2))])
def test_bad_probabilities_say_so(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        rk.GRU(3, 4, **kwargs)


def test_bad_cell_clip_says_so():
    with pytest.raises(ValueError, match="cell_clip"):
        rk.LSTM(3, 4, cell_clip=0)
