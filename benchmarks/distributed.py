"""ndgrad.distributed against raw mpi4py, and DDP's scaling from one process to two.

    python benchmarks/distributed.py [--ranks 2] [--repeat 20] [--max-mb 64]

The script starts itself under mpiexec (the one of the mpich wheel). Single-threaded BLAS in every process.
1. all_reduce bandwidth for float32 arrays of 1 KiB ... 64 MiB: `ndgrad.distributed.all_reduce` on a tensor vs
   `comm.Allreduce(MPI.IN_PLACE, array)` of mpi4py on an array of the same size, interleaved, median of
   `--repeat` calls each. Bus bandwidth as nccl-tests define it: 2(n-1)/n * bytes / time. Target >= 0.9x raw.
2. DDP training step (forward, cross-entropy, backward with gradient averaging, SGD) of the MLP 784-512-512-10,
   64 samples per process: samples per second with 1 process, then with `--ranks` processes; the scaling is
   their ratio (ideal: the number of processes). Target on two cores: >= 1.6x. For reference the same number of
   processes also trains without DDP (no communication at all): what the machine's free cores allow.
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
        print(f"all_reduce, float32, {n} processes: median of {args.repeat} calls")
        print(f"{'size':>9} {'ndgrad':>12} {'mpi4py':>12} {'ratio':>7}")
    size = 1024
    ratios = []
    while size <= args.max_mb * 1024 * 1024:
        arr = np.ones(size // 4, np.float32)
        t = ndgrad.from_numpy(np.ones(size // 4, np.float32))
        reps = args.repeat if size < 8 << 20 else max(5, args.repeat // 4)
        tn, tr = [], []
        for _ in range(3):   # warm-up
            dist.all_reduce(t)
            comm.Allreduce(MPI.IN_PLACE, arr)
        for _ in range(reps):
            comm.Barrier()
            t0 = time.perf_counter()
            dist.all_reduce(t)
            tn.append(time.perf_counter() - t0)
            comm.Barrier()
            t0 = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, arr)
            tr.append(time.perf_counter() - t0)
        # the slowest rank's time counts
        mn = comm.allreduce(statistics.median(tn), op=MPI.MAX)
        mr = comm.allreduce(statistics.median(tr), op=MPI.MAX)
        bus = 2 * (n - 1) / n * size
        ratios.append(mr / mn)
        if rank == 0:
            label = f"{size // 1024} KiB" if size < 1 << 20 else f"{size >> 20} MiB"
            print(f"{label:>9} {bus / mn / 1e9:9.3f} GB/s {bus / mr / 1e9:9.3f} GB/s {mr / mn:6.2f}x", flush=True)
        size *= 4
    if rank == 0:
        print(f"ndgrad / raw mpi4py bandwidth: geometric mean {np.exp(np.mean(np.log(ratios))):.2f}x, "
              f"lowest {min(ratios):.2f}x (target >= 0.9x)")
    dist.destroy_process_group()


def ddp_step(args) -> None:
    import ndgrad as torch
    import ndgrad.distributed as dist
    from ndgrad.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group("mpi")
    rank, n = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    if args.role == "ddp":
        model = DDP(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(rank)
    x = torch.from_numpy(rng.standard_normal((64, 784)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 10, 64))
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for i in range(args.repeat + 3):
        dist.barrier()
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - t0)
    tmax = [0.0] * n
    dist.all_gather_object(tmax, statistics.median(times))
    if rank == 0:
        step = max(tmax)
        print(f"RESULT {n} {step:.6f} {64 * n / step:.1f}", flush=True)
    dist.destroy_process_group()


def launch(n: int, mode: str, args) -> str:
    from ndgrad.distributed import _mpi
    env = {**os.environ, **_mpi.LAUNCH_ENV}
    cmd = [_mpi.mpiexec(), "-n", str(n), sys.executable, os.path.abspath(__file__), "--role", mode,
           "--repeat", str(args.repeat), "--max-mb", str(args.max_mb)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if out.returncode:
        raise SystemExit(out.stdout + out.stderr)
    return out.stdout


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--max-mb", type=int, default=64)
    p.add_argument("--role", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.role == "bandwidth":
        return bandwidth(args)
    if args.role in ("ddp", "local"):
        return ddp_step(args)
    print(launch(args.ranks, "bandwidth", args), end="")
    print(f"\nDDP step, MLP 784-512-512-10, 64 samples per process, median of {args.repeat} steps")
    res = {}
    for n in (1, args.ranks):
        line = next(ln for ln in launch(n, "ddp", args).splitlines() if ln.startswith("RESULT"))
        _, k, step, rate = line.split()
        res[n] = float(rate)
        print(f"{n} process{'es' if n > 1 else ''}: {float(step) * 1e3:7.2f} ms per step, {float(rate):8.1f} samples/s")
    print(f"scaling 1 -> {args.ranks} processes: {res[args.ranks] / res[1]:.2f}x (ideal {args.ranks}x, "
          f"target on two cores >= 1.6x)")
    # what the machine allows right now: the same processes training alone, without DDP (no communication)
    line = next(ln for ln in launch(args.ranks, "local", args).splitlines() if ln.startswith("RESULT"))
    alone = float(line.split()[3])
    print(f"for reference, {args.ranks} processes without DDP (no communication): {alone:8.1f} samples/s, "
          f"{alone / res[1]:.2f}x; DDP reaches {res[args.ranks] / alone:.0%} of that")


if __name__ == "__main__":
    main()
