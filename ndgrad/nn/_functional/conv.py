"""Mirrors part of `torch.nn.functional`: convolutions and pooling (the ops live in `ndgrad/_ops/conv.py`)."""
from __future__ import annotations

from ..._ops.conv import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
                          avg_pool1d, avg_pool2d, conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,
                          conv_transpose3d, fold, unfold)
from ..._ops.conv import max_pool1d_fn as max_pool1d
from ..._ops.pool3d import adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, max_pool3d
from ..._ops.conv import max_pool2d_fn as max_pool2d
from ..._ops.conv import max_pool2d_with_indices_fn as max_pool2d_with_indices

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_avg_pool3d", "adaptive_max_pool3d", "avg_pool3d", "max_pool3d", "avg_pool1d",
           "avg_pool2d", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "fold", "max_pool1d", "max_pool2d",
           "max_pool2d_with_indices", "unfold"]
