"""torch's argument parser for ndgrad's public entry points: one signature per function, checked in one place.

Every public function (top level, `nn.functional`, `linalg`, `special`, `fft`) and Tensor method is installed
through `install`/`install_methods`, which put it behind a checker generated from its signature: torch's
signature from `SIGNATURES`/`METHODS` (`_signatures.py`) when it has one, otherwise the Python signature (a
required parameter with one of torch's tensor names must be a tensor; the rest is left to the function). The
checker refuses what torch's parser refuses, with torch's messages:

    add(): argument 'other' (position 2) must be Tensor, not str
    amax(): argument 'keepdim' must be bool, not NoneType
    sum() received an invalid combination of arguments - got (Tensor, dim=float), but expected one of: ...
    sin() got an unexpected keyword argument 'bogus'

and the dtypes torch refuses (`DTYPES`): `erf` of a complex tensor, `mm` of float32 and float64.

A call with valid arguments pays one generated frame with an identity test per argument given; working out
which message applies (overloads, keyword names, list elements, dtypes) happens only on the failure path. The
checker is compiled on a function's first call, into the stand-in's own code object (`import ndgrad` stays
fast, and the function keeps its identity: `activation is F.relu` still holds). Functions that already check
everything themselves (the unary math functions, whose Python signature is torch's) carry `_checked = True` and
are left as they are unless torch refuses some dtype of theirs.
"""
from __future__ import annotations

import inspect
from types import FunctionType as _FunctionType
from typing import Any, Callable

import numpy as np

from ._dtype import dtype as _DT
from ._tensor import Tensor as _T
from ._warn import STUB_FILE as _STUB_FILE

__all__ = ["install", "install_methods", "checked", "type_name"]


# -- the types of torch's signatures ------------------------------------------------------------------------
def type_name(v: Any) -> str:
    """The name torch's messages give the type of `v` (C types are module-qualified: numpy.bool)."""
    t = type(v)
    m = t.__module__
    if m == "numpy":
        return f"numpy.{t.__name__}"
    return t.__name__


def attribute_error(v: Any, attr: str) -> AttributeError:
    """The AttributeError torch's own Python code meets reading `attr` of a wrong argument, marked as deliberate."""
    err = AttributeError(f"'{type_name(v)}' object has no attribute '{attr}'")
    err._mirrors_torch = True  # torch's own Python code fails so (tests tell it from an ndgrad bug)
    return err


def _is_int(v: Any) -> bool:
    if v.__class__ is int:
        return True
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, np.integer)):
        return True
    return isinstance(v, _T) and v._data.ndim == 0 and v._data.dtype.kind in "iu"


def _is_int_or_bool(v: Any) -> bool:
    return v.__class__ is bool or _is_int(v)


def _is_float(v: Any) -> bool:
    """torch's `float`/`double` parameter: a Python or NumPy number, booleans included (its parser's test is
    float-or-int, and bool is an int), or a 0-d tensor."""
    if v.__class__ is float or v.__class__ is int:
        return True
    if isinstance(v, (int, float, np.integer, np.floating, np.bool_)):
        return True
    return isinstance(v, _T) and v._data.ndim == 0 and v._data.dtype.kind in "biuf"


def _is_number(v: Any) -> bool:
    if isinstance(v, (int, float, complex, np.number, np.bool_)):
        return True
    return isinstance(v, _T) and v._data.ndim == 0


def _is_tnum(v: Any) -> bool:
    return isinstance(v, _T) or isinstance(v, (int, float, complex, np.number, np.bool_))


def _int_list_bad(v: Any, allow_int: bool) -> Any:
    """None when `v` is a valid int list; else (element index, element) or -1 (not a sequence at all)."""
    if allow_int and _is_int(v):
        return None
    if isinstance(v, (tuple, list)):
        for j, e in enumerate(v):
            if not _is_int(e):
                return (j, e)
        return None
    if isinstance(v, _T) and v._data.ndim <= 1 and v._data.dtype.kind in "iu":
        return None
    return -1


def _is_int_list(v: Any) -> bool:
    return _int_list_bad(v, False) is None


def _is_int_list1(v: Any) -> bool:
    return _int_list_bad(v, True) is None


def _float_list_bad(v: Any) -> Any:
    if isinstance(v, (tuple, list)):
        for j, e in enumerate(v):
            if not _is_float(e):
                return (j, e)
        return None
    return -1


def _is_float_list(v: Any) -> bool:
    return _float_list_bad(v) is None


def _is_tensor_list(v: Any) -> bool:
    if isinstance(v, (tuple, list)):
        for e in v:
            if not isinstance(e, _T):
                return False
        return True
    return False


def _is_tensor_list_opt(v: Any) -> bool:
    if isinstance(v, (tuple, list)):
        for e in v:
            if e is not None and not isinstance(e, _T):
                return False
        return True
    return False


