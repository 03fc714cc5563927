"""ndgrad.compile: traced once, replayed as generated NumPy code, bitwise identical to eager mode.

Each family trains two copies of one model for several steps, one eager and one compiled, and requires the
outputs, gradients, parameters and buffers to be equal bit for bit, and the compiled outputs to hang on one
CompiledFunctionBackward node (proof that the generated code ran, not an eager fallback)."""
from __future__ import annotations

import copy
import re
import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad import nn
from ndgrad._compile import Unsupported

F = nn.functional


class _LSTMHead(nn.Module):
    def __init__(self, cell: type) -> None:
        super().__init__()
        self.rnn = cell(6, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class _EmbedNorm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.norm = nn.LayerNorm(8)
        self.out = nn.Linear(8, 3)

    def forward(self, idx):
        return self.out(self.norm(self.emb(idx)).mean(1))


FAMILIES = {
    "mlp+dropout": (lambda: nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3)), (8, 6)),
    "batchnorm1d+gelu": (lambda: nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.GELU(), nn.Linear(16, 3)),
                         (8, 6)),
    "cnn": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                  nn.Linear(4 * 4 * 4, 3)), (5, 1, 8, 8)),
    "cnn+batchnorm2d+avgpool": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.SiLU(),
                                                      nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)),
                                (5, 1, 8, 8)),
    "lstm": (lambda: _LSTMHead(nn.LSTM), (4, 5, 6)),
    "gru": (lambda: _LSTMHead(nn.GRU), (4, 5, 6)),
    "embedding+layernorm": (_EmbedNorm, None),
}
OPTIMIZERS = {"sgd": lambda p: ndgrad.optim.SGD(p, lr=0.1, momentum=0.9), "adam": lambda p: ndgrad.optim.Adam(p, 1e-2)}


def _same(a, b) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a.detach().numpy(), b.detach().numpy(), equal_nan=True))


@pytest.mark.parametrize("opt", OPTIMIZERS)
@pytest.mark.parametrize("family", FAMILIES)
def test_compiled_training_is_bitwise_eager(family, opt):
    make, shape = FAMILIES[family]
    ndgrad.manual_seed(0)
    eager = make()
    twin = copy.deepcopy(eager)
    compiled = ndgrad.compile(twin)
    o1, o2 = OPTIMIZERS[opt](eager.parameters()), OPTIMIZERS[opt](twin.parameters())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager mode would warn
        for step in range(4):
            ndgrad.manual_seed(step)
            x = ndgrad.randint(0, 10, (4, 5)) if shape is None else ndgrad.randn(*shape)
            ndgrad.manual_seed(100 + step)
            y1 = eager(x)
            ndgrad.manual_seed(100 + step)  # dropout draws the same numbers in both
            y2 = compiled(x)
            # the second call runs both ways to check the generated code (and returns eager's result)
            assert type(y2.grad_fn).__name__ == ("AddmmBackward0" if step == 1 else "CompiledFunctionBackward")
            assert _same(y1, y2)
            for m, y, o in ((eager, y1, o1), (twin, y2, o2)):
                o.zero_grad()
                F.cross_entropy(y, ndgrad.arange(y.shape[0]) % 3).backward()
            for (name, a), b in zip(eager.named_parameters(), twin.parameters()):
                assert _same(a.grad, b.grad), (step, name)
            o1.step()
            o2.step()
            for a, b in zip(eager.state_dict().values(), twin.state_dict().values()):
                assert _same(a, b)
    assert "def forward(" in compiled.code and "def backward(" in compiled.code


def _micrograd(seed=0):
    rng = np.random.default_rng(seed)
    return [(ndgrad.tensor(rng.standard_normal((16, 16)).astype(np.float32) / 4, requires_grad=True),
             ndgrad.zeros(16, requires_grad=True)) for _ in range(4)]


