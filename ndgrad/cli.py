"""The `ndgrad` command: derivatives, plots, computation graphs and a step-by-step backward, from the shell.

    ndgrad diff "x*y + sin(x)" --at x=3,y=2          value and partial derivatives
    ndgrad plot "x**3 - 3*x" --range -3:3 --order 2  the function and its derivatives on one chart
    ndgrad graph "x**3 + 2*x**2" --at x=2 -o g.svg   the computation graph (DOT, or SVG/PNG by Graphviz)
    ndgrad explain "x**3 + 2*x**2" --at x=2          the backward pass node by node
    ndgrad compile "x*y + sin(x)" --at x=3,y=2       the NumPy code ndgrad.compile generates for it
    ndgrad tour                                      the tutorial lessons, each with its output

`python -m ndgrad ...` is the same command. Expressions are parsed safely (`ndgrad._expr`: an allow-list
over Python's `ast`, never `eval`). Exit status: 0 success, 2 bad input (one line on stderr, no traceback),
1 when something the command needs is missing (matplotlib, Graphviz) or a tour lesson failed.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ["main"]


class UsageError(Exception):
    """Bad input: one line on stderr, exit status 2."""

    def __init__(self, message: str, prog: str | None = None) -> None:
        super().__init__(message)
        self.prog = prog


class ToolError(Exception):
    """Something needed is missing or failed: one line on stderr, exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')", self.prog)


_FORMATTER = argparse.RawDescriptionHelpFormatter


# -- helpers -------------------------------------------------------------------------------------------------------
def _num(v: float) -> str:
    """A number for people: up to 12 significant digits, no '-0'."""
    if math.isnan(v):
        return "nan"
    if v in (math.inf, -math.inf):
        return "inf" if v > 0 else "-inf"
    return "0" if v == 0 else f"{v:.12g}"


def _jnum(v: float) -> Any:
    """A number for JSON: non-finite values as the strings "nan", "inf", "-inf"."""
    return v if math.isfinite(v) else _num(v)


def _expr_mod() -> Any:
    from . import _expr
    return _expr


def _parse(text: str) -> Any:
    try:
        return _expr_mod().parse(text)
    except ValueError as e:
        raise UsageError(f"bad expression: {e}") from None


def _at(items: Sequence[str] | None) -> dict[str, float]:
    return _expr_mod().parse_assignments(list(items or []))


def _check_vars(expr: Any, at: dict, need_all: bool = True) -> None:
    uses = ", ".join(expr.variables) or "no variables"
    for name in at:
        if name not in expr.variables:
            raise UsageError(f"unknown variable {name!r} in --at: {expr.source!r} uses {uses}")
    if need_all:
        for v in expr.variables:
            if v not in at:
                raise UsageError(f"missing value for variable {v!r}: give it with --at {v}=VALUE")


def _wrt(text: str | None, expr: Any, at: dict) -> list[str]:
    if text is None:
        return [v for v in at if v in expr.variables]
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise UsageError(f"bad --wrt {text!r}: write variable names separated by commas, as in --wrt x,y")
    out: list[str] = []
    for n in names:
        if n not in expr.variables:
            raise UsageError(f"unknown variable {n!r} in --wrt: {expr.source!r} uses "
                             f"{', '.join(expr.variables) or 'no variables'}")
        if n not in out:
            out.append(n)
    return out


def _range(text: str) -> tuple[float, float]:
    text = text.strip()
    lo, sep, hi = text.partition(":")
    if not sep or ":" in hi or not lo.strip() or not hi.strip():
        raise UsageError(f"bad --range {text!r}: write LOW:HIGH, as in --range -10:10")
    E = _expr_mod()
    a = E.parse_number(lo, "--range low end")
    b = E.parse_number(hi, "--range high end")
    if not a < b:
        raise UsageError(f"empty --range {text}: LOW must be less than HIGH")
    return a, b


def _header(expr: Any, at: dict) -> list[str]:
    lines = [f"f({', '.join(expr.variables)}) = {expr.source}" if expr.variables else f"f = {expr.source}"]
    if expr.variables:
        lines.append("at " + ", ".join(f"{v} = {_num(at[v])}" for v in expr.variables))
    return lines


