"""One training step (forward, loss, backward, SGD update) timed in ndgrad, torch and hand-written NumPy.

    python benchmarks/train_step.py [--rounds 7] [--steps 3]

Models, float32, single-threaded (BLAS and torch limited to one thread):
- MLP 784-512-512-10 with ReLU, batch 256, cross-entropy;
- CNN on 1x28x28: conv 1->16 3x3 pad 1, ReLU, max-pool 2, conv 16->32 3x3 pad 1, ReLU, max-pool 2, linear
  32*7*7 -> 10, batch 64, cross-entropy;
- LSTM: nn.LSTM(32 -> 128) over 32 steps of a batch of 32, a linear head on the last output, cross-entropy
  (no hand-written NumPy version).
Every version starts from the same weights and data; the script checks that they give the same loss before
timing. Rounds interleave the contestants; each reports its best round (CPU time per step, which a shared
machine's load inflates less than wall time). Targets (issue 12): MLP <= 1.0x torch and <= 1.03x NumPy, CNN <=
1.0x torch, LSTM <= 1.0x torch. `results()` returns the ratios for benchmarks/run_all.py.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _timing import best_of, report  # noqa: E402

LR = 0.01


# -- shared data and weights -----------------------------------------------------------------------------------
def mlp_setup(rng):
    sizes = [784, 512, 512, 10]
    ws = [(rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32) for i, o in zip(sizes, sizes[1:])]
    bs = [np.zeros(o, np.float32) for o in sizes[1:]]
    x = rng.standard_normal((256, 784)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    return ws, bs, x, y


def cnn_setup(rng):
    w1 = (rng.standard_normal((16, 1, 3, 3)) / 3).astype(np.float32)
    w2 = (rng.standard_normal((32, 16, 3, 3)) / 12).astype(np.float32)
    w3 = (rng.standard_normal((10, 32 * 7 * 7)) / 40).astype(np.float32)
    bs = [np.zeros(16, np.float32), np.zeros(32, np.float32), np.zeros(10, np.float32)]
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    return [w1, w2, w3], bs, x, y


# -- the library versions (ndgrad and torch run the same code) --------------------------------------------------
def lib_mlp(lib, ws, bs, x, y, compiled: bool = False):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    with lib.no_grad():
        for layer, w, b in zip([model[0], model[2], model[4]], ws, bs):
            layer.weight.copy_(lib.tensor(w))
            layer.bias.copy_(lib.tensor(b))
    return _stepper(lib, model, lib.tensor(x), lib.tensor(y), lib.compile(model) if compiled else model)


def lib_cnn(lib, ws, bs, x, y):
    nn = lib.nn
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
    with lib.no_grad():
        for layer, w, b in zip([model[0], model[3], model[7]], ws, bs):
            layer.weight.copy_(lib.tensor(w))
            layer.bias.copy_(lib.tensor(b))
    return _stepper(lib, model, lib.tensor(x), lib.tensor(y))


def _stepper(lib, model, x, y, run=None):
    """One SGD step of `model` (called through `run`, e.g. its compiled form, when given)."""
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    loss_fn = lib.nn.CrossEntropyLoss()
    run = model if run is None else run

    def step():
        opt.zero_grad()
        loss = loss_fn(run(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def lstm_setup(rng):
    x = rng.standard_normal((32, 32, 32)).astype(np.float32)  # (seq, batch, features)
    y = rng.integers(0, 10, 32)
    return x, y


def lib_lstm(lib, state, x, y):
    nn = lib.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(32, 128)
            self.head = nn.Linear(128, 10)

        def forward(self, inp):
            out, _ = self.lstm(inp)
            return self.head(out[-1])
    model = Model()
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    return _stepper(lib, model, lib.tensor(x), lib.tensor(y))


# -- hand-written NumPy ----------------------------------------------------------------------------------------
def _softmax_xent(logits, y):
    """Mean cross-entropy and its gradient with respect to the logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = float(np.mean(np.log(s[:, 0]) - z[np.arange(n), y]))
    g = e / s
    g[np.arange(n), y] -= 1
    g /= n
    return loss, g