def test_a_function_with_captured_parameters_compiles_and_shows_its_code():
    params = _micrograd()

    def loss_fn(x, y):
        h = x
        for w, b in params:
            h = ndgrad.tanh(F.linear(h, w, b))
        return F.mse_loss(h, y)
    compiled = ndgrad.compile(loss_fn)
    x, y = ndgrad.randn(8, 16), ndgrad.randn(8, 16)
    for _ in range(3):
        loss = compiled(x, y)
        loss.backward()
        got = [p.grad.clone() for pair in params for p in pair]
        for pair in params:
            for p in pair:
                p.grad = None
        loss_fn(x, y).backward()
        want = [p.grad.clone() for pair in params for p in pair]
        for pair in params:
            for p in pair:
                p.grad = None
        assert all(_same(a, b) for a, b in zip(got, want))
    code = compiled.code
    assert "np.matmul" in code and "np.tanh" in code
    assert code.count("np.matmul(") == 4 + 7  # one per layer forward, two per layer backward but the input's


def test_decorator_forms_and_module_compile_in_place():
    @ndgrad.compile
    def f(x):
        return (x * 2).sin()

    @ndgrad.compile(fullgraph=True)
    def g(x):
        return x.exp() + 1
    x = ndgrad.randn(3)
    assert _same(f(x), (x * 2).sin()) and _same(f(x), (x * 2).sin())
    assert _same(g(x), x.exp() + 1) and "np.exp" in g.code
    m = nn.Linear(3, 2)
    ref = m(x)
    m.compile()
    out = m(x)
    m(x)  # the second call checks the generated code against eager mode
    assert _same(out, ref) and type(m(x).grad_fn).__name__ == "CompiledFunctionBackward"


def test_optimized_module_wraps_the_original_like_torch():
    m = nn.Linear(3, 2)
    om = ndgrad.compile(m)
    assert type(om).__name__ == "OptimizedModule" and om._orig_mod is m
    assert list(om.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]
    assert om.in_features == 3  # attributes reach the original module
    om.eval()
    assert not m.training


def test_a_python_value_taken_from_a_tensor_becomes_a_guard():
    def f(x):
        if x.sum() > 0:  # data-dependent control flow: the decision is checked at every replay
            return x * 2
        return x * 3
    cf = ndgrad.compile(f)
    pos, neg = ndgrad.ones(3), -ndgrad.ones(3)
    for x in (pos, pos, pos, neg, pos, neg):
        assert _same(cf(x), f(x))
    assert "_guard(" in cf.code


def test_fallback_warns_once_and_fullgraph_raises():
    def f(x):
        y = x * 2
        y.register_hook(lambda g: g * 0)  # hooks are not captured
        return y
    x = ndgrad.randn(3, requires_grad=True)
    cf = ndgrad.compile(f)
    with pytest.warns(UserWarning, match="eagerly"):
        out = cf(x)
    out.sum().backward()
    assert _same(x.grad, ndgrad.zeros(3))  # the hook ran: eager mode
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cf(x)  # no second warning
    with pytest.raises(Unsupported):
        ndgrad.compile(f, fullgraph=True)(x)


def test_recompiles_past_torch_limit_run_eagerly():
    cf = ndgrad.compile(lambda x: x + 1)
    with pytest.warns(UserWarning, match="recompile_limit"):
        for n in range(1, 11):
            assert _same(cf(ndgrad.ones(n)), ndgrad.ones(n) + 1)
    assert len(cf.cache) == 8


def test_double_backward_through_a_compiled_region_is_refused_as_in_torch():
    cf = ndgrad.compile(lambda x: (x ** 3).sum())
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    y = cf(x)
    with pytest.raises(RuntimeError, match="does not currently support double backward"):
        ndgrad.autograd.grad(y, x, create_graph=True)


def test_second_backward_without_retain_graph_is_refused():
    cf = ndgrad.compile(lambda x: (x * x).sum())
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    y = cf(x)
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_inputs_from_an_earlier_graph_receive_their_gradient():
    w = ndgrad.randn(3, requires_grad=True)
    cf = ndgrad.compile(lambda h: (h.tanh() * 2).sum())
    for _ in range(3):
        w.grad = None
        cf(w * 3).backward()
        got = w.grad.clone()
        w.grad = None
        ((w * 3).tanh() * 2).sum().backward()
        assert _same(got, w.grad)


def test_in_place_update_of_an_input_is_replayed():
    def f(x, buf):
        buf.mul_(0.5).add_(x)  # like a running statistic
        return x * buf
    cf = ndgrad.compile(f)
    b1, b2 = ndgrad.zeros(3), ndgrad.zeros(3)
    for k in range(4):
        x = ndgrad.full((3,), float(k + 1))
        assert _same(cf(x, b1), f(x, b2))
        assert _same(b1, b2)
    assert b1._version == b2._version


