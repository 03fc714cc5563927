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
