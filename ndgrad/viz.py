"""Seeing autograd at work: the computation graph, the backward pass step by step, and plots.

- `graph(tensor, params=None)`: the graph behind a tensor as DOT text (nodes named like `MulBackward0`,
  leaves with their names and shapes, saved tensors on request), rendered by Graphviz's `dot` when it is
  installed; in Jupyter the returned object displays itself as SVG.
- `explain(tensor, params=None)`: the backward pass node by node, in the engine's order: the gradient
  flowing in, the gradient sent along each edge, and the local derivative, as data and as a table.
- `plot(f, range)`: a function and its derivatives on one chart (matplotlib, the `plot` extra).

Nothing here changes the graph or any `.grad`: explain computes with the nodes' own derivative
formulas but never accumulates, and never frees saved tensors, so `backward()` still works after it.
"""
from __future__ import annotations

import heapq
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._tensor import Tensor
from .autograd.graph import FREED, AccumulateGrad, Node

__all__ = ["graph", "Graph", "explain", "Explanation", "Step", "Edge", "plot", "GraphvizNotFound"]

DOT_MISSING = ("Graphviz's `dot` program is not installed (or not on PATH), so the graph cannot be rendered; "
               "install Graphviz (https://graphviz.org/download/: apt install graphviz, brew install graphviz, "
               "conda install graphviz) or use the DOT text")


class GraphvizNotFound(RuntimeError):
    """Raised when a graph must be rendered and Graphviz's `dot` is not on PATH."""


# -- names -------------------------------------------------------------------------------------------------------
def _named(params: Any) -> tuple[dict, dict]:
    """{id(leaf tensor): name} and {(node, output_nr): name} from a dict or (name, tensor) pairs."""
    leaves: dict = {}
    inner: dict = {}
    if params is None:
        return leaves, inner
    items = params.items() if hasattr(params, "items") else params
    for name, t in items:
        if not isinstance(t, Tensor):
            raise TypeError(f"params must map names to Tensors; {name!r} is a {type(t).__name__}")
        if t.grad_fn is None:
            leaves[id(t)] = str(name)
        else:
            inner[(t.grad_fn, t._output_nr)] = str(name)
    return leaves, inner


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _roots(tensors: Any) -> list[Tensor]:
    ts = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for t in ts:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected a Tensor or a sequence of Tensors, got {type(t).__name__}")
    return ts


# -- graph -------------------------------------------------------------------------------------------------------
def _q(s: str) -> str:
    """A DOT double-quoted string; newlines become DOT's \\n."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class Graph:
    """A computation graph as DOT text (`source`); renders with Graphviz's `dot` when it is installed."""

    def __init__(self, source: str, nodes: int, edges: int) -> None:
        self.source = source
        self.nodes = nodes
        self.edges = edges

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"<ndgrad.viz.Graph: {self.nodes} nodes, {self.edges} edges>"

    def pipe(self, format: str = "svg") -> bytes:
        """The graph rendered by `dot -T<format>`. Raises GraphvizNotFound without Graphviz."""
        dot = shutil.which("dot")
        if dot is None:
            raise GraphvizNotFound(DOT_MISSING)
        try:
            r = subprocess.run([dot, f"-T{format}"], input=self.source.encode("utf-8"), capture_output=True,
                               timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            raise RuntimeError(f"running Graphviz's dot failed: {e}") from None
        if r.returncode != 0:
            msg = r.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"Graphviz's dot failed: {msg[0] if msg else 'exit status ' + str(r.returncode)}")
        return r.stdout

    def render(self, path: str | os.PathLike, format: str | None = None) -> Path:
        """Write the graph: DOT text for a .dot/.gv path, else rendered by dot in the suffix's format."""
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".") or "dot").lower()
        if fmt in ("dot", "gv"):
            path.write_text(self.source, encoding="utf-8")
        else:
            path.write_bytes(self.pipe(fmt))
        return path

    save = render

    def _repr_svg_(self) -> str | None:
        """Jupyter shows the SVG; without Graphviz it falls back to the text repr."""
        if shutil.which("dot") is None:
            return None
        return self.pipe("svg").decode("utf-8")


