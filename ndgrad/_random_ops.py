"""Random sampling ops: multinomial, normal, bernoulli, poisson, and the in-place fills normal_, uniform_,
exponential_, geometric_, log_normal_, cauchy_, random_, bernoulli_.

Loaded on first use (`ndgrad.normal`, `x.normal_()`...), so `import ndgrad` does not pay for it. Every draw comes
from ndgrad's generator (`manual_seed`, or a `Generator` passed as `generator=`), so runs reproduce; the numbers
differ from torch's bit stream, the distributions and everything else (shapes, dtypes, errors, grad_fn names)
follow torch. As in torch the samples are not reparameterised: gradients through them are zero, and
`bernoulli(input, p)` records a node whose backward raises.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from . import _dtype as D
from ._creation import Generator, _gen, _resolve, _rng, _size
from ._ops import pointwise as P
from ._ops._registry import NONE, SAME, Op
from ._tensor import _PRETTY, Tensor, _wrap

__all__ = ["multinomial", "normal", "bernoulli", "poisson"]


def _kind(a: np.ndarray) -> str:
    return _PRETTY[a.dtype.kind, a.dtype.itemsize]


def _zero(grad):
    return P.zeros_like(grad)


def _not_impl(grad):
    raise RuntimeError("derivative for aten::bernoulli is not implemented")


def _sample_op(node: str, inputs: Sequence[str] = ("self",), formula: Any = _zero) -> Op:
    """An op whose forward returns the values drawn beforehand (param `values`), with torch's node name and a
    zero gradient for each input (torch's samples are not reparameterised)."""
    op = Op(node[:-9].lower(), lambda *a: a[-1], tuple(inputs), ("values",), node=node,
            dtype=SAME if len(inputs) == 1 else NONE)
    op.defvjp(**{name: formula for name in inputs})
    return op


_normal_ops = {(True, False): _sample_op("NormalBackward1", ("mean",)),
               (False, True): _sample_op("NormalBackward2", ("std",)),
               (True, True): _sample_op("NormalBackward3", ("mean", "std"))}
_bernoulli_op = _sample_op("BernoulliBackward0")
_bernoulli_p_op = Op("bernoulli", lambda self, values: values, ("self",), ("values",), node="NotImplemented",
                     dtype=SAME)
_bernoulli_p_op.defvjp(self=_not_impl)
_poisson_op = _sample_op("PoissonBackward0")
_FILL_OPS = {name: _sample_op(node) for name, node in (
    ("normal_", "NormalBackward0"), ("uniform_", "UniformBackward0"), ("exponential_", "ExponentialBackward0"),
    ("geometric_", "GeometricBackward0"), ("log_normal_", "LogNormalBackward0"), ("cauchy_", "CauchyBackward0"),
    ("random_from_to", "RandomBackward0"), ("random_to", "RandomBackward1"), ("random_", "RandomBackward2"),
    ("bernoulli_float", "BernoulliBackward2"))}
_FILL_OPS["bernoulli_tensor"] = _sample_op("BernoulliBackward1", ("self", "p"))  # p is an input (zero gradient)
# every op here is constant in its inputs: forward mode gives zero tangents (the transposed zero vjp)


def _float_kernel(a: np.ndarray, kernel: str) -> None:
    if a.dtype.kind not in "fc":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_kind(a)}'")


# -- multinomial ----------------------------------------------------------------------------------------------
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None, out: Any = None) -> Tensor:
    """Mirrors `torch.multinomial`: indices drawn from the rows of non-negative weights (int64)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    p = input._data
    if p.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {_kind(p)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    n_cat = p.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if n_cat > 2 ** 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    rows = p.reshape(-1, n_cat).astype(np.float64)
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if np.any(rows.sum(axis=1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    g = _gen(generator)
    out_rows = []
    for w in rows:
        if replacement and num_samples > 1:
            # torch: a 53-bit uniform per sample, binary search in the normalised cumulative distribution
            cum = np.cumsum(w.astype(p.dtype)).astype(p.dtype)
            cum = cum / cum[-1]
            u = g._torch_unit(num_samples, True)
            out_rows.append(np.minimum(np.searchsorted(cum, u, side="left"), n_cat - 1))
        else:
            # torch's exponential race: q = exponential_(1) in the input's dtype, the largest w / q win
            q = _torch_exponential(g, (n_cat,), p.dtype).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                score = np.where(w > 0, w.astype(p.dtype).astype(np.float64) / q, -np.inf)
            out_rows.append(np.argsort(-score, kind="stable")[:num_samples])
    res = np.stack(out_rows).astype(np.int64)
    return _wrap(res.reshape(num_samples) if p.ndim == 1 else res)


# -- torch's stream (see Generator in _creation.py) ----------------------------------------------------------------
def _torch_unit(g: Generator, shape: tuple, dt: Any) -> np.ndarray:
    """Uniforms as torch's per-element kernels draw them: 53 bits for double tensors, 24 otherwise."""
    n = int(np.prod(shape, dtype=np.int64))
    return g._torch_unit(n, np.dtype(dt) == np.float64).reshape(shape)


