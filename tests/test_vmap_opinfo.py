"""Every op of the op table (tests/opinfo.py) under vmap: the batched path (the batching rules, then the generated
program of a second call) against the per-element loop, with in_dims drawn at random for each tensor argument, as
the OpInfo tests do for gradients. The outcomes must agree: the same values to float rounding, or the same
exception class (an op that takes a Python value from a batched tensor raises torch's vmap error either way)."""
from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import ndgrad
from ndgrad.func import _batching, vmap
from opinfo import OPS, Arg

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"), pytest.mark.filterwarnings("ignore::UserWarning")]
BATCH = 3
SAMPLES_PER_OP = 2


def _batch(arg, rng):
    """(the argument as vmap gets it, its in_dim): each tensor batched along a random dim (or not at all), its
    elements the sample's values scaled by slightly different factors (integer and boolean ones repeated)."""
    if isinstance(arg, Arg):
        a = arg.array
        d = rng.choice([None, 0, -1] if a.ndim else [None, 0])
        if d is None:
            return ndgrad.from_numpy(np.array(a)), None
        if a.dtype.kind in "fc":
            elems = [a] + [a * (1 + 0.01 * rng.uniform(-1, 1, a.shape)).astype(a.dtype) for _ in range(BATCH - 1)]
        else:
            elems = [a] * BATCH
        return ndgrad.from_numpy(np.stack(elems, axis=int(d))), int(d)
    if isinstance(arg, (list, tuple)) and any(isinstance(x, Arg) for x in arg):
        pairs = [_batch(x, rng) for x in arg]
        return type(arg)(p[0] for p in pairs), type(arg)(p[1] for p in pairs)
    return arg, None


def _kw(v):
    if isinstance(v, Arg):
        return ndgrad.from_numpy(np.array(v.array))
    if isinstance(v, (list, tuple)):
        return type(v)(_kw(x) for x in v)
    return v


def _outcome(call):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = call()
    except Exception as e:  # noqa: BLE001  (the outcome compared is the exception class)
        return ("raise", type(e))
    return ("ok", ndgrad.func._flatten(out)[0])


def _cases():
    for info in OPS:
        dtype = np.float64 if np.float64 in info.dtypes else info.dtypes[0]
        try:
            samples = list(info.samples(dtype, np.random.default_rng(zlib.crc32(info.name.encode()))))
        except Exception:  # noqa: BLE001
            continue
        for i, s in enumerate(samples[:SAMPLES_PER_OP]):
            yield pytest.param(info, s, id=f"{info.name}-{i}")


@pytest.mark.parametrize("info,sample", list(_cases()))
def test_batched_equals_the_loop(info, sample, monkeypatch):
    seed = zlib.crc32(info.name.encode())
    for attempt in range(16):  # in_dims drawn until at least one tensor is batched
        rng = np.random.default_rng(seed + attempt)
        pairs = [_batch(a, rng) for a in sample.args]
        if any(d is not None and not (isinstance(d, (list, tuple)) and all(x is None for x in d)) for _, d in pairs):
            break
    else:
        pytest.skip("no tensor argument to batch")
    args = tuple(p[0] for p in pairs)
    in_dims = tuple(p[1] for p in pairs)
    kwargs = {k: _kw(v) for k, v in sample.kwargs.items()}

    def f(*xs):
        return info.fn(ndgrad, *xs, **kwargs)
    v = vmap(f, in_dims=in_dims)
    first = _outcome(lambda: v(*args))
    second = _outcome(lambda: v(*args))  # from the generated program, where the first call cached one
    with monkeypatch.context() as m:
        m.setattr(_batching, "run", lambda *a, **k: None)
        loop = _outcome(lambda: vmap(f, in_dims=in_dims)(*args))
    assert first[0] == loop[0] == second[0], (first, loop, second)
    if loop[0] == "raise":
        assert first[1] is loop[1] and second[1] is loop[1]
        return
    assert len(first[1]) == len(loop[1]) == len(second[1])
    for a, b, c in zip(first[1], loop[1], second[1]):
        assert a.shape == b.shape == c.shape and a.dtype == b.dtype == c.dtype
        x, y, z = a.numpy(), b.numpy(), c.numpy()
        assert np.array_equal(x, z, equal_nan=True)  # the same NumPy calls: the same bits
        if x.dtype.kind in "fc":
            np.testing.assert_allclose(x, y, rtol=1e-6 if x.dtype.itemsize >= 8 else 1e-3, atol=1e-8)
        else:
            np.testing.assert_array_equal(x, y)
