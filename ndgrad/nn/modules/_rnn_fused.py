"""Fused layer scans of nn.RNN/LSTM/GRU: one autograd node per layer and direction instead of ~20 per step.

The per-step path in rnn.py builds every time step from ndgrad ops, so a layer costs ~20 ops (each with its
Python overhead, forward and backward) times the number of steps. Here one `Function` runs the whole
recurrence over the precomputed input projection `xw` (T, N, G*H) in plain NumPy, keeps the step activations,
and its backward runs backpropagation through time in NumPy as well, all gradients at once.

The recurrence and its backward are written once, over a small namespace of primitives (`_NP`: NumPy
functions on arrays; `_T`: ndgrad ops on Tensors). A plain forward and backward run them with `_NP` (LSTM,
the common case, has its own array versions, `_lstm_fwd_np`/`_lstm_bwd_np`, with fewer and in-place calls per
step; the tests hold them to the generic formulas and to the per-step path). A backward under grad mode
(`create_graph=True`: double backward, Hessians) instead recomputes the forward from the saved inputs with
`_T` and runs the same backward formulas with `_T`: the gradients then come out as ordinary differentiable
ndgrad expressions of the inputs, so derivatives of every order stay exact.

Gate orders are torch's: LSTM i, f, g, o; GRU r, z, n with n = tanh(x_n + r * (W_hn h + b_hn)).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import _ops as O
from ..._ops.pointwise import _sigmoid, select
from ..._creation import zeros_like as _zeros_like
from ..._tensor import Tensor, _wrap
from ...autograd.function import Function
from ...autograd.grad_mode import state as _mode

__all__ = ["fused_scan", "can_fuse"]


class _NP:
    """The scan's primitives on NumPy arrays (the values of the ndgrad ops of the per-step path)."""
    sigmoid = staticmethod(_sigmoid)
    tanh = staticmethod(np.tanh)

    @staticmethod
    def relu(x: Any) -> Any:
        return np.maximum(x, 0)

    @staticmethod
    def relu_grad(grad: Any, result: Any) -> Any:  # relu's vjp: 0 where the result is <= 0 (NaN passes)
        return select(result <= 0, 0, grad)  # (as the relu op's own backward: no branch per element)

    @staticmethod
    def cat(xs: list, dim: int) -> Any:
        return np.concatenate(xs, dim)

    @staticmethod
    def stack(xs: list, dim: int = 0) -> Any:
        return np.stack(xs, dim)

    zeros_like = staticmethod(np.zeros_like)


class _T:
    """The same primitives as ndgrad ops on Tensors: differentiable (used when backward runs under grad mode)."""
    sigmoid = staticmethod(O.sigmoid)
    tanh = staticmethod(O.tanh)
    relu = staticmethod(O.relu)

    @staticmethod
    def relu_grad(grad: Any, result: Any) -> Any:
        return O.where(result <= 0, 0.0, grad)

    @staticmethod
    def cat(xs: list, dim: int) -> Any:
        return O.cat(xs, dim)

    @staticmethod
    def stack(xs: list, dim: int = 0) -> Any:
        return O.stack(xs, dim)

    zeros_like = staticmethod(_zeros_like)


# -- the recurrences: forward (outputs and the per-step values backward needs) and BPTT ---------------------------
# `order` is the processing order of the time steps (reversed for the reverse direction); every per-step list is
# indexed by time step. Each backward takes the output gradients (dys (T, N, H), dh (N, H), dc) and returns the
# gradients of (xw, h0, c0, w_hh), and the (T * N, G * H) gradient of h W_hhᵀ + b_hh, whose column sums are b_hh's
# (summed only when there is a b_hh).

def _stacked(m: Any, v: Any) -> Any:
    """A per-step list stacked on a new first axis (the array-path tapes come stacked already)."""
    return m.stack(v) if isinstance(v, list) else v


def _lstm_fwd(m: Any, xw: Any, h: Any, c: Any, w_hh: Any, b_hh: Any, order: range) -> tuple:
    H = h.shape[-1]
    xb = xw + b_hh if b_hh is not None else xw
    wt = w_hh.T
    T = xw.shape[0]
    ys, sif, gs, os_, cps, tcs, hps = ([None] * T for _ in range(7))
    for t in order:
        hps[t], cps[t] = h, c
        gates = xb[t] + h @ wt
        s = m.sigmoid(gates[:, :2 * H])  # i and f
        g = m.tanh(gates[:, 2 * H:3 * H])
        o = m.sigmoid(gates[:, 3 * H:])
        c = s[:, H:] * c + s[:, :H] * g
        tc = m.tanh(c)
        h = o * tc
        ys[t], sif[t], gs[t], os_[t], tcs[t] = h, s, g, o, tc
    return (m.stack(ys), h, c), (sif, gs, os_, cps, tcs, hps)


