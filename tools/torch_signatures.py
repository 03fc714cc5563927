"""Regenerate the tables of ndgrad/_signatures.py from torch's behaviour (a development tool; needs torch).

The argument checker (ndgrad/_argcheck.py) needs each public function's torch signature and the dtypes torch
refuses. Both are read off torch's *errors*, never its code: every callable of the bad-input grid
(tests/badinput_grid.py) is called with torch, from its baseline call, with a wrong value in one place:

- signatures: torch's parser names the parameter, its position and type ("argument 'dim' (position 2) must be
  int, not object"), or lists the overloads with types and defaults ("expected one of: * (Tensor input, ...)");
  a None, a bare int and a number at each position tell optional parameters, int lists that take a single int,
  and tensor parameters that take numbers. For torch's Python functions, an inner call's message is kept with
  its own name and position (`int dim@softmax:1`), and an AttributeError ("'object' object has no attribute
  'dim'") becomes `Tensor!dim`.
- dtypes: each tensor argument is given another dtype (bool, int64, float64, complex64), alone and with every
  tensor of its kind; where torch refuses and ndgrad (with no dtype rules) does not refuse the same way, the
  rule is kept: a kind refused, or arguments that must share a dtype.

    python tools/torch_signatures.py           # rewrite the generated parts of ndgrad/_signatures.py
    python tools/torch_signatures.py --diff    # only say how many entries would change

The hand-written part at the end of _signatures.py ("# -- by hand") is kept as it is.
"""
from __future__ import annotations

import inspect
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]
warnings.simplefilter("ignore")

import torch  # noqa: E402

import badinput_grid as G  # noqa: E402
import ndgrad  # noqa: E402
from ndgrad import _argcheck as A, _signatures  # noqa: E402

_signatures.DTYPES.clear()  # ndgrad as it refuses dtypes without the rules (each checker is built on first use)


def _call(entry, args, kwargs):
    f = entry.get(torch)
    a = G.materialize(args, torch)
    k = G.materialize(kwargs, torch)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f(*a, **k)
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    return None


# -- signatures ---------------------------------------------------------------------------------------------
TYPEMAP = {"Tensor": "Tensor", "Number": "Number", "int": "int", "float": "float", "bool": "bool", "str": "str",
           "torch.dtype": "dtype", "tuple of ints": "int[1]", "tuple of Tensors": "Tensor[]", "tuple of floats": "float[]",
           "SymInt": "int", "tuple of SymInts": "int[1]", "c10::string_view": "str", "complex": "Number"}



def parse_alt(s):
    items = []
    star = False
    for it in s.split(", "):
        it = it.strip()
        if it == "*":
            items.append("*")
            continue
        decl, eq, default = it.partition(" = ")
        parts = decl.split()
        name = parts[-1]
        ty = " ".join(parts[:-1])
        items.append((ty, name, default if eq else None))
    return items


def to_text(items):
    out = []
    for it in items:
        if it == "*":
            out.append("*")
            continue
        ty, name, default = it
        if ty in ("Dimname", "tuple of names", "DimnameList", "tuple of Dimnames") or "name" in ty.lower():
            return None
        t = TYPEMAP.get(ty, "Any")
        opt = default == "None" and t != "Any"
        if opt:
            t += "?"
        out.append(f"{t} {name}" + (f"={default}" if default is not None else ""))
    return ", ".join(out)


def overloads(msg):
    if "expected one of:" not in msg:
        return None
    alts = re.findall(r"^ \* \((.*)\)$", msg, re.M)
    texts = []
    for a in alts:
        t = to_text(parse_alt(a)) if a else ""
        if t is not None and t not in texts:
            texts.append(t)
    return texts


ARG_RE = re.compile(r"^[\w.]+\(\): argument '(\w+)'(?: \(position (\d+)\))? must be ([\w. ]+?)"
                    r"(?:, not \w+|, but found element of type \w+ at pos \d+)$")


FILL = {"int": 1, "float": 1.0, "bool": False, "Number": 1, "str": "mean", "torch.dtype": None, "tuple of ints": (1,),
        "Tensor": None, "tuple of Tensors": None, "tuple of floats": (1.0,), "SymInt": 1, "tuple of SymInts": (1,)}


