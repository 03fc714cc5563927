"""Helpers shared by the tests that compare ndgrad with torch."""
from __future__ import annotations

import ndgrad


def outcome(f, lib):
    """(exception class name, message) raised by f(lib), or None."""
    try:
        f(lib)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    return None


def raises_like_torch(f, torch, cls, text=None):
    """f raises `cls` under torch (with `text`, if given) and exactly the same under ndgrad."""
    want = outcome(f, torch)
    assert want is not None and want[0] == cls.__name__, want
    if text is not None:
        assert want[1] == text, want
    assert outcome(f, ndgrad) == want


def fn_name(fn):
    """grad_fn name: type name in torch, name() in ndgrad (both must agree with the class name)."""
    if fn is None:
        return None
    if isinstance(fn, ndgrad.autograd.graph.Node):
        assert type(fn).__name__ == fn.name()
        return fn.name()
    return type(fn).__name__
