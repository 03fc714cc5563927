"""nn.Module, Parameter, containers, Flatten/Unflatten/Identity and nn.utils, compared with torch.

The same module classes are built in both libraries by `_zoo(lib)` (plain `lib.nn.Module` subclasses), so
names, orders, reprs, hooks and errors are compared from identical code and identical weights.
"""
from __future__ import annotations

import copy
import pickle
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ndgrad
from ndgrad import nn
from torchcmp import outcome, raises_like_torch

RNG = np.random.default_rng(0)


def _zoo(lib):
    """Module classes written once against `lib` (ndgrad or torch)."""
    tnn = lib.nn

    class Linear(tnn.Module):  # mimics torch.nn.Linear's parameters and repr
        def __init__(self, i, o, bias=True, seed=0):
            super().__init__()
            self.in_features, self.out_features = i, o
            r = np.random.default_rng(seed)
            self.weight = tnn.Parameter(lib.tensor(r.standard_normal((o, i)).astype(np.float32)))
            if bias:
                self.bias = tnn.Parameter(lib.tensor(r.standard_normal(o).astype(np.float32)))
            else:
                self.register_parameter("bias", None)

        def forward(self, x):
            y = x @ self.weight.T
            return y if self.bias is None else y + self.bias

        def extra_repr(self):
            return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    class Norm(tnn.Module):  # buffers: persistent float, non-persistent, integer
        def __init__(self, n):
            super().__init__()
            self.scale = tnn.Parameter(lib.ones(n))
            self.register_buffer("running_mean", lib.zeros(n))
            self.register_buffer("num_batches_tracked", lib.tensor(0))
            self.register_buffer("scratch", lib.ones(2), persistent=False)

        def forward(self, x):
            return (x - self.running_mean) * self.scale

    class ReLU(tnn.Module):
        def forward(self, x):
            return x.relu()

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = Linear(3, 4, seed=1)
            self.norm = Norm(4)
            self.act = ReLU()
            self.block = tnn.Sequential(Linear(4, 4, seed=2), ReLU())
            self.fc2 = Linear(4, 2, bias=False, seed=3)
            self.alias = self.fc1  # shared submodule

        def forward(self, x):
            return self.fc2(self.block(self.act(self.norm(self.fc1(x)))))

    class Multi(tnn.Module):
        def extra_repr(self):
            return "first line\nsecond line"

    return Linear, Norm, ReLU, Net, Multi


def _np(t):
    return t.detach().numpy()


# -- Parameter -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Parameter(),
    lambda lib: lib.nn.Parameter(lib.tensor([1.0, 2.5])),
    lambda lib: lib.nn.Parameter(lib.ones(2, 3, dtype=lib.float64)),
    lambda lib: lib.nn.Parameter(lib.tensor([1, 2]), requires_grad=False),
    lambda lib: lib.nn.Parameter(lib.zeros(2), requires_grad=False),
])
def test_parameter_repr(torch, make):
    assert repr(make(ndgrad)) == repr(make(torch))
    assert str(make(ndgrad)) == str(make(torch))


def test_parameter_semantics(torch):
    for lib in (ndgrad, torch):
        t = lib.ones(2)
        p = lib.nn.Parameter(t)
        assert isinstance(p, lib.Tensor) and isinstance(p, lib.nn.Parameter)
        assert p.is_leaf and p.requires_grad and p.grad_fn is None
        t.add_(1)  # shares memory and version counter with the wrapped tensor
        assert p.tolist() == [2.0, 2.0] and p._version == 1
        for r in (p * 2, p.detach(), p.clone(), p[0], p.data, p + p):
            assert type(r) is lib.Tensor
        assert type(copy.deepcopy(p)) is lib.nn.Parameter
        q = pickle.loads(pickle.dumps(p))
        assert type(q) is lib.nn.Parameter and q.requires_grad and q.tolist() == [2.0, 2.0]
        (p * p).sum().backward()
        assert p.grad.tolist() == [4.0, 4.0]
    raises_like_torch(lambda lib: lib.nn.Parameter(lib.tensor([1, 2])), torch, RuntimeError)
    raises_like_torch(lambda lib: lib.nn.Parameter([1.0, 2.0]), torch, AttributeError)
    for lib in (ndgrad, torch):  # a non-leaf is detached into a fresh leaf parameter
        p = lib.nn.Parameter(lib.ones(2, requires_grad=True) * 3)
        assert p.is_leaf and p.requires_grad and p.tolist() == [3.0, 3.0]


def test_buffer(torch):
    def build(lib):
        m = lib.nn.Module()
        m.b = lib.nn.Buffer(lib.ones(2), persistent=False)
        m.c = lib.nn.Buffer(lib.zeros(1))
        return type(m.b) is lib.Tensor, list(m.state_dict()), [n for n, _ in m.named_buffers()]
    assert build(ndgrad) == build(torch)


# -- registration and traversal --------------------------------------------------------------------------------
def _names(lib):
    net = _zoo(lib)[3]()
    return {
        "params": [n for n, _ in net.named_parameters()],
        "params_dup": [n for n, _ in net.named_parameters(remove_duplicate=False)],
        "params_prefix": [n for n, _ in net.named_parameters(prefix="model")],
        "params_local": [n for n, _ in net.fc1.named_parameters(recurse=False)],
        "buffers": [n for n, _ in net.named_buffers()],
        "modules": [n for n, _ in net.named_modules()],
        "modules_dup": [n for n, _ in net.named_modules(remove_duplicate=False)],
        "children": [n for n, _ in net.named_children()],
        "n_children": len(list(net.children())),
        "n_modules": len(list(net.modules())),
        "n_params": len(list(net.parameters())),
        "n_local": len(list(net.parameters(recurse=False))),
        "n_buffers": len(list(net.buffers())),
        "state_dict": list(net.state_dict()),
        "dir": [k for k in dir(net) if k in ("fc1", "alias", "scale", "weight", "training", "forward")],
    }


def test_names_and_orders(torch):
    assert _names(ndgrad) == _names(torch)


def test_attribute_routing(torch):
    def run(lib):
        Linear = _zoo(lib)[0]
        m = Linear(2, 3)
        out = []
        m.extra = lib.nn.Parameter(lib.ones(1))          # new parameter
        m.child = Linear(1, 1)                           # new child
        m.plain = 3                                      # plain attribute
        m.register_buffer("buf", lib.ones(1))
        m.buf = lib.zeros(2)                             # tensor to a buffer name stays a buffer
        m.bias = None                                    # None to a parameter name keeps the slot
        out.append(([n for n, _ in m.named_parameters()], list(m.state_dict()), list(m._buffers), m.bias))
        m.plain = Linear(1, 1)                           # a module replaces a plain attribute
        m.child = None
        del m.extra
        del m.buf
        out.append(([n for n, _ in m.named_parameters()], list(m._modules), list(m._buffers), "plain" in m.__dict__))
        m.child = lib.nn.Parameter(lib.ones(1))          # a parameter replaces a module slot
        out.append((list(m._parameters), list(m._modules)))
        return out
    assert run(ndgrad) == run(torch)


