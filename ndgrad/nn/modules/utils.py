"""Mirrors `torch.nn.modules.utils`: `consume_prefix_in_state_dict_if_present`."""
from __future__ import annotations

from typing import Any

__all__ = ["consume_prefix_in_state_dict_if_present"]


def consume_prefix_in_state_dict_if_present(state_dict: Any, prefix: str) -> None:
    """Strip `prefix` from the keys of `state_dict` in place (order kept), e.g. "module." from the state of a
    DataParallel/DistributedDataParallel model, so a plain model can load it."""
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    meta = getattr(state_dict, "_metadata", None)
    if meta is not None:
        for key in list(meta.keys()):
            if key == prefix.rstrip("."):
                meta[""] = meta.pop(key)
            elif key.startswith(prefix):
                meta[key[len(prefix):]] = meta.pop(key)
