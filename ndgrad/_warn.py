"""`warn`: `warnings.warn` for messages meant for the user's line, with the argument checkers' stub frames not counted.

Public functions are called through a stub that checks their arguments (`_argcheck.py`), one frame more than
torch's C++ bindings add. A warning issued with torch's `stacklevel` would then point at that stub (`<ndgrad
argument check>`, or `_argcheck.py` on a stub's first call) instead of the user's call; `warn` skips such frames
while it counts levels.
"""
from __future__ import annotations

import os
import sys
import warnings
from typing import Any

STUB_FILE = "<ndgrad argument check>"  # the file name the stubs are compiled under


_skip: set = set()  # the stubs' file name and _argcheck.py's (a stub's first call builds it there)


def warn(message: Any, category: Any = None, stacklevel: int = 1) -> None:
    """`warnings.warn(message, category, stacklevel)` as if the stubs between the caller and the user's code were
    not there."""
    if not _skip:
        _skip.update((STUB_FILE, getattr(sys.modules.get(__package__ + "._argcheck"), "__file__", STUB_FILE)))
    f = sys._getframe(1)  # level 1: the caller
    extra = 0
    for _ in range(stacklevel - 1):
        f = f.f_back
        while f is not None and f.f_code.co_filename in _skip:
            f = f.f_back
            extra += 1
        if f is None:
            break
    warnings.warn(message, category, stacklevel + extra + 1)  # (+1: this frame)


_PKG_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def inside_ndgrad(filename: str) -> bool:
    """Whether code of `filename` is ndgrad's own (its package, or its argument-checking stubs)."""
    return filename == STUB_FILE or filename.startswith(_PKG_DIR)


def warn_at_caller(message: Any, category: Any = None) -> None:
    """`warnings.warn` pointing at the first frame outside ndgrad (and its stubs): for a warning raised deep inside,
    where the number of frames up to the user's call depends on the way in (torch raises such warnings from C++,
    so they point at the user's line whichever function was called)."""
    f = sys._getframe(1)
    level = 1
    while f is not None and inside_ndgrad(f.f_code.co_filename):
        f = f.f_back
        level += 1
    warnings.warn(message, category, level + 1)  # (+1: this frame)
