"""The `ndgrad.fft` namespace: torch.fft's transforms, frequencies and shifts (ndgrad/_ops/fft.py)."""
from __future__ import annotations

from ._ops.fft import (fft, fft2, fftfreq, fftn, fftshift, hfft, hfft2, hfftn, ifft, ifft2, ifftn, ifftshift, ihfft,
                       ihfft2, ihfftn, irfft, irfft2, irfftn, rfft, rfft2, rfftfreq, rfftn)
from ._tensor import Tensor

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2",
           "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift",
           "Tensor"]

from . import _argcheck  # noqa: E402

_argcheck.install(globals(), [n for n in __all__ if n != "Tensor"], "fft.")
