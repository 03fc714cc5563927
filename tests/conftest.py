"""Shared test set-up. In CI (CI=true) a missing torch is an error, not a silent skip of the comparisons."""
from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    if os.environ.get("CI") == "true":
        try:
            import torch  # noqa: F401
        except ImportError as e:  # pragma: no cover
            raise pytest.UsageError("CI=true but torch cannot be imported: the torch comparisons would not run") from e


@pytest.fixture
def torch():
    """The torch module, for the comparison tests (they skip when torch is not installed)."""
    return pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _seeded_default_generator():
    """Each test starts ndgrad's default generator from one seed. Like torch's, it is seeded from the system's
    entropy in each process; a test's unseeded draws stay reproducible, whatever ran before it."""
    import ndgrad
    ndgrad.manual_seed(67280421310721)
