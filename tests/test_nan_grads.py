"""Issue 10: forward values and gradients of the selecting ops on inputs with NaN, ties and ±inf follow torch
exactly (max/min full and with dim, amax/amin, maximum/minimum, fmax/fmin, relu, clamp/clip with scalar and
tensor bounds, hardtanh, relu6, threshold)."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

nan, inf = float("nan"), float("inf")
X = [1.0, nan, 2.0, 2.0, -inf, inf, nan, 0.0]
Y = [nan, 1.0, 2.0, 3.0, -inf, nan, nan, 0.0]
ACT = [nan, -1.0, 1.0, 0.5, -inf, inf, 2.0, -2.0, 0.0, 6.0, 7.0]

CASES = {
    "max": (lambda l, x: l.max(x), [X]),
    "max, ties": (lambda l, x: l.max(x), [[1.0, 3.0, 3.0, -inf]]),
    "max, two nans": (lambda l, x: l.max(x), [[nan, 1.0, nan]]),
    "min": (lambda l, x: l.min(x), [X]),
    "max(dim)": (lambda l, x: l.max(x.reshape(2, 4), 1), [X]),
    "min(dim)": (lambda l, x: l.min(x.reshape(2, 4), 0), [X]),
    "max(dim), ties and nans": (lambda l, x: l.max(x.reshape(2, 2), 1), [[2.0, 2.0, nan, nan]]),
    "max(x, y)": (lambda l, x, y: l.max(x, y), [X, Y]),
    "amax": (lambda l, x: l.amax(x), [X]),
    "amax, two nans": (lambda l, x: l.amax(x), [[nan, 1.0, nan]]),
    "amax(dim)": (lambda l, x: l.amax(x.reshape(2, 4), 1), [X]),
    "amin(dim)": (lambda l, x: l.amin(x.reshape(4, 2), 1), [X]),
    "amin, ties": (lambda l, x: l.amin(x), [[-1.0, 2.0, -1.0]]),
    "maximum": (lambda l, x, y: l.maximum(x, y), [X, Y]),
    "minimum": (lambda l, x, y: l.minimum(x, y), [X, Y]),
    "fmax": (lambda l, x, y: l.fmax(x, y), [X, Y]),
    "fmin": (lambda l, x, y: l.fmin(x, y), [X, Y]),
    "relu": (lambda l, x: l.relu(x), [X]),
    "F.relu": (lambda l, x: l.nn.functional.relu(x), [ACT]),
    "relu_": (lambda l, x: (x * 1).relu_(), [ACT]),
    "clamp": (lambda l, x: l.clamp(x, -1, 1.5), [X]),
    "clamp, equal bounds": (lambda l, x: l.clamp(x, 2, 2), [X]),
    "clamp, nan bound": (lambda l, x: l.clamp(x, min=nan), [X]),
    "clamp(min)": (lambda l, x: l.clamp(x, min=1.0), [X]),
    "clamp(max)": (lambda l, x: l.clamp(x, max=1.0), [X]),
    "clip": (lambda l, x: l.clip(x, -1, 1.5), [X]),
    "clamp, tensor bounds": (lambda l, x, y: l.clamp(x, y, y + 1), [X, Y]),
    "clamp, tensor min": (lambda l, x, y: l.clamp(x, min=y), [X, Y]),
    "clamp, tensor max": (lambda l, x, y: l.clamp(x, max=y), [X, Y]),
    "hardtanh": (lambda l, x: l.nn.functional.hardtanh(x), [ACT]),
    "relu6": (lambda l, x: l.nn.functional.relu6(x), [ACT]),
    "threshold": (lambda l, x: l.nn.functional.threshold(x, 1.0, -5.0), [ACT]),
    "threshold, nan value": (lambda l, x: l.nn.functional.threshold(x, 1.0, nan), [ACT]),
    "threshold, nan threshold": (lambda l, x: l.threshold(x, nan, 2.0), [ACT]),
    "threshold_": (lambda l, x: l.threshold_(x * 1, 0.5, -1.0), [ACT]),
    "F.threshold(inplace)": (lambda l, x: l.nn.functional.threshold(x * 1, 0.5, -1.0, inplace=True), [ACT]),
}


def _run(lib, f, arrays):
    ts = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = f(lib, *ts)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.dtype == lib.float64]
    w = [lib.arange(1, o.numel() + 1, dtype=lib.float64).reshape(o.shape) for o in outs]
    sum((o * k).sum() for o, k in zip(outs, w)).backward()
    return [o.detach().numpy().copy() for o in outs], [t.grad.numpy().copy() for t in ts]


@pytest.mark.parametrize("case", CASES)
def test_values_and_gradients_match_torch(case, torch):
    f, arrays = CASES[case]
    (tv, tg), (nv, ng) = _run(torch, f, arrays), _run(ndgrad, f, arrays)
    for a, b in zip(tv + tg, nv + ng):
        np.testing.assert_array_equal(b, a)


@pytest.mark.parametrize("op", ["fmax", "fmin", "maximum", "minimum"])
def test_second_order_through_nan_masks(op, torch):
    """The gradients above are themselves differentiable (create_graph) and agree with torch."""
    outs = []
    for lib in (torch, ndgrad):
        x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
        y = lib.tensor([0.5, 1.0, 2.0, 3.0, -inf, nan, nan, 0.0], dtype=lib.float64, requires_grad=True)
        z = getattr(lib, op)(x * x, y)
        g, = lib.autograd.grad(z.sum(), x, create_graph=True)
        g2, = lib.autograd.grad((g * lib.arange(8, dtype=lib.float64)).sum(), x)
        outs.append((g.detach().numpy(), g2.numpy()))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(b, a)
