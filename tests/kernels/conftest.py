import pytest

from rnnkit.kernels import _extension


@pytest.fixture(autouse=True, params=["cpp", "pytorch"])
def loops(request):
    """Run every kernel test on each implementation of the kernels' time loops: the C++ ones (skipped, with
    the reason, where they are not built) and the PyTorch ones; the session's state of the extension is
    restored afterwards. A module that sets that state itself overrides this with a plain ``loops`` fixture."""
    saved = dict(_extension._state)
    if request.param == "cpp":
        _extension.reset()
        if _extension.load() is None:
            reason = _extension.status()
            _extension._state.update(saved)
            pytest.skip(f"C++ loops not available: {reason}")
    else:
        _extension.disable()
    yield request.param
    _extension._state.update(saved)
