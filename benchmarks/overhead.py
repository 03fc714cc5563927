"""Per-op overhead on tiny tensors: ndgrad vs torch vs the bare NumPy calls, in one run.

A chain of N ops (mul, add, sin, pow, div in turn) on a one-element float32 tensor, forward and
backward, timed as microseconds per op. The three contestants run interleaved, and each one's
best round counts, so that machine noise hits them alike.

    python benchmarks/overhead.py [--n 2000] [--rounds 15]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def chain(lib, n: int):
    x = lib.tensor([0.5], requires_grad=True)
    y = x
    for i in range(n):
        k = i % 5
        if k == 0:
            y = y * 1.001
        elif k == 1:
            y = y + 0.01
        elif k == 2:
            y = lib.sin(y)
        elif k == 3:
            y = y ** 2
        else:
            y = y / 0.9
    y.sum().backward()
    return x.grad


def numpy_chain(n: int):
    """The same arithmetic as bare NumPy calls: forward values, then the backward products."""
    x = np.array([0.5], np.float32)
    saved = []
    y = x
    for i in range(n):
        k = i % 5
        saved.append(y)
        if k == 0:
            y = np.multiply(y, np.float32(1.001))
        elif k == 1:
            y = np.add(y, np.float32(0.01))
        elif k == 2:
            y = np.sin(y)
        elif k == 3:
            y = np.power(y, 2)
        else:
            y = np.true_divide(y, np.float32(0.9))
    g = np.ones_like(y)
    for i in range(n - 1, -1, -1):
        k = i % 5
        s = saved[i]
        if k == 0:
            g = np.multiply(g, np.float32(1.001))
        elif k == 2:
            g = np.multiply(g, np.cos(s))
        elif k == 3:
            g = np.multiply(g, np.multiply(s, 2))
        elif k == 4:
            g = np.true_divide(g, np.float32(0.9))
    return g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    n = args.n
    import ndgrad
    contestants = {"ndgrad": lambda: chain(ndgrad, n), "numpy": lambda: numpy_chain(n)}
    try:
        import torch
        torch.set_num_threads(1)
        contestants["torch"] = lambda: chain(torch, n)
        g_nd, g_t = chain(ndgrad, 50).numpy(), chain(torch, 50).numpy()
        assert np.allclose(g_nd, g_t, rtol=1e-4), (g_nd, g_t)  # same computation, same gradient
    except ImportError:
        print("(torch is not installed: no torch column)")
    best = {k: float("inf") for k in contestants}
    for _ in range(args.rounds):
        for name, fn in contestants.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    for name, t in best.items():
        print(f"{name:>7}: {t / n * 1e6:7.2f} us/op (forward + backward)")
    if "torch" in best:
        print(f"ndgrad / torch: {best['ndgrad'] / best['torch']:.2f}x  (target <= 0.80)")
    print(f"ndgrad / numpy: {best['ndgrad'] / best['numpy']:.2f}x")


if __name__ == "__main__":
    main()