def graph(tensor: Any, params: Any = None, show_saved: bool = False, name: str | Sequence[str] | None = None) -> Graph:
    """The computation graph behind `tensor` (or a sequence of tensors). Mirrors torchviz's `make_dot`.

    `params` names tensors (a dict, or pairs such as `model.named_parameters()`): leaves are labelled
    with their name and shape; named intermediate tensors add their name to their node. With
    `show_saved`, the tensors each node saved for backward are drawn beside it (dashed edges). `name`
    labels the output (one name per tensor when given a sequence).
    Edges run from inputs to outputs, as in the forward computation.
    """
    roots = _roots(tensor)
    leaf_names, inner_names = _named(params)
    ids: dict = {}
    lines = ["digraph {",
             '\tgraph [rankdir=TB size="12,12"]',
             "\tnode [align=left fontname=monospace fontsize=10 height=0.2 shape=box style=filled]"]
    n_edges = 0

    def nid(obj: Any) -> str:
        k = ids.get(id(obj))
        if k is None:
            k = ids[id(obj)] = f"n{len(ids)}"
        return k

    def edge(a: str, b: str, attrs: str = "") -> None:
        nonlocal n_edges
        n_edges += 1
        lines.append(f"\t{a} -> {b}{' [' + attrs + ']' if attrs else ''}")

    keep: list = []  # objects whose id() is used must stay alive while we build
    stack: list = []
    for k, t in enumerate(roots):
        if name is not None:
            label = name if isinstance(name, str) else name[k]
        else:
            label = inner_names.get((t.grad_fn, t._output_nr)) or leaf_names.get(id(t)) or \
                ("output" if len(roots) == 1 else f"output[{k}]")
        keep.append(t)
        tid = nid(t)
        lines.append(f"\t{tid} [label={_q(label + chr(10) + _shape(t.shape))} fillcolor=darkolivegreen1]")
        if t.grad_fn is not None:  # a leaf (or a constant) is its own single node, as in torchviz
            stack.append(t.grad_fn)
            edge(nid(t.grad_fn), tid)
    seen: set = set()
    order: list = []
    while stack:  # iterative depth-first walk, children in next_functions order
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        order.append(fn)
        for child, _ in reversed(fn.next_functions):
            if child is not None and id(child) not in seen:
                stack.append(child)
    for fn in order:
        fid = nid(fn)
        if isinstance(fn, AccumulateGrad):
            var = fn.variable
            nm = leaf_names.get(id(var))
            label = (nm + "\n" if nm else "") + _shape(var.shape)
            lines.append(f"\t{fid} [label={_q(label)} fillcolor=lightblue]")
            continue
        label = fn.name()
        names = [v for (node, _), v in inner_names.items() if node is fn]
        if names:
            label += "\n(" + ", ".join(names) + ")"
        lines.append(f"\t{fid} [label={_q(label)} fillcolor=lightgrey]")
        for child, _ in fn.next_functions:
            if child is not None:
                edge(nid(child), fid)
        if show_saved:
            for sname, shape in _saved_tensors(fn):
                keep.append(sid := object())
                s = nid(sid)
                lines.append(f"\t{s} [label={_q(sname + chr(10) + shape)} fillcolor=orange]")
                edge(s, fid, "style=dashed dir=none")
    lines.append("}")
    return Graph("\n".join(lines) + "\n", len(ids), n_edges)


def _saved_tensors(fn: Node) -> list[tuple[str, str]]:
    """(name, shape) of each tensor a node saved for backward; ('freed', '') once released."""
    saved = fn._saved
    if saved is None:
        return []
    if saved is FREED:
        return [("saved tensors", "(freed)")]
    out = []
    op = getattr(fn, "_op", None)
    if op is not None:  # a registered op: positions are inputs, params, result
        names = op.inputs + op.params + ("result",)
        for j, _box, _ver, t in fn._versions:
            if t is None or isinstance(t, Tensor):
                v = saved[j]
                v = v[0] if isinstance(v, tuple) else v
                out.append((names[j] if j < len(names) else f"saved[{j}]", _shape(np.shape(v))))
        return out
    for k, item in enumerate(saved):  # a custom Function: (tensor, version box, version)
        t = item[0] if isinstance(item, tuple) else item
        if isinstance(t, Tensor):
            out.append((f"saved_tensors[{k}]", _shape(t.shape)))
    return out


# -- explain -----------------------------------------------------------------------------------------------------
@dataclass
class Edge:
    """Where a node sends a gradient: the target's label and step, the gradient, the local derivative."""

    to: str
    step: int | None
    grad: np.ndarray | None
    local: float | None


@dataclass
class Step:
    """One node run by the backward pass."""

    index: int
    node: str
    grad_in: list                      # one array per output of the node (None where nothing flowed)
    parts: list                        # contributions summed into grad_in[0]: [(from step, array)]
    edges: list = field(default_factory=list)
    leaf: str | None = None            # for AccumulateGrad: the leaf's name