def _dlabel(combo: Sequence[str]) -> str:
    """('x',) -> df/dx; ('x', 'x') -> d^2f/dx^2; ('x', 'y') -> d^2f/dx dy."""
    k = len(combo)
    den = " ".join(f"d{v}" + (f"^{n}" if n > 1 else "") for v, n in
                   ((v, len(list(g))) for v, g in itertools.groupby(combo)))
    return ("df" if k == 1 else f"d^{k}f") + "/" + den


def _matrix(rows: Sequence[str], cols: Sequence[str], values: Sequence[Sequence[float]]) -> list[str]:
    cells = [[_num(v) for v in row] for row in values]
    rw = max([len(r) for r in rows] + [0])
    cw = [max([len(c)] + [len(r[j]) for r in cells]) for j, c in enumerate(cols)]
    out = [" " * rw + "".join("  " + c.rjust(w) for c, w in zip(cols, cw))]
    for name, r in zip(rows, cells):
        out.append(name.ljust(rw) + "".join("  " + c.rjust(w) for c, w in zip(r, cw)))
    return out


def _leaves(expr: Any, at: dict) -> dict:
    import ndgrad
    return {v: ndgrad.scalar_tensor(at[v], dtype=ndgrad.float64, requires_grad=True) for v in expr.variables}


def _emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _has_display() -> bool:
    return sys.platform in ("win32", "darwin") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _need_matplotlib(what: str) -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ToolError(f"{what} needs matplotlib, which is not installed: pip install 'ndgrad[plot]'") from None
    return matplotlib


# -- diff ----------------------------------------------------------------------------------------------------------
def _cmd_diff(a: argparse.Namespace) -> int:
    E = _expr_mod()
    expr = _parse(a.expr)
    at = _at(a.at)
    _check_vars(expr, at)
    wrt = _wrt(a.wrt, expr, at)
    if a.order < 0 or a.order > 10:
        raise UsageError(f"--order {a.order}: choose an order from 0 to 10")
    res: dict = {"expression": expr.source, "variables": list(expr.variables),
                 "at": {v: _jnum(at[v]) for v in expr.variables}, "wrt": wrt}
    lines = _header(expr, at) + [""]
    if expr.is_vector:
        if a.order > 1 or a.hessian:
            raise UsageError("--order above 1 and --hessian need a scalar expression; "
                             "for a vector expression use --jacobian")
        values, jac = E.jacobian(expr, at, wrt)
        res["value"] = [_jnum(v) for v in values]
        lines.append("f = [" + ", ".join(_num(v) for v in values) + "]")
        if (a.order >= 1 or a.jacobian) and wrt:
            res["jacobian"] = [[_jnum(v) for v in row] for row in jac]
            lines += ["", "Jacobian (rows: components of f; columns: d/d" + ", d/d".join(wrt) + "):"]
            lines += _matrix([f"f[{i}]" for i in range(len(values))], wrt, jac)
    else:
        value, parts = E.partials(expr, at, wrt, a.order)
        res["value"] = _jnum(value)
        labels = ["f"] + [_dlabel(c) for c in parts]
        w = max(len(s) for s in labels)
        lines.append("f".ljust(w) + " = " + _num(value))
        for combo, v in parts.items():
            lines.append(_dlabel(combo).ljust(w) + " = " + _num(v))
        if a.order >= 1 and wrt:
            res["gradient"] = {c[0]: _jnum(v) for c, v in parts.items() if len(c) == 1}
        if parts:
            res["derivatives"] = [{"wrt": list(c), "order": len(c), "value": _jnum(v)} for c, v in parts.items()]
        if a.hessian and wrt:
            h = E.hessian(expr, at, wrt)
            res["hessian"] = [[_jnum(v) for v in row] for row in h]
            lines += ["", "Hessian (d^2f / d<row> d<column>):"] + _matrix(wrt, wrt, h)
        if a.jacobian and wrt:
            _, jac = E.jacobian(expr, at, wrt)
            res["jacobian"] = [[_jnum(v) for v in row] for row in jac]
            lines += ["", "Jacobian (one row: df/d" + ", df/d".join(wrt) + "):"] + _matrix(["f"], wrt, jac)
    if (a.hessian or a.jacobian) and not wrt:
        lines += ["", "(no variables to differentiate with respect to)"]
    _emit(json.dumps(res, indent=2) if a.json else "\n".join(lines))
    return 0


