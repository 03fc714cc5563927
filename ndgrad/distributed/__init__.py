"""Mirrors `torch.distributed` on MPI (mpi4py + MPICH): process groups, collectives in place on tensors, point to
point messages, object collectives, work objects for `async_op=True`.

Every process of a job belongs to one MPI world, started by `mpiexec -n N python train.py`, by the torchrun-like
launcher `ndgrad-run --nproc-per-node N train.py` (`python -m ndgrad.distributed.run`) or by
`ndgrad.multiprocessing.spawn`. `init_process_group("mpi")` and `init_process_group("gloo")` (the torchrun way:
RANK/WORLD_SIZE from the environment, MASTER_ADDR/MASTER_PORT accepted) both run on that world; MPI does the
rendezvous and the transport. Waiting is ndgrad's own loop over non-blocking MPI requests: it yields the CPU
(oversubscribed ranks do not starve each other) and raises after the group's `timeout` instead of hanging.
"""
from __future__ import annotations

import datetime
import enum
import numbers
import os
import pickle
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import _mpi
from .._tensor import Tensor
from .._warn import warn as _warn

__all__ = ["Backend", "DistBackendError", "DistError", "GroupMember", "ProcessGroup", "ReduceOp", "Work",
           "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all",
           "all_to_all_single", "barrier", "broadcast", "broadcast_object_list", "destroy_process_group", "gather",
           "gather_object", "get_backend", "get_global_rank", "get_process_group_ranks", "get_rank",
           "get_world_size", "group", "init_process_group", "irecv", "is_available", "is_gloo_available",
           "is_initialized", "is_mpi_available", "is_nccl_available", "is_torchelastic_launched", "isend",
           "new_group", "recv", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter",
           "scatter_object_list", "send"]

NOT_INIT = "Default process group has not been initialized, please make sure to call init_process_group."
default_pg_timeout = datetime.timedelta(minutes=30)


class DistError(RuntimeError):
    """Mirrors `torch.distributed.DistError`."""


class DistBackendError(DistError):
    """Mirrors `torch.distributed.DistBackendError`: raised by a collective that failed or timed out."""


class Backend(str):
    """Mirrors `torch.distributed.Backend`: a lower-case backend name."""
    UNDEFINED = "undefined"
    GLOO = "gloo"
    MPI = "mpi"
    NCCL = "nccl"

    def __new__(cls, name: str) -> "Backend":
        # as torch's: any name (third-party backends register theirs), lower-cased; which ones run is decided
        # where a group is made (_runnable)
        if not isinstance(name, str):
            raise ValueError("Backend constructor parameter must be string-ish")
        return str.__new__(cls, name.lower())


def _runnable(name: str) -> str:
    if name not in ("gloo", "mpi", "undefined"):
        raise ValueError(f"ndgrad.distributed runs the 'mpi' and 'gloo' backends (both on MPI); {name!r} is not "
                         "available")
    return name


class RedOpType(enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7

    def __str__(self) -> str:
        return f"RedOpType.{self.name}"


class ReduceOp:
    """Mirrors `torch.distributed.ReduceOp`: `ReduceOp.SUM` ... are `ReduceOp.RedOpType` members;
    `ReduceOp(ReduceOp.SUM)` wraps one (and stands for it wherever an op goes)."""
    RedOpType = RedOpType

    def __init__(self, *args: Any) -> None:
        if len(args) != 1 or not isinstance(args[0], (RedOpType, ReduceOp)):
            raise TypeError("__init__(): incompatible constructor arguments. The following argument types are "
                            "supported:\n    1. ReduceOp(arg0: ReduceOp.RedOpType)\n\nInvoked with: "
                            + ", ".join(map(repr, args)))
        self.op = args[0].op if isinstance(args[0], ReduceOp) else args[0]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ReduceOp):
            return self.op is other.op
        return self.op is other

    def __hash__(self) -> int:
        return hash(self.op)

    def __repr__(self) -> str:
        return f"<ndgrad.distributed.ReduceOp {self.op}>"
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


def is_available() -> bool:
    """True when mpi4py (with an MPI library) is installed: `pip install "ndgrad[distributed]"`."""
    return _mpi.available()


def is_mpi_available() -> bool:
    return _mpi.available()


def is_gloo_available() -> bool:
    """`gloo` is served by MPI here, so it is available exactly when MPI is."""
    return _mpi.available()


def is_nccl_available() -> bool:
    return False


def is_torchelastic_launched() -> bool:
    """True in processes started by `ndgrad-run` (as torchrun's TORCHELASTIC_RUN_ID says)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


# -- process groups ---------------------------------------------------------------------------------------

class ProcessGroup:
    """A set of ranks with its own MPI communicator. Collectives take global ranks for `src`/`dst`."""

    def __init__(self, comm: Any, ranks: list[int], backend: str, timeout: float) -> None:
        self._comm = comm
        self._ranks = ranks
        self._backend = backend
        self._timeout = timeout
        self._desc = f"a group of {len(ranks)} ranks"
        self._check = _Check(self) if len(ranks) > 1 else None   # persistent: made once, collectively
        self._shared: list = []   # _shm.Segments made over this group (DDP's), freed with it

    def rank(self) -> int:
        return self._comm.Get_rank()

    def size(self) -> int:
        return len(self._ranks)

    def name(self) -> str:
        return self._backend

    def __repr__(self) -> str:
        return f"<ndgrad.distributed.ProcessGroup ranks={self._ranks} backend={self._backend!r}>"


class GroupMember:
    """Mirrors `torch.distributed.GroupMember`: `WORLD` (the default group) and `NON_GROUP_MEMBER`."""
    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100   # torch's value


class group:
    """Mirrors `torch.distributed.group`: `group.WORLD`."""
    WORLD: ProcessGroup | None = None


class _State:
    world: ProcessGroup | None = None
    groups: list = []
    check = True


_state = _State()


def _default() -> ProcessGroup:
    w = _state.world
    if w is not None:   # a group exists, so MPI is there
        return w
    # torch's error, with or without MPI installed; without it, also what to install
    raise ValueError(NOT_INIT if _mpi.available() else f"{NOT_INIT} ({_mpi.INSTALL})")


def _pg(g: Any) -> ProcessGroup | None:
    """The group to use (None: this rank is not a member)."""
    if g is None:
        w = _state.world
        return w if w is not None else _default()
    w = _default()
    if g is GroupMember.WORLD:
        return w
    if g is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(g, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup, got {type(g).__name__}")
    return g


def _left_out(g: Any) -> bool:
    """torch's `_rank_not_in_group`: compares with ==, so where torch asks it first, a tensor passed as the group
    fails as bool() of a tensor does."""
    return g is not None and bool(g == GroupMember.NON_GROUP_MEMBER)


def _seconds(timeout: Any) -> float:
    if timeout is None:
        return default_pg_timeout.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {timeout}")


_HANDLERS = ("env", "tcp", "file")   # torch's rendezvous handlers


def _check_rendezvous(url: Any, rank: Any, world_size: Any) -> None:
    """torch's rendezvous checks, in its order (ndgrad's rendezvous is MPI's own, but the arguments are checked)."""
    if not isinstance(url, (str, bytes)):
        raise RuntimeError(f"`url` must be a string. {type(url)}: {url}")
    if not isinstance(rank, numbers.Integral):
        raise RuntimeError(f"`rank` must be an integer. {rank}")
    if not isinstance(world_size, numbers.Integral):
        raise RuntimeError(f"`world_size` must be an integer. {world_size}")
    text = url.decode() if isinstance(url, bytes) else url
    scheme = text.split("://", 1)[0] if "://" in text else ""
    if scheme not in _HANDLERS:
        raise RuntimeError(f"No rendezvous handler for {scheme}://")


