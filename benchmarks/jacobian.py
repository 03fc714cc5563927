"""Jacobians and Hessians: ndgrad vs torch, in one run.

Cases (float64):
  (a) Hessian of f(x) = sum(sin(x) * x**2) + x @ A @ x, for x of 64 and 256 elements;
  (b) Jacobian of the 256 -> 256 map g(x) = tanh(W @ x + b) * x.
Contestants: ndgrad.autograd.functional (default and vectorize=True), torch.autograd.functional (default
and vectorize=True), torch.func (hessian / jacrev), and ndgrad.func (hessian / jacrev).

Every contestant is timed best-of-N (timeit style, rounds interleaved so that machine noise hits them
alike), with one BLAS/OpenMP thread everywhere: torch.set_num_threads(1), and the OPENBLAS/OMP/MKL thread
variables set to 1 before NumPy and torch load (pass --threads to change both). The table gives
milliseconds per call and the ratio ndgrad default / each torch contestant (< 1: ndgrad is faster).

    python benchmarks/jacobian.py [--rounds 7] [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def _setup_threads(n: int) -> None:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    opts = ap.parse_args()
    _setup_threads(opts.threads)

    import numpy as np
    import torch
    import torch.func as TF

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import ndgrad
    import ndgrad.func as NF

    torch.set_num_threads(opts.threads)
    rng = np.random.default_rng(0)

    def hess_case(n):
        xn, an = rng.standard_normal(n), rng.standard_normal((n, n)) / n
        A, At = ndgrad.tensor(an), torch.tensor(an)
        x, xt = ndgrad.tensor(xn), torch.tensor(xn)

        def f(x):
            return (ndgrad.sin(x) * x ** 2).sum() + x @ A @ x

        def ft(x):
            return (torch.sin(x) * x ** 2).sum() + x @ At @ x

        nfun, tfun = ndgrad.autograd.functional, torch.autograd.functional
        return {
            "ndgrad default": lambda: nfun.hessian(f, x),
            "ndgrad vectorize": lambda: nfun.hessian(f, x, vectorize=True),
            "ndgrad.func": lambda: NF.hessian(f)(x),
            "torch default": lambda: tfun.hessian(ft, xt),
            "torch vectorize": lambda: tfun.hessian(ft, xt, vectorize=True),
            "torch.func": lambda: TF.hessian(ft)(xt),
        }

    def jac_case(n):
        wn, bn, xn = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n), rng.standard_normal(n)
        W, b, x = ndgrad.tensor(wn), ndgrad.tensor(bn), ndgrad.tensor(xn)
        Wt, bt, xt = torch.tensor(wn), torch.tensor(bn), torch.tensor(xn)

        def g(x):
            return ndgrad.tanh(W @ x + b) * x

        def gt(x):
            return torch.tanh(Wt @ x + bt) * x

        nfun, tfun = ndgrad.autograd.functional, torch.autograd.functional
        return {
            "ndgrad default": lambda: nfun.jacobian(g, x),
            "ndgrad vectorize": lambda: nfun.jacobian(g, x, vectorize=True),
            "ndgrad.func": lambda: NF.jacrev(g)(x),
            "torch default": lambda: tfun.jacobian(gt, xt),
            "torch vectorize": lambda: tfun.jacobian(gt, xt, vectorize=True),
            "torch.func": lambda: TF.jacrev(gt)(xt),
        }

    cases = [("hessian n=64", hess_case(64)), ("hessian n=256", hess_case(256)), ("jacobian 256->256", jac_case(256))]
    print(f"threads: torch.get_num_threads()={torch.get_num_threads()}, OPENBLAS/OMP/MKL_NUM_THREADS={opts.threads}; "
          f"best of {opts.rounds} rounds; ms per call")
    names = ["ndgrad default", "ndgrad vectorize", "ndgrad.func", "torch default", "torch vectorize", "torch.func"]
    header = f"{'case':<20}" + "".join(f"{n:>17}" for n in names)
    print(header)
    ratios = []
    for title, fns in cases:
        # correctness first: every contestant gives the same matrix
        ref = fns["torch default"]().numpy()
        for n in names:
            got = fns[n]()
            got = got.detach().numpy() if hasattr(got, "detach") else got.numpy()
            assert np.allclose(got, ref, rtol=1e-8, atol=1e-10), (title, n)
        best = {n: float("inf") for n in names}
        for _ in range(opts.rounds):
            for n in names:
                fn = fns[n]
                # a few calls per timing for the fast ones, one for the slow ones
                reps = 1 if n == "torch default" else 3
                fn()  # warm: each contestant's first call after another's pays for cold caches
                t0 = time.perf_counter()
                for _ in range(reps):
                    fn()
                best[n] = min(best[n], (time.perf_counter() - t0) / reps)
        print(f"{title:<20}" + "".join(f"{best[n] * 1e3:>17.3f}" for n in names))
        ratios.append((title, best))
    print()
    print("ratios ndgrad default / torch (< 1 means ndgrad is faster):")
    for title, best in ratios:
        d = best["ndgrad default"]
        print(f"  {title:<20} vs torch default {d / best['torch default']:.3f}   vs torch vectorize "
              f"{d / best['torch vectorize']:.3f}   vs torch.func {d / best['torch.func']:.3f}   "
              f"(ndgrad vectorize / torch vectorize {best['ndgrad vectorize'] / best['torch vectorize']:.3f})")


if __name__ == "__main__":
    main()
