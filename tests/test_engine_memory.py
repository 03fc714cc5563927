"""The engine's memory behaviour: no recursion, saved values released, graphs freed by reference counting,
gradients popped as soon as they are consumed. Pure ndgrad: nothing here needs torch."""
from __future__ import annotations

import gc
import sys
import tracemalloc
import weakref

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd.graph import AccumulateGrad

FREED_PREFIX = "Trying to backward through the graph a second time"


@pytest.fixture
def no_gc():
    """Reference counting alone must free what these tests check: keep the cycle collector out of it."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_100k_op_chain_backpropagates_without_recursion():
    x = ndgrad.tensor([1.0], dtype=ndgrad.float64, requires_grad=True)
    y = x
    for i in range(100_000):
        y = y * 1.00001 if i % 2 else y + 0.5
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # a recursive walk of the graph could not get far
    try:
        y.backward()
    finally:
        sys.setrecursionlimit(old)
    np.testing.assert_allclose(x.grad.numpy(), [1.00001 ** 50_000], rtol=1e-9)


def test_100k_op_graph_deallocates_and_autograd_grad_works():
    x = ndgrad.tensor([2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y.neg()
    (g,) = ndgrad.autograd.grad(y.sum(), x)
    assert g.tolist() == [1.0]
    ref = weakref.ref(y.grad_fn)
    del y  # freeing 100k nested nodes must not overflow the C stack either
    assert ref() is None


def test_saved_tensors_released_after_backward(no_gc):
    x = ndgrad.tensor(np.linspace(0.1, 1, 1000), requires_grad=True)
    h = x * 2
    z = h.sin().sum()          # SinBackward0 saves h
    saved = weakref.ref(h)
    saved_arr = weakref.ref(h._data)
    del h
    assert saved() is not None  # the graph holds it for backward
    z.backward()
    assert saved() is None and saved_arr() is None
    with pytest.raises(RuntimeError, match=FREED_PREFIX):
        z.backward()


def test_saved_result_released_after_backward(no_gc):
    x = ndgrad.tensor(np.linspace(0.1, 1, 1000), requires_grad=True)
    e = x.exp()
    arr = weakref.ref(e._data)
    z = (e * 3).sum()           # ExpBackward0 saves its result (e's array)
    del e
    assert arr() is not None
    z.backward()
    assert arr() is None
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp(np.linspace(0.1, 1, 1000)), rtol=1e-6)


def test_autograd_grad_releases_too(no_gc):
    x = ndgrad.tensor([0.5, 1.5], requires_grad=True)
    h = x.tanh()
    z = (h * h).sum()
    ref = weakref.ref(h)
    del h
    ndgrad.autograd.grad(z, x)
    assert ref() is None
    with pytest.raises(RuntimeError, match=FREED_PREFIX):
        ndgrad.autograd.grad(z, x)


def test_retain_graph_keeps_saved_tensors(no_gc):
    x = ndgrad.tensor([0.5, 1.5], requires_grad=True)
    h = x * 2
    z = (h * h).sum()
    ref = weakref.ref(h)
    del h
    z.backward(retain_graph=True)
    assert ref() is not None
    z.backward()
    assert ref() is None
    assert x.grad.tolist() == [8.0, 24.0]  # d(4x²)/dx = 8x, accumulated twice


def test_graph_freed_when_output_goes_out_of_scope(no_gc):
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h.exp() * h).sum()
    node = weakref.ref(y.grad_fn)
    inner = weakref.ref(h.grad_fn)
    arr = weakref.ref(h._data)
    del h
    assert node() is not None and inner() is not None
    del y
    assert node() is None and inner() is None and arr() is None


def test_graph_freed_after_backward_without_gc(no_gc):
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x.sin() * x).sum()
    node = weakref.ref(y.grad_fn)
    y.backward()
    del y
    assert node() is None


def test_accumulate_grad_node_does_not_keep_leaf_alive(no_gc):
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    acc = y.grad_fn.next_functions[0][0]
    assert isinstance(acc, AccumulateGrad) and acc.variable is x
    leaf = weakref.ref(x)
    acc_ref = weakref.ref(acc)
    del acc, y, x
    assert acc_ref() is None and leaf() is None


def test_hooks_and_retain_grad_do_not_leak(no_gc):
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    h.register_hook(lambda g: g * 2)
    y = (h * h).sum()
    y.backward()
    assert h.grad.tolist() == [8.0, 16.0]
    nref, href = weakref.ref(y.grad_fn), weakref.ref(h)
    del y, h
    assert nref() is None and href() is None


def test_custom_function_saving_its_output_is_freed(no_gc):
    class Exp(ndgrad.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            r = i.exp()
            ctx.save_for_backward(r)
            return r

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r

    x = ndgrad.tensor([0.0, 1.0], requires_grad=True)
    y = Exp.apply(x)
    node = weakref.ref(y.grad_fn)
    arr = weakref.ref(y._data)
    del y  # output -> node -> saved output must not be a reference cycle
    assert node() is None and arr() is None


def test_create_graph_grad_graph_freed(no_gc):
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    (g,) = ndgrad.autograd.grad((x ** 3).sum(), x, create_graph=True)
    node = weakref.ref(g.grad_fn)
    del g
    assert node() is None


def test_intermediate_gradients_are_not_kept():
    """200 ops on 1e6-element float32 arrays (4 MB each): backward must not hold 200 gradients at once."""
    n, steps = 1_000_000, 200
    mb = n * 4 / 2 ** 20
    x = ndgrad.zeros(n, requires_grad=True)
    tracemalloc.start()
    try:
        y = x
        for i in range(steps):  # ops that save nothing big, so the forward holds O(1) arrays too
            k = i % 3
            y = y * 1.001 if k == 0 else (y + 1.0 if k == 1 else -y)
        forward_mb = tracemalloc.get_traced_memory()[0] / 2 ** 20
        tracemalloc.reset_peak()
        y.sum().backward()
        peak_mb = tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()
    assert forward_mb < 6 * mb, forward_mb
    assert peak_mb < forward_mb + 8 * mb, (forward_mb, peak_mb)   # 200 kept gradients would be 800 MB
    np.testing.assert_allclose(x.grad.numpy()[:3], [1.001 ** 67 * (-1) ** 66] * 3, rtol=1e-4)


def test_backward_releases_saved_forward_values_while_graph_lives():
    """After backward (no retain_graph) the saved inputs are gone even though the output, and so the
    graph, is still referenced: memory drops back from the forward's level."""
    n, steps = 100_000, 100
    mb = n * 8 / 2 ** 20
    x = ndgrad.ones(n, dtype=ndgrad.float64, requires_grad=True)
    tracemalloc.start()
    try:
        y = x
        for _ in range(steps):
            y = y.sin() + 1.0   # SinBackward0 saves its input: the forward holds ~steps arrays
        forward_mb = tracemalloc.get_traced_memory()[0] / 2 ** 20
        y.sum().backward()
        after_mb, peak_mb = (v / 2 ** 20 for v in tracemalloc.get_traced_memory())
    finally:
        tracemalloc.stop()
    assert forward_mb > 0.9 * steps * mb
    assert peak_mb < forward_mb + 8 * mb
    assert after_mb < 8 * mb, (forward_mb, after_mb)
    assert y.grad_fn is not None


