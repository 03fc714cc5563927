"""ndgrad.distributed, nn.parallel, DistributedSampler, ndgrad.multiprocessing and the ndgrad-run launcher.

In-process tests run a world of one process (MPI's singleton mode) and compare with torch's gloo backend at world
size one: results, errors and texts. The multi-process tests start 2 and 4 ranks with mpiexec (oversubscribed on a
small machine) and run tests/dist_cases.py; each is bounded by a subprocess timeout, so a hung collective fails
the test instead of hanging the suite.
"""
from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import ndgrad

ROOT = Path(__file__).resolve().parents[1]
HAVE_MPI = ndgrad.distributed.is_available()
if os.environ.get("CI") == "true" and not HAVE_MPI:  # pragma: no cover
    raise RuntimeError("CI=true but mpi4py is missing: install the [distributed] extra so these tests run")
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="needs the [distributed] extra (mpi4py, mpich)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _errors(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    return None


@pytest.fixture
def both(torch):
    """(ndgrad, torch) with a default process group of one process each."""
    td = pytest.importorskip("torch.distributed")
    if not HAVE_MPI:
        pytest.skip("needs mpi4py")
    import ndgrad.distributed as nd
    nd.init_process_group("gloo", init_method="env://", rank=0, world_size=1)
    td.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)
    try:
        yield ndgrad, torch
    finally:
        nd.destroy_process_group()
        td.destroy_process_group()


# -- without a process group, or without MPI ------------------------------------------------------------------

def test_calls_before_init_raise_torchs_error(torch):
    import ndgrad.distributed as nd
    import torch.distributed as td
    assert nd.is_initialized() is False
    for name, args in [("get_rank", ()), ("get_world_size", ()), ("get_backend", ()), ("barrier", ()),
                       ("all_reduce", ("T",)), ("broadcast", ("T", 0)), ("new_group", ())]:
        a = [ndgrad.ones(2) if x == "T" else x for x in args]
        b = [torch.ones(2) if x == "T" else x for x in args]
        got = _errors(lambda: getattr(nd, name)(*a))
        if HAVE_MPI:
            assert got == _errors(lambda: getattr(td, name)(*b)), name
            assert got == ("ValueError", nd.NOT_INIT)
        else:
            assert got[0] == "RuntimeError" and "pip install" in got[1]
    assert _errors(nd.destroy_process_group) == _errors(td.destroy_process_group)
    assert nd.group.WORLD is None and td.group.WORLD is None


def test_without_mpi_every_call_says_what_to_install(monkeypatch):
    import ndgrad.distributed as nd
    from ndgrad.distributed import _mpi
    monkeypatch.setattr(_mpi, "available", lambda: False)
    assert nd.is_available() is False and nd.is_mpi_available() is False and nd.is_gloo_available() is False
    with pytest.raises(RuntimeError, match=r'pip install "ndgrad\[distributed\]"'):
        nd.init_process_group("gloo")
    # before a group exists, torch's ValueError (the grid checks the class), with what to install
    for call in (nd.get_rank, lambda: nd.all_reduce(ndgrad.ones(1)), lambda: nd.new_group([0])):
        with pytest.raises(ValueError, match=r'init_process_group.*pip install "ndgrad\[distributed\]"'):
            call()


@needs_mpi
def test_availability_and_reduce_op(torch):
    import ndgrad.distributed as nd
    import torch.distributed as td
    assert nd.is_available() and nd.is_mpi_available() and nd.is_gloo_available()
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        a, b = getattr(nd.ReduceOp, name), getattr(td.ReduceOp, name)
        assert (str(a), repr(a)) == (str(b), repr(b))
    assert issubclass(nd.DistBackendError, RuntimeError)


@needs_mpi
def test_init_checks(both):
    nd, td = ndgrad.distributed, both[1].distributed
    assert nd.get_backend() == "gloo" and nd.get_rank() == td.get_rank() and nd.get_world_size() == td.get_world_size()
    assert nd.is_initialized() and nd.group.WORLD is nd.GroupMember.WORLD is not None
    assert _errors(lambda: nd.init_process_group("gloo")) == _errors(lambda: td.init_process_group("gloo"))
    nd.destroy_process_group()
    with pytest.raises(RuntimeError, match="not part of an MPI world of that size.*ndgrad-run"):
        nd.init_process_group("gloo", rank=0, world_size=2)
    with pytest.raises(ValueError, match="rank=1 differs"):
        nd.init_process_group("mpi", rank=1, world_size=1)
    with pytest.raises(TypeError, match="timedelta"):
        nd.init_process_group("mpi", timeout=5)
    nd.init_process_group("mpi", timeout=datetime.timedelta(seconds=5))
    assert nd.get_backend() == "mpi"


# -- collectives at world size one, against torch's gloo ---------------------------------------------------------

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64",
          "complex128"] + (["bfloat16"] if hasattr(ndgrad, "bfloat16") else [])