def test_a_captured_tensor_that_requires_grad_is_not_lost():
    holder = type("Holder", (), {})()
    holder.w = ndgrad.randn(3, requires_grad=True)  # reached through an attribute: not an input the tracer sees

    def f(x):
        return (x * holder.w).sum()
    cf = ndgrad.compile(f)
    with pytest.warns(UserWarning, match="eagerly"):
        cf(ndgrad.ones(3)).backward()
    assert holder.w.grad is not None  # eager mode: the gradient still arrives


def test_argument_validation_is_torch_s():
    with pytest.raises(RuntimeError, match="Invalid backend"):
        ndgrad.compile(lambda x: x, backend="nope")
    with pytest.raises(RuntimeError, match="Either mode or options"):
        ndgrad.compile(lambda x: x, mode="default", options={})
    with pytest.raises(AssertionError, match="A callable function is expected, but <class 'int'> is provided"):
        ndgrad.compile(3)
    with pytest.raises(AssertionError, match="Expected enable to be a bool"):
        ndgrad.compile(lambda x: x, dynamic="yes")
    with pytest.raises(ndgrad._compile.BackendCompilerFailed, match="'int' object is not callable"):
        ndgrad.compile(lambda x: x, backend=1)
    ndgrad.compile(lambda x: x, backend="eager", mode="bogus")   # the mode is the inductor's: torch checks it there
    with pytest.raises(RuntimeError, match="Model can't be None"):
        ndgrad.compile(None)(None)


# -- every family and optimizer of tests/test_training.py, compiled against eager -------------------------------------
from test_training import OPTIMIZERS as TRAIN_OPTIMIZERS  # noqa: E402
from test_training import _data, _models  # noqa: E402


@pytest.mark.parametrize("opt_name", list(TRAIN_OPTIMIZERS))
@pytest.mark.parametrize("name", list(_models(ndgrad)))
def test_training_families_compiled_are_bitwise_eager(name, opt_name):
    ndgrad.manual_seed(0)
    eager = _models(ndgrad)[name][0]().double()
    twin = copy.deepcopy(eager)
    compiled = ndgrad.compile(twin)
    x, y = _data(name, _models(ndgrad)[name][1])
    xt = ndgrad.tensor(x) if x.dtype.kind == "i" else ndgrad.tensor(x, dtype=ndgrad.float64)
    yt = ndgrad.tensor(y)
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback to eager mode would warn
        for model, call in ((eager, eager), (twin, compiled)):
            opt = getattr(ndgrad.optim, opt_name)(model.parameters(), **TRAIN_OPTIMIZERS[opt_name])
            sched = ndgrad.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
            losses, kinds = [], []
            model.train()
            for _ in range(6):
                opt.zero_grad()
                out = call(xt)
                kinds.append(type(out.grad_fn).__name__)
                loss = F.cross_entropy(out, yt, label_smoothing=0.1)
                loss.backward()
                opt.step()
                sched.step()
                losses.append(loss.item())
            model.eval()
            with ndgrad.no_grad():
                final = call(xt)
            runs.append((losses, final, [v.clone() for v in model.state_dict().values()], kinds))
    (la, oa, sa, _), (lb, ob, sb, kinds) = runs
    assert kinds.count("CompiledFunctionBackward") == 5  # all but the checking second call
    assert la == lb
    assert _same(oa, ob)
    assert all(_same(a, b) for a, b in zip(sa, sb))


# -- values the generated code depends on beyond the guard key ---------------------------------------------------
SCALE = 2.0


def test_a_changed_global_closure_or_module_option_traces_again():
    global SCALE
    k = {"v": 1.0}

    class Cfg:
        shift = 0.5
    cfg = Cfg()

    def f(x):
        return (x * SCALE).sin() + cfg.shift
    cf = ndgrad.compile(f)
    x = ndgrad.randn(3)
    try:
        for scale, shift in ((2.0, 0.5), (2.0, 0.5), (3.0, 0.5), (3.0, -1.0)):
            SCALE, cfg.shift = scale, shift
            assert _same(cf(x), f(x))
    finally:
        SCALE = 2.0
    m = nn.Sequential(nn.LeakyReLU(0.1), nn.Dropout(0.0))
    cm = ndgrad.compile(m)
    x = -ndgrad.ones(3)
    cm(x), cm(x)
    m[0].negative_slope = 0.5
    assert _same(cm(x), m(x))
    m[1].p = 1.0
    assert _same(cm(x), m(x)) and k


