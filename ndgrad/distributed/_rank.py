"""One rank of `ndgrad-run`: `python -m ndgrad.distributed._rank WORKDIR (-m MODULE | SCRIPT) ARGS...`.

Runs the script as `python SCRIPT ARGS` would (as `__main__`, sys.argv and sys.path[0] as Python sets them). When
it fails, the exit status is written to WORKDIR/fail-RANK so the launcher stops the other ranks at once: they
may be waiting in MPI's start-up for this one, which MPI alone would never end."""
from __future__ import annotations

import os
import runpy
import sys
import traceback


def main(argv: list[str]) -> None:
    workdir = argv[0]
    module = argv[1] == "-m"
    target = argv[2] if module else argv[1]
    rest = argv[3:] if module else argv[2:]
    code = 0
    try:
        if module:
            sys.argv = [target, *rest]
            sys.path[0] = os.getcwd()
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.argv = [target, *rest]
            sys.path[0] = os.path.dirname(os.path.abspath(target))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if e.code is not None and not isinstance(e.code, int):
            print(e.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - report like the interpreter, then let the launcher stop the others
        traceback.print_exc()
        code = 1
    if code:
        with open(os.path.join(workdir, f"fail-{os.environ.get('RANK', '0')}"), "w") as f:
            f.write(str(code))
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    main(sys.argv[1:])
