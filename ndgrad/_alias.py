"""Run PyTorch programs unchanged: make `import torch` (and `torch.*`, `functorch`) import ndgrad.

    ndgrad run train.py --epochs 3          # the program sees sys.argv = ["train.py", "--epochs", "3"]
    python -m ndgrad.run train.py           # the same

`install()` adds an import finder that answers `torch` with `ndgrad` and `torch.X.Y` with `ndgrad.X.Y`, the
same module objects, so `import torch.nn as nn` gives `ndgrad.nn`. A real torch installation is never
imported while the alias is installed.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import os
import runpy
import sys
from typing import Any, Sequence

_PREFIXES = {"torch": "ndgrad", "functorch": "ndgrad.functorch"}


class _AliasFinder:
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        head, _, rest = fullname.partition(".")
        if head not in _PREFIXES:
            return None
        real = _PREFIXES[head] + ("." + rest if rest else "")
        try:
            mod = importlib.import_module(real)
        except ModuleNotFoundError:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, self, is_package=hasattr(mod, "__path__"))
        spec._ndgrad_module = mod  # type: ignore[attr-defined]
        return spec

    def create_module(self, spec: Any) -> Any:
        return spec._ndgrad_module

    def exec_module(self, module: Any) -> None:
        pass


def install() -> None:
    """From now on `import torch` gives ndgrad (already-imported torch modules are replaced)."""
    for name in list(sys.modules):
        if name.split(".")[0] in _PREFIXES and not getattr(sys.modules[name], "__name__", "").startswith("ndgrad"):
            del sys.modules[name]
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
    import ndgrad
    sys.modules["torch"] = ndgrad


def run(argv: Sequence[str]) -> int:
    """Run a script (or `-m module`) with torch aliased to ndgrad; returns its exit status."""
    argv = list(argv)
    if not argv:
        print("usage: ndgrad run SCRIPT.py [ARGS...]  |  ndgrad run -m MODULE [ARGS...]", file=sys.stderr)
        return 2
    install()
    if argv[0] == "-m":
        if len(argv) < 2:
            print("ndgrad run: -m needs a module name", file=sys.stderr)
            return 2
        sys.argv = argv[1:]
        runner = lambda: runpy.run_module(argv[1], run_name="__main__", alter_sys=True)  # noqa: E731
    else:
        script = argv[0]
        if not os.path.exists(script):
            print(f"ndgrad run: can't open file {script!r}", file=sys.stderr)
            return 2
        sys.argv = argv
        script = os.path.abspath(script)  # (Python gives `python script.py` an absolute __file__ too)
        sys.path.insert(0, os.path.dirname(script))
        runner = lambda: runpy.run_path(script, run_name="__main__")  # noqa: E731
    try:
        runner()
    except SystemExit as e:
        code = e.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except Exception as e:  # the traceback Python prints for the script: from its first frame, not the runner's
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename in _RUNNER_FILES:
            tb = tb.tb_next
        # (through sys.excepthook, as Python's own: on 3.10-3.11 only the interpreter's hook adds "Did you mean"
        # to a NameError or AttributeError, and a program's own hook is honoured)
        # (the interpreter's hook prints the exception's own traceback; none at all when only the runner's frames
        # were there, as for a SyntaxError in the script itself, which Python prints without a traceback)
        e.__traceback__ = tb
        if os.environ.get("NDGRAD_FULL_TRACEBACK", "0") == "0":
            _drop_inner_frames(e)
        sys.excepthook(type(e), e, e.__traceback__)
        return 1
    return 0


def _drop_inner_frames(e: BaseException) -> None:
    """End each traceback of `e` (and of the exceptions chained to it) at its last frame outside ndgrad: the
    frames after it are ndgrad's kernels, where torch's are C++ that a traceback does not show, so the last line
    printed is the program's own call, as under torch. (NDGRAD_FULL_TRACEBACK=1 keeps them.)"""
    from ._warn import inside_ndgrad
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        last = None
        tb = e.__traceback__
        while tb is not None:
            if not inside_ndgrad(tb.tb_frame.f_code.co_filename):
                last = tb
            tb = tb.tb_next
        if last is not None:
            last.tb_next = None
        e = e.__cause__ or (None if e.__suppress_context__ else e.__context__)


_RUNNER_FILES = {os.path.abspath(__file__), os.path.abspath(runpy.__file__), "<frozen runpy>",
                 os.path.join(os.path.dirname(os.path.abspath(__file__)), "cli.py")}
