"""A Python number meeting a tensor's dtype, as torch converts it: a stored value (x[i] = v, fill_, full, masked_fill,
index_fill) is checked ("value cannot be converted to type uint8_t without overflow", with torch's allowance for
negative integers into unsigned types), and an integer op's number operand wraps (uint8 + 300 is uint8 + 44)."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad

DTYPES = ["uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "bool"]
VALUES = [300, -1, -255, -256, 128, -129, 2 ** 31, 2 ** 63 - 1, 1.5, -1.5, 300.5, 1e6, 1e39, 1e300, -70000.0,
          float("nan"), float("inf"), True]
STORES = {
    "setitem": lambda L, t, v: t.__setitem__(0, v),
    "setitem slice": lambda L, t, v: t.__setitem__(slice(0, 1), v),
    "setitem all": lambda L, t, v: t.__setitem__(slice(None), v),
    "setitem mask": lambda L, t, v: t.__setitem__(L.tensor([True, False]), v),
    "fill_": lambda L, t, v: t.fill_(v),
    "masked_fill_": lambda L, t, v: t.masked_fill_(L.tensor([True, False]), v),
    "index_fill_": lambda L, t, v: t.index_fill_(0, L.tensor([1]), v),
}


def _result(f, L):
    try:
        r = f(L)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    return str(r.tolist()), str(r.dtype).replace("ndgrad", "torch")


@pytest.mark.parametrize("how", STORES)
@pytest.mark.parametrize("dt", DTYPES)
def test_stored_number_converted_or_refused_like_torch(torch, how, dt):
    for v in VALUES:
        def f(L, v=v):
            t = L.zeros(2, dtype=getattr(L, dt))
            STORES[how](L, t, v)
            return t
        assert _result(f, ndgrad) == _result(f, torch), (how, dt, v)


@pytest.mark.parametrize("dt", DTYPES)
def test_full_and_friends_like_torch(torch, dt):
    for v in VALUES + [2 ** 63]:
        for f in (lambda L: L.full((2,), v, dtype=getattr(L, dt)),
                  lambda L: L.full_like(L.zeros(2, dtype=getattr(L, dt)), v),
                  lambda L: L.zeros(1, dtype=getattr(L, dt)).new_full((2,), v),
                  lambda L: L.zeros(2, dtype=getattr(L, dt)).masked_fill(L.tensor([False, True]), v)):
            assert _result(f, ndgrad) == _result(f, torch), (dt, v)


INT_OPS = {
    "add": lambda t, v: t + v, "sub": lambda t, v: t - v, "rsub": lambda t, v: v - t, "mul": lambda t, v: t * v,
    "floordiv": lambda t, v: t // v, "mod": lambda t, v: t % v, "truediv": lambda t, v: t / v,
    "lt": lambda t, v: t < v, "eq": lambda t, v: t == v, "ne": lambda t, v: t.ne(v), "and": lambda t, v: t & v,
    "add_": lambda t, v: t.clone().add_(v), "mul_": lambda t, v: t.clone().mul_(v),
    "sub alpha": lambda t, v: t.sub(v, alpha=2), "pow": lambda t, v: t ** v if isinstance(v, int) else t,
    "clamp": lambda t, v: t.clamp(min=-1, max=v) if isinstance(v, int) else t,
}


@pytest.mark.parametrize("op", INT_OPS)
@pytest.mark.parametrize("dt", ["uint8", "int8", "int16", "int32", "int64"])
def test_integer_op_with_an_out_of_range_number_like_torch(torch, op, dt):
    for v in (300, -1, -300, 200, 2 ** 40, 1.5):
        def f(L, v=v):
            return INT_OPS[op](L.tensor([120, 10, 3], dtype=getattr(L, dt)), v)
        assert _result(f, ndgrad) == _result(f, torch), (op, dt, v)


@pytest.mark.parametrize("dt", ["uint8", "int64"])
def test_numbers_beyond_64_bits_like_torch(torch, dt):
    for v in (2 ** 63, 2 ** 64, -(2 ** 63) - 1):
        for f in (lambda L: L.tensor([120, 10], dtype=getattr(L, dt)) + v,
                  lambda L: L.tensor([120, 10], dtype=getattr(L, dt)) < v):
            assert _result(f, ndgrad) == _result(f, torch), (dt, v)


TENSOR_DATA = [([250, 10], "int8"), ([-1, 2], "uint8"), ([300], "uint8"), ([1e39], "float32"), ([1.5, -1.5], "uint8"),
               ([float("nan")], "int32"), (250, "int8"), ([[1, 300]], "uint8"), ((300,), "uint8"), ([True, 300], "uint8"),
               ([1.5, 2.5], "int64"), (3.7, "int32"), ([], "uint8"), ([-255], "uint8"), ([-256], "uint8")]


@pytest.mark.parametrize("data,dt", TENSOR_DATA)
def test_tensor_of_numbers_checked_like_torch(torch, data, dt):
    f = lambda L: L.tensor(data, dtype=getattr(L, dt))  # noqa: E731
    assert _result(f, ndgrad) == _result(f, torch)


def test_the_rules_without_torch():
    t = ndgrad.zeros(3, dtype=ndgrad.uint8)
    t[:2] = -1  # an integer reaches an unsigned type from as low as -255, two's complement
    assert t.tolist() == [255, 255, 0]
    with pytest.raises(RuntimeError, match="^value cannot be converted to type uint8_t without overflow$"):
        t.fill_(300)
    with pytest.raises(RuntimeError, match="^value cannot be converted to type int without overflow$"):
        ndgrad.full((2,), float("nan"), dtype=ndgrad.int32)
    with pytest.raises(RuntimeError, match="^value cannot be converted to type float without overflow$"):
        ndgrad.zeros(2)[0] = 1e39
    h = ndgrad.zeros(1, dtype=ndgrad.float16)
    h[0] = 1e6  # stored unchecked into float16, as torch does (fill_ checks)
    assert h.tolist() == [float("inf")]
    u = ndgrad.tensor([250, 10], dtype=ndgrad.uint8)
    assert (u + 300).tolist() == [(250 + 300) % 256, (10 + 300) % 256]
    assert (u < 300).tolist() == [250 < 300 % 256, 10 < 300 % 256]  # compared with the wrapped value
    assert (ndgrad.tensor([100, -5], dtype=ndgrad.int8) + 200).tolist() == [44, -61]
    with pytest.raises(RuntimeError, match="uint8_t without overflow"):
        u ** 256


MORE = {
    "where other": lambda L, v: L.where(L.tensor([250, 10], dtype=L.uint8) > 100, L.tensor([250, 10], dtype=L.uint8), v),
    "where input": lambda L, v: L.where(L.tensor([250, 10], dtype=L.uint8) > 100, v, L.tensor([250, 10], dtype=L.uint8)),
    "scalar_tensor": lambda L, v: L.scalar_tensor(v, dtype=L.uint8),
    "clamp_min": lambda L, v: L.tensor([250, 10], dtype=L.uint8).clamp_min(v),
    "clamp_max": lambda L, v: L.tensor([250, 10], dtype=L.uint8).clamp_max(v),
    "as_tensor": lambda L, v: L.as_tensor([v], dtype=L.uint8),
    "add alpha": lambda L, v: L.add(L.tensor([250, 10], dtype=L.uint8), 1, alpha=v),
    "sub alpha": lambda L, v: L.tensor([250, 10], dtype=L.uint8).sub(L.tensor([1, 2], dtype=L.uint8), alpha=v),
    "addcmul value": lambda L, v: L.addcmul(*[L.tensor([250, 10], dtype=L.uint8)] * 3, value=v),
}


@pytest.mark.parametrize("how", MORE)
def test_numbers_given_to_integer_ops_like_torch(torch, how):
    for v in (300, -1, -255, -256, 2 ** 40, 1.5, True):
        f = lambda L, v=v: MORE[how](L, v)  # noqa: E731
        assert _result(f, ndgrad) == _result(f, torch), (how, v)


ALPHA = {
    "float tensor, bool alpha": lambda L: L.add(L.tensor([1.0]), 1, alpha=True),
    "bool tensors, bool alpha": lambda L: L.add(L.tensor([True, False]), True, alpha=True),
    "bool tensors, int alpha": lambda L: L.add(L.tensor([True, False]), L.tensor([False, True]), alpha=2),
    "int tensor, float alpha": lambda L: L.sub(L.tensor([3, 4]), 1, alpha=1.5),
    "int and float tensors, float alpha": lambda L: L.add(L.tensor([1, 2]), L.tensor([1.5, 2.5]), alpha=1.5),
    "int tensor, float other, int alpha": lambda L: L.add(L.tensor([1, 2]), 1.5, alpha=2),
    "uint8 minus twice a tensor": lambda L: L.tensor([250, 10], dtype=L.uint8).sub(L.tensor([3, 9], dtype=L.uint8), alpha=2),
    "uint8 and int64 tensors, alpha past uint8": lambda L: L.add(L.tensor([1], dtype=L.uint8), L.tensor([1]), alpha=300),
}


@pytest.mark.parametrize("case", ALPHA)
def test_alpha_checked_and_typed_like_torch(torch, case):
    assert _result(ALPHA[case], ndgrad) == _result(ALPHA[case], torch)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (ndgrad filters NumPy's division warnings; pytest resets that)
def test_a_negative_zero_operand_is_not_the_cached_positive_zero():
    """The fast path's 0-d number constants are cached by value, and -0.0 == 0.0 == 0 as dict keys: a -0.0 once
    reused 0.0's constant (x * -0.0 gave +0 for positive x, 1 / that +inf)."""
    x = ndgrad.tensor([1.0, -2.0, 0.0])
    xs = x.numpy()
    for op in (lambda a, c: a * c, lambda a, c: a + c, lambda a, c: a - c, lambda a, c: a / c):
        for c in (0.0, -0.0, 0, -0.0, 0.0):  # (each zero after the other, in both orders)
            got = op(x, c).numpy()
            with np.errstate(all="ignore"):
                want = op(xs, np.float32(c))
            assert np.array_equal(np.signbit(got), np.signbit(want)), (c, got, want)
    y = ndgrad.tensor([1.0], dtype=ndgrad.float64)
    assert ndgrad.signbit(y * 0.0).item() is False and ndgrad.signbit(y * -0.0).item() is True
