"""Safe math expressions for the `ndgrad` command: parse with an allow-list over Python's `ast`, evaluate on Tensors.

`parse("x*y + sin(x)")` checks every node of the syntax tree against a short allow-list (numbers,
variables, `+ - * / **`, unary minus, calls of ndgrad's math functions by name, and one top-level list
for a vector expression) and compiles it into a small stack program. Nothing is ever passed to `eval`
or `compile`, and no Python name is looked up: `__import__('os')`, attribute access, subscripts,
lambdas, comprehensions, strings... are refused with an `ExprError` that names the offending part.

The second half computes derivatives of a parsed expression with ndgrad's autograd (float64):
partial derivatives of any order (repeated `autograd.grad` with `create_graph=True`), Hessians and
Jacobians (`autograd.functional`).
"""
from __future__ import annotations

import ast
import itertools
import math
from typing import Any, Sequence

__all__ = ["Expr", "ExprError", "parse", "parse_number", "parse_assignments", "function_names",
           "partials", "hessian", "jacobian", "CONSTANTS"]

MAX_LENGTH = 1000      # characters: keeps parsing and evaluation cheap and shallow
MAX_NODES = 2000

CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}

# name -> allowed argument counts. Only names that ndgrad actually provides are accepted.
_FUNCTIONS: dict[str, tuple[int, ...]] = {
    **{n: (1,) for n in (
        "abs", "acos", "acosh", "arccos", "arcsin", "arctan", "asin", "asinh", "atan", "atanh", "ceil", "cos",
        "cosh", "deg2rad", "erf", "erfc", "exp", "exp2", "expm1", "floor", "frac", "lgamma", "log", "log10",
        "log1p", "log2", "logit", "neg", "negative", "reciprocal", "relu", "round", "rsqrt", "sigmoid", "sign",
        "sin", "sinc", "sinh", "sqrt", "square", "tan", "tanh", "trunc")},
    **{n: (2,) for n in ("pow", "atan2", "arctan2", "hypot", "fmod", "remainder", "xlogy", "logaddexp",
                         "maximum", "minimum")},
    "clamp": (2, 3), "clip": (2, 3),
}
# arguments after the first that stay Python numbers (so `pow(x, 2)` is `x**2`, clamp takes number bounds)
_NUMBER_ARGS = {"pow": (1,), "clamp": (1, 2), "clip": (1, 2)}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED_BINOPS = {
    ast.BitXor: "'^' is bitwise xor in Python: write powers as x**2",
    ast.MatMult: "'@' (matrix product) is not supported in expressions",
    ast.FloorDiv: "'//' (floor division) is not supported in expressions",
    ast.Mod: "'%' is not supported in expressions: use fmod(a, b) or remainder(a, b)",
    ast.LShift: "'<<' is not supported in expressions", ast.RShift: "'>>' is not supported in expressions",
    ast.BitOr: "'|' is not supported in expressions", ast.BitAnd: "'&' is not supported in expressions",
}
_WHAT = {
    ast.Attribute: "attribute access is", ast.Subscript: "subscripts are", ast.Lambda: "lambda is",
    ast.ListComp: "comprehensions are", ast.SetComp: "comprehensions are", ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "generator expressions are", ast.Dict: "dicts are", ast.Set: "sets are",
    ast.JoinedStr: "f-strings are", ast.FormattedValue: "f-strings are", ast.Compare: "comparisons are",
    ast.BoolOp: "'and'/'or' are", ast.IfExp: "conditional expressions are", ast.NamedExpr: "assignments (:=) are",
    ast.Starred: "starred arguments are", ast.Await: "await is", ast.Yield: "yield is", ast.YieldFrom: "yield is",
    ast.Slice: "slices are",
}


class ExprError(ValueError):
    """A refused or malformed expression. `str()` is one line naming the offending part."""

    def __init__(self, message: str, source: str = "", node: Any = None, col: int | None = None) -> None:
        segment = None
        if node is not None:
            col = getattr(node, "col_offset", None)
            try:
                segment = ast.get_source_segment(source, node)
            except Exception:  # pragma: no cover - defensive
                segment = None
        where = ""
        if col is not None:
            where = f" (column {col + 1}"
            where += f": {_clip(segment)})" if segment else ")"
        super().__init__(message + where)
        self.reason = message
        self.col = col
        self.segment = segment


def _syntax_error(msg: str, col: int, near: str) -> ExprError:
    e = ExprError(f"cannot parse the expression: {msg}")
    e.args = (f"{e.reason} (column {col + 1}: {near})",)
    e.col, e.segment = col, near
    return e


def _clip(s: str, n: int = 60) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[:n - 3] + "..."


