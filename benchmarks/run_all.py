"""Every speed target of the project in one run: prints each ratio next to its target and exits non-zero when
one is missed. Not run in CI (a shared CI machine's timings are noise); run it on a quiet machine.

    python benchmarks/run_all.py [--quick]

It runs, in this order and in one process each: overhead.py (op kinds, micrograd MLP, depth sweep),
train_step.py (MLP, CNN, LSTM steps), compiled.py (ndgrad.compile against torch eager), vmap.py (against
torch.func), memory.py (peak memory of an MLP training run against torch's), and
`import ndgrad` in fresh interpreters (median of 7, NumPy's own import included; target <= 0.1 s).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)


def import_time(runs: int = 7) -> float:
    code = "import time; t0 = time.perf_counter(); import ndgrad; print(time.perf_counter() - t0)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True)  # bytecode
    times = [float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                                  capture_output=True, text=True).stdout) for _ in range(runs)]
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds: a smoke test, not a measurement")
    a = ap.parse_args()
    import overhead
    import train_step
    ratios = {}
    if a.quick:
        ratios.update(overhead.results(200, 1, (100, 1000)))
        ratios.update(train_step.results(1, 1))
    else:
        ratios.update(overhead.results())
        ratios.update(train_step.results())
    try:
        import compiled
    except ImportError:
        compiled = None
    if compiled is not None:
        ratios.update(compiled.results(quick=a.quick))
    import vmap
    ratios.update(vmap.results(quick=a.quick))
    import memory
    ratios.update(memory.results(5 if a.quick else 20))
    t = import_time(3 if a.quick else 7)
    print(f"import ndgrad (NumPy included), median of fresh processes: {t:.3f} s")
    ratios["import ndgrad, seconds"] = (t, 0.1)
    print()
    from _timing import report
    missed = report(ratios)
    print(f"\n{len(ratios) - missed} of {len(ratios)} targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
