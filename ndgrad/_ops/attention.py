"""Scaled dot-product attention as one op (`F.scaled_dot_product_attention`).

softmax(q kᵀ·scale + mask) v, with a boolean or additive mask (broadcast), `is_causal`, dropout on the
attention weights (the keep-mask is drawn as torch's math path draws it, bernoulli_(1 - p) on the generator's
stream, by the caller and passed in, so the backward uses the same mask), `scale`, and grouped-query attention
(`enable_gqa`: each key/value head serves a contiguous group of query heads). The forward is NumPy: two
batched matmuls (BLAS, no loop over heads or batch) and a softmax in place. Rows whose every key is masked
give 0, as torch's math path does.

The op has two outputs: the attention output and, hidden from the caller, the attention probabilities P
(what the backward needs, so nothing is recomputed). All input gradients come from one derivative
computation (`_backward`, written in ndgrad ops): the node runs it once for every input that needs a gradient.
Because the formula also takes a gradient for P and the saved P is this node's own output under
`create_graph`, double backward differentiates through the same formula. Forward mode has its own rule.

torch on CPU routes 4-d inputs without dropout (and without a mask that requires grad, without broadcast
batch dims, with equal head dims) to its flash kernel, node `ScaledDotProductFlashAttentionForCpuBackward0`;
everything else takes the math path, whose last node is `UnsafeViewBackward0` (`MmBackward0` for 2-d inputs).
The same op is registered under each of these names and the public function picks the one torch would.
"""
from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from .._quiet import quiet
from .._tensor import Tensor
from ..autograd.graph import FREED
from ._registry import NONE, Op, OpNode
from . import _registry as R
from .linalg import matmul_nd
from .reduction import expand_to, sum_dim
from .shape import reshape, transpose, unsqueeze

__all__: list[str] = []
METHODS: dict = {}
FUNCTIONAL = ["scaled_dot_product_attention"]

_DN = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
       "bool": "bool", "int16": "short int", "int8": "signed char", "uint8": "unsigned char"}
_TN = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
       "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


# -- forward (NumPy) ---------------------------------------------------------------------------------------------
def _rep_np(x: np.ndarray, g: int) -> np.ndarray:
    """Each head (dim -3) repeated g times in a row (torch's repeat_interleave for grouped-query attention)."""
    return x if g == 1 else np.repeat(x, g, axis=-3)


def _fwd(query, key, value, attn_mask, dropout_mask, scale, is_causal, gk, gv):
    k = _rep_np(key, gk)
    v = _rep_np(value, gv)
    q = query * query.dtype.type(scale) if query.shape[-1] < k.shape[-2] else query  # the smaller pass
    s = np.matmul(q, np.swapaxes(k, -1, -2))
    if q is query:
        s *= s.dtype.type(scale)
    L, S = s.shape[-2], s.shape[-1]
    if is_causal:
        np.copyto(s, -np.inf, where=~np.tri(L, S, dtype=bool))
    if attn_mask is not None:
        if attn_mask.dtype == np.bool_:
            np.copyto(s, -np.inf, where=~attn_mask)
        else:
            np.add(s, attn_mask, out=s, casting="unsafe")
    # softmax in place; a row with every key masked gives zeros (torch's safe softmax)
    m = np.max(s, axis=-1, keepdims=True) if S else np.zeros(s.shape[:-1] + (1,), s.dtype)
    np.copyto(m, 0, where=~np.isfinite(m))
    with quiet():
        s -= m
        np.exp(s, out=s)
    tot = np.sum(s, axis=-1, keepdims=True)
    tot[tot == 0] = 1
    s /= tot
    p = s
    a = p if dropout_mask is None else p * dropout_mask
    return np.matmul(a, v), p


# -- the derivative, in ndgrad ops (runs on arrays in backward, on Tensors under create_graph) ------------------
def _rep(x: Any, g: int) -> Any:
    if g == 1:
        return x
    sh = tuple(x.shape)
    e = expand_to(unsqueeze(x, len(sh) - 2), sh[:-2] + (g,) + sh[-2:])
    return reshape(e, sh[:-3] + (sh[-3] * g,) + sh[-2:])