def init_process_group(backend: str | None = None, init_method: str | None = None, timeout: Any = None,
                       world_size: int = -1, rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None) -> None:
    """Mirrors `torch.distributed.init_process_group`. The processes must already form one MPI world (started by
    mpiexec, ndgrad-run or ndgrad.multiprocessing.spawn); `rank`/`world_size` (or RANK/WORLD_SIZE for
    `init_method="env://"`, the default) are checked against it. Rendezvous by `tcp://` or `file://` is MPI's
    own, so those addresses are accepted and not used."""
    # torch's checks first, in its order: nothing below them starts MPI
    if _state.world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None and init_method is not None:
        raise AssertionError("Cannot specify both init_method and store.")
    if store is not None:
        if not world_size > 0:
            raise AssertionError("world_size must be positive if using store")
        if not rank >= 0:
            raise AssertionError("rank must be non-negative if using store")
    elif init_method is None:
        init_method = "env://"
    if isinstance(device_id, int):
        raise ValueError("device_id is an int, but no accelerator support is found from the current compilation. "
                         "Please use a different compiled version that supports your accelerator.")
    if device_id is not None and device_id.type != "cpu":
        raise ValueError(f"device_id {device_id} does not match the current compilation's accelerator support: "
                         "None. Please use a different compiled version that supports your accelerator.")
    name = str(Backend("undefined" if backend is None else backend))
    secs = _seconds(timeout)
    if name != "mpi":
        _check_rendezvous(init_method, rank, world_size)
    if not _mpi.available():
        raise RuntimeError(_mpi.INSTALL)
    if _runnable(name) == "undefined":
        name = "gloo"
    if store is not None:
        raise NotImplementedError("ndgrad.distributed: init_process_group(store=...) is not supported; the MPI "
                                  "world does the rendezvous (leave store=None)")
    if init_method.startswith("env://"):
        if rank == -1 and "RANK" in os.environ:
            rank = int(os.environ["RANK"])
        if world_size == -1 and "WORLD_SIZE" in os.environ:
            world_size = int(os.environ["WORLD_SIZE"])
    M = _mpi.MPI()
    world = M.COMM_WORLD
    if world_size != -1 and world_size != world.Get_size():
        if world.Get_size() == 1:
            raise RuntimeError(
                f"ndgrad.distributed: world_size={world_size} was asked for, but this process is not part of an MPI "
                "world of that size. Start the processes with `ndgrad-run --nproc-per-node N script.py`, "
                "`mpiexec -n N python script.py` or `ndgrad.multiprocessing.spawn(fn, nprocs=N)`")
        raise ValueError(f"ndgrad.distributed: world_size={world_size} differs from the MPI world's size "
                         f"{world.Get_size()}")
    if rank != -1 and rank != world.Get_rank():
        raise ValueError(f"ndgrad.distributed: rank={rank} differs from this process's MPI rank "
                         f"{world.Get_rank()}; rank i of the job must be MPI rank i")
    comm = world.Dup()
    _mpi.set_spin_for(comm.Get_size())
    pg = ProcessGroup(comm, list(range(comm.Get_size())), name, secs)
    pg._desc = f"rank {comm.Get_rank()} of the world ({comm.Get_size()} ranks)"
    _state.world = group.WORLD = GroupMember.WORLD = pg
    _state.groups = [pg]
    _state.check = os.environ.get("NDGRAD_DISTRIBUTED_CHECK", "1") != "0" or \
        os.environ.get("TORCH_DISTRIBUTED_DEBUG", "").upper() == "DETAIL"


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Mirrors `torch.distributed.destroy_process_group` (the whole state when `group` is None). MPI itself stays
    initialised (it can only be started once per process), so init_process_group may be called again."""
    if _left_out(group):
        return
    if (_state.world if group is None else group) is None:
        raise AssertionError("Process group cannot be None")
    if _state.world is None or (group is not None and group not in _state.groups):
        raise ValueError("Invalid process group specified")
    targets = list(_state.groups) if group is None or group is _state.world else [group]
    for g in targets:
        if g._check is not None:
            g._check.free()
        for seg in g._shared:
            seg.free()
        g._shared = []
        try:
            g._comm.Free()
        except Exception:  # noqa: BLE001 - a broken communicator (a peer died) cannot be freed cleanly
            pass
        if g in _state.groups:
            _state.groups.remove(g)
    if group is None or group is _state.world:
        _state.world = globals()["group"].WORLD = GroupMember.WORLD = None
        _state.groups = []


def is_initialized() -> bool:
    return _state.world is not None


def get_rank(group: Any = None) -> int:
    """This process's rank in `group` (the world by default); -1 when it is not a member."""
    if _left_out(group):
        return -1
    pg = _pg(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group: Any = None) -> int:
    if _left_out(group):
        return -1
    pg = _pg(group)
    return -1 if pg is None else pg.size()


