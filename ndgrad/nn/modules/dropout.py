"""Mirrors `torch.nn`: Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout, FeatureAlphaDropout."""
from __future__ import annotations

from ..._tensor import Tensor
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        """Mirrors torch's `p=.., inplace=..`."""
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Mirrors `torch.nn.Dropout` (active in training mode only; masks from ndgrad's generator)."""

    def forward(self, input: Tensor) -> Tensor:
        """Zero elements with probability p and scale the rest by 1/(1-p)."""
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Mirrors `torch.nn.Dropout1d` (whole channels)."""

    def forward(self, input: Tensor) -> Tensor:
        """Channel-wise dropout."""
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Mirrors `torch.nn.Dropout2d` (whole channels)."""

    def forward(self, input: Tensor) -> Tensor:
        """Channel-wise dropout."""
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Mirrors `torch.nn.Dropout3d` (whole channels)."""

    def forward(self, input: Tensor) -> Tensor:
        """Channel-wise dropout."""
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Mirrors `torch.nn.AlphaDropout` (for SELU networks)."""

    def forward(self, input: Tensor) -> Tensor:
        """Alpha dropout in training mode, identity in eval mode."""
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Mirrors `torch.nn.FeatureAlphaDropout` (whole channels)."""

    def forward(self, input: Tensor) -> Tensor:
        """Channel-wise alpha dropout in training mode."""
        return F.feature_alpha_dropout(input, self.p, self.training)
