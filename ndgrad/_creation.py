"""Tensor creation: tensor, zeros/ones/full/empty and *_like, arange, linspace, eye, random, seeds."""
from __future__ import annotations

import math
import numbers
import struct as _struct
from typing import Any, Sequence

import numpy as np

from . import _dtype as D
from ._tensor import Size, Tensor, _wrap
from ._warn import warn as _warn

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
           "full_like", "empty_like", "arange", "linspace", "logspace", "eye", "rand", "randn", "randint",
           "rand_like", "randn_like", "randint_like", "randperm", "manual_seed", "seed", "initial_seed", "device",
           "Generator", "default_generator", "is_tensor", "numel", "scalar_tensor"]


_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                 "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
NO_CUDA = "Torch not compiled with CUDA enabled"


class device:
    """Mirrors `torch.device`. Any of torch's device types can be named; ndgrad computes on the CPU, so only
    cpu tensors can be made (others get the error a CPU-only torch gives, see `_check_device`)."""

    __slots__ = ("type", "index")

    def __init__(self, type: "str | int | device" = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            # an integer names the current accelerator's device: there is none
            raise RuntimeError("Cannot access accelerator device when none is available.")
        elif not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type.__class__.__name__})")
        elif ":" in type:
            t, _, i = type.partition(":")
            if not i.isdigit() or index is not None:
                raise RuntimeError(f"Invalid device string: '{type}'")
            type, index = t, int(i)
        if type not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: "
                               f"{type}")
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative")
        self.type = type
        self.index = index

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        return isinstance(other, device) and other.type == self.type and other.index == self.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> Any:
        return (device, (self.type, self.index))

    def __enter__(self) -> "device":
        _check_device(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


_DEFAULT_DEVICE: list = [None]


def _check_device(dev: Any) -> None:
    """Refuse to place data on anything but the CPU, with the error a CPU-only torch build raises."""
    if dev is None:
        dev = _DEFAULT_DEVICE[0]
    if dev is None or dev == "cpu" or dev.__class__ is device and dev.type == "cpu":
        return
    d = dev if isinstance(dev, device) else device(dev)
    if d.type == "cpu":
        return
    if d.type == "cuda":
        raise AssertionError(NO_CUDA)
    if d.type == "mps":
        raise RuntimeError("PyTorch is not linked with support for mps devices")
    if d.type == "meta":
        raise NotImplementedError("torch.device('meta') is not available in ndgrad (no meta tensors: every ndgrad "
                                  "tensor holds its data)")
    raise RuntimeError(f"ndgrad computes on the CPU only: no {d.type} device")


_MT_N = 624  # MT19937's words
_STATE_SIZE = 5056  # torch's CPUGeneratorImplState
_OLD_STATE_SIZE = 624 * 4 + 13


class Generator:
    """Mirrors `torch.Generator`, with torch's CPU stream: an MT19937 engine seeded as torch seeds it, and
    torch's transformations for uniform (24/53-bit), normal (Box-Muller, cached pairs for single draws, torch's
    16-wide fill for larger tensors), integer ranges, bernoulli and randperm (`_torch_*` below). So a seeded
    program draws the same numbers as under PyTorch. Other distributions use NumPy's algorithms on the same
    engine (`_rng`), seeded and reproducible but not torch's bit stream."""

    def __init__(self, device: Any = "cpu") -> None:
        _check_device(device)
        self.device = globals()["device"]("cpu")
        self._seed = 67280421310721  # torch's default seed; the engine is made on first use (numpy.random
        self._engine = None          # costs ~10 ms of `import ndgrad`)
        self._gen = None
        self._normal_cache: float | None = None

    def __repr__(self) -> str:
        return f"<torch._C.Generator object at {hex(id(self))}>"  # (as torch's prints, in a notebook cell's output)

    @property
    def _bits(self) -> Any:
        if self._engine is None:
            self._engine = np.random.MT19937()
            self._engine._legacy_seeding(self._seed & 0xFFFFFFFF)  # std::mt19937(seed) keeps the low 32 bits
        return self._engine

    @property
    def _rng(self) -> np.random.Generator:
        # NumPy's distributions on the same MT19937 engine (made on first use)
        if self._gen is None:
            self._gen = np.random.Generator(self._bits)
        return self._gen

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        if seed < 0:
            seed += 1 << 64
        self._seed = seed
        self._engine = None
        self._gen = None
        self._normal_cache = None
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy) % (2 ** 63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def _state(self) -> dict:
        """The state as a dict, for saving and restoring inside ndgrad (cheaper than get_state's bytes)."""
        return {"engine": self._bits.state, "normal": self._normal_cache}

    def _restore(self, state: dict) -> None:
        self._bits.state = state["engine"]
        self._normal_cache = state.get("normal")

    def get_state(self) -> Tensor:
        """Mirrors `torch.Generator.get_state`: the state as torch's 5056-byte CPUGeneratorImplState, so states move
        between torch and ndgrad: the initial seed, the MT19937 position (torch's `left`/`next`) and its 624 words
        (each in 8 bytes), the cached second normal draw (`normal_y`, `normal_is_valid`); the float cache is empty."""
        st = self._bits.state["state"]
        pos = int(st["pos"])
        left, nxt = (1, 0) if pos >= _MT_N else (_MT_N + 1 - pos, pos)
        buf = bytearray(_STATE_SIZE)
        _struct.pack_into("<QiiQ", buf, 0, self._seed & 0xFFFFFFFFFFFFFFFF, left, 1, nxt)
        buf[24:24 + 8 * _MT_N] = np.asarray(st["key"], dtype="<u8").tobytes()
        cache = self._normal_cache
        _struct.pack_into("<dddi", buf, 24 + 8 * _MT_N, 0.0, 0.0 if cache is None else cache, 0.0, cache is not None)
        return _wrap(np.frombuffer(bytes(buf), dtype=np.uint8).copy())

    def set_state(self, new_state: Any) -> "Generator":
        """Mirrors `torch.Generator.set_state`: a state from get_state (ndgrad's or torch's); also takes the shorter
        state earlier ndgrad versions returned."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        b = new_state._data.tobytes()
        if len(b) == _OLD_STATE_SIZE:  # (ndgrad's former layout: 624 words, the position, the cached normal)
            key = np.frombuffer(b[:2496], dtype="<u4").astype(np.uint32)
            pos = int(np.frombuffer(b[2496:2500], dtype="<i4")[0])
            cache = float(np.frombuffer(b[2501:2509], dtype="<f8")[0]) if b[2500] else None
            seed = self._seed
        elif len(b) == _STATE_SIZE:
            seed, left, _, _ = _struct.unpack_from("<QiiQ", b, 0)
            key = (np.frombuffer(b[24:24 + 8 * _MT_N], dtype="<u8") & 0xFFFFFFFF).astype(np.uint32)
            pos = _MT_N if left <= 1 else _MT_N + 1 - left
            _, y, _, valid = _struct.unpack_from("<dddi", b, 24 + 8 * _MT_N)
            cache = y if valid else None
        else:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_SIZE} but found the input RNG state "
                               f"size to be {len(b)}")
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        self._normal_cache = cache
        self._seed = seed
        return self

    # -- torch's transformations of the engine's 32-bit outputs -------------------------------------------
    def _raw32(self, n: int) -> np.ndarray:
        return self._bits.random_raw(n).astype(np.uint64, copy=False)   # (random_raw gives uint64 already)

    def _raw64(self, n: int) -> np.ndarray:
        w = self._bits.random_raw(2 * n).astype(np.uint64, copy=False)
        hi = w[0::2] << np.uint64(32)
        return np.bitwise_or(hi, w[1::2], out=hi)

    def _torch_unit(self, n: int, double: bool) -> np.ndarray:
        """n uniforms on [0, 1) in float64: 53 bits of random64 for double tensors, else 24 bits."""
        bits = 53 if double else 24
        r = self._raw64(n) if double else self._raw32(n)
        r &= np.uint64((1 << bits) - 1)
        x = r.astype(np.float64)
        x *= 2.0 ** -bits
        return x

    @staticmethod
    def _draw_type(dt: np.dtype) -> np.dtype:
        """The real type torch draws in: the part type of complex, float32 for the half types."""
        return np.dtype(np.float64) if dt in (np.float64, np.complex128) else np.dtype(np.float32)

    def _torch_uniform(self, shape: tuple, dt: np.dtype, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
        """U[lo, hi) in dtype dt: complex as interleaved real and imaginary parts (torch's view_as_real),
        the half types drawn in float32."""
        dt = np.dtype(dt)
        if dt not in (np.float32, np.float64):
            real = self._draw_type(dt)
            if dt.kind == "c":
                parts = self._torch_uniform(tuple(shape) + (2,), real, lo, hi)
                return (parts[..., 0] + 1j * parts[..., 1]).astype(dt)
            return self._torch_uniform(shape, real, lo, hi).astype(dt)
        n = int(np.prod(shape, dtype=np.int64))
        double = dt == np.float64
        x = self._torch_unit(n, double)
        if double:
            span, low = float(hi) - float(lo), float(lo)
        else:  # the bounds are the tensor's scalar type first, as torch's kernel takes them
            span, low = float(np.float32(hi) - np.float32(lo)), float(np.float32(lo))
        return (x * span + low).astype(dt).reshape(shape)

    def _normal_one(self) -> float:
        """One draw of torch's scalar normal (Box-Muller on two random64 uniforms, the sine kept for next)."""
        if self._normal_cache is not None:
            v, self._normal_cache = self._normal_cache, None
            return v
        u1, u2 = self._torch_unit(2, True)
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self._normal_cache = r * math.sin(theta)
        return r * math.cos(theta)

    def _torch_normal(self, shape: tuple, dt: np.dtype, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
        """N(mean, std²) in dtype dt: complex as interleaved parts each with std/√2 (torch's normal_), the half
        types drawn in float32."""
        dt = np.dtype(dt)
        if dt not in (np.float32, np.float64):
            real = self._draw_type(dt)
            if dt.kind == "c":
                parts = self._torch_normal(tuple(shape) + (2,), real, mean, std / math.sqrt(2.0))
                return (parts[..., 0] + 1j * parts[..., 1]).astype(dt)
            return self._torch_normal(shape, real, mean, std).astype(dt)
        n = int(np.prod(shape, dtype=np.int64))
        if n < 16:
            return np.array([self._normal_one() * std + mean for _ in range(n)], dtype=np.float64).astype(
                dt).reshape(shape)
        double = dt == np.float64
        ct = np.float64 if double else np.float32  # torch fills in the tensor's type
        data = self._torch_unit(n, double).astype(ct)

        if not double:
            from ._avx_mathfun import log_ps, sincos_ps

        def fill16(d: np.ndarray) -> np.ndarray:
            d = d.reshape(-1, 16)
            u1 = ct(1) - d[:, :8]
            u2 = d[:, 8:]
            out = np.empty_like(d)
            if double:  # torch's scalar loop in double
                radius = np.sqrt(-2.0 * np.log(u1))
                theta = 2.0 * math.pi * u2
                out[:, :8] = radius * np.cos(theta) * std + mean
                out[:, 8:] = radius * np.sin(theta) * std + mean
            else:  # torch's vectorised float kernel: its log/sincos, then one fused multiply-add
                radius = np.sqrt(ct(-2) * log_ps(u1))
                sin, cos = sincos_ps(ct(2.0 * math.pi) * u2)
                for k, part in ((slice(0, 8), radius * cos), (slice(8, 16), radius * sin)):
                    out[:, k] = (part.astype(np.float64) * float(ct(std)) + float(ct(mean))).astype(ct)
            return out.reshape(-1)

        m = n - n % 16
        out = np.empty(n, dtype=ct)
        out[:m] = fill16(data[:m])
        if n % 16:  # torch refills the last 16 positions with fresh uniforms and transforms them again
            out[n - 16:] = fill16(self._torch_unit(16, double).astype(ct))
        return out.astype(dt).reshape(shape)

    def _torch_random(self, n: int, low: int, high: int) -> np.ndarray:
        """n integers in [low, high): random() % range (random64 % range for ranges of 2**28 and more, as
        torch's CPU kernel does)."""
        rng = high - low
        raw = self._raw32(n) if rng < (1 << 28) else self._raw64(n)
        if rng >= (1 << 64):
            return raw.astype(np.int64)
        return ((raw % np.uint64(rng)).astype(np.uint64) + np.uint64(low % (1 << 64))).astype(np.int64)

    def _torch_bernoulli(self, shape: tuple, p: Any) -> np.ndarray:
        n = int(np.prod(shape, dtype=np.int64))
        return (self._torch_unit(n, True).reshape(shape) < p)

    def _torch_randperm(self, n: int) -> np.ndarray:
        r = np.arange(n, dtype=np.int64)
        if n < 2:
            return r
        z = (self._raw32(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64).tolist()
        lst = r.tolist()
        for i, zi in enumerate(z):
            j = zi + i
            lst[i], lst[j] = lst[j], lst[i]
        return np.array(lst, dtype=np.int64)


default_generator = Generator()
# torch seeds its default CPU generator from the system's entropy in each process (torch.initial_seed() differs
# between runs); a Generator() made by the program starts from 67280421310721, as torch's
default_generator._seed = int.from_bytes(__import__("os").urandom(8), "little")


def manual_seed(seed: int) -> Generator:
    """Mirrors `torch.manual_seed`."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


VMAP_RANDOMNESS: list = []  # the randomness mode of each active vmap (innermost last): see func.vmap

RANDOM_IN_VMAP_MSG = ("vmap: called random operation while in randomness error mode. Please either use the 'same' "
                      "or 'different' randomness flags on vmap or perform the randomness operation out of vmap")


def _rng(generator: Generator | None) -> np.random.Generator:
    return _gen(generator)._rng


def _gen(generator: Generator | None) -> Generator:
    """The generator to draw from (torch's stream: `_torch_*`), after vmap's randomness check."""
    if VMAP_RANDOMNESS and VMAP_RANDOMNESS[-1] == "error":
        raise RuntimeError(RANDOM_IN_VMAP_MSG)
    return generator or default_generator


# -- from data -----------------------------------------------------------------------------------------
def _no_strings(data: Any, flat: list) -> None:
    """torch reads a string as a sequence while it infers the shape: a leading one has 'too many dimensions',
    one met later is an invalid data type."""
    bad = next((x for x in flat if isinstance(x, (str, bytes))), None)
    if bad is None:
        return
    first = data
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    if isinstance(first, (str, bytes)):
        raise ValueError(f"too many dimensions '{type(first).__name__}'")
    raise TypeError(f"new(): invalid data type '{type(bad).__name__}'")


_LIST_OF_ARRAYS = (
    "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider converting the list to a "
    "single numpy.ndarray with numpy.array() before converting to a tensor. (Triggered internally at "
    "/__w/pytorch/pytorch/torch/csrc/utils/tensor_new.cpp:252.)")
_arrays_warned = [False]  # torch warns once per process


def _warn_if_arrays(data: Any, size: int) -> None:
    """torch's warning for nested sequences holding NumPy arrays (not NumPy scalars), when the result has elements.
    Lists whose first element is a number hold numbers (anything else there is ragged): they are not walked, so a
    long flat list costs nothing here."""
    if _arrays_warned[0] or not size:
        return
    stack = [data]
    while stack:
        seq = stack.pop()
        if not seq or not isinstance(seq[0], (list, tuple, np.ndarray)):
            continue
        for e in seq:
            if isinstance(e, np.ndarray):
                _arrays_warned[0] = True
                from ._warn import warn_at_caller
                warn_at_caller(_LIST_OF_ARRAYS, UserWarning)
                return
            if isinstance(e, (list, tuple)):
                stack.append(e)


def _infer(data: Any) -> np.ndarray:
    """NumPy array for nested Python data, with torch's default dtypes."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, (list, tuple)):
        flat = []
        _flatten(data, flat)
        if any(isinstance(x, Tensor) for x in flat):
            data = _tensors_to_lists(data)
            flat = []
            _flatten(data, flat)
        _no_strings(data, flat)
        try:
            arr = np.array(data)
        except ValueError:
            arr = None
        if arr is None or arr.dtype == object:
            _raise_ragged(data)
        _warn_if_arrays(data, arr.size)
        if arr.size == 0 and arr.dtype == np.float64:
            return arr.astype(D.get_default_dtype().np)
        kinds = {type(x) for x in flat}
        if arr.dtype.kind in "fV" and not any(isinstance(x, np.floating) or isinstance(x, np.ndarray) and
                                             x.dtype.kind in "fV" for x in flat):
            return arr.astype(D.get_default_dtype().np)
        if arr.dtype.kind == "c" and not any(isinstance(x, np.complexfloating) for x in flat):
            return arr.astype(D.default_complex().np)
        if arr.dtype.kind in "iu" and all(k is int or k is bool for k in kinds):
            return arr.astype(np.int64)
        return arr
    if isinstance(data, np.generic):  # before int/float: np.float64 is a float, but keeps its dtype
        return np.array(data)
    if isinstance(data, bool):
        return np.array(data, dtype=np.bool_)
    if isinstance(data, numbers.Integral):
        return np.array(int(data), dtype=np.int64)
    if isinstance(data, float):
        return np.array(data, dtype=D.get_default_dtype().np)
    if isinstance(data, complex):
        return np.array(data, dtype=D.default_complex().np)
    if isinstance(data, np.generic):
        return np.array(data)
    if hasattr(data, "__array__"):
        return np.asarray(data)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")


def _raise_ragged(data: Any) -> None:
    """torch's text for nested sequences of uneven lengths: the shape comes from the first elements."""
    sizes = []
    e = data
    while isinstance(e, (list, tuple)):
        sizes.append(len(e))
        if not e:
            break
        e = e[0]
    stack = [(data, 0)]
    while stack:
        seq, dim = stack.pop()
        if dim >= len(sizes):
            if isinstance(seq, (list, tuple)):
                raise TypeError(f"'{type(seq).__name__}' object cannot be interpreted as an integer")
            continue
        if not isinstance(seq, (list, tuple)):
            raise TypeError("not a sequence")
        if len(seq) != sizes[dim]:
            raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(seq)})")
        stack.extend((x, dim + 1) for x in reversed(seq))
    raise ValueError("expected sequence of length consistent with the first element")


def _flatten(x: Any, out: list) -> None:
    stack = [x]
    while stack:
        e = stack.pop()
        if isinstance(e, (list, tuple)):
            stack.extend(e)
        else:
            out.append(e)


def _tensors_to_lists(x: Any) -> Any:
    if isinstance(x, Tensor):
        if x._data.size != 1:  # torch takes only one-element tensors inside a list
            raise ValueError("only one element tensors can be converted to Python scalars")
        return x._data.item()
    if isinstance(x, (list, tuple)):
        return [_tensors_to_lists(e) for e in x]
    return x


def _resolve(dt: Any) -> D.dtype | None:
    if dt is None or isinstance(dt, D.dtype):
        return dt
    if dt is float:
        return D.float64
    if dt is int:
        return D.int64
    if dt is bool:
        return D.bool
    return D.from_numpy_dtype(np.dtype(dt))


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    arr = arr if arr.__class__ is np.ndarray else np.asarray(arr)  # 0-d NumPy results come back as scalars
    t = _wrap(arr)
    if requires_grad:
        if arr.dtype.kind not in "fcV":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = True
    return t


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """Copy `data` into a new leaf tensor. Mirrors `torch.tensor`."""
    _check_device(device)
    if isinstance(data, Tensor):
        _warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
              "or sourceTensor.detach().clone().requires_grad_(True), rather than "
              "torch.tensor(sourceTensor).", UserWarning, stacklevel=2)
    _check_device(device)
    d = _resolve(dtype)
    if d is not None and isinstance(data, (float, complex, list, tuple)) and \
            (d.np.kind not in "iu" or data.__class__ in (list, tuple) and all(type(x) is int for x in data)):
        # straight to the requested dtype: going through the default float32 would lose precision (into an
        # integer dtype only from a flat list of ints, which NumPy refuses when one does not fit)
        try:
            arr = np.array(data, dtype=d.np)
        except (TypeError, ValueError, RuntimeError, OverflowError):
            pass  # nested tensors, ragged lists, a number out of range...: the general path reports them as torch
        else:
            if isinstance(data, (list, tuple)):
                _warn_if_arrays(data, arr.size)
            return _finish(arr, requires_grad)
    arr = _infer(data)
    if d is None and arr.dtype not in D.FROM_NP:
        D.from_numpy_dtype(arr.dtype)
    target = d.np if d is not None else D.FROM_NP[arr.dtype].np
    if not isinstance(data, np.ndarray):
        _check_fits(arr, target)
    return _finish(np.array(arr, dtype=target, copy=True), requires_grad)


def _check_fits(arr: np.ndarray, target: np.dtype) -> None:
    """torch.tensor's check of Python numbers (`arr`) stored into an integer dtype (D.int_fits)."""
    if target.kind in "iu" and arr.dtype.kind in "iuf" and arr.size and \
            not D.int_fits(arr.min(), arr.max(), target, arr.dtype.kind == "f"):
        raise RuntimeError(f"value cannot be converted to type {target.name} without overflow")


def scalar_tensor(s: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    _check_device(device)
    d = _resolve(dtype) or D.get_default_dtype()
    return _finish(np.array(D.checked_fill(s, d.np), dtype=d.np), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Share memory with `data` where possible. Mirrors `torch.as_tensor`."""
    _check_device(device)
    d = _resolve(dtype)
    if isinstance(data, Tensor):
        return data if d is None or data.dtype is d else data.to(d)
    if isinstance(data, np.ndarray):
        D.from_numpy_dtype(data.dtype)
        return _wrap(data if d is None or data.dtype == d.np else data.astype(d.np))
    arr = _infer(data)
    if d is not None:
        _check_fits(arr, d.np)  # (Python numbers, as tensor() checks them)
    return _wrap(np.asarray(arr, dtype=d.np if d is not None else None))


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with the array. Mirrors `torch.from_numpy`."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    D.from_numpy_dtype(ndarray.dtype)
    return _wrap(ndarray)


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()


# -- filled -------------------------------------------------------------------------------------------------
def _size(size: Sequence) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"zeros(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(s).__name__} at pos {len(out)}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _plain_shape(size: Sequence) -> tuple | None:
    """`size` (ints, or one tuple/list/Size of them) as a shape when every element is a non-negative Python int (the
    common call, which needs none of `_size`'s conversions or checks); None otherwise."""
    if len(size) == 1 and size[0].__class__ in (tuple, list, Size):
        size = size[0]
    for s in size:
        if s.__class__ is not int or s < 0:
            return None
    return tuple(size)


def _filled(fill: Any, size: tuple, dtype: Any, requires_grad: bool, shape: tuple | None = None) -> Tensor:
    """A new tensor of `size` filled with `fill` (`shape`: `_plain_shape(size)`, when the caller has it)."""
    d = _resolve(dtype) or D.get_default_dtype()
    if shape is None:
        shape = _plain_shape(size)
        if shape is None:
            shape = _size(size)
    if fill.__class__ is int and fill == 0:  # (np.zeros: one C call, where np.full is Python; 0 fits every dtype)
        return _finish(np.zeros(shape, d.np), requires_grad)
    return _finish(np.full(shape, D.checked_fill(fill, d.np), dtype=d.np), requires_grad)


def zeros(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.zeros`."""
    _check_device(device)
    shape = _plain_shape(size)
    if shape is None:
        dims = size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        if any(isinstance(n, (int, np.integer)) and n < 0 for n in dims):
            raise RuntimeError("zeros: Dimension size must be non-negative.")  # torch's own check for zeros
    return _filled(0, size, dtype, requires_grad, shape)


def ones(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.ones`."""
    _check_device(device)
    return _filled(1, size, dtype, requires_grad)


def empty(*size: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Mirrors `torch.empty` (the memory is zeroed)."""
    _check_device(device)
    return _filled(0, size, dtype, requires_grad)


def full(size: Sequence[int], fill_value: Any, *, out: Any = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.full`: the dtype follows the fill value when not given."""
    _check_device(device)
    if dtype is None:
        dtype = D.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled(fill_value, (tuple(size),), dtype, requires_grad)


def _like(fill: Any, input: Tensor, dtype: Any, requires_grad: bool, memory_format: Any = None) -> Tensor:
    """A tensor of `input`'s shape, in its memory order (torch's default preserve_format; NumPy's order "K") or
    in `memory_format`."""
    d = _resolve(dtype) or input.dtype
    a = input._data
    arr = np.full(a.shape, D.checked_fill(fill, d.np), dtype=d.np) if a.flags.c_contiguous else \
        np.full_like(a, D.checked_fill(fill, d.np), dtype=d.np)
    if memory_format is not None:
        from ._layouts import laid_out
        arr = laid_out(arr, memory_format)
    return _finish(arr, requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Mirrors `torch.zeros_like`."""
    _check_device(device)
    return _like(0, input, dtype, requires_grad, memory_format)


def ones_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Mirrors `torch.ones_like`."""
    _check_device(device)
    return _like(1, input, dtype, requires_grad, memory_format)


def empty_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Mirrors `torch.empty_like` (zeroed)."""
    _check_device(device)
    return _like(0, input, dtype, requires_grad, memory_format)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    """Mirrors `torch.full_like`."""
    _check_device(device)
    return _like(fill_value, input, dtype, requires_grad, memory_format)


# -- ranges ---------------------------------------------------------------------------------------------------
def _range_bounds(start: Any, end: Any, step: Any) -> list:
    """[start, end, step] as numbers (0-d tensors read), with torch's checks for arange and range."""
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if not vals[2] or vals[2] != vals[2]:
        raise RuntimeError("step must be nonzero")
    if not (np.isfinite(vals[0]) and np.isfinite(vals[1])):
        raise RuntimeError(f"unsupported range: {vals[0]} -> {vals[1]}")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    return vals


def arange(start: Any, end: Any = None, step: Any = 1, *, out: Any = None, dtype: Any = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.arange`: int64 for integer arguments, else the default float dtype."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    vals = _range_bounds(start, end, step)
    d = _resolve(dtype)
    if d is None:
        d = D.int64 if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals) \
            else D.get_default_dtype()
    n = int(np.ceil((vals[1] - vals[0]) / vals[2]))
    arr = (vals[0] + np.arange(max(n, 0), dtype=np.float64 if d.is_floating_point else np.int64) * vals[2])
    return _finish(arr.astype(d.np), requires_grad)


def range_(start: Any, end: Any, step: Any = 1, *, out: Any = None, dtype: Any = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Mirrors the deprecated `torch.range` (ndgrad.range): start to end *inclusive*, floor((end - start) / step) + 1
    values, computed as start + i * step in double, in the default float dtype unless `dtype` is given; with
    torch's deprecation warning."""
    _warn("torch.range is deprecated and will be removed in a future release because its behavior is inconsistent "
          "with Python's range builtin. Instead, use torch.arange, which produces values in [start, end).",
          UserWarning, stacklevel=2)
    _check_device(device)
    vals = _range_bounds(start, end, step)
    d = _resolve(dtype) or D.get_default_dtype()
    n = int((vals[1] - vals[0]) / vals[2]) + 1  # (C++'s truncating conversion of the double quotient)
    wide = np.float64 if d.is_floating_point or any(isinstance(v, float) for v in vals) else np.int64
    arr = vals[0] + np.arange(n, dtype=wide) * vals[2]
    return _finish(arr.astype(d.np), requires_grad)


range_.__name__ = range_.__qualname__ = "range"


def linspace(start: Any, end: Any, steps: int, *, out: Any = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.linspace`, bit for bit: torch fills the first half as `start + step*i` and the second
    as `end - step*(steps-1-i)`, in the output dtype (in double for integer dtypes), with a fused multiply-add."""
    _check_device(device)
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    d = _resolve(dtype) or (D.default_complex() if isinstance(start, complex) or isinstance(end, complex)
                            else D.get_default_dtype())
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if d.is_complex:  # c10::complex arithmetic by a real index: the float algorithm on each part
        t = d.to_real().np.type
        a, b = complex(start), complex(end)
        arr = (_linspace_fill(t(a.real), t(b.real), steps, np.float64).astype(d.np) +
               1j * _linspace_fill(t(a.imag), t(b.imag), steps, np.float64)).astype(d.np)
    elif d.np == np.float16:
        arr = _linspace_half(start, end, steps)
    elif d.is_floating_point:
        t = d.np.type
        arr = _linspace_fill(t(start), t(end), steps, np.float64).astype(d.np)
    else:  # integer dtypes: the step is a double, the values truncated
        arr = np.trunc(_linspace_fill(float(int(start)), float(int(end)), steps, np.float64)).astype(d.np)
    return _finish(arr, requires_grad)


def _fma(a: np.ndarray, b: np.ndarray, c: Any) -> np.ndarray:
    """a*b + c rounded once (float64), as the compiler's fused multiply-add in torch's kernel."""
    p = a * b
    k = 134217729.0  # 2**27 + 1: Dekker's split gives the exact error of the product
    t = k * a
    ah = t - (t - a)
    al = a - ah
    t = k * b
    bh = t - (t - b)
    bl = b - bh
    pe = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    s = p + c
    bb = s - p
    return s + (pe + ((p - (s - bb)) + (c - bb)))


def _linspace_fill(start: Any, end: Any, steps: int, work: Any) -> np.ndarray:
    """The values in float64 (exact for float32 results: its products fit in a double)."""
    if steps <= 1:
        return np.full(steps, start, dtype=work)
    step = (end - start) / type(start)(steps - 1)  # in the output precision for float32/float64
    half = steps // 2
    out = np.empty(steps, np.float64)
    out[:half] = _fma(np.float64(step), np.arange(half, dtype=np.float64), np.float64(start))
    out[half:] = _fma(-np.float64(step), np.arange(steps - half - 1, -1, -1, dtype=np.float64), np.float64(end))
    return out


def _linspace_half(start: Any, end: Any, steps: int) -> np.ndarray:
    """float16: every c10::Half operation rounds to half (the index too)."""
    h, f = np.float16, np.float32
    s, e = h(start), h(end)
    if steps <= 1:
        return np.full(steps, s, dtype=h)
    step = h(f(h(f(e) - f(s))) / f(h(steps - 1)))
    half = steps // 2
    i = np.arange(steps)
    lo = (f(s) + (f(step) * i[:half].astype(h).astype(f)).astype(h).astype(f)).astype(h)
    hi = (f(e) - (f(step) * (steps - 1 - i[half:]).astype(h).astype(f)).astype(h).astype(f)).astype(h)
    return np.concatenate([lo, hi])


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.logspace`."""
    _check_device(device)
    lin = linspace(start, end, steps, dtype=D.float64)._data
    d = _resolve(dtype) or D.get_default_dtype()
    return _finish(np.power(base, lin).astype(d.np), requires_grad)


def eye(n: int, m: int | None = None, *, out: Any = None, dtype: Any = None, layout: Any = None,
        device: Any = None, requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.eye`."""
    _check_device(device)
    d = _resolve(dtype) or D.get_default_dtype()
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    return _finish(np.eye(n, m if m is not None else n, dtype=d.np), requires_grad)


# -- random ---------------------------------------------------------------------------------------------------
def rand(*size: Any, generator: Generator | None = None, out: Any = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform [0, 1). Mirrors `torch.rand` (values differ from torch's)."""
    _check_device(device)
    d = _resolve(dtype) or D.get_default_dtype()
    _float_kernel(d, "check_uniform_bounds")
    shape = _size(size)
    return _finish(_gen(generator)._torch_uniform(shape, d.np), requires_grad)


def randn(*size: Any, generator: Generator | None = None, out: Any = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal. Mirrors `torch.randn` (values differ from torch's)."""
    _check_device(device)
    d = _resolve(dtype) or D.get_default_dtype()
    _float_kernel(d, "normal_kernel_cpu")
    shape = _size(size)
    return _finish(_gen(generator)._torch_normal(shape, d.np), requires_grad)


def _float_kernel(d: D.dtype, kernel: str) -> None:
    if not (d.is_floating_point or d.is_complex):
        from ._tensor import _PRETTY
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_PRETTY[d.np.kind, d.np.itemsize]}\'')


def randint(low: int, high: Any = None, size: Any = None, *, generator: Generator | None = None,
            dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.randint(low=0, high, size)`."""
    _check_device(device)
    if size is None:
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint() missing required argument 'size'")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, not {type(size).__name__}")
    d = _resolve(dtype) or D.int64
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    from ._random_ops import check_random_bounds
    check_random_bounds(int(low), int(high), np.dtype(d.np))
    shape = _size((tuple(size),))
    vals = _gen(generator)._torch_random(int(np.prod(shape, dtype=np.int64)), int(low), int(high))
    return _finish(vals.reshape(shape).astype(d.np), requires_grad)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """Mirrors `torch.randperm`."""
    _check_device(device)
    d = _resolve(dtype) or D.int64
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    return _finish(_gen(generator)._torch_randperm(int(n)).astype(d.np), requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input: Tensor, low: int = 0, high: Any = None, *, dtype: Any = None, **kw: Any) -> Tensor:
    """Mirrors `torch.randint_like(input, high)` / `(input, low, high)`."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype)