def _torch_call(fn) -> bool:
    """Run a torch collective; False where gloo lacks the dtype (it has no int16 or complex reductions)."""
    try:
        fn()
    except RuntimeError as e:
        if "Invalid scalar type" in str(e) or "not supported" in str(e).lower():
            return False
        raise
    return True


@needs_mpi
@pytest.mark.parametrize("dtype", DTYPES)
def test_collectives_match_torch_at_world_size_one(both, dtype):
    """At world size one every collective returns its input; torch's gloo (where it has the dtype) agrees."""
    nd, torch = both
    ndd, td = nd.distributed, torch.distributed
    vals = np.arange(6).reshape(2, 3) % 4
    a = nd.tensor(vals).to(getattr(nd, dtype))
    b = torch.tensor(vals).to(getattr(torch, dtype))
    want = a.tolist()

    def same(x, y, ok):
        assert x.tolist() == want and str(x.dtype) == str(a.dtype)
        if ok:
            assert y.tolist() == want
    ops = ["SUM"] + ([] if "complex" in dtype else ["PRODUCT", "MIN", "MAX"])
    for op in ops:
        x, y = a.clone(), b.clone()
        assert ndd.all_reduce(x, op=getattr(ndd.ReduceOp, op)) is None
        same(x, y, _torch_call(lambda: td.all_reduce(y, op=getattr(td.ReduceOp, op))))
        x, y = a.clone(), b.clone()
        ndd.reduce(x, dst=0, op=getattr(ndd.ReduceOp, op))
        same(x, y, _torch_call(lambda: td.reduce(y, dst=0, op=getattr(td.ReduceOp, op))))
    x, y = a.clone(), b.clone()
    wx = ndd.broadcast(x, src=0, async_op=True)
    assert wx.wait() is True and wx.is_completed()
    same(x, y, _torch_call(lambda: td.broadcast(y, src=0, async_op=True).wait()))
    lx, ly = [nd.zeros_like(a)], [torch.zeros_like(b)]
    ndd.all_gather(lx, a)
    same(lx[0], ly[0], _torch_call(lambda: td.all_gather(ly, b)))
    ox, oy = nd.zeros_like(a), torch.zeros_like(b)
    ndd.all_gather_into_tensor(ox, a)
    same(ox, oy, _torch_call(lambda: td.all_gather_into_tensor(oy, b)))
    gx, gy = [nd.zeros_like(a)], [torch.zeros_like(b)]
    ndd.gather(a, gx, dst=0)
    same(gx[0], gy[0], _torch_call(lambda: td.gather(b, gy, dst=0)))
    sx, sy = nd.zeros_like(a), torch.zeros_like(b)
    ndd.scatter(sx, [a], src=0)
    same(sx, sy, _torch_call(lambda: td.scatter(sy, [b], src=0)))
    ox, oy = nd.zeros_like(a), torch.zeros_like(b)
    ndd.all_to_all_single(ox, a)
    same(ox, oy, _torch_call(lambda: td.all_to_all_single(oy, b)))
    if dtype != "bool":
        ox, oy = nd.zeros_like(a), torch.zeros_like(b)
        ndd.reduce_scatter(ox, [a])
        same(ox, oy, _torch_call(lambda: td.reduce_scatter(oy, [b])))


@needs_mpi
def test_collective_errors_match_torch(both):
    nd, torch = both
    ndd, td = nd.distributed, torch.distributed
    cases = [
        lambda m, d: d.all_gather([m.zeros(4), m.zeros(4)], m.ones(4)),
        lambda m, d: d.all_gather([m.zeros(3)], m.ones(4)),
        lambda m, d: d.broadcast(m.ones(2), src=1),
        lambda m, d: d.all_reduce([m.ones(2)]),
        lambda m, d: d.all_reduce(m.ones(2, dtype=m.complex64), op=d.ReduceOp.MAX),
        lambda m, d: d.all_reduce(m.ones(2, dtype=m.complex128), op=d.ReduceOp.PRODUCT),
        lambda m, d: d.scatter(m.zeros(4), [m.ones(4)] * 2, src=0),
        lambda m, d: d.gather(m.ones(4), [m.zeros(4)] * 2, dst=0),
        lambda m, d: d.send(m.ones(2), 0),
    ]
    for k, case in enumerate(cases):
        got, want = _errors(lambda: case(nd, ndd)), _errors(lambda: case(torch, td))
        assert want is not None and got == want, (k, got, want)
    # torch's gloo fails inside its transport here; ndgrad says what is wrong
    with pytest.raises(ValueError, match="Invalid source rank: source rank should not be the same"):
        ndd.recv(nd.ones(2), 0)
    # where torch's text is an internal check, the class matches and ndgrad's text explains
    for case in [lambda m, d: d.reduce_scatter_tensor(m.zeros(2), m.ones(4)),
                 lambda m, d: d.all_to_all_single(m.zeros(3), m.ones(4))]:
        got, want = _errors(lambda: case(nd, ndd)), _errors(lambda: case(torch, td))
        assert got[0] == want[0] == "RuntimeError" and "ndgrad" not in got[1]


