"""vmap against torch.func, in one run (1 thread): per-sample gradients, ensembles, Jacobians and Hessians.

    python benchmarks/vmap.py [--rounds 7] [--quick]

- per-sample gradients of an MLP 16->32->4 (tanh, MSE) with vmap(grad(loss), in_dims=(None, 0, 0)), batch 64 and
  batch 1024 (targets: <= 1.0x torch.func);
- per-sample gradients of a small CNN (conv 1->8 3x3, ReLU, 2x2 max-pool, linear; 8x8 inputs, batch 64; target:
  <= 1.5x torch.func);
- an ensemble of 10 MLPs (16->32->4) on one batch of 64 through vmap + functional_call + stack_module_state
  (target: <= 1.0x torch.func);
- jacrev of a 256->256 function (tanh(W x)) and hessian of a 256-input scalar function (sum(tanh(W x)^2))
  (targets: <= 1.0x torch.func).
Rounds interleave the two libraries; each reports its best round (CPU time). `results()` returns the ratios.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import sys  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import best_of, cli  # noqa: E402


def mlp_case(lib, batch: int):
    rng = np.random.default_rng(0)
    p = [lib.tensor(a) for a in (rng.standard_normal((32, 16)) / 4, np.zeros(32), rng.standard_normal((4, 32)) / 6,
                                 np.zeros(4))]
    x, y = lib.tensor(rng.standard_normal((batch, 16))), lib.tensor(rng.standard_normal((batch, 4)))

    def loss(params, xb, yb):
        w1, b1, w2, b2 = params
        return ((lib.tanh(xb @ w1.T + b1) @ w2.T + b2 - yb) ** 2).mean()
    f = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))
    return lambda: f(p, x, y)


def cnn_case(lib):
    rng = np.random.default_rng(0)
    F = lib.nn.functional
    p = {"cw": lib.tensor(rng.standard_normal((8, 1, 3, 3)) / 3), "cb": lib.tensor(np.zeros(8)),
         "lw": lib.tensor(rng.standard_normal((3, 8 * 3 * 3)) / 8), "lb": lib.tensor(np.zeros(3))}
    x, y = lib.tensor(rng.standard_normal((64, 1, 8, 8))), lib.tensor(rng.integers(0, 3, 64))

    def loss(params, xb, yb):
        h = F.max_pool2d(F.conv2d(xb[None], params["cw"], params["cb"]).relu(), 2).flatten(1)
        return F.cross_entropy(F.linear(h, params["lw"], params["lb"]), yb[None])
    f = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))
    return lambda: f(p, x, y)


def ensemble_case(lib):
    lib.manual_seed(0)
    nn = lib.nn
    models = [nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4)) for _ in range(10)]
    params, buffers = lib.func.stack_module_state(models)
    params = {k: v.detach() for k, v in params.items()}
    x = lib.randn(64, 16)

    def call(p, b, xb):
        return lib.func.functional_call(models[0], (p, b), (xb,))
    f = lib.func.vmap(call, in_dims=(0, 0, None))
    return lambda: f(params, buffers, x)


def jac_case(lib, kind: str):
    rng = np.random.default_rng(0)
    w = lib.tensor(rng.standard_normal((256, 256)) / 16)
    x = lib.tensor(rng.standard_normal(256))
    if kind == "jacrev":
        f = lib.func.jacrev(lambda v: lib.tanh(w @ v))
    else:
        f = lib.func.hessian(lambda v: (lib.tanh(w @ v) ** 2).sum())
    return lambda: f(x)


def results(rounds: int = 7, quick: bool = False, out=print) -> dict:
    import ndgrad
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        out("(torch is not installed: no comparison)")
        return {}
    rounds = 1 if quick else rounds
    cases = {"per-sample grads, MLP, batch 64": (lambda lib: mlp_case(lib, 64), 1.0),
             "per-sample grads, MLP, batch 1024": (lambda lib: mlp_case(lib, 1024), 1.0),
             "per-sample grads, small CNN, batch 64": (cnn_case, 1.5),
             "ensemble of 10 MLPs": (ensemble_case, 1.0),
             "jacrev 256->256": (lambda lib: jac_case(lib, "jacrev"), 1.0),
             "hessian, 256 inputs": (lambda lib: jac_case(lib, "hessian"), 1.0)}
    ratios = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (make, target) in cases.items():
            fns = {"ndgrad": make(ndgrad), "torch.func": make(torch)}
            for f in fns.values():
                f()
            t = best_of(fns, rounds, 1 if quick else 5)
            r = t["ndgrad"] / t["torch.func"]
            out(f"{name:>40}: ndgrad {t['ndgrad'] * 1e3:8.2f} ms, torch.func {t['torch.func'] * 1e3:8.2f} ms, "
                f"{r:5.2f}x")
            ratios[f"vmap: {name} vs torch.func"] = (r, target)
    return ratios


def main() -> None:
    cli(__doc__, results, 60)


if __name__ == "__main__":
    main()
