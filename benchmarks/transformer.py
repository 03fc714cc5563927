"""One training step of a transformer block, timed in ndgrad and torch in one run.

    python benchmarks/transformer.py [--rounds 7] [--steps 5]

The block is nn.TransformerEncoderLayer(256, 4 heads, feed-forward 1024, dropout 0, batch_first) on a batch of
8 sequences of 128 tokens, float32, single-threaded (BLAS and torch limited to one thread); the step is
zero_grad, forward, mean-squared-error loss, backward, SGD update. Two cases: full attention and causal
attention (src_mask = the square subsequent mask, is_causal=True). Both libraries start from torch's weights
(loaded through state_dict) and the script checks that their losses agree before timing. Rounds interleave
the two libraries; each reports its best round (CPU time per step). Target: ndgrad <= 1.0x torch.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

B, L, E, H, FF = 8, 128, 256, 4, 1024


def make_step(lib, state, x, y, causal):
    layer = lib.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, batch_first=True)
    layer.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    opt = lib.optim.SGD(layer.parameters(), lr=0.01)
    xt, yt = lib.tensor(x), lib.tensor(y)
    mask = lib.nn.Transformer.generate_square_subsequent_mask(L) if causal else None

    def step():
        opt.zero_grad()
        out = layer(xt, src_mask=mask, is_causal=causal)
        loss = lib.nn.functional.mse_loss(out, yt)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def best_time(step, steps):
    """Seconds per step: CPU time of this process (everything runs on one thread, and on a shared machine the
    CPU time is not inflated by other processes' load the way wall time is)."""
    t0 = time.process_time()
    for _ in range(steps):
        step()
    return (time.process_time() - t0) / steps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    import torch
    import ndgrad
    torch.set_num_threads(1)
    torch.manual_seed(0)
    state = {k: v.detach().numpy().copy() for k, v in
             torch.nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, batch_first=True).state_dict().items()}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, L, E)).astype(np.float32)
    y = rng.standard_normal((B, L, E)).astype(np.float32)
    for causal in (False, True):
        steps = {name: make_step(lib, state, x, y, causal) for name, lib in (("torch", torch), ("ndgrad", ndgrad))}
        la, lb = steps["torch"](), steps["ndgrad"]()
        assert abs(la - lb) <= 1e-4 * abs(la), (la, lb)
        best = {"torch": float("inf"), "ndgrad": float("inf")}
        for _ in range(args.rounds):
            for name in ("torch", "ndgrad"):
                best[name] = min(best[name], best_time(steps[name], args.steps))
        what = "causal" if causal else "full  "
        print(f"transformer block step ({what}): torch {best['torch'] * 1e3:7.2f} ms   ndgrad "
              f"{best['ndgrad'] * 1e3:7.2f} ms   ratio {best['ndgrad'] / best['torch']:.2f}x")


if __name__ == "__main__":
    main()
