"""Every op in tests/opinfo.py: gradcheck/gradgradcheck, comparison with torch, table coverage,
type promotion, and property tests of broadcasting and indexing gradients."""
from __future__ import annotations

import itertools
import traceback
import zlib

import numpy as np
import pytest

import ndgrad
from ndgrad._ops import _registry as R
from ndgrad.autograd import gradcheck, gradgradcheck
from opinfo import OPS, Arg, build

# ndgrad silences NumPy's floating-point warnings (x/0, log 0) as torch is silent, but pytest resets that
# filter; both torch and ndgrad warn (once) on `x.T` for a tensor that is not 2-d
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning:ndgrad"),
              pytest.mark.filterwarnings("ignore:The use of `x.T` on tensors of dimension other than 2")]
GC: dict = {}  # gradcheck's defaults, as torch's (check_undefined_grad=True included)
GRADGRAD_MAX_NUMEL = 24  # gradgradcheck costs grow with the square of the size: small samples only


def _seed(name: str) -> int:
    return zlib.crc32(name.encode())


def _leaves(args) -> list:
    out = []

    def walk(a):
        if isinstance(a, ndgrad.Tensor) or (hasattr(a, "requires_grad") and hasattr(a, "grad_fn")):
            if a.requires_grad:
                out.append(a)
        elif isinstance(a, (list, tuple)):
            for b in a:
                walk(b)
    walk(args)
    return out


def _flat_outputs(out) -> list:
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _flat_outputs(o)]
    return [out]


def _numel(args) -> int:
    if isinstance(args, Arg):
        return args.array.size
    if isinstance(args, (list, tuple)):
        return sum(_numel(a) for a in args)
    return 0


def _id(info) -> str:
    return info.name


DIFF = [o for o in OPS if o.differentiable]


# -- (a) finite differences ----------------------------------------------------------------------------------
def _xfail_reason(info, sample, check):
    return sample.xfail.get(check) or info.xfail.get(check)


def _run_check(info, check: str, runner) -> None:
    failures, xfails, xpasses = [], [], []
    rng = np.random.default_rng(_seed(info.name))
    for sample in info.samples(np.float64, rng):
        reason = _xfail_reason(info, sample, check)
        try:
            ok = runner(sample)
        except Exception:
            ok = None
            msg = traceback.format_exc(limit=-3)
        else:
            msg = None
        if ok is False:
            continue  # not applicable to this sample
        if msg is None:
            if check in sample.xfail:
                xpasses.append(f"[{sample.desc}] marked xfail ({reason}) but passed")
        elif reason:
            xfails.append(reason)
        else:
            failures.append(f"[{sample.desc}]\n{msg}")
    if failures or xpasses:
        pytest.fail("\n".join(failures + xpasses))
    if check in info.xfail and not xfails:
        pytest.fail(f"{info.name}: entry marked xfail for {check} ({info.xfail[check]}) but it passed")
    if xfails:
        pytest.xfail("; ".join(sorted(set(xfails))))


def _substitute(args, it):
    if isinstance(args, list):
        return [_substitute(a, it) for a in args]
    if isinstance(args, tuple):
        return tuple(_substitute(a, it) for a in args)
    if isinstance(args, ndgrad.Tensor) and args.requires_grad:
        return next(it)
    return args


def _as_function(info, sample):
    args = build(sample.args, ndgrad)
    leaves = _leaves(args)

    def fn(*inputs):
        a = _substitute(args, iter(inputs))
        return info.fn(ndgrad, *a, **sample.kwargs)
    return fn, tuple(leaves)


@pytest.mark.parametrize("info", DIFF, ids=_id)
def test_gradcheck(info):
    def runner(sample):
        if not sample.gradcheck:
            return False
        fn, leaves = _as_function(info, sample)
        if not leaves:
            return False
        assert gradcheck(fn, leaves, eps=info.gc_eps, atol=info.gc_atol, rtol=info.gc_rtol, **GC)
    _run_check(info, "gradcheck", runner)


