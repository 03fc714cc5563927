"""What every benchmark here shares: interleaved best-of timing, and the line printed for a target."""
from __future__ import annotations

import argparse
import time
from typing import Callable


def best_of(fns: dict, rounds: int, per_round: int = 1, clock: Callable[[], float] = time.process_time) -> dict:
    """Seconds per call of each contestant: rounds interleave the contestants, each keeps its best round (CPU
    time by default, which a shared machine's load inflates less than wall time)."""
    best = {k: float("inf") for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            t0 = clock()
            for _ in range(per_round):
                f()
            best[k] = min(best[k], (clock() - t0) / per_round)
    return best


def report(ratios: dict, width: int = 44) -> int:
    """Print each `name: (ratio, target)` with ok/MISSED; return how many were missed."""
    missed = 0
    for name, (r, target) in ratios.items():
        ok = r <= target
        missed += not ok
        print(f"{name:>{width}}: {r:6.2f} (target <= {target}) {'ok' if ok else 'MISSED'}")
    return missed


def cli(doc: str, results: Callable, width: int = 44) -> None:
    """`--rounds N` and `--quick` for a benchmark whose `results(rounds, quick)` returns its ratios."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="one round: a smoke test, not a measurement")
    a = ap.parse_args()
    report(results(a.rounds, a.quick), width)