@dataclass(repr=False)
class Explanation:
    """The backward pass of `explain`: `steps` in execution order and the final `gradients` per leaf."""

    output: str
    value: np.ndarray
    steps: list
    gradients: dict

    def __iter__(self):
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, i: int) -> Step:
        return self.steps[i]

    def to_dict(self) -> dict:
        """JSON-ready: numbers as floats, arrays as nested lists (non-finite values as strings)."""
        return {
            "output": self.output,
            "value": _jsonable(self.value),
            "steps": [{"step": s.index, "node": s.node, "grad_in": [_jsonable(g) for g in s.grad_in],
                       "contributions": [{"from_step": k, "grad": _jsonable(g)} for k, g in s.parts],
                       "edges": [{"to": e.to, "to_step": e.step, "grad": _jsonable(e.grad),
                                  "local_derivative": _jsonable(e.local)} for e in s.edges],
                       **({"leaf": s.leaf} if s.leaf is not None else {})} for s in self.steps],
            "gradients": {k: _jsonable(v) for k, v in self.gradients.items()},
        }

    def table(self) -> str:
        """The steps as a readable text table."""
        head = ["step", "node", "grad in", "sends to", "grad out", "local derivative"]
        rows = []
        for s in self.steps:
            gin = _fmt_in(s)
            if s.leaf is not None:
                rows.append([str(s.index), s.node, gin, f"{s.leaf}.grad", _fmt(s.grad_in[0]), ""])
                continue
            if not s.edges:
                rows.append([str(s.index), s.node, gin, "-", "", ""])
            for k, e in enumerate(s.edges):
                to = e.to if e.step is None else f"{e.to} (step {e.step})"
                rows.append([str(s.index) if k == 0 else "", s.node if k == 0 else "", gin if k == 0 else "",
                             to, _fmt(e.grad), "" if e.local is None else _fmt(e.local)])
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        out = ["  ".join(c.ljust(w) for c, w in zip(head, widths)).rstrip(),
               "  ".join("-" * w for w in widths)]
        out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(out)

    def __repr__(self) -> str:  # at the prompt, an explanation shows itself as its table
        return str(self)

    def __str__(self) -> str:
        lines = [f"backward pass of {self.output} = {_fmt(self.value)}", "", self.table(), ""]
        lines.append("grad out = grad in x local derivative (the chain rule); a node runs once all the "
                     "gradients flowing into it are summed.")
        lines.append("gradients: " + ", ".join(f"{k}.grad = {_fmt(v)}" for k, v in self.gradients.items()))
        return "\n".join(lines)


def _fmt(v: Any) -> str:
    """A number as `%.6g` (no '-0'); an array on one line."""
    if v is None:
        return "None"
    a = np.asarray(v)
    if a.size == 1:
        x = float(a.reshape(()).real)
        return "0" if x == 0 else f"{x:.6g}"
    return np.array2string(a, precision=4, separator=", ", max_line_width=10_000).replace("\n", "")


def _fmt_in(s: Step) -> str:
    if len(s.parts) > 1:
        return " + ".join(_fmt(g) for _, g in s.parts) + " = " + _fmt(s.grad_in[0])
    shown = [g for g in s.grad_in if g is not None]
    return ", ".join(_fmt(g) for g in shown) if shown else "None"


def _jsonable(v: Any) -> Any:
    if v is None:
        return None
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        x = float(a)
        return x if np.isfinite(x) else str(x)
    return [_jsonable(x) for x in a]


