"""`ndgrad-run` / `python -m ndgrad.distributed.run`: a torchrun-compatible launcher on MPI.

    ndgrad-run --nproc-per-node 4 train.py --epochs 3

starts 4 processes of `python train.py --epochs 3` as one MPI world (through the mpiexec of the mpich wheel),
each with the variables torchrun sets: RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK, ROLE_RANK,
ROLE_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RUN_ID (and OMP_NUM_THREADS=1 unless set). A program
written for torchrun (`init_process_group("gloo")`, env://) runs unchanged. When one process fails, the others are
stopped and the launcher exits with its status, as torchrun does. One node only: for several nodes use `mpiexec`
with a host file directly.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import uuid
from typing import Sequence

from . import _mpi


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ndgrad-run", description="Start N processes of a training script as one "
                                "MPI world, with torchrun's environment variables.")
    p.add_argument("--nproc-per-node", "--nproc_per_node", default="1",
                   help="processes to start (an integer, or 'cpu'/'auto' for the number of cores)")
    p.add_argument("--nnodes", default="1", help="only 1 (one node); use mpiexec with a host file for more")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0)
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", type=int, default=29500)
    p.add_argument("--standalone", action="store_true", help="accepted for torchrun compatibility")
    p.add_argument("--rdzv-backend", "--rdzv_backend", default="static", help="accepted, not used (MPI does it)")
    p.add_argument("--rdzv-endpoint", "--rdzv_endpoint", default="", help="accepted, not used")
    p.add_argument("--rdzv-id", "--rdzv_id", default="none", help="used as TORCHELASTIC_RUN_ID")
    p.add_argument("--max-restarts", "--max_restarts", type=int, default=0, help="only 0")
    p.add_argument("--role", default="default")
    p.add_argument("-m", "--module", action="store_true", help="run the script as a module (python -m)")
    p.add_argument("--no-python", "--no_python", action="store_true", help="run the script as an executable")
    p.add_argument("training_script")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p


def command(args: argparse.Namespace, workdir: str = ".") -> tuple[list[str], dict]:
    """(mpiexec command line, environment) for the parsed arguments; failing ranks report into `workdir`."""
    nproc = args.nproc_per_node
    n = (os.cpu_count() or 1) if nproc in ("cpu", "auto") else int(nproc)
    if n < 1:
        raise SystemExit("ndgrad-run: --nproc-per-node must be at least 1")
    if str(args.nnodes) not in ("1", "1:1"):
        raise SystemExit("ndgrad-run: one node only (--nnodes 1); on several nodes start the job with "
                         "`mpiexec -n N -f hostfile python train.py` and init_process_group(\"mpi\")")
    if args.max_restarts:
        raise SystemExit("ndgrad-run: --max-restarts is not supported (no elastic restarts); use 0")
    if args.no_python:
        prog = [args.training_script]
    elif args.module:
        prog = [sys.executable, "-m", "ndgrad.distributed._rank", workdir, "-m", args.training_script]
    else:
        prog = [sys.executable, "-m", "ndgrad.distributed._rank", workdir, args.training_script]
    prog += list(args.training_script_args)
    env = dict(os.environ)
    env.update(_mpi.LAUNCH_ENV)
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    env.update(MASTER_ADDR=args.master_addr, MASTER_PORT=str(args.master_port), WORLD_SIZE=str(n),
               LOCAL_WORLD_SIZE=str(n), GROUP_RANK=str(args.node_rank), GROUP_WORLD_SIZE="1",
               ROLE_NAME=args.role, ROLE_WORLD_SIZE=str(n),
               TORCHELASTIC_RUN_ID=args.rdzv_id if args.rdzv_id != "none" else uuid.uuid4().hex[:12],
               TORCHELASTIC_RESTART_COUNT="0", TORCHELASTIC_MAX_RESTARTS="0")
    if n > 1 and "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = "1"
    cmd = [_mpi.mpiexec()]
    for r in range(n):
        if r:
            cmd.append(":")
        cmd += ["-n", "1", "-env", "RANK", str(r), "-env", "LOCAL_RANK", str(r), "-env", "ROLE_RANK", str(r)]
        cmd += prog
    return cmd, env


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ndgrad-run-") as workdir:
        cmd, env = command(args, workdir)
        proc = subprocess.Popen(cmd, env=env)
        try:
            code = _mpi.supervise(proc, workdir, "fail")
        except KeyboardInterrupt:
            proc.terminate()
            return proc.wait()
        fails = sorted(f for f in os.listdir(workdir) if f.startswith("fail-"))
        if fails:   # the first failing rank's status, as torchrun reports it
            with open(os.path.join(workdir, fails[0])) as f:
                return int(f.read() or 1)
        return code  # type: ignore[return-value]


if __name__ == "__main__":
    sys.exit(main())