# -- gradients taken over by .grad instead of copied (engine._exclusive) -------------------------------------------
def test_grad_taken_over_only_when_nothing_else_holds_it():
    import numpy as np
    keep = ndgrad.ones(3)
    d = ndgrad.randn(3, requires_grad=True)
    d.register_hook(lambda g: keep)  # a hook's result may be held by the user: copied
    (d * 2).sum().backward()
    assert not np.shares_memory(d.grad._data, keep._data)
    g = ndgrad.tensor([5., 7., 9.])
    x = ndgrad.randn(3, requires_grad=True)
    x.backward(g)  # the gradient argument belongs to the caller: copied
    assert not np.shares_memory(x.grad._data, g._data)
    a = ndgrad.randn(3, requires_grad=True)
    b = ndgrad.randn(3, requires_grad=True)
    (a + b).sum().backward()  # one array reaches two leaves: each gets its own
    assert not np.shares_memory(a.grad._data, b.grad._data)


_TAKE_OVER = """
import weakref, ndgrad
made = []
class Triple(ndgrad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2
    @staticmethod
    def backward(ctx, g):
        r = g * 3
        made.append(weakref.ref(r._data))
        return r
x = ndgrad.ones(3, requires_grad=True)
Triple.apply(x).sum().backward()  # one producer: accumulated inline (the first pass calibrates, see _calibrate)
x2 = ndgrad.ones(3, requires_grad=True)
Triple.apply(x2).sum().backward()  # and once calibrated
assert made[1]() is x2.grad._data, "inline, calibrated: copied"
w = ndgrad.ones(3, requires_grad=True)
(Triple.apply(w) + Triple.apply(w)).sum().backward()  # two producers: through the queue, a fresh sum
h = ndgrad.ones(2, 3, requires_grad=True)
h.register_post_accumulate_grad_hook(lambda t: None)   # hooked (as DDP does): through the queue, a view
Triple.apply(h.t().t()).sum().backward()  # a C-contiguous view, as (g.T @ x).T is
x3 = ndgrad.ones(3, requires_grad=True)
Triple.apply(x3).backward(ndgrad.ones(3))  # a graph of one node over leaves (engine._one_node, as compile's)
print(made[0]() is x.grad._data, made[-1]() is not None and h.grad._data.base is made[-2](), w.grad.tolist(),
      made[-1]() is x3.grad._data)
"""


