"""The MPI side of `ndgrad.distributed`: finding mpi4py, communicators, and waiting on requests without
busy-waiting forever (a bounded wait that yields the CPU, so oversubscribed ranks do not starve each other and
a hung collective raises instead of hanging)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import sysconfig
import time
from typing import Any

INSTALL = ("ndgrad.distributed needs MPI: install the extra with `pip install \"ndgrad[distributed]\"` "
           "(the packages mpi4py and mpich)")


def available() -> bool:
    """mpi4py importable (without initialising MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def MPI() -> Any:
    """The mpi4py.MPI module (initialises MPI on first use)."""
    if not available():
        raise RuntimeError(INSTALL)
    import mpi4py
    if "mpi4py.MPI" not in sys.modules:
        mpi4py.rc.thread_level = "serialized"   # one thread talks to MPI at a time; cheaper than "multiple"
    try:
        from mpi4py import MPI as M
    except (ImportError, RuntimeError) as e:   # mpi4py without a loadable MPI library
        raise RuntimeError(f"{INSTALL}; mpi4py is installed but MPI could not be loaded: {e}") from e
    return M


def mpiexec() -> str:
    """The mpiexec that belongs to this Python (the mpich wheel installs it next to the interpreter's scripts),
    else the first one on PATH."""
    for d in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        p = os.path.join(d, "mpiexec")
        if os.path.exists(p):
            return p
    p = shutil.which("mpiexec")
    if p is None:
        raise RuntimeError(INSTALL + "; no `mpiexec` was found")
    return p


# Environment for ranks started by ndgrad's launchers: MPICH on a machine with fewer cores than ranks.
# Ranks wait in ndgrad's own polling loop (which sleeps), so the remaining knob is MPICH's internal progress
# loops: yield to the scheduler instead of spinning.
LAUNCH_ENV = {"MPIR_CVAR_POLLS_BEFORE_YIELD": "1", "MPIR_CVAR_ENABLE_HEAVY_YIELD": "1"}


class DistTimeout(RuntimeError):
    pass


def wait(reqs: Any, timeout: float, what: str, comm_desc: str, status: Any = None) -> None:
    """Complete one request or a list of them within `timeout` seconds: spin for 0.5 ms (latency), then poll
    yielding the core between polls for up to 50 ms, then poll with sleeps growing to 1 ms (a long wait costs
    no CPU). Raises DistBackendError on timeout."""
    M = MPI()
    many = isinstance(reqs, list)
    test = M.Request.Testall if many else (lambda r: r.Test(status))
    if test(reqs):
        return
    t0 = time.monotonic()
    spin_until = t0 + 5e-4
    while time.monotonic() < spin_until:
        if test(reqs):
            return
    # then poll and hand the core to any other runnable process between polls: a large message moves in chunks
    # that need both sides to poll, so sleeping here would stall it; after 50 ms, sleep between polls
    yield_until = t0 + 0.05
    yield_ = getattr(os, "sched_yield", lambda: time.sleep(0))
    while time.monotonic() < yield_until:
        if test(reqs):
            return
        yield_()
    delay = 1e-4
    deadline = t0 + timeout
    while not test(reqs):
        now = time.monotonic()
        if now > deadline:
            from . import DistBackendError
            raise DistBackendError(
                f"ndgrad.distributed: {what} timed out after {timeout:g} s on {comm_desc}: another rank died, "
                "hangs, or called a different collective (or the same one with other sizes)")
        time.sleep(delay)
        delay = min(delay * 2, 1e-3)


def supervise(popen: Any, workdir: str, prefix: str, timeout: float | None = None) -> int | None:
    """Wait for an mpiexec job whose ranks write `<workdir>/<prefix>-<rank>` when they fail: stop the whole job as
    soon as one does (the others may wait for it forever in MPI's start-up), as torchrun does. Returns the exit
    status, or None when `timeout` passed first."""
    import subprocess
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            return popen.wait(0.05)
        except subprocess.TimeoutExpired:
            pass
        if any(f.startswith(prefix + "-") for f in os.listdir(workdir)):
            try:
                return popen.wait(0.5)   # mpiexec may end the job itself
            except subprocess.TimeoutExpired:
                popen.terminate()
                try:
                    popen.wait(5)
                except subprocess.TimeoutExpired:
                    popen.kill()
                    popen.wait()
            return popen.returncode
        if end is not None and time.monotonic() > end:
            return None