# type -> (display name in messages, inline condition on `{v}` or None (unchecked), slow predicate)
_TYPES: dict = {
    "Tensor": ("Tensor", "({v}.__class__ is _T or isinstance({v}, _T))", lambda v: isinstance(v, _T)),
    "Tensor|Number": ("Tensor", "({v}.__class__ is _T or {v}.__class__ is float or {v}.__class__ is int or "
                                "_is_tnum({v}))", _is_tnum),
    "Number": ("Number", "({v}.__class__ is float or {v}.__class__ is int or _is_number({v}))", _is_number),
    "int": ("int", "({v}.__class__ is int or _is_int({v}))", _is_int),
    "float": ("float", "({v}.__class__ is float or _is_float({v}))", _is_float),
    "bool": ("bool", "({v}.__class__ is bool)", lambda v: v.__class__ is bool),
    "str": ("str", "({v}.__class__ is str)", lambda v: isinstance(v, str)),
    "dtype": ("torch.dtype", "({v}.__class__ is _DT)", lambda v: isinstance(v, _DT)),
    "int[]": ("tuple of ints", "(_seq_ints({v}) or _is_int_list({v}))", _is_int_list),
    "int[1]": ("tuple of ints", "({v}.__class__ is int or _seq_ints({v}) or _is_int_list1({v}))", _is_int_list1),
    "float[]": ("tuple of floats", "_is_float_list({v})", _is_float_list),
    "Tensor[]": ("tuple of Tensors", "_is_tensor_list({v})", _is_tensor_list),
    "Tensor?[]": ("tuple of Tensors", "_is_tensor_list_opt({v})", _is_tensor_list_opt),
    "Any": ("object", None, lambda v: True),
}


# -- dtype rules (DTYPES in _signatures.py): which dtypes torch refuses, and which arguments must share one
_EXC = {"RuntimeError": RuntimeError, "NotImplementedError": NotImplementedError, "TypeError": TypeError,
        "IndexError": IndexError, "ValueError": ValueError}
_LETTER = {"b": "b", "i": "i", "u": "i", "f": "f", "V": "f", "c": "c"}
_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
                "float16": "Half", "float32": "Float", "float64": "Double", "bfloat16": "BFloat16",
                "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_NP_KINDS = {"b": "b", "i": "iu", "f": "fV", "c": "c"}


def _letter(t: Any) -> str:
    """A tensor's dtype as the rules name it: b(ool), i(nteger), f(loat), c(omplex)."""
    return _LETTER[t._data.dtype.kind]


def _torch_dtype_name(t: Any) -> str:
    return _TORCH_NAMES.get(t._data.dtype.name, t._data.dtype.name)


_C_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
            "int64": "long int", "float16": "c10::Half", "float32": "float", "float64": "double",
            "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _c_name(t: Any) -> str:
    return _C_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def _same(a: Any, args: tuple, others: tuple, kinds: str) -> bool:
    """Rule '=': `a` (a tensor) must have the dtype of the other tensors `others` (positions in args), when its
    kind is among `kinds` ('d': a float of another width)."""
    if not isinstance(a, _T):
        return True
    da = a._data.dtype
    for j in others:
        if j < len(args) and isinstance(args[j], _T):
            db = args[j]._data.dtype
            if da != db:
                k = _letter(a)
                if k in kinds or (k == "f" and _letter(args[j]) == "f" and "d" in kinds):
                    return False
    return True


class Param:
    """One parameter: torch's name and type; `attr`: torch reads this attribute of the argument first (its
    Python code calls `input.dim()`...), so anything else fails with AttributeError; `msg`: the (function name,
    position) torch's message gives, where an inner call of torch's reports the error."""
    __slots__ = ("name", "type", "optional", "default", "kwonly", "varargs", "attr", "msg", "need")

    def __init__(self, name: str, type_: str, optional: bool, default: Any, kwonly: bool, varargs: bool,
                 attr: str | None = None, msg: tuple | None = None) -> None:
        self.name, self.type, self.optional, self.default = name, type_, optional, default
        self.kwonly, self.varargs, self.attr, self.msg = kwonly, varargs, attr, msg
        self.need = False  # a varargs int list that must have at least one value (x.view() is an error)

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED and not self.varargs

    def ok(self, v: Any) -> bool:
        if v is None and self.optional:
            return True
        return _TYPES[self.type][2](v)

    def show(self) -> str:
        t = _TYPES[self.type][0]
        d = "" if self.default is _REQUIRED else f" = {self.default}"
        return f"{t} {self.name}{d}"


_REQUIRED = object()


def _split(text: str) -> list:
    """Split at the commas outside brackets: 'int[1] dim=(-2, -1), bool keepdim=False' -> two items."""
    items, depth, cur = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    items.append("".join(cur).strip())
    return [i for i in items if i]