@pytest.mark.parametrize("info", [o for o in DIFF if o.gradgrad], ids=_id)
def test_gradgradcheck(info):
    def runner(sample):
        if not sample.gradcheck or _numel(sample.args) > GRADGRAD_MAX_NUMEL:
            return False
        fn, leaves = _as_function(info, sample)
        if not leaves:
            return False
        outs = [o for o in _flat_outputs(fn(*leaves)) if isinstance(o, ndgrad.Tensor) and o.requires_grad]
        if not outs:
            return False
        assert gradgradcheck(fn, leaves, eps=info.gc_eps, atol=info.gc_atol, rtol=info.gc_rtol, **GC)
    _run_check(info, "gradgradcheck", runner)


# -- (b) against torch ----------------------------------------------------------------------------------------
class _Report:
    def __init__(self, info):
        self.info = info
        self.failures: list = []
        self.xfails: list = []
        self.hit: set = set()

    def result(self, sample, check: str, where: str, msg: str | None) -> None:
        reason = sample.xfail.get(check) or self.info.xfail.get(check)
        if msg is None:
            if check in sample.xfail:
                self.failures.append(f"{where}: marked xfail for {check} ({reason}) but passed")
            return
        if reason:
            self.xfails.append(reason)
            self.hit.add(check)
        else:
            self.failures.append(f"{where}: {check}: {msg}")

    def finish(self) -> None:
        for check, reason in self.info.xfail.items():
            if check not in self.hit:
                self.failures.append(f"entry marked xfail for {check} ({reason}) but it passed")
        if self.failures:
            pytest.fail("\n".join(self.failures))
        if self.xfails:
            pytest.xfail("; ".join(sorted(set(self.xfails))))


def _np(t) -> np.ndarray:
    return t._data if isinstance(t, ndgrad.Tensor) else t.detach().numpy()


def _compare_values(a, b, rtol, atol) -> str | None:
    try:
        np.testing.assert_allclose(a.astype(np.float64) if a.dtype.kind != "b" else a,
                                   b.astype(np.float64) if b.dtype.kind != "b" else b,
                                   rtol=rtol, atol=atol, equal_nan=True)
    except AssertionError as e:
        return str(e)
    return None


def _twin_error(nd_exc, t_exc) -> bool:
    """ndgrad raised torch's error class (torch.linalg.LinAlgError has its ndgrad twin of the same name)."""
    return isinstance(nd_exc, type(t_exc)) or (type(t_exc).__name__ == "_LinAlgError" and
                                               type(nd_exc).__name__ == "_LinAlgError")