# -- plot ----------------------------------------------------------------------------------------------------------
_NON_INTERACTIVE = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template", "module://matplotlib_inline.backend_inline"}


def _cmd_plot(a: argparse.Namespace) -> int:
    lo, hi = _range(a.range)
    expr = _parse(a.expr)
    if expr.is_vector:
        raise UsageError("plot draws one function: give a scalar expression, not a vector [f1, f2, ...]")
    at = _at(a.at)
    _check_vars(expr, at, need_all=False)
    free = [v for v in expr.variables if v not in at]
    if len(free) > 1:
        raise UsageError(f"plot draws a function of one variable, but {expr.source!r} uses {', '.join(free)}: "
                         f"fix the others with --at {free[1]}=VALUE")
    if not 0 <= a.order <= 6:
        raise UsageError(f"--order {a.order}: plot draws derivatives of order 0 to 6")
    if not 2 <= a.points <= 1_000_000:
        raise UsageError(f"--points {a.points}: choose from 2 to 1000000")
    mpl = _need_matplotlib("ndgrad plot")
    from . import viz
    out = a.output
    if out is not None:
        _check_image_suffix(out)
    if out is None and _has_display():
        import matplotlib.pyplot as plt
        if mpl.get_backend().lower() not in _NON_INTERACTIVE:
            fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="tight")
            viz.plot(expr.source, (lo, hi), a.order, a.points, at, ax=ax)
            plt.show()
            return 0
    mpl.use("Agg")
    path = Path(out or "ndgrad-plot.png")
    fig = viz.plot(expr.source, (lo, hi), a.order, a.points, at)
    _save_figure(fig, path)
    _emit(f"wrote {path}" + ("" if out else " (no display to show it in a window; choose the file with -o)"))
    return 0


def _check_image_suffix(out: str) -> None:
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix and suffix not in ("png", "svg", "pdf", "jpg", "jpeg", "eps", "ps", "webp", "tif", "tiff", "pgf",
                                 "svgz", "raw", "rgba"):
        raise UsageError(f"cannot write a plot as .{suffix}: use .png, .svg or .pdf")


def _save_figure(fig: Any, path: Path) -> None:
    try:
        fig.savefig(path, dpi=120)
    except (OSError, ValueError) as e:
        raise ToolError(f"cannot write {path}: {e}") from None


# -- graph and explain ---------------------------------------------------------------------------------------------
def _build(a: argparse.Namespace) -> tuple[Any, dict, dict, Any]:
    import ndgrad
    expr = _parse(a.expr)
    at = _at(a.at)
    _check_vars(expr, at)
    leaves = _leaves(expr, at)
    with ndgrad.enable_grad():
        out = expr(**leaves)
    return expr, at, leaves, out


def _cmd_graph(a: argparse.Namespace) -> int:
    from . import viz
    expr, _, leaves, out = _build(a)
    names = [f"f[{i}]" for i in range(len(out))] if expr.is_vector else "f"
    g = viz.graph(out, params=leaves, show_saved=a.saved, name=names)
    if a.output is None:
        sys.stdout.write(g.source)
        return 0
    path = Path(a.output)
    fmt = path.suffix.lower().lstrip(".")
    try:
        if fmt in ("", "dot", "gv"):
            path.write_text(g.source, encoding="utf-8")
        elif shutil.which("dot") is None:
            dot_path = path.with_suffix(".dot")
            dot_path.write_text(g.source, encoding="utf-8")
            raise ToolError(f"Graphviz's `dot` program is not installed, so {path} was not rendered; wrote the DOT "
                            f"text to {dot_path} instead (install Graphviz: https://graphviz.org/download/)")
        else:
            g.render(path)
    except OSError as e:
        raise ToolError(f"cannot write {path}: {e.strerror or e}") from None
    except RuntimeError as e:
        if isinstance(e, ToolError):
            raise
        raise ToolError(str(e)) from None
    _emit(f"wrote {path}")
    return 0


