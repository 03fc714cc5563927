"""`torch.backends.cuda`: not built with CUDA; the matmul and attention flags are kept as torch keeps them."""
from __future__ import annotations

from typing import Any


class _MatmulFlags:
    """`torch.backends.cuda.matmul`: allow_tf32 and the reduced-precision reduction flags."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.allow_fp16_accumulation = False

    def __repr__(self) -> str:
        return "<torch.backends.cuda.cuBLASModule>"


matmul = _MatmulFlags()
_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built() -> bool:
    return False


def flash_sdp_enabled() -> bool:
    return _sdp["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled() -> bool:
    return _sdp["math"]


def enable_math_sdp(enabled: bool) -> None:
    _sdp["math"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    _sdp["cudnn"] = bool(enabled)


class sdp_kernel:
    """Mirrors the deprecated `torch.backends.cuda.sdp_kernel(...)` context: sets and restores the flags."""

    def __init__(self, enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
                 enable_cudnn: bool = True) -> None:
        self.new = {"flash": enable_flash, "math": enable_math, "mem_efficient": enable_mem_efficient,
                    "cudnn": enable_cudnn}

    def __enter__(self) -> None:
        self.old = dict(_sdp)
        _sdp.update(self.new)

    def __exit__(self, *exc: Any) -> bool:
        _sdp.update(self.old)
        return False


def preferred_linalg_library(backend: Any = None) -> Any:
    return None
