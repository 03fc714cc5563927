"""Peak memory of an MLP training run: ndgrad against torch, each in a fresh process.

    python benchmarks/memory.py [--steps 20]

Each library trains the MLP 784-512-512-10 of benchmarks/train_step.py (batch 256, SGD) for `--steps` steps in a
process of its own; the figure is the process's peak resident memory (VmHWM), import included: what a
machine must have to run the program. Target (issue 12): ndgrad <= 0.25x torch. `results()` returns the ratio.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = r"""
import os, sys, resource
os.environ["OMP_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = "1"
sys.path.insert(0, {root!r}); sys.path.insert(0, {here!r})
import numpy as np
lib = __import__({lib!r})
if {lib!r} == "torch":
    lib.set_num_threads(1)
import train_step
ws, bs, x, y = train_step.mlp_setup(np.random.default_rng(0))
step = train_step.lib_mlp(lib, ws, bs, x, y)
for _ in range({steps}):
    step()
try:  # this process's own high-water mark (ru_maxrss would carry over a big parent's, across fork and exec)
    print(next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")))
except (OSError, StopIteration):
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
"""


def peak_kib(lib: str, steps: int) -> int:
    code = CHILD.format(root=os.path.dirname(HERE), here=HERE, lib=lib, steps=steps)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(r.stdout.split()[-1])


def results(steps: int = 20, out=print) -> dict:
    nd = peak_kib("ndgrad", steps)
    try:
        import importlib.util
        if importlib.util.find_spec("torch") is None:
            raise ImportError
        t = peak_kib("torch", steps)
    except (ImportError, subprocess.CalledProcessError):
        out(f"MLP training run, peak memory: ndgrad {nd / 1024:.0f} MiB (torch is not installed)")
        return {}
    out(f"MLP 784-512-512-10 training run ({steps} steps), peak resident memory: ndgrad {nd / 1024:.0f} MiB, "
        f"torch {t / 1024:.0f} MiB")
    return {"MLP training run, peak memory vs torch": (nd / t, 0.25)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    sys.path.insert(0, HERE)
    from _timing import report
    report(results(a.steps))


if __name__ == "__main__":
    main()
