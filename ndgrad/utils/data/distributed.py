"""Mirrors `torch.utils.data.distributed`: DistributedSampler, each rank's share of a data set."""
from __future__ import annotations

import math
from collections.abc import Iterator, Sized
from typing import Any

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler[int]):
    """Mirrors `torch.utils.data.distributed.DistributedSampler`: rank `rank` of `num_replicas` gets every
    `num_replicas`-th index of a (with `shuffle`, seeded by `seed + epoch`) permutation. Without `drop_last` the
    index list is padded by repeating its beginning so that every rank gets the same number of samples; with it,
    the tail that does not divide evenly is dropped. Call `set_epoch(e)` before each epoch for a new order.

    The permutation is `randperm` on a Generator seeded with `seed + epoch`, as torch's: the same on every rank,
    and the same order torch's sampler gives."""

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ... import distributed as dist
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            from ..._creation import Generator
            g = Generator()
            g.manual_seed(self.seed + self.epoch)
            indices: list = g._torch_randperm(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        assert len(indices) == self.total_size
        mine = indices[self.rank:self.total_size:self.num_replicas]
        assert len(mine) == self.num_samples
        return iter(mine)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The permutation of the next `__iter__` is seeded with `seed + epoch`."""
        self.epoch = epoch