def _cmd_explain(a: argparse.Namespace) -> int:
    from . import viz
    expr, at, leaves, out = _build(a)
    if expr.is_vector:
        raise UsageError("explain backpropagates from one output: give a scalar expression, not a vector")
    if not out.requires_grad:
        raise UsageError(f"{expr.source!r} does not depend on any variable: there is no backward pass to explain")
    e = viz.explain(out, params=leaves, name="f")
    if a.json:
        d = {"expression": expr.source, "at": {v: _jnum(at[v]) for v in expr.variables}, **e.to_dict()}
        _emit(json.dumps(d, indent=2))
    else:
        _emit("\n".join(_header(expr, at) + ["", str(e)]))
    return 0


def _cmd_compile(a: argparse.Namespace) -> int:
    import ndgrad
    expr = _parse(a.expr)
    at = _at(a.at)
    _check_vars(expr, at)
    leaves = _leaves(expr, at)
    if expr.is_vector:
        raise UsageError("compile shows the code of one output: give a scalar expression, not a vector")
    names = list(expr.variables)

    def f(*values: Any) -> Any:
        return expr(**dict(zip(names, values)))
    f.__qualname__ = "f"
    compiled = ndgrad.compile(f)
    with ndgrad.enable_grad():
        out = compiled(*leaves.values())
    if not out.requires_grad:
        raise UsageError(f"{expr.source!r} does not depend on any variable: there is no backward pass to compile")
    inputs = ", ".join(f"a{i} = {v}" for i, v in enumerate(names))
    _emit("\n".join(_header(expr, at) + [f"value {_num(out.item())}", "",
                                         f"# inputs: {inputs}; returns f, then what backward needs", compiled.code]))
    return 0


# -- tour ----------------------------------------------------------------------------------------------------------
def _cmd_tour(a: argparse.Namespace) -> int:
    import ndgrad
    from . import _tour
    numbers = [t.split(".")[0] for t, _ in _tour.SCENARIOS]
    if a.list:
        _emit("\n".join(t for t, _ in _tour.SCENARIOS))
        return 0
    for n in a.scenarios:
        if n not in numbers:
            raise UsageError(f"unknown scenario {n!r}: choose from 1 to {len(numbers)} (ndgrad tour --list)")
    _emit("ndgrad tour: the lessons of popular autograd tutorials, each run with `import ndgrad as torch`\n"
          "and shown with what it prints (exactly what PyTorch 2.13 prints).\n\n")
    sys.stdout.flush()
    ok = _tour.tour(ndgrad, a.scenarios or None)
    if not a.no_plot and (not a.scenarios or "12" in a.scenarios):
        try:
            mpl = _need_matplotlib("the tour's plot")
        except ToolError:
            _emit("\nnote: matplotlib is not installed, so the function-and-derivative plot was skipped "
                  "(pip install 'ndgrad[plot]')")
        else:
            from . import viz
            mpl.use("Agg")
            path = Path(a.output or "ndgrad-tour.png")
            fig = viz.plot("x**2", (-10.0, 10.0), order=1, points=201,
                           title="Scenario 12: Y = x**2 and its derivative x.grad = 2x")
            _save_figure(fig, path)
            _emit(f"\nwrote {path}: the function x**2 and its derivative 2x, computed by autograd (scenario 12)")
    if not ok:
        _emit("\nsome lessons raised an error (shown above)")
    return 0 if ok else 1


# -- the parser ----------------------------------------------------------------------------------------------------
_AT_HELP = "values of the variables: NAME=VALUE[,NAME=VALUE...] (repeatable; values may be like pi/2)"