def test_a_fresh_gradient_held_by_no_one_else_becomes_grad_itself():
    # (in a fresh interpreter: an earlier test's recorder or hook may legitimately hold gradients, then copied)
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", _TAKE_OVER], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "[6.0,", "6.0,", "6.0]", "True"], out
    kept = []

    class Keep(ndgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            kept.append(g * 3)
            return kept[-1]
    z = ndgrad.ones(3, requires_grad=True)
    Keep.apply(z).sum().backward()  # the Function still holds it: copied
    assert z.grad._data is not kept[0]._data and z.grad.tolist() == [3.0, 3.0, 3.0]
    kept[0].mul_(0)
    assert z.grad.tolist() == [3.0, 3.0, 3.0]
    z2 = ndgrad.ones(3, requires_grad=True)
    Keep.apply(z2).backward(ndgrad.ones(3))  # a graph of one node over a leaf (engine._one_node): copied too
    assert not np.shares_memory(z2.grad._data, kept[-1]._data) and z2.grad.tolist() == [3.0, 3.0, 3.0]
    h = ndgrad.ones(2, 3, requires_grad=True)
    h.register_post_accumulate_grad_hook(lambda t: None)
    Keep.apply(h.t().t()).sum().backward()  # a view of what the Function holds, through the queue: copied
    assert not np.shares_memory(h.grad._data, kept[-1]._data) and h.grad.tolist() == [[3.0] * 3] * 2


def test_taken_over_grads_stay_independent_across_retained_passes():
    import numpy as np
    w = ndgrad.tensor([1., 2., 3.], requires_grad=True)
    x = ndgrad.tensor([4., 5., 6.], requires_grad=True)
    y = (x * w).sum()
    y.backward(retain_graph=True)
    first = x.grad.clone(), w.grad.clone()
    x.grad.mul_(100)  # in place on the taken-over arrays must not reach the saved values
    w.grad.mul_(100)
    x.grad = None
    w.grad = None
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), first[0].numpy())
    np.testing.assert_array_equal(w.grad.numpy(), first[1].numpy())
    lin = ndgrad.nn.Linear(4, 3)
    inp = ndgrad.randn(5, 4, requires_grad=True)
    lin(inp).sum().backward()
    grads = [lin.weight.grad, lin.bias.grad, inp.grad]
    for i, p in enumerate(grads):
        for q in grads[i + 1:]:
            assert not np.shares_memory(p._data, q._data)


# -- deep graphs and the cyclic collector (engine.FREEZE_AFTER) ----------------------------------------------------
def _deep_chain(n):
    x = ndgrad.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return x, y


def test_a_deep_graph_is_frozen_while_built_and_given_back_by_backward():
    import gc
    from ndgrad.autograd import engine
    assert gc.get_freeze_count() == 0
    x, y = _deep_chain(3 * engine.FREEZE_AFTER)
    gc.collect(0)  # a young collection: the callback freezes what survived it (the middle generation stays empty)
    assert gc.get_freeze_count() > 0
    assert gc.get_objects(generation=1) == []
    y.backward()
    assert gc.get_freeze_count() == 0
    assert abs(x.grad.item() - 1.0001 ** (3 * engine.FREEZE_AFTER)) < 1e-3


def test_a_small_graph_and_a_programs_own_freeze_are_left_alone():
    import gc
    from ndgrad.autograd import engine
    x, y = _deep_chain(10)
    gc.collect(1)
    assert gc.get_freeze_count() == 0  # below FREEZE_AFTER: nothing frozen
    y.backward()
    keep = [[object()] for _ in range(100)]
    gc.freeze()
    try:
        n = gc.get_freeze_count()
        x, y = _deep_chain(2 * engine.FREEZE_AFTER)
        gc.collect(1)
        # the program froze objects: ndgrad neither adds (the graph is thousands of objects) nor gives back (frozen
        # objects that die leave the count, hence <=)
        assert 0 < gc.get_freeze_count() <= n
        y.backward()
        assert 0 < gc.get_freeze_count() <= n
    finally:
        gc.unfreeze()
    del keep


