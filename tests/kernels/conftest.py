import pytest

from rnnkit.kernels import _extension


@pytest.fixture(params=["cpp", "pytorch"])
def loops(request):
    """Run a test on each implementation of the kernels' time loops: the C++ ones (skipped where they are
    not built) and the PyTorch ones; the session's state of the extension is restored afterwards."""
    saved = dict(_extension._state)
    if request.param == "cpp":
        _extension.reset()
        if _extension.load() is None:
            _extension._state.update(saved)
            pytest.skip(f"C++ loops not available: {_extension.status()}")
    else:
        _extension.disable()
    yield request.param
    _extension._state.update(saved)