@needs_mpi
def test_object_collectives_groups_and_work_at_world_size_one(both):
    nd, torch = both
    ndd, td = nd.distributed, torch.distributed
    for d in (ndd, td):
        out = [None]
        d.all_gather_object(out, {"a": (1, 2)})
        assert out == [{"a": (1, 2)}]
        lst = [1, "x", None]
        d.broadcast_object_list(lst, src=0)
        assert lst == [1, "x", None]
        g = d.new_group([0])
        assert d.get_rank(g) == 0 and d.get_world_size(g) == 1 and d.get_process_group_ranks(g) == [0]
        t = torch.ones(3) if d is td else nd.ones(3)
        w = d.all_reduce(t, group=g, async_op=True)
        assert w.wait() is True and w.is_completed() and w.is_success()
        assert d.barrier() is None and d.barrier(async_op=True).wait() is True


@needs_mpi
def test_in_place_semantics(both):
    nd, torch = both
    base = nd.arange(12.).reshape(3, 4)
    col = base.t()[1]                       # not contiguous: reduced into its own memory all the same
    v = base._version
    nd.distributed.all_reduce(col, op=nd.distributed.ReduceOp.AVG)
    assert base[:, 1].tolist() == [1.0, 5.0, 9.0] and base._version == v  # torch does not bump it either
    tb = torch.ones(3)
    tv = tb._version
    torch.distributed.all_reduce(tb)
    assert tb._version == tv


@needs_mpi
def test_timeout_in_a_wait_raises_dist_backend_error():
    from ndgrad.distributed import _mpi

    class Never:
        def Test(self, status=None):
            return False
    t0 = time.monotonic()
    with pytest.raises(ndgrad.distributed.DistBackendError, match="all_reduce timed out after 0.2 s"):
        _mpi.wait(Never(), 0.2, "all_reduce", "rank 0 of the world")
    assert 0.2 <= time.monotonic() - t0 < 1.5


def test_waits_spin_only_while_every_rank_has_a_core(monkeypatch):
    from ndgrad.distributed import _mpi
    monkeypatch.setattr(_mpi, "SPIN_S", _mpi.SPIN_S)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    for local, world, spin in (("2", 2, _mpi.SPIN_DEDICATED), ("4", 4, _mpi.SPIN_OVERSUBSCRIBED),
                               ("1", 4, _mpi.SPIN_DEDICATED), (None, 3, _mpi.SPIN_OVERSUBSCRIBED)):
        if local is None:
            monkeypatch.delenv("MPI_LOCALNRANKS", raising=False)   # not started by MPICH's mpiexec: the world
        else:
            monkeypatch.setenv("MPI_LOCALNRANKS", local)
        _mpi.set_spin_for(world)
        assert _mpi.SPIN_S == spin, (local, world)
    assert _mpi.SPIN_OVERSUBSCRIBED < _mpi.SPIN_DEDICATED


def test_launchers_let_mpi_yield_but_never_sleep_inside_progress():
    # MPICH's heavy yield sleeps in every progress call (MPI_Test too): 0.1-0.5 ms for a 1 KiB all_reduce
    from ndgrad.distributed import _mpi
    assert _mpi.LAUNCH_ENV == {"MPIR_CVAR_POLLS_BEFORE_YIELD": "1"}


@needs_mpi
def test_reduction_plans_are_cached_but_every_call_is_checked(both):
    nd, torch = both
    t = nd.arange(6, dtype=nd.int32).reshape(2, 3)
    for _ in range(2):   # a bad op raises every time, not only before its plan is cached
        assert _errors(lambda: nd.distributed.all_reduce(t, op="sum"))[0] == "TypeError"
        assert _errors(lambda: nd.distributed.all_reduce(nd.ones(2), op=nd.distributed.ReduceOp.BAND)) == \
            ("ValueError", "all_reduce does not support RedOpType.BAND on floating point tensors")
    buf = t._data
    for op in ("SUM", "AVG", "MAX"):
        nd.distributed.all_reduce(t, op=getattr(nd.distributed.ReduceOp, op))
        assert t._data is buf and t.tolist() == [[0, 1, 2], [3, 4, 5]]
    h = nd.tensor([1.5, -2.25], dtype=nd.float16)
    v = nd.arange(6.0).reshape(2, 3).t()   # half types and non-contiguous tensors go through a copy
    for x in (h, v):
        before = x.tolist()
        nd.distributed.all_reduce(x, op=nd.distributed.ReduceOp.AVG)
        assert x.tolist() == before


# -- post-accumulate-grad hooks (what DDP builds on) -----------------------------------------------------------