def filler(ty):
    if ty == "torch.dtype":
        return G.Dt("float32")
    if ty == "Tensor":
        return G.X
    if ty == "tuple of Tensors":
        return [G.X]
    return FILL.get(ty, 1)


COMMON_KW = ["out", "dtype", "dim", "keepdim", "generator", "alpha", "beta", "value", "weight", "weights",
             "fweights", "aweights", "correction", "layout", "device", "requires_grad", "pin_memory", "memory_format",
             "lambd", "p", "eps", "reduction", "rounding_mode", "stable", "descending", "side", "sorter", "right",
             "out_int32", "decimals", "indexing", "driver", "left", "upper", "check_errors", "hermitian", "atol",
             "rtol", "ord", "mode", "pivot", "non_blocking", "copy", "approximate", "inplace", "size", "bias",
             "scale", "is_causal", "enable_gqa", "interpolation", "nan", "posinf", "neginf", "edge_order",
             "spacing", "dx", "x", "compute_mode", "unbiased", "sorted", "return_inverse", "return_counts",
             "return_complex", "normalized", "onesided", "center", "pad_mode", "window", "hop_length",
             "win_length", "n_fft", "length", "norm", "s", "n", "d", "axis", "dims", "periodic", "min", "max",
             "include_self", "reduce", "accumulate", "start", "end", "step", "fill_value", "low", "high", "bins",
             "range", "density", "minlength", "unitriangular", "transpose", "some", "compute_uv", "full_matrices",
             "input", "other", "tensor", "tensors", "names", "storage_offset"]


def real_fn(entry):
    f = entry.get(ndgrad)
    f = inspect.unwrap(f)
    if getattr(f, "__module__", "") == "ndgrad._ops._lazy" or "trampoline" in getattr(f, "__qualname__", ""):
        from ndgrad._ops import _lazy
        name = f.__name__
        for fam, (names, methods) in _lazy.LAZY.items():
            mod = _lazy.load(fam)
            if entry.kind == "method" and name in methods:
                return inspect.unwrap(mod.METHODS[name])
            if entry.kind != "method" and name in names:
                return inspect.unwrap(getattr(mod, name))
    return f


def none_ok(entry, args, kwargs, first):
    """Positions of the baseline (past the tensor) where torch takes None."""
    out = []
    for j in range(first + 1, len(args)):
        if isinstance(args[j], (int, tuple, list)) and not isinstance(args[j], bool):
            if _call(entry, args[:j] + (None,) + args[j + 1:], kwargs) is None:
                out.append(j - first)
    return out


def numbers_ok(entry, args, kwargs, pos, first):
    """Names of Tensor parameters that take a Python number (torch wraps it)."""
    out = []
    for k, it in enumerate(pos):
        j = k + first
        if it[0] != "Tensor" or j >= len(args):
            continue
        r = _call(entry, tuple(args[:j]) + (2.0,) + tuple(args[j + 1:]), kwargs)
        if r is None or not (r[0] == "TypeError" and (f"'{it[1]}'" in r[1] or "invalid combination" in r[1])):
            out.append(it[1])
    return out