@pytest.mark.parametrize("case", [
    lambda lib, m: setattr(m, "weight", lib.ones(2)),
    lambda lib, m: setattr(m, "weight", 3),
    lambda lib, m: setattr(m, "sub", lib.ones(1)),
    lambda lib, m: setattr(m, "running_mean", 3),
    lambda lib, m: m.register_parameter(1, None),
    lambda lib, m: m.register_parameter("a.b", None),
    lambda lib, m: m.register_parameter("", None),
    lambda lib, m: m.register_parameter("sub", None),
    lambda lib, m: m.register_parameter("x", lib.ones(1)),
    lambda lib, m: m.register_parameter("y", lib.ones(1, requires_grad=True) * 2),
    lambda lib, m: m.register_buffer(1, None),
    lambda lib, m: m.register_buffer("a.b", None),
    lambda lib, m: m.register_buffer("", None),
    lambda lib, m: m.register_buffer("sub", None),
    lambda lib, m: m.register_buffer("x", 3),
    lambda lib, m: m.add_module(1, None),
    lambda lib, m: m.add_module("a.b", None),
    lambda lib, m: m.add_module("", None),
    lambda lib, m: m.add_module("weight", None),
    lambda lib, m: m.add_module("x", 3),
    lambda lib, m: m.nope,
    lambda lib, m: m.train(1),
    lambda lib, m: m.get_submodule("sub.weight"),
    lambda lib, m: m.get_submodule("nope"),
    lambda lib, m: m.get_submodule("sub.nope"),
    lambda lib, m: m.get_parameter("sub.nope"),
    lambda lib, m: m.get_parameter("sub"),
    lambda lib, m: m.get_buffer("weight"),
    lambda lib, m: m.to(lib.int64),
    lambda lib, m: m.load_state_dict([1]),
    lambda lib, m: lib.nn.Module()(1),
    lambda lib, m: lib.nn.Module(3),
    lambda lib, m: lib.nn.Module(a=3),
])
def test_registration_errors(torch, case):
    def f(lib):
        Linear = _zoo(lib)[0]
        m = Linear(2, 2)
        m.sub = Linear(1, 1)
        m.register_buffer("running_mean", lib.zeros(1))
        case(lib, m)
    want = outcome(f, torch)
    assert want is not None
    assert outcome(f, ndgrad) == want


def test_assign_before_init(torch):
    def make(kind):
        def f(lib):
            class Bad(lib.nn.Module):
                def __init__(self):
                    if kind == 0:
                        self.w = lib.nn.Parameter(lib.ones(1))
                    elif kind == 1:
                        self.m = lib.nn.Module()
                    else:
                        self.register_buffer("b", None)
            Bad()
        return f
    for k in range(3):
        raises_like_torch(make(k), torch, AttributeError)


def test_get_submodule_and_parameter(torch):
    for lib in (ndgrad, torch):
        net = _zoo(lib)[3]()
        assert net.get_submodule("") is net
        assert net.get_submodule("block.0") is net.block[0]
        assert net.get_parameter("block.0.weight") is net.block[0].weight
        assert net.get_buffer("norm.running_mean") is net.norm.running_mean


# -- modes, grads, casting --------------------------------------------------------------------------------------
def test_train_eval_requires_grad(torch):
    def run(lib):
        net = _zoo(lib)[3]()
        out = [net.training]
        assert net.eval() is net
        out.append([m.training for m in net.modules()])
        net.block.train()
        out.append([m.training for m in net.modules()])
        assert net.requires_grad_(False) is net
        out.append([p.requires_grad for p in net.parameters()])
        net.fc1.requires_grad_()
        out.append([p.requires_grad for p in net.parameters()])
        return out
    assert run(ndgrad) == run(torch)


def test_zero_grad(torch):
    def run(lib):
        net = _zoo(lib)[3]()
        x = lib.tensor(RNG.standard_normal((5, 3)).astype(np.float32))
        net(x).sum().backward()
        g = net.fc1.weight.grad
        net.zero_grad(set_to_none=False)
        out = [net.fc1.weight.grad is g, float(g.abs().sum()), net.norm.scale.grad is not None]
        net.zero_grad()
        out.append([p.grad is None for p in net.parameters()])
        return out
    assert run(ndgrad) == run(torch)


def test_apply_order(torch):
    def run(lib):
        seen = []
        net = _zoo(lib)[3]()
        assert net.apply(lambda m: seen.append(type(m).__name__)) is net
        return seen
    assert run(ndgrad) == run(torch)


@pytest.mark.parametrize("conv", [
    lambda lib, m: m.double(), lambda lib, m: m.half(), lambda lib, m: m.double().float(),
    lambda lib, m: m.to(lib.float64), lambda lib, m: m.to(dtype=lib.float64), lambda lib, m: m.to("cpu"),
    lambda lib, m: m.to("cpu", lib.float64), lambda lib, m: m.to(lib.ones(1, dtype=lib.float64)),
    lambda lib, m: m.type(lib.float64), lambda lib, m: m.cpu(),
])
def test_casting(torch, conv):
    def run(lib):
        net = _zoo(lib)[3]()
        x = lib.tensor(RNG.standard_normal((2, 3)).astype(np.float32))
        net(x).sum().backward()
        w = net.fc1.weight
        assert conv(lib, net) is net
        assert net.fc1.weight is w  # the Parameter object survives (optimizers keep working)
        return ([str(p.dtype) for p in net.parameters()], [str(b.dtype) for b in net.buffers()],
                str(w.grad.dtype), w.requires_grad)
    assert run(ndgrad) == run(torch)


# -- calling and hooks -------------------------------------------------------------------------------------------
def _copy_weights(src, dst, torch):
    with torch.no_grad():
        for (n, p), (n2, q) in zip(src.named_parameters(), dst.named_parameters()):
            assert n == n2
            q.copy_(torch.tensor(_np(p)))


