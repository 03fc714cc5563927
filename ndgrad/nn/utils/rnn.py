"""Mirrors `torch.nn.utils.rnn`: PackedSequence and the pad/pack helpers for variable-length batches.

A packed batch is time-major: `data` holds, for t = 0, 1, ..., the t-th step of every sequence still running
(sequences sorted by decreasing length), and `batch_sizes[t]` says how many there are. All helpers are built
from differentiable ndgrad indexing ops, so gradients flow between padded and packed forms.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Iterable

import numpy as np

from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _int64(values: Any) -> Tensor:
    from ... import tensor
    return tensor(np.asarray(values, dtype=np.int64))


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    p = permutation.numpy()
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=p.dtype)
    return _int64(inv)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A packed batch of variable-length sequences. Mirrors `nn.utils.rnn.PackedSequence`."""

    __slots__ = ()

    def __new__(cls, data: Any, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> "PackedSequence":
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes))
            data, batch_sizes = data[0], data[1]
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        """Convert `data` (indices and batch sizes stay int64 on the CPU)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self) -> "PackedSequence":
        """Already on the CPU."""
        return self

    def double(self) -> "PackedSequence":
        """`data` as float64."""
        from ... import float64
        return self.to(dtype=float64)

    def float(self) -> "PackedSequence":
        """`data` as float32."""
        from ... import float32
        return self.to(dtype=float32)

    def half(self) -> "PackedSequence":
        """`data` as float16."""
        from ... import float16
        return self.to(dtype=float16)

    def long(self) -> "PackedSequence":
        """`data` as int64."""
        from ... import int64
        return self.to(dtype=int64)

    def int(self) -> "PackedSequence":
        """`data` as int32."""
        from ... import int32
        return self.to(dtype=int32)

    @property
    def is_cuda(self) -> bool:
        """Always False: ndgrad computes on the CPU."""
        return False

    def is_pinned(self) -> bool:
        """Always False."""
        return False


def _lengths_array(lengths: Any) -> np.ndarray:
    if isinstance(lengths, Tensor):
        return lengths.detach().numpy().astype(np.int64).reshape(-1)
    return np.asarray([int(n) for n in lengths], dtype=np.int64)


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) or (B, T, *) given each sequence's length. Mirrors
    `nn.utils.rnn.pack_padded_sequence`."""
    lens = _lengths_array(lengths)
    batch_dim = 0 if batch_first else 1
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = _int64(order)
        lens = lens[order]
        input = input.index_select(batch_dim, sorted_indices)
    batch = input.shape[batch_dim]
    if lens.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.size} "
                           f"(batch_size={batch})")
    if (lens <= 0).any():
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if (np.diff(lens) > 0).any():
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                           "this requirement if you do not need ONNX exportability.")
    steps = input.shape[1 if batch_first else 0]
    if lens[0] > steps:
        raise RuntimeError(f"Expected sequence lengths to be at most the padded length {steps}, but got {lens[0]}")
    batch_sizes = (lens[None, :] > np.arange(lens[0])[:, None]).sum(1)
    t_idx = np.repeat(np.arange(lens[0]), batch_sizes)
    b_idx = np.concatenate([np.arange(n) for n in batch_sizes])
    if batch_first:
        data = input[_int64(b_idx), _int64(t_idx)]
    else:
        data = input[_int64(t_idx), _int64(b_idx)]
    return PackedSequence(data, _int64(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Unpack to a padded batch and the lengths. Mirrors `nn.utils.rnn.pad_packed_sequence`."""
    from ... import full
    data = sequence.data
    bs = sequence.batch_sizes.numpy().astype(np.int64)
    steps = bs.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    batch = int(bs[0])
    lens = (bs[None, :] > np.arange(batch)[:, None]).sum(1)
    t_idx = np.repeat(np.arange(bs.size), bs)
    b_idx = np.concatenate([np.arange(n) for n in bs])
    trailing = tuple(data.shape[1:])
    if batch_first:
        out = full((batch, steps) + trailing, padding_value, dtype=data.dtype)
        out[_int64(b_idx), _int64(t_idx)] = data
    else:
        out = full((steps, batch) + trailing, padding_value, dtype=data.dtype)
        out[_int64(t_idx), _int64(b_idx)] = data
    lengths = _int64(lens)
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices
        out = out.index_select(0 if batch_first else 1, unsorted)
        lengths = _int64(lens[unsorted.numpy()])
    return out, lengths


def pad_sequence(sequences: Iterable[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of different lengths into (T, B, *) or (B, T, *), padded. Mirrors
    `nn.utils.rnn.pad_sequence`."""
    from ... import full
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    seqs = list(sequences.unbind(0) if isinstance(sequences, Tensor) else sequences)
    max_len = max(s.shape[0] for s in seqs)
    trailing = tuple(seqs[0].shape[1:])
    shape = (len(seqs), max_len) + trailing if batch_first else (max_len, len(seqs)) + trailing
    out = full(shape, padding_value, dtype=seqs[0].dtype)
    for i, s in enumerate(seqs):
        n = s.shape[0]
        span = slice(0, n) if padding_side == "right" else slice(max_len - n, max_len)
        if batch_first:
            out[i, span] = s
        else:
            out[span, i] = s
    return out


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch back into its sequences. Mirrors `nn.utils.rnn.unpad_sequence`."""
    from ... import arange
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    idx = arange(padded_sequences.shape[1])
    return [seq[idx < int(n)] for seq, n in zip(padded_sequences, _lengths_array(lengths))]


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences of different lengths. Mirrors `nn.utils.rnn.pack_sequence`."""
    lengths = _int64([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences in a PackedSequence. Mirrors `nn.utils.rnn.unpack_sequence`."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
