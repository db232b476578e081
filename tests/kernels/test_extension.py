"""The optional C++ loops: never required, never compiled by the tests, and when present, the same
numbers as the PyTorch loops; a failed build falls back quietly."""
import pytest
import torch

import rnnkit as rk
from rnnkit import kernels
from rnnkit.kernels import _extension

from ._compare import LENGTHS, B, H, I, T, leaf

BUILT = _extension.library_path() is not None and _extension.library_path().exists() and _extension.mode() != "off"
needs_build = pytest.mark.skipif(not BUILT, reason="C++ loops not built (python -m rnnkit.kernels build)")


@pytest.fixture
def loops():
    """Not run on each loop implementation by tests/kernels/conftest.py: these tests choose the loops themselves."""
    return None


@pytest.fixture
def fresh_extension_state():
    """Let a test change how the library loads, then restore the session's state."""
    saved = dict(_extension._state)
    _extension.reset()
    yield
    _extension._state.update(saved)


def run_layer(layer, x, lengths):
    out, state = layer(x, lengths=lengths)
    states = state if isinstance(state, tuple) else (state,)
    weights = torch.linspace(0.5, 1.5, out.numel(), dtype=out.dtype).reshape(out.shape)
    loss = (out * weights).sum() + sum(s.pow(2).sum() for s in states)
    return [out, *states, *torch.autograd.grad(loss, [x, *layer.parameters()])]


LAYERS = [
    lambda: rk.LSTM(I, H, 2, bidirectional=True, proj_size=3, peephole=True, layer_norm=True, cell_clip=0.7,
                    zoneout=(0.1, 0.3), recurrent_dropout=0.2, impl="kernel"),
    lambda: rk.GRU(I, H, 2, bidirectional=True, zoneout=0.2, recurrent_dropout=0.2, impl="kernel"),
    lambda: rk.GRU(I, H, 2, bidirectional=True, reset_after=False, zoneout=0.2, impl="kernel"),
]


@needs_build
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("make", LAYERS, ids=["lstm", "gru", "gru_cho"])
def test_cpp_loops_match_the_pytorch_loops(make, dtype, fresh_extension_state):
    torch.manual_seed(0)
    layer = make().to(dtype)
    x = torch.randn(T, B, I, dtype=dtype).requires_grad_()
    torch.manual_seed(1)
    with_cpp = run_layer(layer, x, LENGTHS)
    assert _extension.load() is not None
    _extension.disable()
    torch.manual_seed(1)
    with_python = run_layer(layer, x, LENGTHS)
    tol = dict(atol=1e-10, rtol=1e-10) if dtype == torch.float64 else dict(atol=1e-4, rtol=1e-3)  # float32: layer norm
    for a, b in zip(with_cpp, with_python):
        torch.testing.assert_close(a, b, **tol)


def test_the_pytorch_loops_run_when_the_extension_is_off(monkeypatch, fresh_extension_state):
    monkeypatch.setenv("RNNKIT_EXTENSION", "off")
    assert _extension.load() is None and "off" in _extension.status()
    assert _extension.op("lstm_forward_loop", torch.zeros(1)) is None
    layer = rk.LSTM(I, H, peephole=True, impl="kernel").double()
    assert_same_as_reference(layer, rk.LSTM(I, H, peephole=True, impl="reference").double())


def test_a_failed_build_falls_back_quietly(monkeypatch, tmp_path, fresh_extension_state):
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path))  # nothing built here
    monkeypatch.setenv("CXX", "/nonexistent/c++")
    monkeypatch.setattr(_extension.shutil, "which", lambda name: "/bin/false")  # a "compiler" that fails
    with pytest.raises(RuntimeError, match="building the C\\+\\+ loops failed"):
        _extension.build()
    monkeypatch.setenv("RNNKIT_EXTENSION", "build")  # build on first use: fails, and the kernels still run
    assert _extension.load() is None and "unavailable" in _extension.status()
    assert_same_as_reference(rk.GRU(I, H, impl="kernel").double(), rk.GRU(I, H, impl="reference").double())


def assert_same_as_reference(layer, reference):
    """The layer (on whichever loops are in charge) computes what the reference cells compute, gradients too."""
    reference.load_state_dict(layer.state_dict())
    x = leaf(T, B, I)
    for got, expected in zip(run_layer(layer, x, LENGTHS), run_layer(reference, x, LENGTHS)):
        torch.testing.assert_close(got, expected, atol=1e-10, rtol=1e-10)


def test_an_unbuilt_library_is_not_compiled_on_use(monkeypatch, tmp_path, fresh_extension_state):
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path))
    monkeypatch.setenv("RNNKIT_EXTENSION", "auto")
    monkeypatch.setattr(_extension, "build", lambda *a, **k: pytest.fail("compiled without being asked"))
    assert _extension.load() is None and "not built" in _extension.status()