def test_shapes_that_depend_on_the_data_are_guarded():
    def f(x):
        y = x[x > 0]
        return y.sum() * y.shape[0], y * 2
    cf = ndgrad.compile(f)
    for data in ([1., -1., 2.], [1., -1., 2.], [1., 1., 2.], [-1., -1., 2.], [3., -1., 2.]):
        x = ndgrad.tensor(data)
        got, want = cf(x), f(x)
        assert _same(got[0], want[0]) and _same(got[1], want[1])


def test_writes_into_real_and_imaginary_parts_are_replayed():
    f = ndgrad.compile(lambda z: ndgrad.fft.irfft(z * 2))
    for _ in range(3):
        z = ndgrad.randn(5, dtype=ndgrad.complex128)
        assert _same(f(z), ndgrad.fft.irfft(z * 2))


def test_dying_temporaries_take_results_but_never_a_viewed_array():
    def f(x):
        y = x * 2          # a temporary...
        v = y.t()          # ...with a view that outlives it
        w = (y + 1).exp()  # y dies here: it may not take exp's result
        h = (x - 1).tanh().sin()  # the tanh's temporary may take sin's
        return v, w, h
    cf = ndgrad.compile(f)
    for _ in range(3):
        x = ndgrad.randn(64, 256)
        got, want = cf(x), f(x)
        assert all(_same(a, b) for a, b in zip(got, want))
    assert "out=(" in cf.code  # the sin wrote into the tanh's buffer
    small = ndgrad.compile(lambda x: (x - 1).tanh().sin())
    small(ndgrad.randn(3)), small(ndgrad.randn(3))
    assert "out=(" not in small.code  # (tiny arrays: an allocation costs less than passing out=)


def test_the_default_dtype_is_part_of_the_key():
    g = ndgrad.compile(lambda x: x * 2 + ndgrad.ones(3))
    xi = ndgrad.ones(3, dtype=ndgrad.int64)
    g(xi), g(xi)
    try:
        ndgrad.set_default_dtype(ndgrad.float64)
        assert g(xi).dtype == (xi * 2 + ndgrad.ones(3)).dtype == ndgrad.float64
    finally:
        ndgrad.set_default_dtype(ndgrad.float32)


def _linear_trained(steps: int):
    """A compiled Linear(3, 2) after `steps` backward passes (traced, verified, replayed)."""
    m = nn.Linear(3, 2)
    cm = ndgrad.compile(m)
    x = ndgrad.ones(4, 3)
    for _ in range(steps):
        cm(x).sum().backward()
    return m, cm, x


def test_parameters_flags_and_swapped_data_are_guarded():
    m, cm, x = _linear_trained(3)
    m.zero_grad(set_to_none=True)
    m.weight.requires_grad_(False)  # a frozen weight gets no gradient, as in eager mode
    for _ in range(3):
        cm(x).sum().backward()
        assert m.weight.grad is None and m.bias.grad is not None
    m.weight.data = ndgrad.ones(2, 3)  # same shape, new array: replayed with the new values
    assert _same(cm(x), m(x))
    m.weight.data = ndgrad.ones(2, 5)  # a new shape: traced again, with eager mode's answer
    x5 = ndgrad.ones(4, 5)
    assert _same(cm(x5), m(x5))
    m.bias.data = ndgrad.zeros(4)
    with pytest.raises(RuntimeError, match="expanded size"):
        cm(x5)


def test_backward_of_a_compiled_region_steals_or_copies_the_gradients_as_eager():
    # the generated backward's gradients are fresh: .grad takes them over; a second backward adds in place
    m, cm, x = _linear_trained(2)
    g = m.weight.grad
    cm(x).sum().backward()
    assert m.weight.grad is g and _same(g, ndgrad.full((2, 3), 12.0))
    grads = []
    m.weight.register_hook(lambda t: grads.append(t))
    m.zero_grad(set_to_none=True)
    cm(x).sum().backward()  # (a hooked leaf: through the queue)
    assert len(grads) == 1 and _same(m.weight.grad, grads[0])