def test_post_accumulate_grad_hook_matches_torch(torch):
    for m in (ndgrad, torch):
        w = m.ones(2, requires_grad=True)
        seen = []
        h = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
        (w * 3).sum().backward()
        (w * w).sum().backward()
        h.remove()
        (w * 3).sum().backward()
        assert seen == [[3.0, 3.0], [5.0, 5.0]]
        got = _errors(lambda: (w * 2).register_post_accumulate_grad_hook(print))
        assert got == ("RuntimeError", "post accumulate grad hooks cannot be registered on non-leaf tensors")
        got = _errors(lambda: m.ones(2).register_post_accumulate_grad_hook(print))
        assert got == ("RuntimeError", "cannot register a hook on a tensor that doesn't require gradient")
        # autograd.grad does not accumulate, so the hook does not run
        seen.clear()
        w.register_post_accumulate_grad_hook(lambda t: seen.append(1))
        m.autograd.grad((w * 2).sum(), w)
        assert seen == []


def test_post_accumulate_grad_hooks_run_as_soon_as_ready_like_torch(torch):
    """A leaf's gradient is accumulated (and its hooks run) as soon as it is complete, before the rest of the
    graph, also when the previous iteration's graph is still alive during the next forward (the leaves'
    AccumulateGrad nodes are then reused). DDP starts its buckets from these hooks."""
    logs = []
    for m in (ndgrad, torch):
        m.manual_seed(0)
        nn = m.nn
        net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
        log: list = []
        for name, p in net.named_parameters():
            p.register_post_accumulate_grad_hook(lambda p, name=name: log.append(name))
        x = m.randn(5, 4)
        loss = None
        for _ in range(3):
            h1 = net[0](x)
            h1.register_hook(lambda g: log.append("h1"))
            h2 = net[2](net[1](h1))
            h2.register_hook(lambda g: log.append("h2"))
            loss = net[4](net[3](h2)).sum()   # the previous loss (and its graph) lives until this assignment
            loss.backward()
        logs.append(log)
    assert logs[0] == logs[1]
    assert logs[0][:8] == ["4.bias", "4.weight", "h2", "2.bias", "2.weight", "h1", "0.bias", "0.weight"]


# -- DDP and DataParallel at world size one, against torch ---------------------------------------------------

