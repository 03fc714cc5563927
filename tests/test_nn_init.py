"""nn.init compared with torch: deterministic fills exactly, random fills by their distributions.

ndgrad's random stream differs from torch's, so random initialisers are compared on large tensors by
bounds, mean and standard deviation against torch's own samples (and against the theoretical values).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad.nn import init
from torchcmp import outcome, raises_like_torch


def _np(t):
    return t.detach().numpy()


GAINS = [("linear", None), ("conv1d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
         ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 1), ("selu", None)]


@pytest.mark.parametrize("nl,param", GAINS)
def test_calculate_gain(torch, nl, param):
    ours = init.calculate_gain(nl, param)
    theirs = torch.nn.init.calculate_gain(nl, param)
    assert ours == theirs and type(ours) is type(theirs)


@pytest.mark.parametrize("args", [("foo",), ("leaky_relu", "a"), ("leaky_relu", True)])
def test_calculate_gain_errors(torch, args):
    raises_like_torch(lambda lib: lib.nn.init.calculate_gain(*args), torch, ValueError)


@pytest.mark.parametrize("shape", [(3, 5), (7, 2, 3), (4, 3, 2, 5), (2, 1, 2, 2, 2), (0, 3), (1, 1)])
def test_fan_in_fan_out(torch, shape):
    assert init._calculate_fan_in_and_fan_out(ndgrad.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fan_errors(torch):
    raises_like_torch(lambda lib: lib.nn.init._calculate_fan_in_and_fan_out(lib.empty(3)), torch, ValueError)
    raises_like_torch(lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(3, 3), mode="bad"), torch, ValueError)
    assert init._calculate_correct_fan(ndgrad.empty(4, 3, 2), "FAN_OUT") == \
        torch.nn.init._calculate_correct_fan(torch.empty(4, 3, 2), "FAN_OUT")


# -- deterministic fills: exact ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fill", [
    lambda lib, t: lib.nn.init.constant_(t, 0.25),
    lambda lib, t: lib.nn.init.constant_(t, 3),
    lambda lib, t: lib.nn.init.ones_(t),
    lambda lib, t: lib.nn.init.zeros_(t),
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "float16"])
def test_constant_fills(torch, fill, dtype):
    res = []
    for lib in (ndgrad, torch):
        t = lib.full((2, 3), 7, dtype=getattr(lib, dtype))
        v0 = t._version
        out = fill(lib, t)
        res.append((out is t, str(t.dtype), t.tolist(), t._version > v0))
    assert res[0] == res[1]


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (5, 2)])
def test_eye(torch, shape):
    a, b = init.eye_(ndgrad.full(shape, 5.0)), torch.nn.init.eye_(torch.full(shape, 5.0))
    assert a.tolist() == b.tolist()
    assert init.eye_(ndgrad.full(shape, 5, dtype=ndgrad.int64)).tolist() == \
        torch.nn.init.eye_(torch.full(shape, 5, dtype=torch.int64)).tolist()


@pytest.mark.parametrize("shape,groups", [((4, 2, 3), 1), ((4, 2, 3), 2), ((3, 5, 3, 3), 1), ((6, 2, 3, 2), 3),
                                          ((2, 3, 3, 3, 3), 1), ((4, 1, 2, 2, 3), 2)])
def test_dirac(torch, shape, groups):
    a = init.dirac_(ndgrad.full(shape, 5.0), groups)
    b = torch.nn.init.dirac_(torch.full(shape, 5.0), groups)
    np.testing.assert_array_equal(_np(a), b.numpy())


def test_fill_on_leaf_parameter(torch):
    """Init functions work on parameters that require grad (they run outside autograd), like torch."""
    for lib in (ndgrad, torch):
        p = lib.nn.Parameter(lib.ones(3, 4))
        for f in (lambda: lib.nn.init.zeros_(p), lambda: lib.nn.init.uniform_(p),
                  lambda: lib.nn.init.kaiming_normal_(p), lambda: lib.nn.init.orthogonal_(p)):
            assert f() is p
        assert p.requires_grad and p.is_leaf and p.grad_fn is None
        t = lib.ones(4, 4)  # filling a view writes through to its base
        lib.nn.init.zeros_(t[1:3])
        assert t.sum().item() == 8.0


# -- random fills: by distribution -------------------------------------------------------------------------------
SHAPE = (400, 250)  # fan_in 250, fan_out 400, 100k samples


def _stats(t):
    a = _np(t).astype(np.float64)
    return a.mean(), a.std(), a.min(), a.max()


@pytest.mark.parametrize("name,kw,bound,std", [
    ("uniform_", dict(a=-1.0, b=3.0), (-1.0, 3.0), 4 / math.sqrt(12)),
    ("normal_", dict(mean=2.0, std=0.5), None, 0.5),
    ("xavier_uniform_", dict(gain=2.0), (-2.0 * math.sqrt(6 / 650),) * 2, 2.0 * math.sqrt(2 / 650)),
    ("xavier_normal_", dict(gain=0.5), None, 0.5 * math.sqrt(2 / 650)),
    ("kaiming_uniform_", dict(), (-math.sqrt(6 / 250),) * 2, math.sqrt(2 / 250)),
    ("kaiming_uniform_", dict(a=math.sqrt(5)), (-1 / math.sqrt(250),) * 2, 1 / math.sqrt(3 * 250)),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"), (-math.sqrt(6 / 400),) * 2, math.sqrt(2 / 400)),
    ("kaiming_normal_", dict(nonlinearity="relu"), None, math.sqrt(2 / 250)),
    ("kaiming_normal_", dict(mode="fan_out", nonlinearity="tanh"), None, 5 / 3 / math.sqrt(400)),
    ("trunc_normal_", dict(mean=0.5, std=1.0, a=-1.0, b=1.5), (-1.0, 1.5), None),
    ("trunc_normal_", dict(), (-2.0, 2.0), None),
    ("trunc_normal_", dict(mean=0.0, std=1.0, a=1.0, b=1.5), (1.0, 1.5), None),  # thin slice: rejection branch
    ("trunc_normal_", dict(mean=0.0, std=1.0, a=2.0, b=3.0), (2.0, 3.0), None),
])
def test_random_distributions(torch, name, kw, bound, std):
    ndgrad.manual_seed(0)
    torch.manual_seed(0)
    a = getattr(init, name)(ndgrad.empty(*SHAPE), **kw)
    b = getattr(torch.nn.init, name)(torch.empty(*SHAPE), **kw)
    (ma, sa, lo_a, hi_a), (mb, sb, lo_b, hi_b) = _stats(a), _stats(b)
    assert str(a.dtype) == str(b.dtype)
    assert abs(sa - sb) < 0.02 * sb  # both samples agree with each other...
    assert abs(ma - mb) < 0.03 * sb + 1e-12
    if std is not None:  # ...and with the theoretical standard deviation
        assert abs(sa - std) < 0.02 * std
    if bound is not None:
        lo, hi = (bound[0], -bound[1]) if bound[0] == bound[1] else bound
        assert lo <= lo_a and hi_a <= hi
        assert lo_a - lo < 0.01 * (hi - lo) and hi - hi_a < 0.01 * (hi - lo)  # the range is used fully
        assert lo <= lo_b and hi_b <= hi


@pytest.mark.parametrize("dtype", ["float64", "float16", "complex64"])
@pytest.mark.parametrize("name", ["uniform_", "normal_"])
def test_random_dtypes(torch, dtype, name):
    a = getattr(init, name)(ndgrad.zeros(200, 200, dtype=getattr(ndgrad, dtype)))
    b = getattr(torch.nn.init, name)(torch.zeros(200, 200, dtype=getattr(torch, dtype)))
    assert str(a.dtype) == str(b.dtype)
    for part in (np.real, np.imag):
        xa, xb = part(_np(a)).astype(np.float64), part(b.numpy()).astype(np.float64)
        assert abs(xa.std() - xb.std()) < 0.03 * max(xb.std(), 1e-3) + 1e-9
        assert abs(xa.mean() - xb.mean()) < 0.03


def test_generator_reproducible():
    g1, g2 = ndgrad.Generator().manual_seed(5), ndgrad.Generator().manual_seed(5)
    for name in ("uniform_", "normal_", "xavier_uniform_", "kaiming_normal_", "trunc_normal_", "orthogonal_"):
        a = getattr(init, name)(ndgrad.empty(6, 4), generator=g1)
        b = getattr(init, name)(ndgrad.empty(6, 4), generator=g2)
        assert a.tolist() == b.tolist()
    ndgrad.manual_seed(3)
    a = init.normal_(ndgrad.empty(5))
    ndgrad.manual_seed(3)
    assert init.normal_(ndgrad.empty(5)).tolist() == a.tolist()
    assert init.normal_(ndgrad.empty(5)).tolist() != a.tolist()


@pytest.mark.parametrize("shape,gain", [((6, 4), 1.0), ((4, 6), 2.0), ((5, 5), 0.5), ((3, 2, 2, 2), 1.0),
                                        ((8, 3, 1), 1.5)])
def test_orthogonal(torch, shape, gain):
    a = _np(init.orthogonal_(ndgrad.empty(*shape, dtype=ndgrad.float64), gain=gain)).reshape(shape[0], -1)
    b = torch.nn.init.orthogonal_(torch.empty(*shape, dtype=torch.float64), gain=gain).numpy().reshape(shape[0], -1)
    for m in (a, b):
        small = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        np.testing.assert_allclose(small, gain ** 2 * np.eye(small.shape[0]), atol=1e-12)
    # the same singular values as torch's (all equal to gain)
    np.testing.assert_allclose(np.linalg.svd(a, compute_uv=False), np.linalg.svd(b, compute_uv=False), atol=1e-12)


def test_orthogonal_empty(torch):
    for lib in (ndgrad, torch):
        t = lib.empty(0, 3)
        assert lib.nn.init.orthogonal_(t) is t


def test_sparse(torch):
    a = init.sparse_(ndgrad.empty(200, 30), 0.25, std=0.5)
    b = torch.nn.init.sparse_(torch.empty(200, 30), 0.25, std=0.5)
    za, zb = (_np(a) == 0).sum(0), (b.numpy() == 0).sum(0)
    np.testing.assert_array_equal(za, zb)  # ceil(0.25 * 200) zeros per column
    nz_a, nz_b = _np(a)[_np(a) != 0], b.numpy()[b.numpy() != 0]
    assert abs(nz_a.std() - nz_b.std()) < 0.05 * nz_b.std()


def test_trunc_normal_warns(torch):
    res = []
    for lib in (ndgrad, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t = lib.nn.init.trunc_normal_(lib.empty(100), mean=10.0)
        res.append([(x.category, str(x.message)) for x in w])
        assert float(t.max()) <= 2.0
    assert res[0] == res[1] and len(res[0]) == 1


def test_zero_element_kaiming_warns(torch):
    res = []
    for lib in (ndgrad, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.init.kaiming_uniform_(lib.empty(0, 3))
            lib.nn.init.kaiming_normal_(lib.empty(3, 0))
        res.append([(x.category, str(x.message)) for x in w])
    assert res[0] == res[1] and len(res[0]) == 2


def test_deprecated_aliases(torch):
    res = []
    for lib in (ndgrad, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.init.uniform(lib.empty(3, 3))
            lib.nn.init.xavier_normal(lib.empty(3, 3))
            lib.nn.init.constant(lib.empty(3, 3), 1.0)
        res.append([(x.category, str(x.message)) for x in w])
    assert res[0] == res[1] and len(res[0]) == 3


def test_all_matches_torch(torch):
    assert sorted(init.__all__) == sorted(torch.nn.init.__all__)


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.init.uniform_(lib.empty(3), 1.0, 0.0),
    lambda lib: lib.nn.init.trunc_normal_(lib.empty(3), a=1.0, b=0.0),
    lambda lib: lib.nn.init.normal_(lib.empty(3), 0.0, -1.0),
    lambda lib: lib.nn.init.uniform_(lib.ones(2, dtype=lib.int64)),
    lambda lib: lib.nn.init.uniform_(lib.ones(2, dtype=lib.bool)),
    lambda lib: lib.nn.init.normal_(lib.ones(2, dtype=lib.int64)),
    lambda lib: lib.nn.init.xavier_uniform_(lib.ones(2, 2, dtype=lib.int64)),
    lambda lib: lib.nn.init.orthogonal_(lib.ones(2, 2, dtype=lib.int64)),
    lambda lib: lib.nn.init.eye_(lib.empty(2, 2, 2)),
    lambda lib: lib.nn.init.dirac_(lib.empty(3, 3)),
    lambda lib: lib.nn.init.dirac_(lib.empty(3, 2, 2), groups=2),
    lambda lib: lib.nn.init.orthogonal_(lib.empty(3)),
    lambda lib: lib.nn.init.sparse_(lib.empty(2, 2, 2), 0.1),
    lambda lib: lib.nn.init.xavier_normal_(lib.empty(3)),
    lambda lib: lib.nn.init.constant_(lib.empty(3), "a"),
    lambda lib: lib.nn.init.uniform_(lib.empty(3), float("nan"), 1.0),
])
def test_init_errors(torch, case):
    want = outcome(case, torch)
    assert want is not None
    assert outcome(case, ndgrad) == want
