"""Each op's forward call, written out for that op (code generation from the op table).

`_Op1.__call__` and `_Op2.__call__` in `_registry.py` are the definition of what calling a one- or two-input op does:
dispatch, dtype fast paths, the forward, and the node (`_record1`/`_record2`); `Op.__call__` with `_record` and
`_make_node` for other ops (here: up to three inputs, one output, every input a Tensor, no cast). They serve every
op, so at each call they read the op's attributes, look up what to save for the inputs that require grad
(`Op._plan`) and loop over it. Once an op is called often, `specialize` gives the op a class of its own whose
`__call__` is that same code with the op's facts filled in: its forward function, its node class, and for every
combination of inputs that require grad the literal list of values to save and version checks to make (an op class
may put its own first test in front: its `_prelude`, as reshape's test for a copy). What the op computes and
records is unchanged; only the lookups go. (Not at the first call: at the GENERATE_AFTER-th, since generating and
compiling costs about half a millisecond per op.) Calls the generated code does not cover (other dtypes, other
operand kinds, several outputs, views of two inputs) go to `Op.__call__`, as they did before.

The op keeps its class's name and base (`isinstance(op, _Op2)` holds). Forward mode and the profiler wrap the
`__call__` of every Op class they find when they start, so a specialised class is wrapped like any other; while
they are active no op is specialised (the new class would escape their wrapper). `Op.defvjp` on a specialised op
puts it back on its base class, so that the next call generates code from the new formulas.
"""
from __future__ import annotations

import linecache
import os
from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _new
from ..autograd.graph import _seq
from ..autograd.grad_mode import state as _mode
from . import _registry as R

_SAME = R._SAME
_HERE = os.path.dirname(os.path.abspath(__file__))


def _env(op: R.Op) -> dict:
    return {"__name__": __name__, "Tensor": Tensor, "ndarray": np.ndarray, "np": np, "new": _new, "fwd": op.fwd,
            "mode": _mode, "next_seq": _seq.__next__, "edge": R._edge, "NO_EDGE": R._NO_EDGE,
            "SAME": _SAME, "SAME1": R._SAME1, "SAME2": R._SAME2, "SAME_NONE": (_SAME, None),
            "NONE_SAME": (None, _SAME), "op_call": R.Op.__call__, "D": D}


def _result_lines(pad: str, vc: str = "[0]") -> list:
    """The lines that make the output tensor `res` around `out` (what `_wrap` does), with version counter `vc`."""
    return [f"{pad}res = new(Tensor)", f"{pad}res._data = out", f"{pad}res._vc = rvc = {vc}",
            f"{pad}res._output_nr = 0", f"{pad}res._grad = None"]


def _plain_end(pad: str) -> list:
    """The lines that end a call that records no node."""
    return [f"{pad}res._requires_grad = False", f"{pad}res.grad_fn = None", f"{pad}return res"]


def _saved_lines(op: R.Op, mask: int, pad: str, values: dict, versions: dict) -> list:
    """The lines that set node._saved, _versions and _keep for the inputs in bitmask `mask`: `values[j]` is the
    expression of argument j's saved value, `versions[j]` its version entry (None: none; a pair (condition, entry)
    for an entry made only when the condition holds)."""
    keep_pos, _tensor_pos, save_res, keep = op._plan(mask)
    nargs = op.nargs
    if not keep_pos and not save_res:
        return [f"{pad}node._saved = None", f"{pad}node._versions = ()"]
    items = ["None"] * (nargs + 1)
    fixed, conditional = [], []
    for j in keep_pos:
        items[j] = values[j]
        v = versions.get(j)
        if v is None:
            continue
        if isinstance(v, tuple):
            conditional.append(v)
        else:
            if conditional:  # (keep the order of the entries: a conditional one before a fixed one is not generated)
                raise AssertionError("version entries out of order")
            fixed.append(v)
    if save_res:
        items[nargs] = "out"
    lines = [f"{pad}node._saved = [{', '.join(items)}]"]
    res_entry = [f"({nargs}, rvc, rvc[0], None)"] if save_res else []
    if not conditional:
        lines.append(f"{pad}node._versions = [{', '.join(fixed + res_entry)}]")
    else:
        lines.append(f"{pad}versions = [{', '.join(fixed)}]")
        for cond, entry in conditional:
            lines += [f"{pad}if {cond}:", f"{pad}    versions.append({entry})"]
        if res_entry:
            lines.append(f"{pad}versions.append({res_entry[0]})")
        lines.append(f"{pad}node._versions = versions")
    if keep:
        lines.append(f"{pad}node._keep = True")
    return lines