def _lstm_bwd(m: Any, tape: tuple, w_hh: Any, dys: Any, dh: Any, dc: Any, order: range) -> tuple:
    sif, gs, os_, cps, tcs, hps = (_stacked(m, v) for v in tape)
    T, N, H = gs.shape
    i, f = sif[..., :H], sif[..., H:]
    k = os_ * (1 - tcs * tcs)  # dc/dh through h = o * tanh(c)
    # d(pre-activation of i, f, g)/dc and d(pre-activation of o)/dh, for all steps at once
    qd = m.stack([gs * (i * (1 - i)), cps * (f * (1 - f)), i * (1 - gs * gs)], 2)  # (T, N, 3, H)
    to = tcs * (os_ * (1 - os_))
    dgates: list = [None] * T
    for t in reversed(order):
        dh = dh + dys[t]
        dc = dc + dh * k[t]
        dg = m.cat([(dc.reshape(N, 1, H) * qd[t]).reshape(N, 3 * H), dh * to[t]], -1)
        dgates[t] = dg
        dh = dg @ w_hh
        dc = dc * f[t]
    dxw = m.stack(dgates)
    flat = dxw.reshape(T * N, 4 * H)
    dw = flat.T @ hps.reshape(T * N, H)
    return dxw, dh, dc, dw, flat


def _gru_fwd(m: Any, xw: Any, h: Any, c: Any, w_hh: Any, b_hh: Any, order: range) -> tuple:
    H = h.shape[-1]
    wt = w_hh.T
    T = xw.shape[0]
    ys, rzs, ns, hns, hps = ([None] * T for _ in range(5))
    for t in order:
        hps[t] = h
        gh = h @ wt
        if b_hh is not None:
            gh = gh + b_hh
        x = xw[t]
        rz = m.sigmoid(x[:, :2 * H] + gh[:, :2 * H])  # r and z
        hn = gh[:, 2 * H:]
        n = m.tanh(x[:, 2 * H:] + rz[:, :H] * hn)
        z = rz[:, H:]
        h = (1 - z) * n + z * h
        ys[t], rzs[t], ns[t], hns[t] = h, rz, n, hn
    return (m.stack(ys), h), (rzs, ns, hns, hps)


def _gru_bwd(m: Any, tape: tuple, w_hh: Any, dys: Any, dh: Any, dc: Any, order: range) -> tuple:
    rzs, ns, hns, hps = (_stacked(m, v) for v in tape)
    T, N, H = ns.shape
    r, z = rzs[..., :H], rzs[..., H:]
    u = (1 - z) * (1 - ns * ns)       # d(pre-activation of n)/dh
    v = (hps - ns) * (z * (1 - z))    # d(pre-activation of z)/dh
    wr = hns * (r * (1 - r))          # d(pre-activation of r)/d(pre-activation of n)
    dxs: list = [None] * T
    dghs: list = [None] * T
    for t in reversed(order):
        dh = dh + dys[t]
        dn = dh * u[t]
        drz = m.cat([dn * wr[t], dh * v[t]], -1)
        dxs[t] = m.cat([drz, dn], -1)
        dghs[t] = dgh = m.cat([drz, dn * r[t]], -1)
        dh = dgh @ w_hh + dh * z[t]
    dxw = m.stack(dxs)
    dgh = m.stack(dghs).reshape(T * N, 3 * H)
    dw = dgh.T @ hps.reshape(T * N, H)
    return dxw, dh, None, dw, dgh


def _rnn_fwd(act: str) -> Any:
    def fwd(m: Any, xw: Any, h: Any, c: Any, w_hh: Any, b_hh: Any, order: range) -> tuple:
        xb = xw + b_hh if b_hh is not None else xw
        wt = w_hh.T
        f = m.tanh if act == "tanh" else m.relu
        T = xw.shape[0]
        ys, hps = [None] * T, [None] * T
        for t in order:
            hps[t] = h
            h = f(xb[t] + h @ wt)
            ys[t] = h
        return (m.stack(ys), h), (ys, hps)
    return fwd


def _rnn_bwd(act: str) -> Any:
    def bwd(m: Any, tape: tuple, w_hh: Any, dys: Any, dh: Any, dc: Any, order: range) -> tuple:
        ys, hps = (_stacked(m, v) for v in tape)
        T, N, H = ys.shape
        d = 1 - ys * ys if act == "tanh" else None
        dxs: list = [None] * T
        for t in reversed(order):
            dh = dh + dys[t]
            dx = dh * d[t] if d is not None else m.relu_grad(dh, ys[t])
            dxs[t] = dx
            dh = dx @ w_hh
        dxw = m.stack(dxs)
        flat = dxw.reshape(T * N, H)
        return dxw, dh, None, flat.T @ hps.reshape(T * N, H), flat
    return bwd


