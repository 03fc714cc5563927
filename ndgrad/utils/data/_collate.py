"""default_collate and default_convert. Mirrors `torch.utils.data._utils.collate`."""
from __future__ import annotations

import collections.abc
import copy
import re
from typing import Any

import numpy as np

__all__ = ["default_collate", "default_convert"]

_NP_STR_OBJ = re.compile(r"[SaUO]")
_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def _like_mapping(like: Any, values: dict) -> Any:
    """`values` in a mapping of `like`'s type: a copy of `like` updated when mutable, else the type built from
    them; a plain dict when that type cannot be built so."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)  # type: ignore[call-arg]
    except TypeError:
        return values


def _like_sequence(like: Any, values: list) -> Any:
    """`values` in a sequence of `like`'s type: a copy of `like` with its items replaced when mutable, else the
    type built from them; a plain list when that type cannot be built so."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(like)(values)  # type: ignore[call-arg]
    except TypeError:
        return values


def default_convert(data: Any) -> Any:
    """NumPy arrays and scalars inside `data` become tensors; containers are rebuilt, tuples as lists."""
    from ..._creation import as_tensor
    from ..._tensor import Tensor
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) or isinstance(data, (np.bool_, np.number)):
        if isinstance(data, np.ndarray) and _NP_STR_OBJ.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _like_mapping(data, {key: default_convert(data[key]) for key in data})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _like_sequence(data, [default_convert(d) for d in data])
    return data


def default_collate(batch: Any) -> Any:
    """Merge a list of samples into a batch: tensors stacked, numbers to tensors, containers recursed."""
    from ..._creation import as_tensor, tensor
    from ..._dtype import float64
    from ..._ops import stack
    from ..._tensor import Tensor
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(list(batch), 0)
    if isinstance(elem, np.ndarray):
        if _NP_STR_OBJ.search(elem.dtype.str) is not None:
            raise TypeError(_ERR.format(elem.dtype))
        return default_collate([as_tensor(b) for b in batch])
    if isinstance(elem, (np.bool_, np.number)):
        return as_tensor(np.asarray(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _like_mapping(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        return _like_sequence(elem, [default_collate(samples) for samples in transposed])
    raise TypeError(_ERR.format(type(elem)))
