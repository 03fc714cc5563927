"""L-BFGS with an optional strong-Wolfe line search. Mirrors `torch.optim.LBFGS`.

The line search is the bracketing + zoom method of Nocedal & Wright (Algorithms 3.5/3.6), with safeguarded
cubic interpolation for the trial steps (minFunc's variant, which torch follows): each decision is made the
same way so the iterates agree with torch's.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .._tensor import Tensor, _wrap
from ..autograd.grad_mode import enable_grad, no_grad
from .optimizer import Optimizer

__all__ = ["LBFGS"]


def _cubic_min(x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any, bounds: tuple | None = None) -> Any:
    """Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to bounds (default [x1, x2])."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 ** 2 - g1 * g2
    if disc >= 0:
        d2 = np.sqrt(disc) if isinstance(disc, np.generic) else math.sqrt(disc)
        if x1 <= x2:
            xm = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            xm = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(xm, lo), hi)
    return (lo + hi) / 2.0


def _strong_wolfe(phi: Callable, t: Any, d: np.ndarray, f: float, g: np.ndarray, gtd: Any, c1: float = 1e-4,
                  c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25) -> tuple:
    """Find a step t along d satisfying the strong Wolfe conditions; phi(t) -> (loss, flat grad)."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = phi(t)
    evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    it = 0
    # phase 1: expand the step until an interval containing an acceptable point is found
    while it < max_ls:
        if f_new > (f + c1 * t * gtd) or (it > 1 and f_new >= f_prev):
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            br, br_f, br_g, br_gtd = [t], [f_new], [g_new], [gtd_new]
            done = True
            break
        if gtd_new >= 0:
            br, br_f, br_g, br_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # extrapolate: cubic step clipped to [t + 0.01 (t - t_prev), 10 t]
        t_next = _cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new.copy(), gtd_new
        t = t_next
        f_new, g_new = phi(t)
        evals += 1
        gtd_new = g_new.dot(d)
        it += 1
    if it == max_ls:
        br, br_f, br_g, br_gtd = [0, t], [f, f_new], [g, g_new], [gtd, gtd_new]

    # phase 2: zoom inside the bracket until the strong Wolfe conditions hold
    stalled = False
    lo, hi = (0, 1) if br_f[0] <= br_f[-1] else (1, 0)
    while not done and it < max_ls:
        if abs(br[1] - br[0]) * d_norm < tolerance_change:
            break
        t = _cubic_min(br[0], br_f[0], br_gtd[0], br[1], br_f[1], br_gtd[1])
        # keep the trial point away from the ends of the bracket (at least 10% of its width inside)
        top, bot = max(br), min(br)
        margin = 0.1 * (top - bot)
        if min(top - t, t - bot) < margin:
            if stalled or t >= top or t <= bot:
                t = top - margin if abs(t - top) < abs(t - bot) else bot + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        f_new, g_new = phi(t)
        evals += 1
        gtd_new = g_new.dot(d)
        it += 1
        if f_new > (f + c1 * t * gtd) or f_new >= br_f[lo]:
            br[hi], br_f[hi], br_g[hi], br_gtd[hi] = t, f_new, g_new.copy(), gtd_new
            lo, hi = (0, 1) if br_f[0] <= br_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (br[hi] - br[lo]) >= 0:
                br[hi], br_f[hi], br_g[hi], br_gtd[hi] = br[lo], br_f[lo], br_g[lo], br_gtd[lo]
            br[lo], br_f[lo], br_g[lo], br_gtd[lo] = t, f_new, g_new.copy(), gtd_new
    return br_f[lo], br_g[lo], br[lo], evals


def _scalar(loss: Any) -> float:
    """float(loss) without the requires_grad warning (torch converts under no_grad, where it does not warn)."""
    return loss.item() if isinstance(loss, Tensor) else float(loss)


def _t(x: Any) -> Any:
    """State value as torch stores it: arrays and NumPy scalars become Tensors."""
    if isinstance(x, np.ndarray):
        return _wrap(x)
    if isinstance(x, np.generic):
        return _wrap(np.asarray(x))
    return x


def _a(x: Any) -> Any:
    """State value back to NumPy (0-d tensors become NumPy scalars of their dtype)."""
    if isinstance(x, Tensor):
        return x._data[()] if x._data.ndim == 0 else x._data
    return x


class LBFGS(Optimizer):
    """L-BFGS (one parameter group), with line_search_fn None or 'strong_wolfe', as torch's."""

    def __init__(self, params: Any, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self) -> np.ndarray:
        return np.concatenate([np.zeros(p._data.size, p._data.dtype) if p._grad is None
                               else p._grad._data.reshape(-1) for p in self._params])

    def _add(self, t: Any, d: np.ndarray) -> None:
        off = 0
        for p in self._params:
            n = p._data.size
            step = d[off:off + n].reshape(p._data.shape) * t
            p._data += step.astype(p._data.dtype, copy=False)
            p._vc[0] += 1
            off += n

    def _set(self, xs: list) -> None:
        for p, x in zip(self._params, xs):
            p._data[...] = x
            p._vc[0] += 1

    def step(self, closure: Callable) -> Any:  # type: ignore[override]
        """Up to max_iter L-BFGS iterations; closure re-evaluates the loss (and its gradients)."""
        with no_grad():
            return self._step(closure)

    def _eval(self, closure: Callable) -> Any:
        with enable_grad():
            return closure()

    def _step(self, closure: Callable) -> Any:
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._eval(closure)
        loss = _scalar(orig_loss)
        evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if np.abs(flat_grad).max() <= tol_grad:
            return orig_loss

        d, t = _a(state.get("d")), _a(state.get("t"))
        old_dirs = [_a(v) for v in state["old_dirs"]] if "old_dirs" in state else None
        old_stps = [_a(v) for v in state["old_stps"]] if "old_stps" in state else None
        ro = [_a(v) for v in state["ro"]] if "ro" in state else None
        H_diag = _a(state.get("H_diag"))
        prev_flat_grad = _a(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")
        al = [_a(v) for v in state["al"]] if "al" in state else None

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1
            else:
                # update the curvature pairs, then the two-loop recursion for d = -H g
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                k = len(old_dirs)
                if al is None:
                    al = [None] * history_size
                q = -flat_grad
                for i in range(k - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q += old_dirs[i] * (-al[i])
                d = r = q * H_diag
                for i in range(k):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += old_stps[i] * (al[i] - be_i)
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tol_change:
                break

            ls_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x0 = [p._data.copy() for p in self._params]

                def phi(step: Any) -> tuple:
                    self._add(step, d)
                    f = _scalar(self._eval(closure))
                    g = self._flat_grad()
                    self._set(x0)
                    return f, g
                loss, flat_grad, t, ls_evals = _strong_wolfe(phi, t, d, loss, flat_grad, gtd,
                                                             tolerance_change=1e-9, max_ls=max_eval - evals)
                self._add(t, d)
                opt_cond = np.abs(flat_grad).max() <= tol_grad
            else:
                self._add(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    loss = _scalar(self._eval(closure))
                    flat_grad = self._flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tol_change:
                break
            if abs(loss - prev_loss) < tol_change:
                break

        state["d"] = _t(d)
        state["t"] = _t(t)
        state["old_dirs"] = [_t(v) for v in old_dirs]
        state["old_stps"] = [_t(v) for v in old_stps]
        state["ro"] = [_t(v) for v in ro]
        state["H_diag"] = _t(H_diag)
        state["prev_flat_grad"] = _t(prev_flat_grad)
        state["prev_loss"] = prev_loss
        if al is not None:
            state["al"] = [_t(v) for v in al]
        return orig_loss
