"""Fixtures for the reports tests."""
import pytest

from ._support import make_history


@pytest.fixture
def history() -> list[dict]:
    return make_history()
