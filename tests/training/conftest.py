"""Shared setup for the training tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    # The models here are tiny: one intra-op thread is faster than several, and it keeps the
    # tests quick on a busy machine where extra threads would only wait for cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