def parse(text: str) -> list:
    """'Tensor input, int[1]? dim=None, bool keepdim=False, *, dtype? dtype=None' -> [Param]; a type ending in
    '...' is a varargs parameter (`*size`)."""
    out = []
    kwonly = False
    for item in _split(text):
        if not item:
            continue
        if item == "*":
            kwonly = True
            continue
        decl, _, default = item.partition("=")
        ty, name = decl.split()
        msg = None
        if "@" in name:  # name@function:position[:name] -- how an inner call of torch's reports this argument
            name, _, where = name.partition("@")
            fname, pos, *inner = where.split(":")
            msg = (fname, int(pos) if pos else None, inner[0] if inner else None)
        varargs = ty.endswith("...")
        ty = ty[:-3] if varargs else ty
        optional = ty.endswith("?")
        ty = ty.rstrip("?")
        ty, _, attr = ty.partition("!")
        if ty not in _TYPES:
            raise ValueError(f"unknown type {ty!r} in {text!r}")
        out.append(Param(name, ty, optional, default.strip() if default else _REQUIRED, kwonly, varargs,
                         attr or None, msg))
        if varargs and ty in ("int[]", "int[1]") and not default:
            out[-1].need = True  # `int[]... size`: at least one value (x.view() is an error)
        if varargs:
            kwonly = True
    return out


# -- signatures read from Python functions ------------------------------------------------------------------
_TENSOR_NAMES = {"input", "self", "tensor", "tensor1", "tensor2", "mat", "mat1", "mat2", "vec", "vec1", "vec2",
                 "batch1", "batch2", "mask", "A", "B", "LU", "LU_data", "LU_pivots", "target", "boundaries",
                 "sorted_sequence", "condition", "x1", "x2", "anchor", "positive", "negative", "query", "key",
                 "log_probs", "targets", "theta", "grid", "weight"}


def _type_of(p: inspect.Parameter) -> tuple:
    """(type, optional) for a Python parameter without a torch signature: only a required parameter with one of
    torch's tensor names is checked (a tensor); the rest is left to the function."""
    if p.name in _TENSOR_NAMES and p.default is inspect.Parameter.empty:
        return "Tensor", False
    return "Any", True


def _from_python(fn: Callable) -> list | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    out = []
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            return None  # takes any keyword: nothing to say about keywords, so no checker
        ty, opt = _type_of(p)
        if p.kind is p.VAR_POSITIONAL:
            out.append(Param(p.name, "Any", True, _REQUIRED, True, True))
            continue
        default = _REQUIRED if p.default is inspect.Parameter.empty else repr(p.default)
        out.append(Param(p.name, ty, opt, default, p.kind is p.KEYWORD_ONLY, False))
    return out