def _compare_sample(info, torch, sample_nd, sample_t, dtype, rep: _Report) -> None:
    where = f"{np.dtype(dtype).name} [{sample_nd.desc}]"
    nd_args = build(sample_nd.args, ndgrad)
    t_args = build(sample_t.args, torch)
    t_exc = nd_exc = None
    try:
        t_out = info.twin()(torch, *t_args, **sample_t.kwargs)
    except Exception as e:  # torch rejects the sample: ndgrad must raise the same class
        t_exc = e
    try:
        nd_out = info.fn(ndgrad, *nd_args, **sample_nd.kwargs)
    except Exception as e:
        nd_exc = e
    if t_exc is not None or nd_exc is not None:
        if t_exc is None:
            msg = f"ndgrad raised {type(nd_exc).__name__}: {nd_exc}, torch did not"
        elif nd_exc is None:
            msg = f"torch raised {type(t_exc).__name__}: {t_exc}, ndgrad did not"
        elif not _twin_error(nd_exc, t_exc):
            msg = f"ndgrad raised {type(nd_exc).__name__}: {nd_exc}; torch {type(t_exc).__name__}: {t_exc}"
        else:
            msg = None
        rep.result(sample_nd, "error" if t_exc is not None else "forward", where, msg)
        return
    nd_flat, t_flat = _flat_outputs(nd_out), _flat_outputs(t_out)
    if len(nd_flat) != len(t_flat):
        rep.result(sample_nd, "forward", where, f"{len(nd_flat)} outputs, torch {len(t_flat)}")
        return
    fwd, dt, fn_names = [], [], []
    for k, (a, b) in enumerate(zip(nd_flat, t_flat)):
        if not isinstance(b, torch.Tensor):
            if a != b:
                fwd.append(f"output {k}: {a!r} != {b!r}")
            continue
        if not isinstance(a, ndgrad.Tensor):
            fwd.append(f"output {k} is {type(a).__name__}, torch's is a Tensor")
            continue
        if str(a.dtype) != str(b.dtype):
            dt.append(f"output {k}: {a.dtype} != {b.dtype}")
        if tuple(a.shape) != tuple(b.shape):
            fwd.append(f"output {k}: shape {tuple(a.shape)} != {tuple(b.shape)}")
            continue
        rtol, atol = info.tolerances(_np(b).dtype)
        m = _compare_values(_np(a), _np(b), rtol, atol)
        if m:
            fwd.append(f"output {k}: {m}")
        if a.requires_grad != b.requires_grad:
            fwd.append(f"output {k}: requires_grad {a.requires_grad} != {b.requires_grad}")
        ta = a.grad_fn.name() if a.grad_fn is not None else None
        tb = type(b.grad_fn).__name__ if b.grad_fn is not None else None
        if ta != tb:
            fn_names.append(f"output {k}: grad_fn {ta} != {tb}")
    rep.result(sample_nd, "forward", where, "; ".join(fwd) or None)
    rep.result(sample_nd, "dtype", where, "; ".join(dt) or None)
    rep.result(sample_nd, "grad_fn", where, "; ".join(fn_names) or None)
    if fwd:
        return
    # gradients of every input: backward of sum(output * random weight)
    wrng = np.random.default_rng(1)
    pairs = [(a, b) for a, b in zip(nd_flat, t_flat) if isinstance(b, torch.Tensor) and b.requires_grad
             and isinstance(a, ndgrad.Tensor) and a.requires_grad]
    nd_leaves, t_leaves = _leaves(nd_args), _leaves(t_args)
    if not pairs or not t_leaves:
        return
    nd_loss = t_loss = None
    for a, b in pairs:
        w = wrng.uniform(0.5, 1.5, tuple(b.shape)).astype(_np(b).dtype)
        la = (a * ndgrad.from_numpy(w.copy())).sum()
        lb = (b * torch.from_numpy(w.copy())).sum()
        nd_loss = la if nd_loss is None else nd_loss + la
        t_loss = lb if t_loss is None else t_loss + lb
    t_exc = nd_exc = None
    try:
        t_loss.backward()
    except Exception as e:  # e.g. floor_divide has no derivative: ndgrad must refuse the same way
        t_exc = e
    try:
        nd_loss.backward()
    except Exception as e:
        nd_exc = e
    if t_exc is not None or nd_exc is not None:
        msg = None
        if t_exc is None or nd_exc is None or not _twin_error(nd_exc, t_exc):
            msg = f"backward: ndgrad raised {nd_exc!r}, torch raised {t_exc!r}"
        rep.result(sample_nd, "grad", where, msg)
        return
    msgs = []
    for k, (a, b) in enumerate(zip(nd_leaves, t_leaves)):
        ga, gb = a.grad, b.grad
        if (ga is None) != (gb is None):
            msgs.append(f"input {k}: grad {ga} vs torch {gb}")
            continue
        if ga is None:
            continue
        if str(ga.dtype) != str(gb.dtype) or tuple(ga.shape) != tuple(gb.shape):
            msgs.append(f"input {k}: grad {ga.dtype}{tuple(ga.shape)} vs torch {gb.dtype}{tuple(gb.shape)}")
            continue
        rtol, atol = info.tolerances(_np(gb).dtype)
        m = _compare_values(_np(ga), _np(gb), rtol * 10, atol * 10)
        if m:
            msgs.append(f"input {k}: {m}")
    rep.result(sample_nd, "grad", where, "; ".join(msgs) or None)


