import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Tests use tiny shapes: one thread is fastest there, and immune to a busy machine's OpenMP spin-waits.

    Session-scoped, so module-scoped fixtures that train a model (they run before any
    function-scoped fixture) get one thread too.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