def _parser() -> tuple[_Parser, set]:
    import ndgrad
    p = _Parser(prog="ndgrad", formatter_class=_FORMATTER,
                description="Derivatives, plots, computation graphs and a step-by-step backward pass, computed by "
                            "ndgrad's autograd (PyTorch's, rebuilt on NumPy).\n\nExpressions use Python syntax: "
                            "+ - * / **, numbers, variables, pi and e, and ndgrad's math functions by name.",
                epilog="examples:\n"
                       "  ndgrad diff \"x*y + sin(x)\" --at x=3,y=2\n"
                       "  ndgrad plot \"x**3 - 3*x\" --range -3:3 --order 2 -o plot.png\n"
                       "  ndgrad graph \"x**3 + 2*x**2\" --at x=2 -o graph.svg\n"
                       "  ndgrad explain \"x**3 + 2*x**2\" --at x=2\n"
                       "  ndgrad tour")
    p.add_argument("-V", "--version", action="version", version=f"ndgrad {ndgrad.version.ndgrad}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def add(name: str, help: str, description: str, epilog: str) -> _Parser:
        return sub.add_parser(name, help=help, description=description, epilog="examples:\n" + epilog,
                              formatter_class=_FORMATTER)

    from ._expr import function_names
    funcs = "functions: " + ", ".join(function_names())
    d = add("diff", "value and derivatives of an expression at a point",
            "Print the value of EXPR at a point and its partial derivatives (any order), its Hessian, or the "
            "Jacobian of a vector expression \"[f1, f2, ...]\".\n\n" + funcs,
            "  ndgrad diff \"x**3 + 2*x**2\" --at x=2 --order 2\n"
            "  ndgrad diff \"x*y + sin(x)\" --at x=3,y=2 --hessian\n"
            "  ndgrad diff \"[x*y, sin(x)]\" --at x=3,y=2 --json")
    d.add_argument("expr", metavar="EXPR", help="the expression, e.g. \"x*y + sin(x)\"")
    d.add_argument("--at", action="append", metavar="NAME=VALUE", help=_AT_HELP)
    d.add_argument("--wrt", metavar="NAMES", help="differentiate with respect to these variables only (x,y)")
    d.add_argument("--order", type=int, default=1, metavar="N", help="highest order of derivatives (default 1)")
    d.add_argument("--hessian", action="store_true", help="print the Hessian matrix of a scalar expression")
    d.add_argument("--jacobian", action="store_true", help="print the Jacobian matrix")
    d.add_argument("--json", action="store_true", help="print JSON instead of text")
    d.set_defaults(run=_cmd_diff)

    pl = add("plot", "draw a function and its derivatives",
             "Draw EXPR (a function of one variable) and its derivatives on one chart with a legend (needs "
             "matplotlib: pip install 'ndgrad[plot]'). Without -o the chart is shown in a window when there is a "
             "display, else written to ndgrad-plot.png.",
             "  ndgrad plot \"x**2\" --range -10:10 -o plot.png\n"
             "  ndgrad plot \"sin(x)*exp(-x/4)\" --range 0:4*pi --order 2\n"
             "  ndgrad plot \"a*x**2\" --at a=3 --range -1:1")
    pl.add_argument("expr", metavar="EXPR")
    pl.add_argument("--range", default="-10:10", metavar="LOW:HIGH", help="the interval drawn (default -10:10)")
    pl.add_argument("--order", type=int, default=1, metavar="N", help="draw derivatives up to order N (default 1)")
    pl.add_argument("-o", "--output", metavar="FILE", help="write the chart to FILE (.png, .svg, .pdf)")
    pl.add_argument("--at", action="append", metavar="NAME=VALUE", help="fix the other variables: " + _AT_HELP)
    pl.add_argument("--points", type=int, default=400, metavar="N", help="number of points (default 400)")
    pl.set_defaults(run=_cmd_plot)

    g = add("graph", "the computation graph of an expression",
            "Print the computation graph of EXPR at a point as DOT text: backward nodes named like MulBackward0, "
            "leaves with their names and shapes. With -o FILE.svg/.png/.pdf it is rendered by Graphviz's dot.",
            "  ndgrad graph \"x**3 + 2*x**2\" --at x=2\n"
            "  ndgrad graph \"x*y + sin(x)\" --at x=3,y=2 --saved -o graph.svg")
    g.add_argument("expr", metavar="EXPR")
    g.add_argument("--at", action="append", metavar="NAME=VALUE", help=_AT_HELP)
    g.add_argument("-o", "--output", metavar="FILE", help="write FILE: .dot (DOT text) or .svg/.png/.pdf (Graphviz)")
    g.add_argument("--saved", action="store_true", help="also show the tensors each node saved for backward")
    g.set_defaults(run=_cmd_graph)

    e = add("explain", "the backward pass step by step",
            "Run the backward pass of EXPR at a point node by node, in the engine's order, and print for each "
            "node the gradient flowing in, the gradient sent along each edge, the local derivative, and the "
            "final gradients.",
            "  ndgrad explain \"x**3 + 2*x**2\" --at x=2\n"
            "  ndgrad explain \"x*y + sin(x)\" --at x=3,y=2 --json")
    e.add_argument("expr", metavar="EXPR")
    e.add_argument("--at", action="append", metavar="NAME=VALUE", help=_AT_HELP)
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")
    e.set_defaults(run=_cmd_explain)

    c = add("compile", "the NumPy code ndgrad.compile generates",
            "Trace EXPR once with ndgrad.compile and print the straight-line NumPy code it generates: a forward "
            "function that returns the value and what the backward pass needs, and a backward function that "
            "applies the chain rule, line by line.",
            "  ndgrad compile \"x*y + sin(x)\" --at x=3,y=2")
    c.add_argument("expr", metavar="EXPR")
    c.add_argument("--at", action="append", metavar="NAME=VALUE", help=_AT_HELP)
    c.set_defaults(run=_cmd_compile)

    t = add("tour", "run the tutorial lessons one by one",
            "Run the everyday autograd lessons of popular PyTorch tutorials with ndgrad, showing each snippet "
            "and what it prints, then write the function-and-derivative plot (ndgrad-tour.png).",
            "  ndgrad tour\n  ndgrad tour 3 11 --no-plot\n  ndgrad tour --list")
    t.add_argument("scenarios", nargs="*", metavar="N", help="run only these lessons (numbers)")
    t.add_argument("-o", "--output", metavar="FILE", help="where to write the plot (default ndgrad-tour.png)")
    t.add_argument("--no-plot", action="store_true", help="do not write the plot")
    t.add_argument("--list", action="store_true", help="list the lessons")
    t.set_defaults(run=_cmd_tour)
    r = add("run", "run a PyTorch program unchanged, with `import torch` giving ndgrad",
            "Runs a Python script (or -m MODULE) with `torch`, `torch.*` and `functorch` imported as ndgrad, so a\n"
            "program written for PyTorch runs on ndgrad as it is. Its own arguments follow the script name.",
            "  ndgrad run train.py --epochs 3\n  ndgrad run -m mypackage.train")
    r.add_argument("script", metavar="SCRIPT", help="the program (then its arguments)")

    known = {s for parser in (p, d, pl, g, e, t) for act in parser._actions for s in act.option_strings}
    return p, known


_OPTION = re.compile(r"--[A-Za-z][\w-]*(=.*)?", re.S)


def _protect(argv: list[str], known: set) -> list[str]:
    """Tokens starting with '-' that are not options (a range like -10:10, an expression like -x**2, a
    negative value) get a leading space, so that argparse takes them as values. Values are stripped later."""
    out = []
    for k, t in enumerate(argv):
        if t == "--":
            return out + argv[k:]
        if t.startswith("-") and len(t) > 1:
            head = t.split("=", 1)[0]
            if head in known or (t[1] != "-" and t[:2] in known) or _OPTION.fullmatch(t):
                out.append(t)
                continue
            t = " " + t
        out.append(t)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0 success, 1 missing tool or failed lesson, 2 bad input)."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    prog = "ndgrad"
    if args_in[:1] == ["run"] and args_in[1:2] not in (["-h"], ["--help"]):
        from ._alias import run  # everything after `run` belongs to the program
        return run(args_in[1:])
    try:
        parser, known = _parser()
        args = parser.parse_args(_protect(args_in, known))
        if args.command is None:
            parser.print_help()
            return 0
        prog = f"ndgrad {args.command}"
        return int(args.run(args) or 0)
    except SystemExit as e:  # --help, --version
        return e.code if isinstance(e.code, int) else 0
    except UsageError as e:
        return _fail(e.prog or prog, str(e), 2)
    except ToolError as e:
        return _fail(prog, str(e), 1)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except Exception as e:
        from ._expr import ExprError
        if isinstance(e, ExprError):
            return _fail(prog, str(e), 2)
        if os.environ.get("NDGRAD_DEBUG"):
            raise
        return _fail(prog, f"internal error: {type(e).__name__}: {e} (set NDGRAD_DEBUG=1 for the traceback)", 1)


def _fail(prog: str, message: str, code: int) -> int:
    sys.stdout.flush()
    sys.stderr.write(f"{prog}: error: {' '.join(message.split())}\n")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