def test_tensors_the_loops_cannot_take_get_the_pytorch_loops():
    assert _extension.op("lstm_forward_loop", torch.zeros(1, dtype=torch.float16)) is None
    assert _extension.op("gru_forward_loop", torch.zeros(1, dtype=torch.int64)) is None


@needs_build
def test_a_non_contiguous_buffer_is_refused(fresh_extension_state):
    ops = _extension.load()
    gates = torch.zeros(2, 1, 24)[..., ::2]  # (T, B, 3H) with a stride of 2
    with pytest.raises(RuntimeError, match="contiguous"):
        ops.gru_forward_loop(gates, torch.zeros(3, 1, 4), torch.zeros(2, 1, 12), torch.zeros(12, 4), None, None, None,
                             True, False)


def test_auto_dispatch_follows_the_measurements():
    """GRU and LSTMP: the kernel where the C++ loops are loaded (CPU); RNN: the kernel for training, torch for
    inference; plain LSTM: torch."""
    gru, rnn, lstm = rk.GRU(I, H), rk.RNN(I, H), rk.LSTM(I, H)
    assert gru.choose_impl() == ("kernel" if _extension.load() is not None else "native")
    assert rnn.train().choose_impl() == "kernel" and rnn.eval().choose_impl() == "native"
    with torch.no_grad():
        assert rnn.train().choose_impl() == "native"
    assert lstm.choose_impl() == "native" and rk.GRU(I, H, reset_after=False).choose_impl() == "kernel"
    assert rk.LSTM(I, H, proj_size=2).choose_impl() == ("kernel" if _extension.load() is not None else "native")
    assert not kernels.beats_native("gru", torch.zeros(1, device="meta"), True)
    # unequal lengths: torch's packed path has no oneDNN kernel on CPU, so the kernel takes them
    assert lstm.choose_impl(unequal_lengths=True) == "kernel" and rnn.eval().choose_impl(unequal_lengths=True) == "kernel"


def test_full_length_batches_drop_the_mask(monkeypatch):
    """lengths that are all T mean no padding: the plain LSTM stays on torch's fused kernel."""
    lstm, chosen = rk.LSTM(I, H), []
    original = type(lstm).choose_impl
    monkeypatch.setattr(type(lstm), "choose_impl", lambda self, **kw: chosen.append(kw) or original(self, **kw))
    x = torch.randn(5, 2, I)
    torch.testing.assert_close(lstm(x, lengths=[5, 5])[0], lstm(x)[0])
    lstm(x, lengths=[5, 3])
    assert chosen == [{"unequal_lengths": False}, {"unequal_lengths": False}, {"unequal_lengths": True}]


@needs_build
@pytest.mark.parametrize("make", [lambda: rk.LSTM(13, 32, peephole=True, impl="kernel"),
                                  lambda: rk.LSTM(13, 32, impl="kernel"),
                                  lambda: rk.GRU(13, 32, impl="kernel"),
                                  lambda: rk.GRU(13, 32, reset_after=False, impl="kernel")],
                         ids=["lstm_peephole", "lstm", "gru", "gru_cho"])
def test_saturating_gates_give_the_reference_numbers_not_nan(make):
    """Unscaled MFCCs (|x| up to 600) drive float32 gate pre-activations past exp's range; the
    fast-math C++ loops once turned that into NaN where the reference saturates to 0 or 1."""
    torch.manual_seed(0)
    layer = make()
    x = (torch.randn(91, 2, 13) * 300).requires_grad_()
    kernel = run_layer(layer, x, None)
    layer.impl = "reference"
    reference = run_layer(layer, x, None)
    for a, b in zip(kernel[:3], reference[:3]):  # outputs and final states; saturated gradients are ~0 either way
        assert torch.isfinite(a).all()
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    assert all(torch.isfinite(g).all() for g in kernel[3:])


@needs_build
@pytest.mark.parametrize("make", [lambda: rk.LSTM(4, 512, peephole=True, layer_norm=True, zoneout=0.1, impl="kernel"),
                                  lambda: rk.GRU(4, 512, impl="kernel")], ids=["lstm", "gru"])
def test_parallel_rows_match_the_pytorch_loops(make, fresh_extension_state):
    """The C++ loops split the batch's rows over threads when each gets ~32k elements (``rows`` in
    csrc/common.h: a grain of 32768 / width rows); 2 threads and 160 rows of width 512 take that path."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.manual_seed(0)
        layer = make().double()
        x = torch.randn(3, 160, 4, dtype=torch.float64, requires_grad=True)
        lengths = torch.randint(1, 4, (160,))
        lengths[0] = 3
        torch.manual_seed(1)
        with_cpp = run_layer(layer, x, lengths)
        assert _extension.load() is not None
        _extension.disable()
        torch.manual_seed(1)
        with_python = run_layer(layer, x, lengths)
    finally:
        torch.set_num_threads(threads)
    for a, b in zip(with_cpp, with_python):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)