def test_forward_backward_matches(torch):
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    res = {}
    for lib in (ndgrad, torch):
        net = _zoo(lib)[3]()
        y = net(lib.tensor(x))
        y.pow(2).sum().backward()
        res[lib.__name__] = (_np(y), [_np(p.grad) for p in net.parameters()])
    np.testing.assert_allclose(res["ndgrad"][0], res["torch"][0], rtol=1e-5, atol=1e-6)
    for a, b in zip(res["ndgrad"][1], res["torch"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_gradcheck_through_module():
    Linear = _zoo(ndgrad)[0]
    m = Linear(3, 2).double()
    x = ndgrad.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    assert ndgrad.autograd.gradcheck(lambda x, w, b: (x @ w.T + b).tanh(), (x, m.weight, m.bias))
    assert ndgrad.autograd.gradcheck(lambda x: m(x).tanh(), (x,))


def test_hooks(torch):
    def run(lib):
        Linear = _zoo(lib)[0]
        m = Linear(2, 2)
        log = []

        def pre(mod, args):
            log.append(("pre", len(args)))
            return args[0] * 2  # a single value is wrapped into a tuple

        def pre_first(mod, args):
            log.append(("pre_first", len(args)))

        def post(mod, args, out):
            log.append(("post", tuple(out.shape)))
            return out + 1

        def post_kw(mod, args, kwargs, out):
            log.append(("post_kw", sorted(kwargs)))

        def pre_kw(mod, args, kwargs):
            log.append(("pre_kw", sorted(kwargs)))
            return args, kwargs

        x = lib.ones(1, 2)
        base = m(x)
        h1 = m.register_forward_pre_hook(pre)
        h2 = m.register_forward_pre_hook(pre_first, prepend=True)
        h3 = m.register_forward_hook(post)
        h4 = m.register_forward_hook(post_kw, with_kwargs=True)
        h5 = m.register_forward_pre_hook(pre_kw, with_kwargs=True)
        hooked = m(x)
        for h in (h1, h2, h3):
            h.remove()
        with h4, h5:
            again = m(x)
        plain = m(x)
        return log, _np(base).tolist(), _np(hooked).round(5).tolist(), _np(again).tolist(), _np(plain).tolist()
    assert run(ndgrad) == run(torch)


def test_pre_hook_bad_return(torch):
    def f(lib):
        m = _zoo(lib)[2]()
        m.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
        m(lib.ones(1))
    raises_like_torch(f, torch, RuntimeError)


# -- repr ---------------------------------------------------------------------------------------------------------
def test_repr(torch):
    def run(lib):
        Linear, Norm, ReLU, Net, Multi = _zoo(lib)
        net = Net()
        net.none_child = None
        net.add_module("multi", Multi())
        wrapped = lib.nn.Sequential(OrderedDict(net=net, tail=Linear(2, 1)))
        return [repr(net), repr(wrapped), repr(Multi()), repr(ReLU()), repr(lib.nn.Module()), str(Linear(1, 1))]
    assert run(ndgrad) == run(torch)


def test_repr_matches_real_torch_layers(torch):
    """Our Linear mimic prints exactly like torch's real nn.Linear, inside nested containers too."""
    Linear = _zoo(ndgrad)[0]
    ours = nn.Sequential(Linear(2, 3), nn.ModuleList([Linear(3, 3), Linear(3, 3)]), nn.Flatten(), nn.Identity())
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ModuleList([torch.nn.Linear(3, 3),
                                 torch.nn.Linear(3, 3)]), torch.nn.Flatten(), torch.nn.Identity())
    assert repr(ours) == repr(theirs)


# -- state dict ----------------------------------------------------------------------------------------------------
def test_state_dict_values(torch):
    for lib in (ndgrad, torch):
        net = _zoo(lib)[3]()
        sd = net.state_dict()
        assert isinstance(sd, OrderedDict)
        assert all(not v.requires_grad and v.grad_fn is None for v in sd.values())
        assert all(type(v) is lib.Tensor for v in sd.values())
        assert np.array_equal(_np(sd["fc1.weight"]), _np(net.fc1.weight))
        sd["fc1.weight"].add_(0)  # detached views share memory
        assert sd["fc1.weight"].data_ptr() == net.fc1.weight.data_ptr()
        kv = net.state_dict(keep_vars=True)
        assert kv["fc1.weight"] is net.fc1.weight
        assert list(net.state_dict(prefix="m.")) == ["m." + k for k in sd]


def test_load_state_dict_roundtrip_between_libraries(torch):
    src = _zoo(torch)[3]()
    with torch.no_grad():
        for p in src.parameters():
            p.mul_(3)
        src.norm.running_mean.fill_(0.5)
        src.norm.num_batches_tracked.fill_(7)
    dst = _zoo(ndgrad)[3]()
    w = dst.fc1.weight
    v0 = w._version
    res = dst.load_state_dict({k: ndgrad.tensor(v.numpy()) for k, v in src.state_dict().items()})
    assert repr(res) == "<All keys matched successfully>"
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert dst.fc1.weight is w and w._version > v0 and w.requires_grad
    for (k, a), (k2, b) in zip(dst.state_dict().items(), src.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(_np(a), b.numpy())


@pytest.mark.parametrize("edit", [
    lambda lib, sd: sd.pop("fc1.bias"),
    lambda lib, sd: sd.update(extra=lib.ones(1)),
    lambda lib, sd: (sd.pop("fc1.bias"), sd.pop("norm.running_mean"), sd.update({"block.9.w": lib.ones(1)})),
    lambda lib, sd: sd.update({"fc1.weight": lib.ones(1, 3)}),
    lambda lib, sd: sd.update({"fc1.weight": 3}),
    lambda lib, sd: sd.update({"norm.scratch": lib.ones(2)}),
    lambda lib, sd: sd.update({"fc2.bias": lib.ones(2)}),
])
@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_errors(torch, edit, strict):
    def f(lib):
        net = _zoo(lib)[3]()
        sd = net.state_dict()
        edit(lib, sd)
        r = net.load_state_dict(sd, strict=strict)
        raise LookupError(repr(r))  # report the result through the exception text
    want = outcome(f, torch)
    assert outcome(f, ndgrad) == want


def test_load_state_dict_messages(torch):
    def missing(lib):
        m = _zoo(lib)[0](2, 1)
        sd = m.state_dict()
        del sd["bias"]
        m.load_state_dict(sd)

    def size(lib):
        m = _zoo(lib)[0](2, 1)
        m.load_state_dict({"weight": lib.ones(1, 3), "bias": lib.ones(1)})
    raises_like_torch(missing, torch, RuntimeError,
                      'Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: "bias". ')
    raises_like_torch(size, torch, RuntimeError,
                      "Error(s) in loading state_dict for Linear:\n\tsize mismatch for weight: copying a param with "
                      "shape torch.Size([1, 3]) from checkpoint, the shape in current model is torch.Size([1, 2]).")


def test_load_state_dict_assign_and_scalar_compat(torch):
    def run(lib):
        m = lib.nn.Module()
        m.s = lib.nn.Parameter(lib.tensor(1.0))
        m.load_state_dict({"s": lib.tensor([4.0])})  # 1-element into 0-d: torch's backward compatibility
        out = [m.s.item()]
        old = m.s
        m.load_state_dict({"s": lib.tensor(5.0)}, assign=True)
        out += [m.s is old, type(m.s).__name__, m.s.requires_grad, m.s.item()]
        return out
    assert run(ndgrad) == run(torch)


def test_deepcopy_and_pickle_module():
    net = _zoo(ndgrad)[3]()
    for clone in (copy.deepcopy(net),):
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in net.named_parameters()]
        assert clone.fc1 is clone.alias and clone.fc1 is not net.fc1
        assert type(clone.fc1.weight) is nn.Parameter
        np.testing.assert_array_equal(_np(clone.fc1.weight), _np(net.fc1.weight))
        assert clone.fc1.weight.data_ptr() != net.fc1.weight.data_ptr()


# -- containers --------------------------------------------------------------------------------------------------
def test_sequential(torch):
    def run(lib):
        Linear, _, ReLU, _, _ = _zoo(lib)
        a, b, c = Linear(2, 3, seed=1), ReLU(), Linear(3, 1, seed=2)
        s = lib.nn.Sequential(a, b, c)
        out = [len(s), s[0] is a, s[-1] is c, type(s[1:]).__name__, len(s[1:]), s[1:][0] is b, list(s) == [a, b, c],
               repr(s[::2])]
        s.append(Linear(1, 1))
        s.insert(1, Linear(3, 3))
        s.insert(-1, ReLU())
        out.append(repr(s))
        del s[1]
        out.append(list(s._modules))
        out.append(repr(s.pop(0)))
        s.extend([ReLU()])
        s[0] = Linear(5, 5)
        out.append(repr(s))
        out.append(repr(s + lib.nn.Sequential(ReLU())))
        out.append(repr(lib.nn.Sequential(ReLU()) * 2))
        t = lib.nn.Sequential(ReLU(), Linear(1, 1))
        t *= 2
        t += lib.nn.Sequential(ReLU())
        out.append(repr(t))
        named = lib.nn.Sequential(OrderedDict([("enc", Linear(2, 2)), ("act", ReLU())]))
        out.append((repr(named), [n for n, _ in named.named_parameters()], repr(named[1:])))
        out.append([k for k in dir(s) if k.isdigit()])
        return out
    assert run(ndgrad) == run(torch)


@pytest.mark.parametrize("case", [
    lambda lib, s: s[5], lambda lib, s: s[-6], lambda lib, s: s["a"], lambda lib, s: s + 1,
    lambda lib, s: s.insert(9, lib.nn.Module()),
    lambda lib, s: lib.nn.ModuleList([lib.nn.Module()])[3], lambda lib, s: lib.nn.ModuleList().extend(3),
    lambda lib, s: lib.nn.ModuleList([lib.nn.Module()])(1), lambda lib, s: lib.nn.ModuleDict().update(3),
    lambda lib, s: lib.nn.ModuleDict().update([(1, 2, 3)]), lambda lib, s: lib.nn.ModuleDict().update([3]),
    lambda lib, s: lib.nn.ModuleDict()["x"], lambda lib, s: lib.nn.ParameterList([lib.ones(1)])(1),
    lambda lib, s: lib.nn.ParameterList().extend(lib.ones(2)), lambda lib, s: lib.nn.ParameterList()[0],
    lambda lib, s: lib.nn.ParameterDict()[1], lambda lib, s: lib.nn.ParameterDict()(1),
    lambda lib, s: lib.nn.ParameterDict().update([(1, 2, 3)]),
])
def test_container_errors(torch, case):
    def f(lib):
        case(lib, lib.nn.Sequential(*[lib.nn.Module() for _ in range(5)]))
    want = outcome(f, torch)
    assert want is not None
    assert outcome(f, ndgrad) == want


def test_sequential_forward_matches(torch):
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    outs = []
    for lib in (ndgrad, torch):
        Linear, _, ReLU, _, _ = _zoo(lib)
        s = lib.nn.Sequential(Linear(3, 5, seed=4), ReLU(), lib.nn.Identity(), Linear(5, 2, seed=5))
        y = s(lib.tensor(x))
        y.sum().backward()
        outs.append((_np(y), _np(s[0].weight.grad)))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-5, atol=1e-6)