def get_backend(group: Any = None) -> str:
    if _left_out(group):
        raise ValueError("Invalid process group specified")
    pg = _pg(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg._backend


def get_process_group_ranks(group: ProcessGroup) -> list[int]:
    return list(_pg(group)._ranks)  # type: ignore[union-attr]


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    if group is GroupMember.WORLD:   # as torch's: the world's ranks are global ones (also before a group exists)
        return group_rank
    return _pg(group)._ranks[group_rank]  # type: ignore[union-attr]


def new_group(ranks: Sequence[int] | None = None, timeout: Any = None, backend: str | None = None,
              pg_options: Any = None, use_local_synchronization: bool = False, group_desc: str | None = None,
              device_id: Any = None) -> Any:
    """Mirrors `torch.distributed.new_group`: every rank of the world calls it; non-members get
    `GroupMember.NON_GROUP_MEMBER`."""
    w = _default()
    ranks = sorted(set(range(w.size()) if ranks is None else (int(r) for r in ranks)))
    for r in ranks:
        if not 0 <= r < w.size():
            raise ValueError(f"The new group's rank should be within the world_size set by init_process_group, "
                             f"but got rank {r} (world size {w.size()})")
    sub = w._comm.Create(w._comm.Get_group().Incl(ranks))
    M = _mpi.MPI()
    if sub == M.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(sub, ranks, _runnable(str(Backend(backend))) if backend else w._backend,
                      w._timeout if timeout is None else _seconds(timeout))
    pg._desc = f"rank {sub.Get_rank()} of a group of ranks {ranks}"
    _state.groups.append(pg)
    return pg


# -- work objects -----------------------------------------------------------------------------------------

class Work:
    """Mirrors `torch.distributed.Work`: what a collective with `async_op=True` returns."""

    def __init__(self, pg: ProcessGroup, reqs: list, what: str, finish: Callable[[], Any] | None = None,
                 keep: Any = None) -> None:
        self._pg, self._reqs, self._what, self._finish, self._keep = pg, reqs, what, finish, keep
        self._done = False
        self._check: Any = None     # the size/collective fingerprint, verified before the data is waited for
        self._probe: Any = None     # recv: a non-blocking test filling the status
        self._probed = False
        self._exc: BaseException | None = None
        self._result: Any = None

    def _complete(self) -> None:
        if self._done:
            if self._exc is not None:
                raise self._exc
            return
        try:
            if self._check is not None:
                self._pg._check.complete(self._check)
            if self._reqs:
                _mpi.wait(self._reqs, self._pg._timeout, self._what, self._pg._desc)
            if self._finish is not None:
                self._result = self._finish()
        except BaseException as e:
            self._done, self._exc = True, e
            raise
        self._done = True
        self._keep = None

    def wait(self, timeout: Any = None) -> bool:
        self._complete()
        return True

    def is_completed(self) -> bool:
        if self._done:
            return True
        if self._probe is not None:
            if not self._probed and not self._probe():
                return False
            self._probed = True
        if self._check is not None and not self._pg._check.test(self._check):
            return False
        reqs = self._reqs
        if not reqs or _mpi.MPI().Request.Testall(reqs):
            self._complete()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed() and self._exc is None

    def exception(self) -> BaseException | None:
        return self._exc

    def synchronize(self) -> None:
        self._complete()

    def result(self) -> list:
        self._complete()
        return self._result if isinstance(self._result, list) else []

    def source_rank(self) -> int:
        self._complete()
        return self._result

    def __repr__(self) -> str:
        return f"<ndgrad.distributed.Work {self._what} completed={self._done}>"


def _run(pg: ProcessGroup, reqs: list, what: str, finish: Callable[[], Any] | None, async_op: bool,
         keep: Any = None, check: Any = None) -> Any:
    w = Work(pg, reqs, what, finish, keep)
    w._check = check
    if async_op:
        return w
    w._complete()
    return None


# -- buffers and reduction --------------------------------------------------------------------------------

def _check_tensor(t: Any, name: str = "tensor") -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type torch.Tensor\n"
                        f"             but got {type(t)} instead.")


def _check_list(ts: Any, name: str) -> None:
    if not isinstance(ts, list):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor]\n"
                        f"             but got {type(ts)} instead.")
    if not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor]\n"
                        f"             but got {type(ts)} with elements of type {[type(t) for t in ts]}.")


def _same_dtype(*groups: Any) -> None:
    """torch's check that the tensors of a collective share a dtype (complex64 counts as float32)."""
    from .. import _dtype as D
    last = None
    for g in groups:
        for t in (g if isinstance(g, list) else [g]):
            dt = t.dtype
            if dt.is_complex:
                dt = D.float32 if dt == D.complex64 else D.complex128
            if last is None:
                last = dt
            elif last != dt:
                raise ValueError(f"Invalid usage of tensors with different dtypesFound {last} and  {t.dtype}")


_COMPLEX_DENY = (RedOpType.MAX, RedOpType.MIN, RedOpType.PRODUCT, RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR)


def _pybind_bool(v: Any) -> bool:
    """What torch's options objects take for a bool: None, numbers, tensors (anything with __bool__ of a
    number)."""
    return v is None or isinstance(v, (numbers.Number, np.generic, Tensor))


def _check_opts(opts: str, op: Any = RedOpType.SUM, async_op: Any = False) -> None:
    """torch's collectives set `op` and `async_op` on an options object before they look for the group: wrong
    types are a TypeError there."""
    if not isinstance(op, (RedOpType, ReduceOp)):
        raise TypeError("(): incompatible function arguments. The following argument types are supported:\n"
                        f"    1. (self: {opts}, arg0: ReduceOp) -> None\n\nInvoked with: <{opts}>, {op!r}")
    if not _pybind_bool(async_op):
        raise TypeError("(): incompatible function arguments. The following argument types are supported:\n"
                        f"    1. (self: {opts}, arg0: bool) -> None\n\nInvoked with: <{opts}>, {async_op!r}")


def _op(op: Any) -> Any:
    return op.op if isinstance(op, ReduceOp) else op


def _flat(t: Tensor) -> np.ndarray:
    """A C-contiguous 1-d array over the tensor's data (a view when possible)."""
    a = t._data
    return a.reshape(-1) if a.flags.c_contiguous else np.ascontiguousarray(a).reshape(-1)


def _put(t: Tensor, flat: np.ndarray) -> None:
    """Write results back into the tensor's own buffer (in place, as torch's collectives)."""
    a = t._data
    if a.size:
        src = flat.reshape(a.shape)
        if not (a.flags.c_contiguous and np.shares_memory(a, src)):
            np.copyto(a, src, casting="unsafe")


def _bytes(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1).view(np.uint8) if a.size else np.empty(0, np.uint8)


_TYPES: dict = {}   # numpy dtype -> MPI datatype, filled when MPI is first used
_PLANS: dict = {}   # (numpy dtype, id of a RedOpType) -> (dtype to reduce in or None, MPI datatype, MPI op, is AVG)


def _mpi_type(dt: np.dtype) -> Any:
    if not _TYPES:
        M = _mpi.MPI()
        _TYPES.update({np.dtype(np.bool_): M.C_BOOL, np.dtype(np.int8): M.INT8_T, np.dtype(np.uint8): M.UINT8_T,
                       np.dtype(np.int16): M.INT16_T, np.dtype(np.int32): M.INT32_T, np.dtype(np.int64): M.INT64_T,
                       np.dtype(np.float32): M.FLOAT, np.dtype(np.float64): M.DOUBLE,
                       np.dtype(np.complex64): M.C_FLOAT_COMPLEX, np.dtype(np.complex128): M.C_DOUBLE_COMPLEX})
    return _TYPES[dt]


