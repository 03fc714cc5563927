"""Mirrors `torch.nn.parallel.DistributedDataParallel` on `ndgrad.distributed`.

How it hooks the engine: every parameter that requires grad gets a post-accumulate-grad hook
(`Tensor.register_post_accumulate_grad_hook`, run by the engine right after `AccumulateGrad` added into
`.grad`). Parameters are grouped into buckets in reverse registration order (roughly the order backward produces
their gradients): the first bucket holds up to 1 MiB, the others up to `bucket_cap_mb`. When the last gradient of
a bucket has been accumulated, the bucket's gradients, times 1/world size (torch's reducer scales them while
copying them into the bucket), are flattened into one buffer and a non-blocking `all_reduce` starts while
backward goes on with the rest of the graph. Buckets start strictly in index order on every rank (MPI requires
the same order of collectives everywhere). When the last bucket has started, the hook waits for all of them and
writes the sums back into the `.grad` tensors in place, still inside `backward()`, so the optimizer step that
follows sees averaged gradients.

When every rank of the group is on this machine, the buffers are MPI shared memory (`distributed._shm`): each
rank writes its scaled gradients into its own segment, and when the last bucket is written, one barrier, then
every rank adds all ranks' segments in rank order into its `.grad` tensors (the same bits on every rank). There
are two sets of segments, used in turn, so a rank may write the next iteration's while a slower one still reads
this one's: the barrier of that next iteration orders it before any rank writes this set again.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

import numpy as np

from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

FIRST_BUCKET_BYTES = 1024 * 1024
DEFAULT_BUCKET_MB = 25

UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. This error indicates "
    "that your module has parameters that were not used in producing loss. You can enable unused parameter "
    "detection by passing the keyword argument `find_unused_parameters=True` to "
    "`torch.nn.parallel.DistributedDataParallel`, and by \nmaking sure all `forward` function outputs participate "
    "in calculating loss. \nIf you already have done the above, then the distributed data parallel module wasn't "
    "able to locate the output tensors in the return value of your module's `forward` function. Please include "
    "the loss function and the structure of the return value of `forward` of your module when reporting this "
    "issue (e.g. list, dict, iterable).\nParameter indices which did not receive grad for rank {rank}: {idx}\n In "
    "addition, you can set the environment variable TORCH_DISTRIBUTED_DEBUG to either INFO or DETAIL to print out "
    "information about which particular parameters did not receive gradient on this rank as part of this error")


class _Bucket:
    __slots__ = ("params", "index", "pending", "work", "flat", "tensor", "views", "scale", "shared")

    def __init__(self, params: list, index: list, n: int) -> None:
        from ..._creation import from_numpy
        self.params = params        # the parameters, in bucket order
        self.index = index          # their positions in DDP's parameter list
        self.pending = len(params)
        self.work: Any = None
        # one flat buffer for the bucket's lifetime (no allocation, no fresh pages per step): the gradients are
        # copied into their slices (times 1/world size), summed in place, and written back into the `.grad`s
        dt = params[0]._data.dtype
        self.flat = np.empty(sum(p._data.size for p in params), dt)
        self.tensor = from_numpy(self.flat)
        self.views = self.split(self.flat)
        # torch's reducer multiplies each gradient by 1/world_size while copying it into the bucket, with the
        # factor in the dtype torch computes in (float for float16/bfloat16/float32/complex64, else double)
        wide = dt == np.float64 or dt == np.complex128
        self.scale = np.float64(1.0 / n) if wide else np.float32(1.0 / n)
        self.shared: Any = None     # with shared memory: per copy, (this rank's views, every rank's views)

    def split(self, flat: np.ndarray) -> list:
        """`flat` cut into one view per parameter, shaped as the parameter."""
        views, o = [], 0
        for p in self.params:
            k = p._data.size
            views.append(flat[o:o + k].reshape(p._data.shape))
            o += k
        return views


class DistributedDataParallel(Module):
    """Mirrors `torch.nn.parallel.DistributedDataParallel` for CPU modules (`device_ids` None): parameters and
    buffers are broadcast from rank 0 at construction, gradients are averaged across the process group during
    backward in buckets, `no_sync()` skips averaging (accumulation steps), `find_unused_parameters` handles
    parameters a forward did not use, `broadcast_buffers` re-broadcasts buffers before each forward. The wrapped
    model is `.module`, and `state_dict()` keys carry the `module.` prefix (strip it with
    `nn.modules.utils.consume_prefix_in_state_dict_if_present(sd, "module.")`)."""

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool | None = True, init_sync: bool = True,
                 process_group: Any = None, bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 **kwargs: Any) -> None:
        super().__init__()
        from ... import distributed as dist
        unsupported = [k for k, v in kwargs.items() if v not in (None, False)]
        if unsupported:
            raise NotImplementedError(f"ndgrad's DistributedDataParallel does not implement {unsupported}")
        pg = dist._pg(process_group)   # raises torch's error before init_process_group
        if pg is None:
            raise ValueError("DistributedDataParallel: this rank is not a member of process_group")
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        if device_ids is not None or output_device is not None:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with single-device/"
                f"multiple-device GPU modules or CPU modules, but got device_ids {device_ids}, output_device "
                f"{output_device}, and module parameters {{device(type='cpu')}}.")
        self.module = module
        self.process_group = pg
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers is not False
        self.find_unused_parameters = find_unused_parameters
        self.static_graph = static_graph
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((DEFAULT_BUCKET_MB if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._params = params
        self._verify_same_model()
        if init_sync:
            self._broadcast(list(module.parameters()) + list(module.buffers()))
        self._buckets = self._make_buckets()
        self._copy = 0               # with shared memory: the set of segments this iteration writes
        self._segments: Any = None
        self._shared = self._share_buckets()
        self._where = {}         # id(param) -> bucket
        self._pos = {id(p): i for i, p in enumerate(params)}
        for b, bucket in enumerate(self._buckets):
            for p in bucket.params:
                self._where[id(p)] = b
        self._handles = [p.register_post_accumulate_grad_hook(self._on_grad) for p in params]
        self._armed = False          # this iteration's backward averages gradients
        self._backward_seen = False  # a hook ran since the forward that armed them
        self._next = 0               # next bucket to start
        self._used: np.ndarray = np.zeros(len(params), np.int32)
        self._ready: set = set()

    # -- set-up ---------------------------------------------------------------------------------------------
    def _verify_same_model(self) -> None:
        from ... import distributed as dist
        mine = [(tuple(p.shape), str(p.dtype)) for p in self._params]
        allof: list = [None] * self.process_group.size()
        dist.all_gather_object(allof, mine, group=self.process_group)
        for r, other in enumerate(allof):
            if len(other) != len(mine):
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank {self.process_group.rank()} "
                                   f"has {len(mine)} params, while rank {r} has inconsistent {len(other)} params.")
            for i, (a, b) in enumerate(zip(mine, other)):
                if a != b:
                    raise RuntimeError(f"DDP expects same model across all ranks, but parameter {i} has shape/dtype "
                                       f"{a} on rank {self.process_group.rank()} and {b} on rank {r}.")

    def _broadcast(self, tensors: list) -> None:
        """Broadcast `tensors` from rank 0 of the group, one flat buffer per dtype."""
        from ... import distributed as dist
        from ..._creation import from_numpy
        if self.process_group.size() == 1:
            return
        src = self.process_group._ranks[0]
        by_dtype: dict = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for dt, ts in by_dtype.items():
            flat = np.concatenate([t._data.reshape(-1) for t in ts]) if ts else np.empty(0, dt)
            dist.broadcast(from_numpy(flat), src=src, group=self.process_group)
            o = 0
            for t in ts:
                n = t._data.size
                t._data[...] = flat[o:o + n].reshape(t._data.shape)
                t._vc[0] += 1
                o += n

    def _make_buckets(self) -> list:
        buckets: list = []
        n = self.process_group.size()
        cur: dict = {}   # dtype -> (params, indices, bytes)
        cap = min(FIRST_BUCKET_BYTES, self.bucket_bytes_cap)
        for i in reversed(range(len(self._params))):
            p = self._params[i]
            dt = p._data.dtype
            ps, ix, nb = cur.get(dt, ([], [], 0))
            ps.append(p)
            ix.append(i)
            nb += p._data.nbytes
            if nb >= cap:
                buckets.append(_Bucket(ps, ix, n))
                cap = self.bucket_bytes_cap
                ps, ix, nb = [], [], 0
            cur[dt] = (ps, ix, nb)
        for ps, ix, _ in cur.values():
            if ps:
                buckets.append(_Bucket(ps, ix, n))
        return buckets

    def _share_buckets(self) -> bool:
        """When every rank of the group is on this machine: two sets of shared-memory segments (one written while
        the other may still be read by a slower rank) that take the buckets' place (`ndgrad.distributed._shm`)."""
        from ...distributed import _shm
        seg = _shm.segments(self.process_group, [b.flat.nbytes for b in self._buckets])
        if seg is None:
            return False
        me = self.process_group.rank()
        for k, b in enumerate(self._buckets):
            dt = b.flat.dtype
            b.shared = [(b.split(seg.view(c, me, k, dt)), [b.split(seg.view(c, r, k, dt)) for r in range(seg.n)])
                        for c in range(seg.copies)]
            b.flat = b.tensor = None          # the segments replace the bucket's own buffer
            b.views = b.shared[0][0]
        self._segments = seg
        return True

    # -- forward ----------------------------------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        from ...autograd.grad_mode import is_grad_enabled
        if self._armed and self._backward_seen:
            missing = sorted(set(range(len(self._params))) - self._ready)
            self._armed = False
            raise RuntimeError(UNFINISHED.format(rank=self.process_group.rank(),
                                                 idx=" ".join(map(str, missing))))
        if self.broadcast_buffers and self.require_forward_param_sync:
            bufs = list(self.module.buffers())
            if bufs:
                from ...autograd.grad_mode import no_grad
                with no_grad():
                    self._broadcast(bufs)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self._prepare(out)
        return out

    def _prepare(self, out: Any) -> None:
        """Arm the hooks for the coming backward; with find_unused_parameters, parameters the graph of `out` does
        not reach are ready at once (they contribute zeros)."""
        for b in self._buckets:   # a forward whose backward never ran: let buckets it started complete first
            if b.work is not None:
                b.work.wait()
        self._armed = True
        self._backward_seen = False
        self._next = 0
        self._ready = set()
        self._used[:] = 0
        for b in self._buckets:
            b.pending = len(b.params)
            b.work = None
        if self.find_unused_parameters:
            reached = _reached_leaves(out)
            for i, p in enumerate(self._params):
                if id(p) not in reached:
                    self._mark(i, used=False)

    # -- backward ---------------------------------------------------------------------------------------------
    def _on_grad(self, p: Any) -> None:
        if not self._armed:
            return
        self._backward_seen = True
        i = self._pos[id(p)]
        if i in self._ready:
            return
        for b in self._buckets[:self._next]:   # MPI moves data only inside MPI calls: let started buckets progress
            if b.work is not None and not b.work._done:
                b.work.is_completed()
        self._mark(i, used=True)

    def _mark(self, i: int, used: bool) -> None:
        self._ready.add(i)
        self._used[i] = 1 if used else 0
        b = self._buckets[self._where[id(self._params[i])]]
        b.pending -= 1
        while self._next < len(self._buckets) and self._buckets[self._next].pending == 0:
            self._launch(self._buckets[self._next])
            self._next += 1
        if self._next == len(self._buckets):
            self._finish()

    def _launch(self, b: _Bucket) -> None:
        """The bucket's gradients, times 1/world size, into its buffer (this rank's shared segment, or the flat
        buffer whose all_reduce starts now)."""
        views = b.views if b.shared is None else b.shared[self._copy][0]
        scale = b.scale
        for p, v in zip(b.params, views):
            g = p._grad
            if g is None:
                v.fill(0)
            else:
                np.multiply(g._data, scale, out=v, casting="unsafe")
        if b.shared is None:
            from ... import distributed as dist
            b.work = dist.all_reduce(b.tensor, group=self.process_group, async_op=True)

    def _finish(self) -> None:
        """Every bucket has started: the sums go into the `.grad` tensors (in place: one pass)."""
        from ... import distributed as dist
        from ..._creation import from_numpy
        from ..._tensor import _wrap
        self._armed = False
        globally_used = None
        if self.find_unused_parameters:
            used = from_numpy(self._used.copy())
            dist.all_reduce(used, group=self.process_group)
            globally_used = used._data
        if self._shared:
            seg = self._segments
            seg.fence()
            dist.barrier(group=self.process_group)   # every rank's segment is written
            seg.fence()
        for b in self._buckets:
            if b.shared is None:
                b.work.wait()
                b.work = None
                sources: Any = None
            else:
                sources = b.shared[self._copy][1]
            for j, (p, i) in enumerate(zip(b.params, b.index)):
                if globally_used is not None and globally_used[i] == 0:
                    continue
                g = p._grad
                if g is None:
                    out = np.empty_like(b.views[j])
                    p._grad = _wrap(out)
                else:
                    out = g._data
                    g._vc[0] += 1
                if sources is None:
                    np.copyto(out, b.views[j], casting="unsafe")
                elif len(sources) == 1:
                    np.copyto(out, sources[0][j], casting="unsafe")
                else:   # in rank order, so every rank computes the same bits
                    np.add(sources[0][j], sources[1][j], out=out, casting="unsafe")
                    for r in range(2, len(sources)):
                        np.add(out, sources[r][j], out=out, casting="unsafe")
        self._copy ^= 1

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Mirrors `DistributedDataParallel.no_sync`: backward passes of forwards run inside it accumulate
        gradients locally; the first synchronised backward after it averages the accumulated sums."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def register_comm_hook(self, state: Any, hook: Any) -> None:
        raise NotImplementedError("ndgrad's DistributedDataParallel does not implement register_comm_hook; "
                                  "gradients are always averaged with all_reduce")

    def join(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ndgrad's DistributedDataParallel does not implement join() (uneven inputs); "
                                  "give every rank the same number of batches (DistributedSampler does)")

    def _set_static_graph(self) -> None:
        self.static_graph = True


def _reached_leaves(out: Any) -> set:
    """ids of the leaf tensors that the graphs of the tensors in `out` (nested in lists, tuples, dicts) reach."""
    from ...autograd.graph import AccumulateGrad
    from ..._tensor import Tensor
    found: set = set()
    nodes: list = []
    stack: list = [out]
    while stack:
        o = stack.pop()
        if isinstance(o, Tensor):
            if o.grad_fn is not None:
                nodes.append(o.grad_fn)
            elif o._requires_grad:
                found.add(id(o))
        elif isinstance(o, dict):
            stack.extend(o.values())
        elif isinstance(o, (list, tuple)):
            stack.extend(o)
    seen: set = set()
    while nodes:
        n = nodes.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, AccumulateGrad):
            found.add(id(n.variable))
            continue
        for c, _ in n.next_functions:
            if c is not None:
                nodes.append(c)
    return found