def _unrep(x: Any, g: int) -> Any:
    """The gradient of _rep: sum over each group of heads."""
    if g == 1:
        return x
    sh = tuple(x.shape)
    return sum_dim(reshape(x, sh[:-3] + (sh[-3] // g, g) + sh[-2:]), (x.ndim - 2,), False)


def _T(x: Any) -> Any:
    return transpose(x, -1, -2)


def _backward(grad: Any, grad_p: Any, query: Any, key: Any, value: Any, dropout_mask: Any, scale: float,
              gk: int, gv: int, p: Any, need: tuple) -> list:
    """Gradients of (query, key, value, attn_mask) for those in `need`, from the output's gradient `grad`, the
    hidden probabilities' gradient `grad_p` (None when there is none) and the saved probabilities p."""
    if type(p) is np.ndarray:
        return _backward_raw(grad, grad_p, query, key, value, dropout_mask, scale, gk, gv, p, need)
    out: list = [None, None, None, None]
    a = p if dropout_mask is None else p * dropout_mask
    if need[2]:
        out[2] = _unrep(matmul_nd(_T(a), grad), gv)
    if need[0] or need[1] or need[3]:
        ga = matmul_nd(grad, _T(_rep(value, gv)))
        gp = ga if dropout_mask is None else ga * dropout_mask
        if grad_p is not None:
            gp = gp + grad_p
        gs = p * (gp - sum_dim(gp * p, (-1,), True))  # through the softmax
        if need[0]:
            out[0] = matmul_nd(gs, _rep(key, gk)) * scale
        if need[1]:
            out[1] = _unrep(matmul_nd(_T(gs), query), gk) * scale
        if need[3]:
            out[3] = gs
    return out


def _backward_raw(grad, grad_p, query, key, value, dropout_mask, scale, gk, gv, p, need) -> list:
    """`_backward` on arrays (an ordinary backward): the same formulas, with the temporaries of the softmax's
    derivative reused in place."""
    out: list = [None, None, None, None]
    a = p if dropout_mask is None else p * dropout_mask
    if need[2]:
        out[2] = _unrep(np.matmul(np.swapaxes(a, -1, -2), grad), gv)
    if need[0] or need[1] or need[3]:
        gs = np.matmul(grad, np.swapaxes(_rep_np(value, gv), -1, -2))
        if dropout_mask is not None:
            gs *= dropout_mask
        if grad_p is not None:
            gs += grad_p
        dot = np.einsum("...ij,...ij->...i", gs, p)[..., None]
        gs -= dot
        gs *= p
        sc = gs.dtype.type(scale)
        if need[0]:
            gq = np.matmul(gs, _rep_np(key, gk))
            gq *= sc
            out[0] = gq
        if need[1]:
            gkk = _unrep(np.matmul(np.swapaxes(gs, -1, -2), query), gk)
            gkk *= sc
            out[1] = gkk
        if need[3]:
            out[3] = gs
    return out


def _formula(i: int):
    def f(grads, query, key, value, dropout_mask, scale, gk, gv, result):
        need = tuple(j == i for j in range(4))
        return _backward(grads[0], grads[1], query, key, value, dropout_mask, scale, gk, gv, result[1], need)[i]
    return f


class _SDPANode(OpNode):
    """Runs `_backward` once for all the inputs that need a gradient (OpNode runs one formula per input)."""

    __slots__ = ()

    def apply_grads(self, grads: list, graph: bool) -> list:
        op = self._op
        if self._saved is FREED or graph or self._versions:
            vals = self._unpack(graph)
        else:
            vals = self._saved
        res = vals[op.nargs]
        p = res[1]
        grads = list(grads) + [None] * (2 - len(grads))
        g, gp = grads[0], grads[1]
        if g is None:
            shape, dt = self._ctx[0]
            z = np.zeros(shape, dt)
            g = R._wrap(z) if graph else z
        inputs = op.edge_inputs or (0, 1, 2, 3)
        need = [False] * 4
        for (fn, _), i in zip(self.next_functions, inputs):
            need[i] = fn is not None
        q, k, v, _, dmask, scale, _, gk, gv = vals[:op.nargs]
        if graph and dmask is not None:
            dmask = R._wrap(dmask)
        rs = _backward(g, gp, q, k, v, dmask, scale, gk, gv, p, tuple(need))
        out = []
        for (fn, _), i in zip(self.next_functions, inputs):
            if fn is None:
                out.append(None)
                continue
            r = rs[i]
            m = self._meta[i]
            shape, dt = m
            arr = r._data if graph else r
            if arr.shape != shape:
                r = R.SUM_TO(r, shape)
                arr = r._data if graph else r
            if arr.dtype != dt:
                r = R.CAST(r, dt)
            out.append(r)
        return out


_INPUTS = ("query", "key", "value", "attn_mask")
_PARAMS = ("dropout_mask", "scale", "is_causal", "gk", "gv")


def _make(node: str, edges: tuple | None) -> Op:
    op = Op("scaled_dot_product_attention", _fwd, _INPUTS, _PARAMS, node=node, dtype=NONE, n_out=2, edges=edges)
    op.defvjp(**{name: _formula(i) for i, name in enumerate(_INPUTS)})
    op.node_cls = type(node, (_SDPANode,), {"__slots__": (), "_op": op, "_name": node})
    op.defjvp(_jvp)
    return op


def _jvp(ts: list, query, key, value, attn_mask, dropout_mask, scale, is_causal, gk, gv, result):
    """Forward mode: tS = (tq kᵀ + q tkᵀ)·scale + tmask; tP = P∘(tS − ⟨P, tS⟩); tO = (tP∘M) v + (P∘M) tv."""
    p = result[1]
    if dropout_mask is not None:
        dropout_mask = R._wrap(dropout_mask)
    ts_ = None
    if ts[0] is not None:
        ts_ = matmul_nd(ts[0], _T(_rep(key, gk))) * scale
    if ts[1] is not None:
        t = matmul_nd(query, _T(_rep(ts[1], gk))) * scale
        ts_ = t if ts_ is None else ts_ + t
    if len(ts) > 3 and ts[3] is not None:
        ts_ = ts[3] if ts_ is None else ts_ + ts[3]
    to = tp = None
    if ts_ is not None:
        tp = p * (ts_ - sum_dim(p * ts_, (-1,), True))
        ta = tp if dropout_mask is None else tp * dropout_mask
        to = matmul_nd(ta, _rep(value, gv))
    if ts[2] is not None:
        a = p if dropout_mask is None else p * dropout_mask
        t = matmul_nd(a, _rep(ts[2], gv))
        to = t if to is None else to + t
    if to is None:
        from .pointwise import zeros_like
        to = zeros_like(result[0])
    return to, tp


sdpa_flash = _make("ScaledDotProductFlashAttentionForCpuBackward0", (0, 1, 2))
sdpa_math = _make("UnsafeViewBackward0", None)
sdpa_math_2d = _make("MmBackward0", None)


# -- the public function -------------------------------------------------------------------------------------
def _dn(t: Tensor) -> str:
    s = str(t._data.dtype)
    return _DN.get(s, s)


def _check_broadcast(a: tuple, b: tuple) -> tuple:
    R._check_broadcast(a, b)
    return np.broadcast_shapes(a, b)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """Mirrors `torch.nn.functional.scaled_dot_product_attention`: softmax(q kᵀ·scale + mask) v. A boolean
    mask marks the positions that may attend (True); a float mask is added to the scores."""
    for name, t, pos in (("query", query, 1), ("key", key, 2), ("value", value, 3)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' (position {pos}) must be Tensor, "
                            f"not {type(t).__name__}")
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        raise TypeError(f"scaled_dot_product_attention(): argument 'attn_mask' must be Tensor, not "
                        f"{type(attn_mask).__name__}")
    qd, kd, vd = query._data, key._data, value._data
    if qd.ndim < 2 or kd.ndim < 2 or vd.ndim < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{qd.ndim} key.dim: {kd.ndim} and value.dim: {vd.ndim} instead.")
    if not (qd.dtype == kd.dtype == vd.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_dn(query)} key.dtype: {_dn(key)} and value.dtype: {_dn(value)} instead.")
    if attn_mask is not None:
        md = attn_mask._data.dtype
        if not (md == np.bool_ or md == qd.dtype or (md.kind == "f" and md.itemsize < qd.dtype.itemsize)):
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                               f"attn_mask.dtype: {_dn(attn_mask)} and  query.dtype: {_dn(query)} instead.")
    if dropout_p > 1.0 or dropout_p < 0.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if qd.dtype.kind != "f":
        raise RuntimeError(f"expected scalar type Float but found {_TN.get(str(qd.dtype), str(qd.dtype))}")
    gk = gv = 1
    if enable_gqa and qd.ndim >= 3 and kd.ndim >= 3 and vd.ndim >= 3:
        hq, hk, hv = qd.shape[-3], kd.shape[-3], vd.shape[-3]
        if hq % hk or hq % hv:
            raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
        gk, gv = hq // hk, hq // hv
    # shape checks with the messages of torch's math path (bmm on the folded batch, or mm for 2-d inputs)
    kshape = kd.shape[:-3] + (kd.shape[-3] * gk,) + kd.shape[-2:] if kd.ndim >= 3 else kd.shape
    vshape = vd.shape[:-3] + (vd.shape[-3] * gv,) + vd.shape[-2:] if vd.ndim >= 3 else vd.shape
    batch = _check_broadcast(qd.shape[:-2], kshape[:-2])
    nb = int(np.prod(batch)) if batch else 1
    L, E = qd.shape[-2:]
    S, Ek = kshape[-2:]
    if Ek != E:
        if qd.ndim == 2 and kd.ndim == 2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({L}x{E} and {Ek}x{S})")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{nb}, {E}] but got: "
                           f"[{nb}, {Ek}].")
    batch = _check_broadcast(batch, vshape[:-2])
    if vshape[-2] != S:
        if qd.ndim == 2 and kd.ndim == 2 and vd.ndim == 2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({L}x{S} and {vshape[-2]}x{vshape[-1]})")
        nb = int(np.prod(batch)) if batch else 1
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{nb}, {S}] but got: "
                           f"[{nb}, {vshape[-2]}].")
    if attn_mask is not None:
        scores = tuple(batch) + (L, S)
        full = _check_broadcast(scores, attn_mask._data.shape)
        if full != scores:
            raise RuntimeError(f"output with shape [{', '.join(map(str, scores))}] doesn't match the broadcast "
                               f"shape [{', '.join(map(str, full))}]")
    sc = 1.0 / math.sqrt(E) if scale is None else float(scale)
    mask = attn_mask
    if mask is not None and mask._data.dtype.kind == "f" and mask._data.dtype != qd.dtype:
        mask = mask.to(query.dtype)
    dmask = None
    if dropout_p > 0.0:
        from .._creation import _gen
        shape = tuple(batch) + (L, S)
        if dropout_p == 1.0:
            dmask = np.zeros(shape, qd.dtype)
        else:  # torch's math path: at::dropout's bernoulli_(1 - p) on its stream, scaled by 1/(1 - p)
            keep = _gen(None)._torch_bernoulli(shape, 1.0 - dropout_p)
            dmask = keep.astype(qd.dtype) * qd.dtype.type(1.0 / (1.0 - dropout_p))
    flash = (qd.ndim == kd.ndim == vd.ndim == 4 and dropout_p == 0.0
             and not (attn_mask is not None and attn_mask.requires_grad)
             and qd.shape[0] == kd.shape[0] == vd.shape[0] and kd.shape[1] == vd.shape[1] and kshape[1] == qd.shape[1]
             and vd.shape[-1] == E and L > 0 and S > 0)
    chosen = sys.modules.get("ndgrad.nn.attention")  # (sdpa_kernel's choice, once a program imported it)
    if chosen is not None and chosen.enabled() != chosen._ALL:
        allowed = chosen.enabled()
        flash = flash and chosen.SDPBackend.FLASH_ATTENTION in allowed
        if not flash and chosen.SDPBackend.MATH not in allowed:
            if chosen.SDPBackend.FLASH_ATTENTION in allowed:  # (the CPU's one fused kernel, which this call can't use)
                raise RuntimeError("No available kernel.  Aborting execution.")
            raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This is likely due to "
                               "turning off both the math kernel and the fused kernels.")
    if is_causal and attn_mask is not None and not flash:  # torch's flash kernel applies both
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    op = sdpa_flash if flash else sdpa_math_2d if qd.ndim == 2 and kd.ndim == 2 and vd.ndim == 2 else sdpa_math
    return op(query, key, value, mask, dmask, sc, bool(is_causal), gk, gv)[0]