@pytest.mark.parametrize("info", OPS, ids=_id)
def test_against_torch(info):
    torch = pytest.importorskip("torch")
    rep = _Report(info)
    for dtype in info.dtypes:
        seed = _seed(info.name + np.dtype(dtype).name)
        nd_samples = list(info.samples(dtype, np.random.default_rng(seed)))
        t_samples = list(info.samples(dtype, np.random.default_rng(seed)))
        for s_nd, s_t in zip(nd_samples, t_samples):
            _compare_sample(info, torch, s_nd, s_t, dtype, rep)
    rep.finish()


@pytest.mark.parametrize("info", [o for o in OPS if o.errors], ids=_id)
def test_error_classes(info):
    torch = pytest.importorskip("torch")
    msgs = []
    for k, (e_nd, e_t) in enumerate(zip(info.errors(), info.errors())):
        nd_args, t_args = build(e_nd.args, ndgrad, grad=False), build(e_t.args, torch, grad=False)
        try:
            info.twin()(torch, *t_args, **e_t.kwargs)
        except Exception as e:
            t_exc = e
        else:
            msgs.append(f"error input {k}: torch did not raise (fix the table)")
            continue
        try:
            info.fn(ndgrad, *nd_args, **e_nd.kwargs)
        except Exception as e:
            if not _twin_error(e, t_exc):
                msgs.append(f"error input {k}: ndgrad raised {type(e).__name__}: {e}; torch "
                            f"{type(t_exc).__name__}: {t_exc}")
        else:
            msgs.append(f"error input {k}: ndgrad did not raise; torch raised {type(t_exc).__name__}: {t_exc}")
    reason = info.xfail.get("error")
    if msgs and reason:
        pytest.xfail(reason)
    assert not msgs, "\n".join(msgs)


# -- (c) every registered op has an entry, and the entries' claims hold ------------------------------------------
def _op_modules() -> list:
    import importlib
    import pkgutil
    return [importlib.import_module(f"ndgrad._ops.{m.name}") for m in pkgutil.iter_modules(ndgrad._ops.__path__)
            if m.name != "_registry"]


def _registered_ops() -> dict:
    """Every Op with derivative formulas in any module of ndgrad/_ops."""
    ops = {}
    for mod in _op_modules():
        for name, v in vars(mod).items():
            if isinstance(v, R.Op) and v.has_vjp:
                ops.setdefault(id(v), f"{mod.__name__.rsplit('.', 1)[-1]}.{v.name} ({v.node_cls._name})")
    return ops


def test_every_registered_op_has_an_entry():
    claimed = {id(op) for info in OPS for op in info.ops}
    missing = [desc for i, desc in _registered_ops().items() if i not in claimed]
    assert not missing, f"registered ops without an OpInfo entry: {missing}"


def test_every_public_op_has_an_entry():
    names = {info.name.split("(")[0] for info in OPS}
    missing = [n for n in ndgrad._ops.__all__ if n not in names]
    assert not missing, f"public ops without an OpInfo entry: {missing}"


def _graph_ops(tensors, seen: set) -> None:
    stack = [t.grad_fn for t in tensors if isinstance(t, ndgrad.Tensor) and t.grad_fn is not None]
    visited = set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in visited:
            continue
        visited.add(id(node))
        op = getattr(node, "_op", None)
        if op is not None:
            seen.add(id(op))
        stack.extend(fn for fn, _ in node.next_functions if fn is not None)


