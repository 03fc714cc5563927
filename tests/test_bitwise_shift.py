"""`<<`, `>>`, bitwise_left_shift/bitwise_right_shift and their in-place forms, against torch: a left shift wraps, a
right shift is arithmetic on signed types, and a count out of [0, bits) gives 0 or the sign."""
from __future__ import annotations

import pytest

import ndgrad

CASES = {
    "int8 << 2": lambda L: L.tensor([1, -8, 5], dtype=L.int8) << 2,
    "int8 >> 1": lambda L: L.tensor([1, -8, 5], dtype=L.int8) >> 1,
    "int8 << 8": lambda L: L.tensor([1, -8, 5], dtype=L.int8) << 8,
    "int8 >> 9": lambda L: L.tensor([1, -8, 5], dtype=L.int8) >> 9,
    "int8 >> -1": lambda L: L.tensor([1, -8, 5], dtype=L.int8) >> -1,
    "int8 << -1": lambda L: L.tensor([1, -8, 5], dtype=L.int8) << -1,
    "number << tensor": lambda L: 2 << L.tensor([1, 2]),
    "number >> tensor": lambda L: 64 >> L.tensor([1, 2]),
    "float << 1": lambda L: L.tensor([1.0]) << 1,
    "float >> 1": lambda L: L.tensor([1.0]) >> 1,
    "1 << float": lambda L: 1 << L.tensor([1.0]),
    "bool << 1": lambda L: L.tensor([True]) << 1,
    "bool << bool": lambda L: L.tensor([True]) << L.tensor([True]),
    "uint8 << int64": lambda L: L.tensor([1], dtype=L.uint8) << L.tensor([1]),
    "function": lambda L: L.bitwise_left_shift(L.tensor([1]), 3),
    "function right, counts": lambda L: L.bitwise_right_shift(L.tensor([-100, 100]), L.tensor([3, 70])),
    "int32 << 2**40": lambda L: L.tensor([1], dtype=L.int32) << 2 ** 40,
    "uint8 >> 1": lambda L: L.tensor([255], dtype=L.uint8) >> 1,
    "uint8 >> 8": lambda L: L.tensor([255], dtype=L.uint8) >> 8,
    "uint8 << 7": lambda L: L.tensor([255], dtype=L.uint8) << 7,
    "__ilshift__": lambda L: L.tensor([3]).__ilshift__(1),
    ">>= keeps the tensor": lambda L: (lambda t: (t.__irshift__(1), t)[1])(L.tensor([16, -16])),
    "method": lambda L: L.tensor([3]).bitwise_left_shift(2),
    "method_": lambda L: L.tensor([3]).bitwise_right_shift_(1),
    "<< 1.5": lambda L: L.tensor([1]) << 1.5,
    "int64 << 63": lambda L: L.tensor([1, 3]) << 63,
    "int64 >> 63": lambda L: L.tensor([-1, 3]) >> 63,
    "int16 counts": lambda L: L.tensor([1, 1, 1], dtype=L.int16) << L.tensor([15, 16, -3], dtype=L.int16),
    "broadcast": lambda L: L.tensor([[1], [2]]) << L.tensor([0, 1, 2]),
    "0-d": lambda L: L.tensor(5) << L.tensor(1),
    "a string": lambda L: L.bitwise_left_shift(L.tensor([1]), "b"),
}


def _result(f, L):
    try:
        r = f(L)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e).split("\n")[0]
    return str(r.tolist()), str(r.dtype).replace("ndgrad", "torch")


@pytest.mark.parametrize("case", CASES)
def test_shift_like_torch(torch, case):
    assert _result(CASES[case], ndgrad) == _result(CASES[case], torch)


def test_shift_rules_without_torch():
    t = ndgrad.tensor([1, -8, 100], dtype=ndgrad.int8)
    assert (t << 1).tolist() == [2, -16, -56]  # 200 wraps to -56
    assert (t >> 2).tolist() == [0, -2, 25]  # arithmetic: -8 >> 2 is -2
    assert (t << 8).tolist() == [0, 0, 0] and (t >> 8).tolist() == [0, -1, 0]
    u = ndgrad.tensor([255], dtype=ndgrad.uint8)
    assert (u >> 9).tolist() == [0] and (u << 1).tolist() == [254]
    with pytest.raises(NotImplementedError, match="lshift_cpu"):
        ndgrad.tensor([1.0]) << 1
