"""`ndgrad.viz`: the computation graph as DOT, the step-by-step backward pass, and plots of derivatives."""
from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pytest

import ndgrad
from ndgrad import viz


def parse_dot(text: str) -> tuple[dict, list]:
    """{node id: label}, [(from, to, attrs)] from the DOT subset viz writes (strict: anything else fails)."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "digraph {" and lines[-1] == "}"
    nodes: dict = {}
    edges: list = []
    for ln in lines[1:-1]:
        s = ln.strip()
        if m := re.fullmatch(r"(\w+) -> (\w+)(?: \[([^\]]*)\])?", s):
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
        elif m := re.fullmatch(r'(\w+) \[label="((?:[^"\\]|\\.)*)"((?: \w+=[\w."]+)*)\]', s):
            nodes[m.group(1)] = re.sub(r"\\(.)", lambda c: "\n" if c.group(1) == "n" else c.group(1), m.group(2))
        else:
            assert re.fullmatch(r"(graph|node|edge) \[.*\]", s), s
    assert all(a in nodes and b in nodes for a, b, _ in edges)
    return nodes, edges


def labels_of(g: viz.Graph) -> list[str]:
    return sorted(parse_dot(g.source)[0].values())


# -- graph -------------------------------------------------------------------------------------------------------
def test_graph_names_nodes_like_torch_and_leaves_by_name_and_shape():
    W = ndgrad.ones(3, 2, requires_grad=True)
    x = ndgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = ndgrad.tanh(x @ W).sum()
    g = viz.graph(loss, params={"W": W, "x": x})
    nodes, edges = parse_dot(g.source)
    labels = sorted(nodes.values())
    assert "W\n(3, 2)" in labels and "x\n(3)" in labels and "output\n()" in labels
    assert {"SumBackward0", "TanhBackward0"} <= set(labels)
    by = {v: k for k, v in nodes.items()}
    assert (by["TanhBackward0"], by["SumBackward0"], "") in edges  # inputs point at their consumers
    assert (by["SumBackward0"], by["output\n()"], "") in edges
    assert g.nodes == len(nodes) and g.edges == len(edges)
    assert str(g) == g.source and "Graph" in repr(g)


def test_graph_saved_tensors_names_and_several_outputs():
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    y = ndgrad.tensor([3.0, 4.0], requires_grad=True)
    h = x * y
    out = ndgrad.exp(h).sum()
    g = viz.graph(out, params={"x": x, "y": y, "h": h}, show_saved=True, name="loss")
    labels = labels_of(g)
    assert "MulBackward0\n(h)" in labels and "loss\n()" in labels
    assert {"self\n(2)", "other\n(2)", "result\n(2)"} <= set(labels)  # mul saves both inputs, exp its result
    assert sum("dashed" in a for *_, a in parse_dot(g.source)[1]) == 3
    g2 = viz.graph([h, out], name=["h", "loss"])
    assert {"h\n(2)", "loss\n()"} <= set(labels_of(g2))
    assert "MulBackward0" in labels_of(viz.graph(h))  # unnamed leaves: shape only
    assert "(2)" in labels_of(viz.graph(h))


def test_graph_of_a_leaf_a_constant_and_a_custom_function():
    x = ndgrad.tensor(2.0, requires_grad=True)
    assert labels_of(viz.graph(x, {"x": x})) == ["x\n()"]  # a leaf is a single node
    assert labels_of(viz.graph(ndgrad.tensor([1.0]))) == ["output\n(1)"]

    class Square(ndgrad.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            ctx.save_for_backward(i)
            return i**2

        @staticmethod
        def backward(ctx, g):
            i, = ctx.saved_tensors
            return g * 2 * i

    y = Square.apply(x)
    labels = labels_of(viz.graph(y, {"x": x}, show_saved=True))
    assert "SquareBackward" in labels and "saved_tensors[0]\n()" in labels
    with pytest.raises(TypeError):
        viz.graph(3.0)
    with pytest.raises(TypeError):
        viz.graph(y, params={"x": 1.0})


def test_graph_does_not_touch_the_graph(tmp_path):
    x = ndgrad.tensor(2.0, requires_grad=True)
    y = x**3 + 2 * x**2
    g = viz.graph(y, {"x": x}, show_saved=True)
    y.backward()
    assert x.grad.item() == 20.0
    assert "(freed)" in viz.graph(y, show_saved=True).source  # saved tensors were released by backward
    assert g.render(tmp_path / "g.dot") == tmp_path / "g.dot"
    assert (tmp_path / "g.dot").read_text() == g.source


def test_graph_rendering_with_and_without_graphviz(tmp_path, monkeypatch):
    x = ndgrad.tensor(2.0, requires_grad=True)
    g = viz.graph(ndgrad.sin(x) * x, {"x": x})
    if shutil.which("dot"):
        svg = g._repr_svg_()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "SinBackward0" in svg
        g.render(tmp_path / "g.png")
        assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    assert g._repr_svg_() is None  # Jupyter falls back to the text repr
    with pytest.raises(viz.GraphvizNotFound, match="Graphviz"):
        g.render(tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()


# -- explain -----------------------------------------------------------------------------------------------------
def test_explain_cubic_matches_the_hand_derived_steps():
    """y = x**3 + 2*x**2 at x = 2. Local derivatives: add 1 and 1; 2*u: 2; x**2: 2x = 4; x**3: 3x^2 = 12."""
    x = ndgrad.tensor(2.0, requires_grad=True)
    y = x**3 + 2 * x**2
    e = viz.explain(y, {"x": x}, name="y")
    assert [s.node for s in e] == ["AddBackward0", "MulBackward0", "PowBackward0", "PowBackward0", "AccumulateGrad"]
    add, mul, sq, cube, acc = e.steps
    assert [(ed.step, ed.grad.item(), ed.local) for ed in add.edges] == [(4, 1.0, 1.0), (2, 1.0, 1.0)]
    assert [(ed.to, ed.step, ed.grad.item(), ed.local) for ed in mul.edges] == [("PowBackward0", 3, 2.0, 2.0)]
    assert sq.grad_in[0].item() == 2.0 and [(ed.to, ed.grad.item(), ed.local) for ed in sq.edges] == [("x", 8.0, 4.0)]
    assert cube.grad_in[0].item() == 1.0 and [(ed.grad.item(), ed.local) for ed in cube.edges] == [(12.0, 12.0)]
    assert acc.leaf == "x" and acc.grad_in[0].item() == 20.0 and acc.edges == []
    assert [(k, g.item()) for k, g in acc.parts] == [(3, 8.0), (4, 12.0)]
    assert {k: v.item() for k, v in e.gradients.items()} == {"x": 20.0}
    assert e.output == "y" and e.value.item() == 16.0
    text = str(e)
    assert "backward pass of y = 16" in text and "8 + 12 = 20" in text and "x.grad = 20" in text
    assert e.to_dict()["steps"][2]["edges"] == [{"to": "x", "to_step": 5, "grad": 8.0, "local_derivative": 4.0}]
    # nothing was accumulated or freed: backward still works and gives the same number
    assert x.grad is None
    y.backward()
    assert x.grad.item() == 20.0


def test_explain_needs_saved_tensors_and_a_graph():
    x = ndgrad.tensor(2.0, requires_grad=True)
    y = ndgrad.sin(x) * x
    y.backward()
    with pytest.raises(RuntimeError, match="before backward"):
        viz.explain(y)
    y = ndgrad.sin(x) * x
    y.backward(retain_graph=True)
    assert viz.explain(y).gradients["leaf0"].item() == pytest.approx(math.cos(2) * 2 + math.sin(2))
    with pytest.raises(RuntimeError, match="does not require grad"):
        viz.explain(ndgrad.tensor(1.0))
    with pytest.raises(RuntimeError, match="scalar outputs"):
        viz.explain(ndgrad.tensor([1.0, 2.0], requires_grad=True) * 2)
    with pytest.raises(TypeError):
        viz.explain(1.0)


def test_explain_local_derivative_when_no_gradient_flows():
    x = ndgrad.tensor(1.0, requires_grad=True)
    y = ndgrad.sin(x) * 0.0  # the gradient reaching sin is 0; its local derivative is still cos(1)
    sin = next(s for s in viz.explain(y, {"x": x}) if s.node == "SinBackward0")
    assert sin.grad_in[0].item() == 0.0 and sin.edges[0].local == pytest.approx(math.cos(1.0))


def _graph_case():
    a = ndgrad.tensor([1.0, -2.0, 0.5], requires_grad=True)
    b = ndgrad.tensor([[0.3], [2.0]], requires_grad=True)
    u, v, w = a.unbind(0)                                   # a node with several outputs
    out = ((a * b).exp().sum() + u * v - w / (1 + b[1, 0]) + ndgrad.sigmoid(a).mean())
    return a, b, out


def test_explain_gradients_equal_backward_and_torch():
    a, b, out = _graph_case()
    e = viz.explain(out, {"a": a, "b": b})
    assert {"UnbindBackward0", "ExpBackward0", "SumBackward0", "MeanBackward0"} <= {s.node for s in e}
    unbind = next(s for s in e if s.node == "UnbindBackward0")
    assert len(unbind.grad_in) == 3 and unbind.edges[0].local is None  # vector gradients: no single number
    out.backward()
    assert np.array_equal(e.gradients["a"], a.grad.numpy()) and np.array_equal(e.gradients["b"], b.grad.numpy())
    # every step runs once all its consumers have run: each edge points at a later step
    for s in e:
        for ed in s.edges:
            assert ed.step is None or ed.step > s.index
    torch = pytest.importorskip("torch")
    ta = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    tb = torch.tensor([[0.3], [2.0]], requires_grad=True)
    u, v, w = ta.unbind(0)
    ((ta * tb).exp().sum() + u * v - w / (1 + tb[1, 0]) + torch.sigmoid(ta).mean()).backward()
    np.testing.assert_allclose(e.gradients["a"], ta.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(e.gradients["b"], tb.grad.numpy(), rtol=1e-6)


def test_explain_order_is_the_engines_order():
    """Hooks record the order in which backward() runs nodes; explain lists the same order."""
    a, b, out = _graph_case()
    e = viz.explain(out, {"a": a, "b": b})
    ran: list = []
    seen, stack = set(), [out.grad_fn]
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        n.register_hook(lambda gi, go, n=n: ran.append(n.name()))
        stack.extend(c for c, _ in n.next_functions if c is not None and c.name() != "AccumulateGrad")
    out.backward()
    assert [s.node for s in e if s.node != "AccumulateGrad"] == ran


def test_explain_custom_function_and_gradient_argument():
    class Cube(ndgrad.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            ctx.save_for_backward(i)
            return i**3

        @staticmethod
        def backward(ctx, g):
            i, = ctx.saved_tensors
            return g * 3 * i**2

    x = ndgrad.tensor(2.0, requires_grad=True)
    e = viz.explain(Cube.apply(x), {"x": x})
    assert e[0].node == "CubeBackward" and e[0].edges[0].local == 12.0
    v = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    e = viz.explain(v * 3, {"v": v}, gradient=ndgrad.tensor([1.0, 10.0]))
    assert e.gradients["v"].tolist() == [3.0, 30.0]
    assert e.to_dict()["gradients"] == {"v": [3.0, 30.0]}


# -- plot --------------------------------------------------------------------------------------------------------
def _lines(fig):
    ax, = fig.axes
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]


def test_plot_function_and_derivatives(tmp_path):
    pytest.importorskip("matplotlib")
    fig = viz.plot("x**3 - 3*x", (-2, 2), order=2, points=101)
    lines = _lines(fig)
    assert [ln.get_label() for ln in lines] == ["f(x) = x**3 - 3*x", "f'(x)", "f''(x)"]
    xs = lines[0].get_xdata()
    assert len(xs) == 101 and xs[0] == -2 and xs[-1] == 2
    np.testing.assert_allclose(lines[0].get_ydata(), xs**3 - 3 * xs, atol=1e-12)
    np.testing.assert_allclose(lines[1].get_ydata(), 3 * xs**2 - 3, atol=1e-12)
    np.testing.assert_allclose(lines[2].get_ydata(), 6 * xs, atol=1e-12)
    assert fig.axes[0].get_legend() is not None
    fig.savefig(tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_callables_other_variables_constants_and_errors():
    pytest.importorskip("matplotlib")
    fig = viz.plot(lambda x: ndgrad.sin(x) * x, (0, math.pi), order=1, points=50)
    a, d = _lines(fig)
    xs = a.get_xdata()
    np.testing.assert_allclose(d.get_ydata(), np.cos(xs) * xs + np.sin(xs), atol=1e-12)
    fig = viz.plot("a*t**2", (-1, 1), order=1, at={"a": 3}, points=11)
    f, d = _lines(fig)
    assert f.get_label() == "f(t) = a*t**2" and fig.axes[0].get_xlabel() == "t"
    np.testing.assert_allclose(d.get_ydata(), 6 * d.get_xdata(), atol=1e-12)
    f, d = _lines(viz.plot("3", (0, 1), order=1, points=5))
    assert f.get_ydata().tolist() == [3.0] * 5 and d.get_ydata().tolist() == [0.0] * 5
    f, = _lines(viz.plot("log(x)", (-1, 1), order=0, points=5))
    assert np.isnan(f.get_ydata()[:3]).all()  # log of x <= 0: gaps, not a crash
    with pytest.raises(ValueError, match="range"):
        viz.plot("x", (1, 1))
    with pytest.raises(ValueError, match="one variable"):
        viz.plot("x*y", (0, 1))
    with pytest.raises(ValueError, match="vector"):
        viz.plot("[x, x]", (0, 1))
    with pytest.raises(TypeError):
        viz.plot(3, (0, 1))
