"""The generated per-op calls (ndgrad/_ops/_fastcall.py) record exactly what the generic call records.

Each case calls an op twice on the same inputs: through its generated class, and through the generic
`_Op1.__call__` / `_Op2.__call__` of `_registry.py` (the definition). The results and their nodes must agree in
everything the engine reads: values, dtype, requires_grad, node class, edges, saved values, version entries,
input metadata, `_keep`, and a view's base and chain."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad
from ndgrad._ops import _registry as R
from ndgrad._ops import pointwise as P
from ndgrad._ops import shape as S
from ndgrad._ops import special as Sp


def _generic(op, *args):
    base = R._Op1 if isinstance(op, R._Op1) else R._Op2 if isinstance(op, R._Op2) else R.Op
    return base.__dict__["__call__"](op, *args)  # (a specialised op's class is not base: the generic body runs)


def _hot(op, *args):
    """Call `op` until its call is generated (at its GENERATE_AFTER-th call)."""
    for _ in range(R.GENERATE_AFTER):
        try:
            op(*args)
        except Exception:  # noqa: BLE001 (the cases compare errors themselves)
            pass


def _same_value(u, v):
    if isinstance(u, np.ndarray) or isinstance(v, np.ndarray):
        return u is v or (type(u) is type(v) and u.dtype == v.dtype and u.shape == v.shape
                          and np.array_equal(u, v, equal_nan=True))
    return u is v or u == v


def _assert_same(r1, r2):
    assert type(r1) is type(r2)
    if not isinstance(r1, ndgrad.Tensor):
        assert _same_value(r1, r2)
        return
    assert _same_value(r1._data, r2._data)
    assert r1._requires_grad == r2._requires_grad
    assert r1._output_nr == r2._output_nr and r1._grad is None and r2._grad is None
    assert (r1._vc is r2._vc) or (r1._vc == r2._vc and r1._vc is not r2._vc)
    assert r1._base is r2._base and r1.__dict__.get("_view_chain") == r2.__dict__.get("_view_chain")
    n1, n2 = r1.grad_fn, r2.grad_fn
    assert (n1 is None) == (n2 is None)
    if n1 is None:
        return
    assert type(n1) is type(n2)
    assert n1.next_functions == n2.next_functions  # the same nodes (a leaf's AccumulateGrad is shared)
    assert n1._meta == n2._meta
    assert n1._keep == n2._keep
    s1, s2 = n1._saved, n2._saved
    assert (s1 is None) == (s2 is None)
    if s1 is not None:
        assert len(s1) == len(s2)
        for u, v in zip(s1, s2):
            if u is r1._data:  # the result itself
                assert v is r2._data
            else:
                assert _same_value(u, v)
    v1, v2 = list(n1._versions), list(n2._versions)
    assert len(v1) == len(v2)
    for e1, e2 in zip(v1, v2):
        assert e1[0] == e2[0] and e1[2] == e2[2] and e1[3] is e2[3]
        assert e1[1] is e2[1] or (e1[3] is None and e1[1] is r1._vc and e2[1] is r2._vc)
    assert n1._seq < n2._seq


def _t(data, dtype=ndgrad.float32, req=True):
    return ndgrad.tensor(data, dtype=dtype, requires_grad=req)


def _two_input_cases():
    x = _t([[0.5, -1.5, 2.0]])
    y = _t([[1.25, 3.0, -0.75]])
    c = _t([[2.0], [4.0]], req=False)      # broadcasts against x
    h = x * 1.0                            # a non-leaf
    i = ndgrad.tensor([[1, 2, 3]])         # integers: the generic path
    d = _t([[0.5, 1.5, 2.0]], dtype=ndgrad.float64)
    ops = [P.mul, P.add, P.div, P.maximum, Sp.atan2_op, P.pow_tt, P.eq]
    pairs = [(x, y), (h, y), (x, c), (c, x), (c, c), (h, 2.5), (h, 3), (h, 0.0), (h, -0.0), (x, i), (i, i),
             (d, d), (x, d)]
    for op in ops:
        for a, b in pairs:
            yield op, (a, b)
    for a, b in ((x, 2.0), (h, 3), (h, y), (c, x)):  # edges of one input only; formulas of one input only
        yield P.rsub, (a, b, 1)
        yield P.pow, (a, b)
        yield P.remainder, (a, b)
        yield Sp.xlogy_ts, (a, b)
        yield Sp.copysign_ts, (a, b)
    for a in (x, h, c):
        yield P.pow_st, (_t(2.0, req=False), a)
    for alpha in (1, 2, 0.5, True):
        yield P.sub, (h, y, alpha)
        yield P.sub, (x, c, alpha)
        yield P.sub, (h, 2.5, alpha)
        yield P.sub, (x, i, alpha)


def _one_input_cases():
    x = _t([[0.5, -1.5, 2.0]])
    h = x * 1.0
    v = h[0:]                              # a view: the chain grows
    i = ndgrad.tensor([[1, 2, 3]])
    for op in (P.sin, P.sigmoid, P.tanh, P.exp, P.neg, P.abs, P.relu, P.sqrt, P.floor):
        for a in (x, h, v, i, _t([[1.0, 2.0]], req=False)):
            yield op, (a,)
    for a in (x, h, v):
        yield S.transpose, (a, 0, 1)
        yield S.view, (a, (3, 1))
        yield S.slice_, (a, (slice(1, None),))
        yield S.select, (a, (0,))
        yield S.unsqueeze, (a, 0)


def _three_input_cases():
    from ndgrad._ops import linalg as L
    x = _t([[0.5, -1.5, 2.0], [1.0, 0.25, -3.0]])
    y = _t([[1.25, 3.0, -0.75], [2.0, -1.0, 0.5]])
    z = _t([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], req=False)
    h = x * 1.0
    row = _t([0.5, 1.0, -2.0])
    cond = ndgrad.tensor([[True, False, True], [False, False, True]])
    i = ndgrad.tensor([[1, 2, 3], [4, 5, 6]])
    d = _t([[0.5, 1.5, 2.0], [1.0, 1.0, 1.0]], dtype=ndgrad.float64)
    w = _t([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    for b in (row, _t([0.5, 1.0], req=False)):
        for m1, m2 in ((h, w), (x, w.t()), (z, w)):
            for beta, alpha in ((1, 1), (0.5, 2)):
                yield L.addmm, (b if b.shape[0] == m2.shape[1] else _t([0.5, 1.0]), m1, m2, beta, alpha)
    for a, b_, c in ((x, y, z), (z, x, y), (z, z, x), (h, y, 2.0), (x, i, y), (x, y, d), (z, z, z), (x, x, x)):
        yield Sp.addcmul_op, (a, b_, c, 0.5)
        yield Sp.lerp_t, (a, b_, c)
        yield P.clamp_t, (a, b_, c)
    for a, b_ in ((x, y), (z, x), (x, z), (x, 0.0), (x, d), (i, i)):
        yield P.where, (cond, a, b_)


@pytest.mark.parametrize("case", list(_two_input_cases()) + list(_one_input_cases()) + list(_three_input_cases()),
                         ids=lambda c: c[0].name if isinstance(c, tuple) else str(c))
def test_generated_call_records_what_the_generic_call_records(case):
    op, args = case
    _hot(op, *args)
    assert type(op).__dict__.get("_base_cls") in (R._Op1, R._Op2, R.Op), "the op was not given a generated class"
    try:
        r1 = op(*args)
    except Exception as e:  # noqa: BLE001
        with pytest.raises(type(e)) as info:
            _generic(op, *args)
        assert str(info.value) == str(e)
        return
    r2 = _generic(op, *args)
    _assert_same(r1, r2)


def test_generated_call_on_arrays_is_the_forward():
    a, b = np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0], np.float32)
    _hot(P.mul, _t([1.0]), _t([2.0]))
    _hot(P.sin, _t([1.0]))
    assert np.array_equal(P.mul(a, b), a * b) and type(P.mul(a, b)) is np.ndarray
    assert np.array_equal(P.sin(a), np.sin(a))


def test_no_grad_and_non_float_results():
    x = _t([0.5, 2.0])
    with ndgrad.no_grad():
        r = x * x
    assert r.grad_fn is None and not r.requires_grad
    r = x > 1.0
    assert r.grad_fn is None and r.dtype == ndgrad.bool


def test_defvjp_regenerates():
    op = R.Op("twice_test", lambda a, b: a * 2 + b, ("self", "other"))
    op.defvjp(self=lambda grad: grad * 2, other=lambda grad: grad)
    x, y = _t([1.0, 2.0]), _t([3.0, 4.0])
    for k in range(R.GENERATE_AFTER):
        assert type(op) is R._Op2  # (generated at the GENERATE_AFTER-th call, not before)
        x.grad = None
        op(x, y).sum().backward()
    assert type(op).__dict__.get("_base_cls") is R._Op2
    assert x.grad.tolist() == [2.0, 2.0]
    op.defvjp(self=lambda grad: grad * 3)  # new formula: the generated code must not keep the old plan
    assert type(op) is R._Op2
    x.grad = None
    op(x, y).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_not_specialised_while_forward_mode_wraps_calls():
    import ndgrad.autograd.forward_ad as fwAD
    op = R.Op("fw_probe_test", np.sin, ("self",))
    op.defvjp(self=lambda grad, self: grad * P.cos(self)).defjvp(elementwise=True)
    x = _t([0.5, 1.0], req=False)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, ndgrad.ones_like(x))
        for _ in range(2 * R.GENERATE_AFTER):
            r = op(d)
            assert type(op) is R._Op1  # (a new class made now would escape forward mode's wrapper)
            assert np.allclose(fwAD.unpack_dual(r).tangent.numpy(), np.cos(x.numpy()))
    _hot(op, x)
    assert type(op) is not R._Op1 and isinstance(op, R._Op1)
    with fwAD.dual_level():  # a specialised op is wrapped like any other
        d = fwAD.make_dual(x, ndgrad.ones_like(x))
        assert np.allclose(fwAD.unpack_dual(op(d)).tangent.numpy(), np.cos(x.numpy()))


def test_generated_source_is_readable():
    _hot(P.mul, _t([1.0]), _t([2.0]))
    src = type(P.mul).__call__._src
    assert "node._saved = [da, db, None]" in src  # mul saves both inputs when both require grad


def test_generic_calls_while_node_creation_is_instrumented():
    x = _t([0.5, 1.0])
    _hot(P.mul, x, x)
    fast = type(P.mul)
    with ndgrad.autograd.detect_anomaly():
        assert type(P.mul) is R._Op2  # anomaly mode wraps _record2, which the generated code does not call
        y = P.mul(x, x)
        assert y.grad_fn.__dict__.get("_anomaly_trace")
    with ndgrad.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        assert type(P.mul) is R._Op2
        assert P.mul(x, x).grad_fn._packed
    P.mul(x, x)
    assert type(P.mul) is fast  # made once, put back