def test_module_list(torch):
    def run(lib):
        Linear, _, ReLU, _, _ = _zoo(lib)
        ml = lib.nn.ModuleList([Linear(2, 2), Linear(2, 2), ReLU(), Linear(2, 2), Linear(2, 2), Linear(2, 2)])
        out = [repr(ml), repr(lib.nn.ModuleList()), len(ml), type(ml[1:3]).__name__, repr(ml[1:3])]
        ml.append(ReLU())
        ml.extend([ReLU(), ReLU()])
        ml.insert(0, Linear(1, 1))
        ml[-1] = Linear(3, 3)
        out.append(repr(ml))
        del ml[0:2]
        del ml[-1]
        out.append((repr(ml), list(ml._modules)))
        out.append(repr(ml.pop(1)))
        ml += [Linear(4, 4)]
        out.append(repr(ml + lib.nn.ModuleList([ReLU()])))
        nested = lib.nn.ModuleList([lib.nn.Sequential(Linear(1, 1), ReLU()) for _ in range(3)])
        out.append(repr(nested))
        out.append([n for n, _ in nested.named_parameters()])
        out.append(sum(1 for _ in ml))
        return out
    assert run(ndgrad) == run(torch)


def test_module_dict(torch):
    def run(lib):
        Linear, _, ReLU, _, _ = _zoo(lib)
        md = lib.nn.ModuleDict({"b": ReLU(), "a": Linear(1, 2)})
        md["c"] = Linear(2, 2)
        md.update([("d", ReLU())])
        out = [repr(md), list(md), list(md.keys()), len(md), "a" in md, [n for n, _ in md.named_parameters()]]
        out.append(repr(md.pop("b")))
        del md["c"]
        out.append([(k, type(v).__name__) for k, v in md.items()])
        out.append([type(v).__name__ for v in md.values()])
        md.clear()
        out.append(len(md))
        return out
    assert run(ndgrad) == run(torch)


def test_parameter_list_and_dict(torch):
    def run(lib):
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.ones(1, dtype=lib.float64)])
        out = [repr(pl), len(pl), [type(p).__name__ for p in pl], [n for n, _ in pl.named_parameters()]]
        pl.append(lib.zeros(4))
        pl.extend([lib.nn.Parameter(lib.ones(1))])
        pl[0] = lib.zeros(2)
        out += [repr(pl), repr(pl[1:3]), repr(lib.nn.ParameterList([lib.ones(2)])), repr(lib.nn.ParameterList())]
        m = lib.nn.Module()
        m.plist = pl
        out.append(list(m.state_dict()))
        pd = lib.nn.ParameterDict({"b": lib.nn.Parameter(lib.ones(2, 3)), "a": lib.ones(1, dtype=lib.float64)})
        out += [repr(pd), list(pd), len(pd), "a" in pd, type(pd["a"]).__name__, [n for n, _ in pd.named_parameters()]]
        pd["c"] = lib.zeros(2)
        pd.update(OrderedDict([("z", lib.ones(1)), ("y", lib.ones(1))]))
        out.append(list(pd.keys()))
        out.append(type(pd.pop("b")).__name__)
        out.append(pd.get("missing", 7))
        out.append(pd.popitem()[0])
        out.append(list(reversed(pd)))
        out.append(list((pd | lib.nn.ParameterDict({"q": lib.ones(1)})).keys()))
        out.append(repr(pd.copy()))
        pd.setdefault("s", lib.ones(3))
        out.append([(k, tuple(v.shape)) for k, v in pd.items()])
        pd.clear()
        out.append(len(pd))
        return out
    assert run(ndgrad) == run(torch)