def _gen1(op: R.Op) -> Callable:
    """`_Op1.__call__` + `_record1` for one op."""
    env = _env(op)
    nargs = op.nargs
    lines = ["def __call__(self, *args):",
             "    x = args[0]",
             "    if not isinstance(x, Tensor):",
             "        if x.__class__ is ndarray:",
             "            return fwd(*args)  # (inside a formula during backward: just the forward)",
             "        return op_call(self, *args)",
             "    data = x._data"]
    prelude = getattr(type(op), "_prelude", ())  # an op class's own first test (reshape: a copy, not a view)
    if prelude:
        lines += list(prelude)
        env.update(type(op)._prelude_env())
    if op.rule == R.FLOAT:
        lines += ["    if data.dtype.kind not in 'fcV':",
                  "        data = data.astype(D._DEFAULT[0].np)"]
    lines += ["    out = fwd(data) if len(args) == 1 else fwd(data, *args[1:])",
              "    if out.__class__ is not ndarray:",
              "        out = np.asarray(out)  # (looked up at the call: compile's tracer replaces it)"]
    lines += _result_lines("    ", "x._vc" if op.view else "[0]")
    if op.has_vjp:
        env["node_cls"] = op.node_cls
        lines += ["    if x._requires_grad and mode.enabled and out.dtype.kind in 'fcV':",
                  "        res._requires_grad = True",
                  "        fn = x.grad_fn",
                  "        node = new(node_cls)",
                  "        node.next_functions = ((fn, x._output_nr) if fn is not None else edge(x),)",
                  "        xd = x._data",
                  "        node._meta = SAME1 if xd.shape == out.shape and xd.dtype is out.dtype else "
                  "((xd.shape, xd.dtype),)"]
        keep_pos, tensor_pos, save_res, keep = op._plan(1)
        if keep_pos or save_res:
            lines += [f"        saved = [*args, None] if len(args) == {nargs} else "
                      f"[*args, *[None] * ({nargs + 1} - len(args))]",
                      "        saved[0] = " + ("xd" if tensor_pos else "None")]
            entries = ["(0, x._vc, x._vc[0], x)"] if tensor_pos else []
            if save_res:
                lines.append(f"        saved[{nargs}] = out")
                entries.append(f"({nargs}, rvc, rvc[0], None)")
            lines += ["        node._saved = saved", f"        node._versions = [{', '.join(entries)}]"]
            if keep:
                lines.append("        node._keep = True")
        else:
            lines += ["        node._saved = None", "        node._versions = ()"]
        lines += ["        node._seq = next_seq()",
                  "        res.grad_fn = node",
                  "    else:"]
        pad = "        "
    else:
        pad = "    "
    lines += [f"{pad}res._requires_grad = False", f"{pad}res.grad_fn = None"]
    if op.view:  # how to get from the base to this view, for in-place ops on it (CopySlices)
        lines += ["    base = x._base",
                  "    if base is None:",
                  "        res._base, res._view_chain = x, ((self, args[1:]),)",
                  "    else:",
                  "        res._base, res._view_chain = base, x._view_chain + ((self, args[1:]),)"]
    lines.append("    return res")
    return _compile(op, lines, env)


