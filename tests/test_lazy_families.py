"""The op families that load on first use (ndgrad/_ops/_lazy.py): their name lists match the modules, and
`import ndgrad` does not import them."""
from __future__ import annotations

import importlib
import subprocess
import sys

import ndgrad
from ndgrad._ops import _lazy


def test_index_matches_modules():
    for family, (names, methods) in _lazy.LAZY.items():
        mod = importlib.import_module(f"ndgrad._ops.{family}")
        assert tuple(mod.__all__) == names, family
        assert tuple(mod.METHODS) == methods, family
    mod = importlib.import_module("ndgrad._ops.linalg_more")
    assert tuple(mod.LINALG_MORE) == _lazy.LINALG_LAZY["linalg_more"]


def test_not_imported_eagerly_and_served_on_first_use():
    code = ("import sys, ndgrad\n"
            "lazy = ('ndgrad._ops.misc', 'ndgrad._ops.linalg_more', 'ndgrad._random_ops', 'ndgrad._ops.specfun', 'ndgrad._ops.compat')\n"
            "assert not any(m in sys.modules for m in lazy)\n"
            "assert 'lu_factor' in ndgrad.linalg.__all__ and 'cdist' in ndgrad.__all__\n"
            "x = ndgrad.eye(2, requires_grad=True)\n"
            "assert ndgrad.linalg.lu_factor(x).LU.grad_fn.name() == 'LinalgLuFactorExBackward0'\n"
            "assert x.nansum().grad_fn.name() == 'NansumBackward0'\n"
            "assert 'ndgrad._ops.misc' in sys.modules and 'ndgrad._ops.linalg_more' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_trampolines_keep_the_complex_guard():
    z = ndgrad.ones(2, 2, dtype=ndgrad.complex128, requires_grad=True)
    for f in (lambda: ndgrad.cdist(z, z), lambda: ndgrad.linalg.vecdot(z, z)):
        try:
            f()
        except NotImplementedError as e:
            assert "complex" in str(e)
        else:
            raise AssertionError("complex input requiring grad was accepted")
