"""ndgrad.distributed against raw mpi4py, and DDP's scaling from one process to several.

    python benchmarks/distributed.py [--ranks 2] [--repeat 20] [--rounds 5] [--max-mb 64]

The script starts itself under mpiexec (the one of the mpich wheel, with the environment ndgrad's launchers set).
Single-threaded BLAS in every process. Every comparison is interleaved inside one job, so a machine whose load
changes (other programs on the same cores) slows all sides alike.
1. all_reduce bandwidth for float32 arrays of 1 KiB ... 64 MiB: `ndgrad.distributed.all_reduce` on a tensor, as it
   runs by default (with the cross-rank size check) and with the check off (NDGRAD_DISTRIBUTED_CHECK=0), vs
   `comm.Allreduce(MPI.IN_PLACE, array)` of mpi4py on an array of the same size; calls interleaved, median of many
   calls each (`--repeat` scales how many), the slowest rank's median counts. Bus bandwidth as nccl-tests define
   it: 2(n-1)/n * bytes / time. Target >= 0.9x raw.
2. DDP training step (forward, cross-entropy, backward with gradient averaging, SGD) of the MLP 784-512-512-10,
   64 samples per process: samples per second of one process (rank 0 alone, DDP over a group of one, the other
   ranks idle), of `--ranks` processes with DDP, and of the same processes training without DDP (no
   communication at all: what the machine's free cores allow). `--rounds` rounds of the three phases in rotating
   order, `--repeat` timed steps each; medians over all. Scaling = DDP / one process (ideal: the number of
   processes); target on two cores >= 1.6x.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def bandwidth(args) -> None:
    import ndgrad
    import ndgrad.distributed as dist
    from mpi4py import MPI
    dist.init_process_group("mpi")
    rank, n = dist.get_rank(), dist.get_world_size()
    comm = MPI.COMM_WORLD.Dup()
    if rank == 0:
        print(f"all_reduce, float32, {n} processes: median of many interleaved calls")
        print(f"{'size':>9} {'ndgrad':>12} {'no check':>12} {'mpi4py':>12} {'ratio':>7} {'no check':>9}")
    size = 1024
    ratios, ratios_nc = [], []
    checked = dist._state.check

    def timed(f) -> float:
        comm.Barrier()
        t0 = time.perf_counter()
        f()
        return time.perf_counter() - t0

    def unchecked() -> None:   # what NDGRAD_DISTRIBUTED_CHECK=0 gives, without a second job
        dist._state.check = False
        try:
            dist.all_reduce(t)
        finally:
            dist._state.check = checked
    while size <= args.max_mb * 1024 * 1024:
        arr = np.ones(size // 4, np.float32)
        t = ndgrad.from_numpy(np.ones(size // 4, np.float32))
        reps = max(5, int(args.repeat / 20 * (200 if size <= 64 << 10 else 60 if size <= 1 << 20 else
                                                 20 if size <= 4 << 20 else 8)))
        tn, tc, tr = [], [], []
        for _ in range(3):   # warm-up
            dist.all_reduce(t)
            comm.Allreduce(MPI.IN_PLACE, arr)
        for i in range(reps):
            calls = [(tn, lambda: dist.all_reduce(t)), (tc, unchecked),
                     (tr, lambda: comm.Allreduce(MPI.IN_PLACE, arr))]
            for out, f in calls[i % 3:] + calls[:i % 3]:   # rotate the order
                out.append(timed(f))
        # the slowest rank's time counts
        mn, mc, mr = (comm.allreduce(statistics.median(x), op=MPI.MAX) for x in (tn, tc, tr))
        bus = 2 * (n - 1) / n * size
        ratios.append(mr / mn)
        ratios_nc.append(mr / mc)
        if rank == 0:
            label = f"{size // 1024} KiB" if size < 1 << 20 else f"{size >> 20} MiB"
            print(f"{label:>9} {bus / mn / 1e9:7.3f} GB/s {bus / mc / 1e9:7.3f} GB/s {bus / mr / 1e9:7.3f} GB/s "
                  f"{mr / mn:6.2f}x {mr / mc:8.2f}x", flush=True)
        size *= 4
    if rank == 0:
        for name, r in (("ndgrad", ratios), ("ndgrad without the size check", ratios_nc)):
            print(f"{name} / raw mpi4py bandwidth: geometric mean {np.exp(np.mean(np.log(r))):.2f}x, "
                  f"lowest {min(r):.2f}x (target >= 0.9x)")
    dist.destroy_process_group()


def phases(lib: Any, args: Any) -> "dict | None":
    """The three DDP phases, rotated over `args.rounds` rounds, for `lib` (ndgrad or torch) whose default process
    group is up; rank 0 gets {phase: step seconds} (the slowest rank's median; "one": rank 0's), others None."""
    dist = lib.distributed
    DDP = lib.nn.parallel.DistributedDataParallel
    rank, n = dist.get_rank(), dist.get_world_size()
    solo_group = dist.new_group([0])
    nn = lib.nn

    def mlp() -> Any:
        lib.manual_seed(0)
        return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    models = {"ddp": DDP(mlp()), "local": mlp()}
    if rank == 0:
        models["one"] = DDP(mlp(), process_group=solo_group)
    opts = {k: lib.optim.SGD(m.parameters(), lr=0.01) for k, m in models.items()}
    rng = np.random.default_rng(rank)
    x = lib.from_numpy(rng.standard_normal((64, 784)).astype(np.float32))
    y = lib.from_numpy(rng.integers(0, 10, 64))
    loss_fn = nn.CrossEntropyLoss()
    times: dict = {k: [] for k in ("one", "ddp", "local")}
    order = ["one", "ddp", "local"]
    for r in range(args.rounds):
        for phase in order[r % 3:] + order[:r % 3]:
            dist.barrier()
            if phase == "one" and rank != 0:
                continue   # the other ranks wait in the barrier above until rank 0 is done
            model, opt = models[phase], opts[phase]
            for i in range(args.repeat + 3):
                if phase != "one":
                    dist.barrier()
                t0 = time.perf_counter()
                opt.zero_grad()
                loss_fn(model(x), y).backward()
                opt.step()
                if i >= 3:
                    times[phase].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) if v else 0.0 for k, v in times.items()}
    allmed: list = [None] * n
    dist.all_gather_object(allmed, med)
    if rank != 0:
        return None
    step = {k: max(m[k] for m in allmed) for k in ("ddp", "local")}
    step["one"] = med["one"]
    return step


def ddp_step(args) -> None:
    import ndgrad
    ndgrad.distributed.init_process_group("mpi")
    step = phases(ndgrad, args)
    if step is not None:
        print("RESULT " + " ".join(f"{k}={v:.6f}" for k, v in step.items()), flush=True)
    ndgrad.distributed.destroy_process_group()


def _torch_worker(rank: int, n: int, port: int, args: Any, queue: Any) -> None:
    import torch
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=n)
    step = phases(torch, args)
    if step is not None:
        queue.put(step)
    torch.distributed.destroy_process_group()


def torch_reference(args) -> "dict | None":
    """The same phases with torch's own DDP on its gloo backend (when torch is installed), at the same time of day
    on the same machine: what the machine allows a mature implementation."""
    try:
        import torch.multiprocessing as tmp
    except ImportError:
        return None
    import socket
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    queue = tmp.get_context("spawn").SimpleQueue()
    tmp.spawn(_torch_worker, args=(args.ranks, port, args, queue), nprocs=args.ranks)
    return queue.get()


def report(name: str, step: dict, n: int) -> None:
    rate = {"one": 64 / step["one"], "ddp": 64 * n / step["ddp"], "local": 64 * n / step["local"]}
    print(f"{name}:")
    print(f"  1 process (DDP):          {step['one'] * 1e3:7.2f} ms per step, {rate['one']:8.1f} samples/s")
    print(f"  {n} processes (DDP):        {step['ddp'] * 1e3:7.2f} ms per step, {rate['ddp']:8.1f} samples/s")
    print(f"  {n} processes without DDP:  {step['local'] * 1e3:7.2f} ms per step, {rate['local']:8.1f} samples/s")
    print(f"  scaling 1 -> {n} processes: {rate['ddp'] / rate['one']:.2f}x (ideal {n}x, target on two cores >= 1.6x); "
          f"without communication {rate['local'] / rate['one']:.2f}x; DDP reaches {rate['ddp'] / rate['local']:.0%} "
          "of that")


def launch(n: int, mode: str, args) -> str:
    from ndgrad.distributed import _mpi
    env = {**os.environ, **_mpi.LAUNCH_ENV}
    cmd = [_mpi.mpiexec(), "-n", str(n), sys.executable, os.path.abspath(__file__), "--role", mode,
           "--repeat", str(args.repeat), "--rounds", str(args.rounds), "--max-mb", str(args.max_mb)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if out.returncode:
        raise SystemExit(out.stdout + out.stderr)
    return out.stdout


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--max-mb", type=int, default=64)
    p.add_argument("--skip", choices=("bandwidth", "ddp"), default=None, help="leave one part out")
    p.add_argument("--torch", action="store_true", help="also run the DDP phases with torch's DDP (gloo)")
    p.add_argument("--role", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.role == "bandwidth":
        return bandwidth(args)
    if args.role == "ddp":
        return ddp_step(args)
    if args.skip != "bandwidth":
        print(launch(args.ranks, "bandwidth", args), end="")
    if args.skip == "ddp":
        return
    print(f"\nDDP step, MLP 784-512-512-10, 64 samples per process, {args.ranks} processes: median of "
          f"{args.rounds} x {args.repeat} steps per phase")
    line = next(ln for ln in launch(args.ranks, "ddp", args).splitlines() if ln.startswith("RESULT"))
    report("ndgrad (MPI)", {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}, args.ranks)
    if args.torch:
        ref = torch_reference(args)
        if ref is not None:
            report("torch (gloo), same phases, for reference", ref, args.ranks)


if __name__ == "__main__":
    main()