def test_transpose_chains_that_undo_themselves_and_repeated_calls_become_names():
    def f(x, w):
        u = x @ w.t()
        y = u.t().t()             # the root array itself
        d1, d2 = u - 1.0, u - 1.0  # one call
        z = y.t().contiguous()
        z.add_(1.0)               # an in-place write through a name that is no alias
        return y * d1 + d2.sum(), z
    cf = ndgrad.compile(f)
    for _ in range(3):
        x, w = ndgrad.randn(4, 3, requires_grad=True), ndgrad.randn(5, 3, requires_grad=True)
        got, want = cf(x, w), f(x, w)
        assert _same(got[0], want[0]) and _same(got[1], want[1])
        (got[0].sum() + got[1].sum()).backward()
        gx, gw = x.grad, w.grad
        x.grad = w.grad = None
        (want[0].sum() + want[1].sum()).backward()
        assert _same(gx, x.grad) and _same(gw, w.grad)
    fwd = cf.code.split("def backward")[0]
    assert fwd.count("np.subtract(") == 1 and ".swapaxes(" not in fwd


@pytest.mark.parametrize("dtype", [ndgrad.float16, ndgrad.float32, ndgrad.float64])
def test_lowered_calls_compute_eager_s_bits(dtype):
    # means, sums and numbers beside arrays become cheaper NumPy calls in the generated code (_compile._lower):
    # the same bits as eager mode, for every floating dtype, on values that round differently in each
    def f(x, w):
        h = 1 - x * 0.1 + 1e-3 / (w + 3)
        h = ndgrad.maximum(h, ndgrad.tensor(0.25, dtype=dtype)) ** 3 - 2.5
        return (h.mean() + h.mean(0).sum() * 0.7 + (h * w).sum(1, keepdim=True).mean(), h.sum((0, 1)) - 1e30)
    cf = ndgrad.compile(f)
    gen = np.random.default_rng(3)
    for step in range(4):
        x = ndgrad.tensor(gen.standard_normal((7, 5)) * 3, dtype=dtype, requires_grad=True)
        w = ndgrad.tensor(gen.standard_normal((7, 5)), dtype=dtype, requires_grad=True)
        got, want = cf(x, w), f(x, w)
        assert all(_same(a, b) for a, b in zip(got, want))
        assert cf.eager_reason is None  # (the generated code reproduced the trace on the checking call)
        assert step < 2 or type(got[0].grad_fn).__name__ == "CompiledFunctionBackward"
        got[0].backward()
        gx, gw = x.grad, w.grad
        x.grad = w.grad = None
        want[0].backward()
        assert _same(gx, x.grad) and _same(gw, w.grad)
    code = cf.code
    assert "np.mean" not in code if dtype != ndgrad.float16 else "np.mean" in code
    assert "np.add.reduce" in code and ".sum(" not in code
    # numbers beside arrays became constants of the array's dtype, which the listing names
    assert not re.search(r"np\.(add|subtract|multiply|divide|power|maximum)\([^)]*[(, ][-0-9.]+[,)]", code)
    assert re.search(rf"c\d+ = np\.{str(dtype).split('.')[-1]}\(35\.0\)", code)  # (the count of a mean's backward)


def _four_calls_as_eager(fn, make, check=lambda x0, grad: True):
    """fn compiled and eager on four new inputs: the same values and gradients bit for bit, one trace, and the
    compiled node behind every call but the second (which checks the generated code against eager mode and
    returns eager's results)."""
    cf = ndgrad.compile(fn)
    for seed in range(4):
        x0 = make(ndgrad.Generator().manual_seed(seed))
        x1 = x0.clone().requires_grad_(True)
        x2 = x0.clone().requires_grad_(True)
        y1, y2 = cf(x1), fn(x2)
        y1.backward()
        y2.backward()
        assert _same(y1, y2) and _same(x1.grad, x2.grad) and check(x0, x1.grad)
        if seed != 1:
            assert type(y1.grad_fn).__name__ == "CompiledFunctionBackward"
    assert len(cf.cache) == 1
    return cf


