"""Per-op overhead by kind of op: ndgrad vs torch vs bare NumPy, in one run.

    python benchmarks/overhead.py [--n 2000] [--rounds 7] [--depths 1000,10000,100000] [--quick]

Each kind is a chain of `--n` ops on tiny float32 tensors, forward and backward (one `backward()` of the
chain's sum), timed in microseconds per op. The NumPy column is the same arithmetic written as bare NumPy
calls (forward values, then the hand-derived backward products): what the work costs without any
autograd bookkeeping. The contestants run interleaved and each one's best round counts, so that machine
noise hits them alike.

Kinds:
  binary      tensor-with-tensor ops (h*x, h+w, h-x, h/w) where two leaves feed every op (gradient accumulation)
  scalar      tensor-with-number ops (h*1.001, h+0.01, h/0.9, h-0.01)
  unary       sin, tanh, sigmoid, cos
  reduction   sum(dim, keepdim) and mean(dim, keepdim) on a 4x4 tensor, each feeding a broadcast op
  views       x[1:], transpose, reshape, view, cat (shape and indexing ops)
  matmul      4x4 @ 4x4 products, alternating sides
  inplace     mul_, add_, sin_ on a non-leaf tensor (one node per op, version-checked)
  second      autograd.grad(create_graph=True) of a mixed chain, then grad of that (second order)
then a micrograd-style MLP (batch 16, 8 x Linear(16)+tanh, MSE; forward + backward) and a depth sweep:
the binary chain at 10^3, 10^4, 10^5 ops, time per op at each depth (the graph is built and freed each
time). Targets (issue 12): every kind <= 0.8x torch, geometric mean <= 0.7x, MLP <= 0.8x, per-op time at
10^5 within 1.2x of 10^3, the 10^5 chain <= 0.8x torch. `--quick` runs fewer rounds (a smoke test).

`results()` returns the ratios for benchmarks/run_all.py.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import best_of as _best_of, report  # noqa: E402


def best_of(fns: dict, rounds: int) -> dict:
    return _best_of(fns, rounds, 1, time.perf_counter)

F32 = np.float32


# -- the chains, written once for ndgrad and torch ---------------------------------------------------------------
def binary(lib, n):
    x = lib.tensor([0.5], requires_grad=True)
    w = lib.tensor([1.001], requires_grad=True)
    h = x
    for i in range(n):
        k = i & 3
        if k == 0:
            h = h * x
        elif k == 1:
            h = h + w
        elif k == 2:
            h = h - x
        else:
            h = h / w
    h.sum().backward()
    return x.grad


def scalar(lib, n):
    x = lib.tensor([0.5], requires_grad=True)
    h = x
    for i in range(n):
        k = i & 3
        if k == 0:
            h = h * 1.001
        elif k == 1:
            h = h + 0.01
        elif k == 2:
            h = h / 0.9
        else:
            h = h - 0.01
    h.sum().backward()
    return x.grad


def unary(lib, n):
    x = lib.tensor([0.5], requires_grad=True)
    h = x
    for i in range(n):
        k = i & 3
        if k == 0:
            h = lib.sin(h)
        elif k == 1:
            h = lib.tanh(h)
        elif k == 2:
            h = lib.sigmoid(h)
        else:
            h = lib.cos(h)
    h.sum().backward()
    return x.grad


def reduction(lib, n):
    x = lib.full((4, 4), 0.25, requires_grad=True)
    h = x
    for i in range(n // 2):
        if i & 1:
            h = h.sum(1, keepdim=True) * x
        else:
            h = h.mean(0, keepdim=True) + x
    h.sum().backward()
    return x.grad


def views(lib, n):
    x = lib.full((5, 4), 0.5, requires_grad=True)
    row = lib.full((1, 4), 0.5, requires_grad=True)
    h = x
    for _ in range(n // 5):
        h = h[1:]
        h = h.transpose(0, 1)
        h = h.reshape(16)
        h = h.view(4, 4)
        h = lib.cat([h, row], 0)
    h.sum().backward()
    return x.grad


def matmul(lib, n):
    x = lib.full((4, 4), 0.25, requires_grad=True)
    w = lib.full((4, 4), 0.25, requires_grad=True)
    h = x
    for i in range(n):
        h = h @ w if i & 1 else w @ h
    h.sum().backward()
    return x.grad


def inplace(lib, n):
    x = lib.tensor([0.5], requires_grad=True)
    w = lib.tensor([1.001], requires_grad=True)
    h = x * 1.0
    for i in range(n - 1):
        k = i % 3
        if k == 0:
            h.mul_(w)
        elif k == 1:
            h.add_(x)
        else:
            h.sin_()
    h.sum().backward()
    return x.grad


def second(lib, n):
    """n ops in all: a forward chain of n/4 ops, its create_graph backward and the grad of that."""
    x = lib.tensor([0.5], requires_grad=True)
    h = x
    for i in range(n // 4):
        h = lib.sin(h) if i & 1 else h * x
    g, = lib.autograd.grad(h.sum(), x, create_graph=True)
    g2, = lib.autograd.grad(g.sum(), x)
    return g2


# -- the same arithmetic as bare NumPy calls ----------------------------------------------------------------------
def np_binary(n):
    x, w = np.array([0.5], F32), np.array([1.001], F32)
    hs, h = [], x
    for i in range(n):
        hs.append(h)
        k = i & 3
        h = np.multiply(h, x) if k == 0 else np.add(h, w) if k == 1 else np.subtract(h, x) if k == 2 \
            else np.true_divide(h, w)
    g = np.ones_like(h)
    gx, gw = np.zeros_like(x), np.zeros_like(w)
    for i in range(n - 1, -1, -1):
        k = i & 3
        if k == 0:
            gx = np.add(gx, np.multiply(g, hs[i]))
            g = np.multiply(g, x)
        elif k == 1:
            gw = np.add(gw, g)
        elif k == 2:
            gx = np.subtract(gx, g)
        else:
            gw = np.subtract(gw, np.true_divide(np.multiply(g, hs[i]), np.multiply(w, w)))
            g = np.true_divide(g, w)
    return np.add(gx, g)


def np_scalar(n):
    c = [F32(1.001), F32(0.01), F32(0.9), F32(0.01)]
    h = np.array([0.5], F32)
    for i in range(n):
        k = i & 3
        h = np.multiply(h, c[0]) if k == 0 else np.add(h, c[1]) if k == 1 else np.true_divide(h, c[2]) if k == 2 \
            else np.subtract(h, c[3])
    g = np.ones_like(h)
    for i in range(n - 1, -1, -1):
        k = i & 3
        if k == 0:
            g = np.multiply(g, c[0])
        elif k == 2:
            g = np.true_divide(g, c[2])
    return g


def np_unary(n):
    h, hs = np.array([0.5], F32), []
    for i in range(n):
        k = i & 3
        hs.append(h)
        if k == 0:
            h = np.sin(h)
        elif k == 1:
            h = np.tanh(h)
        elif k == 2:
            h = np.true_divide(1, np.add(1, np.exp(np.negative(h))))
        else:
            h = np.cos(h)
        hs.append(h)
    g = np.ones_like(h)
    for i in range(n - 1, -1, -1):
        k = i & 3
        a, r = hs[2 * i], hs[2 * i + 1]
        if k == 0:
            g = np.multiply(g, np.cos(a))
        elif k == 1:
            g = np.multiply(g, np.subtract(1, np.multiply(r, r)))
        elif k == 2:
            g = np.multiply(g, np.multiply(r, np.subtract(1, r)))
        else:
            g = np.multiply(g, np.negative(np.sin(a)))
    return g


def np_reduction(n):
    x = np.full((4, 4), 0.25, F32)
    h, saved = x, []
    for i in range(n // 2):
        if i & 1:
            s = np.sum(h, 1, keepdims=True)
            saved.append(s)
            h = np.multiply(s, x)
        else:
            saved.append(None)
            h = np.add(np.mean(h, 0, keepdims=True), x)
    g = np.ones_like(h)
    gx = np.zeros_like(x)
    for i in range(n // 2 - 1, -1, -1):
        if i & 1:
            gx = np.add(gx, np.multiply(g, saved[i]))
            g = np.broadcast_to(np.sum(np.multiply(g, x), 1, keepdims=True), (4, 4))
        else:
            gx = np.add(gx, g)
            g = np.broadcast_to(np.true_divide(np.sum(g, 0, keepdims=True), 4), (4, 4))
    return np.add(gx, g)


def np_views(n):
    x, row = np.full((5, 4), 0.5, F32), np.full((1, 4), 0.5, F32)
    h = x
    for _ in range(n // 5):
        h = h[1:]
        h = np.transpose(h)
        h = np.reshape(h, 16)
        h = h.reshape(4, 4)
        h = np.concatenate([h, row], 0)
    g = np.ones_like(h)
    grow = np.zeros_like(row)
    for _ in range(n // 5):
        grow = np.add(grow, g[4:])
        g = g[:4]
        g = np.reshape(g, 16)
        g = np.reshape(g, (4, 4))
        g = np.transpose(g)
        full = np.zeros((5, 4), F32)
        full[1:] = g
        g = full
    return g


def np_matmul(n):
    x, w = np.full((4, 4), 0.25, F32), np.full((4, 4), 0.25, F32)
    h, hs = x, []
    for i in range(n):
        hs.append(h)
        h = np.matmul(h, w) if i & 1 else np.matmul(w, h)
    g, gw = np.ones_like(h), np.zeros_like(w)
    for i in range(n - 1, -1, -1):
        if i & 1:
            gw = np.add(gw, np.matmul(hs[i].T, g))
            g = np.matmul(g, w.T)
        else:
            gw = np.add(gw, np.matmul(g, hs[i].T))
            g = np.matmul(w.T, g)
    return g


def np_inplace(n):
    x, w = np.array([0.5], F32), np.array([1.001], F32)
    h, hs = np.multiply(x, F32(1.0)), []
    for i in range(n - 1):
        k = i % 3
        if k == 0:
            np.multiply(h, w, out=h)
        elif k == 2:
            hs.append(h.copy())
            np.sin(h, out=h)
        else:
            np.add(h, x, out=h)
    g, gx = np.ones_like(h), np.zeros_like(x)
    j = len(hs)
    for i in range(n - 2, -1, -1):
        k = i % 3
        if k == 0:
            g = np.multiply(g, w)
        elif k == 1:
            gx = np.add(gx, g)
        else:
            j -= 1
            g = np.multiply(g, np.cos(hs[j]))
    return np.add(gx, g)


KINDS = {"binary": (binary, np_binary), "scalar": (scalar, np_scalar), "unary": (unary, np_unary),
         "reduction": (reduction, np_reduction), "views": (views, np_views), "matmul": (matmul, np_matmul),
         "inplace": (inplace, np_inplace), "second": (second, None)}


# -- the micrograd-style MLP ---------------------------------------------------------------------------------------
def mlp_data(seed=0):
    rng = np.random.default_rng(seed)
    ws = [(rng.standard_normal((16, 16)) / 4).astype(F32) for _ in range(8)]
    bs = [np.zeros(16, F32) for _ in range(8)]
    return ws, bs, rng.standard_normal((16, 16)).astype(F32), rng.standard_normal((16, 16)).astype(F32)


def lib_mlp(lib, data, compiled: bool = False):
    """A training step's forward + backward; `compiled`: the loss function through lib.compile."""
    ws, bs, x, y = data
    params = [(lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)) for w, b in zip(ws, bs)]
    xt, yt = lib.tensor(x), lib.tensor(y)
    F = lib.nn.functional

    def loss_fn(inp, target):
        h = inp
        for w, b in params:
            h = lib.tanh(F.linear(h, w, b))
        return F.mse_loss(h, target)
    run = lib.compile(loss_fn) if compiled else loss_fn

    def step():
        loss = run(xt, yt)
        loss.backward()
        for w, b in params:
            w.grad = None
            b.grad = None
        return loss
    return step