def numpy_mlp(ws, bs, x, y):
    ws = [w.copy() for w in ws]
    bs = [b.copy() for b in bs]

    def step():
        acts = [x]
        h = x
        for k, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w.T + b
            if k < len(ws) - 1:
                np.maximum(h, 0, out=h)
            acts.append(h)
        loss, g = _softmax_xent(h, y)
        for k in range(len(ws) - 1, -1, -1):
            gw = g.T @ acts[k]
            gb = g.sum(axis=0)
            if k:
                g = g @ ws[k]
                g *= acts[k] > 0
            ws[k] -= LR * gw
            bs[k] -= LR * gb
        return loss
    return step


def _im2col(x, k, pad):
    """(N, C, H, W) -> (N, H, W, C*k*k) patches of a stride-1 convolution with zero padding."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))  # N, C, H, W, k, k
    n, c, h, w = win.shape[:4]
    return np.ascontiguousarray(win.transpose(0, 2, 3, 1, 4, 5)).reshape(n, h, w, c * k * k)


def _col2im(gcol, shape, k, pad):
    n, c, h, w = shape
    g = gcol.reshape(n, h, w, c, k, k)
    out = np.zeros((n, c, h + 2 * pad, w + 2 * pad), gcol.dtype)
    for i in range(k):
        for j in range(k):
            out[:, :, i:i + h, j:j + w] += g[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return out[:, :, pad:pad + h, pad:pad + w]


def _pool_fwd(x):
    """2x2 max-pooling from the four strided quarter views; returns what backward needs."""
    quarters = [x[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
    m = np.maximum(np.maximum(quarters[0], quarters[1]), np.maximum(quarters[2], quarters[3]))
    return m, (quarters, x.shape)


def _pool_bwd(g, saved, m):
    """The gradient goes to the first maximum of each window (as torch's max_pool2d does)."""
    quarters, shape = saved
    out = np.zeros(shape, g.dtype)
    taken = np.zeros(m.shape, bool)
    for (i, j), q in zip(((0, 0), (0, 1), (1, 0), (1, 1)), quarters):
        sel = (q == m) & ~taken
        out[:, :, i::2, j::2] = g * sel
        taken |= sel
    return out


def numpy_cnn(ws, bs, x, y):
    w1, w2, w3 = [w.copy() for w in ws]
    b1, b2, b3 = [b.copy() for b in bs]

    def conv(inp, w, b):
        cols = _im2col(inp, 3, 1)
        out = cols @ w.reshape(len(w), -1).T + b      # N, H, W, O
        return out.transpose(0, 3, 1, 2), cols

    def conv_bwd(g, cols, w, shape, need_input=True):
        go = g.transpose(0, 2, 3, 1).reshape(-1, len(w))  # (N*H*W, O)
        gw = (go.T @ cols.reshape(len(go), -1)).reshape(w.shape)
        gb = go.sum(axis=0)
        if not need_input:
            return None, gw, gb
        return _col2im(go @ w.reshape(len(w), -1), shape, 3, 1), gw, gb

    def step():
        nonlocal w1, w2, w3, b1, b2, b3
        a1, c1 = conv(x, w1, b1)
        r1 = np.maximum(a1, 0)
        p1, m1 = _pool_fwd(r1)
        a2, c2 = conv(p1, w2, b2)
        r2 = np.maximum(a2, 0)
        p2, m2 = _pool_fwd(r2)
        flat = p2.reshape(len(x), -1)
        logits = flat @ w3.T + b3
        loss, g = _softmax_xent(logits, y)
        gw3, gb3 = g.T @ flat, g.sum(axis=0)
        g = (g @ w3).reshape(p2.shape)
        g = _pool_bwd(g, m2, p2) * (a2 > 0)
        g, gw2, gb2 = conv_bwd(g, c2, w2, p1.shape)
        g = _pool_bwd(g, m1, p1) * (a1 > 0)
        _, gw1, gb1 = conv_bwd(g, c1, w1, x.shape, need_input=False)
        w1 -= LR * gw1
        w2 -= LR * gw2
        w3 -= LR * gw3
        b1 -= LR * gb1
        b2 -= LR * gb2
        b3 -= LR * gb3
        return loss
    return step


# -- timing ----------------------------------------------------------------------------------------------------
def results(rounds: int = 7, per_round: int = 3, out=print) -> dict:
    """Run the three models; print a table through `out`; return {name: (ratio, target)}."""
    import ndgrad
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    rows = []
    ratios = {}
    cases = [("MLP 784-512-512-10, batch 256", "MLP", mlp_setup, lib_mlp, numpy_mlp),
             ("CNN 1x28x28, batch 64", "CNN", cnn_setup, lib_cnn, numpy_cnn)]
    for name, short, setup, lib_fn, np_fn in cases:
        ws, bs, x, y = setup(np.random.default_rng(0))
        steps = {"ndgrad": lib_fn(ndgrad, ws, bs, x, y), "numpy": np_fn(ws, bs, x, y)}
        if torch is not None:
            steps["torch"] = lib_fn(torch, ws, bs, x, y)
        _same_loss(name, steps, "numpy")
        rows.append((name, best_of(steps, rounds, per_round)))
        t = rows[-1][1]
        if torch is not None:
            ratios[f"{short} step vs torch"] = (t["ndgrad"] / t["torch"], 1.0)
        if short == "MLP":
            ratios["MLP step vs NumPy"] = (t["ndgrad"] / t["numpy"], 1.03)
    if torch is not None:
        torch.manual_seed(0)
        x, y = lstm_setup(np.random.default_rng(0))
        tm = torch.nn.Module()
        tm.lstm, tm.head = torch.nn.LSTM(32, 128), torch.nn.Linear(128, 10)
        state = {k: v.detach().numpy().copy() for k, v in tm.state_dict().items()}
        steps = {"ndgrad": lib_lstm(ndgrad, state, x, y), "torch": lib_lstm(torch, state, x, y)}
        _same_loss("LSTM", steps, "torch")
        rows.append(("LSTM 32->128, seq 32, batch 32", best_of(steps, rounds, per_round)))
        ratios["LSTM step vs torch"] = (rows[-1][1]["ndgrad"] / rows[-1][1]["torch"], 1.0)
    out(f"{'model':32s} {'ndgrad ms':>10s} {'torch ms':>10s} {'numpy ms':>10s} {'nd/torch':>9s} {'nd/numpy':>9s}")
    nan = float("nan")
    for name, t in rows:
        tt, tn = t.get("torch"), t.get("numpy")
        out(f"{name:32s} {t['ndgrad'] * 1e3:10.2f} {tt * 1e3 if tt else nan:10.2f} {tn * 1e3 if tn else nan:10.2f} "
            f"{t['ndgrad'] / tt if tt else nan:9.2f} {t['ndgrad'] / tn if tn else nan:9.2f}")
    return ratios


def _same_loss(name: str, steps: dict, ref_name: str) -> None:
    first = {k: f() for k, f in steps.items()}
    ref = first[ref_name]
    for k, v in first.items():
        assert abs(v - ref) <= 1e-3 * max(1.0, abs(ref)), f"{name}: {k} loss {v} differs from {ref_name}'s {ref}"


def main() -> None:
    p = argparse.ArgumentParser(description="Training-step benchmark: ndgrad vs torch vs NumPy")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--steps", type=int, default=3)
    args = p.parse_args()
    report(results(args.rounds, args.steps), 24)


if __name__ == "__main__":
    main()