# -- the same LSTM scan written for NumPy speed (the common case): fewer, in-place calls per step ---------------
def _lstm_fwd_np(xw: Any, h: Any, c: Any, w_hh: Any, b_hh: Any, order: range) -> tuple:
    """Per step t: the gates' activations (i, f, g, o) are written into act[t], tanh(c) into tcs[t], h and c into
    hs/cs (T + 1 slots: the initial state and each step's, so that the previous states are a view too)."""
    T, N, G = xw.shape
    H = G // 4
    xb = xw + b_hh if b_hh is not None else xw
    wt = np.ascontiguousarray(w_hh.T)  # (a copy: a contiguous right operand makes the product faster)
    act = np.empty_like(xw)
    hs, cs = (np.empty_like(xw, shape=(T + 1, N, H)) for _ in range(2))
    tcs = np.empty_like(xw, shape=(T, N, H))
    fwd = order.step > 0
    s0, off = (0, 1) if fwd else (T, 0)  # the slot of the initial state; the slot of step t's is t + off
    hs[s0] = h
    cs[s0] = c
    # one tanh for the four gates: σ(x) = (1 + tanh(x/2)) / 2 for i, f, o (halving and the affine map are exact
    # in binary floating point up to the final rounding), tanh itself for g
    half = np.full_like(xw, 0.5, shape=(G,))
    half[2 * H:3 * H] = 1
    shift = half.copy()
    shift[2 * H:3 * H] = 0
    for t in order:
        a = act[t]
        np.matmul(h, wt, out=a)
        a += xb[t]
        a *= half
        np.tanh(a, out=a)
        a *= half
        a += shift
        c = np.multiply(a[:, H:2 * H], c, out=cs[t + off])
        c += a[:, :H] * a[:, 2 * H:3 * H]
        tc = np.tanh(c, out=tcs[t])
        h = np.multiply(a[:, 3 * H:], tc, out=hs[t + off])
    # the outputs are copies: changing them in place must not change the saved states (the per-step path allows it)
    ys = (hs[1:] if fwd else hs[:T]).copy()
    return (ys, h.copy(), c.copy()), (act, cs, tcs, hs)


def _lstm_bwd_np(tape: tuple, w_hh: Any, dys: Any, dh: Any, dc: Any, order: range) -> tuple:
    # every step's work is on its own rows (hot in cache): passes over whole (T, ...) arrays cost memory bandwidth
    act, cs, tcs, hs = tape
    fwd = order.step > 0
    T, N, G = act.shape
    H = G // 4
    off = 1 if fwd else 0  # step t's states are in slot t + off, the previous ones in t + 1 - off
    dxw = np.empty_like(act)
    s = np.empty_like(act, shape=(N, G))
    k = np.empty_like(act, shape=(N, H))
    for t in reversed(order):
        a, tc, d = act[t], tcs[t], dxw[t]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        dh = dh + dys[t]
        np.multiply(tc, tc, out=k)  # dc += dh * o * (1 - tanh²(c)), through h = o * tanh(c)
        np.subtract(1, k, out=k)
        k *= o
        k *= dh
        dc = dc + k
        np.subtract(1, a, out=s)  # the activations' derivatives: σ' = σ (1 - σ), tanh' = 1 - tanh²
        s *= a
        sg = s[:, 2 * H:3 * H]
        np.multiply(g, g, out=sg)
        np.subtract(1, sg, out=sg)
        np.multiply(dc, g, out=d[:, :H])  # d/di, d/df, d/dg, d/do, then through the activations
        np.multiply(dc, cs[t + 1 - off], out=d[:, H:2 * H])
        np.multiply(dc, i, out=d[:, 2 * H:3 * H])
        np.multiply(dh, tc, out=d[:, 3 * H:])
        d *= s
        dh = d @ w_hh
        dc *= f
    flat = dxw.reshape(T * N, G)
    dw = flat.T @ (hs[:T] if fwd else hs[1:]).reshape(T * N, H)  # the previous h
    return dxw, dh, dc, dw, flat


def _generic_np(fwd: Any, bwd: Any) -> tuple:
    def fwd_np(*args: Any) -> tuple:
        outs, tape = fwd(_NP, *args)
        return outs, tuple(np.stack(v) for v in tape)
    return fwd_np, (lambda *a: bwd(_NP, *a))


# mode: (forward, backward) over a namespace (the create_graph backward's), and (forward, backward) on arrays
_SCANS = {"LSTM": (_lstm_fwd, _lstm_bwd, _lstm_fwd_np, _lstm_bwd_np),
          "GRU": (_gru_fwd, _gru_bwd) + _generic_np(_gru_fwd, _gru_bwd)}
