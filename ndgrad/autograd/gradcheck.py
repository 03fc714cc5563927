"""Finite-difference checks of analytical gradients. Mirrors `torch.autograd.gradcheck`.

`gradcheck` compares, for every differentiable output and every input that requires grad, the
Jacobian from central differences with the one from `autograd.grad` (one call per output element,
twice, to catch non-reentrant backwards). `gradgradcheck` runs `gradcheck` on the function that
computes the first gradients with `create_graph=True`.

Like torch's (which perturbs `.data`), the numerical side writes into the inputs' arrays in place,
so it reads arrays directly. Deliberate differences from torch: `check_batched_grad` and
`check_batched_forward_grad` need vmap, which ndgrad lacks (NotImplementedError); fast mode falls
back to the slow mode for complex inputs or outputs; the random vectors of fast mode come from
NumPy, not from torch's generator.
"""
from __future__ import annotations

from itertools import product
from typing import Any, Callable

import numpy as np

from .._tensor import Tensor, _wrap
from .._warn import warn as _warn

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a check fails."""


FAILED_NONDET_MSG = """\n
NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""

FAST_FAIL_SLOW_OK_MSG = """
Fast gradcheck failed but element-wise differences are small. This means that the
test might've passed in slow_mode!

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck:

If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `fast_mode=False` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_fast_mode=False`
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_fast_mode=False`
""".strip()


# -- small helpers ------------------------------------------------------------------------------------------
def _as_tuple(x: Any) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_float(t: Any) -> bool:
    return isinstance(t, Tensor) and t._data.dtype.kind in "fcV"


def _differentiable_outputs(x: Any) -> tuple:
    return tuple(o for o in _as_tuple(x) if isinstance(o, Tensor) and o.requires_grad)