@pytest.mark.parametrize("info", [o for o in OPS if o.ops], ids=_id)
def test_entry_exercises_its_ops(info):
    """The ops an entry claims appear in its forward graph or in its first two backward graphs."""
    seen: set = set()
    for dtype in info.dtypes:
        if np.dtype(dtype).kind != "f":
            continue
        for sample in info.samples(dtype, np.random.default_rng(0)):
            args = build(sample.args, ndgrad)
            try:
                out = info.fn(ndgrad, *args, **sample.kwargs)
            except Exception:
                continue
            outs = [o for o in _flat_outputs(out) if isinstance(o, ndgrad.Tensor) and o.requires_grad]
            _graph_ops(outs, seen)
            leaves = _leaves(args)
            if not outs or not leaves or not info.differentiable:
                continue
            ws = [ndgrad.ones(o.shape, dtype=o.dtype, requires_grad=True) for o in outs]
            g1 = ndgrad.autograd.grad(outs, leaves, ws, create_graph=True, allow_unused=True)
            g1 = [g for g in g1 if g is not None and g.requires_grad]
            _graph_ops(g1, seen)
            if not g1 or not info.gradgrad:  # no second derivative (ctc_loss raises torch's error there)
                continue
            s = sum(((g * g.detach()).sum() for g in g1), ndgrad.zeros((), dtype=g1[0].dtype))
            g2 = ndgrad.autograd.grad(s, leaves + ws, create_graph=True, allow_unused=True)
            _graph_ops([g for g in g2 if g is not None], seen)
    ops = _registered_ops()
    unseen = [ops.get(id(op), repr(op)) for op in info.ops if id(op) not in seen]
    assert not unseen, f"{info.name} claims ops its samples never run: {unseen}"


# -- (d) type promotion --------------------------------------------------------------------------------------------
_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64",
           "complex128"]
_BINARY = {
    "add": (lambda lib, a, b: a + b, lambda lib, a, b: lib.add(a, b)),
    "sub": (lambda lib, a, b: a - b, lambda lib, a, b: lib.sub(a, b)),
    "mul": (lambda lib, a, b: a * b, lambda lib, a, b: lib.mul(a, b)),
    "div": (lambda lib, a, b: a / b, lambda lib, a, b: lib.div(a, b)),
    "eq": (lambda lib, a, b: a == b, lambda lib, a, b: lib.eq(a, b)),
    "ne": (lambda lib, a, b: a != b, lambda lib, a, b: lib.ne(a, b)),
    "lt": (lambda lib, a, b: a < b, lambda lib, a, b: lib.lt(a, b)),
    "le": (lambda lib, a, b: a <= b, lambda lib, a, b: lib.le(a, b)),
    "gt": (lambda lib, a, b: a > b, lambda lib, a, b: lib.gt(a, b)),
    "ge": (lambda lib, a, b: a >= b, lambda lib, a, b: lib.ge(a, b)),
    "maximum": (None, lambda lib, a, b: lib.maximum(a, b)),
}


def _operand(lib, kind, dtype_name, first: bool):
    if kind in ("int", "float", "bool", "complex"):
        return {"int": 2, "float": 2.5, "bool": True, "complex": 1.5 - 0.5j}[kind]
    vals = [True, False, True] if dtype_name == "bool" else ([1, 2, 3] if first else [2, 1, 3])
    arr = np.array(vals, dtype=dtype_name)
    if kind == "0d":
        arr = arr[1].copy() if first else arr[0].copy()
        arr = np.array(arr)
    return lib.from_numpy(arr)


def _promotion_cases():
    tensor_kinds = ("1d", "0d")
    for ka, kb in itertools.product(tensor_kinds, tensor_kinds):
        for da, db in itertools.product(_DTYPES, _DTYPES):
            yield (ka, da), (kb, db)
    for kt in tensor_kinds:
        for d in _DTYPES:
            for ks in ("int", "float", "bool", "complex"):
                yield (kt, d), (ks, None)
                yield (ks, None), (kt, d)