for _act in ("tanh", "relu"):
    _SCANS["RNN_" + _act.upper()] = (_rnn_fwd(_act), _rnn_bwd(_act)) + _generic_np(_rnn_fwd(_act), _rnn_bwd(_act))


class _RNNScan(Function):
    """One layer and direction of a recurrent net: (mode, reverse, xw, h0, c0, w_hh, b_hh) -> (ys, hT[, cT])."""

    @staticmethod
    def forward(ctx: Any, mode: str, reverse: bool, xw: Tensor, h0: Tensor, c0: Tensor | None, w_hh: Tensor,
                b_hh: Tensor | None) -> tuple:
        ctx.set_materialize_grads(False)
        steps = xw.shape[0]
        ctx.scan_mode, ctx.scan_order = mode, range(steps - 1, -1, -1) if reverse else range(steps)
        d = lambda t: t._data if t is not None else None  # noqa: E731
        outs, tape = _SCANS[mode][2](xw._data, h0._data, d(c0), w_hh._data, d(b_hh), ctx.scan_order)
        # the activations are saved tensors too: freed after a backward without retain_graph, as saved values are
        ctx.save_for_backward(xw, h0, c0, w_hh, b_hh, *(_wrap(a) for a in tape))
        return tuple(_wrap(o) for o in outs)

    @staticmethod
    def backward(ctx: Any, dys: Any, dh: Any, dc: Any = None) -> tuple:
        saved = ctx.saved_tensors
        xw, h0, c0, w_hh, b_hh = saved[:5]
        fwd, bwd, _, bwd_np = _SCANS[ctx.scan_mode]
        order = ctx.scan_order
        if _mode.enabled:  # create_graph: recompute with ndgrad ops so that the gradients are differentiable
            m, ref = _T, h0
            tape = fwd(_T, xw, h0, c0, w_hh, b_hh, order)[1]
            run = lambda *g: bwd(_T, tape, w_hh, *g, order)  # noqa: E731
        else:
            m, ref = _NP, h0._data
            dys, dh, dc = (g._data if g is not None else None for g in (dys, dh, dc))
            tape = tuple(t._data for t in saved[5:])
            run = lambda *g: bwd_np(tape, w_hh._data, *g, order)  # noqa: E731
        dys = dys if dys is not None else m.stack([m.zeros_like(ref)] * xw.shape[0])
        dh = dh if dh is not None else m.zeros_like(ref)
        if ctx.scan_mode == "LSTM" and dc is None:
            dc = m.zeros_like(ref)
        dxw, dh0, dc0, dw, dgh = run(dys, dh, dc)
        db = dgh.sum(0) if b_hh is not None else None
        if m is _NP:
            dxw, dh0, dc0, dw, db = (_wrap(g) if g is not None else None for g in (dxw, dh0, dc0, dw, db))
        return None, None, dxw, dh0, dc0, dw, db


def can_fuse(x: Tensor, proj_size: int, tensors: list) -> bool:
    """Whether the fused scan gives exactly what the per-step path gives (and its derivatives): non-empty float32
    or float64 input with states and weights of its dtype, no LSTM projection, and no forward-mode AD level
    (whose tangents the per-step ops propagate)."""
    from ...autograd.forward_ad import _S
    dt = x._data.dtype
    return (proj_size == 0 and _S.level < 0 and dt in (np.float32, np.float64) and x.shape[0] > 0
            and all(t._data.dtype == dt for t in tensors))


def fused_scan(mode: str, reverse: bool, xw: Tensor, h0: Tensor, c0: Tensor | None, w_hh: Tensor,
               b_hh: Tensor | None) -> tuple:
    """(ys (T, N, H), hT, cT or None) of one layer and direction, as one autograd node."""
    out = _RNNScan.apply(mode, reverse, xw, h0, c0, w_hh, b_hh)
    node = out[0].grad_fn
    if node is not None and node.__class__ is _RNNScan._backward_cls:
        node.__class__ = _LSTM_NODE if mode == "LSTM" else _STACK_NODE
    return out if mode == "LSTM" else (out[0], out[1], None)


def _named_node(name: str) -> type:
    """The scan's node class under the name of the node that torch's CPU kernels give that output (and printed as
    a built-in node is): an LSTM layer's MkldnnRnnLayerBackward0, the StackBackward0 of the other cells' steps."""
    return type(name, (_RNNScan._backward_cls,), {"__slots__": (), "_name": name, "__module__": __name__,
                                                   "__repr__": lambda self: f"<{name} object at {hex(id(self))}>"})


_LSTM_NODE, _STACK_NODE = _named_node("MkldnnRnnLayerBackward0"), _named_node("StackBackward0")