# -- the checker --------------------------------------------------------------------------------------------
class Spec:
    """A function's torch signature(s): `alts` (overloads, each a list of Params), the name in messages, and
    whether it is a method (its first parameter, self, is not an argument of the messages)."""

    def __init__(self, name: str, alts: list, method: bool = False, aliases: tuple = (),
                 dtypes: tuple = ()) -> None:
        self.name, self.alts, self.method, self.aliases = name, alts, method, aliases
        self.dtypes = dtypes
        self.pack = True  # several ints for an int list reach the function as one tuple (not if it takes *size)
        self.rename_keepdims, self.fn_name = False, name  # (set by _core)

    def dtype_error(self, args: tuple, kwargs: dict) -> tuple | None:
        """(exception class, message) for the first dtype rule (`DTYPES`) the positional tensors break, or None."""
        for rule in self.dtypes:
            if rule[0] == "x":
                _, i, kinds, cls, msg = rule
                if i < len(args) and "dtype" not in kwargs and isinstance(args[i], _T) and _letter(args[i]) in kinds:
                    return _EXC[cls], msg.format(dtype=_torch_dtype_name(args[i]), ctype=_c_name(args[i]))
            else:
                _, i, others, kinds, cls, msg = rule
                if i < len(args) and not _same(args[i], args, others, kinds):
                    o = next(args[j] for j in others if j < len(args) and isinstance(args[j], _T))
                    return _EXC[cls], msg.format(dtype=_torch_dtype_name(args[i]), ctype=_c_name(args[i]),
                                                 other=_torch_dtype_name(o), cother=_c_name(o))
        return None

    def mismatch(self, alt: list, args: tuple, kwargs: dict) -> tuple | None:
        """(exception class, torch's message) for the first argument of `args`/`kwargs` that `alt` refuses, or
        None."""
        name = self.name
        if self.method:
            args, alt = args[1:], alt[1:]
        pos = [p for p in alt if not p.kwonly and not p.varargs]
        var = next((p for p in alt if p.varargs), None)
        if len(args) > len(pos) and var is None:
            lo = sum(1 for p in pos if p.required)
            hi = len(pos)
            takes = f"{hi}" if lo == hi else f"from {lo} to {hi}"
            plural = "" if takes == "1" else "s"
            return TypeError, f"{name}() takes {takes} positional argument{plural} but {len(args)} were given"
        for i, (p, v) in enumerate(zip(pos, args)):
            m = _type_error(name, p, v, i)
            if m:
                return m
        if var is not None and len(args) > len(pos):
            m = _varargs_error(name, var, args[len(pos):], len(pos))
            if m:
                return TypeError, m
        byname = {p.name: p for p in alt}
        for k, v in kwargs.items():
            p = byname.get(k)
            if p is None and k in self.aliases:  # numpy's spelling `keepdims`, accepted as torch does
                p = Param(k, "bool", False, _REQUIRED, True, False)
            if p is None or (p.varargs and p.type not in ("int[]", "int[1]")):
                return TypeError, f"{name}() got an unexpected keyword argument '{k}'"
            m = _type_error(name, _as_keyword(p), v, None)
            if m:
                return m
        missing = [p.name for p in pos[len(args):] if p.required and p.name not in kwargs]
        if var is not None and var.need and len(args) <= len(pos) and var.name not in kwargs:
            missing.append(var.name)
        if missing:
            return TypeError, f'{name}() missing {len(missing)} required positional arguments: "{", ".join(missing)}"'
        return None

    def _plausible(self, alt: list, args: tuple, kwargs: dict) -> bool:
        """Whether an overload could take this many positional arguments and these keywords (torch then
        reports that overload's own error rather than the list of overloads)."""
        if self.method:
            args, alt = args[1:], alt[1:]
        pos = [p for p in alt if not p.kwonly and not p.varargs]
        if len(args) > len(pos) and not any(p.varargs for p in alt):
            return False
        names = {p.name for p in alt}
        if any(k not in names for k in kwargs):
            return False
        return all(p.name in kwargs for p in pos[len(args):] if p.required) and \
            all(p.name in kwargs for p in alt if p.kwonly and p.required)

    def fail(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        """The failure path: raise torch's TypeError, or call `fn` when another overload accepts the call."""
        errors = []
        for alt in self.alts:
            m = self.mismatch(alt, args, kwargs)
            if m is None:
                d = self.dtype_error(args, kwargs)
                if d is not None:
                    raise d[0](d[1])
                return fn(*(_packed(alt, args, self.method) if self.pack else args), **kwargs)
            errors.append(m)
        known = {p.name for a in self.alts for p in a} | set(self.aliases)
        unknown = [k for k in kwargs if k not in known]
        if unknown:
            raise TypeError(f"{self.name}() got an unexpected keyword argument '{unknown[0]}'")
        plausible = [e for a, e in zip(self.alts, errors) if self._plausible(a, args, kwargs)]
        if len(self.alts) == 1 or len(plausible) == 1 or errors[0][0] is not TypeError:
            cls, msg = plausible[0] if len(plausible) == 1 else errors[0]
            err = cls(msg)
            if cls is AttributeError:
                err._mirrors_torch = True  # torch's own Python code fails so (tests tell it from an ndgrad bug)
            raise err
        shown = args[1:] if self.method else args
        got = ", ".join([type_name(a) for a in shown] + [f"{k}={type_name(v)}" for k, v in kwargs.items()])
        alts = "".join(f" * ({', '.join(_show_alt(a[1:] if self.method else a))})\n" for a in self.alts)
        raise TypeError(f"{self.name}() received an invalid combination of arguments - got ({got}), but expected one "
                        f"of:\n{alts}")


def _packed(alt: list, args: tuple, method: bool) -> tuple:
    """The arguments with several ints for an int-list varargs parameter made one tuple."""
    start = sum(1 for p in alt if not p.kwonly and not p.varargs)
    var = next((p for p in alt if p.varargs), None)
    if var is None or var.type not in ("int[]", "int[1]") or len(args) <= start + 1:
        return args
    return (*args[:start], tuple(args[start:]))


def _show_alt(alt: list) -> list:
    out = []
    star = False
    for p in alt:
        if p.kwonly and not star and not p.varargs:
            out.append("*")
            star = True
        out.append(p.show())
    return out


def _type_error(name: str, p: Param, v: Any, i: int | None) -> tuple | None:
    if p.ok(v):
        return None
    if p.attr:
        if hasattr(v, p.attr):  # torch's code would call it (str.split...) and fail there, with a TypeError
            return TypeError, _type_message(name, p, v, i)
        return AttributeError, f"'{type_name(v)}' object has no attribute '{p.attr}'"
    return TypeError, _type_message(name, p, v, i)


def _type_message(name: str, p: Param, v: Any, i: int | None) -> str:
    pname = p.name
    if p.msg is not None:  # an inner call of torch's reports it, at its own position (and with its own name)
        name, pos, inner = p.msg
        i = None if pos is None else pos - 1
        pname = inner or pname
    where = f"argument '{pname}'" + ("" if i is None else f" (position {i + 1})")
    if p.type in ("int[]", "int[1]"):
        bad = _int_list_bad(v, p.type == "int[1]")
        if isinstance(bad, tuple):
            return (f"{name}(): {where} must be tuple of ints, but found element of type {type_name(bad[1])} at "
                    f"pos {bad[0]}")
    if p.type == "float[]":
        bad = _float_list_bad(v)
        if isinstance(bad, tuple):
            return (f"{name}(): {where} must be tuple of floats, but found element of type {type_name(bad[1])} "
                    f"at pos {bad[0]}")
    if p.type in ("Tensor[]", "Tensor?[]") and isinstance(v, (tuple, list)):
        for j, e in enumerate(v):
            if not isinstance(e, _T) and not (e is None and p.type == "Tensor?[]"):
                return f"expected Tensor as element {j} in argument {0 if i is None else i}, but got {type_name(e)}"
    return f"{name}(): {where} must be {_TYPES[p.type][0]}, not {type_name(v)}"


def _varargs_error(name: str, p: Param, rest: tuple, start: int) -> str | None:
    if p.type == "Any":
        return None
    if p.type == "Tensor[]":
        seq = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest
        if len(rest) == 1 and not isinstance(rest[0], (list, tuple, _T)):
            return f"{name}(): argument '{p.name}' (position {start + 1}) must be tuple of Tensors, not " \
                   f"{type_name(rest[0])}"
        for j, v in enumerate(seq):
            if not isinstance(v, _T):
                return f"expected Tensor as element {j} in argument {start}, but got {type_name(v)}"
        return None
    if p.type in ("int", "int[]", "int[1]"):
        if start == 0 and len(rest) == 1 and p.type != "int":
            v = rest[0]
            if v is None and p.optional:
                return None
            bad = _int_list_bad(v, True)
            if bad == -1:
                return f"{name}(): argument '{p.name}' (position 1) must be tuple of ints, not {type_name(v)}"
            if isinstance(bad, tuple):
                return (f"{name}(): argument '{p.name}' failed to unpack the object at pos {bad[0] + 1} with error "
                        f"\"type must be tuple of ints,but got {type_name(bad[1])}\"")
            return None
        for j, v in enumerate(rest):
            if not _is_int_or_bool(v):
                if j == 0 and start == 0:
                    return f"{name}(): argument '{p.name}' (position 1) must be tuple of ints, not {type_name(v)}"
                return (f"{name}(): argument '{p.name}' failed to unpack the object at pos {start + j + 1} with "
                        f"error \"type must be tuple of ints,but got {type_name(v)}\"")
        return None
    for j, v in enumerate(rest):
        if not p.ok(v):
            return f"{name}(): argument '{p.name}' (position {start + j + 1}) must be {_TYPES[p.type][0]}, not " \
                   f"{type_name(v)}"
    return None


def _kw_checker(spec: Spec, k: int) -> Callable:
    """Whether every keyword of a call is known to overload `k` and of its type (the fast path)."""
    alt = spec.alts[k]
    known = {p.name: _as_keyword(p) for p in alt if not p.varargs or p.type in ("int[]", "int[1]")}
    for a in (spec.aliases or ()):
        known.setdefault(a, Param(a, "bool", False, _REQUIRED, True, False))

    tests = {name: _kw_test(p) for name, p in known.items()}

    def ok(kwargs: dict) -> bool:
        for k, v in kwargs.items():
            t = tests.get(k)
            if t is None or not t(v):
                return False
        return True
    return ok


def _kw_test(p: Param) -> Callable:
    """`p.ok` as one function (the keyword test runs on every call that passes keywords)."""
    test = _TYPES[p.type][2]
    if not p.optional:
        return test
    return lambda v: v is None or test(v)


def _as_keyword(p: Param) -> Param:
    """An int-list parameter that takes varargs, given by keyword: one list (or int)."""
    if not p.varargs:
        return p
    return Param(p.name, "int[1]", p.optional, p.default, True, False)


def _varargs_checker(spec: Spec, k: int) -> Callable | None:
    alt = spec.alts[k][1:] if spec.method else spec.alts[k]
    var = next((p for p in alt if p.varargs), None)
    if var is None or var.type == "Any":
        return None
    npos = sum(1 for p in alt if not p.kwonly and not p.varargs) + spec.method

    def ok(args: tuple) -> bool:
        rest = args[npos:]
        if var.type in ("int[]", "int[1]"):
            if len(rest) == 1:
                return (rest[0] is None and var.optional) or _is_int_list1(rest[0])
            pred = _is_int_or_bool
        elif var.type == "Tensor[]":  # several tensors, or one sequence of them
            if len(rest) == 1:
                return isinstance(rest[0], _T) or _is_tensor_list(rest[0])
            pred = _TYPES["Tensor"][2]
        else:
            pred = _TYPES[var.type][2]
        for v in rest:
            if not pred(v):
                return False
        return True
    return ok


def _seq_ints(v: Any) -> bool:
    """Whether `v` is a tuple or list of Python ints (the fast test of an int list)."""
    if isinstance(v, (tuple, list)):
        for a in v:
            if a.__class__ is not int:
                return False
        return True
    return False


def _ints(args: tuple, start: int) -> bool:
    """Whether args[start:] are all Python ints (the fast test of an int list given as separate arguments; torch
    takes bools there too: x.view(3, True))."""
    for a in args[start:]:
        if a.__class__ is not int and a.__class__ is not bool:
            return False
    return True


class _State:
    """What a public function's checker needs besides the function: its spec and the slow-path helpers."""
    __slots__ = ("qual", "spec", "fail", "kwok", "varok", "stub")

    def __init__(self, qual: str) -> None:
        self.qual = qual


def _code(spec: Spec, pyname: str) -> str:
    """The checker's source: for each overload in turn, one test of the positional arguments' types (inline)
    and of the keywords; the first overload that accepts the call calls the function, and a call no overload
    accepts goes to `state.fail`. Its free variables are `fn` and `state`, its globals this module's."""
    off = 1 if spec.method else 0
    lines = ["def _factory(fn, state):", f"    def {pyname}(*args, **kwargs):", "        n = len(args)"]
    if spec.rename_keepdims:  # numpy's spelling, renamed here rather than by a wrapper of fn's own
        lines.append(f"        if kwargs and 'keepdims' in kwargs: kwargs = _rename_keepdims({spec.fn_name!r}, kwargs)")
    for k, full in enumerate(spec.alts):
        alt = full[1:] if spec.method else full
        pos = [p for p in alt if not p.kwonly and not p.varargs]
        conds = []
        last_req = max((i for i, p in enumerate(pos) if p.required), default=-1)
        if last_req >= 0:  # an overload needs its required arguments (one overload: torch's message, not Python's)
            if all(p.required for p in pos[:last_req + 1]):
                conds.append(f"(n > {last_req + off} or kwargs)")
        for i, p in enumerate(pos):
            cond = _TYPES[p.type][1]
            if cond is None:
                continue
            v = f"args[{i + off}]"
            c = cond.format(v=v)
            if p.optional:
                c = f"{v} is None or {c}"
            conds.append(f"(n <= {i + off} or {c})")
        var = next((p for p in alt if p.varargs), None)
        start = len(pos) + off
        if var is None:
            conds.append(f"n <= {start}")
        elif var.type in ("int[]", "int[1]"):
            if var.need:
                conds.append(f"(n > {start} or {var.name!r} in kwargs)")
            one = _TYPES["int[1]"][1].format(v=f"args[{start}]")
            if var.optional:
                one = f"(args[{start}] is None or {one})"
            conds.append(f"(n <= {start} or (n == {start + 1} and {one}) or _ints(args, {start}) or "
                         f"state.varok[{k}](args))")
        elif var.type != "Any":
            conds.append(f"(n <= {start} or state.varok[{k}](args))")
        flags = [p.name for p in alt if p.type == "bool" and not p.varargs]
        if flags:  # one bool keyword (keepdim=True...), the common keyword call: tested inline, as kwok would
            flag = "keepdim" if "keepdim" in flags else flags[0]
            conds.append(f"(not kwargs or (len(kwargs) == 1 and kwargs.get({flag!r}).__class__ is bool) or "
                         f"state.kwok[{k}](kwargs))")
        else:
            conds.append(f"(not kwargs or state.kwok[{k}](kwargs))")
        conds += _dtype_conds(spec, full)
        lines.append(f"        if {' and '.join(conds)}:")
        if var is not None and var.type in ("int[]", "int[1]") and spec.pack:
            # several ints for the list: the function gets them as one tuple
            lines.append(f"            if n > {start + 1}: args = (*args[:{start}], args[{start}:])")
        if any(p.name == "out" for p in alt):  # torch's out=: written by _out.py, for every function that has it
            lines.append(f"            if kwargs and kwargs.get('out') is not None: "
                         f"return _with_out({pyname!r}, fn, args, kwargs)")
        lines.append("            return fn(*args, **kwargs)")
    lines.append("        return state.fail(fn, args, kwargs)")
    lines.append(f"    return {pyname}")
    return "\n".join(lines)


def _dtype_conds(spec: Spec, full: list) -> list:
    """Inline tests of the dtype rules, for one overload (whose required tensor parameters are known to be
    tensors). A `dtype=` keyword (the computation's dtype) turns the kind rules off, as in torch."""
    tensor_pos = {i for i, p in enumerate(full)
                  if p.type == "Tensor" and not p.optional and not p.kwonly and not p.varargs}
    out = []
    for rule in spec.dtypes:
        i = rule[1]
        v = f"args[{i}]"
        if rule[0] == "x":
            kinds = "".join(_NP_KINDS[k] for k in rule[2])
            guard = "" if i in tensor_pos else f"not isinstance({v}, _T) or "
            out.append(f"(n <= {i} or {guard}{v}._data.dtype.kind not in {kinds!r} or 'dtype' in kwargs)")
        else:
            j = rule[2][0]
            fast = f"{v}._data.dtype is args[{j}]._data.dtype or " if i in tensor_pos and j in tensor_pos else ""
            out.append(f"(n <= {i} or n <= {j} or {fast}_same({v}, args, {tuple(rule[2])!r}, {rule[3]!r}))")
    return out


# a function without a signature to check: a plain call (the same free variables, `state` unused)
_FORWARD = ("def _factory(fn, state):\n"
            "    def forward(*args, **kwargs):\n"
            "        state\n"
            "        return fn(*args, **kwargs)\n"
            "    return forward")


def _with_out(name: str, fn: Callable, args: tuple, kwargs: dict) -> Any:
    """An accepted call with `out=` (not None): the call without it, its result written into `out` (_out.py)."""
    from ._out import call_with_out
    kwargs = dict(kwargs)
    out = kwargs.pop("out")
    return call_with_out(name, fn, args, kwargs, out)


def _rename_keepdims(name: str, kwargs: dict) -> dict:
    """`keepdims=` given for `keepdim=` (by a checker, or by `_ops._accept_keepdims` for a function called
    unchecked)."""
    if "keepdim" in kwargs:
        raise TypeError(f"{name}() got an unexpected keyword argument 'keepdims'")  # (torch's words for both)
    kwargs["keepdim"] = kwargs.pop("keepdims")
    return kwargs


def _core(fn: Callable, spec: Spec | None) -> Callable:
    """What the checker calls: `fn` without the pure forwarders around it (a Tensor method's `self` forwarder,
    and, when the checker renames `keepdims` itself, the renaming wrapper): each costs a call with *args."""
    while True:
        if spec is not None and spec.aliases and getattr(fn, "_keepdims_alias", False):
            spec.rename_keepdims, spec.fn_name = True, fn.__name__
            fn = fn.__wrapped__
        elif getattr(fn, "_forwarder", None) is fn:  # (its own mark: functools.wraps copies attributes outward)
            fn = fn.__wrapped__
        else:
            return fn


def _build(stub: Callable, fn: Callable, state: _State) -> None:
    """Give `stub` the code of `fn`'s checker (or of a plain call, when `fn` has no signature to check). The
    stub keeps its identity -- code comparing functions (`activation is F.relu`) still works."""
    spec = spec_for(fn, state.qual)
    fn = _core(fn, spec)
    src = _FORWARD
    if spec is not None:
        spec.pack = not _takes_varargs(fn)
        state.spec = spec
        state.fail = spec.fail
        state.kwok = [_kw_checker(spec, k) for k in range(len(spec.alts))]
        state.varok = [_varargs_checker(spec, k) for k in range(len(spec.alts))]
        src = _code(spec, message_name(state.qual).replace(".", "_"))
    env: dict = {}
    # (under its own file name, which _warn.warn skips when it counts a warning's stack levels)
    exec(compile(src, _STUB_FILE, "exec"), globals(), env)  # noqa: S102  (generated from a signature)
    stub.__code__ = env["_factory"](fn, state).__code__
    stub.__closure__[stub.__code__.co_freevars.index("fn")].cell_contents = fn  # (the stub's own cell: _core's fn)
    stub._spec = spec


def _takes_varargs(fn: Callable) -> bool:
    """Whether `fn` takes `*size`-like arguments itself (a bare forwarder, `(*args, **kwargs)`, does not count)."""
    try:
        params = list(inspect.signature(inspect.unwrap(fn)).parameters.values())
    except (TypeError, ValueError):
        return False
    var = [p for p in params if p.kind is p.VAR_POSITIONAL]
    named = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return bool(var) and var[0].name != "args" and not (len(named) <= 1 and var[0].name == "args")


def _first_call(fn: Callable, state: _State, args: tuple, kwargs: dict) -> Any:
    _build(state.stub, fn, state)
    return state.stub(*args, **kwargs)


def _deferred(fn: Callable, qual: str, module: str | None = None) -> Callable:
    """`fn` behind its checker, built on the first call: `import ndgrad` neither reads nor compiles a thousand
    signatures. The first call replaces the stub's code by the checker's (same free variables: fn, state).
    `module`: the module that holds the stub, which it is named after, so pickle finds this very object by name
    (torch.save of a module that keeps `F.relu` as an attribute, as nn.TransformerEncoderLayer does)."""
    state = _State(qual)

    def stub(*args: Any, **kwargs: Any) -> Any:
        return _first_call(fn, state, args, kwargs)
    state.stub = stub
    stub.__name__ = getattr(fn, "__name__", qual)
    stub.__qualname__ = getattr(fn, "__qualname__", qual)
    stub.__doc__ = getattr(fn, "__doc__", None)
    stub.__module__ = module or getattr(fn, "__module__", __name__)
    stub.__wrapped__ = fn
    stub._checked = True
    stub._argcheck_stub = True
    if getattr(fn, "_keepdims_alias", False):
        stub._keepdims_alias = True
    return stub


# -- which signature a public name has ---------------------------------------------------------------------
_KEEPDIMS = {"sum", "mean", "prod", "amax", "amin", "max", "min", "std", "var", "logsumexp", "all", "any", "argmax",
             "argmin", "median", "mode", "kthvalue", "std_mean", "var_mean"}


def message_name(qual: str) -> str:
    """The name torch's parser puts in messages: linalg.inv -> linalg_inv, Tensor.add -> add."""
    from ._signatures import NAMES
    if qual in NAMES:
        return NAMES[qual]
    if qual.startswith("Tensor."):
        return qual[7:]
    if qual.startswith("nn.functional."):
        return qual[14:]
    return qual.replace(".", "_")


def spec_for(fn: Callable, qual: str) -> Spec | None:
    from ._signatures import METHODS, SIGNATURES
    method = qual.startswith("Tensor.")
    short = qual[7:] if method else qual
    text = None
    if method:
        text = METHODS.get(short)
        if text is None and short in SIGNATURES:
            base = SIGNATURES[short]
            if base is not None:
                text = _drop_self(base)
    else:
        text = SIGNATURES.get(qual)
        if text is None and qual in SIGNATURES:
            return None
    if text is None and (qual in SIGNATURES or (method and short in METHODS)):
        return None  # explicitly unchecked
    aliases = ("keepdims",) if short in _KEEPDIMS else ()
    from ._signatures import DTYPES
    dtypes = tuple(DTYPES.get(qual, DTYPES.get(short, ()) if method else ()))
    if text is not None:
        alts = [_int_list_varargs(parse(t)) for t in (text if isinstance(text, (list, tuple)) else [text])]
        if method:
            alts = [[Param("self", "Tensor", False, _REQUIRED, False, False)] + a for a in alts]
        return Spec(message_name(qual), alts, method, aliases, dtypes)
    alt = _from_python(inspect.unwrap(fn))
    if method and (alt is None or len(alt) < 2 or alt[1].varargs):
        base = _function_named(short)
        if base is not None:
            alt = _from_python(inspect.unwrap(base))
    if alt is None:
        return None
    if method:
        if not alt or alt[0].varargs:
            return None
        alt[0] = Param(alt[0].name, "Tensor", False, _REQUIRED, False, False)
    if all(p.type == "Any" for p in alt[1 if method else 0:]) and any(p.varargs for p in alt):
        return None
    return Spec(message_name(qual), [alt], method, aliases, dtypes)


def _int_list_varargs(alt: list) -> list:
    """torch's rule: when an int list is the only positional parameter, its ints may come as separate arguments
    (`x.squeeze(0, 1)`, `x.view(2, 3)`, `zeros(2, 3)`)."""
    pos = [p for p in alt if not p.kwonly and not p.varargs]
    if len(pos) == 1 and pos[0].type in ("int[]", "int[1]") and not any(p.varargs for p in alt):
        pos[0].need = pos[0].default is _REQUIRED
        pos[0].varargs = True
        for p in alt[alt.index(pos[0]) + 1:]:
            p.kwonly = True
    return alt


def _function_named(name: str) -> Any:
    """The top-level function a method forwards to (its signature is the method's, with self first)."""
    import ndgrad
    fn = ndgrad.__dict__.get(name)
    return fn if callable(fn) and not isinstance(fn, type) else None


def _drop_self(text: Any) -> Any:
    """A function's signature as its method's: without the leading tensor parameter, nor `out`."""
    def one(t: str) -> str:
        items = _split(t)
        if items and items[0].split()[0].rstrip("?").split("!")[0] in ("Tensor", "Tensor|Number"):
            items = items[1:]
        items = [i for i in items if i == "*" or i.split()[1].split("=")[0] != "out"]
        if items and items[-1] == "*":
            items.pop()
        return ", ".join(items)
    return [one(t) for t in text] if isinstance(text, (list, tuple)) else one(text)


def checked(fn: Any, qual: str, module: str | None = None) -> Any:
    """`fn` behind its signature's checker (or `fn` itself: already checked, or not a function)."""
    if not _wants_check(fn, qual):
        return fn
    return _deferred(fn, qual, module)


def _wants_check(fn: Any, qual: str = "") -> bool:
    """Plain Python functions only (not classes, typed-tensor objects, properties), once; a function that checks
    its own arguments still gets a checker for the dtypes torch refuses."""
    if not isinstance(fn, _FunctionType):
        return False
    if not getattr(fn, "_checked", False):
        return True
    if getattr(fn, "_argcheck_stub", False):
        return False  # a checker already
    from ._signatures import DTYPES
    return qual in DTYPES or (qual.startswith("Tensor.") and qual[7:] in DTYPES)


def install(namespace: dict, names: Any, prefix: str = "") -> None:
    """Put every public function of `namespace` (module globals) listed in `names` behind its checker."""
    for n in names:
        fn = namespace.get(n)
        if fn is not None and _wants_check(fn, prefix + n):
            namespace[n] = _deferred(fn, prefix + n, namespace.get("__name__"))


def install_methods(cls: type, names: Any) -> None:
    """The same for the Tensor methods `names`."""
    for n in names:
        fn = cls.__dict__.get(n)
        if fn is not None and _wants_check(fn, "Tensor." + n):
            setattr(cls, n, _deferred(fn, "Tensor." + n))