def function_names() -> list[str]:
    """The math functions an expression may call (those of the list that this ndgrad provides)."""
    import ndgrad
    return sorted(n for n in _FUNCTIONS if hasattr(ndgrad, n))


class Expr:
    """A checked expression: `source`, `variables` (in order of first use), `is_vector`, and a stack program.

    Call it with the variables' values (Tensors or numbers): `expr(x=t)` returns a Tensor, or a list of
    Tensors for a vector expression `[f1, f2, ...]`.
    """

    def __init__(self, source: str, program: list, variables: tuple, size: int | None) -> None:
        self.source = source
        self._program = program
        self.variables = variables
        self.size = size                 # number of components of a vector expression, else None

    @property
    def is_vector(self) -> bool:
        return self.size is not None

    def __repr__(self) -> str:
        return f"Expr({self.source!r})"

    def __call__(self, *args: Any, **values: Any) -> Any:
        if args:
            if len(args) > len(self.variables):
                raise TypeError(f"expression takes {len(self.variables)} variables, got {len(args)}")
            values = {**dict(zip(self.variables, args)), **values}
        import ndgrad
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise ExprError(f"no value for variable {missing[0]!r}")
        stack: list = []
        push, pop = stack.append, stack.pop
        for ins in self._program:
            kind = ins[0]
            if kind == "num":
                push(ins[1])
            elif kind == "var":
                push(values[ins[1]])
            elif kind == "bin":
                b = pop()
                a = pop()
                if not (isinstance(a, ndgrad.Tensor) or isinstance(b, ndgrad.Tensor)):
                    a = _lift(a)
                op = ins[1]
                push(a + b if op == "+" else a - b if op == "-" else a * b if op == "*" else a / b if op == "/"
                     else a ** b)
            elif kind == "neg":
                a = pop()
                push(-(_lift(a)) if not isinstance(a, ndgrad.Tensor) else -a)
            elif kind == "call":
                name, n = ins[1], ins[2]
                args_ = stack[len(stack) - n:]
                del stack[len(stack) - n:]
                keep = _NUMBER_ARGS.get(name, ())
                args_ = [a if (k in keep and isinstance(a, (int, float))) else _lift(a) for k, a in enumerate(args_)]
                push(getattr(ndgrad, name)(*args_))
            elif kind == "list":
                n = ins[1]
                items = [_lift(a) for a in stack[len(stack) - n:]]
                del stack[len(stack) - n:]
                push(items)
        out = stack[0]
        return out if isinstance(out, list) else _lift(out)


def _lift(v: Any) -> Any:
    """A Python number becomes a 0-d float64 Tensor; Tensors pass through."""
    import ndgrad
    if isinstance(v, ndgrad.Tensor):
        return v
    return ndgrad.scalar_tensor(float(v), dtype=ndgrad.float64)