def _plan(dt: np.dtype, op: Any, fname: str) -> tuple:
    """How to reduce arrays of dtype `dt` with `op`: (dtype to reduce in, or None for `dt` itself; MPI datatype;
    MPI op; whether to divide by the group size afterwards). Checked once per (dtype, op), then looked up."""
    plan = _PLANS.get((dt, id(op)))
    if plan is not None:
        return plan
    M = _mpi.MPI()
    if not isinstance(op, RedOpType):
        raise TypeError(f"op must be a ReduceOp, got {op!r}")
    wide = None
    if dt == np.float16 or dt.name == "bfloat16":
        wide = np.dtype(np.float32)   # half types are reduced in float32 (MPI has no portable type), rounded once
    kind = (wide or dt).kind
    if kind == "c" and op not in (RedOpType.SUM, RedOpType.AVG):
        raise ValueError(f"{fname} does not support {op} on complex tensors")
    if kind == "f" and op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR):
        raise ValueError(f"{fname} does not support {op} on floating point tensors")
    if kind == "b":
        if op is RedOpType.AVG:
            raise ValueError(f"{fname} does not support {op} on bool tensors")
        mop = M.LOR if op in (RedOpType.SUM, RedOpType.MAX, RedOpType.BOR) else \
            M.LXOR if op is RedOpType.BXOR else M.LAND
        plan = (wide, M.C_BOOL, mop, False)
    else:
        mop = {RedOpType.SUM: M.SUM, RedOpType.AVG: M.SUM, RedOpType.PRODUCT: M.PROD, RedOpType.MIN: M.MIN,
               RedOpType.MAX: M.MAX, RedOpType.BAND: M.BAND, RedOpType.BOR: M.BOR, RedOpType.BXOR: M.BXOR}[op]
        plan = (wide, _mpi_type(wide or dt), mop, op is RedOpType.AVG)
    _PLANS[dt, id(op)] = plan   # only RedOpType members get here: they live forever, their ids stay theirs
    return plan


def _average(r: np.ndarray, n: int) -> np.ndarray:
    return (r / n) if r.dtype.kind in "fc" else np.trunc(r / n).astype(r.dtype)


def _op_plan(a: np.ndarray, op: Any, fname: str) -> tuple:
    """(array to reduce, its MPI datatype, MPI op, post(array, n)->array or None) for reducing `a` with `op`."""
    wide, mtype, mop, avg = _plan(a.dtype, op, fname)
    return (a if wide is None else a.astype(wide)), mtype, mop, (_average if avg else None)


_CODES: dict = {}   # collective name -> its code in the fingerprint


class _Token:
    """An async collective's share of its group's fingerprint check: `pending` until the check completes, then
    `exc` holds the mismatch (None when every rank agreed)."""

    __slots__ = ("pending", "exc")

    def __init__(self) -> None:
        self.pending, self.exc = True, None


class _Check:
    """Cross-rank check that every rank called the same collective with the same size: a small all_reduce
    (MAX of [n, -n, code, -code]) started just before the collective's own, so its latency overlaps. MPI itself
    silently reduces mismatched sizes (MPICH reduces the common part, reading past the shorter buffer), so this
    is what turns a mismatch into an error. On by default; NDGRAD_DISTRIBUTED_CHECK=0 turns it off.

    One per process group, as a persistent MPI request (MPI_Allreduce_init, made when the group is): starting it
    again costs a fraction of a new MPI_Iallreduce (~1 us against ~3 us of a 1 KiB all_reduce's ~5). A request
    is in flight only once, so a collective that finds the previous one's check still pending (an
    async_op=True call not yet waited for) first completes that check; every rank does the same, in the same
    order, so the checks match across ranks whichever calls are synchronous."""

    __slots__ = ("pg", "send", "recv", "req", "what", "nbytes", "busy", "token", "send_mv", "recv_mv")

    def __init__(self, pg: ProcessGroup) -> None:
        M = _mpi.MPI()
        self.pg = pg
        self.send = np.zeros(4, np.int64)
        self.recv = np.zeros(4, np.int64)
        _mpi.iallreduce_size(self.send.nbytes)   # (the same algorithm on every rank: this request's is fixed now)
        self.req = pg._comm.Allreduce_init([self.send, M.INT64_T], [self.recv, M.INT64_T], op=M.MAX)
        self.send_mv, self.recv_mv = memoryview(self.send), memoryview(self.recv)  # (compared in one step)
        self.what, self.nbytes = "", -1     # the fingerprint now in `send`
        self.busy = False                   # a check is in flight
        self.token: _Token | None = None    # its async collective's token

    def start(self, what: str, nbytes: int, token: bool = False) -> "_Token | None":
        """Start the check for a collective about to be posted (a token to wait on when it is asynchronous)."""
        if self.busy:
            self.finish()   # the previous collective's check: raises its mismatch, if any
        if nbytes != self.nbytes or what != self.what:
            self.fingerprint(what, nbytes)
        self.req.Start()
        self.busy = True
        t = self.token = _Token() if token else None
        return t

    def fingerprint(self, what: str, nbytes: int) -> None:
        """Put the fingerprint of a collective into `send` (kept while the next calls are the same)."""
        code = _CODES.get(what)
        if code is None:
            code = _CODES[what] = sum(map(ord, what))
        s = self.send
        s[0], s[1], s[2], s[3] = nbytes, -nbytes, code, -code
        self.what, self.nbytes = what, nbytes

    def finish(self) -> None:
        """Wait for the check in flight, record its verdict on its token, and raise a mismatch."""
        pg = self.pg
        _mpi.wait(self.req, pg._timeout, self.what, pg._desc)
        self.busy = False
        most, minus_least, code, minus_code = self.recv.tolist()
        if code == -minus_code and most == -minus_least:
            if self.token is not None:
                self.token.pending = False
                self.token = None
            return
        if code != -minus_code:
            exc = RuntimeError(f"Detected mismatch between collectives on ranks: rank {pg.rank()} called "
                               f"{self.what}, another rank a different collective")
        else:
            exc = RuntimeError(f"Detected mismatch between collectives on ranks: {self.what} was called with "
                               f"tensors of {-minus_least} to {most} bytes on the ranks of the group (rank "
                               f"{pg.rank()}: {self.nbytes} bytes)")
        t = self.token
        if t is not None:
            t.pending, t.exc, self.token = False, exc, None
        raise exc

    def complete(self, t: _Token) -> None:
        """An async collective's verdict: waits when its check is still in flight."""
        if t.pending:
            self.finish()
        elif t.exc is not None:
            raise t.exc

    def test(self, t: _Token) -> bool:
        """Non-blocking: has `t`'s check completed (recording its verdict when it just did)?"""
        if not t.pending:
            return True
        if self.req.Test():
            try:
                self.finish()
            except RuntimeError:
                pass   # recorded on the token; raised when the collective's work is waited for
            return True
        return False

    def free(self) -> None:
        try:
            self.req.Free()
        except Exception:  # noqa: BLE001 - a broken communicator (a peer died)
            pass


def _fingerprint(pg: ProcessGroup, what: str, nbytes: int) -> "_Token | None":
    c = pg._check
    return c.start(what, nbytes, True) if c is not None and _state.check else None


def _not_member(what: str) -> None:
    M = _mpi.MPI()
    _warn(f"Running {what} on global rank {M.COMM_WORLD.Get_rank()} which does not belong to the given "
          "group.", stacklevel=3)