@pytest.mark.parametrize("op", list(_BINARY), ids=str)
def test_type_promotion_grid(op):
    torch = pytest.importorskip("torch")
    forms = [f for f in _BINARY[op] if f is not None]
    bad = []
    n = 0
    for (ka, da), (kb, db) in _promotion_cases():
        for form in forms:
            a_t, b_t = _operand(torch, ka, da, True), _operand(torch, kb, db, False)
            a_n, b_n = _operand(ndgrad, ka, da, True), _operand(ndgrad, kb, db, False)
            case = f"{op} {ka}:{da} {kb}:{db} ({'operator' if form is _BINARY[op][0] else 'function'})"
            try:
                rt = form(torch, a_t, b_t)
            except Exception as e:
                if "ComplexHalf" in str(e):
                    continue  # complex32 has no NumPy twin: ndgrad computes in complex64 (documented)
                try:
                    form(ndgrad, a_n, b_n)
                except Exception as e2:
                    if not isinstance(e2, type(e)):
                        bad.append(f"{case}: ndgrad raised {type(e2).__name__}, torch {type(e).__name__}")
                else:
                    bad.append(f"{case}: torch raised {type(e).__name__}: {e}; ndgrad did not")
                continue
            n += 1
            try:
                rn = form(ndgrad, a_n, b_n)
            except Exception as e:
                bad.append(f"{case}: ndgrad raised {type(e).__name__}: {e}")
                continue
            want = str(rt.dtype)
            if want == "torch.complex32":
                want = "torch.complex64"  # NumPy has no complex32: ndgrad's deliberate, documented difference
            if str(rn.dtype) != want:
                bad.append(f"{case}: {rn.dtype} != torch {rt.dtype}")
            elif tuple(rn.shape) != tuple(rt.shape):
                bad.append(f"{case}: shape {tuple(rn.shape)} != torch {tuple(rt.shape)}")
            else:
                m = _compare_values(rn._data, (rt.to(torch.complex64) if want != str(rt.dtype) else rt).numpy(),
                                    1e-3, 1e-3)
                if m:
                    bad.append(f"{case}: values differ: {m}")
    assert n > 100
    assert not bad, f"{len(bad)} mismatches:\n" + "\n".join(bad[:60])


def test_mm_takes_matmuls_bits_for_every_layout():
    """mm's np.dot path (contiguous real matrices) gives what `@` gives, bit for bit, forward and backward, for
    C- and F-ordered, broadcast and strided operands."""
    rng = np.random.default_rng(7)
    for trial in range(400):
        m, k, n = (int(v) for v in rng.integers(1, 70, 3))
        m, k = max(m, 2), max(k, 2)  # (a first dimension of 1 takes torch's row order: _row_mm)
        dt = (np.float32, np.float64)[trial % 2]
        a = rng.standard_normal((m, k)).astype(dt)
        b = rng.standard_normal((k, n)).astype(dt)
        ta, tb = ndgrad.tensor(a, requires_grad=True), ndgrad.tensor(b, requires_grad=True)
        va, vb = ta, tb
        if trial % 3 == 1:
            va = ta.t().contiguous().t()  # F-ordered
        if trial % 5 == 2:
            vb = tb.t().contiguous().t()
        if trial % 7 == 3:
            vb = tb[:1].expand(k, n)  # a zero stride
        if trial % 4 == 3:
            va = ta.repeat_interleave(2, 1)[:, ::2]  # neither C- nor F-contiguous
        r = ndgrad.mm(va, vb)
        assert np.array_equal(r.detach().numpy(), va._data @ vb._data)
        g = np.cos(r.detach().numpy())
        r.backward(ndgrad.tensor(g))
        ga = g @ vb._data.T
        gb = va._data.T @ g
        if trial % 4 == 3:
            ga = ga.reshape(m, k, 1).repeat(2, 2).reshape(m, 2 * k)[:, ::2] * 1  # (the strided view's gradient)
        if trial % 7 == 3:
            gb = gb.sum(0, keepdims=True) * np.eye(1, k, dtype=dt).T
        assert np.array_equal(ta.grad.numpy(), ga) and np.array_equal(tb.grad.numpy(), gb)
