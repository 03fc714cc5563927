"""Property tests for the training side: random configurations of convolutions, pooling and losses agree with
torch (values and gradients), and save/load returns any nested structure exactly."""
from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ndgrad

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _pair(lib, fn, arrays, **kw):
    """fn on both libraries from the same arrays: (output, gradients of sum(output * weights))."""
    ts = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(lib, *ts, **kw)
    w = lib.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))
    (out * w).sum().backward()
    return out.detach().numpy(), [None if t.grad is None else t.grad.numpy() for t in ts if t.requires_grad]


def _agree(torch, fn, arrays, **kw):
    (oa, ga), (ob, gb) = _pair(ndgrad, fn, arrays, **kw), _pair(torch, fn, arrays, **kw)
    np.testing.assert_allclose(oa, ob, rtol=1e-10, atol=1e-12)
    for a, b in zip(ga, gb):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@st.composite
def conv_configs(draw):
    groups = draw(st.sampled_from([1, 2]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    k = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 2))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.integers(0, 2))
    size = draw(st.integers((k - 1) * dilation + 1, 7))
    seed = draw(st.integers(0, 2**16))
    return cin, cout, k, stride, dilation, padding, groups, size, seed


@SETTINGS
@given(conv_configs(), st.booleans())
def test_conv2d_random_configurations(torch, cfg, bias):
    cin, cout, k, stride, dilation, padding, groups, size, seed = cfg
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((2, cin, size, size + 1)), rng.standard_normal((cout, cin // groups, k, k))]
    if bias:
        arrays.append(rng.standard_normal(cout))

    def f(lib, x, w, b=None):
        return lib.nn.functional.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    _agree(torch, f, arrays)


@SETTINGS
@given(conv_configs())
def test_conv_transpose2d_random_configurations(torch, cfg):
    cin, cout, k, stride, dilation, padding, groups, size, seed = cfg
    rng = np.random.default_rng(seed)
    padding = min(padding, (k - 1) * dilation)  # torch requires output size > 0
    arrays = [rng.standard_normal((2, cin, size, size)), rng.standard_normal((cin, cout // groups, k, k)),
              rng.standard_normal(cout)]

    def f(lib, x, w, b):
        return lib.nn.functional.conv_transpose2d(x, w, b, stride=stride, padding=padding, dilation=dilation,
                                                  groups=groups)
    _agree(torch, f, arrays)


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.booleans(), st.booleans(), st.integers(0, 2**16))
def test_pools_random_configurations(torch, k, stride, padding, ceil_mode, count_include_pad, seed):
    padding = min(padding, k // 2)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 7, 6))

    def mx(lib, t):
        return lib.nn.functional.max_pool2d(t, k, stride, padding, ceil_mode=ceil_mode)

    def avg(lib, t):
        return lib.nn.functional.avg_pool2d(t, k, stride, padding, ceil_mode=ceil_mode,
                                            count_include_pad=count_include_pad)

    def adaptive(lib, t):
        return lib.nn.functional.adaptive_avg_pool2d(t, (k + 1, stride + 1))
    for fn in (mx, avg, adaptive):
        _agree(torch, fn, [x])


@SETTINGS
@given(st.integers(1, 5), st.integers(2, 5), st.sampled_from(["mean", "sum", "none"]),
       st.sampled_from([0.0, 0.2]), st.booleans(), st.booleans(), st.integers(0, 2**16))
def test_cross_entropy_random_configurations(torch, n, c, reduction, smoothing, weighted, ignore, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c, 2))
    target = rng.integers(0, c, (n, 2))
    if ignore:
        target[0, 0] = 1  # at least one target is ignored
    weight = rng.uniform(0.5, 2.0, c) if weighted else None

    def f(lib, x, t, w=None):
        return lib.nn.functional.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=smoothing,
                                               ignore_index=1 if ignore else -100)
    arrays = [logits, target] + ([weight] if weighted else [])
    if weighted:
        def g(lib, x, t, w):
            return f(lib, x, t, w.detach())
        _agree(torch, g, arrays)
    else:
        _agree(torch, f, arrays)


_leaf = st.one_of(
    st.integers(-2**70, 2**70), st.floats(allow_nan=False), st.booleans(), st.none(), st.text(max_size=5),
    st.builds(lambda s, d, seed: ndgrad.tensor(np.random.default_rng(seed).standard_normal(s).astype(d)),
              st.lists(st.integers(0, 3), max_size=3).map(tuple), st.sampled_from([np.float32, np.float64]),
              st.integers(0, 99)))
_tree = st.recursive(_leaf, lambda kids: st.one_of(st.lists(kids, max_size=3), st.tuples(kids, kids),
                                                   st.dictionaries(st.text(max_size=3), kids, max_size=3)),
                     max_leaves=8)


def _same(a, b):
    assert type(a) is type(b)
    if isinstance(a, ndgrad.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b


@settings(max_examples=40, deadline=None)
@given(_tree)
def test_save_load_round_trips_any_nested_structure(obj):
    buf = io.BytesIO()
    ndgrad.save(obj, buf)
    buf.seek(0)
    _same(obj, ndgrad.load(buf))


def test_property_module_is_collected():
    # guards against the hypothesis decorators silently producing zero tests
    assert pytest is not None and callable(test_save_load_round_trips_any_nested_structure)