def _group_rank(pg: ProcessGroup, r: int, what: str, role: str = "root") -> int:
    try:
        return pg._ranks.index(int(r))
    except ValueError:
        if pg is _state.world:
            raise RuntimeError(f"ProcessGroupGloo::{what}: invalid {role} rank: {r}") from None
        raise ValueError(f"Global rank {r} is not part of group {pg}") from None


# -- collectives ------------------------------------------------------------------------------------------

def all_reduce(tensor: Tensor, op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Any:
    """Mirrors `torch.distributed.all_reduce`: every rank's `tensor` becomes the reduction over the group."""
    if tensor.__class__ is not Tensor:
        _check_tensor(tensor)
    if op.__class__ is not RedOpType or async_op.__class__ is not bool or tensor._data.dtype.kind == "c":
        if _left_out(group):
            return _not_member("all_reduce")
        op = _op(op)
        if tensor._data.dtype.kind == "c" and op in _COMPLEX_DENY:
            raise ValueError(f"all_reduce does not support {op} on complex tensors")
        _check_opts("AllreduceOptions", op, async_op)
    pg = _state.world if group is None else _pg(group)
    if pg is None:
        if group is None:
            _default()   # raises: no process group
        return _not_member("all_reduce")
    a = tensor._data
    plan = _PLANS.get((a.dtype, id(op)))   # the ReduceOp members live forever: their ids are stable keys
    wide, mtype, mop, avg = plan if plan is not None else _plan(a.dtype, op, "all_reduce")
    chk = pg._check if _state.check else None   # (a group of one has none)
    if not async_op and chk is not None and not chk.busy and wide is None and a.flags.c_contiguous:
        # the common case (a synchronous call on a contiguous tensor of a type MPI reduces), written out: the
        # same requests in the same order as below, with fewer Python steps (they are most of a small call's time)
        if a.nbytes != chk.nbytes or chk.what != "all_reduce":
            chk.fingerprint("all_reduce", a.nbytes)
        _mpi.iallreduce_size(a.nbytes)
        creq = chk.req
        creq.Start()
        req = pg._comm.Iallreduce(_mpi._M.IN_PLACE, [a, mtype], op=mop)
        test = creq.Test
        for _ in _mpi.FAST_POLLS:
            if test():
                if chk.recv_mv != chk.send_mv:  # (every rank's fingerprint is its own only when all agree)
                    chk.busy = True
                    chk.finish()   # raises the mismatch
                break
        else:
            chk.busy = True
            chk.finish()   # waits (within the timeout) and raises a mismatch
        test = req.Test
        for _ in _mpi.FAST_POLLS:
            if test():
                break
        else:
            _mpi.wait(req, pg._timeout, "all_reduce", pg._desc)
        if avg:
            _all_reduce_result(a, a, avg, True, len(pg._ranks))
        return None
    n = len(pg._ranks)
    tok = chk.start("all_reduce", a.nbytes, async_op) if chk is not None else None
    # reduce in place: in the tensor's own buffer when it is contiguous and of a type MPI reduces, else in a copy
    own = wide is None and a.flags.c_contiguous
    buf = a.reshape(-1) if own else (a.astype(wide) if wide is not None else np.ascontiguousarray(a)).reshape(-1)
    _mpi.iallreduce_size(buf.nbytes)
    req = pg._comm.Iallreduce(_mpi._M.IN_PLACE, [buf, mtype], op=mop)
    if not async_op:
        if chk is not None:
            chk.finish()   # the fingerprint first: a mismatch raises rather than waiting for data that may never come
        _mpi.wait(req, pg._timeout, "all_reduce", pg._desc)
        if own and not avg:
            return None
        _all_reduce_result(a, buf, avg, own, n)
        return None
    return _run(pg, [req], "all_reduce", lambda: _all_reduce_result(a, buf, avg, own, n), True, keep=buf,
                check=tok)


def _all_reduce_result(a: np.ndarray, buf: np.ndarray, avg: bool, own: bool, n: int) -> None:
    """Write a reduced `buf` into the tensor's array `a` (nothing to do when `buf` is `a`'s own and not AVG)."""
    if avg:
        r = _average(buf, n)
    elif own:
        return
    else:
        r = buf
    if a.size:
        np.copyto(a, r.reshape(a.shape), casting="unsafe")


def broadcast(tensor: Tensor, src: int | None = None, group: Any = None, async_op: bool = False,
              group_src: int | None = None) -> Any:
    """Mirrors `torch.distributed.broadcast`: `tensor` of global rank `src` is copied into every rank's."""
    pg = _pg(group)   # torch's order: the group, then the tensor
    _check_tensor(tensor)
    if pg is None:
        return _not_member("broadcast")
    root = group_src if group_src is not None else _group_rank(pg, 0 if src is None else src, "broadcast")
    a = _flat(tensor)
    chk = _fingerprint(pg, "broadcast", a.nbytes)
    buf = a if tensor._data.flags.c_contiguous else a.copy()   # contiguous: `a` is a view of the tensor's buffer
    req = pg._comm.Ibcast(_bytes(buf), root=root)
    return _run(pg, [req], "broadcast", lambda: _put(tensor, buf), async_op, keep=buf, check=chk)


def reduce(tensor: Tensor, dst: int | None = None, op: Any = ReduceOp.SUM, group: Any = None,
           async_op: bool = False, group_dst: int | None = None) -> Any:
    """Mirrors `torch.distributed.reduce`: the result lands in `tensor` on global rank `dst` only."""
    pg = _pg(group)   # torch's order: the group, then the tensor
    _check_tensor(tensor)
    if pg is None:
        return _not_member("reduce")
    op = _op(op)
    root = group_dst if group_dst is not None else _group_rank(pg, 0 if dst is None else dst, "reduce")
    a = _flat(tensor)
    src, mtype, mop, post = _op_plan(a, op, "reduce")
    chk = _fingerprint(pg, "reduce", a.nbytes)
    out = np.empty_like(src)
    req = pg._comm.Ireduce([src, mtype], [out, mtype], op=mop, root=root)
    n = pg.size()

    def finish() -> None:
        if pg.rank() == root:
            r = out if post is None else post(out, n)
            _put(tensor, r.astype(tensor._data.dtype, copy=False))
    return _run(pg, [req], "reduce", finish, async_op, keep=(src, out), check=chk)


def _shape(t: Tensor) -> str:
    return "(" + ", ".join(map(str, t.shape)) + ")"


def all_gather(tensor_list: list, tensor: Tensor, group: Any = None, async_op: bool = False) -> Any:
    """Mirrors `torch.distributed.all_gather`: `tensor_list[i]` receives rank i's `tensor`."""
    _check_list(tensor_list, "tensor_list")
    _check_tensor(tensor)
    _same_dtype(tensor_list, tensor)
    if _left_out(group):
        return _not_member("all_gather")
    pg = _pg(group)
    if pg is None:
        return _not_member("all_gather")
    n = pg.size()
    if len(tensor_list) != n:
        raise RuntimeError(f"ProcessGroupGloo::allgather: invalid output tensor list at index 0 (expected length "
                           f"{n}, got {len(tensor_list)})")
    for i, t in enumerate(tensor_list):
        if t.shape != tensor.shape or t.dtype != tensor.dtype:
            raise RuntimeError(f"ProcessGroupGloo::allgather: invalid tensor {'size' if t.shape != tensor.shape else 'type'}"
                               f" at index {i} (expected {_shape(tensor)}, got {_shape(t)})")
    a = np.ascontiguousarray(_flat(tensor))
    chk = _fingerprint(pg, "all_gather", a.nbytes)
    out = np.empty((n, a.size), a.dtype)
    req = pg._comm.Iallgather(_bytes(a), _bytes(out))

    def finish() -> None:
        for t, row in zip(tensor_list, out):
            _put(t, row)
    return _run(pg, [req], "all_gather", finish, async_op, keep=(a, out), check=chk)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: Any = None,
                           async_op: bool = False) -> Any:
    """Mirrors `torch.distributed.all_gather_into_tensor`: ranks' inputs concatenated (or stacked) in order."""
    _check_tensor(input_tensor, "input_tensor")
    _check_tensor(output_tensor, "output_tensor")
    if _left_out(group):
        return _not_member("all_gather_into_tensor")
    _check_opts("AllgatherOptions", async_op=async_op)
    pg = _pg(group)
    if pg is None:
        return _not_member("all_gather_into_tensor")
    n = pg.size()
    a = np.ascontiguousarray(_flat(input_tensor))
    if output_tensor.numel() != n * a.size or output_tensor.dtype != input_tensor.dtype:
        raise RuntimeError(f"ProcessGroupGloo::allgather: invalid tensor size at index 0 (expected "
                           f"({n * a.size}), got ({output_tensor.numel()}))" if output_tensor.dtype == input_tensor.dtype
                           else "output tensor must have the same type as input tensor")
    chk = _fingerprint(pg, "all_gather_into_tensor", a.nbytes)
    out = np.empty(n * a.size, a.dtype)
    req = pg._comm.Iallgather(_bytes(a), _bytes(out))
    return _run(pg, [req], "all_gather_into_tensor", lambda: _put(output_tensor, out), async_op, keep=(a, out),
                check=chk)


