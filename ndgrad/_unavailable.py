"""What ndgrad deliberately does not provide, and the error that says so.

`UNAVAILABLE` is the one list: a torch name (relative to `torch.`) and why ndgrad has no such thing.
Such a name resolves (``import torch.fx``, ``from torch.distributed.fsdp import fully_shard``,
``torch.onnx.export``), so a program gets past its imports, and raises ``NotImplementedError`` the moment
it is used: ``torch.onnx.export is not available in ndgrad (no ONNX exporter)``. Anything reached through
an unavailable name (``torch.fx.Tracer``, ``StateDictType.FULL_STATE_DICT``) is unavailable for the same
reason; nothing is ever an instance of it, and subclassing it raises the same error.
"""
from __future__ import annotations

import importlib.machinery
import sys
import types
from typing import Any

_COMPILER = "needs a compiler toolchain; ndgrad is pure Python"
_CUDA = "CUDA-only; ndgrad computes on the CPU"
_DIST = "not part of ndgrad.distributed, which provides process groups, collectives and DistributedDataParallel"

UNAVAILABLE: dict[str, str] = {
    # graph capture and export
    "fx": "no graph capture and transformation framework (torch.fx)",
    "export": "no torch.export program capture",
    "onnx": "no ONNX exporter",
    "_dynamo": "no TorchDynamo bytecode capture",
    "_inductor": "no Inductor code generator",
    "_export": "no torch.export program capture",
    "jit.ScriptModule": "TorchScript needs a compiler; torch.jit.script and trace run the code eagerly in ndgrad",
    "jit.save": "TorchScript archives cannot be written; save a state_dict with ndgrad.save",
    "jit.load": "TorchScript archives contain code, which ndgrad never runs; load a state_dict with ndgrad.load",
    "utils.cpp_extension": "C++/CUDA extensions " + _COMPILER,
    "library": "custom C++ operator registration " + _COMPILER,
    "ops": "no registry of C++ operators",
    # numeric formats
    "quantization": "no quantized tensors or quantization workflow",
    "ao": "no quantization or sparsity (torch.ao)",
    "sparse": "no sparse tensors",
    "sparse_coo_tensor": "no sparse tensors",
    "sparse_csr_tensor": "no sparse tensors",
    "nested": "no nested (jagged) tensors",
    "masked": "no masked tensors",
    "quantize_per_tensor": "no quantized tensors",
    "quantize_per_channel": "no quantized tensors",
    "float8_e4m3fn": "no float8 dtypes",
    "float8_e5m2": "no float8 dtypes",
    "complex32": "no complex32 dtype: NumPy has no complex half",
    "Tensor.to_sparse": "no sparse tensors",
    "Tensor.to_mkldnn": "no MKL-DNN tensors",
    "Tensor.values": "values() is defined for sparse tensors, which ndgrad does not have",
    "Tensor.indices": "indices() is defined for sparse tensors, which ndgrad does not have",
    "Tensor.q_scale": "no quantized tensors",
    "Tensor.dequantize": "no quantized tensors",
    # accelerators
    "mps": "no Apple Metal device",
    "xpu": "no Intel GPU device",
    "mtia": "no MTIA device",
    "cuda.graphs": _CUDA,
    "cuda.CUDAGraph": _CUDA,
    "cuda.graph": _CUDA,
    "cuda.nccl": _CUDA,
    "cuda.nvtx": _CUDA,
    "cuda.jiterator": _CUDA,
    # beyond one machine (ndgrad.distributed covers the process-group API)
    "distributed.rpc": "remote procedure calls (torch.distributed.rpc) are " + _DIST,
    "distributed.fsdp": "fully sharded data parallel (FSDP) is " + _DIST,
    "distributed.tensor": "distributed tensors (DTensor) and tensor parallelism are " + _DIST,
    "distributed._tensor": "distributed tensors (DTensor) are " + _DIST,
    "distributed.device_mesh": "device meshes are " + _DIST,
    "distributed.pipelining": "pipeline parallelism is " + _DIST,
    "distributed.checkpoint": "distributed checkpointing is " + _DIST,
    "distributed.autograd": "distributed autograd is " + _DIST,
    "distributed.optim": "distributed optimizers are " + _DIST,
    "distributed.elastic": "elastic launching is " + _DIST,
    "distributed.algorithms": "communication hooks and join are " + _DIST,
    "distributed.nn": "distributed autograd functions (torch.distributed.nn) are " + _DIST,
    "distributed.launch": "the deprecated launcher is replaced by ndgrad-run (torchrun's interface)",
    "distributed.launcher": "elastic launching is " + _DIST,
    "nn.parallel.scatter": "scattering across GPUs is " + _CUDA,
    "nn.parallel.gather": "gathering from GPUs is " + _CUDA,
    "nn.parallel.replicate": "replicating onto GPUs is " + _CUDA,
    "nn.parallel.parallel_apply": "running replicas on GPUs is " + _CUDA,
    "nn.parallel.comm": "GPU-to-GPU communication is " + _CUDA,
    "nn.quantized": "no quantized modules",
    "nn.qat": "no quantization-aware training modules",
    "nn.intrinsic": "no fused quantized modules",
    "futures": "no torch.futures (it serves torch.distributed.rpc)",
    "package": "torch.package archives contain code, which ndgrad never runs",
}


