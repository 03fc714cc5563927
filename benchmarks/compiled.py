"""ndgrad.compile against torch eager, ndgrad eager and hand-written NumPy, in one run (1 thread).

    python benchmarks/compiled.py [--rounds 7] [--quick]

Workloads (forward + backward; the training steps include an SGD update):
- micrograd-style MLP: batch 16, 8 x Linear(16) + tanh, MSE (targets: <= 0.35x torch eager, <= 1.6x NumPy);
- a 2000-op chain of mixed tensor-with-tensor ops on one element (target: <= 0.3x torch eager);
- MLP 784-512-512-10 training step, batch 256 (target: <= 1.0x the hand-written NumPy step);
- a small GPT block (width 128, 4 heads, sequence 64, batch 8) training step (target: <= 0.7x torch eager);
- tracing cost: the first (tracing) call of the GPT block step against one eager step (target: <= 3x).
Rounds interleave the contestants; each reports its best round (CPU time). `results()` returns the ratios for
benchmarks/run_all.py.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import overhead  # noqa: E402
import train_step  # noqa: E402
from _timing import best_of, cli  # noqa: E402


# -- 2000-op chain ----------------------------------------------------------------------------------------------------
def chain_step(lib, n: int, compiled: bool):
    def chain(x, w):
        h = x
        for i in range(n):
            k = i & 3
            h = h * x if k == 0 else h + w if k == 1 else lib.sin(h) if k == 2 else h / w
        return h.sum()
    fn = lib.compile(chain) if compiled else chain
    x = lib.tensor([0.5], requires_grad=True)
    w = lib.tensor([1.001], requires_grad=True)

    def step():
        fn(x, w).backward()
        x.grad = w.grad = None
    return step


# -- GPT block --------------------------------------------------------------------------------------------------------
def gpt_block(lib, width=128, heads=4, seq=64):
    nn = lib.nn
    F = nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(width)
            self.qkv = nn.Linear(width, 3 * width)
            self.proj = nn.Linear(width, width)
            self.ln2 = nn.LayerNorm(width)
            self.fc = nn.Linear(width, 4 * width)
            self.out = nn.Linear(4 * width, width)
            self.register_buffer("mask", lib.tril(lib.ones(seq, seq)).view(1, 1, seq, seq))

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(width, dim=2)
            q = q.view(b, t, heads, c // heads).transpose(1, 2)
            k = k.view(b, t, heads, c // heads).transpose(1, 2)
            v = v.view(b, t, heads, c // heads).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / (c // heads) ** 0.5)
            att = att.masked_fill(self.mask[:, :, :t, :t] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
            x = x + self.proj(y)
            return x + self.out(F.gelu(self.fc(self.ln2(x))))
    return Block()


def gpt_step(lib, state, x, y, compiled: bool):
    block = gpt_block(lib)
    block.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    run = lib.compile(block) if compiled else block
    opt = lib.optim.SGD(block.parameters(), lr=0.01)
    xt, yt = lib.tensor(x), lib.tensor(y)

    def step():
        opt.zero_grad()
        loss = lib.nn.functional.mse_loss(run(xt), yt)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def results(rounds: int = 7, quick: bool = False, out=print) -> dict:
    import ndgrad
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    ratios = {}
    rounds = 1 if quick else rounds
    # micrograd MLP
    data = overhead.mlp_data()
    fns = {"compiled": overhead.lib_mlp(ndgrad, data, compiled=True), "eager": overhead.lib_mlp(ndgrad, data),
           "numpy": overhead.np_mlp(data)}
    if torch is not None:
        fns["torch"] = overhead.lib_mlp(torch, data)
    for f in fns.values():
        f()
        f()  # trace, then the checking call
    t = best_of(fns, rounds, 3 if quick else 50)
    line = "micrograd MLP fwd+bwd (us): " + ", ".join(f"{k} {v * 1e6:.0f}" for k, v in t.items())
    out(line)
    if torch is not None:
        ratios["compiled micrograd MLP vs torch eager"] = (t["compiled"] / t["torch"], 0.35)
    ratios["compiled micrograd MLP vs NumPy"] = (t["compiled"] / t["numpy"], 1.6)
    # 2000-op chain
    n = 200 if quick else 2000
    fns = {"compiled": chain_step(ndgrad, n, True), "eager": chain_step(ndgrad, n, False)}
    if torch is not None:
        fns["torch"] = chain_step(torch, n, False)
    for f in fns.values():
        f()
        f()
    t = best_of(fns, rounds, 1 if quick else 5)
    out(f"{n}-op chain fwd+bwd (us per op): " + ", ".join(f"{k} {v / n * 1e6:.2f}" for k, v in t.items()))
    if torch is not None:
        ratios[f"compiled {n}-op chain vs torch eager"] = (t["compiled"] / t["torch"], 0.3)
    # MLP 784 step
    ws, bs, x, y = train_step.mlp_setup(np.random.default_rng(0))
    fns = {"compiled": train_step.lib_mlp(ndgrad, ws, bs, x, y, compiled=True),
           "eager": train_step.lib_mlp(ndgrad, ws, bs, x, y), "numpy": train_step.numpy_mlp(ws, bs, x, y)}
    if torch is not None:
        fns["torch"] = train_step.lib_mlp(torch, ws, bs, x, y)
    for f in fns.values():
        f()
        f()
    t = best_of(fns, rounds, 1 if quick else 3)
    out("MLP 784-512-512-10 step (ms): " + ", ".join(f"{k} {v * 1e3:.2f}" for k, v in t.items()))
    ratios["compiled MLP 784 step vs NumPy"] = (t["compiled"] / t["numpy"], 1.0)
    # GPT block
    if torch is not None:
        torch.manual_seed(0)
        state = {k: v.detach().numpy().copy() for k, v in gpt_block(torch).state_dict().items()}
        rng = np.random.default_rng(0)
        x = rng.standard_normal((8, 64, 128)).astype(np.float32)
        y = rng.standard_normal((8, 64, 128)).astype(np.float32)
        eager_nd = gpt_step(ndgrad, state, x, y, False)
        compiled = gpt_step(ndgrad, state, x, y, True)
        t0 = time.process_time()
        eager_nd()
        t_eager = time.process_time() - t0
        t0 = time.process_time()
        compiled()
        t_trace = time.process_time() - t0
        compiled()
        fns = {"compiled": compiled, "eager": eager_nd, "torch": gpt_step(torch, state, x, y, False)}
        t = best_of(fns, rounds, 1 if quick else 2)
        out("GPT block step (ms): " + ", ".join(f"{k} {v * 1e3:.2f}" for k, v in t.items()) +
            f"; first (tracing) call {t_trace * 1e3:.1f} ms = {t_trace / t_eager:.2f}x an eager step")
        ratios["compiled GPT block step vs torch eager"] = (t["compiled"] / t["torch"], 0.7)
        ratios["tracing call vs eager call (GPT block)"] = (t_trace / t_eager, 3.0)
    return ratios


def main() -> None:
    cli(__doc__, results)


if __name__ == "__main__":
    main()
