"""Op families that load on first use, so that `import ndgrad` does not pay for them (the conv kernels among them).

`LazyFamily` stands in for a family module (misc.py, linalg_more.py) in `_ops.FAMILIES`: it has the module's
`__all__` and a `METHODS` dict, whose entries are trampolines that import the module on their first call and
then forward to its function. The names are listed here (tests/test_lazy_families.py checks them against the
modules). `linalg_attr` serves `ndgrad.linalg`'s names that live in such a module.
"""
from __future__ import annotations

import functools
import importlib
from typing import Any, Callable

LAZY: dict = {
    "compat": (
        ("asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "float_power", "positive",
         "fix", "clamp_min", "clamp_max", "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "row_stack",
         "dstack", "column_stack", "tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes", "isin",
         "broadcast_shapes", "unravel_index", "is_nonzero", "is_same_size", "is_signed", "asarray", "inner",
         "index_put", "addmv", "addr", "baddbmm", "addbmm", "diag_embed", "diagflat", "vdot", "put", "gcd", "lcm"),
        ("asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "float_power", "positive",
         "fix", "clamp_min", "clamp_max", "tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes",
         "is_nonzero", "is_same_size", "is_signed", "inner", "index_put", "addmv", "addr", "baddbmm", "addbmm",
         "diag_embed", "diagflat", "vdot", "put", "gcd", "lcm", "deg2rad_", "rad2deg_", "float_power_", "fix_",
         "clamp_min_", "clamp_max_", "addmv_", "addr_", "baddbmm_", "addbmm_", "gcd_", "lcm_", "index_put_", "asinh_",
         "arcsinh_", "acosh_", "arccosh_", "atanh_", "arctanh_", "sum_to_size", "put_")),
    "specfun": (
        ("i0", "polygamma", "mvlgamma", "igamma", "igammac"),
        ("i0", "mvlgamma", "igamma", "igammac", "polygamma", "i0_", "mvlgamma_", "igamma_", "igammac_",
         "polygamma_")),
    "misc": (
        ("fmax", "fmin", "cdist", "pdist", "channel_shuffle", "diff", "gradient", "trapezoid", "trapz",
         "cumulative_trapezoid", "vander", "rot90", "nansum", "nanmean", "nanmedian", "quantile", "nanquantile",
         "logcumsumexp", "renorm", "cov", "corrcoef",
         "aminmax", "frexp", "ldexp", "cartesian_prod", "combinations", "block_diag", "bucketize", "searchsorted",
         "histc", "histogram", "bincount", "tril_indices", "triu_indices"),
        ("fmax", "fmin", "diff", "rot90", "nansum", "nanmean", "nanmedian", "quantile", "nanquantile",
         "logcumsumexp", "renorm", "cov", "corrcoef", "aminmax", "frexp", "ldexp", "bincount", "histc", "histogram",
         "normal_", "uniform_", "exponential_", "geometric_", "log_normal_", "cauchy_", "random_", "bernoulli_",
         "bernoulli", "multinomial")),
    "conv": (
        ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
         "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d"),
        ()),
    "linalg_more": (
        ("matrix_exp", "det", "logdet", "slogdet", "inverse", "pinverse", "cholesky", "cholesky_solve",
         "cholesky_inverse", "svd", "qr", "lu", "lu_solve", "lu_unpack", "matrix_power", "triangular_solve", "orgqr"),
        ("logdet", "slogdet", "pinverse", "cholesky", "cholesky_solve", "cholesky_inverse", "svd", "qr", "lu",
         "lu_solve", "matrix_power", "triangular_solve", "orgqr")),
}
# ndgrad.linalg names defined by a lazy family (LinAlgError itself is eager: linalg_ext raises it)
LINALG_LAZY: dict = {
    "linalg_more": ("householder_product", "lu_factor", "lu_factor_ex", "lu", "lu_solve", "solve_triangular",
                    "matrix_power", "matrix_rank", "cond", "eig", "eigvals", "vecdot", "multi_dot", "diagonal",
                    "tensorinv", "tensorsolve", "inv_ex", "cholesky_ex", "solve_ex"),
}


@functools.lru_cache(maxsize=None)
def load(family: str) -> Any:
    return importlib.import_module(f"ndgrad._ops.{family}")


def _trampoline(family: str, name: str, method: bool) -> Callable:
    def fn(*args: Any, **kwargs: Any) -> Any:
        mod = load(family)
        return (mod.METHODS[name] if method else getattr(mod, name))(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Mirrors `torch.{'Tensor.' if method else ''}{name}` (ndgrad/_ops/{family}.py, loaded on first use)."
    return fn


class LazyFamily:
    """A family module's public surface (`__all__`, functions, `METHODS`) before the module is imported."""

    def __init__(self, family: str) -> None:
        names, methods = LAZY[family]
        self.__name__ = f"ndgrad._ops.{family}"
        self.__all__ = list(names)
        self.METHODS = {m: _trampoline(family, m, True) for m in methods}
        for n in names:
            setattr(self, n, _trampoline(family, n, False))


def linalg_attr(name: str, wrap: Callable) -> Any:
    """`ndgrad.linalg.<name>` for a name of a lazy family (wrapped by `wrap`, the complex-gradient guard)."""
    for family, names in LINALG_LAZY.items():
        if name in names:
            return wrap(load(family).LINALG_MORE[name], f"linalg.{name}")
    raise AttributeError(f"module 'ndgrad.linalg' has no attribute {name!r}")