def reason(name: str) -> str | None:
    """Why torch.<name> is unavailable (looking at it and at each enclosing name), or None."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        r = UNAVAILABLE.get(".".join(parts[:i]))
        if r is not None:
            return r
    return None


def _error(name: str, why: str) -> NotImplementedError:
    return NotImplementedError(f"torch.{name} is not available in ndgrad ({why})")


class _UnavailableMeta(type):
    """The type of placeholders: every use raises the clear error."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        raise _error(cls._name, cls._why)

    def __getattr__(cls, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return placeholder(f"{cls._name}.{attr}", cls._why)

    def __instancecheck__(cls, obj: Any) -> bool:
        return False

    def __subclasscheck__(cls, sub: Any) -> bool:
        return False

    def __repr__(cls) -> str:
        return f"<unavailable in ndgrad: torch.{cls._name}>"

    def __bool__(cls) -> bool:
        return False


def _new(meta: type, name: str, bases: tuple, ns: dict) -> Any:
    for b in bases:  # subclassing a placeholder
        if isinstance(b, _UnavailableMeta):
            raise _error(b._name, b._why)
    return type.__new__(meta, name, bases, ns)


_UnavailableMeta.__new__ = _new  # type: ignore[method-assign]


def placeholder(name: str, why: str) -> Any:
    """A stand-in for torch.<name>: resolves, and raises NotImplementedError saying why when used."""
    cls = type.__new__(_UnavailableMeta, name.rsplit(".", 1)[-1], (), {"_name": name, "_why": why})
    cls.__ndgrad_unavailable__ = why
    return cls


class _UnavailableModule(types.ModuleType):
    """A module none of whose names exist in ndgrad (``import torch.fx`` works; using it raises)."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return placeholder(f"{self._torch_name}.{attr}", self.__ndgrad_unavailable__)


def module(torch_name: str, why: str) -> types.ModuleType:
    full = "ndgrad." + torch_name
    m = sys.modules.get(full)
    if m is None:
        m = _UnavailableModule(full, f"Unavailable in ndgrad: torch.{torch_name} ({why}).")
        m._torch_name = torch_name
        m.__ndgrad_unavailable__ = why
        m.__path__ = []  # a package, so that its submodules import too
        sys.modules[full] = m
    return m


def attribute(module_name: str, attr: str) -> Any:
    """For a module's ``__getattr__``: the placeholder for an unavailable name, else AttributeError."""
    rel = module_name[len("ndgrad."):] if module_name.startswith("ndgrad.") else ""
    name = f"{rel}.{attr}" if rel else attr
    why = reason(name)
    if why is None:
        raise AttributeError(f"module {'torch.' + rel if rel else 'torch'!r} has no attribute {attr!r}")
    # a listed lower-case name is a submodule (torch.fx, torch.distributed.rpc); anything else a placeholder
    return module(name, why) if name in UNAVAILABLE and _is_namespace(name) else placeholder(name, why)


_NOT_MODULES = {"sparse_coo_tensor", "sparse_csr_tensor", "quantize_per_tensor", "quantize_per_channel",
                "nn.parallel.scatter", "nn.parallel.gather", "nn.parallel.replicate", "nn.parallel.parallel_apply",
                "float8_e4m3fn", "float8_e5m2", "complex32", "jit.save", "jit.load", "cuda.graph"}


def _is_namespace(name: str) -> bool:
    """Whether an unavailable name stands for a module (`torch.fx`), not a function, class or Tensor method."""
    return name not in _NOT_MODULES and name.rsplit(".", 1)[-1][:1].islower() and not name.startswith("Tensor.")


class _Finder:
    """Makes ``import ndgrad.<unavailable module>`` give the placeholder module."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if not fullname.startswith("ndgrad."):
            return None
        rel = fullname[len("ndgrad."):]
        why = reason(rel)
        if why is None or not _is_namespace(rel):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: Any) -> types.ModuleType:
        rel = spec.name[len("ndgrad."):]
        m = module(rel, reason(rel) or "")
        return m

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())  # last: real ndgrad modules always win