# -- flatten ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,shape", [
    (lambda lib: lib.nn.Flatten(), (2, 3, 4)),
    (lambda lib: lib.nn.Flatten(0, -1), (2, 3, 4)),
    (lambda lib: lib.nn.Flatten(1, 2), (2, 3, 4, 5)),
    (lambda lib: lib.nn.Unflatten(1, (2, 3)), (4, 6)),
    (lambda lib: lib.nn.Unflatten(-1, [2, -1]), (4, 6)),
    (lambda lib: lib.nn.Identity(3, x=1), (2, 2)),
])
def test_flatten_family(torch, make, shape):
    x = RNG.standard_normal(shape)
    res = []
    for lib in (ndgrad, torch):
        m = make(lib)
        t = lib.tensor(x, requires_grad=True)
        y = m(t)
        (y * lib.tensor(np.arange(y.numel(), dtype=np.float64).reshape(tuple(y.shape)))).sum().backward()
        res.append((repr(m), tuple(y.shape), _np(y), _np(t.grad)))
    assert res[0][:2] == res[1][:2]
    np.testing.assert_array_equal(res[0][2], res[1][2])
    np.testing.assert_array_equal(res[0][3], res[1][3])
    m = make(ndgrad)
    assert ndgrad.autograd.gradcheck(lambda t: m(t), (ndgrad.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.Unflatten(1, 3), lambda lib: lib.nn.Unflatten(1, (2, 1.5)),
    lambda lib: lib.nn.Flatten(3)(lib.ones(2, 3)),
])
def test_flatten_errors(torch, case):
    want = outcome(case, torch)
    assert want is not None
    assert outcome(case, ndgrad) == want


# -- nn.utils ------------------------------------------------------------------------------------------------------
def _grads_setup(lib, scale=1.0):
    r = np.random.default_rng(3)
    ps = [lib.nn.Parameter(lib.tensor(r.standard_normal(s).astype(np.float32))) for s in ((3, 4), (5,), (2, 2))]
    for p in ps:
        p.grad = lib.tensor((scale * r.standard_normal(tuple(p.shape))).astype(np.float32))
    ps.append(lib.nn.Parameter(lib.ones(2)))  # no grad: skipped
    return ps


@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (100.0, 2), (0.5, 1), (0.3, float("inf")), (2.0, 3.0),
                                                (1.0, "inf")])
