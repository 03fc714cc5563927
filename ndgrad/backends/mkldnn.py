"""`torch.backends.mkldnn`: ndgrad's kernels are NumPy's (and its BLAS), not oneDNN: not available."""
from __future__ import annotations

enabled = True
deterministic = False
allow_tf32 = False


def is_available() -> bool:
    return False