def reduce_scatter(output: Tensor, input_list: list, op: Any = ReduceOp.SUM, group: Any = None,
                   async_op: bool = False) -> Any:
    """Mirrors `torch.distributed.reduce_scatter`: rank i's `output` is the reduction of every rank's
    `input_list[i]`."""
    _check_tensor(output, "output")
    _check_list(input_list, "input_list")
    _same_dtype(output, input_list)
    if _left_out(group):
        return _not_member("reduce_scatter")
    _check_opts("ReduceScatterOptions", op, async_op)
    op = _op(op)
    pg = _pg(group)
    if pg is None:
        return _not_member("reduce_scatter")
    n = pg.size()
    if len(input_list) != n:
        raise RuntimeError(f"ProcessGroupGloo::reduce_scatter: invalid input tensor list (expected length {n}, "
                           f"got {len(input_list)})")
    for i, t in enumerate(input_list):
        if t.shape != output.shape or t.dtype != output.dtype:
            raise RuntimeError(f"ProcessGroupGloo::reduce_scatter: invalid tensor size at index {i} (expected "
                               f"{_shape(output)}, got {_shape(t)})")
    a = np.concatenate([_flat(t) for t in input_list]) if n else np.empty(0, output._data.dtype)
    return _reduce_scatter(pg, output, a, op, "reduce_scatter", async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: Any = ReduceOp.SUM, group: Any = None,
                          async_op: bool = False) -> Any:
    """Mirrors `torch.distributed.reduce_scatter_tensor`: `input` holds world_size equal chunks."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    if _left_out(group):
        return _not_member("reduce_scatter_tensor")
    _check_opts("ReduceScatterOptions", op, async_op)
    op = _op(op)
    pg = _pg(group)
    if pg is None:
        return _not_member("reduce_scatter_tensor")
    n = pg.size()
    if input.numel() != n * output.numel() or input.dtype != output.dtype:
        raise RuntimeError(f"reduce_scatter_tensor: the input must hold world_size ({n}) times the output's "
                           f"elements of the same dtype (input {_shape(input)} {input.dtype}, output "
                           f"{_shape(output)} {output.dtype})")
    return _reduce_scatter(pg, output, _flat(input), op, "reduce_scatter_tensor", async_op)


def _reduce_scatter(pg: ProcessGroup, output: Tensor, a: np.ndarray, op: Any, what: str, async_op: bool) -> Any:
    src, mtype, mop, post = _op_plan(np.ascontiguousarray(a), op, what)
    chk = _fingerprint(pg, what, a.nbytes)
    k = output.numel()
    out = np.empty(k, src.dtype)
    req = pg._comm.Ireduce_scatter_block([src, mtype], [out, mtype], op=mop)
    n = pg.size()

    def finish() -> None:
        r = out if post is None else post(out, n)
        _put(output, r.astype(output._data.dtype, copy=False))
    return _run(pg, [req], what, finish, async_op, keep=(src, out), check=chk)


def _check_root_list(lst: Any, arg: str, op: str, label: str, n: int, tensor: Tensor) -> None:
    """The root's list of a gather/scatter: one tensor per rank, each of `tensor`'s size and dtype (gloo's
    texts)."""
    _check_list(lst, arg)
    if len(lst) != n:
        raise RuntimeError(f"ProcessGroupGloo::{op}: Incorrect {label.lower()} list size {len(lst)}. {label} "
                           f"list size should be {n}, same as size of the process group.")
    for i, t in enumerate(lst):
        if t.shape != tensor.shape or t.dtype != tensor.dtype:
            raise RuntimeError(f"ProcessGroupGloo::{op}: invalid tensor size at index {i} (expected "
                               f"{_shape(tensor)}, got {_shape(t)})")


def gather(tensor: Tensor, gather_list: list | None = None, dst: int | None = None, group: Any = None,
           async_op: bool = False, group_dst: int | None = None) -> Any:
    """Mirrors `torch.distributed.gather`: `gather_list[i]` on `dst` receives rank i's `tensor`."""
    _check_tensor(tensor)
    if gather_list:
        _check_list(gather_list, "gather_list")
        _same_dtype(tensor, gather_list)
    if _left_out(group):
        return _not_member("gather")
    pg = _pg(group)
    if pg is None:
        return _not_member("gather")
    root = group_dst if group_dst is not None else _group_rank(pg, 0 if dst is None else dst, "gather")
    n = pg.size()
    me = pg.rank() == root
    if me:
        _check_root_list(gather_list, "gather_list", "gather", "Output", n, tensor)
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    a = np.ascontiguousarray(_flat(tensor))
    chk = _fingerprint(pg, "gather", a.nbytes)
    out = np.empty((n, a.size), a.dtype) if me else None
    req = pg._comm.Igather(_bytes(a), _bytes(out) if me else None, root=root)

    def finish() -> None:
        if me:
            for t, row in zip(gather_list, out):  # type: ignore[arg-type]
                _put(t, row)
    return _run(pg, [req], "gather", finish, async_op, keep=(a, out), check=chk)


