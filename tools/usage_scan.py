"""Which torch names does real PyTorch code use, and how many of those uses does ndgrad resolve?

    python tools/usage_scan.py PATH [PATH ...] [--top 30] [--json OUT]

Reads Python files, Jupyter notebooks (code cells) and Markdown pages (fenced Python blocks; d2l's
``%%tab`` blocks count when they are for pytorch) under each PATH, without running anything:

- every dotted name reached from an imported torch module (``torch.x.y``, ``nn.Linear`` after
  ``import torch.nn as nn``, ``F.relu``, ``DataLoader`` after ``from torch.utils.data import DataLoader``);
- every attribute access ``expr.name`` whose name is a public attribute of ``torch.Tensor`` (counted as
  ``Tensor.name``), else of ``torch.nn.Module`` (``Module.name``) or ``torch.optim.Optimizer``
  (``Optimizer.name``). This is a heuristic: ``s.split()`` on a string counts as ``Tensor.split``.

Names the reference (torch) does not have are dropped (removed legacy names, typos, locals that shadow
an alias). Each remaining use counts as resolved when the same name resolves in ndgrad. The scan needs
no network; it needs the reference module importable to filter names (``--reference``).
"""
from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import re
import sys
from collections import Counter
from typing import Any, Iterable, Iterator

ROOTS = ("torch",)
KINDS = (("Tensor", "Tensor"), ("Module", "nn.Module"), ("Optimizer", "optim.Optimizer"))


