"""Convolution and pooling speed: ndgrad vs torch (vs a bare NumPy im2col conv), float32, one thread.

Three timings, forward + backward each, milliseconds:
- conv2d 16->32 3x3 on (N, 16, 13, 13) (input, weight and bias gradients),
- max_pool2d 2x2 on (N, 16, 26, 26),
- a training step of a small CNN on (N, 1, 28, 28): conv 1->16 3x3, relu, maxpool 2, conv 16->32 3x3, relu,
  maxpool 2, linear 800->10, cross entropy.
Contestants run interleaved and each one's best round counts, so machine noise hits them alike.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/conv.py [--batch 64] [--rounds 10]
"""
from __future__ import annotations

import argparse
import os
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402


def _conv(lib, x, w, b):
    y = lib.nn.functional.conv2d(x, w, b)
    y.sum().backward()


def _pool(lib, x):
    lib.nn.functional.max_pool2d(x, 2).sum().backward()


def _numpy_conv(x, w, b):
    """The same conv forward + backward as bare NumPy: im2col, matmuls, col2im."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    ho, wo = h - kh + 1, wd - kw + 1
    s = x.strides
    cols = np.lib.stride_tricks.as_strided(x, (n, c, kh, kw, ho, wo), (s[0], s[1], s[2], s[3], s[2], s[3]))
    cols = cols.reshape(n, c * kh * kw, ho * wo)
    y = np.matmul(w.reshape(o, -1), cols) + b[:, None]
    g = np.ones_like(y)
    gw = np.einsum("nol,nkl->ok", g, cols, optimize=True)
    gc = np.matmul(w.reshape(o, -1).T, g).reshape(n, c, kh, kw, ho, wo)
    gx = np.zeros_like(x)
    for i in range(kh):
        for j in range(kw):
            gx[:, :, i:i + ho, j:j + wo] += gc[:, :, i, j]
    return y, gx, gw, g.sum((0, 2))


def _cnn(lib, x, y, params):
    F = lib.nn.functional
    w1, b1, w2, b2, w3, b3 = params
    h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2)), 2)
    out = h.reshape(h.shape[0], -1) @ w3.t() + b3
    F.cross_entropy(out, y).backward()
    for p in params:
        p.grad = None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    import ndgrad
    libs = [ndgrad]
    try:
        import torch
        torch.set_num_threads(1)
        libs.insert(0, torch)
    except ImportError:
        pass
    rng = np.random.default_rng(0)
    n = a.batch
    data = {
        "x16": rng.standard_normal((n, 16, 13, 13)).astype(np.float32),
        "w": rng.standard_normal((32, 16, 3, 3)).astype(np.float32) * 0.1,
        "b": rng.standard_normal(32).astype(np.float32),
        "p": rng.standard_normal((n, 16, 26, 26)).astype(np.float32),
        "img": rng.standard_normal((n, 1, 28, 28)).astype(np.float32),
        "lab": rng.integers(0, 10, n),
        "cnn": [rng.standard_normal(s).astype(np.float32) * 0.1 for s in
                [(16, 1, 3, 3), (16,), (32, 16, 3, 3), (32,), (10, 800), (10,)]],
    }
    cases = {}
    for lib in libs:
        t = lambda arr, g=True: lib.from_numpy(arr.copy()).requires_grad_(g)  # noqa: E731
        x16, w, b, p = t(data["x16"]), t(data["w"]), t(data["b"]), t(data["p"])
        img, lab = lib.from_numpy(data["img"]), lib.from_numpy(data["lab"])
        params = [t(q) for q in data["cnn"]]
        name = lib.__name__
        cases[("conv2d fwd+bwd", name)] = lambda lib=lib, x16=x16, w=w, b=b: _conv(lib, x16, w, b)
        cases[("max_pool2d fwd+bwd", name)] = lambda lib=lib, p=p: _pool(lib, p)
        cases[("CNN training step", name)] = lambda lib=lib, img=img, lab=lab, ps=params: _cnn(lib, img, lab, ps)
    cases[("conv2d fwd+bwd", "numpy")] = lambda: _numpy_conv(data["x16"], data["w"], data["b"])
    best: dict = {}
    for _ in range(a.rounds):
        for key, f in cases.items():
            t0 = time.perf_counter()
            f()
            dt = time.perf_counter() - t0
            best[key] = min(best.get(key, dt), dt)
    names = [lib.__name__ for lib in libs] + ["numpy"]
    print(f"batch {n}, float32, best of {a.rounds} rounds, ms")
    print(f"{'':22}" + "".join(f"{m:>10}" for m in names) + "  ndgrad/torch")
    for case in dict.fromkeys(k[0] for k in cases):
        row = [best.get((case, m)) for m in names]
        ratio = ""
        if best.get((case, "torch")):
            ratio = f"{best[(case, 'ndgrad')] / best[(case, 'torch')]:10.2f}"
        print(f"{case:22}" + "".join(f"{v * 1e3:10.2f}" if v is not None else f"{'':10}" for v in row) + "  " + ratio)


if __name__ == "__main__":
    main()