def _gen2(op: R.Op) -> Callable:
    """`_Op2.__call__` + `_record2` for one op (not a view)."""
    env = _env(op)
    env.update(SCALARS=R._SCALARS, scalar_array=R.scalar_array, check_broadcast=R._check_broadcast,
               record2=R._record2, plain2=op.plain2)
    promote_float = " or da.dtype.kind not in 'fcV'" if op.rule == R.PROMOTE_FLOAT else ""
    lines = ["def __call__(self, *args):",
             "    a = args[0]",
             "    if not isinstance(a, Tensor):",
             "        if a.__class__ is ndarray and not isinstance(args[1], Tensor):",
             "            return fwd(*args)  # (inside a formula during backward: just the forward)",
             "        return op_call(self, *args)",
             "    b = args[1]",
             "    da = a._data",
             "    if isinstance(b, Tensor):",
             "        db = b._data",
             f"        if da.dtype is not db.dtype{promote_float}:",
             "            return op_call(self, *args)",
             "        rb = b._requires_grad",
             "        bt = True",
             "    elif (b.__class__ is float or b.__class__ is int) and da.dtype.kind in 'fV':",
             "        cache = SCALARS.get(da.dtype)",
             "        db = cache.get(b) if cache is not None else None",
             "        if db is None or not b:  # (a zero: -0.0 == 0, so the dict cannot tell the two apart)",
             "            db = scalar_array(b, da.dtype)",
             "        rb = False",
             "        bt = False",
             "    else:",
             "        return op_call(self, *args)",
             "    try:",
             "        if len(args) == 2:",
             "            out = fwd(da, db)"]
    if op.plain2 is not None:
        lines += ["        elif len(args) == 3 and args[2].__class__ is int and args[2] == 1 and "
                  "da.dtype.kind in 'fc':",
                  "            out = plain2(da, db)"]
    lines += ["        else:",
              "            out = fwd(da, db, *args[2:])",
              "    except ValueError:",
              "        check_broadcast(da.shape, getattr(db, 'shape', ()))",
              "        raise",
              "    if out.__class__ is not ndarray:",
              "        out = np.asarray(out)  # (looked up at the call: compile's tracer replaces it)"]
    lines += _result_lines("    ")
    if not op.has_vjp:
        return _compile(op, lines + _plain_end("    "), env)
    env["node_cls"] = op.node_cls
    da_, db_ = op.vjps[0] is not None, op.vjps[1] is not None
    e2 = op.edge2
    lines += ["    ra = a._requires_grad",
              "    if not (ra or rb) or not mode.enabled or out.dtype.kind not in 'fcV':"] + _plain_end("        ") + \
             ["    if bt:",
              "        so = out.shape",
              "        same = da.shape == so and db.shape == so and da.dtype is out.dtype",
              "    else:",
              "        same = True"]
    values = {0: "da", 1: "db", **{j: f"args[{j}]" for j in range(2, op.nargs)}}

    def branch(mask: int, pad: str) -> list:
        ea = "ea" if mask & 1 else "NO_EDGE"
        eb = "eb" if mask & 2 else "NO_EDGE"
        nf = f"({ea}, {eb})" if e2 == 3 else f"({ea},)" if e2 == 1 else f"({eb},)"
        if mask == 3:
            meta = "SAME2 if same else ((da.shape, da.dtype), (db.shape, db.dtype))"
        elif mask == 1:
            meta = "SAME_NONE if same else ((da.shape, da.dtype), None)"
        else:
            meta = "NONE_SAME if same else (None, (db.shape, db.dtype))"
        # a number operand (mask 1 only) has no version; a tensor b always does
        vb = ("bt", "(1, b._vc, b._vc[0], b)") if mask == 1 else "(1, b._vc, b._vc[0], b)"
        body = [f"{pad}node = new(node_cls)", f"{pad}node.next_functions = {nf}", f"{pad}node._meta = {meta}"]
        body += _saved_lines(op, mask, pad, values, {0: "(0, a._vc, a._vc[0], a)", 1: vb})
        return body

    edge_a = ["        fn = a.grad_fn", "        ea = (fn, a._output_nr) if fn is not None else edge(a)"]
    edge_b = ["fn = b.grad_fn", "eb = (fn, b._output_nr) if fn is not None else edge(b)"]
    if da_ and db_:
        lines += ["    if ra:"] + edge_a + \
                 ["        if rb:"] + ["            " + s for s in edge_b] + branch(3, "            ") + \
                 ["        else:"] + branch(1, "            ") + \
                 ["    elif rb:"] + ["        " + s for s in edge_b] + branch(2, "        ") + \
                 ["    else:", "        return record2(self, a, b, args, out, None, da, db)"]
    elif da_:
        lines += ["    if ra:"] + edge_a + branch(1, "        ") + \
                 ["    else:", "        return record2(self, a, b, args, out, None, da, db)"]
    elif db_:
        lines += ["    if rb:"] + ["        " + s for s in edge_b] + branch(2, "        ") + \
                 ["    else:", "        return record2(self, a, b, args, out, None, da, db)"]
    else:
        lines += ["    return record2(self, a, b, args, out, None, da, db)"]
    lines += ["    res._requires_grad = True", "    node._seq = next_seq()",
              "    res.grad_fn = node", "    return res"]
    return _compile(op, lines, env)