# ---------------------------------------------------------------------------------------------- sources
def _notebook_code(text: str) -> str:
    try:
        nb = json.loads(text)
    except ValueError:
        return ""
    cells = nb.get("cells") or [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    out = []
    for c in cells:
        if c.get("cell_type") != "code":
            continue
        src = c.get("source") or c.get("input") or ""
        out.append(src if isinstance(src, str) else "".join(src))
    return "\n".join(out)


_FENCE = re.compile(r"^```+\s*(\{[^}]*\}|[A-Za-z0-9_.+-]*)[^\n]*\n(.*?)^```+\s*$", re.M | re.S)


def _markdown_code(text: str) -> str:
    out = []
    for lang, body in _FENCE.findall(text):
        lang = lang.lower()
        if "python" not in lang and lang not in ("py", "{.python .input}"):
            continue
        first = body.lstrip().split("\n", 1)[0]
        if first.startswith("%%tab"):
            tabs = first[len("%%tab"):].replace(",", " ").split()
            if "pytorch" not in tabs and "all" not in tabs:
                continue
        out.append(body)
    return "\n".join(out)


def _clean(code: str) -> list[str]:
    """Code as parseable chunks: IPython magics and shell lines dropped, one chunk per cell/block."""
    lines = []
    for line in code.split("\n"):
        s = line.lstrip()
        if s.startswith(("%", "!", "?")):
            line = line[: len(line) - len(s)] + "pass"
        lines.append(line)
    return ["\n".join(lines)]


def iter_sources(path: str) -> Iterator[tuple[str, str]]:
    """(file name, Python source) for every readable source under path."""
    files = [path] if os.path.isfile(path) else (
        os.path.join(d, f) for d, _, fs in sorted(os.walk(path)) for f in sorted(fs))
    for f in files:
        ext = os.path.splitext(f)[1]
        if ext not in (".py", ".ipynb", ".md"):
            continue
        try:
            with open(f, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            continue
        if ext == ".ipynb":
            text = _notebook_code(text)
        elif ext == ".md":
            text = _markdown_code(text)
        yield f, text


def _parse(text: str) -> list[ast.AST]:
    try:
        return [ast.parse(text)]
    except (SyntaxError, ValueError):
        pass
    trees = []  # a notebook or page whose blocks do not parse together: parse block by block
    for chunk in re.split(r"\n(?=\S)", text):
        try:
            trees.append(ast.parse(chunk))
        except (SyntaxError, ValueError):
            continue
    return trees


# ---------------------------------------------------------------------------------------------- collecting
class _Collector(ast.NodeVisitor):
    def __init__(self, attr_kinds: dict[str, str]) -> None:
        self.aliases: dict[str, str] = {}
        self.uses: Counter[str] = Counter()
        self.attr_kinds = attr_kinds

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.name.split(".")[0] in ROOTS:
                if a.asname:
                    self.aliases[a.asname] = a.name
                else:
                    self.aliases[a.name.split(".")[0]] = a.name.split(".")[0]
                self.uses[a.name] += 1

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = node.module or ""
        if node.level or mod.split(".")[0] not in ROOTS:
            return
        for a in node.names:
            if a.name == "*":
                continue
            full = f"{mod}.{a.name}"
            self.aliases[a.asname or a.name] = full
            self.uses[full] += 1

    def _chain(self, node: ast.AST) -> list[str] | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.aliases:
            return [self.aliases[node.id], *reversed(parts)]
        return None

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = self._chain(node)
        if chain is not None:
            self.uses[".".join(chain)] += 1
            return  # the inner parts belong to this chain
        kind = self.attr_kinds.get(node.attr)
        if kind is not None:
            self.uses[f"{kind}.{node.attr}"] += 1
        self.visit(node.value)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and node.id in self.aliases and "." in self.aliases[node.id]:
            self.uses[self.aliases[node.id]] += 1


def _attr_kinds(ref: Any) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for label, path in KINDS:
        obj = _resolve(ref, path.split("."))
        if obj is _MISSING:
            continue
        for n in dir(obj):
            if not n.startswith("_"):
                kinds.setdefault(n, label)
    return kinds


def collect(paths: Iterable[str], ref: Any) -> tuple[Counter[str], int]:
    """Counts of every torch name used under paths (unfiltered), and the number of files read."""
    kinds = _attr_kinds(ref)
    uses: Counter[str] = Counter()
    n = 0
    for p in paths:
        for _, text in iter_sources(p):
            n += 1
            for code in _clean(text):
                for tree in _parse(code):
                    c = _Collector(kinds)
                    c.visit(tree)
                    uses.update(c.uses)
    return uses, n


# ---------------------------------------------------------------------------------------------- resolving
_MISSING = object()


def _resolve(mod: Any, parts: list[str]) -> Any:
    obj = mod
    for i, p in enumerate(parts):
        try:
            nxt = getattr(obj, p, _MISSING)
        except Exception:  # torch's lazy namespaces can raise anything
            nxt = _MISSING
        if nxt is _MISSING and isinstance(obj, type(sys)):
            try:  # a submodule not imported by its package
                nxt = importlib.import_module(f"{obj.__name__}.{p}")
            except Exception:
                nxt = _MISSING
        if nxt is _MISSING:
            return _MISSING
        obj = nxt
    return obj


def lookup(lib: Any, name: str) -> Any:
    """What the dotted name (``torch.nn.Linear``, ``Tensor.view``) resolves to in lib, or _MISSING."""
    parts = name.split(".")
    if parts[0] in ROOTS:
        parts = parts[1:]
    else:
        label = dict(KINDS)[parts[0]]
        parts = label.split(".") + parts[1:]
    return _resolve(lib, parts)


def resolves(lib: Any, name: str) -> bool:
    return lookup(lib, name) is not _MISSING


def _unavailable(obj: Any) -> bool:
    try:
        return getattr(obj, "__ndgrad_unavailable__", None) is not None
    except Exception:
        return False


def scan(paths: Iterable[str], reference: str = "torch", target: str = "ndgrad") -> dict[str, Any]:
    """The report for one corpus: uses of names the reference has, and which resolve in the target."""
    ref = importlib.import_module(reference)
    lib = importlib.import_module(target)
    raw, nfiles = collect(paths, ref)
    kept = Counter({n: c for n, c in raw.items() if resolves(ref, n)})
    found = {n: lookup(lib, n) for n in kept}
    missing = Counter({n: c for n, c in kept.items() if found[n] is _MISSING})
    unavailable = Counter({n: c for n, c in kept.items() if found[n] is not _MISSING and _unavailable(found[n])})
    total = sum(kept.values())
    return {"files": nfiles, "uses": total, "names": len(kept),
            "unavailable_uses": sum(unavailable.values()), "unavailable": unavailable.most_common(),
            "resolved_uses": total - sum(missing.values()),
            "resolved_fraction": (total - sum(missing.values())) / total if total else 1.0,
            "missing": missing.most_common(), "dropped": sorted(set(raw) - set(kept))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", help="files or folders of PyTorch code (one corpus)")
    ap.add_argument("--reference", default="torch", help="module that defines which names exist (torch)")
    ap.add_argument("--target", default="ndgrad", help="module checked for those names (ndgrad)")
    ap.add_argument("--top", type=int, default=25, help="how many unresolved names to list")
    ap.add_argument("--json", help="write the full report to this file")
    a = ap.parse_args(argv)
    r = scan(a.paths, a.reference, a.target)
    print(f"{r['files']} files, {r['uses']} uses of {r['names']} torch names: "
          f"{r['resolved_uses']} resolve in {a.target} ({100 * r['resolved_fraction']:.2f}%), of which "
          f"{r['unavailable_uses']} resolve to its clear 'not available' error")
    for n, c in r["missing"][: a.top]:
        print(f"  missing {c:6d}  {n}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(r, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
