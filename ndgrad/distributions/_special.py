"""Private special functions of the distributions: the regularised incomplete gamma function (Gamma's cdf)."""
from __future__ import annotations

import math

import numpy as np

import ndgrad as _t
from .._ops._registry import PROMOTE_FLOAT, Op


def _gammainc_np(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(a, x): power series for x < a + 1, Lentz's continued fraction for Q otherwise."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.zeros(a.shape)
    lg = np.vectorize(math.lgamma, otypes=[np.float64])
    flat_a, flat_x, flat_o = a.ravel(), x.ravel(), out.ravel()
    for i in range(flat_a.size):
        ai, xi = flat_a[i], flat_x[i]
        if not (ai > 0) or np.isnan(xi):
            flat_o[i] = np.nan
            continue
        if xi <= 0:
            flat_o[i] = 0.0
            continue
        if np.isinf(xi):
            flat_o[i] = 1.0
            continue
        front = math.exp(ai * math.log(xi) - xi - float(lg(ai)))
        if xi < ai + 1:
            term = 1.0 / ai
            s = term
            n = 0
            while abs(term) > abs(s) * 1e-17 and n < 100000:
                n += 1
                term *= xi / (ai + n)
                s += term
            flat_o[i] = min(front * s, 1.0)
        else:
            tiny = 1e-300
            b = xi + 1 - ai
            c = 1 / tiny
            d = 1 / b
            h = d
            for n in range(1, 100000):
                an = -n * (n - ai)
                b += 2
                d = an * d + b
                d = tiny if abs(d) < tiny else d
                c = b + an / c
                c = tiny if abs(c) < tiny else c
                d = 1 / d
                delta = d * c
                h *= delta
                if abs(delta - 1) < 1e-16:
                    break
            flat_o[i] = 1.0 - front * h
    return flat_o.reshape(a.shape)


def _gammainc_fwd(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    return _gammainc_np(a, x).astype(np.result_type(a.dtype, x.dtype))


def _no_a(grad: object) -> object:
    raise NotImplementedError("derivative for aten::igamma is not implemented.")


gammainc = Op("_gammainc", _gammainc_fwd, ("self", "other"), node="IgammaBackward0", dtype=PROMOTE_FLOAT)
gammainc.defvjp(self=lambda grad: _no_a(grad),
                other=lambda grad, self, other: grad * _t.exp((self - 1) * _t.log(other) - other - _t.lgamma(self)))