def np_mlp(data):
    ws, bs, x, y = data

    def step():
        hs, h = [], x
        for w, b in zip(ws, bs):
            hs.append(h)
            h = np.tanh(np.add(np.matmul(h, w.T), b))
            hs.append(h)
        d = np.subtract(h, y)
        g = np.multiply(d, F32(2 / d.size))
        grads = []
        for j in range(len(ws) - 1, -1, -1):
            t = hs[2 * j + 1]
            g = np.multiply(g, np.subtract(F32(1), np.multiply(t, t)))
            grads.append((np.matmul(g.T, hs[2 * j]), np.sum(g, 0)))
            g = np.matmul(g, ws[j])
        return grads
    return step


# -- timing ---------------------------------------------------------------------------------------------------------
def results(n=2000, rounds=7, depths=(1000, 10000, 100000), out=print) -> dict:
    """Run everything; print the tables through `out`; return {name: (ratio, target)}."""
    import ndgrad
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
        out("(torch is not installed: no torch column, no ratios)")
    ratios = {}
    out(f"op kinds: chains of {n} ops, forward + backward, us per op, best of {rounds} rounds")
    out(f"{'kind':>10} {'ndgrad':>8} {'torch':>8} {'numpy':>8} {'nd/torch':>9} {'nd/numpy':>9}")
    logs = []
    for kind, (fn, npfn) in KINDS.items():
        if torch is not None:  # same computation, same gradient
            a, b = fn(ndgrad, 40).numpy(), fn(torch, 40).numpy()
            assert np.allclose(a, b, rtol=1e-4, atol=1e-6), (kind, a, b)
        fns = {"ndgrad": lambda: fn(ndgrad, n)}
        if torch is not None:
            fns["torch"] = lambda: fn(torch, n)
        if npfn is not None:
            fns["numpy"] = lambda: npfn(n)
        t = best_of(fns, rounds)
        us = {k: v / n * 1e6 for k, v in t.items()}
        r = us["ndgrad"] / us["torch"] if torch is not None else float("nan")
        rn = f"{us['ndgrad'] / us['numpy']:8.2f}x" if "numpy" in us else f"{'-':>9}"
        out(f"{kind:>10} {us['ndgrad']:8.2f} {us.get('torch', float('nan')):8.2f} "
            f"{us.get('numpy', float('nan')):8.2f} {r:8.2f}x {rn}")
        if torch is not None:
            ratios[f"op kind {kind}"] = (r, 0.8)
            logs.append(np.log(r))
    if logs:
        gm = float(np.exp(np.mean(logs)))
        out(f"{'geo. mean':>10} {'':>8} {'':>8} {'':>8} {gm:8.2f}x")
        ratios["op kinds, geometric mean"] = (gm, 0.7)

    data = mlp_data()
    fns = {"ndgrad": lib_mlp(ndgrad, data), "numpy": np_mlp(data)}
    if torch is not None:
        fns["torch"] = lib_mlp(torch, data)
        assert abs(fns["ndgrad"]().item() - fns["torch"]().item()) < 1e-4
    t = best_of(fns, rounds * 30)
    line = f"micrograd-style MLP (batch 16, 8 x Linear(16)+tanh, MSE): ndgrad {t['ndgrad'] * 1e6:.0f} us, " \
           f"numpy {t['numpy'] * 1e6:.0f} us"
    if torch is not None:
        line += f", torch {t['torch'] * 1e6:.0f} us, ndgrad/torch {t['ndgrad'] / t['torch']:.2f}x"
        ratios["micrograd MLP"] = (t["ndgrad"] / t["torch"], 0.8)
    out(line)

    out("depth sweep (binary chain, forward + backward): us per op")
    per = {}
    for d in depths:
        fns = {"ndgrad": lambda: binary(ndgrad, d)}
        if torch is not None:
            fns["torch"] = lambda: binary(torch, d)
        t = best_of(fns, max(2, rounds * 1000 // d))
        per[d] = {k: v / d * 1e6 for k, v in t.items()}
        s = f"{d:>8} ops: ndgrad {per[d]['ndgrad']:.2f}"
        if torch is not None:
            s += f", torch {per[d]['torch']:.2f}, ndgrad/torch {per[d]['ndgrad'] / per[d]['torch']:.2f}x"
        out(s)
        gc.collect()
    lo, hi = min(depths), max(depths)
    ratios[f"depth: per-op time at {hi} / at {lo}"] = (per[hi]["ndgrad"] / per[lo]["ndgrad"], 1.2)
    if torch is not None:
        ratios[f"depth: {hi}-op chain vs torch"] = (per[hi]["ndgrad"] / per[hi]["torch"], 0.8)
    return ratios


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--depths", default="1000,10000,100000")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    rounds = 1 if a.quick else a.rounds
    depths = (100, 1000) if a.quick else tuple(int(d) for d in a.depths.split(","))
    res = results(a.n if not a.quick else 200, rounds, depths)
    print()
    report(res, 40)


if __name__ == "__main__":
    main()