def _diff_inputs(inputs: tuple) -> list:
    return [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _grad(outputs, inputs, grad_outputs, **kw):
    from . import grad
    return grad(outputs, inputs, grad_outputs, allow_unused=True, **kw)


def _check_inputs(inputs: tuple) -> None:
    any_req = False
    for idx, inp in enumerate(inputs):
        if isinstance(inp, Tensor) and inp.requires_grad:
            if inp._data.dtype not in (np.float64, np.complex128):
                _warn(f"Input #{idx} requires gradient and "
                      "is not a double precision floating point or complex. "
                      "This check will likely fail if all the inputs are "
                      "not of double precision floating point or complex. ", stacklevel=2)
            a = inp._data
            if a.size and not all(st != 0 or sz <= 1 for st, sz in zip(a.strides, a.shape)):
                raise RuntimeError(f"The {idx}th input has a dimension with stride 0. gradcheck only "
                                   "supports inputs that are non-overlapping to be able to "
                                   "compute the numerical gradients correctly. You should call "
                                   ".contiguous on the input before passing it to gradcheck.")
            any_req = True
    if not any_req:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")


def _notallclose_msg(analytical: Any, numerical: Any, output_idx: int, input_idx: int,
                     complex_indices: Any = None, test_imag: bool = False, is_forward_ad: bool = False) -> str:
    out_c = (not is_forward_ad) and complex_indices and output_idx in complex_indices
    inp_c = is_forward_ad and complex_indices and input_idx in complex_indices
    part = "imaginary" if test_imag else "real"
    element = "inputs" if is_forward_ad else "outputs"
    prefix = f"While considering the {part} part of complex {element} only, " if (out_c or inp_c) else ""
    mode = "computed with forward mode " if is_forward_ad else ""
    return (prefix + f"Jacobian {mode}mismatch for output {output_idx:d} with respect to input {input_idx:d},\n"
            f"numerical:{_wrap(numerical)}\nanalytical:{_wrap(analytical)}\n")


def _allclose(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    dt = np.promote_types(a.dtype, b.dtype)
    return bool(np.allclose(a.astype(dt), b.astype(dt), rtol=rtol, atol=atol))


# -- numerical side -------------------------------------------------------------------------------------------
def _eval(fn: Callable, inputs: tuple) -> list:
    """The float outputs of fn as fresh arrays (an output may alias a perturbed input)."""
    return [np.array(o._data, copy=True) for o in _as_tuple(fn(*inputs)) if _is_float(o)]


def _check_same(a: np.ndarray, b: np.ndarray, eps: float, idx: Any = None) -> None:
    on = f"on index {idx} " if idx is not None else ""
    if a.shape != b.shape:
        from .._tensor import Size
        raise AssertionError(f"Expected `func` to return outputs with the same shape when inputs are perturbed "
                             f"{on}by {eps}, but got: shapes {Size(a.shape)} and {Size(b.shape)}.")
    if a.dtype != b.dtype:
        from .._dtype import FROM_NP
        raise AssertionError(f"Expected `func` to return outputs with the same dtype when inputs are perturbed "
                             f"{on}by {eps}, but got: dtypes {FROM_NP[a.dtype]} and {FROM_NP[b.dtype]}.")


def _central_diff(fn: Callable, inputs: tuple, x: np.ndarray, idx: Any, delta: Any, eps: float,
                  check_idx: Any = None) -> list:
    """(f(x + delta) - f(x - delta)) / 2eps, perturbing x[idx] in place (idx=... perturbs all of x)."""
    orig = np.array(x[idx], copy=True)
    x[idx] = orig - delta
    outa = _eval(fn, inputs)
    x[idx] = orig + delta
    outb = _eval(fn, inputs)
    x[idx] = orig
    cols = []
    for a, b in zip(outa, outb):
        _check_same(a, b, eps, check_idx)
        cols.append(((b - a) / (2 * eps)).reshape(-1))
    return cols


def _numerical_jacobian(fn: Callable, inputs: tuple, float_outs: list, eps: float) -> list:
    """numerical[i][k]: Jacobian (input numel, output numel) of float output k w.r.t. diff input i."""
    jacobians = []
    for _, inp in _diff_inputs(inputs):
        x = inp._data
        is_c = x.dtype.kind == "c"
        jac = [np.zeros((x.size, o._data.size), dtype=x.dtype if is_c else o._data.dtype) for o in float_outs]
        for d_idx, idx in enumerate(product(*[range(m) for m in x.shape])):
            ds_dx = _central_diff(fn, inputs, x, idx, eps, eps, idx)
            if is_c:  # conjugate Wirtinger derivative: ds/dx + i ds/dy
                ds_dy = _central_diff(fn, inputs, x, idx, eps * 1j, eps, idx)
                ds_dx = [a + b * 1j for a, b in zip(ds_dx, ds_dy)]
            for j, col in zip(jac, ds_dx):
                j[d_idx] = col
        jacobians.append(jac)
    return jacobians


# -- analytical side ------------------------------------------------------------------------------------------
def _analytical_rows(output: Tensor, diff: list) -> tuple:
    """Jacobians (input numel, output numel) from one vjp per output element; size/dtype flags."""
    jacs = [np.zeros((t._data.size, output._data.size), dtype=t._data.dtype) for t in diff]
    sizes_ok = types_ok = True
    n = output._data.size
    for j in range(n):
        g = np.zeros(output._data.shape, output._data.dtype)
        g.reshape(-1)[j] = 1
        grads = _grad(output, diff, _wrap(g), retain_graph=True)
        for k, (d, t) in enumerate(zip(grads, diff)):
            if d is None:
                continue
            if d._data.shape != t._data.shape:
                sizes_ok = False
            elif d._data.dtype != t._data.dtype:
                types_ok = False
            if d._data.size != t._data.size:
                raise GradcheckError("Analytical gradient has incorrect size")
            jacs[k][:, j] = d._data.reshape(-1)
    return jacs, sizes_ok, types_ok


def _analytical_jacobian(inputs: tuple, output: Tensor, nondet_tol: float, check_grad_dtypes: bool) -> list:
    diff = [t for _, t in _diff_inputs(inputs)]
    j1, sizes_ok, types_ok = _analytical_rows(output, diff)
    j2, _, _ = _analytical_rows(output, diff)  # twice: a backward must be reentrant
    reentrant = all(a.size == 0 or np.abs(a - b).max() <= nondet_tol for a, b in zip(j1, j2))
    if not types_ok and check_grad_dtypes:
        raise GradcheckError("Gradient has dtype mismatch")
    if not sizes_ok:
        raise GradcheckError("Analytical gradient has incorrect size")
    if not reentrant:
        raise GradcheckError("Backward is not reentrant, i.e., running backward with "
                             "same input and grad_output multiple times gives different values, "
                             "although analytical gradient matches numerical gradient."
                             f"The tolerance for nondeterminism was {nondet_tol}." + FAILED_NONDET_MSG)
    return j1


def _forward_ad_jacobian(func: Callable, inputs: tuple, float_outs: list) -> list:
    """analytical[i][k] (input numel, output numel) from one forward-mode jvp per input element."""
    try:
        from . import forward_ad as fwAD  # type: ignore[attr-defined]
    except ImportError:
        raise NotImplementedError("check_forward_ad=True needs ndgrad.autograd.forward_ad, which this version "
                                  "of ndgrad does not provide") from None
    out = []
    for i, inp in _diff_inputs(inputs):
        x = inp._data
        jac = [np.zeros((x.size, o._data.size), dtype=o._data.dtype) for o in float_outs]
        for d_idx in range(x.size):
            t = np.zeros(x.shape, x.dtype)
            t.reshape(-1)[d_idx] = 1
            with fwAD.dual_level():
                args = list(inputs)
                args[i] = fwAD.make_dual(inp.detach(), _wrap(t))
                outs = [o for o in _as_tuple(func(*args)) if _is_float(o)]
                for k, o in enumerate(outs):
                    tangent = fwAD.unpack_dual(o)[1]
                    if tangent is not None:
                        jac[k][d_idx] = tangent._data.reshape(-1)
        out.append(jac)
    return out


# -- the checks -------------------------------------------------------------------------------------------------
def _check_no_differentiable_outputs(func: Callable, inputs: tuple, func_out: Any, eps: float) -> bool:
    float_outs = [o for o in _as_tuple(func_out) if _is_float(o)]
    for jacs in _numerical_jacobian(func, inputs, float_outs, eps):
        for j in jacs:
            if np.count_nonzero(j):
                raise GradcheckError("Numerical gradient for function expected to be zero")
    return True


def _slow_gradcheck(func, func_out, inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol, *,
                    use_forward_ad=False, complex_indices=None, test_imag=False, masked=False) -> bool:
    func_out = _as_tuple(func_out)
    if not outputs:
        return _check_no_differentiable_outputs(func, inputs, func_out, eps)
    float_outs = [o for o in func_out if _is_float(o)]
    numerical_in = _numerical_jacobian(func, inputs, float_outs, eps)
    # numerical[k][i]: output k, input i; only outputs that require grad are compared
    numerical = [[numerical_in[i][k] for i in range(len(numerical_in))]
                 for k, o in enumerate(float_outs) if o.requires_grad]
    if use_forward_ad:
        analytical = _forward_ad_jacobian(func, inputs, float_outs)
        analytical = [[analytical[i][k] for i in range(len(analytical))]
                      for k, o in enumerate(float_outs) if o.requires_grad]
        for k, per_out in enumerate(numerical):
            for i, n in enumerate(per_out):
                a = analytical[k][i]
                if not _allclose(a, n, rtol, atol):
                    raise GradcheckError(_notallclose_msg(a, n, k, i, complex_indices, test_imag, True))
        return True
    for k, o in enumerate(outputs):
        analytical = _analytical_jacobian(inputs, o, nondet_tol, check_grad_dtypes)
        for i, (a, n) in enumerate(zip(analytical, numerical[k])):
            if not _allclose(a, n, rtol, atol):
                raise GradcheckError(_notallclose_msg(a, n, k, i, complex_indices, test_imag))
    return True


def _fast_gradcheck(func, func_out, inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol, *,
                    use_forward_ad=False, complex_indices=None, test_imag=False, masked=False) -> bool:
    """Compare vᵀ(J u) from finite differences with (vᵀJ) u from backward, for random unit u, v."""
    diff = _diff_inputs(inputs)
    func_out = _as_tuple(func_out)
    if use_forward_ad or any(t._data.dtype.kind == "c" for _, t in diff) or \
            any(o._data.dtype.kind == "c" for o in func_out if isinstance(o, Tensor)):
        return _slow_gradcheck(func, func_out, inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol,
                               use_forward_ad=use_forward_ad, complex_indices=complex_indices,
                               test_imag=test_imag)
    rng = np.random.default_rng(0)  # our own generator: the user's random state is left alone

    def unit(n: int, dtype: Any) -> np.ndarray:
        v = rng.random(n).astype(dtype)
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    all_u = [unit(t._data.size, t._data.dtype) for _, t in diff]
    all_v = [unit(o._data.size, o._data.dtype) for o in outputs]
    float_outs = [o for o in func_out if _is_float(o)]
    req = [o.requires_grad for o in float_outs]
    numerical = []  # numerical[i][k] = vₖᵀ J u_i
    for (i, inp), u in zip(diff, all_u):
        x = inp._data
        ju = _central_diff(func, inputs, x, ..., u.reshape(x.shape) * eps, eps)
        if not outputs:
            if any(j.size and np.abs(j).max() > nondet_tol for j in ju):
                raise GradcheckError("Numerical gradient for function expected to be zero")
            continue
        ju = [j for j, r in zip(ju, req) if r]
        numerical.append([np.asarray((v * j).sum()) for v, j in zip(all_v, ju)])
    if not outputs:
        return True
    diff_t = [t for _, t in diff]
    for k, (o, v) in enumerate(zip(outputs, all_v)):
        vt = _wrap(v.reshape(o._data.shape))
        g1 = _grad(o, diff_t, vt, retain_graph=True)
        g2 = _grad(o, diff_t, vt, retain_graph=True)
        for i, (a1, a2, t, u) in enumerate(zip(g1, g2, diff_t, all_u)):
            if a1 is not None and a1._data.shape != t._data.shape:
                raise GradcheckError("Analytical gradient has incorrect size")
            if a1 is not None and check_grad_dtypes and a1._data.dtype != t._data.dtype:
                raise GradcheckError("Gradient has dtype mismatch")
            r1 = np.zeros(t._data.size, t._data.dtype) if a1 is None else a1._data.reshape(-1)
            r2 = np.zeros(t._data.size, t._data.dtype) if a2 is None else a2._data.reshape(-1)
            if r1.size and np.abs(r1 - r2).max() > nondet_tol:
                raise GradcheckError("Backward is not reentrant, i.e., running backward with "
                                     "same input and grad_output multiple times gives different values, "
                                     "although analytical gradient matches numerical gradient."
                                     f"The tolerance for nondeterminism was {nondet_tol}." + FAILED_NONDET_MSG)
            a = np.asarray((r1 * u).sum())
            n = numerical[i][k]
            adj_atol = atol * float(u.sum()) * float(v.sum())
            if not _allclose(a, n, rtol, adj_atol):
                raise GradcheckError(_notallclose_msg(a, n, k, i, complex_indices, test_imag) +
                                     _slow_mode_error(func, inputs, outputs, i, k, rtol, atol, eps))
    return True


def _slow_mode_error(func, inputs, outputs, i, k, rtol, atol, eps) -> str:
    func_out = _as_tuple(func(*inputs))
    float_outs = [o for o in func_out if _is_float(o)]
    num = _numerical_jacobian(func, inputs, float_outs, eps)[i]
    num = [n for n, o in zip(num, float_outs) if o.requires_grad][k]
    ana = _analytical_jacobian(inputs, outputs[k], float("inf"), False)[i]
    max_diff = np.abs(num - ana).max() if num.size else 0.0
    msg = ("\nThe above quantities relating the numerical and analytical jacobians are computed \n"
           "in fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more background \n"
           "about fast mode. Below, we recompute numerical and analytical jacobians in slow mode:\n\n"
           f"Numerical:\n {_wrap(num)}\n"
           f"Analytical:\n{_wrap(ana)}\n\n"
           f"The max per-element difference (slow mode) is: {_wrap(np.asarray(max_diff))}.\n")
    if _allclose(ana, num, rtol, atol):
        msg += FAST_FAIL_SLOW_OK_MSG
    return msg


def _test_backward_mul_by_grad_output(outputs: tuple, inputs: tuple, masked: Any) -> bool:
    diff = [t for _, t in _diff_inputs(inputs)]
    if not diff:
        raise GradcheckError("no Tensors requiring grad found in input")
    zeros = [_wrap(np.zeros(o._data.shape, o._data.dtype)) for o in outputs]
    grads = _grad(list(outputs), diff, zeros)
    for gi, di in zip(grads, diff):
        if gi is None:
            continue
        if masked:
            if not np.allclose(gi._data, 0):
                raise GradcheckError("backward not multiplied by grad_output")
        elif np.any(gi._data != 0):
            raise GradcheckError("backward not multiplied by grad_output")
        if gi._data.dtype != di._data.dtype:
            raise GradcheckError("grad is incorrect type")
        if gi._data.shape != di._data.shape:
            raise GradcheckError("grad is incorrect size")
    return True


def _undefined_grad(t: Tensor) -> Tensor:
    """An alias of `t` through which no gradient flows back (torch's UndefinedGrad)."""
    from .function import Function

    class UndefinedGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x.detach()

        @staticmethod
        def backward(ctx, grad):
            return None

    return UndefinedGrad.apply(t)


def _test_undefined_backward_mode(func: Callable, outputs: tuple, inputs: tuple) -> bool:
    diff = [t for _, t in _diff_inputs(inputs)]
    if not diff:
        raise GradcheckError("no Tensors requiring grad found in input")

    def warn_bc_breaking() -> None:
        _warn("Backwards compatibility: New undefined gradient support checking "
              "feature is enabled by default, but it may break existing callers "
              "of this function. If this is true for you, you can call this "
              'function with "check_undefined_grad=False" to disable the feature', stacklevel=4)

    def check(outs: list) -> bool:
        zeros = [_wrap(np.zeros(o._data.shape, o._data.dtype)) for o in outs]
        try:
            grads = _grad(outs, diff, zeros)
        except (RuntimeError, TypeError) as e:
            warn_bc_breaking()
            raise GradcheckError("Expected backward function to handle undefined output grads. "
                                 'Please look at "Notes about undefined output gradients" in '
                                 '"tools/autograd/derivatives.yaml"') from e
        for gi in grads:
            if gi is not None and np.any(gi._data != 0):
                warn_bc_breaking()
                raise GradcheckError("Expected all input grads to be undefined or zero when all output grads "
                                     'are undefined or zero. Please look at "Notes about undefined output '
                                     'gradients" in "tools/autograd/derivatives.yaml"')
        return True

    # every backward must cope when all its output grads are undefined, and with one undefined at a time
    to_check = [[_undefined_grad(o) for o in _differentiable_outputs(func(*inputs))]]
    if len(to_check[0]) > 1:
        for u in range(len(outputs)):
            outs = _differentiable_outputs(func(*inputs))
            to_check.append([_undefined_grad(o) if k == u else o for k, o in enumerate(outs)])
    return all(check(outs) for outs in to_check)


def _real_and_imag_output(fn: Callable) -> tuple:
    if not hasattr(Tensor, "real") or not hasattr(Tensor, "imag"):
        raise NotImplementedError("gradcheck of functions with complex outputs needs Tensor.real and "
                                  "Tensor.imag, which this version of ndgrad does not provide")

    def apply(f: Callable) -> Callable:
        def wrapped(*inputs: Any) -> tuple:
            return tuple(f(o) if isinstance(o, Tensor) and o.is_complex() else o
                         for o in _as_tuple(fn(*inputs)))
        return wrapped
    return apply(lambda o: o.real), apply(lambda o: o.imag)


def _gradcheck_real_imag(gradcheck_fn, func, func_out, inputs, outputs, eps, rtol, atol, check_grad_dtypes,
                         check_forward_ad, check_backward_ad, nondet_tol, check_undefined_grad) -> None:
    complex_out = [i for i, o in enumerate(outputs) if o.is_complex()]
    any_complex = any(isinstance(o, Tensor) and o.is_complex() for o in _as_tuple(func_out))
    if check_backward_ad:
        if any_complex:
            real_fn, imag_fn = _real_and_imag_output(func)
            imag_out = imag_fn(*inputs)
            gradcheck_fn(imag_fn, imag_out, inputs, _differentiable_outputs(imag_out), eps, rtol, atol,
                         check_grad_dtypes, nondet_tol, complex_indices=complex_out, test_imag=True)
            real_out = real_fn(*inputs)
            gradcheck_fn(real_fn, real_out, inputs, _differentiable_outputs(real_out), eps, rtol, atol,
                         check_grad_dtypes, nondet_tol, complex_indices=complex_out)
        else:
            gradcheck_fn(func, func_out, inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol)
    if check_forward_ad:
        if any(isinstance(t, Tensor) and t.is_complex() for t in inputs):
            raise NotImplementedError("gradcheck with check_forward_ad=True does not support complex inputs "
                                      "in ndgrad")
        gradcheck_fn(func, func_out, inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol,
                     use_forward_ad=True)


def _gradcheck_helper(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes,
                      check_batched_grad, check_batched_forward_grad, check_forward_ad, check_backward_ad,
                      fast_mode, masked) -> bool:
    tupled = _as_tuple(inputs)
    _check_inputs(tupled)
    func_out = func(*tupled)
    outputs = _differentiable_outputs(func_out)
    gradcheck_fn = _fast_gradcheck if fast_mode else _slow_gradcheck
    _gradcheck_real_imag(gradcheck_fn, func, func_out, tupled, outputs, eps, rtol, atol, check_grad_dtypes,
                         check_forward_ad, check_backward_ad, nondet_tol, check_undefined_grad)
    if not check_backward_ad:
        return True
    _test_backward_mul_by_grad_output(outputs, tupled, masked)
    if check_undefined_grad and check_backward_ad:
        _test_undefined_backward_mode(func, outputs, tupled)
    return True


def gradcheck(func: Callable[..., Any], inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check analytical gradients against central finite differences. Mirrors `torch.autograd.gradcheck`.

    Returns True, or raises GradcheckError (returns False with `raise_exception=False`).
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    if check_batched_grad or check_batched_forward_grad:
        raise NotImplementedError("check_batched_grad and check_batched_forward_grad need vmap, which ndgrad "
                                  "does not implement")
    args = dict(func=func, inputs=inputs, eps=eps, atol=atol, rtol=rtol, nondet_tol=nondet_tol,
                check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                check_batched_grad=check_batched_grad, check_batched_forward_grad=check_batched_forward_grad,
                check_forward_ad=check_forward_ad, check_backward_ad=check_backward_ad, fast_mode=fast_mode,
                masked=masked)
    if not raise_exception:
        try:
            return _gradcheck_helper(**args)
        except GradcheckError:
            return False
    return _gradcheck_helper(**args)


def _make_grad_output(x: Tensor, noncontiguous: bool) -> Tensor:
    """Uniform in [-1, 1), of x's shape (and dtype when floating), requiring grad: torch's make_tensor."""
    from .._creation import rand
    from .. import _dtype as D
    dt = x.dtype if x._data.dtype.kind in "fcV" else D.float64
    shape = tuple(x.shape)
    if noncontiguous and x._data.size > 1:
        big = rand(*shape[:-1], shape[-1] * 2, dtype=dt)._data
        arr = big[..., ::2]
    else:
        arr = rand(*shape, dtype=dt)._data
    arr *= 2
    arr -= 1  # in place: a 0-d array must stay an array, not become a NumPy scalar
    return _wrap(arr).requires_grad_()


def gradgradcheck(func: Callable[..., Any], inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False,
                  check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """Check second derivatives: gradcheck of the function that computes the first gradients with
    `create_graph=True`, w.r.t. the inputs and `grad_outputs`. Mirrors `torch.autograd.gradgradcheck`."""
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    tupled_inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _differentiable_outputs(func(*tupled_inputs))
        tupled_grad_outputs = tuple(_make_grad_output(x, gen_non_contig_grad_outputs) for x in outs)
    else:
        tupled_grad_outputs = _as_tuple(grad_outputs)
    num_outputs = len(tupled_grad_outputs)
    diff_input_idx = {i for i, x in enumerate(tupled_inputs) if isinstance(x, Tensor) and x.requires_grad}
    diff_grad_idx = {i for i, x in enumerate(tupled_grad_outputs) if x.requires_grad}

    def new_func(*args: Any) -> tuple:
        input_args = tuple(x.requires_grad_() if i in diff_input_idx else x
                           for i, x in enumerate(args[:-num_outputs]))
        outputs = _differentiable_outputs(func(*input_args))
        grad_outs = tuple(x.requires_grad_() if i in diff_grad_idx else x
                          for i, x in enumerate(args[-num_outputs:]))
        diff_input_args = tuple(x for i, x in enumerate(input_args) if i in diff_input_idx)
        grad_inputs = _grad(outputs, diff_input_args, grad_outs, create_graph=True)
        return tuple(g for g in grad_inputs if g is not None)

    return gradcheck(new_func, tupled_inputs + tupled_grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, check_grad_dtypes=check_grad_dtypes,
                     check_batched_grad=check_batched_grad, fast_mode=fast_mode,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev, masked=masked)


gradcheck.GradcheckError = GradcheckError  # type: ignore[attr-defined]  # ndgrad.autograd.gradcheck.GradcheckError