@needs_mpi
def test_ddp_matches_torch_ddp_at_world_size_one(both):
    nd, torch = both
    from ndgrad.nn.parallel import DistributedDataParallel as NDDP
    from torch.nn.parallel import DistributedDataParallel as TDDP
    tm = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3))
    nm = nd.nn.Sequential(nd.nn.Linear(5, 7), nd.nn.Tanh(), nd.nn.Linear(7, 3))
    nm.load_state_dict({k: nd.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    a, b = NDDP(nm, bucket_cap_mb=0.0001), TDDP(tm, bucket_cap_mb=0.0001)
    assert repr(a) == repr(b) and a.module is nm and list(a.state_dict()) == list(b.state_dict())
    assert nd.nn.parallel.DistributedDataParallel is NDDP
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    oa, ob = nd.optim.SGD(a.parameters(), lr=0.1), torch.optim.SGD(b.parameters(), lr=0.1)
    for _ in range(3):
        oa.zero_grad()
        ob.zero_grad()
        la, lb = a(nd.from_numpy(x)).pow(2).mean(), b(torch.from_numpy(x)).pow(2).mean()
        assert la.grad_fn.name() == lb.grad_fn.name()
        la.backward()
        lb.backward()
        for p, q in zip(a.parameters(), b.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)
        oa.step()
        ob.step()
    with a.no_sync():
        a(nd.from_numpy(x)).sum().backward()
    from ndgrad.nn.modules.utils import consume_prefix_in_state_dict_if_present as nd_strip
    from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present as t_strip
    sa, sb = a.state_dict(), b.state_dict()
    nd_strip(sa, "module.")
    t_strip(sb, "module.")
    assert list(sa) == list(sb) == list(nm.state_dict())
    nd.nn.Sequential(nd.nn.Linear(5, 7), nd.nn.Tanh(), nd.nn.Linear(7, 3)).load_state_dict(sa)


@needs_mpi
def test_ddp_errors(both):
    nd, torch = both
    from ndgrad.nn.parallel import DistributedDataParallel as NDDP
    from torch.nn.parallel import DistributedDataParallel as TDDP
    frozen = nd.nn.Linear(2, 2).requires_grad_(False)
    tfrozen = torch.nn.Linear(2, 2).requires_grad_(False)
    assert _errors(lambda: NDDP(frozen)) == _errors(lambda: TDDP(tfrozen))
    got, want = _errors(lambda: NDDP(nd.nn.Linear(2, 2), device_ids=[0])), \
        _errors(lambda: TDDP(torch.nn.Linear(2, 2), device_ids=[0]))
    assert got[0] == want[0] == "ValueError"
    with pytest.raises(NotImplementedError, match="register_comm_hook"):
        NDDP(nd.nn.Linear(2, 2)).register_comm_hook(None, None)


@needs_mpi
def test_ddp_unfinished_reduction_matches_torch(both):
    """A forward without backward is fine; a backward that leaves a parameter without gradient makes the next
    forward raise torch's error, naming the parameter indices."""
    got = []
    for m in both:
        class Two(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = m.nn.Linear(2, 2)
                self.b = m.nn.Linear(2, 2)

            def forward(self, x):
                return self.a(x)
        d = m.nn.parallel.DistributedDataParallel(Two())
        d(m.ones(1, 2))
        d(m.ones(1, 2))
        d(m.ones(1, 2)).sum().backward()
        got.append(_errors(lambda: d(m.ones(1, 2))))
        assert d.module.b.weight.grad is None
    assert got[0] == got[1] and got[0][0] == "RuntimeError"


def test_ddp_before_init_raises_torchs_error(torch):
    if not HAVE_MPI:
        pytest.skip("needs mpi4py")
    from ndgrad.nn.parallel import DistributedDataParallel as NDDP
    from torch.nn.parallel import DistributedDataParallel as TDDP
    assert _errors(lambda: NDDP(ndgrad.nn.Linear(2, 2))) == _errors(lambda: TDDP(torch.nn.Linear(2, 2)))


def test_data_parallel_matches_torch_on_cpu(torch):
    from torch.nn.parallel import data_parallel as t_dp
    from ndgrad.nn.parallel import data_parallel as n_dp
    tm = torch.nn.Linear(3, 2)
    nm = ndgrad.nn.Linear(3, 2)
    nm.load_state_dict({k: ndgrad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    a, b = ndgrad.nn.DataParallel(nm), torch.nn.DataParallel(tm)
    assert repr(a) == repr(b) and list(a.state_dict()) == list(b.state_dict()) and a.device_ids == b.device_ids == []
    assert a.module is nm and ndgrad.nn.parallel.DataParallel is ndgrad.nn.DataParallel
    x = np.ones((2, 3), np.float32)
    ya, yb = a(ndgrad.from_numpy(x)), b(torch.from_numpy(x))
    assert ya.grad_fn.name() == yb.grad_fn.name()
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-6)
    assert _errors(lambda: n_dp(nm, ndgrad.from_numpy(x))) == _errors(lambda: t_dp(tm, torch.from_numpy(x)))


# -- DistributedSampler -------------------------------------------------------------------------------------

@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (12, 4, False), (2, 5, False),
                                                  (7, 2, True), (0, 2, False)])
def test_distributed_sampler_matches_torch_without_shuffle(torch, n, replicas, drop_last):
    from torch.utils.data.distributed import DistributedSampler as T
    from ndgrad.utils.data.distributed import DistributedSampler as N
    if n == 0:
        data = []
        for S in (N, T):
            assert len(S(data, num_replicas=replicas, rank=0, shuffle=False)) == 0
        return
    for r in range(replicas):
        a = N(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last)
        b = T(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last)
        assert list(a) == list(b) and len(a) == len(b) and a.total_size == b.total_size


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (13, 4, False), (3, 5, False)])
def test_distributed_sampler_shuffles_like_torch(torch, n, replicas, drop_last):
    """ndgrad's randperm is not torch's for a seed, so the properties are compared: sizes, padding, coverage,
    one order for every rank per (seed, epoch), a new one after set_epoch."""
    from torch.utils.data.distributed import DistributedSampler as T
    from ndgrad.utils.data.distributed import DistributedSampler as N

    def parts(S, seed, epoch):
        out = []
        for r in range(replicas):
            s = S(range(n), num_replicas=replicas, rank=r, seed=seed, drop_last=drop_last)
            s.set_epoch(epoch)
            out.append(list(s))
        return out
    for S in (N, T):
        p = parts(S, 1, 0)
        assert [len(x) for x in p] == [len(x) for x in parts(T, 1, 0)]
        flat = [i for x in p for i in x]
        if drop_last:
            assert len(set(flat)) == len(flat) == len(p[0]) * replicas  # no index twice
        else:
            assert set(flat) == set(range(n))                           # every index, the start repeated
        assert parts(S, 1, 0) == p and parts(S, 1, 1) != p and parts(S, 2, 0) != p
    assert _errors(lambda: N(range(4), num_replicas=3, rank=3)) == _errors(lambda: T(range(4), num_replicas=3, rank=3))
    assert ndgrad.utils.data.DistributedSampler is N


# -- API surface, laziness, launcher command ---------------------------------------------------------------------