def scatter(tensor: Tensor, scatter_list: list | None = None, src: int | None = None, group: Any = None,
            async_op: bool = False, group_src: int | None = None) -> Any:
    """Mirrors `torch.distributed.scatter`: rank i's `tensor` receives `scatter_list[i]` of `src`."""
    _check_tensor(tensor)
    if scatter_list:
        _check_list(scatter_list, "scatter_list")
        _same_dtype(tensor, scatter_list)
    pg = _pg(group)
    if pg is None:
        return _not_member("scatter")
    root = group_src if group_src is not None else _group_rank(pg, 0 if src is None else src, "scatter")
    n = pg.size()
    me = pg.rank() == root
    if me:
        _check_root_list(scatter_list, "scatter_list", "scatter", "Input", n, tensor)
        send = np.concatenate([_flat(t) for t in scatter_list]) if n else None  # type: ignore[union-attr]
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    else:
        send = None
    chk = _fingerprint(pg, "scatter", tensor._data.nbytes)
    out = np.empty(tensor.numel(), tensor._data.dtype)
    req = pg._comm.Iscatter(_bytes(send) if me else None, _bytes(out), root=root)
    return _run(pg, [req], "scatter", lambda: _put(tensor, out), async_op, keep=(send, out), check=chk)


def all_to_all_single(output: Tensor, input: Tensor, output_split_sizes: list | None = None,
                      input_split_sizes: list | None = None, group: Any = None, async_op: bool = False) -> Any:
    """Mirrors `torch.distributed.all_to_all_single`: chunk j of rank i's `input` (along dim 0) goes to chunk i
    of rank j's `output`; uneven chunks by the split sizes."""
    if _left_out(group):
        return _not_member("all_to_all_single")
    _check_opts("AllToAllOptions", async_op=async_op)
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    _same_dtype(output, input)
    pg = _pg(group)
    if pg is None:
        return _not_member("all_to_all_single")
    n = pg.size()

    def counts(t: Tensor, splits: list | None, name: str) -> list[int]:
        rows = t.shape[0] if t.dim() else 1
        row = t.numel() // rows if rows else 0
        if splits is None or len(splits) == 0:
            if rows % n:
                raise ValueError(f"Tensor's dim 0 does not divide equally across group size {n}")
            return [rows // n * row * t._data.itemsize] * n
        if len(splits) != n or sum(splits) != rows:
            raise ValueError(f"Split sizes doesn't match total dim 0 size ({name}_split_sizes={list(splits)}, "
                             f"dim 0 size {rows}, group size {n})")
        return [int(s) * row * t._data.itemsize for s in splits]
    if output.dtype != input.dtype:
        raise RuntimeError("all_to_all_single: input and output must have the same dtype")
    sc, rc = counts(input, input_split_sizes, "input"), counts(output, output_split_sizes, "output")
    if input_split_sizes is None and output_split_sizes is None and output.numel() != input.numel():
        raise RuntimeError(f"all_to_all_single: input and output must have the same number of elements "
                           f"(got {input.numel()} and {output.numel()})")
    sd, rd = list(np.cumsum([0] + sc[:-1])), list(np.cumsum([0] + rc[:-1]))
    a = np.ascontiguousarray(_flat(input))
    out = np.empty(output.numel(), output._data.dtype)
    chk = _fingerprint(pg, "all_to_all_single", 0)
    req = pg._comm.Ialltoallv([_bytes(a), (sc, sd)], [_bytes(out), (rc, rd)])
    return _run(pg, [req], "all_to_all_single", lambda: _put(output, out), async_op, keep=(a, out), check=chk)


def all_to_all(output_tensor_list: list, input_tensor_list: list, group: Any = None, async_op: bool = False) -> Any:
    """Mirrors `torch.distributed.all_to_all`: `input_tensor_list[j]` of rank i lands in
    `output_tensor_list[i]` of rank j."""
    if _left_out(group):
        return _not_member("all_to_all")
    _check_opts("AllToAllOptions", async_op=async_op)
    _check_list(output_tensor_list, "output_tensor_list")
    _check_list(input_tensor_list, "input_tensor_list")
    _same_dtype(output_tensor_list, input_tensor_list)
    pg = _pg(group)
    if pg is None:
        return _not_member("all_to_all")
    n = pg.size()
    if len(output_tensor_list) != n or len(input_tensor_list) != n:
        raise RuntimeError(f"all_to_all: the tensor lists must have the group size {n} (got "
                           f"{len(output_tensor_list)} outputs and {len(input_tensor_list)} inputs)")
    sc = [t._data.nbytes for t in input_tensor_list]
    rc = [t._data.nbytes for t in output_tensor_list]
    a = np.concatenate([_bytes(np.ascontiguousarray(t._data)) for t in input_tensor_list]) if n else None
    out = np.empty(sum(rc), np.uint8)
    chk = _fingerprint(pg, "all_to_all", 0)
    req = pg._comm.Ialltoallv([a, (sc, list(np.cumsum([0] + sc[:-1])))],
                              [out, (rc, list(np.cumsum([0] + rc[:-1])))])

    def finish() -> None:
        o = 0
        for t, c in zip(output_tensor_list, rc):
            _put(t, out[o:o + c].view(t._data.dtype))
            o += c
    return _run(pg, [req], "all_to_all", finish, async_op, keep=(a, out), check=chk)


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Any:
    """Mirrors `torch.distributed.barrier`."""
    if _left_out(group):
        return _not_member("barrier")
    pg = _pg(group)
    if pg is None:
        return _not_member("barrier")
    chk = _fingerprint(pg, "barrier", 0)
    return _run(pg, [pg._comm.Ibarrier()], "barrier", None, async_op, check=chk)


# -- point to point ---------------------------------------------------------------------------------------

def _peer(pg: ProcessGroup, r: int, role: str) -> int:
    g = _group_rank(pg, r, "send" if role == "destination" else "recv", role)
    if g == pg.rank():
        raise ValueError(f"Invalid {role} rank: {role} rank should not be the same as the rank of the current "
                         "process.")
    return g


def isend(tensor: Tensor, dst: int | None = None, group: Any = None, tag: int = 0,
          group_dst: int | None = None) -> Any:
    """Mirrors `torch.distributed.isend`: returns a Work."""
    pg = _pg(group)   # torch's order: the group, then the tensor
    _check_tensor(tensor)
    if pg is None:
        return _not_member("isend")
    peer = group_dst if group_dst is not None else _peer(pg, dst, "destination")  # type: ignore[arg-type]
    a = np.ascontiguousarray(_flat(tensor)).copy()
    return Work(pg, [pg._comm.Isend(_bytes(a), dest=peer, tag=tag)], "send", None, keep=a)


def irecv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0,
          group_src: int | None = None) -> Any:
    """Mirrors `torch.distributed.irecv` (any source when `src` is None); `work.source_rank()` names it."""
    _check_tensor(tensor)
    if _left_out(group):
        return _not_member("irecv")
    pg = _pg(group)
    if pg is None:
        return _not_member("irecv")
    M = _mpi.MPI()
    peer = group_src if group_src is not None else (M.ANY_SOURCE if src is None else _peer(pg, src, "source"))
    out = np.empty(tensor.numel(), tensor._data.dtype)
    req = pg._comm.Irecv(_bytes(out), source=peer, tag=tag)

    st = M.Status()

    def complete() -> int:
        if not w._probed:
            _mpi.wait(req, pg._timeout, "recv", pg._desc, status=st)
        count = st.Get_count(M.BYTE)
        if count != out.nbytes:
            raise RuntimeError(f"recv: expected a message of {out.nbytes} bytes, got {count}")
        _put(tensor, out)
        return pg._ranks[st.Get_source()]
    w = Work(pg, [], "recv", complete, keep=(out, req))
    w._probe = lambda: req.Test(st)   # non-blocking test that also fills the status (for is_completed)
    return w