def _genN(op: R.Op) -> Callable:
    """`Op.__call__` + `_record`/`_make_node` for one op of up to three inputs and one output (addmm, where,
    addcmul...): the fast path when every input is a Tensor and no input needs a cast; all else goes to
    `Op.__call__` (numbers, arrays inside a formula, other dtypes, errors)."""
    env = _env(op)
    n, nargs = op.n_in, op.nargs
    a = [f"a{i}" for i in range(n)]
    d = [f"d{i}" for i in range(n)]
    lines = ["def __call__(self, *args):",
             f"    if len(args) < {n}:",
             "        return op_call(self, *args)",
             f"    {', '.join(a)}, = args[:{n}]",
             f"    if not ({' and '.join(f'isinstance({x}, Tensor)' for x in a)}):",
             "        return op_call(self, *args)",
             f"    {', '.join(d)}, = {', '.join(x + '._data' for x in a)},"]
    if op.rule not in (R.NONE, R.SAME):  # no cast needed: the promoted inputs share one dtype (a float one, for
        pos = list(op.promote)           # the rules that make integers float)
        if pos:
            first = d[pos[0]]
            tests = [f"{d[i]}.dtype is not {first}.dtype" for i in pos[1:]]
            if op.rule in (R.PROMOTE_FLOAT, R.FLOAT):
                tests.append(f"{first}.dtype.kind not in 'fcV'")
            if tests:
                lines += [f"    if {' or '.join(tests)}:", "        return op_call(self, *args)"]
    call = ", ".join(d)
    lines += ["    try:",
              f"        out = fwd({call}) if len(args) == {n} else fwd({call}, *args[{n}:])",
              "    except (ValueError, OverflowError):",
              "        return op_call(self, *args)  # (torch's error, or integers wrapped, from the generic call)",
              "    if out.__class__ is not ndarray:",
              "        out = np.asarray(out)  # (looked up at the call: compile's tracer replaces it)"]
    lines += _result_lines("    ", "a0._vc" if op.view else "[0]")
    reqs = " or ".join(f"{x}._requires_grad" for x in a)
    if op.has_vjp:
        env["node_cls"] = op.node_cls
        diff = [i for i in range(n) if op.vjps[i] is not None]
        edge_pos = op.edge_inputs if op.edge_inputs is not None else tuple(range(n))
        values = {**{i: d[i] for i in range(n)}, **{j: f"args[{j}]" for j in range(n, nargs)}}
        versions = {i: f"({i}, {a[i]}._vc, {a[i]}._vc[0], {a[i]})" for i in range(n)}

        def leaf(mask: int, pad: str) -> list:
            edges = [f"e{i}" if mask >> i & 1 else "NO_EDGE" for i in range(n)]
            meta = [f"({d[i]}.shape, {d[i]}.dtype)" if mask >> i & 1 else "None" for i in range(n)]
            nf = ", ".join(edges[i] for i in edge_pos)
            body = [f"{pad}node = new(node_cls)",
                    f"{pad}node.next_functions = ({nf}{',' if len(edge_pos) == 1 else ''})",
                    f"{pad}node._meta = ({', '.join(meta)}{',' if n == 1 else ''})"]
            return body + _saved_lines(op, mask, pad, values, versions)

        def tree(k: int, mask: int, pad: str) -> list:
            if k == len(diff):
                return leaf(mask, pad)
            i = diff[k]
            return [f"{pad}if {a[i]}._requires_grad:",
                    f"{pad}    fn = {a[i]}.grad_fn",
                    f"{pad}    e{i} = (fn, {a[i]}._output_nr) if fn is not None else edge({a[i]})"] + \
                tree(k + 1, mask | 1 << i, pad + "    ") + [f"{pad}else:"] + tree(k + 1, mask, pad + "    ")

        lines += [f"    if ({reqs}) and mode.enabled and out.dtype.kind in 'fcV':"] + tree(0, 0, "        ") + \
                 ["        node._seq = next_seq()",
                  "        res._requires_grad = True",
                  "        res.grad_fn = node",
                  "        return res"]
    return _compile(op, lines + _plain_end("    "), env)


def _compile(op: R.Op, lines: list, env: dict) -> Callable:
    src = "\n".join(lines) + "\n"
    # a file name inside the package (tracebacks and warnings treat the frame as ndgrad's own), whose lines
    # linecache serves, so that a traceback through generated code shows it
    name = os.path.join(_HERE, f"<generated {op.name}.__call__ {len(SPECIALIZED)}>")
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    exec(compile(src, name, "exec"), env)  # noqa: S102 (generated from the op table)
    fn = env["__call__"]
    fn._src = src  # type: ignore[attr-defined]
    return fn


SPECIALIZED: list = []  # the ops given a class of their own (enable(False) puts them back on their base class)


def specialize(op: Any) -> None:
    """Give `op` (whose class is exactly `Op`, `_Op1` or `_Op2`, or an `_Op1` class with a `_prelude`) a class of its
    own with its generated `__call__` (made once per op and kept, until `Op.defvjp` changes its formulas)."""
    base = type(op)
    cls = op.__dict__.get("_gen_cls")
    if cls is None:
        if base is R._Op1 or base.__dict__.get("_prelude"):
            fn = _gen1(op)
        elif base is R._Op2 and not op.view:
            fn = _gen2(op)
        elif base is R.Op and not (op.variadic or op.multi) and 1 <= op.n_in <= 3:
            fn = _genN(op)
        else:
            op.__class__ = R._OpGeneric  # (nothing generated: the generic call, without the test for a first call)
            return
        cls = op._gen_cls = type(base.__name__, (base,), {"__call__": fn, "_base_cls": base})
        SPECIALIZED.append(op)
    op.__class__ = cls


def enable(on: bool) -> None:
    """Generated calls on or off. Off while anomaly mode or a saved-tensor hook is active: those instrument the
    generic record functions (autograd/_instrument.py), which the generated code does not call."""
    R._GENERATE = on
    if not on:
        for op in SPECIALIZED:
            base = type(op).__dict__.get("_base_cls")
            if base is not None:
                op.__class__ = base