def probe(entry, base, builtin=True):
    args, kwargs = base
    method = entry.kind == "method"
    first = 1 if method else 0
    r = _call(entry, args[:first], {}) if builtin else None
    if r and "received an invalid combination" in r[1]:
        name = r[1].split("(")[0].split()[0]
        if "expected one of:" in r[1]:
            alts = re.findall(r"^ \* \((.*)\)$", r[1], re.M)
            pos = [it for it in parse_alt(alts[0]) if it != "*"] if alts and alts[0] else []
            return {"overloads": overloads(r[1]), "msgname": name, "numbers": numbers_ok(entry, args, kwargs, pos, first),
                    "none_ok": none_ok(entry, args, kwargs, first)}
        m = re.search(r"but expected \((.*)\)$", r[1], re.S)
        t = to_text(parse_alt(m.group(1))) if m.group(1) else ""
        # a tuple of ints that refuses a bare int
        items = parse_alt(m.group(1)) if m.group(1) else []
        pos = [it for it in items if it != "*"]
        cur = list(args)
        for k, it in enumerate(items):
            if it == "*":
                break
            if it[0] == "tuple of ints" and k + first < len(cur):
                j = k + first
                rr = _call(entry, tuple(cur[:j]) + (1,) + tuple(cur[j + 1:]), kwargs)
                if rr is not None and rr[0] == "TypeError" and f"'{it[1]}'" in rr[1]:
                    t = t.replace(f"int[1] {it[1]}", f"int[] {it[1]}").replace(f"int[1]? {it[1]}", f"int[]? {it[1]}")
        return {"overloads": [t], "msgname": name, "numbers": numbers_ok(entry, args, kwargs, pos, first)}
    tries = [(args[:first] + (object(),), {}), (args[:first] + (object(), object()), {})]
    tries += [(args[:i] + (object(),) + args[i + 1:], kwargs) for i in range(first, max(len(args), first + 1))]
    if not builtin:
        tries = []
    for a, k in tries:
        r = _call(entry, a, k)
        if r and "expected one of:" in r[1]:
            alts = re.findall(r"^ \* \((.*)\)$", r[1], re.M)
            pos = [it for it in parse_alt(alts[0]) if it != "*"] if alts and alts[0] else []
            return {"overloads": overloads(r[1]), "msgname": r[1].split("(")[0].split()[0],
                    "numbers": numbers_ok(entry, args, kwargs, pos, first)}
    params = []
    msgname = None
    cur = list(args)
    i = first
    maxpos = None
    while i < 12:
        a = tuple(cur[:i]) + (object(),) + tuple(cur[i + 1:])
        r = _call(entry, a, kwargs if i < len(args) else {})
        if not builtin and r is not None and not ARG_RE.match(r[1]) and r[0] != "AttributeError":
            for alt in (1.5, "a"):  # torch's Python code may fail on object() before its inner call checks types
                ra = _call(entry, tuple(cur[:i]) + (alt,) + tuple(cur[i + 1:]), kwargs if i < len(args) else {})
                if ra is not None and ARG_RE.match(ra[1]):
                    r = ra
                    break
        if r is None:
            params.append(["Any", f"arg{i}", None])
            if i >= len(cur):
                break
            i += 1
            continue
        m = ARG_RE.match(r[1])
        ma = re.match(r"^'object' object has no attribute '(\w+)'$", r[1])
        if m:
            name, ty = m.group(1), m.group(3)
            msgname = r[1].split("(")[0]
            params.append([ty, name, {"msg": msgname, "pos": m.group(2)}])
            if i >= len(cur):
                cur.append(filler(ty))
        elif ma and r[0] == "AttributeError" and i < len(cur) and isinstance(cur[i], G.T):
            params.append(["attr:" + ma.group(1), f"arg{i}", None])
        elif ("positional argument" in r[1] and ("were given" in r[1] or "was given" in r[1])) or "takes no arguments" in r[1]:
            maxpos = i
            break
        else:
            params.append(["?", f"arg{i}", r[1][:100]])
            if i >= len(cur):
                break
        i += 1
    out = []
    for k, (ty, name, note) in enumerate(params):
        j = k + first
        r = _call(entry, tuple(cur[:j]) + (None,) + tuple(cur[j + 1:]), kwargs)
        opt = r is None or not ("NoneType" in r[1] and r[0] == "TypeError" and f"'{name}'" in r[1])
        if ty == "tuple of ints":
            r = _call(entry, tuple(cur[:j]) + (1,) + tuple(cur[j + 1:]), kwargs if j < len(args) else {})
            if r is not None and r[0] == "TypeError" and f"'{name}'" in r[1]:
                ty = "tuple of ints!"
        out.append([ty, name, opt, note])
    # required count
    req = first
    for k in range(first, len(cur) + 1):
        r = _call(entry, tuple(cur[:k]), {})
        if r is not None and "missing" in r[1] and "required" in r[1]:
            req = k + 1
    kw = {}
    try:
        nd = inspect.signature(real_fn(entry))
        names = [p.name for p in nd.parameters.values() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    for nm in names + COMMON_KW:
        if any(o[1] == nm for o in out) or nm in kw or nm == "self":
            continue
        r = _call(entry, tuple(cur[:len(args)]), {**{k: v for k, v in kwargs.items() if k != nm}, nm: object()})
        if r is not None and "multiple values" in r[1]:
            continue
        if r is None or not ARG_RE.match(r[1]):
            r = _call(entry, tuple(cur[:req]), {nm: object()})
        if r is None:
            kw[nm] = "Any"
            continue
        m = ARG_RE.match(r[1])
        if m and m.group(1) == nm:
            kw[nm] = m.group(3)
            rn = _call(entry, tuple(cur[:len(args)]), {**{k: v for k, v in kwargs.items() if k != nm}, nm: None})
            if rn is not None and rn[0] == "TypeError" and f"'{nm}'" in rn[1] and "NoneType" in rn[1]:
                kw[nm] += "!"
        elif "unexpected keyword" in r[1]:
            kw[nm] = "UNEXPECTED"
        else:
            kw[nm] = "?"
    pos = [(o[0], o[1]) for o in out]
    return {"params": out, "kw": kw, "msgname": msgname, "required": req - first, "maxpos": maxpos,
            "numbers": numbers_ok(entry, args, kwargs, pos, first)}




def probe_signatures() -> dict:
    res = {}
    for e in G.callables(torch):
        if e.kind not in ("fn", "method"):
            continue
        tf = e.get(torch) if e.kind == "fn" else getattr(torch.Tensor, e.qual[7:])
        builtin = type(tf).__name__ in ("builtin_function_or_method", "method_descriptor")
        base = G.choose_baseline(e, torch)
        if base is None:
            continue
        try:
            p = probe(e, base, builtin)
        except Exception as ex:  # noqa: BLE001
            p = {"error": repr(ex)}
        p["builtin"] = builtin
        res[e.qual] = p
    return res


TM = {"Tensor": "Tensor", "Number": "Number", "int": "int", "float": "float", "bool": "bool", "str": "str",
      "torch.dtype": "dtype", "tuple of ints": "int[1]", "tuple of ints!": "int[]", "tuple of Tensors": "Tensor[]",
      "tuple of floats": "float[]", "SymInt": "int", "c10::string_view": "str"}
entries: dict = {}


def nd_params(q):
    e = entries.get(q)
    try:
        sig = inspect.signature(inspect.unwrap(e.get(ndgrad)))
        return list(sig.parameters.values())
    except Exception:
        return []

def nd_params_all(q):
    e = entries.get(q)
    try:
        return list(inspect.signature(real_fn(e)).parameters.values())
    except Exception:
        return []


def single(q, p):
    method = q.startswith("Tensor.")
    ndp = [x for x in nd_params(q) if x.kind in (x.POSITIONAL_OR_KEYWORD, x.POSITIONAL_ONLY)]
    if method: ndp = ndp[1:]
    items = []
    req = p["required"]
    names = set()
    for k, (ty, name, opt, note) in enumerate(p["params"]):
        t = TM.get(ty, "Any")
        if ty.startswith("attr:"):
            t = "Tensor!" + ty[5:]
            opt = False
        if name.startswith("arg"):
            name = ndp[k].name if k < len(ndp) else f"arg{k}"
        if t != "Any" and opt:
            t += "?"
        dflt = ""
        if k >= req:
            nd = next((x for x in ndp if x.name == name), None)
            dflt = "=" + (repr(nd.default) if nd is not None and nd.default is not inspect.Parameter.empty else "None")
            dflt = dflt.replace(" ", "")
        over = ""
        if isinstance(note, dict):
            outer = q[7:] if method else q[14:] if q.startswith("nn.functional.") else q.replace(".", "_")
            want_pos = str(k + 1)
            if note["msg"] != outer or (note["pos"] or "") != want_pos:
                over = f"@{note['msg']}:{note['pos'] or ''}"
        items.append(f"{t} {name}{over}{dflt}")
        names.add(name)
    kws = [(n, t) for n, t in p["kw"].items() if t not in ("UNEXPECTED", "?") and n not in names and
           (p.get("builtin") or n in {x.name for x in nd_params_all(q)})]
    if kws:
        items.append("*")
        for n, t in kws:
            strict = t.endswith("!")
            tt = TM.get(t.rstrip("!"), "Any")
            if tt != "Any" and not strict: tt += "?"
            nd = next((x for x in nd_params_all(q) if x.name == n), None)
            dv = repr(nd.default).replace(" ", "") if nd is not None and nd.default is not inspect.Parameter.empty else "None"
            items.append(f"{tt} {n}={dv}")
    return ", ".join(items)

def python_fn(q, p):
    """torch's Python-implemented function: ndgrad's Python signature (torch's names and defaults), with the types
    that probing torch showed for the positional parameters."""
    method = q.startswith("Tensor.")
    allp = nd_params_all(q)
    if method: allp = allp[1:]
    if not allp or any(x.kind == x.VAR_KEYWORD for x in allp):
        return None
    items, star = [], False
    probed = p.get("params", [])
    outer = q[7:] if method else q[14:] if q.startswith("nn.functional.") else q.replace(".", "_")
    for k, x in enumerate(allp):
        if x.kind == x.VAR_POSITIONAL:
            items.append(f"Any... {x.name}"); star = True; continue
        if x.kind == x.KEYWORD_ONLY and not star:
            items.append("*"); star = True
        t, over = "Any", ""
        if x.kind != x.KEYWORD_ONLY and k < len(probed):
            ty, name, opt, note = probed[k]
            if ty.startswith("attr:"):
                t = "Tensor!" + ty[5:]
            elif ty in TM and (name == x.name or name.startswith("arg") or isinstance(note, dict)):
                t = TM[ty]
                if t == "Tensor" and (name != x.name or isinstance(x.default, (int, float))):
                    t = "Tensor|Number"  # an inner call's tensor argument: torch's Python code may pass a number
                if isinstance(x.default, str) and t != "str":
                    t = "Any"  # torch's Python code takes a string here too ('fro')
                t += "?" if opt and t != "Any" else ""
                if isinstance(note, dict) and (note["msg"] != outer or (note["pos"] or "") != str(k + 1)
                                               or name != x.name):
                    over = f"@{note['msg']}:{note['pos'] or ''}" + (f":{name}" if name != x.name else "")
        elif x.kind == x.KEYWORD_ONLY or k >= len(probed):
            kt = p.get("kw", {}).get(x.name)
            if kt and kt not in ("UNEXPECTED", "?", "Any") and kt.rstrip("!") in TM:
                t = TM[kt.rstrip("!")] + ("" if kt.endswith("!") else "?")
        d = "" if x.default is inspect.Parameter.empty else "=" + repr(x.default).replace(" ", "").replace(",", ";")
        items.append(f"{t} {x.name}{over}{d}")
    return ", ".join(items)




def signature_tables(d: dict) -> str:
    entries.update({e.qual: e for e in G.callables(torch)})
    sigs, meths, names, skipped = {}, {}, {}, []
    for q, p in d.items():
        if "error" in p:
            skipped.append(q); continue
        if "overloads" in p:
            text = p["overloads"] if len(p["overloads"]) > 1 else p["overloads"][0]
        elif not p.get("builtin"):
            text = python_fn(q, p)
            if text is None:
                skipped.append(q); continue
        else:
            text = single(q, p)
        if p.get("none_ok") and isinstance(text, (list, str)):
            def opt_at(t, positions=tuple(p["none_ok"])):
                items = [i.strip() for i in t.split(", ")]
                k = 0
                out = []
                for it in items:
                    if it == "*":
                        k = 10 ** 6
                        out.append(it); continue
                    if k in positions and it.split()[0] in ("int[1]", "int[]"):
                        it = it.replace(it.split()[0], it.split()[0] + "?", 1)
                    out.append(it); k += 1
                return ", ".join(out)
            text = [opt_at(t) for t in text] if isinstance(text, list) else opt_at(text)
        for nm in p.get("numbers", []):
            fix = lambda t: t.replace(f"Tensor {nm},", f"Tensor|Number {nm},").replace(f"Tensor {nm}=", f"Tensor|Number {nm}=") + ("" if not t.endswith(f"Tensor {nm}") else "")
            def fix(t, nm=nm):
                items = t.split(", ")
                return ", ".join(("Tensor|Number " + i[7:]) if i.startswith("Tensor ") and i[7:].split("=")[0] == nm else i for i in items)
            text = [fix(t) for t in text] if isinstance(text, list) else fix(text)
        mn = p.get("msgname")
        if q.startswith("Tensor."):
            meths[q[7:]] = text
        else:
            sigs[q] = text
        if p.get("builtin") and mn and mn != (q[7:] if q.startswith('Tensor.') else q[14:] if q.startswith('nn.functional.') else q.replace('.', '_')):
            names[q] = mn
    VARARGS = {"zeros": "size", "ones": "size", "empty": "size", "rand": "size", "randn": "size",
               "Tensor.view": "size", "Tensor.reshape": "shape", "Tensor.permute": "dims", "Tensor.repeat": "repeats",
               "Tensor.expand": "size", "Tensor.new_zeros": "size", "Tensor.new_ones": "size", "Tensor.new_empty": "size",
               "Tensor.tile": "dims", "Tensor.flip": "dims", "Tensor.sum_to_size": "size"}
    for q, nm in VARARGS.items():
        tgt = meths if q.startswith("Tensor.") else sigs
        k = q[7:] if q.startswith("Tensor.") else q
        t = tgt.get(k)
        ts = t if isinstance(t, list) else [t]
        new = []
        for x in ts:
            if x is None: continue
            items = [i.strip() for i in x.split(",") if i.strip()]
            items = [i for i in items if not (i.split()[-1].split("=")[0] == nm)]
            if items and items[0] == "*":
                items = items[1:]
            if "dtype dtype" in items:  # view(dtype)
                new.append(x); continue
            new.append(", ".join([f"int[]... {nm}"] + items))
        tgt[k] = new if len(new) > 1 else new[0]
    # methods equal to their function's signature minus self need no entry
    for m, t in list(meths.items()):
        f = sigs.get(m)
        if f is not None and A._drop_self(f) == t:
            del meths[m]
    def fmt(dct):
        out = []
        for k in sorted(dct):
            v = dct[k]
            if isinstance(v, list):
                out.append(f"    {k!r}: [\n" + "".join(f"        {x!r},\n" for x in v) + "    ],")
            else:
                out.append(f"    {k!r}: {v!r},")
        return "\n".join(out)
    return ("SIGNATURES: dict = {\n" + fmt(sigs) + "\n}\n\nMETHODS: dict = {\n" + fmt(meths) + "\n}\n\n"
            "NAMES: dict = {  # the name torch's messages use, where it is not the function's\n" + fmt(names) +
            "\n}\n")


# -- dtypes -------------------------------------------------------------------------------------------------
VAR = {"b": dict(dtype="bool", fill="bool"), "i": dict(dtype="int64", fill="idx"), "f": dict(dtype="float32", fill="rand"),
       "d": dict(dtype="float64", fill="rand"), "c": dict(dtype="complex64", fill="rand")}
KIND_OF = {"bool": "b", "int64": "i", "float32": "f", "float64": "d", "complex64": "c"}
TNAME = {"b": "Bool", "i": "Long", "f": "Float", "d": "Double", "c": "ComplexFloat"}


def outcome(e, args, kwargs, lib=torch):
    r = G.run(e, lib, args, kwargs)
    if r[0] == "ok":
        return None
    if r[0] != "raise":
        return ("timeout", "")
    return (r[1].__name__, r[2])


def var(t, k):
    fill = VAR[k]["fill"]
    if k in "fdc" and t.fill in ("spd", "prob", "label"):
        fill = t.fill
    if k in "fdc" and t.fill in ("idx", "bool"):
        fill = "rand"
    return t.like(dtype=VAR[k]["dtype"], fill=fill)


def probe_dtypes():
    res = {}
    for e in G.callables(torch):
        if e.kind not in ("fn", "method"):
            continue
        base = G.choose_baseline(e, torch)
        if base is None:
            continue
        args, kwargs = base
        tpos = [i for i, a in enumerate(args) if isinstance(a, G.T)]
        rules = []
        for i in tpos:
            bk = KIND_OF.get(args[i].dtype)
            for k in "bifdc":
                if k == bk or (bk in "fd" and k in "fd" and k != "d") :
                    continue
                a1 = args[:i] + (var(args[i], k),) + args[i + 1:]
                r1 = outcome(e, a1, kwargs)
                if r1 is None or r1[0] == "timeout":
                    continue
                n1 = outcome(e, a1, kwargs, ndgrad)
                if n1 is not None and n1[0] == r1[0]:
                    continue  # ndgrad already refuses it as torch does: no rule needed
                # the same kind for every tensor of the baseline's kind
                a2 = tuple(var(a, k) if isinstance(a, G.T) and KIND_OF.get(a.dtype) == bk else a for a in args)
                r2 = outcome(e, a2, kwargs)
                if r2 is not None and r2[0] == r1[0]:
                    rules.append({"kind": "refuse", "pos": i, "k": k, "cls": r1[0], "msg": r1[1]})
                else:
                    rules.append({"kind": "same", "pos": i, "k": k, "cls": r1[0], "msg": r1[1],
                                  "with": [j for j in tpos if j != i and KIND_OF.get(args[j].dtype) == bk]})
                    if r2 is not None and r2[0] != "timeout":  # all of that dtype: refused otherwise
                        n2 = outcome(e, a2, kwargs, ndgrad)
                        if n2 is None or n2[0] != r2[0]:
                            rules.append({"kind": "refuse", "pos": i, "k": k, "cls": r2[0], "msg": r2[1]})
        if rules:
            res[e.qual] = {"base": repr(base), "rules": rules}
    return res



CNAME = {"b": "bool", "i": "long int", "f": "float", "d": "double", "c": "c10::complex<float>"}


def template(msg, k, rule, q=""):
    if re.search(r"(?<![\w.])\d+(?![\w])", msg) or "[" in msg:  # names values of the probe's call
        name = q.split(".")[-1]
        if rule["cls"] == "NotImplementedError":
            return f'"{name}" not implemented for \'{{dtype}}\''
        return f"{name}(): tensors of dtype {{dtype}} are not supported here"
    return _template(msg, k, rule)


def _template(msg, k, rule):
    """torch's message with the offending dtype's names as {dtype} (torch's) / {ctype} (C++'s), and the other
    tensor's (float32 in the probes) as {other} / {cother}."""
    m = msg.replace("{", "{{").replace("}", "}}")
    m = m.replace(CNAME[k], "{ctype}")
    m = re.sub(rf"(?<![\w{{]){TNAME[k]}\b", "{dtype}", m)
    if rule["kind"] == "same":
        m = re.sub(r"(?<![\w{])float\b", "{cother}", m)
        m = re.sub(r"(?<![\w{])Float\b", "{other}", m)
    return m

def dtype_table(d: dict) -> str:
    out = {}
    for q, v in d.items():
        rules = []
        refuse = {}
        same = {}
        for r in v["rules"]:
            if "out of bounds" in r["msg"]:
                continue  # depends on the values given (random_(0, 5) on bool), not on the dtype alone
            if "can't be cast to the desired output type" in r["msg"] and q.endswith("_"):
                continue  # in-place castability: ndgrad's in-place machinery checks it for every in-place op
            if r["kind"] == "refuse":
                key = (r["pos"], r["cls"])
                refuse.setdefault(key, ["", template(r["msg"], r["k"], r, q)])
                refuse[key][0] += "f" if r["k"] == "d" else r["k"]
            else:
                key = (r["pos"], tuple(r["with"]), r["cls"])
                same.setdefault(key, ["", template(r["msg"], r["k"], r, q)])
                same[key][0] += r["k"]
                if r["k"] == "d":  # the float64 message is the clearest template (no int/complex special cases)
                    same[key][1] = template(r["msg"], r["k"], r, q)
        for (pos, w, cls), (kinds, msg) in sorted(same.items()):  # mixed dtypes first: torch checks them first
            rules.append(("=", pos, list(w), kinds, cls, msg))
        for (pos, cls), (kinds, msg) in sorted(refuse.items()):
            rules.append(("x", pos, kinds, cls, msg))
        if rules:
            out[q] = rules
    # methods equal to their function's rules need no entry
    for q in list(out):
        if q.startswith("Tensor.") and out.get(q[7:]) == out[q]:
            del out[q]
    lines = ["DTYPES: dict = {"]
    for q in sorted(out):
        lines.append(f"    {q!r}: {out[q]!r},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> None:
    path = ROOT / "ndgrad" / "_signatures.py"
    text = path.read_text()
    head = text[:text.index("SIGNATURES: dict")]
    dt_head = text[text.index("\n# -- dtypes") + 1:text.index("DTYPES: dict")]
    tail = text[text.index("\n# -- by hand") + 1:]
    new = head + signature_tables(probe_signatures()) + "\n\n" + dt_head + dtype_table(probe_dtypes()) + "\n\n" + tail
    if "--diff" in sys.argv:
        old, now = set(text.splitlines()), set(new.splitlines())
        print(f"{len(now - old)} lines would be added, {len(old - now)} removed")
        for line in sorted(now - old)[:20]:
            print("+", line)
        for line in sorted(old - now)[:20]:
            print("-", line)
        return
    path.write_text(new)


if __name__ == "__main__":
    main()