def send(tensor: Tensor, dst: int | None = None, group: Any = None, tag: int = 0,
         group_dst: int | None = None) -> None:
    """Mirrors `torch.distributed.send` (blocking)."""
    w = isend(tensor, dst, group, tag, group_dst)
    if w is not None:
        w.wait()


def recv(tensor: Tensor, src: int | None = None, group: Any = None, tag: int = 0,
         group_src: int | None = None) -> int:
    """Mirrors `torch.distributed.recv` (blocking): returns the sender's rank."""
    w = irecv(tensor, src, group, tag, group_src)
    if w is None:
        return -1
    w.wait()
    return w._result


# -- objects ----------------------------------------------------------------------------------------------

def _allgather_bytes(pg: ProcessGroup, data: bytes, what: str) -> list[bytes]:
    M = _mpi.MPI()
    n = pg.size()
    ln = np.array([len(data)], np.int64)
    lens = np.empty(n, np.int64)
    _mpi.wait(pg._comm.Iallgather([ln, M.INT64_T], [lens, M.INT64_T]), pg._timeout, what, pg._desc)
    out = np.empty(int(lens.sum()), np.uint8)
    disp = [int(x) for x in np.cumsum([0] + list(lens[:-1]))]
    _mpi.wait(pg._comm.Iallgatherv(np.frombuffer(data, np.uint8), [out, ([int(x) for x in lens], disp)]),
              pg._timeout, what, pg._desc)
    return [out[d:d + int(c)].tobytes() for d, c in zip(disp, lens)]


def _bcast_bytes(pg: ProcessGroup, data: bytes | None, root: int, what: str) -> bytes:
    ln = np.array([len(data) if data is not None else 0], np.int64)
    M = _mpi.MPI()
    _mpi.wait(pg._comm.Ibcast([ln, M.INT64_T], root=root), pg._timeout, what, pg._desc)
    buf = np.frombuffer(data, np.uint8).copy() if pg.rank() == root else np.empty(int(ln[0]), np.uint8)
    _mpi.wait(pg._comm.Ibcast(buf, root=root), pg._timeout, what, pg._desc)
    return buf.tobytes()


def broadcast_object_list(object_list: list, src: int | None = None, group: Any = None, device: Any = None,
                          group_src: int | None = None) -> None:
    """Mirrors `torch.distributed.broadcast_object_list`: the list is filled in place from `src` (pickled)."""
    pg = _pg(group)
    if pg is None:
        return _not_member("broadcast_object_list")
    root = group_src if group_src is not None else _group_rank(pg, 0 if src is None else src, "broadcast")
    data = pickle.dumps(list(object_list)) if pg.rank() == root else None
    objs = pickle.loads(_bcast_bytes(pg, data, root, "broadcast_object_list"))
    if len(objs) != len(object_list):
        raise RuntimeError(f"broadcast_object_list: the source sent {len(objs)} objects, this rank's list holds "
                           f"{len(object_list)}")
    object_list[:] = objs


def all_gather_object(object_list: list, obj: Any, group: Any = None) -> None:
    """Mirrors `torch.distributed.all_gather_object`: `object_list[i]` becomes rank i's `obj` (pickled)."""
    if _left_out(group):
        return _not_member("all_gather_object")
    pg = _pg(group)
    if pg is None:
        return _not_member("all_gather_object")
    if len(object_list) != pg.size():
        raise RuntimeError(f"all_gather_object: object_list must have the group size {pg.size()}, got "
                           f"{len(object_list)}")
    for i, b in enumerate(_allgather_bytes(pg, pickle.dumps(obj), "all_gather_object")):
        object_list[i] = pickle.loads(b)


def gather_object(obj: Any, object_gather_list: list | None = None, dst: int | None = None, group: Any = None,
                  group_dst: int | None = None) -> None:
    """Mirrors `torch.distributed.gather_object`."""
    pg = _pg(group)
    if pg is None:
        return _not_member("gather_object")
    root = group_dst if group_dst is not None else _group_rank(pg, 0 if dst is None else dst, "gather")
    got = _allgather_bytes(pg, pickle.dumps(obj), "gather_object")
    if pg.rank() == root:
        if object_gather_list is None or len(object_gather_list) != pg.size():
            raise ValueError(f"gather_object: object_gather_list must have the group size {pg.size()} on the "
                             "destination rank")
        for i, b in enumerate(got):
            object_gather_list[i] = pickle.loads(b)


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list: list | None = None,
                        src: int | None = None, group: Any = None, group_src: int | None = None) -> None:
    """Mirrors `torch.distributed.scatter_object_list`: element 0 of the output list receives this rank's
    object."""
    pg = _pg(group)
    if pg is None:
        return _not_member("scatter_object_list")
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    root = group_src if group_src is not None else _group_rank(pg, 0 if src is None else src, "scatter")
    data = None
    if pg.rank() == root:
        if scatter_object_input_list is None or len(scatter_object_input_list) != pg.size():
            raise ValueError(f"scatter_object_list: the input list must have the group size {pg.size()} on the "
                             "source rank")
        data = pickle.dumps(list(scatter_object_input_list))
    objs = pickle.loads(_bcast_bytes(pg, data, root, "scatter_object_list"))
    scatter_object_output_list[0] = objs[pg.rank()]


def __getattr__(name: str) -> object:
    # torch names ndgrad does not provide (rpc, fsdp, ...) resolve to their clear error (ndgrad/_unavailable.py)
    import importlib
    return importlib.import_module("ndgrad._unavailable").attribute(__name__, name)


def get_default_backend_for_device(device: Any) -> str:
    """Mirrors `torch.distributed.get_default_backend_for_device`: torch's registry ("nccl" for cuda, "gloo"
    otherwise; ndgrad runs "gloo" on MPI)."""
    from .._creation import device as _device
    t = (device if isinstance(device, _device) else _device(device)).type
    return "nccl" if t == "cuda" else "gloo"
