"""Every code block in docs/ runs, and prints exactly what the page shows.

A ```python block is followed by a ```text block holding what it prints (or by none when it prints
nothing); the blocks of a page share one namespace, as in a notebook. A ```console block holds `$ ndgrad
...` commands, each followed by its output (stdout and stderr). Any other kind of block fails the test, so
no code on a page goes unchecked. Where torch is installed, the python blocks also run under torch and
must print the same: the pages claim to show what PyTorch prints.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import ndgrad

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(DOCS.glob("*.md"))
TOPICS = ["index.md", "derivatives.md", "partial-and-higher-order-derivatives.md", "custom-functions.md",
          "optimisation.md", "control-flow.md", "detaching.md", "accumulation.md", "jacobians-and-hessians.md",
          "command-line.md", "file-format.md", "debugging.md", "training.md", "forward-mode-and-func.md",
          "distributions.md", "distributed.md", "compile.md"]
# the ⚠ rows of the tutorial scenarios: the page must show the true output and name the wrong claim
WARNINGS = {
    "partial-and-higher-order-derivatives.md": ["tensor([23.], grad_fn=<AddBackward0>)", "tensor([16.])", "17", "10"],
    "derivatives.md": ["tensor([0.2500])", "0.5"],
    "optimisation.md": ["tensor([-0.7500], requires_grad=True)", "−1.5"],
    "control-flow.md": ["RuntimeError: Only Tensors of floating point and complex dtype can require gradients",
                        "gradient of 30"],
    "accumulation.md": ["tensor([16.])", "prints 8"],
}
# pages whose torch run changes torch's global state for the pages after it (torch.compile loads dynamo, after
# which torch.distributions words its validation errors differently): checked in a process of their own
ISOLATED = {"compile.md"}
FENCE = re.compile(r"^```(\S*)\s*$")


@dataclass
class Block:
    lang: str
    code: str
    line: int            # line number of the opening fence
    end: int             # line number of the closing fence


def blocks(path: Path) -> list[Block]:
    out: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m:
            j = i + 1
            while j < len(lines) and lines[j].rstrip() != "```":
                j += 1
            assert j < len(lines), f"{path.name}:{i + 1}: unclosed code block"
            out.append(Block(m.group(1), "\n".join(lines[i + 1:j]) + ("\n" if j > i + 1 else ""), i + 1, j + 1))
            i = j + 1
        else:
            i += 1
    return out


def examples(path: Path) -> list[tuple[str, Block, str | None]]:
    """(kind, block, expected output) for each runnable block: python blocks with the text block after them."""
    bs = blocks(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    k = 0
    while k < len(bs):
        b = bs[k]
        if b.lang == "python":
            nxt = bs[k + 1] if k + 1 < len(bs) else None
            between = lines[b.end:nxt.line - 1] if nxt else []
            if nxt is not None and nxt.lang == "text" and not any(s.strip() for s in between):
                out.append(("python", b, nxt.code))
                k += 2
                continue
            out.append(("python", b, ""))
        elif b.lang == "console":
            out.append(("console", b, None))
        else:
            raise AssertionError(f"{path.name}:{b.line}: a ```{b.lang} block that is not the output of a python "
                                 "block; use ```python, ```text (right after it) or ```console")
        k += 1
    return out


def run_python(code: str, ns: dict) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "<docs>", "exec"), ns)
    return buf.getvalue()


def console_commands(code: str) -> list[tuple[str, str]]:
    """[(command line, expected output)] from a console block."""
    out: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        else:
            assert out, f"console block must start with '$ ': {line!r}"
            out[-1][1].append(line)
    return [(c, "\n".join(o) + "\n" if o else "") for c, o in out]


def run_command(cmd: str) -> tuple[int, str]:
    """Run `ndgrad ...` in this process (the CLI tests run it through subprocess): exit code, stdout+stderr."""
    from ndgrad import cli
    argv = shlex.split(cmd)
    assert argv[0] == "ndgrad", f"console commands must be ndgrad commands: {cmd!r}"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        code = cli.main(argv[1:])
    return code, buf.getvalue()


def _needs_matplotlib(path: Path) -> bool:
    return "matplotlib" in path.read_text(encoding="utf-8") or "ndgrad plot" in path.read_text(encoding="utf-8") \
        or "ndgrad tour" in path.read_text(encoding="utf-8")


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return tmp_path


def test_every_topic_has_a_page_linked_from_the_index():
    assert sorted(p.name for p in PAGES) == sorted(TOPICS)
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for name in TOPICS[1:]:
        assert f"({name})" in index, f"index.md does not link to {name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_structure(page):
    ex = examples(page)
    assert ex, f"{page.name} has no code"
    first = next(b for kind, b, _ in ex if kind == "python") if any(k == "python" for k, _, _ in ex) else None
    if first is not None:
        assert first.code.startswith("import ndgrad as torch\n"), f"{page.name}: first block must import ndgrad as torch"
    assert "FILL" not in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_prints_what_it_shows(page, in_tmp):
    if _needs_matplotlib(page):
        pytest.importorskip("matplotlib")
    if page.name == "distributed.md":  # its process groups need the [distributed] extra (mpi4py + mpich)
        import importlib
        if not importlib.import_module("ndgrad.distributed").is_available():
            pytest.skip("the [distributed] extra (mpi4py, mpich) is not installed")
    ns = {"__name__": "__docs__", "torch": ndgrad}
    for kind, b, expected in examples(page):
        if kind == "python":
            got = run_python(b.code, ns)
            assert got == expected, f"{page.name}:{b.line}: printed output differs from the page"
        else:
            for cmd, want in console_commands(b.code):
                code, got = run_command(cmd)
                assert got == want, f"{page.name}:{b.line}: `{cmd}` output differs from the page"
                assert code == (2 if ": error:" in want else 0), f"{page.name}:{b.line}: `{cmd}` exit status {code}"


@pytest.mark.parametrize("page", [p for p in PAGES if any(k == "python" for k, _, _ in examples(p))],
                         ids=lambda p: p.name)
def test_page_prints_what_torch_prints(page, in_tmp):
    torch = pytest.importorskip("torch")
    if page.name in ISOLATED and not os.environ.get("NDGRAD_DOCS_CHILD"):
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            f"{__file__}::test_page_prints_what_torch_prints[{page.name}]"],
                           env={**os.environ, "NDGRAD_DOCS_CHILD": "1",
                                "PYTHONPATH": os.pathsep.join([str(DOCS.parent), os.environ.get("PYTHONPATH", "")])},
                           capture_output=True, text=True, cwd=DOCS.parent)
        assert r.returncode == 0, r.stdout[-4000:]
        return
    if "matplotlib" in page.read_text(encoding="utf-8"):
        pytest.importorskip("matplotlib")
    ns = {"__name__": "__docs__", "torch": torch}
    for kind, b, expected in examples(page):
        if kind != "python":
            continue
        code = b.code.replace("import ndgrad as torch\n", "import torch\n")
        assert "ndgrad" not in code, f"{page.name}:{b.line}: python blocks must run unchanged under torch"
        assert run_python(code, ns) == expected, f"{page.name}:{b.line}: torch prints something else"


@pytest.mark.parametrize("page", sorted(WARNINGS))
def test_pages_correct_the_tutorials(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    assert "⚠" in text
    for s in WARNINGS[page]:
        assert s in text, f"{page} should show {s!r}"


def test_a_wrong_output_on_a_page_is_caught(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\nimport ndgrad as torch\nprint(torch.tensor([1.0]) * 2)\n```\n\n"
                    "```text\ntensor([3.])\n```\n", encoding="utf-8")
    (_, b, expected), = examples(page)
    assert run_python(b.code, {}) != expected
    page.write_text("```bash\nls\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="bash"):
        examples(page)