def explain(tensor: Tensor, params: Any = None, gradient: Any = None, name: str | None = None) -> Explanation:
    """The backward pass from `tensor`, node by node, in the order the engine runs them.

    Each step gives the node's name, the gradient flowing in (and the contributions summed into it),
    the gradient sent along each edge and, for nodes whose gradients are single numbers, the local
    derivative d(node output)/d(input) on that edge. Leaves (AccumulateGrad) give their final
    gradient. Nothing is accumulated into `.grad`, no hook runs and no saved tensor is freed.
    """
    from .autograd.grad_mode import no_grad
    if not isinstance(tensor, Tensor):
        raise TypeError(f"explain() expects a Tensor, got {type(tensor).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError("the tensor does not require grad and has no grad_fn: there is no backward pass")
    if gradient is None:
        if tensor.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs (pass gradient=...)")
        g0 = np.ones(tensor.shape, dtype=tensor._data.dtype)
    else:
        g0 = np.broadcast_to(np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient,
                                        dtype=tensor._data.dtype), tensor.shape).copy()
    leaf_names, inner_names = _named(params)
    out_name = name or inner_names.get((tensor.grad_fn, tensor._output_nr)) or leaf_names.get(id(tensor)) or "output"
    from ._ops._registry import _edge
    root, nr0 = _edge(tensor)
    # dependency counts, iteratively
    deps: dict = {}
    seen = {root}
    stack = [root]
    while stack:
        n = stack.pop()
        for c, _ in n.next_functions:
            if c is not None:
                deps[c] = deps.get(c, 0) + 1
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
    unnamed: dict = {}
    walk, done = [root], set()
    while walk:  # name unnamed leaves in the order they appear from the output (inputs left to right)
        n = walk.pop()
        if n in done:
            continue
        done.add(n)
        if isinstance(n, AccumulateGrad) and id(n.variable) not in leaf_names:
            unnamed.setdefault(id(n.variable), f"leaf{len(unnamed)}")
        walk.extend(c for c, _ in reversed(n.next_functions) if c is not None and c not in done)

    def leaf_label(acc: AccumulateGrad) -> str:
        v = acc.variable
        nm = leaf_names.get(id(v))
        if nm is None:
            nm = unnamed.setdefault(id(v), f"leaf{len(unnamed)}")
        return nm

    buffers: dict = {root: [None] * nr0 + [g0]}
    parts: dict = {}
    heap = [(-root._seq, 0, root)]
    tie = 1
    steps: list = []
    step_of: dict = {}
    gradients: dict = {}
    pending: list = []     # (step, edge index, target node): filled with the target's step number later
    with no_grad():
        while heap:
            node = heapq.heappop(heap)[2]
            buf = buffers.pop(node)
            idx = len(steps) + 1
            step_of[node] = idx
            contrib = parts.pop(node, [])
            if isinstance(node, AccumulateGrad):
                nm = leaf_label(node)
                g = None if buf[0] is None else np.asarray(buf[0])
                steps.append(Step(idx, node.name(), [g], contrib, [], nm))
                if g is not None:
                    gradients[nm] = g
                continue
            try:
                if all(g is None for g in buf):   # nothing flowed in (e.g. a None returned by a Function)
                    outs = [None] * len(node.next_functions)
                else:
                    outs = node.apply_grads(list(buf), False)
            except RuntimeError as e:
                if node._saved is FREED:
                    raise RuntimeError("explain() needs the saved tensors of the graph: call it before backward(), "
                                       "or backward with retain_graph=True") from e
                raise
            locals_ = _local_derivatives(node, buf, outs)
            step = Step(idx, node.name(), [None if g is None else np.asarray(g) for g in buf], contrib)
            for k, ((child, nr), g) in enumerate(zip(node.next_functions, outs)):
                if child is None:
                    continue
                label = leaf_label(child) if isinstance(child, AccumulateGrad) else child.name()
                g = None if g is None else np.asarray(g)
                step.edges.append(Edge(label, None, g, locals_[k] if locals_ else None))
                pending.append((step, len(step.edges) - 1, child))
                if g is not None:
                    cb = buffers.get(child)
                    if cb is None:
                        cb = buffers[child] = [None] * (nr + 1)
                    while len(cb) <= nr:
                        cb.append(None)
                    cb[nr] = g if cb[nr] is None else cb[nr] + g
                    if nr == 0:
                        parts.setdefault(child, []).append((idx, g))
                deps[child] -= 1
                if deps[child] == 0:
                    buffers.setdefault(child, [None])
                    heapq.heappush(heap, (-child._seq, tie, child))
                    tie += 1
            steps.append(step)
    for step, k, child in pending:
        step.edges[k].step = step_of.get(child)
    return Explanation(out_name, np.asarray(tensor._data).copy(), steps, gradients)


def _local_derivatives(node: Node, buf: list, outs: list) -> list | None:
    """d(output)/d(input) per edge for a single-output node whose gradients are single numbers."""
    if len(buf) != 1 or buf[0] is None or np.size(buf[0]) != 1:
        return None
    if any(g is not None and np.size(g) != 1 for g in outs):
        return None
    gin = float(np.asarray(buf[0]).reshape(()))
    if gin != 0 and np.isfinite(gin):
        return [None if g is None else float(np.asarray(g).reshape(())) / gin for g in outs]
    one = np.ones_like(np.asarray(buf[0]))
    try:
        unit = node.apply_grads([one], False)
    except Exception:
        return None
    return [None if g is None else float(np.asarray(g).reshape(())) for g in unit]


