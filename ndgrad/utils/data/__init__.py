"""Mirrors `torch.utils.data`: Dataset, TensorDataset, DataLoader, samplers, random_split."""
from __future__ import annotations

from typing import Any

from ._collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                      random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
           "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "default_collate", "default_convert", "get_worker_info",
           "random_split"]


def __getattr__(name: str) -> Any:
    # `distributed` (DistributedSampler) loads on first use
    import importlib
    if name == "distributed":
        return importlib.import_module("ndgrad.utils.data.distributed")
    if name == "DistributedSampler":
        return importlib.import_module("ndgrad.utils.data.distributed").DistributedSampler
    raise AttributeError(f"module 'ndgrad.utils.data' has no attribute {name!r}")