def test_clip_grad_norm(torch, max_norm, norm_type):
    res = []
    for lib in (ndgrad, torch):
        ps = _grads_setup(lib)
        nt = float(norm_type) if isinstance(norm_type, str) else norm_type
        total = lib.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=nt)
        res.append((_np(total), [_np(p.grad) for p in ps[:3]], str(total.dtype), total.requires_grad,
                    ps[3].grad is None))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6)
    for a, b in zip(res[0][1], res[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert res[0][2:] == res[1][2:]


def test_clip_grad_misc(torch):
    for lib in (ndgrad, torch):
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.tensor([3.0, 4.0])
        total = lib.nn.utils.clip_grad_norm_(p, 1.0)  # a single tensor is accepted
        assert abs(total.item() - 5.0) < 1e-6
        assert np.allclose(_np(p.grad), [0.6, 0.8], atol=1e-6)
        assert lib.nn.utils.clip_grad_norm_([], 1.0).item() == 0.0
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.utils.clip_grad_norm_((q for q in []), 1.0)
        assert [str(x.message) for x in w] == ["`parameters` is an empty generator, no gradient clipping will occur."]

    def nonfinite(lib):
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.tensor([float("inf"), 1.0])
        lib.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    raises_like_torch(nonfinite, torch, RuntimeError)


def test_clip_grad_value(torch):
    res = []
    for lib in (ndgrad, torch):
        ps = _grads_setup(lib, scale=2.0)
        assert lib.nn.utils.clip_grad_value_(ps, 0.7) is None
        res.append([_np(p.grad) for p in ps[:3]])
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)


def test_parameters_vector_roundtrip(torch):
    res = []
    for lib in (ndgrad, torch):
        ps = _grads_setup(lib)
        v = lib.nn.utils.parameters_to_vector(ps)
        v2 = lib.arange(float(v.numel()))
        lib.nn.utils.vector_to_parameters(v2, ps)
        v2.mul_(2)  # parameters now share memory with the vector, as in torch
        res.append((_np(v), type(v.grad_fn).__name__ if lib is torch else v.grad_fn.name(),
                    [_np(p).tolist() for p in ps], [type(p).__name__ for p in ps]))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    assert res[0][1:] == res[1][1:]
    raises_like_torch(lambda lib: lib.nn.utils.vector_to_parameters([1.0], []), torch, TypeError)


# -- backward and state-dict hooks ------------------------------------------------------------------------------
def _hook_log(lib):
    class M(lib.nn.Module):
        def forward(self, x, k=1, y=None):
            out = x * 2 * k
            return out if y is None else (out, y * 3)

    log = []

    def show(g):
        return None if g is None else _np(g).tolist()

    def full(mod, gin, gout):
        log.append(("full", [show(g) for g in gin], [show(g) for g in gout]))

    def scale_pre(mod, gout):
        log.append(("pre", [show(g) for g in gout]))
        return tuple(None if g is None else g * 10 for g in gout)

    def replace(mod, gin, gout):
        return (gin[0] * 0 + 7,) + gin[1:]

    x = lib.ones(2, requires_grad=True)
    m = M()
    h = m.register_full_backward_hook(full)
    y = m(x, 3)
    log.append(type(y.grad_fn).__name__ if lib is not ndgrad else y.grad_fn.name())
    y.sum().backward()
    log.append(show(x.grad))
    m.register_full_backward_pre_hook(scale_pre)
    x.grad = None
    m(x, 3).sum().backward()
    log.append(show(x.grad))
    z = lib.ones(2, requires_grad=True)
    out = m(lib.ones(2), 1, z)  # the positional input does not require grad
    log.append((out[0].grad_fn is None, out[1].requires_grad))
    (out[1] * 2).sum().backward()
    h.remove()
    m.register_full_backward_hook(replace, prepend=True)
    x.grad = None
    m(x).sum().backward()
    log.append(show(x.grad))
    with lib.no_grad():
        log.append(m(x).grad_fn is None)

    class Two(lib.nn.Module):
        def forward(self, a, b, c):
            return a * 2, b * 3

    t = Two()
    t.register_full_backward_pre_hook(lambda mod, gout: log.append(("pre2", [show(g) for g in gout])))
    t.register_full_backward_hook(full)
    a, b = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
    t(a, b, lib.ones(2))[0].sum().backward()  # unused output: None; unused inputs: zeros
    return log


def test_backward_hooks(torch):
    assert _hook_log(ndgrad) == _hook_log(torch)


def test_backward_hook_errors(torch):
    def wrong_count(lib):
        m = _zoo(lib)[2]()
        m.register_full_backward_hook(lambda mod, gin, gout: (gin[0], gin[0]))
        m(lib.ones(2, requires_grad=True)).sum().backward()

    def no_input_grad(lib):
        m = _zoo(lib)[0](2, 2)
        m.register_full_backward_hook(lambda mod, gin, gout: (lib.ones(2),))
        m(lib.ones(1, 2)).sum().backward()
    raises_like_torch(wrong_count, torch, RuntimeError)
    res = []
    for lib in (ndgrad, torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            res.append(outcome(no_input_grad, lib))
        res.append([(x.category, str(x.message), x.filename) for x in w])
    assert res[0] is not None and res[0] == res[2] and res[1] == res[3] and len(res[1]) == 1


def test_state_dict_hooks(torch):
    def run(lib):
        Linear = _zoo(lib)[0]
        m = lib.nn.Sequential(Linear(2, 2), Linear(2, 1))
        log = []
        m[0].register_state_dict_pre_hook(lambda mod, prefix, keep_vars: log.append(("pre", prefix, keep_vars)))

        def post(mod, sd, prefix, meta):
            log.append(("post", prefix, sorted(meta)))
            sd[prefix + "extra"] = lib.ones(1)
        h = m[1].register_state_dict_post_hook(post)
        sd = m.state_dict()
        log.append(list(sd))
        h.remove()
        m[1].register_load_state_dict_pre_hook(
            lambda mod, sd, prefix, meta, strict, missing, unexpected, errors: log.append(("lpre", prefix, strict)))
        m.register_load_state_dict_post_hook(lambda mod, keys: log.append(("lpost", list(keys.unexpected_keys))))
        r = m.load_state_dict(sd, strict=False)
        log.append(repr(r))
        return log
    assert run(ndgrad) == run(torch)


def test_pickle_module():
    m = nn.Sequential(nn.Flatten(), nn.Unflatten(1, (2, 3)))
    m.w = nn.Parameter(ndgrad.ones(2))
    m.register_buffer("b", ndgrad.zeros(3), persistent=False)
    m2 = pickle.loads(pickle.dumps(m))
    assert repr(m2) == repr(m)
    assert [n for n, _ in m2.named_parameters()] == ["w"] and type(m2.w) is nn.Parameter
    assert list(m2.state_dict()) == ["w"] and [n for n, _ in m2.named_buffers()] == ["b"]
    assert m2(ndgrad.ones(4, 6)).shape == (4, 2, 3)


def test_load_state_dict_casts_into_existing_dtype(torch):
    def run(lib):
        net = _zoo(lib)[3]()
        sd = {k: (v.double() * 2 if v.is_floating_point() else v + 5) for k, v in net.state_dict().items()}
        net.load_state_dict(sd)
        return [(k, str(v.dtype), np.round(_np(v).astype(np.float64), 5).tolist()) for k, v in net.state_dict().items()]
    assert run(ndgrad) == run(torch)


def test_training_loop_with_optimizer(torch):
    """Parameters registered by modules drive an optimizer exactly as in torch (same losses, same weights)."""
    r = np.random.default_rng(7)
    x = r.standard_normal((16, 3)).astype(np.float32)
    y = r.standard_normal((16, 2)).astype(np.float32)
    res = []
    for lib in (ndgrad, torch):
        net = _zoo(lib)[3]()
        opt = lib.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        losses = []
        for _ in range(5):
            opt.zero_grad()
            loss = ((net(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
            loss.backward()
            lib.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            losses.append(loss.item())
        res.append((losses, [_np(p) for p in net.parameters()]))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-5)
    for a, b in zip(res[0][1], res[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_forward_hook_always_call(torch):
    def run(lib):
        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")
        m, log = Boom(), []
        m.register_forward_hook(lambda mod, a, out: log.append(("always", out)), always_call=True)
        m.register_forward_hook(lambda mod, a, out: log.append(("normal", out)))
        m.register_forward_hook(lambda mod, a, out: 1 / 0, always_call=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            log.append(outcome(lambda _: m(1), lib))
        return log, [str(x.message) for x in w]
    assert run(ndgrad) == run(torch)


# -- weight_norm / spectral_norm ----------------------------------------------------------------------------------
class _Conv3dLike:
    """A module with a 4-D weight (like a conv) and a custom forward, built in either library."""

    @staticmethod
    def make(lib):
        class Conv(lib.nn.Module):
            def __init__(self):
                super().__init__()
                r = np.random.default_rng(11)
                self.weight = lib.nn.Parameter(lib.tensor(r.standard_normal((4, 3, 2, 2)).astype(np.float64)))
                self.register_parameter("bias", None)

            def forward(self, x):
                return x @ self.weight.reshape(4, -1).T
        return Conv()


@pytest.mark.parametrize("dim", [0, 1, 3, None, -1])
@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_weight_norm(torch, dim, kind):
    if kind == "linear" and dim in (1, 3):
        pytest.skip("2-D weight")
    x = RNG.standard_normal((5, 12 if kind == "conv" else 3))
    res = []
    for lib in (ndgrad, torch):
        m = _zoo(lib)[0](3, 4).double() if kind == "linear" else _Conv3dLike.make(lib)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.utils.weight_norm(m, dim=dim)
        y = m(lib.tensor(x))
        (y ** 2).sum().backward()
        names = [n for n, _ in m.named_parameters()]
        g, v = m.weight_g, m.weight_v
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            second = outcome(lambda lib_: lib_.nn.utils.weight_norm(m, dim=dim), lib)
        lib.nn.utils.remove_weight_norm(m)
        res.append(dict(warn=[(c.category, str(c.message)) for c in w], y=_np(y), names=names,
                        g=(tuple(g.shape), _np(g)), gg=_np(g.grad), vg=_np(v.grad), second=second,
                        after=[n for n, _ in m.named_parameters()], w=_np(m.weight), hooks=len(m._forward_pre_hooks)))
    a, b = res
    for k in ("warn", "names", "after", "hooks", "second"):
        assert a[k] == b[k], k
    assert a["g"][0] == b["g"][0]
    for k in ("y", "gg", "vg", "w"):
        np.testing.assert_allclose(a[k], b[k], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a["g"][1], b["g"][1], rtol=1e-12)
    raises_like_torch(lambda lib: lib.nn.utils.remove_weight_norm(_Conv3dLike.make(lib)), torch, ValueError)


@pytest.mark.parametrize("dim,iters", [(0, 1), (1, 3), (2, 2)])
def test_spectral_norm(torch, dim, iters):
    x = RNG.standard_normal((5, 12))
    tm = torch.nn.utils.spectral_norm(_Conv3dLike.make(torch), n_power_iterations=iters, dim=dim)
    nm = nn.utils.spectral_norm(_Conv3dLike.make(ndgrad), n_power_iterations=iters, dim=dim)
    assert [n for n, _ in nm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert list(nm.state_dict()) == list(tm.state_dict())
    assert nm.state_dict()._metadata[""]["spectral_norm"] == tm.state_dict()._metadata[""]["spectral_norm"]
    # torch's random starting vectors, so that the power iterations agree
    nm.load_state_dict({k: ndgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    for step in range(3):
        if step == 2:
            nm.eval()
            tm.eval()
        ya, yb = nm(ndgrad.tensor(x)), tm(torch.tensor(x))
        (ya ** 2).sum().backward()
        (yb ** 2).sum().backward()
        np.testing.assert_allclose(_np(ya), yb.detach().numpy(), rtol=1e-9)
        np.testing.assert_allclose(_np(nm.weight_u), tm.weight_u.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(_np(nm.weight_orig.grad), tm.weight_orig.grad.numpy(), rtol=1e-8, atol=1e-10)
    nn.utils.remove_spectral_norm(nm)
    torch.nn.utils.remove_spectral_norm(tm)
    assert list(nm.state_dict()) == list(tm.state_dict()) == ["weight"]
    np.testing.assert_allclose(_np(nm.weight), tm.weight.detach().numpy(), rtol=1e-9)
    raises_like_torch(lambda lib: lib.nn.utils.spectral_norm(_Conv3dLike.make(lib), n_power_iterations=0),
                      torch, ValueError)


def test_clip_grad_norm_deprecated(torch):
    res = []
    for lib in (ndgrad, torch):
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.tensor([3.0, 4.0])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            total = lib.nn.utils.clip_grad_norm([p], 1.0)
        res.append(([(c.category, str(c.message)) for c in w], round(total.item(), 5)))
    assert res[0] == res[1]


# -- parametrize ------------------------------------------------------------------------------------------------
def _param_zoo(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    class Scale(lib.nn.Module):
        def forward(self, X):
            return X * 2

        def right_inverse(self, A):
            return A / 2

    class Grow(lib.nn.Module):  # changes the shape: needs unsafe=True
        def forward(self, X):
            return lib.cat([X, X])

    class Square(lib.nn.Module):
        def __init__(self):
            super().__init__()
            r = np.random.default_rng(2)
            self.weight = lib.nn.Parameter(lib.tensor(r.standard_normal((3, 3))))
            self.register_buffer("b", lib.ones(3, dtype=lib.float64))

        def forward(self, x):
            return x @ self.weight + self.b
    return Symmetric, Scale, Grow, Square


def test_parametrize(torch):
    x = RNG.standard_normal((4, 3))

    def run(lib):
        P = lib.nn.utils.parametrize
        Symmetric, Scale, _, Square = _param_zoo(lib)
        m = Square()
        w0 = m.weight
        P.register_parametrization(m, "weight", Symmetric())
        out = [type(m).__name__, repr(m), [n for n, _ in m.named_parameters()], list(m.state_dict()),
               P.is_parametrized(m), P.is_parametrized(m, "b"), P.type_before_parametrizations(m).__name__,
               m.parametrizations.weight.original is w0, _np(m.weight).round(12).tolist()]
        y = m(lib.tensor(x))
        (y ** 2).sum().backward()
        out += [_np(y).round(10).tolist(), _np(w0.grad).round(10).tolist()]
        P.register_parametrization(m, "weight", Scale())  # a chain of two
        out += [repr(m), _np(m.weight).round(12).tolist()]
        m.weight = lib.tensor(np.arange(9.0).reshape(3, 3))  # setter: right_inverse through the chain
        out += [_np(w0).round(12).tolist(), _np(m.weight).round(12).tolist(), m.parametrizations.weight.original is w0]
        with P.cached():
            out.append(m.weight is m.weight)
        out.append(m.weight is m.weight)
        P.register_parametrization(m, "b", Scale())
        out.append(list(m.state_dict()))
        P.remove_parametrizations(m, "weight")
        out += [type(m).__name__, [n for n, _ in m.named_parameters()], m.weight is w0,
                _np(m.weight).round(12).tolist()]
        P.remove_parametrizations(m, "b", leave_parametrized=False)
        out += [type(m).__name__, list(m.state_dict()), _np(m.b).tolist(), hasattr(m, "parametrizations")]
        return out
    assert run(ndgrad) == run(torch)


@pytest.mark.parametrize("case", [
    lambda lib, Z: lib.nn.utils.parametrize.register_parametrization(Z[3](), "weight", Z[2]()),
    lambda lib, Z: lib.nn.utils.parametrize.register_parametrization(Z[3](), "nope", Z[0]()),
    lambda lib, Z: lib.nn.utils.parametrize.remove_parametrizations(Z[3](), "weight"),
    lambda lib, Z: setattr(lib.nn.utils.parametrize.register_parametrization(Z[3](), "weight", Z[2](), unsafe=True),
                           "weight", lib.ones(6, 3, dtype=lib.float64)),
    lambda lib, Z: lib.nn.utils.parametrize.remove_parametrizations(
        lib.nn.utils.parametrizations.weight_norm(Z[3]()), "weight", leave_parametrized=False),
])
def test_parametrize_errors(torch, case):
    def f(lib):
        case(lib, _param_zoo(lib))
    want = outcome(f, torch)
    assert want is not None
    assert outcome(f, ndgrad) == want


def test_parametrize_unsafe_shape(torch):
    def run(lib):
        P = lib.nn.utils.parametrize
        m = _param_zoo(lib)[3]()
        P.register_parametrization(m, "weight", _param_zoo(lib)[2](), unsafe=True)
        return tuple(m.weight.shape), P.is_parametrized(m, "weight")
    assert run(ndgrad) == run(torch)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_parametrizations_weight_norm(torch, dim):
    x = RNG.standard_normal((5, 3))
    res = []
    for lib in (ndgrad, torch):
        m = _zoo(lib)[0](3, 4).double()
        lib.nn.utils.parametrizations.weight_norm(m, dim=dim)
        y = m(lib.tensor(x))
        (y ** 2).sum().backward()
        g, v = m.parametrizations.weight.original0, m.parametrizations.weight.original1
        res.append((repr(m), list(m.state_dict()), _np(y), _np(g), _np(g.grad), _np(v.grad)))
    assert res[0][:2] == res[1][:2]
    for a, b in zip(res[0][2:], res[1][2:]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_parametrizations_weight_norm_loads_old_checkpoints(torch):
    def run(lib):
        old = _zoo(lib)[0](3, 2).double()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lib.nn.utils.weight_norm(old)
        sd = old.state_dict()
        new = lib.nn.utils.parametrizations.weight_norm(_zoo(lib)[0](3, 2, seed=9).double())
        r = new.load_state_dict(sd)
        return repr(r), _np(new.weight).round(12).tolist()
    assert run(ndgrad) == run(torch)


@pytest.mark.parametrize("dim,iters", [(0, 1), (1, 2)])
def test_parametrizations_spectral_norm(torch, dim, iters):
    x = RNG.standard_normal((5, 12))
    tm = torch.nn.utils.parametrizations.spectral_norm(_Conv3dLike.make(torch), n_power_iterations=iters, dim=dim)
    nm = nn.utils.parametrizations.spectral_norm(_Conv3dLike.make(ndgrad), n_power_iterations=iters, dim=dim)
    assert repr(nm) == repr(tm)
    assert list(nm.state_dict()) == list(tm.state_dict())
    nm.load_state_dict({k: ndgrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})  # torch's u, v
    for step in range(3):
        if step == 2:
            nm.eval()
            tm.eval()
        ya, yb = nm(ndgrad.tensor(x)), tm(torch.tensor(x))
        (ya ** 2).sum().backward()
        (yb ** 2).sum().backward()
        np.testing.assert_allclose(_np(ya), yb.detach().numpy(), rtol=1e-9)
        np.testing.assert_allclose(_np(nm.parametrizations.weight[0]._u),
                                   tm.parametrizations.weight[0]._u.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(_np(nm.parametrizations.weight.original.grad),
                                   tm.parametrizations.weight.original.grad.numpy(), rtol=1e-8, atol=1e-10)
    # the 15 warm-up iterations at registration give a good estimate of the largest singular value (seeded: the
    # estimate's error depends on the weights' spectral gap, which earlier tests' draws would otherwise choose)
    ndgrad.manual_seed(0)
    w = _np(nn.utils.parametrizations.spectral_norm(_Conv3dLike.make(ndgrad), dim=dim).weight)
    mat = np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)
    assert abs(np.linalg.svd(mat, compute_uv=False)[0] - 1) < 0.05


# -- nn.utils.rnn -------------------------------------------------------------------------------------------------
def _seqs(lib, n=(3, 1, 4, 1), feat=2, dtype=np.float64):
    r = np.random.default_rng(5)
    return [lib.tensor(r.standard_normal((k, feat)).astype(dtype), requires_grad=True) for k in n]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(torch, batch_first, side):
    res = []
    for lib in (ndgrad, torch):
        seqs = _seqs(lib)
        out = lib.nn.utils.rnn.pad_sequence(seqs, batch_first=batch_first, padding_value=-1.5, padding_side=side)
        (out * lib.arange(float(out.numel()), dtype=lib.float64).reshape(out.shape)).sum().backward()
        res.append((_np(out), [_np(s.grad) for s in seqs], str(out.dtype)))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    for a, b in zip(res[0][1], res[1][1]):
        np.testing.assert_array_equal(a, b)
    assert res[0][2] == res[1][2]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce", [([4, 3, 1, 1], True), ([3, 1, 4, 1], False), ([2, 3, 2, 3], False)])
def test_pack_roundtrip(torch, batch_first, lengths, enforce):
    res = []
    for lib in (ndgrad, torch):
        R = lib.nn.utils.rnn
        seqs = _seqs(lib, n=lengths)
        padded = R.pad_sequence(seqs, batch_first=batch_first)
        packed = R.pack_padded_sequence(padded, lib.tensor(lengths), batch_first=batch_first, enforce_sorted=enforce)
        out, lens = R.pad_packed_sequence(packed, batch_first=batch_first, total_length=5, padding_value=9.0)
        weights = lib.arange(float(out.numel()), dtype=lib.float64).reshape(out.shape)
        ((out * weights).sum() + (packed.data ** 2).sum()).backward()
        idx = [None if t is None else t.tolist() for t in (packed.sorted_indices, packed.unsorted_indices)]
        again = R.pack_sequence(seqs, enforce_sorted=enforce)
        back = R.unpack_sequence(again)
        unpadded = R.unpad_sequence(padded, lib.tensor(lengths), batch_first=batch_first)
        res.append(dict(data=_np(packed.data), bs=packed.batch_sizes.tolist(), idx=idx, out=_np(out),
                        lens=lens.tolist(), grads=[_np(s.grad) for s in seqs], again=_np(again.data),
                        back=[_np(b) for b in back], unpadded=[_np(u) for u in unpadded],
                        types=(type(packed).__name__, str(lens.dtype), str(packed.batch_sizes.dtype))))
    a, b = res
    for k in ("bs", "idx", "lens", "types"):
        assert a[k] == b[k], k
    for k in ("data", "out", "again"):
        np.testing.assert_array_equal(a[k], b[k])
    for k in ("grads", "back", "unpadded"):
        for x, y in zip(a[k], b[k]):
            np.testing.assert_array_equal(x, y)


def test_packed_sequence_methods(torch):
    def run(lib):
        R = lib.nn.utils.rnn
        p = R.pack_sequence([lib.ones(2, 1), lib.ones(1, 1)])
        q = p.double()
        return (repr(p), repr(R.pack_sequence([lib.ones(1), lib.ones(2)], enforce_sorted=False)), str(q.data.dtype),
                type(q).__name__, p.to(lib.float32) is p, p.is_cuda,
                R.invert_permutation(lib.tensor([2, 0, 1])).tolist(), R.invert_permutation(None))
    assert run(ndgrad) == run(torch)


@pytest.mark.parametrize("case", [
    lambda lib, R: R.pack_padded_sequence(lib.ones(4, 3), [1, 2, 3]),
    lambda lib, R: R.pack_padded_sequence(lib.ones(4, 3), [3, 2, 0]),
    lambda lib, R: R.pack_padded_sequence(lib.ones(4, 3), [3, 2]),
    lambda lib, R: R.pad_packed_sequence(R.pack_sequence([lib.ones(3), lib.ones(2)]), total_length=2),
    lambda lib, R: R.pad_sequence([lib.ones(2)], padding_side="mid"),
])
def test_rnn_utils_errors(torch, case):
    want = outcome(lambda lib: case(lib, lib.nn.utils.rnn), torch)
    assert want is not None
    assert outcome(lambda lib: case(lib, lib.nn.utils.rnn), ndgrad) == want


# -- nn.utils.fusion ------------------------------------------------------------------------------------------------
def _bn_like(lib, n, seed):
    class BN(lib.nn.Module):  # the attributes the fusion reads, as BatchNorm has them
        def __init__(self):
            super().__init__()
            r = np.random.default_rng(seed)
            self.num_features, self.eps = n, 1e-5
            self.weight = lib.nn.Parameter(lib.tensor(r.uniform(0.5, 2, n)))
            self.bias = lib.nn.Parameter(lib.tensor(r.standard_normal(n)))
            self.register_buffer("running_mean", lib.tensor(r.standard_normal(n)))
            self.register_buffer("running_var", lib.tensor(r.uniform(0.5, 2, n)))
    return BN()


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn(torch, transpose, bias):
    res = []
    for lib in (ndgrad, torch):
        r = np.random.default_rng(1)
        shape = (3, 4, 2, 2) if transpose else (4, 3, 2, 2)
        w = lib.nn.Parameter(lib.tensor(r.standard_normal(shape)))
        b = lib.nn.Parameter(lib.tensor(r.standard_normal(4))) if bias else None
        bn = _bn_like(lib, 4, 2)
        fw, fb = lib.nn.utils.fuse_conv_bn_weights(w, b, bn.running_mean, bn.running_var, bn.eps, bn.weight,
                                                   bn.bias, transpose)
        res.append((_np(fw), _np(fb), type(fw).__name__, fw.requires_grad, fb.requires_grad, str(fw.dtype)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)
    assert res[0][2:] == res[1][2:]


def test_fuse_eval_modules(torch):
    x = RNG.standard_normal((5, 3))
    res = []
    for lib in (ndgrad, torch):
        lin = _zoo(lib)[0](3, 4, seed=3).double()
        bn = _bn_like(lib, 4, 4)
        with pytest.raises(AssertionError):
            lib.nn.utils.fuse_linear_bn_eval(lin, bn)  # training mode
        lin.eval()
        bn.eval()
        fused = lib.nn.utils.fuse_linear_bn_eval(lin, bn)
        ref = (lin(lib.tensor(x)) - bn.running_mean) / (bn.running_var + bn.eps).sqrt() * bn.weight + bn.bias
        res.append((_np(fused(lib.tensor(x))), _np(ref), fused is not lin, type(fused.weight).__name__,
                    outcome(lambda l_: l_.nn.utils.fuse_linear_bn_eval(lin, _bn_like(l_, 5, 0).eval()), lib)))
        conv = _Conv3dLike.make(lib).eval()
        fc = lib.nn.utils.fuse_conv_bn_eval(conv, _bn_like(lib, 4, 6).eval())
        res.append((_np(fc.weight), fc.bias is not None))
    np.testing.assert_allclose(res[0][0], res[2][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][0], res[0][1], rtol=1e-12)
    assert res[0][2:] == res[2][2:]
    np.testing.assert_allclose(res[1][0], res[3][0], rtol=1e-12)
    assert res[1][1:] == res[3][1:]