def test_a_graph_that_is_never_backpropagated_is_given_back_as_it_grows(monkeypatch):
    import gc
    from ndgrad.autograd import engine
    monkeypatch.setitem(engine._gc_state, "release_at", 2 * engine.FREEZE_AFTER)
    x, y = _deep_chain(engine.FREEZE_AFTER + 10)
    gc.collect(1)
    assert gc.get_freeze_count() > 0
    y2 = y
    for _ in range(engine.FREEZE_AFTER):
        y2 = y2 * 1.0
    gc.collect(1)  # past release_at: given back
    assert gc.get_freeze_count() == 0
    gc.collect(0)  # and not frozen again before a full collection has looked for cyclic garbage among it
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gc.get_freeze_count() > 0  # (the graph is still alive and deep)
    engine._release_frozen()
    assert gc.get_freeze_count() == 0


# -- small graphs and the middle generation (engine.GEN1_THRESHOLD) ------------------------------------------------
_GENERATIONAL = sys.implementation.name == "cpython" and sys.version_info < (3, 14)


@pytest.fixture
def gc_thresholds():
    from ndgrad.autograd import engine
    old, tuned = gc.get_threshold(), engine._gc_state["tuned"]
    yield engine
    gc.set_threshold(*old)
    engine._gc_state["tuned"] = tuned


@pytest.mark.skipif(not _GENERATIONAL, reason="CPython's generational collector (3.10-3.13)")
def test_first_backward_widens_the_middle_generation_unless_the_program_set_thresholds(gc_thresholds):
    engine = gc_thresholds
    gc.set_threshold(700, 10, 10)
    engine._gc_state["tuned"] = False
    x = ndgrad.tensor([1.0], requires_grad=True)
    assert gc.get_threshold() == (700, 10, 10)  # building a graph changes nothing
    y = x * 2.0
    assert gc.get_threshold() == (700, 10, 10)
    y.sum().backward()
    assert gc.get_threshold() == (engine.GEN0_THRESHOLD, engine.GEN1_THRESHOLD, 10)
    gc.set_threshold(500, 20, 5)  # the program's own thresholds: kept, then and later
    engine._gc_state["tuned"] = False
    (x * 2.0).sum().backward()
    assert gc.get_threshold() == (500, 20, 5)


@pytest.mark.skipif(not _GENERATIONAL, reason="CPython's generational collector (3.10-3.13)")
def test_ndgrad_gc_tune_0_leaves_the_default_thresholds(gc_thresholds, monkeypatch):
    engine = gc_thresholds
    monkeypatch.setenv("NDGRAD_GC_TUNE", "0")
    gc.set_threshold(700, 10, 10)
    engine._gc_state["tuned"] = False
    (ndgrad.tensor([1.0], requires_grad=True) * 2.0).sum().backward()
    assert gc.get_threshold() == (700, 10, 10)


def _collections(generation, thresholds, work):
    """How many collections of `generation` run while `work()` runs under `thresholds`."""
    gc.collect()
    gc.set_threshold(*thresholds)
    before = gc.get_stats()[generation]["collections"]
    work()
    return gc.get_stats()[generation]["collections"] - before


def _build_and_backward(n, times):
    def work():
        for _ in range(times):
            x, y = _deep_chain(n)
            y.backward()
            del x, y
    return work


# (generation, graph size, graphs): twenty 1000-op graphs built and backpropagated, where with the default thresholds
# a middle collection runs every ~7,000 allocations and promotes the live graph each time (widened: ten times fewer);
# one 2000-op graph, where the default young threshold (700 allocations) runs a young collection every ~115 ops
# (widened: at most one)
@pytest.mark.skipif(not _GENERATIONAL, reason="CPython's generational collector (3.10-3.13)")
@pytest.mark.parametrize("generation,n,times", [(1, 1000, 20), (0, 2000, 1)])
def test_small_graphs_are_built_and_freed_between_collections(gc_thresholds, generation, n, times):
    engine = gc_thresholds
    engine._gc_state["tuned"] = True
    default = _collections(generation, (700, 10, 10), _build_and_backward(n, times))
    tuned = _collections(generation, (engine.GEN0_THRESHOLD, engine.GEN1_THRESHOLD, 10), _build_and_backward(n, times))
    assert default >= 5 and tuned <= max(1, default // 3), (default, tuned)
