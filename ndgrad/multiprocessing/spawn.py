"""`spawn`/`start_processes` as torch.multiprocessing's, on MPI: the workers are started by mpiexec as one MPI
world (rank i runs `fn(i, *args)`), so `init_process_group` in them needs no rendezvous of its own.

The function and its arguments are pickled as Python's spawn start method does: the parent's main script is
re-run in each worker as `__mp_main__` (its `if __name__ == "__main__":` part is skipped), so `fn` may be defined
there."""
from __future__ import annotations

import multiprocessing.spawn as _mps
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Callable, Sequence

from ..distributed import _mpi

__all__ = ["spawn", "start_processes", "ProcessContext", "ProcessRaisedException", "ProcessExitedException"]


class ProcessException(Exception):
    def __init__(self, msg: str, error_index: int, pid: int | None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = pid

    def __reduce__(self) -> Any:
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """Mirrors torch's: a worker raised; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """Mirrors torch's: a worker exited with a non-zero status (or was killed)."""

    def __init__(self, msg: str, error_index: int, error_pid: int | None, exit_code: int,
                 signal_name: str | None = None) -> None:
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self) -> Any:
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


class ProcessContext:
    """Mirrors torch's ProcessContext: `join(timeout)` waits for the workers and raises the first failure."""

    def __init__(self, popen: subprocess.Popen, workdir: str, nprocs: int) -> None:
        self.popen = popen
        self.workdir = workdir
        self.nprocs = nprocs

    def pids(self) -> list[int]:
        out = []
        for i in range(self.nprocs):
            try:
                with open(os.path.join(self.workdir, f"pid-{i}")) as f:
                    out.append(int(f.read()))
            except (OSError, ValueError):
                out.append(-1)
        return out

    def join(self, timeout: float | None = None) -> bool:
        """True when every worker finished; False if `timeout` passed first. Raises ProcessRaisedException /
        ProcessExitedException when one failed (the others are stopped by mpiexec)."""
        code = _mpi.supervise(self.popen, self.workdir, "error", timeout)
        if code is None:
            return False
        try:
            self._check(code)
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return True

    def _check(self, code: int) -> None:
        pids = self.pids()
        for i in range(self.nprocs):
            p = os.path.join(self.workdir, f"error-{i}")
            if os.path.exists(p):
                with open(p, encoding="utf-8") as f:
                    trace = f.read()
                raise ProcessRaisedException(f"\n\n-- Process {i} terminated with the following error:\n{trace}",
                                             i, pids[i])
        if code != 0:
            bad = next((i for i in range(self.nprocs)
                        if not os.path.exists(os.path.join(self.workdir, f"done-{i}"))), 0)
            if code < 0:
                import signal
                name = signal.Signals(-code).name
                raise ProcessExitedException(f"process {bad} terminated with signal {name}", bad, pids[bad],
                                             code, name)
            raise ProcessExitedException(f"process {bad} terminated with exit code {code}", bad, pids[bad], code)


def start_processes(fn: Callable, args: Sequence[Any] = (), nprocs: int = 1, join: bool = True,
                    daemon: bool = False, start_method: str = "spawn") -> ProcessContext | None:
    """Mirrors `torch.multiprocessing.start_processes`: run `fn(i, *args)` for i in range(nprocs) in new
    processes forming one MPI world. Returns None after joining (join=True), else a ProcessContext."""
    if start_method not in ("spawn", "fork", "forkserver"):
        raise ValueError(f"unknown start_method {start_method!r}")
    workdir = tempfile.mkdtemp(prefix="ndgrad-spawn-")
    prep = _mps.get_preparation_data("ndgrad-spawn")
    prep.pop("authkey", None)
    with open(os.path.join(workdir, "prep.pkl"), "wb") as f:
        pickle.dump(prep, f)
    with open(os.path.join(workdir, "fn.pkl"), "wb") as f:
        pickle.dump((fn, tuple(args)), f)
    env = dict(os.environ)
    env.update(_mpi.LAUNCH_ENV)
    env["PYTHONPATH"] = os.pathsep.join([p for p in [os.environ.get("PYTHONPATH", ""),
                                         os.path.dirname(os.path.dirname(os.path.dirname(__file__)))] if p])
    cmd = [_mpi.mpiexec(), "-n", str(nprocs), sys.executable, "-m", "ndgrad.multiprocessing._worker", workdir]
    ctx = ProcessContext(subprocess.Popen(cmd, env=env), workdir, nprocs)
    if not join:
        return ctx
    ctx.join()
    return None


def spawn(fn: Callable, args: Sequence[Any] = (), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn") -> ProcessContext | None:
    """Mirrors `torch.multiprocessing.spawn`."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
