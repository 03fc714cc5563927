"""`torch.version`: the PyTorch API level ndgrad follows, and ndgrad's own release."""
from __future__ import annotations

from typing import Any

ndgrad = "0.1.0"
torch_api = "2.13.0"


class TorchVersion(str):
    """A version string that compares as a version with strings and tuples (`torch.__version__ >= "2.0"`),
    like torch's TorchVersion."""

    def _key(self, other: Any = None) -> tuple:
        return _parse(self if other is None else other)

    def __lt__(self, other: Any) -> bool:
        return self._key() < self._key(other)

    def __le__(self, other: Any) -> bool:
        return self._key() <= self._key(other)

    def __gt__(self, other: Any) -> bool:
        return self._key() > self._key(other)

    def __ge__(self, other: Any) -> bool:
        return self._key() >= self._key(other)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str) and str.__eq__(self, other):
            return True
        try:
            return self._key() == self._key(other)
        except (TypeError, ValueError):
            return False

    __hash__ = str.__hash__


def _parse(v: Any) -> tuple:
    if isinstance(v, tuple):
        nums = [int(x) for x in v]
    else:
        public = str(v).split("+", 1)[0]
        nums = []
        for part in public.split("."):
            digits = "".join(ch for ch in part if ch.isdigit()) if part and part[0].isdigit() else ""
            if not digits:
                break
            nums.append(int(digits))
            if not part.isdigit():
                break
    while len(nums) < 3:
        nums.append(0)
    return tuple(nums)


__version__ = TorchVersion(f"{torch_api}+ndgrad{ndgrad}")
cuda = None
hip = None
rocm = None
xpu = None
debug = False
git_version = "ndgrad-" + ndgrad