def parse(source: str, allow_vector: bool = True) -> Expr:
    """Check `source` against the allow-list and compile it. Raises `ExprError` (one line) if refused."""
    if not isinstance(source, str):
        raise ExprError(f"an expression must be a string, not {type(source).__name__}")
    if not source.strip():
        raise ExprError("empty expression")
    if len(source) > MAX_LENGTH:
        raise ExprError(f"expression too long ({len(source)} characters; at most {MAX_LENGTH})")
    if "\x00" in source:
        raise ExprError("the expression contains a NUL character")
    text = source.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        col = max((e.offset or 1) - 1, 0) if (e.lineno or 1) == 1 else None
        msg = (e.msg or "invalid syntax").split(" (")[0]
        if msg.startswith("invalid syntax") or msg.startswith("invalid decimal literal"):
            msg += "; write products with '*' (2*x), powers with '**' and calls as sin(x)"
        if col is not None and col < len(text):
            raise _syntax_error(msg, col, text[col:col + 20]) from None
        raise ExprError(f"cannot parse the expression: {msg}") from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise ExprError(f"cannot parse the expression: {type(e).__name__}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExprError(f"expression too large ({len(nodes)} syntax nodes; at most {MAX_NODES})")
    available = set(function_names())
    body = tree.body
    size = None
    if isinstance(body, (ast.List, ast.Tuple)):
        if not allow_vector:
            raise ExprError("a vector expression is not allowed here", text, body)
        if not body.elts:
            raise ExprError("empty vector expression", text, body)
        size = len(body.elts)
        for elt in body.elts:
            if isinstance(elt, (ast.List, ast.Tuple)):
                raise ExprError("nested vectors are not supported: write one list [f1, f2, ...]", text, elt)
    variables: dict = {}
    called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
    for node in nodes:
        if id(node) not in called:
            _check(node, text, body, available, variables)
    names = sorted((n for n in nodes if isinstance(n, ast.Name) and n.id in variables),
                   key=lambda n: (n.lineno, n.col_offset))
    order = tuple(dict.fromkeys(n.id for n in names))  # in order of first appearance in the text
    return Expr(text, _compile(body), order, size)


def _check(node: ast.AST, text: str, body: ast.AST, available: set, variables: dict) -> None:
    t = type(node)
    if t in (ast.Expression, ast.Load, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd):
        return
    if t in (ast.List, ast.Tuple):
        if node is not body:
            raise ExprError("lists and tuples are only allowed as the whole expression ([f1, f2, ...])",
                            text, node)
        return
    if t is ast.Constant:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            what = ("booleans are" if isinstance(v, bool) else "strings are" if isinstance(v, (str, bytes))
                    else "complex numbers are" if isinstance(v, complex) else f"{v!r} is")
            raise ExprError(f"{what} not allowed: only real numbers", text, node)
        return
    if t is ast.Name:
        name = node.id
        if name.startswith("_"):
            raise ExprError(f"name {name!r} is refused: names starting with '_' are not allowed", text, node)
        if name in _FUNCTIONS:
            raise ExprError(f"{name!r} is a function: call it, as in {name}(x)", text, node)
        if name not in CONSTANTS:
            variables.setdefault(name, None)
        return
    if t is ast.BinOp:
        if type(node.op) not in _BINOPS:
            raise ExprError(_REFUSED_BINOPS.get(type(node.op), f"operator {type(node.op).__name__} is not allowed"),
                            text, node)
        return
    if t is ast.UnaryOp:
        if type(node.op) not in (ast.USub, ast.UAdd):
            what = "'not'" if isinstance(node.op, ast.Not) else "'~'"
            raise ExprError(f"{what} is not allowed in expressions", text, node)
        return
    if t is ast.Call:
        f = node.func
        if not isinstance(f, ast.Name):
            what = "attribute access" if isinstance(f, ast.Attribute) else "calling the result of an expression"
            raise ExprError(f"{what} is not allowed: only ndgrad's math functions can be called by name", text,
                            f if isinstance(f, ast.Attribute) else node)
        name = f.id
        if name not in _FUNCTIONS:
            raise ExprError(f"{name!r} is not an allowed function; allowed: {', '.join(sorted(available))}",
                            text, node)
        if name not in available:
            raise ExprError(f"{name!r} is not available in this version of ndgrad", text, node)
        if node.keywords:
            raise ExprError(f"keyword arguments are not allowed in {name}()", text, node)
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise ExprError("starred arguments are not allowed", text, a)
        n = len(node.args)
        if n not in _FUNCTIONS[name]:
            want = " or ".join(str(k) for k in _FUNCTIONS[name])
            raise ExprError(f"{name}() takes {want} argument{'s' if _FUNCTIONS[name] != (1,) else ''}, got {n}",
                            text, node)
        return
    if t is ast.keyword:
        return  # reported by its Call
    what = _WHAT.get(t, f"{type(node).__name__} is")
    raise ExprError(f"{what} not allowed in expressions", text, node)


def _compile(body: ast.AST) -> list:
    """Post-order walk (iterative) into a stack program."""
    program: list = []
    stack: list = [(body, False)]
    while stack:
        node, done = stack.pop()
        t = type(node)
        if t is ast.Constant:
            program.append(("num", node.value))
        elif t is ast.Name:
            program.append(("num", CONSTANTS[node.id]) if node.id in CONSTANTS else ("var", node.id))
        elif done:
            if t is ast.BinOp:
                program.append(("bin", _BINOPS[type(node.op)]))
            elif t is ast.UnaryOp:
                if isinstance(node.op, ast.USub):
                    program.append(("neg",))
            elif t is ast.Call:
                program.append(("call", node.func.id, len(node.args)))
            else:
                program.append(("list", len(node.elts)))
        else:
            stack.append((node, True))
            kids = ([node.left, node.right] if t is ast.BinOp else [node.operand] if t is ast.UnaryOp
                    else list(node.args) if t is ast.Call else list(node.elts))
            stack.extend((k, False) for k in reversed(kids))
    return program


def parse_number(text: str, what: str = "value") -> float:
    """A constant expression (`3`, `-1.5`, `pi/2`, `1e-3`) as a float."""
    text = text.strip()
    if not text:
        raise ExprError(f"missing {what}")
    try:
        e = parse(text, allow_vector=False)
    except ExprError as err:
        raise ExprError(f"bad {what} {text!r}: {err}") from None
    if e.variables:
        raise ExprError(f"bad {what} {text!r}: it must be a number, not a variable ({e.variables[0]})")
    import warnings
    import ndgrad
    with ndgrad.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 1/0 is reported below as not finite
        v = float(e().item())
    if not math.isfinite(v):
        raise ExprError(f"bad {what} {text!r}: not a finite number")
    return v


def parse_assignments(items: Sequence[str], option: str = "--at") -> dict[str, float]:
    """`["x=3,y=2", "z=pi"]` -> {"x": 3.0, "y": 2.0, "z": pi}, with one-line errors."""
    out: dict[str, float] = {}
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            name, eq, value = part.partition("=")
            name = name.strip()
            if not name.isidentifier() or name.startswith("_"):
                raise ExprError(f"bad {option} item {part!r}: write NAME=VALUE, as in {option} x=3")
            if name in CONSTANTS:
                raise ExprError(f"{name!r} is a constant ({CONSTANTS[name]:.6g}), not a variable")
            if name in _FUNCTIONS:
                raise ExprError(f"{name!r} is a function name, not a variable")
            if not eq or not value.strip():
                raise ExprError(f"missing value for {name!r} in {option}: write {option} {name}=3")
            if name in out:
                raise ExprError(f"{name!r} is given twice in {option}")
            out[name] = parse_number(value, f"value for {name!r}")
    return out


# -- calculus on expressions ---------------------------------------------------------------------------------------
def _leaves(expr: Expr, at: dict[str, float], wrt: Sequence[str]) -> dict:
    import ndgrad
    return {v: ndgrad.scalar_tensor(float(at[v]), dtype=ndgrad.float64, requires_grad=v in wrt) for v in expr.variables}


def partials(expr: Expr, at: dict[str, float], wrt: Sequence[str], order: int) -> tuple[float, dict]:
    """Value and every partial derivative up to `order`: {("x",): df/dx, ("x", "y"): d2f/dxdy, ...}.

    Mixed partials are listed once, for variables in the order of `wrt` (they commute for smooth f)."""
    import ndgrad
    leaves = _leaves(expr, at, wrt)
    xs = [leaves[w] for w in wrt]
    with ndgrad.enable_grad():
        f = expr(**leaves)
        out: dict = {}
        level = {(): f}
        for k in range(1, order + 1):
            nxt: dict = {}
            last = k == order
            for combo, t in level.items():
                start = wrt.index(combo[-1]) if combo else 0
                if t.requires_grad:
                    gs = ndgrad.autograd.grad(t, xs[start:], create_graph=not last, allow_unused=True)
                else:
                    gs = (None,) * (len(xs) - start)
                for j, g in enumerate(gs):
                    if g is None:
                        g = ndgrad.zeros((), dtype=ndgrad.float64)
                    nxt[combo + (wrt[start + j],)] = g
            out.update({c: float(t.item()) for c, t in nxt.items()})
            level = nxt
    return float(f.item()), out


def hessian(expr: Expr, at: dict[str, float], wrt: Sequence[str]) -> list[list[float]]:
    """The Hessian of a scalar expression over `wrt` (rows and columns in that order)."""
    import ndgrad
    fixed = {v: ndgrad.scalar_tensor(float(at[v]), dtype=ndgrad.float64) for v in expr.variables if v not in wrt}
    xs = tuple(ndgrad.scalar_tensor(float(at[w]), dtype=ndgrad.float64) for w in wrt)

    def f(*args: Any) -> Any:
        return expr(**fixed, **dict(zip(wrt, args)))

    h = ndgrad.autograd.functional.hessian(f, xs)
    return [[float(h[i][j].item()) for j in range(len(wrt))] for i in range(len(wrt))]


def jacobian(expr: Expr, at: dict[str, float], wrt: Sequence[str]) -> tuple[list[float], list[list[float]]]:
    """Value(s) and Jacobian: one row per component (one row for a scalar expression), one column per `wrt`."""
    import ndgrad
    fixed = {v: ndgrad.scalar_tensor(float(at[v]), dtype=ndgrad.float64) for v in expr.variables if v not in wrt}
    xs = tuple(ndgrad.scalar_tensor(float(at[w]), dtype=ndgrad.float64) for w in wrt)

    def f(*args: Any) -> Any:
        out = expr(**fixed, **dict(zip(wrt, args)))
        return ndgrad.stack([o.reshape(()) for o in out]) if isinstance(out, list) else out.reshape((1,))

    with ndgrad.no_grad():
        value = f(*xs)
    values = [float(v) for v in value.tolist()]
    if not wrt:
        return values, [[] for _ in values]
    cols = ndgrad.autograd.functional.jacobian(f, xs)
    return values, [[float(cols[j][i].item()) for j in range(len(wrt))] for i in range(len(values))]


def combinations(wrt: Sequence[str], order: int) -> list[tuple[str, ...]]:
    """The partials listed for `order`, in the order `partials` returns them."""
    return [c for k in range(1, order + 1) for c in itertools.combinations_with_replacement(wrt, k)]
