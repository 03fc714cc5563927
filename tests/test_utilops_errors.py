"""Exact error messages (class and first line) of the utility ops and the linear-algebra spellings, against torch:
the op table (tests/opinfo_misc.py, tests/opinfo_linalg_more.py) checks the classes only."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad

S2 = [[1.0, 2.0], [2.0, 4.0]]      # singular
NPD = [[1.0, 2.0], [2.0, 1.0]]     # symmetric, not positive-definite


def t(lib, v, **kw):
    return lib.tensor(v, **kw)


def r(lib, *shape, dtype=None):
    a = np.arange(1, int(np.prod(shape)) + 1, dtype=np.float64).reshape(shape) / 7.0
    x = lib.from_numpy(a)
    return x if dtype is None else x.to(dtype)


CASES = {
    # utility ops
    "diff 0-d": lambda l: l.diff(t(l, 1.0)),
    "diff order": lambda l: l.diff(r(l, 3), n=-1),
    "diff prepend ndim": lambda l: l.diff(r(l, 2, 3), prepend=r(l, 3)),
    "diff prepend shape": lambda l: l.diff(r(l, 2, 3), dim=0, prepend=r(l, 2, 2)),
    "cdist p": lambda l: l.cdist(r(l, 2, 3), r(l, 2, 3), p=-1),
    "cdist cols": lambda l: l.cdist(r(l, 2, 3), r(l, 2, 4)),
    "cdist 1-d": lambda l: l.cdist(r(l, 3), r(l, 2, 3)),
    "cdist int": lambda l: l.cdist(r(l, 2, 3).long(), r(l, 2, 3).long()),
    "cdist mode": lambda l: l.cdist(r(l, 2, 3), r(l, 2, 3), compute_mode="nope"),
    "rot90 dims": lambda l: l.rot90(r(l, 2, 3), 1, [0, 0]),
    "rot90 ndims": lambda l: l.rot90(r(l, 2, 3), 1, [0]),
    "rot90 1-d": lambda l: l.rot90(r(l, 3)),
    "nanmean int": lambda l: l.nanmean(t(l, [1, 2])),
    "quantile q": lambda l: l.quantile(r(l, 3), 1.5),
    "quantile interpolation": lambda l: l.quantile(r(l, 3), 0.5, interpolation="nope"),
    "quantile int": lambda l: l.quantile(t(l, [1, 2]), 0.5),
    "quantile empty": lambda l: l.quantile(l.zeros(0), 0.5),
    "quantile q dtype": lambda l: l.quantile(r(l, 3), t(l, [0.5], dtype=l.float32)),
    "renorm p": lambda l: l.renorm(r(l, 2, 3), -1, 0, 1.0),
    "renorm maxnorm": lambda l: l.renorm(r(l, 2, 3), 2, 0, -1.0),
    "cov ndim": lambda l: l.cov(r(l, 2, 2, 2)),
    "cov fweights dtype": lambda l: l.cov(r(l, 2, 3), fweights=r(l, 3)),
    "cov fweights negative": lambda l: l.cov(r(l, 2, 3), fweights=t(l, [1, -1, 1])),
    "cov aweights negative": lambda l: l.cov(r(l, 2, 3), aweights=t(l, [1.0, -1.0, 1.0])),
    "corrcoef ndim": lambda l: l.corrcoef(r(l, 2, 2, 2)),
    "aminmax empty": lambda l: l.aminmax(l.zeros(0)),
    "frexp int": lambda l: l.frexp(t(l, [1, 2])),
    "ldexp shapes": lambda l: l.ldexp(r(l, 3, 4), r(l, 3)),
    "fmax complex": lambda l: l.fmax(r(l, 2).to(l.complex64), r(l, 2).to(l.complex64)),
    "bucketize 2-d boundaries": lambda l: l.bucketize(r(l, 3), r(l, 2, 2)),
    "searchsorted shapes": lambda l: l.searchsorted(r(l, 3, 4), r(l, 2, 3)),
    "searchsorted side": lambda l: l.searchsorted(r(l, 4), r(l, 2), side="middle"),
    "searchsorted side and right": lambda l: l.searchsorted(r(l, 4), r(l, 2), side="left", right=True),
    "histc int": lambda l: l.histc(t(l, [1, 2])),
    "histc bins": lambda l: l.histc(r(l, 3), bins=0),
    "histc range": lambda l: l.histc(r(l, 3), min=2, max=1),
    "bincount negative": lambda l: l.bincount(t(l, [-1, 2])),
    "bincount 2-d": lambda l: l.bincount(t(l, [[1, 2]])),
    "bincount float": lambda l: l.bincount(r(l, 2)),
    "bincount weights": lambda l: l.bincount(t(l, [1, 2]), weights=r(l, 3)),
    "combinations 2-d": lambda l: l.combinations(r(l, 2, 2)),
    "combinations r": lambda l: l.combinations(r(l, 3), -1),
    "cartesian_prod 2-d": lambda l: l.cartesian_prod(r(l, 2, 2), r(l, 2)),
    "block_diag 3-d": lambda l: l.block_diag(r(l, 2, 2, 2)),
    "vander 2-d": lambda l: l.vander(r(l, 2, 2)),
    "vander N": lambda l: l.vander(r(l, 3), N=-1),
    "trapezoid x": lambda l: l.trapezoid(r(l, 3, 4), r(l, 3)),
    "gradient spacing": lambda l: l.gradient(r(l, 3, 4), spacing=[1.0, 2.0, 3.0]),
    "gradient edge_order": lambda l: l.gradient(r(l, 3, 4), edge_order=3),
    "gradient size": lambda l: l.gradient(l.zeros(1)),
    "logcumsumexp int": lambda l: l.logcumsumexp(t(l, [1, 2]), 0),
    "nanmedian empty dim": lambda l: l.nanmedian(l.zeros(0, 2), 0),
    "tril_indices row": lambda l: l.tril_indices(-1, 3),
    # linear algebra
    "inv singular": lambda l: l.linalg.inv(t(l, S2)),
    "inv singular batch": lambda l: l.linalg.inv(l.stack([l.eye(2), t(l, S2)])),
    "inverse singular": lambda l: l.inverse(t(l, [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])),
    "inverse int": lambda l: l.inverse(t(l, [[1, 2], [3, 4]])),
    "cholesky not PD": lambda l: l.linalg.cholesky(t(l, NPD)),
    "cholesky not PD batch": lambda l: l.linalg.cholesky(l.stack([l.eye(2), t(l, NPD)])),
    "torch.cholesky not PD": lambda l: l.cholesky(t(l, NPD)),
    "solve singular": lambda l: l.linalg.solve(t(l, S2), l.ones(2)),
    "solve singular batch": lambda l: l.linalg.solve(l.stack([l.eye(2), t(l, S2)]), l.ones(2, 2)),
    "lu_factor singular": lambda l: l.linalg.lu_factor(l.zeros(2, 2)),
    "lu_factor_ex check_errors": lambda l: l.linalg.lu_factor_ex(l.zeros(2, 2), check_errors=True),
    "inv_ex check_errors": lambda l: l.linalg.inv_ex(t(l, S2), check_errors=True),
    "cholesky_ex check_errors": lambda l: l.linalg.cholesky_ex(t(l, NPD), check_errors=True),
    "solve_ex check_errors": lambda l: l.linalg.solve_ex(t(l, S2), l.ones(2), check_errors=True),
    "matrix_power shape": lambda l: l.matrix_power(l.ones(2, 3), 2),
    "matrix_power int inverse": lambda l: l.matrix_power(t(l, [[1, 2], [3, 4]]), -1),
    "matrix_power singular": lambda l: l.matrix_power(t(l, S2), -1),
    "cholesky_inverse 1-d": lambda l: l.cholesky_inverse(l.ones(3)),
    "cholesky_solve shapes": lambda l: l.cholesky_solve(l.ones(3, 2), l.eye(2)),
    "triangular_solve shapes": lambda l: l.triangular_solve(l.ones(3, 2), l.ones(2, 2)),
    "solve_triangular shapes": lambda l: l.linalg.solve_triangular(l.ones(2, 2), l.ones(3, 2), upper=True),
    "solve_triangular 1-d": lambda l: l.linalg.solve_triangular(l.eye(2), l.ones(2), upper=True),
    "matrix_rank 1-d": lambda l: l.linalg.matrix_rank(l.ones(3)),
    "cond shape": lambda l: l.linalg.cond(l.ones(2, 3), "fro"),
    "cond p": lambda l: l.linalg.cond(t(l, S2), 3),
    "vecdot sizes": lambda l: l.linalg.vecdot(l.ones(3), l.ones(4)),
    "multi_dot one": lambda l: l.linalg.multi_dot([l.ones(3, 3)]),
    "multi_dot 3-d": lambda l: l.linalg.multi_dot([l.ones(3, 3), l.ones(2, 3, 3)]),
    "multi_dot dtypes": lambda l: l.linalg.multi_dot([l.ones(3, 3), l.ones(3, 3, dtype=l.float64)]),
    "tensorinv sizes": lambda l: l.linalg.tensorinv(l.ones(4, 2, 3), ind=2),
    "tensorinv ind": lambda l: l.linalg.tensorinv(l.ones(4, 2, 8), ind=0),
    "tensorsolve sizes": lambda l: l.linalg.tensorsolve(l.ones(2, 3, 5), l.ones(2, 3)),
    "svd 1-d": lambda l: l.svd(l.ones(3)),
    "det int": lambda l: l.det(t(l, [[1, 2], [3, 4]])),
}


@pytest.mark.parametrize("case", CASES)
def test_error_message_matches_torch(case, torch):
    f = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as t_err:
            f(torch)
        with pytest.raises(Exception) as n_err:
            f(ndgrad)
    te, ne = t_err.value, n_err.value
    assert type(ne).__name__ == type(te).__name__ and isinstance(ne, type(te).__mro__[1] if type(te).__name__ ==
                                                                 "_LinAlgError" else type(te)), (ne, te)
    assert str(ne).split("\n")[0] == str(te).split("\n")[0]


def test_linalg_error_class():
    assert ndgrad.linalg.LinAlgError is ndgrad._C._LinAlgError
    assert issubclass(ndgrad.linalg.LinAlgError, RuntimeError)
    with pytest.raises(ndgrad.linalg.LinAlgError):
        ndgrad.linalg.inv(ndgrad.zeros(2, 2))


_WARN_SCRIPT = """
import json, sys, warnings
lib = __import__(sys.argv[1])
calls = [lambda: lib.cholesky(lib.eye(2)), lambda: lib.qr(lib.eye(2)), lambda: lib.lu(lib.eye(2)),
         lambda: lib.triangular_solve(lib.ones(2, 1), lib.eye(2)),
         lambda: lib.lu_solve(lib.ones(2, 1), *lib.linalg.lu_factor(lib.eye(2)))]
out = []
for call in calls:
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        call()
        call()  # warned once per process, as torch's TORCH_WARN_ONCE
    out.append([str(x.message).split("(Triggered internally")[0].rstrip() for x in w])
print(json.dumps(out))
"""


def test_legacy_spellings_warn_like_torch(torch):
    """The deprecated spellings (torch.cholesky, qr, lu, triangular_solve, lu_solve) warn torch's text, once."""
    import json
    import os
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    res = [json.loads(subprocess.run([sys.executable, "-c", _WARN_SCRIPT, lib], capture_output=True, text=True,
                                     check=True, env=env).stdout) for lib in ("torch", "ndgrad")]
    assert all(len(m) == 1 for m in res[0])
    assert res[1] == res[0]