def test_distributed_modules_load_lazily():
    code = ("import sys, ndgrad; ndgrad.tensor([1.]) * 2; import ndgrad.nn;"
            "print(sorted(m for m in sys.modules if 'mpi4py' in m or 'ndgrad.distributed' in m or 'parallel' in m"
            " or 'ndgrad.multiprocessing' in m))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout
    assert out.strip() == "[]"


def test_launcher_command_sets_torchruns_variables(monkeypatch):
    from ndgrad.distributed import _mpi, run
    monkeypatch.setattr(_mpi, "mpiexec", lambda: "/x/mpiexec")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cmd, env = run.command(run._parser().parse_args(["--nproc-per-node", "3", "--master-port", "1234", "t.py",
                                                     "--lr", "0.1"]))
    assert cmd[0] == "/x/mpiexec"
    segments = " ".join(cmd[1:]).split(" : ")
    assert segments == [f"-n 1 -env RANK {r} -env LOCAL_RANK {r} -env ROLE_RANK {r} {sys.executable} -m "
                        "ndgrad.distributed._rank . t.py --lr 0.1" for r in range(3)]
    assert env["WORLD_SIZE"] == "3" and env["MASTER_PORT"] == "1234" and env["MASTER_ADDR"] == "127.0.0.1"
    assert env["OMP_NUM_THREADS"] == "1" and env["LOCAL_WORLD_SIZE"] == "3"
    with pytest.raises(SystemExit, match="one node only"):
        run.command(run._parser().parse_args(["--nnodes", "2", "t.py"]))
    m = run.command(run._parser().parse_args(["-m", "pkg.train"]))[0]
    assert m[-5:] == ["-m", "ndgrad.distributed._rank", ".", "-m", "pkg.train"]


def test_multiprocessing_has_torchs_surface(torch):
    import ndgrad.multiprocessing as nmp
    import torch.multiprocessing as tmp
    for name in ("spawn", "start_processes", "ProcessContext", "ProcessRaisedException", "ProcessExitedException",
                 "Process", "Queue", "Pipe", "get_context", "set_start_method", "get_start_method", "cpu_count",
                 "current_process", "get_sharing_strategy", "set_sharing_strategy", "get_all_sharing_strategies"):
        assert hasattr(nmp, name) and hasattr(tmp, name), name
    assert nmp.__all__ and all(hasattr(nmp, n) for n in nmp.__all__)
    assert nmp.cpu_count() == tmp.cpu_count()


# -- multi-process ----------------------------------------------------------------------------------------------

def _mpirun(n: int, *cases: str, timeout: float = 90, env: dict | None = None) -> subprocess.CompletedProcess:
    from ndgrad.distributed import _mpi
    e = {**os.environ, **_mpi.LAUNCH_ENV, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **(env or {})}
    start = time.time()
    p = subprocess.run([_mpi.mpiexec(), "-n", str(n), sys.executable, str(ROOT / "tests" / "dist_cases.py"),
                        *cases], capture_output=True, text=True, timeout=timeout, env=e)
    # a rank killed by mpiexec, or one that exits without finalizing MPI (the timeout case), leaves MPICH's shared
    # memory files behind (see remove_orphaned_shm)
    _mpi.remove_orphaned_shm(start)
    return p


CASES = ["collectives", "all_reduce_layouts", "p2p_objects_groups", "ddp_mlp", "ddp_cnn", "ddp_unused", "ddp_buffers", "ddp_paths"]


@pytest.fixture(scope="module", params=[2, 4], ids=lambda n: f"{n}ranks")
def ranks_run(request):
    if not HAVE_MPI:
        pytest.skip("needs the [distributed] extra (mpi4py, mpich)")
    pytest.importorskip("sklearn")
    p = _mpirun(request.param, *CASES)
    return request.param, p


@pytest.mark.parametrize("case", CASES)
def test_multi_rank(ranks_run, case):
    """Collectives over every dtype and op, point to point, objects, groups; DDP training (MLP with SGD+momentum
    and with Adam plus no_sync accumulation, the digits CNN) gives the parameters of one process on the full
    batch; unused parameters; buffers."""
    n, p = ranks_run
    assert f"PASS {case}" in p.stdout, f"{n} ranks, {case}:\n{p.stdout[-4000:]}\n{p.stderr[-2000:]}"


@pytest.mark.skipif(not os.path.isdir("/dev/shm") or not os.path.isdir("/proc/self"), reason="Linux tmpfs")
def test_orphaned_mpich_shared_memory_is_removed_and_nothing_else(tmp_path):
    import mmap
    from ndgrad.distributed import _mpi
    since = time.time() - 5
    names = [f"mpich_shm_ndgradtest{os.getpid()}_{k}" for k in range(3)]
    paths = [os.path.join("/dev/shm", nm) for nm in names]
    try:
        for q in paths:
            with open(q, "wb") as f:
                f.write(b"\0" * 4096)
        os.utime(paths[0], (time.time() - 10, time.time() - 10))   # an orphan: old enough, mapped by no one
        os.utime(paths[1], (time.time() - 10, time.time() - 10))   # old enough, but mapped by this process
        with open(paths[1], "r+b") as f:
            held = mmap.mmap(f.fileno(), 4096)
        # paths[2] was just made: a job starting now, about to map it (removed only once a second old and unmapped)
        with open(paths[2], "r+b") as f:
            starting = mmap.mmap(f.fileno(), 4096)
        _mpi.remove_orphaned_shm(since)
        assert [os.path.exists(q) for q in paths] == [False, True, True]
        starting.close()
        held.close()
        os.utime(paths[1], (time.time() - 10, time.time() - 10))
        _mpi.remove_orphaned_shm(time.time() + 60)   # made before the job started: not the job's
        assert os.path.exists(paths[1])
        _mpi.remove_orphaned_shm(since)
        assert not os.path.exists(paths[1])
    finally:
        for q in paths:
            if os.path.exists(q):
                os.unlink(q)


@needs_mpi
def test_failing_jobs_leave_no_shared_memory_behind(tmp_path):
    before = {f for f in os.listdir("/dev/shm") if f.startswith("mpich_shm_")}
    p = _mpirun(2, "dies", timeout=60)
    assert p.returncode != 0
    bad = tmp_path / "bad.py"   # a rank that fails under the launcher, which stops the job
    bad.write_text("import ndgrad.distributed as d, os\nd.init_process_group('gloo')\n"
                   "if os.environ['RANK'] == '1':\n    raise SystemExit(3)\nimport time\ntime.sleep(30)\n")
    p = subprocess.run([sys.executable, "-m", "ndgrad.distributed.run", "--nproc-per-node", "2", str(bad)],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 3, p.stderr
    left = {f for f in os.listdir("/dev/shm") if f.startswith("mpich_shm_")} - before
    assert not left, left


@needs_mpi
def test_ddp_averages_as_torch_with_three_ranks():
    """With 3 ranks, 1/3 is inexact: the average is sum(g_r * float32(1/3)) (torch's reducer), not sum(g_r) / 3."""
    p = _mpirun(3, "ddp_paths", timeout=120)
    assert "PASS ddp_paths" in p.stdout, p.stdout[-4000:] + p.stderr[-2000:]


@needs_mpi
@pytest.mark.parametrize("env", [{}, {"NDGRAD_DISTRIBUTED_TUNE": "0", "EXPECT_SMALL": "0"},
                                 {"MPIR_CVAR_IALLREDUCE_INTRA_ALGORITHM": "sched_naive", "EXPECT_SMALL": "2"}],
                         ids=["tuned", "off", "user's"])
def test_all_reduce_picks_mpich_algorithm_by_size(env):
    from ndgrad.distributed import _mpi
    if "MPICH" not in subprocess.run([sys.executable, "-c", "from mpi4py import MPI; print(MPI.Get_library_version())"],
                                     capture_output=True, text=True).stdout:
        pytest.skip("MPICH's variable")
    if env.get("EXPECT_SMALL") == "2":  # the user's setting: every size keeps it
        env = {**env, "EXPECT_LARGE": "2"}
    p = _mpirun(4, "iallreduce_algorithm", timeout=90, env=env)
    assert "PASS iallreduce_algorithm" in p.stdout, p.stdout[-3000:] + p.stderr[-2000:]
    assert _mpi.SMALL_ALLREDUCE == 1 << 16


@needs_mpi
def test_mismatched_sizes_are_detected():
    p = _mpirun(2, "mismatch", timeout=60)
    assert "PASS mismatch" in p.stdout, p.stdout + p.stderr


@needs_mpi
def test_a_rank_that_never_joins_makes_the_others_raise_within_timeout():
    t0 = time.monotonic()
    p = _mpirun(2, "timeout", timeout=60)
    assert "TIMEOUT-RAISED rank 0" in p.stdout, p.stdout + p.stderr
    assert time.monotonic() - t0 < 30


@needs_mpi
def test_a_rank_that_dies_stops_the_job_quickly():
    t0 = time.monotonic()
    p = _mpirun(2, "dies", timeout=60)
    assert p.returncode != 0 and time.monotonic() - t0 < 25, (p.returncode, p.stdout, p.stderr)


TORCHRUN_SCRIPT = """
import os, sys
import ndgrad as torch
import ndgrad.distributed as dist

dist.init_process_group("gloo")            # env://: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
rank, world = dist.get_rank(), dist.get_world_size()
assert rank == int(os.environ["RANK"]) == int(os.environ["LOCAL_RANK"]) and world == int(os.environ["WORLD_SIZE"])
t = torch.tensor([float(rank + 1)])
dist.all_reduce(t)
lines = [None] * world   # printed by rank 0 only: lines of several processes may interleave on a shared pipe
dist.all_gather_object(lines, f"rank {rank}/{world} sum {t.item()} port {os.environ['MASTER_PORT']} args {sys.argv[1:]}")
if rank == 0:
    print("\\n".join(lines))
dist.destroy_process_group()
"""


@needs_mpi
def test_ndgrad_run_starts_a_torchrun_program(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TORCHRUN_SCRIPT)
    p = subprocess.run([sys.executable, "-m", "ndgrad.distributed.run", "--nproc-per-node", "2", "--master-port",
                        "29511", str(script), "--lr", "3"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines == [f"rank {r}/2 sum 3.0 port 29511 args ['--lr', '3']" for r in range(2)]
    bad = tmp_path / "bad.py"
    # rank 1 fails before MPI starts up, while rank 0 waits for it in init_process_group: the launcher stops it
    bad.write_text("import os, sys\nif os.environ['RANK'] == '1':\n    sys.exit(3)\nimport ndgrad.distributed as d\n"
                   "d.init_process_group('gloo')\nimport time\ntime.sleep(30)\n")
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "ndgrad.distributed.run", "--nproc_per_node", "2", str(bad)],
                       capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 3 and time.monotonic() - t0 < 20


SPAWN_SCRIPT = """
import os
import ndgrad as torch
import ndgrad.distributed as dist
import ndgrad.multiprocessing as mp


def work(rank, world, scale):
    dist.init_process_group("gloo", rank=rank, world_size=world)
    t = torch.tensor([float(rank) * scale])
    dist.all_reduce(t)
    out = [None] * world
    dist.all_gather_object(out, t.item())
    if rank == 0:
        print("sums", out, flush=True)
    if scale == 0 and rank == 1:
        raise ValueError("worker 1 fails")
    dist.destroy_process_group()


if __name__ == "__main__":
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", "29512"
    mp.spawn(work, args=(3, 2.0), nprocs=3)
    try:
        mp.spawn(work, args=(2, 0.0), nprocs=2)
    except mp.ProcessRaisedException as e:
        print("raised", e.error_index, "ValueError: worker 1 fails" in str(e),
              str(e).startswith("\\n\\n-- Process 1 terminated with the following error:\\n"))
    ctx = mp.spawn(work, args=(2, 1.0), nprocs=2, join=False)
    while not ctx.join(timeout=0.2):
        pass
    print("joined", len(ctx.pids()))
"""


@needs_mpi
def test_multiprocessing_spawn_runs_a_process_group(tmp_path):
    script = tmp_path / "spawner.py"
    script.write_text(SPAWN_SCRIPT)
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=90,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines() == ["sums [6.0, 6.0, 6.0]", "sums [0.0, 0.0]", "raised 1 True True",
                                     "sums [1.0, 1.0]", "joined 2"], p.stdout


@needs_mpi
def test_ddp_digits_example_runs_under_the_launcher(tmp_path):
    pytest.importorskip("sklearn")
    p = subprocess.run([sys.executable, "-m", "ndgrad.distributed.run", "--nproc-per-node", "2",
                        str(ROOT / "examples" / "train_digits_ddp.py"), "--epochs", "2", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "2 processes, global batch 64, 23 steps per epoch"
    acc = float(lines[-2].split("test acc ")[1].split("%")[0])
    assert lines[-2].startswith("epoch  2") and acc >= 85.0, p.stdout   # 97% after 15 epochs
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        from train_digits import make_models
    finally:
        sys.path.pop(0)
    cnn = make_models(ndgrad)["cnn"]
    cnn.load_state_dict(ndgrad.load(tmp_path / "digits_cnn_ddp.pt"))   # a plain model's keys: no "module."


def _indented_after(text: str, marker: str) -> str:
    """The indented (4-space) block that follows `marker` in a docs page, dedented."""
    lines = text[text.index(marker) + len(marker):].splitlines()[1:]
    while lines and not lines[0].strip():
        lines.pop(0)
    block = []
    for ln in lines:
        if ln.startswith("    ") or not ln.strip():
            block.append(ln)
        else:
            break
    return textwrap.dedent("\n".join(block)).strip("\n") + "\n"


@needs_mpi
def test_docs_multi_process_program_prints_what_the_page_shows(tmp_path):
    """docs/distributed.md shows a torchrun program and its output on 2 and 4 processes (indented blocks, which
    tests/test_docs.py does not run in one process): run them with the launcher."""
    text = (ROOT / "docs" / "distributed.md").read_text(encoding="utf-8")
    (tmp_path / "ddp_train.py").write_text(_indented_after(text, "<!-- script: ddp_train.py -->"))
    runs = [m.split(" -->")[0] for m in text.split("<!-- run: ")[1:]]
    assert len(runs) == 2
    for cmd in runs:
        shown = _indented_after(text, f"<!-- run: {cmd} -->").splitlines()
        assert shown[0] == f"$ {cmd}"
        argv = cmd.split()
        assert argv[0] == "ndgrad-run"
        p = subprocess.run([sys.executable, "-m", "ndgrad.distributed.run", *argv[1:]], cwd=tmp_path,
                           capture_output=True, text=True, timeout=90, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines() == shown[1:], p.stdout
