"""tools/usage_scan.py: collecting torch names from code, notebooks and pages, and resolving them.

Runs on a small tree written here (no network); the reference module is a fake torch package made in
tmp_path, so these tests need no torch, plus one check against the real torch when it is installed."""
from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import usage_scan  # noqa: E402

PROGRAM = textwrap.dedent("""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader
    from torch import optim as O

    class Net(nn.Module):
        def forward(self, x):
            return F.relu(x).view(-1)

    x = torch.zeros(3)
    y = torch.nothere(x)
    DataLoader(x)
    DataLoader(x)
    opt = O.SGD([], lr=0.1)
    x.view(3).sum()
    s = "a b".split()
""")


def _tree(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "prog.py").write_text(PROGRAM)
    nb = {"cells": [{"cell_type": "code", "source": ["%matplotlib inline\n", "import torch\n", "torch.ones(2)\n"]},
                    {"cell_type": "markdown", "source": ["torch.zeros is text"]}]}
    (tmp_path / "code" / "nb.ipynb").write_text(json.dumps(nb))
    page = ("# A page\n\n```{.python .input}\n%%tab pytorch\nimport torch\ntorch.ones(1)\n```\n\n"
            "```{.python .input}\n%%tab mxnet\nimport torch\ntorch.mxonly(1)\n```\n")
    (tmp_path / "code" / "page.md").write_text(page)
    (tmp_path / "code" / "broken.py").write_text("def (:\n")
    return str(tmp_path / "code")


def _fake_libs(tmp_path):
    """A fake reference 'refpkg' (what exists) and target 'tgtpkg' (what resolves)."""
    for name, has in (("refpkg", ["zeros", "ones", "mxonly", "Tensor", "nn", "optim", "utils"]),
                      ("tgtpkg", ["zeros", "Tensor", "nn", "optim", "utils"])):
        pkg = tmp_path / "libs" / name
        for sub in ("nn", "optim", "utils", "utils/data"):
            (pkg / sub).mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text(
            "from . import nn, optim, utils\n" + "".join(f"def {h}(*a): pass\n" for h in has
                                                         if h not in ("Tensor", "nn", "optim", "utils")) +
            "class Tensor:\n    def view(self): pass\n" + ("    def sum(self): pass\n" if name == "refpkg" else "")
            + "    def split(self): pass\n")
        (pkg / "nn" / "__init__.py").write_text(
            "from . import functional\nclass Module:\n    def forward(self): pass\n" +
            ("class Linear: pass\n" if name == "refpkg" else ""))
        (pkg / "nn" / "functional.py").write_text("def relu(x): pass\n")
        (pkg / "optim" / "__init__.py").write_text("class SGD: pass\nclass Optimizer:\n    def step(self): pass\n")
        (pkg / "utils" / "__init__.py").write_text("from . import data\n")
        (pkg / "utils" / "data" / "__init__.py").write_text("class DataLoader: pass\n")
    sys.path.insert(0, str(tmp_path / "libs"))
    return "refpkg", "tgtpkg"


def test_collect_names_from_code_notebooks_and_pages(tmp_path):
    ref_name, _ = _fake_libs(tmp_path)
    import importlib
    ref = importlib.import_module(ref_name)
    uses, nfiles = usage_scan.collect([_tree(tmp_path)], ref)
    assert nfiles == 4
    assert uses["torch.nn.functional.relu"] == 1
    assert uses["torch.utils.data.DataLoader"] == 3          # the import and two calls
    assert uses["torch.optim.SGD"] == 1                      # through `from torch import optim as O`
    assert uses["torch.zeros"] == 1 and uses["torch.ones"] == 2  # the notebook cell and the pytorch tab
    assert "torch.mxonly" not in uses                        # an mxnet tab of the page
    assert uses["Tensor.view"] == 2 and uses["Tensor.sum"] == 1
    assert uses["Tensor.split"] == 1                         # the documented heuristic: str.split counts too


def test_scan_resolves_against_target(tmp_path):
    ref_name, tgt_name = _fake_libs(tmp_path)
    r = usage_scan.scan([_tree(tmp_path)], reference=ref_name, target=tgt_name)
    missing = dict(r["missing"])
    assert "torch.nothere" in r["dropped"]                   # not in the reference: not counted
    assert missing.get("torch.ones") == 2 and missing.get("Tensor.sum") == 1
    assert "torch.zeros" not in missing and "torch.nn.functional.relu" not in missing
    assert r["resolved_uses"] == r["uses"] - sum(missing.values())
    assert 0 < r["resolved_fraction"] < 1


def test_command_line_writes_json(tmp_path, capsys):
    ref_name, tgt_name = _fake_libs(tmp_path)
    out = tmp_path / "r.json"
    assert usage_scan.main([_tree(tmp_path), "--reference", ref_name, "--target", tgt_name, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "resolve in tgtpkg" in printed and "missing" in printed
    assert json.loads(out.read_text())["uses"] > 0


def test_real_torch_names_resolve_in_ndgrad(tmp_path, torch):
    src = tmp_path / "p.py"
    src.write_text("import torch\nimport torch.nn as nn\nx = torch.zeros(2, device='cpu')\n"
                   "m = nn.Linear(2, 2)\nif torch.cuda.is_available(): pass\nx.view(2).cuda\n"
                   "torch.onnx.export\n")
    r = usage_scan.scan([str(src)])
    assert r["missing"] == [] and r["resolved_fraction"] == 1.0
    assert r["unavailable_uses"] == 1   # torch.onnx.export resolves to ndgrad's clear error