def _torch_exponential(g: Generator, shape: tuple, dt: Any) -> np.ndarray:
    """torch's exponential_(1): -log1p(-u) with 53-bit uniforms, in the tensor's dtype."""
    n = int(np.prod(shape, dtype=np.int64))
    return (-np.log1p(-g._torch_unit(n, True))).astype(dt).reshape(shape)


# -- normal ---------------------------------------------------------------------------------------------------
def normal(mean: Any = 0.0, std: Any = 1.0, size: Sequence[int] | None = None, *,
           generator: Generator | None = None, out: Any = None, dtype: Any = None, layout: Any = None,
           device: Any = None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.normal`'s overloads: (Tensor mean, Tensor std), (Tensor mean, float std=1),
    (float mean, Tensor std), (float mean, float std, size). Values are drawn, not reparameterised: gradients
    with respect to mean and std are zero, as torch's."""
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    rng_of = lambda: _rng(generator)  # noqa: E731
    if not mt and not st:
        if size is None:
            raise TypeError(f"normal() received an invalid combination of arguments - got ({type(mean).__name__}, "
                            f"{type(std).__name__}), but expected one of:\n"
                            " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
                            " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
                            " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
                            " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, "
                            "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
                            "torch.device device = None, bool pin_memory = False, bool requires_grad = False)\n")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        d = _resolve(dtype) or D.get_default_dtype()
        if not (d.is_floating_point or d.is_complex):
            kind = _PRETTY[d.np.kind, d.np.itemsize]
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{kind}'")
        shape = _size(tuple(size) if isinstance(size, (list, tuple)) else (size,))
        vals = _gen(generator)._torch_normal(shape, d.np, mean, std)
        t = _wrap(vals)
        if requires_grad:
            t.requires_grad_()
        return t
    if size is not None:
        raise TypeError("normal(): size can only be given with a float mean and a float std")
    ref = mean if mt else std
    _float_kernel(ref._data, "normal_kernel_cpu")
    if mt and st:
        _float_kernel(std._data, "normal_kernel_cpu")
    if st:
        if np.any(std._data < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    m = mean._data if mt else np.asarray(mean)
    s = std._data if st else np.asarray(std)
    try:
        shape = np.broadcast_shapes(m.shape, s.shape)
    except ValueError:
        a, b = m.shape, s.shape
        n = max(len(a), len(b))
        a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        i = next(i for i in range(n - 1, -1, -1) if a[i] != b[i] and 1 not in (a[i], b[i]))
        raise RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at "
                           f"non-singleton dimension {i}") from None
    dt = ref._data.dtype
    # torch: output.normal_(0, 1), then mul_(std), add_(mean), in the output's dtype
    z = _gen(generator)._torch_normal(shape, dt)
    vals = (z * s.astype(dt) + m.astype(dt)).astype(dt)
    op = _normal_ops[mt, st]
    args = [x for x, is_t in ((mean, mt), (std, st)) if is_t]
    return op(*args, np.ascontiguousarray(vals).reshape(shape))


# -- bernoulli / poisson --------------------------------------------------------------------------------------
def bernoulli(input: Tensor, p: float | None = None, *, generator: Generator | None = None,
              out: Any = None) -> Tensor:
    """Mirrors `torch.bernoulli`: 1 with probability input (or the float p), in input's dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    a = input._data
    if p is not None:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
        vals = _gen(generator)._torch_bernoulli(a.shape, p).astype(a.dtype)
        return _bernoulli_p_op(input, vals)
    _float_kernel(a, "bernoulli_tensor_cpu_p_")
    if np.any(~((a >= 0) & (a <= 1))):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
                           "be improved?  If so, please report an enhancement request to PyTorch.)")
    vals = (_torch_unit(_gen(generator), a.shape, a.dtype) < a).astype(a.dtype)
    return _bernoulli_op(input, vals)


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Mirrors `torch.poisson`: a Poisson draw for each rate, in input's dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    a = input._data
    _float_kernel(a, "poisson_cpu")
    if np.any(~(a >= 0)):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    vals = np.asarray(_rng(generator).poisson(a.astype(np.float64))).astype(a.dtype)
    return _poisson_op(input, vals)


# -- in-place fills (Tensor methods) ------------------------------------------------------------------------------
def _fill(self: Tensor, kind: str, vals: np.ndarray, *inputs: Tensor) -> Tensor:
    self._check_inplace()
    vals = np.require(vals.astype(self._data.dtype), requirements="C")
    return self._set_inplace(_FILL_OPS[kind](self, *inputs, vals))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Mirrors `Tensor.normal_`."""
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    _float_kernel(self._data, "normal_kernel_cpu")
    return _fill(self, "normal_", _gen(generator)._torch_normal(self._data.shape, self._data.dtype, mean,
                                                                     std))


def uniform_(self: Tensor, from_: float = 0.0, to: float = 1.0, *, generator: Generator | None = None,
             **kw: Any) -> Tensor:
    """Mirrors `Tensor.uniform_(from=0, to=1)` (`from` may be passed by keyword as in torch)."""
    from_ = kw.pop("from", from_)
    _float_kernel(self._data, "check_uniform_bounds")
    finfo = np.finfo(self._data.dtype) if self._data.dtype.kind == "f" else None
    name = _C_TYPES.get(self._data.dtype.name, self._data.dtype.name)
    if finfo is not None and not -finfo.max <= from_ <= finfo.max:
        raise RuntimeError(f"from is out of bounds for {name}")
    if finfo is not None and not -finfo.max <= to <= finfo.max:
        raise RuntimeError(f"to is out of bounds for {name}")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_:g} > to={to:g}")
    return _fill(self, "uniform_", _gen(generator)._torch_uniform(self._data.shape, self._data.dtype, from_, to))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Mirrors `Tensor.exponential_`."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    _float_kernel(self._data, "exponential_cpu")
    return _fill(self, "exponential_", _torch_exponential(_gen(generator), self._data.shape, self._data.dtype)
                 / lambd)


def geometric_(self: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    """Mirrors `Tensor.geometric_`: the number of Bernoulli(p) trials up to the first success (>= 1)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    return _fill(self, "geometric_", _rng(generator).geometric(p, self._data.shape))


def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Generator | None = None) -> Tensor:
    """Mirrors `Tensor.log_normal_`: exp of a normal(mean, std) draw."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    _float_kernel(self._data, "log_normal_cpu")
    return _fill(self, "log_normal_", np.exp(mean + std * _rng(generator).standard_normal(self._data.shape)))


def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Mirrors `Tensor.cauchy_`."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    _float_kernel(self._data, "cauchy_cpu")
    return _fill(self, "cauchy_", median + sigma * _rng(generator).standard_cauchy(self._data.shape))


_C_TYPES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short", "int32": "int",
            "int64": "long", "float16": "c10::Half", "float32": "float", "float64": "double", "bfloat16": "c10::BFloat16"}


def check_random_bounds(lo: int, hi: int, dt: np.dtype) -> None:
    """torch's check that integers drawn in [lo, hi) fit a bool or integer dtype (floats only warn in torch)."""
    if dt.kind in "biu":
        lo_ok, hi_ok = (0, 1) if dt.kind == "b" else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
        name = _C_TYPES.get(dt.name, dt.name)
        if not lo_ok <= lo <= hi_ok:
            raise RuntimeError(f"from is out of bounds for {name}")
        if not lo_ok <= hi - 1 <= hi_ok:
            raise RuntimeError(f"to - 1 is out of bounds for {name}")


def _random_top(dt: np.dtype) -> int:
    """The exclusive upper end of `random_()` for a dtype: 2^mantissa+1 for floats, the maximum + 1 for ints."""
    if dt.kind == "b":
        return 2
    if dt.kind == "f":
        return 2 ** (np.finfo(dt).nmant + 1) + 1
    return int(np.iinfo(dt).max) + 1


def random_(self: Tensor, from_: int | None = None, to: int | None = None, *,
            generator: Generator | None = None, **kw: Any) -> Tensor:
    """Mirrors `Tensor.random_()`, `random_(to)`, `random_(from, to)`: integers drawn uniformly."""
    from_ = kw.pop("from", from_)
    dt = self._data.dtype
    if from_ is None and to is None:
        lo, hi, kind = 0, _random_top(dt), "random_"
    elif to is None:
        lo, hi, kind = 0, int(from_), "random_to"
    else:
        lo, hi, kind = int(from_), int(to), "random_from_to"
    if lo >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}")
    if kind != "random_":
        check_random_bounds(lo, hi, dt)
    n = int(np.prod(self._data.shape, dtype=np.int64))
    vals = _gen(generator)._torch_random(n, lo, hi).reshape(self._data.shape) if hi - lo <= 2 ** 63 else \
        _rng(generator).integers(lo, hi, self._data.shape, dtype=np.uint64)
    return _fill(self, kind, vals)


def bernoulli_(self: Tensor, p: float | Tensor = 0.5, *, generator: Generator | None = None) -> Tensor:
    """Mirrors `Tensor.bernoulli_(p)` with p a float or a tensor of probabilities."""
    shape = self._data.shape
    if isinstance(p, Tensor):
        pa = p._data
        if np.any(~((pa >= 0) & (pa <= 1))):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
                               "message be improved?  If so, please report an enhancement request to PyTorch.)")
        vals = _torch_unit(_gen(generator), shape, self._data.dtype) < np.broadcast_to(pa, shape)
        return _fill(self, "bernoulli_tensor", vals, p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    return _fill(self, "bernoulli_float", _gen(generator)._torch_bernoulli(shape, p))


METHODS: dict = {"normal_": normal_, "uniform_": uniform_, "exponential_": exponential_, "geometric_": geometric_,
                 "log_normal_": log_normal_, "cauchy_": cauchy_, "random_": random_, "bernoulli_": bernoulli_,
                 "bernoulli": bernoulli, "multinomial": multinomial}
del math