def test_erf_kernel_is_one_call_whose_inner_gather_does_not_guard_the_data():
    # GELU's float32 erf gathers the elements at or above 0.75 (a size that depends on the values): the tracer
    # records the kernel as one call, so new values replay the same code instead of failing a shape guard
    cf = _four_calls_as_eager(lambda x: F.gelu(x).sum(), lambda g: ndgrad.randn(64, generator=g) * 2)
    # the backward's Phi(x) finds the forward's erf call (same function, same argument): erf runs once
    assert cf.code.count("= f") == 1 and "ndgrad._ops.special._erf_low_precision" in cf.code
    assert "flatnonzero" not in cf.code and "_guard_shape" not in cf.code


class _Recomputes(ndgrad.autograd.Function):
    """A backward that computes forward values again, around in-place writes that make some of them stale."""

    @staticmethod
    def forward(ctx, x):
        c = x.cos()
        c.mul_(2)           # the forward's cos(x) is 2 cos(x) from here on
        d = (x * 2) * 3     # x * 2 dies here (the trace does not keep it)
        ctx.save_for_backward(x, c, d)  # (c and d live on: a backward call that matched theirs could take them)
        return x.sin() + c + d

    @staticmethod
    def backward(ctx, g):
        x, c, d = ctx.saved_tensors
        b = x * 2           # equal to the forward's x * 2 ...
        b.add_(1)           # ... until this write
        keep = g * (c * 0) + g * (d * 0)  # (reads c and d: the trace holds them for the first call)
        return g * (x.cos() - 2 * x.sin()) + g * (b * 3) + 3 * g - g * (x * 6) + keep  # (b * 3 = 6x + 3)


def test_backward_reuses_forward_results_only_while_nothing_wrote_them():
    cf = _four_calls_as_eager(lambda x: _Recomputes.apply(x).sum(),
                              lambda g: ndgrad.randn(5, generator=g, dtype=ndgrad.float64),
                              lambda x0, grad: np.allclose(grad.numpy(), (x0.cos() - 2 * x0.sin() + 6).numpy()))
    bwd = cf.code.split("def backward")[1]
    assert "np.cos(" in bwd  # computed again: the forward's was written into


def test_a_write_forgets_the_calls_and_equalities_whose_memory_it_touches():
    from ndgrad._compile import _forget_written
    bounds = {"w": (104, 112), "v5": (300, 308), "v3": (400, 408), "v6": (500, 508), "v7": (600, 608),
              "e": (700, 700)}
    seen = {"k1": ("v1", "fwd", [(0, 8), (100, 108)]), "k2": ("v2", "fwd", [(200, 208)])}
    same = {"v5": "v3", "v6": "v7"}
    _forget_written(seen, same, {"w", "e", "scalar"}, bounds)
    assert list(seen) == ["k2"] and same == {"v5": "v3", "v6": "v7"}
    _forget_written(seen, same, {"v3"}, bounds)  # the array an equality points at was written
    assert same == {"v6": "v7"}
    _forget_written(seen, same, {"v6"}, bounds)  # the array said to be equal was written
    assert same == {} and list(seen) == ["k2"]
    _forget_written(seen, same, {"x"}, {"x": (207, 300)})
    assert seen == {}


def test_compiled_gradients_become_grad_as_they_are_only_when_no_one_else_holds_them():
    w = ndgrad.randn(3, 3, requires_grad=True)
    b = ndgrad.randn(3, requires_grad=True)
    x = ndgrad.randn(4, 3)
    cf = ndgrad.compile(lambda x: (x @ w + b).sum())
    for _ in range(3):
        w.grad = b.grad = None
        cf(x).backward()
    assert cf.last.fresh == (True, True)  # a matmul's and a reduction's new arrays: taken over by the engine
    np.testing.assert_allclose(w.grad.numpy(), np.broadcast_to(x.numpy().sum(0)[:, None], (3, 3)), rtol=1e-6)
    # one new array, the gradient of both leaves: each leaf gets its own
    a = ndgrad.randn(3, requires_grad=True)
    c = ndgrad.randn(3, requires_grad=True)
    cg = ndgrad.compile(lambda a, c: ((a + c) * 2).sum())
    for _ in range(3):
        a.grad = c.grad = None
        y = cg(a, c)
        assert type(y.grad_fn).__name__ == "CompiledFunctionBackward" or _ == 1
        y.backward()
    assert not cg.last.fresh or not any(cg.last.fresh)
    assert not np.shares_memory(a.grad.numpy(), c.grad.numpy())
    a.grad.mul_(0)
    assert c.grad.tolist() == [2.0, 2.0, 2.0]
