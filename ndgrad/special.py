"""Mirrors `torch.special`: every public function of torch 2.13's namespace.

New ops live in `_ops/specfun.py` (kernels in `_ops/_specfun_kernels.py`); the functions torch.special shares
with the main namespace (erf, expm1, logit, softmax...) are the same ops, so grad_fn names agree with torch's.
"""
from __future__ import annotations

from typing import Any

from . import _ops as _O
from ._ops import _specfun_kernels as _K
from ._ops import specfun as _S
from ._ops._registry import FLOAT, PROMOTE_FLOAT, Op
from ._tensor import Tensor

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "chebyshev_polynomial_t",
    "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w", "digamma", "entr", "erf", "erfc",
    "erfcx", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc", "gammaln", "hermite_polynomial_h",
    "hermite_polynomial_he", "i0", "i0e", "i1", "i1e", "laguerre_polynomial_l", "legendre_polynomial_p", "log1p",
    "log_ndtr", "log_softmax", "logit", "logsumexp", "modified_bessel_i0", "modified_bessel_i1",
    "modified_bessel_k0", "modified_bessel_k1", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round",
    "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "sinc",
    "softmax", "spherical_bessel_j0", "xlog1py", "xlogy", "zeta",
]

erfcx = _S.special_erfcx
ndtr = _S.special_ndtr
log_ndtr = _S.special_log_ndtr
ndtri = _S.special_ndtri
i0 = _S.special_i0
i0e = _S.special_i0e
i1 = _S.special_i1
i1e = _S.special_i1e
entr = _S.special_entr
xlog1py = _S.special_xlog1py
zeta = _S.special_zeta

# -- the functions torch does not differentiate (their outputs never require grad): ops without formulas,
# built here rather than in _ops/specfun.py so that `import ndgrad` does not pay for them
_NONDIFF_UNARY = ("airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
                  "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
                  "scaled_modified_bessel_k1", "spherical_bessel_j0")
_POLYNOMIALS = ("chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
                "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
                "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
                "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p")
NONDIFF_OPS = {n: Op(n, _S._unary(getattr(_K, n), f"{n}_cpu"), ("self",), dtype=FLOAT) for n in _NONDIFF_UNARY}
# the polynomials compute in the operands' own float dtype, as torch (float32 overflow gives torch's inf/nan)
NONDIFF_OPS.update({n: Op(n, _S._binary(_K.polynomial(n), f"{n}_cpu", native=True), ("x", "n"),
                          dtype=PROMOTE_FLOAT) for n in _POLYNOMIALS})


def _poly_fn(name: str) -> Any:
    op = NONDIFF_OPS[name]

    def f(input: Any, n: Any, *, out: Any = None) -> Tensor:
        _S._pair(f"special_{name}", input, n, ("x", "n"))
        return op(input, n)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Mirrors `torch.special.{name}` (n is truncated to an integer; n < 0 gives 0)."
    return f


globals().update({n: _S._unary_fn(NONDIFF_OPS[n], n, f"special_{n}") for n in _NONDIFF_UNARY})
globals().update({n: _poly_fn(n) for n in _POLYNOMIALS})


def _check(x: Any, fname: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    return x


def _real(x: Tensor, kernel: str | None) -> Tensor:
    if kernel is not None and x._data.dtype.kind == "c":
        _S._refuse(kernel, x._data.dtype)
    return x


def _alias(fn: Any, name: str, kernel: str | None = None) -> Any:
    """torch.special's spelling of a main-namespace function; `kernel`: torch refuses complex input."""
    def f(input: Tensor, *, out: Any = None) -> Tensor:
        return fn(_real(_check(input, f"special_{name}"), kernel))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Mirrors `torch.special.{name}`."
    return f


erf = _alias(_O.erf, "erf", "erf_vml_cpu")
erfc = _alias(_O.erfc, "erfc", "erfc_vml_cpu")
erfinv = _alias(_O.erfinv, "erfinv", "erfinv_vml_cpu")
expit = _alias(_O.sigmoid, "expit")
exp2 = _alias(_O.exp2, "exp2")
expm1 = _alias(_O.expm1, "expm1")
log1p = _alias(_O.log1p, "log1p")
gammaln = _alias(_O.lgamma, "gammaln", "lgamma_vml_cpu")
digamma = _alias(_O.digamma, "digamma", "digamma")
psi = _alias(_O.digamma, "psi", "digamma")
sinc = _alias(_O.sinc, "sinc")


def logit(input: Tensor, eps: float | None = None, *, out: Any = None) -> Tensor:
    """Mirrors `torch.special.logit`."""
    return _O.logit(_real(_check(input, "special_logit"), "logit_cpu"), eps)


def xlogy(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """Mirrors `torch.special.xlogy`: input * log(other), 0 where input == 0."""
    _S._pair("special_xlogy", input, other)
    for a in (input, other):
        if isinstance(a, Tensor):
            _real(a, "xlogy_cpu")
    return _O.xlogy(input, other)


def polygamma(n: int, input: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.special.polygamma`."""
    return _S.polygamma(n, input, out=out, _fname="special_polygamma")


def multigammaln(input: Tensor, p: int, *, out: Any = None) -> Tensor:
    """Mirrors `torch.special.multigammaln` (torch.mvlgamma)."""
    return _S.mvlgamma(input, p, out=out, _fname="special_multigammaln")


def gammainc(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.special.gammainc` (torch.igamma): the regularized lower incomplete gamma function."""
    return _S.igamma(input, other, out=out, _fname="special_gammainc")


def gammaincc(input: Tensor, other: Tensor, *, out: Any = None) -> Tensor:
    """Mirrors `torch.special.gammaincc` (torch.igammac): the regularized upper incomplete gamma function."""
    return _S.igammac(input, other, out=out, _fname="special_gammaincc")


def round(input: Tensor, *, decimals: int = 0, out: Any = None) -> Tensor:
    """Mirrors `torch.special.round` (always torch's decimals overload: RoundBackward1)."""
    _check(input, "special_round")
    if input._data.dtype.kind not in "f":
        _S._refuse("round_vml_cpu" if decimals == 0 else "round_cpu", input._data.dtype)
    return _O.round(input, decimals=decimals)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Mirrors `torch.special.softmax`."""
    return _O.softmax(_check(input, "special_softmax"), dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Mirrors `torch.special.log_softmax`."""
    return _O.log_softmax(_check(input, "special_log_softmax"), dim, dtype=dtype)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False, *, out: Any = None) -> Tensor:
    """Mirrors `torch.special.logsumexp`."""
    return _O.logsumexp(_check(input, "special_logsumexp"), dim, keepdim)

from . import _argcheck  # noqa: E402

_argcheck.install(globals(), [n for n in __all__ if n != "Tensor"], "special.")