# -- plot --------------------------------------------------------------------------------------------------------
_PRIMES = {0: "", 1: "'", 2: "''", 3: "'''"}


def _curves(f: Any, lo: float, hi: float, order: int, points: int, at: dict | None) -> tuple[str, str, Any, list]:
    """(variable, title, xs, [values of f, f', f'', ...]) on a grid, derivatives by ndgrad's autograd."""
    import ndgrad
    from . import _expr
    at = dict(at or {})
    if isinstance(f, str):
        expr = _expr.parse(f, allow_vector=False)
        free = [v for v in expr.variables if v not in at]
        if len(free) > 1:
            raise _expr.ExprError(f"plot draws a function of one variable, but {f!r} has {', '.join(free)}: "
                                  f"fix the others with --at {free[1]}=...")
        var = free[0] if free else "x"
        fixed = {k: ndgrad.scalar_tensor(float(v), dtype=ndgrad.float64) for k, v in at.items()
                 if k in expr.variables}

        def fn(x: Tensor) -> Tensor:
            return expr(**fixed, **({var: x} if free else {}))
        title = expr.source
    elif callable(f):
        var, fn = "x", f
        title = getattr(f, "__name__", "f")
    else:
        raise TypeError(f"plot() expects an expression string or a callable, got {type(f).__name__}")
    x = ndgrad.linspace(lo, hi, points, dtype=ndgrad.float64, requires_grad=True)
    with ndgrad.enable_grad(), np.errstate(all="ignore"):  # log(-1) is a gap in the curve, not a warning
        y = fn(x)
        if not isinstance(y, Tensor):
            y = ndgrad.scalar_tensor(float(y), dtype=ndgrad.float64)
        curves = [y]
        cur = y
        for k in range(1, order + 1):
            if cur.requires_grad:
                g = ndgrad.autograd.grad(cur.sum(), x, create_graph=k < order, allow_unused=True)[0]
            else:
                g = None
            cur = ndgrad.zeros(points, dtype=ndgrad.float64) if g is None else g
            curves.append(cur)
    xs = x.detach().numpy()
    ys = []
    for c in curves:
        a = np.broadcast_to(np.asarray(c.detach().numpy(), dtype=float), xs.shape).copy()
        a[~np.isfinite(a)] = np.nan
        ys.append(a)
    return var, title, xs, ys


def plot(f: Any, range: Sequence[float] = (-10.0, 10.0), order: int = 1, points: int = 400,
         at: dict | None = None, ax: Any = None, title: str | None = None) -> Any:
    """Draw `f` and its first `order` derivatives on one chart with a legend; returns the matplotlib Figure.

    `f` is an expression string of one variable (`"x**3 - 2*x"`; other variables fixed by `at`) or a
    Python function of an ndgrad Tensor applied elementwise (`lambda x: torch.sin(x) * x`). Derivatives
    come from ndgrad's autograd (`create_graph=True` for the higher orders). Needs matplotlib
    (`pip install ndgrad[plot]`); draws on `ax` when given, else on a new Figure (no pyplot involved).
    """
    lo, hi = (float(v) for v in range)
    if not lo < hi:
        raise ValueError(f"empty range {lo:g}:{hi:g}: the low end must be less than the high end")
    if order < 0:
        raise ValueError("order must be 0 or more")
    if points < 2:
        raise ValueError("points must be at least 2")
    var, text, xs, ys = _curves(f, lo, hi, order, points, at)
    if ax is None:
        from matplotlib.figure import Figure
        fig = Figure(figsize=(7.5, 4.8), layout="tight")
        ax = fig.subplots()
    for k, y in enumerate(ys):
        label = f"f{_PRIMES.get(k, f'^({k})')}({var})" + (f" = {text}" if k == 0 else "")
        ax.plot(xs, y, label=label, linewidth=2 if k == 0 else 1.5, linestyle="-" if k < 2 else "--")
    ax.axhline(0, color="0.75", linewidth=0.8, zorder=0)
    ax.grid(True, alpha=0.3)
    ax.set_xlabel(var)
    ax.set_xlim(lo, hi)
    ax.set_title(title if title is not None else
                 f"{text} and its derivative{'s' if order > 1 else ''}" if order else text)
    ax.legend()
    return ax.figure
