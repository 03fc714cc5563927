"""`torch.random`: the default generator's seeding and state, and `fork_rng` (loaded on first use)."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from ._creation import default_generator, initial_seed, manual_seed, seed
from ._env import get_rng_state, set_rng_state

__all__ = ["default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed", "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng", _devices_kw: str = "devices",
             device_type: Any = None) -> Iterator[None]:
    """Mirrors `torch.random.fork_rng`: the default generator's state is put back when the block ends (there is no
    accelerator to fork: `devices` and `device_type` name none)."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
