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


_M: Any = None   # the mpi4py.MPI module once loaded (every collective asks for it: no import machinery per call)


def available() -> bool:
    """mpi4py importable (without initialising MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


def MPI() -> Any:
    """The mpi4py.MPI module (initialises MPI on first use)."""
    global _M
    if _M is not None:
        return _M
    if not available():
        raise RuntimeError(INSTALL)
    import mpi4py
    if "mpi4py.MPI" not in sys.modules:
        mpi4py.rc.thread_level = "serialized"   # one thread talks to MPI at a time; cheaper than "multiple"
    try:
        from mpi4py import MPI as M
    except (ImportError, RuntimeError) as e:   # mpi4py without a loadable MPI library
        raise RuntimeError(f"{INSTALL}; mpi4py is installed but MPI could not be loaded: {e}") from e
    _M = M
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


# Environment for ranks started by ndgrad's launchers. Ranks wait in ndgrad's own polling loop (which yields,
# then sleeps), so the remaining knob is MPICH's internal progress loops in its few blocking calls (start-up,
# communicator creation): yield to the scheduler between polls (sched_yield, which costs nothing measurable when
# each rank has a core) so that more ranks than cores do not starve each other. Not MPICH's "heavy yield"
# (MPIR_CVAR_ENABLE_HEAVY_YIELD): it sleeps inside every progress call, MPI_Test included, and made a 1 KiB
# all_reduce take 0.1-0.5 ms instead of 5 us.
LAUNCH_ENV = {"MPIR_CVAR_POLLS_BEFORE_YIELD": "1"}


class DistTimeout(RuntimeError):
    pass


SPIN_DEDICATED = 5e-4       # how long `wait` polls before it starts yielding: a core per rank
SPIN_OVERSUBSCRIBED = 0.0   # more ranks than cores
SPIN_S = SPIN_DEDICATED     # the one in force, set by `set_spin_for` at init_process_group


FAST_POLLS = range(200)     # polls of a small synchronous collective's requests before `wait` takes over


def set_spin_for(world_size: int) -> None:
    """Poll without yielding for 0.5 ms when every rank on this machine has a core of its own (latency), not at
    all when ranks outnumber the cores this process may run on: there a spinning rank holds the core its peer
    needs to reach the same collective."""
    global SPIN_S
    local = int(os.environ.get("MPI_LOCALNRANKS", world_size))   # set per rank by MPICH's mpiexec
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    SPIN_S = SPIN_OVERSUBSCRIBED if local > cores else SPIN_DEDICATED
    global FAST_POLLS
    FAST_POLLS = range(2) if local > cores else range(200)


# Which algorithm MPICH runs a nonblocking all_reduce with. Its automatic choice for MPI_Iallreduce was measured
# slower than the recursive-doubling schedule up to 64 KiB (2 ranks on one machine: 4 KiB 3.8 against 3.4 us,
# 16 KiB 11.6 against 8.9) and faster above (1 MiB 139 against 167 us, 64 MiB 28 against 47 ms; the CVAR set for
# the whole run, as an environment variable, made large calls 0.6x as fast). The variable is read by every call,
# so `all_reduce` sets it through the MPI tool interface (MPI_T) when a call's size falls on the other side of
# 64 KiB than the previous call's: a write (~0.5 us) only when the size class changes. Every rank makes the same
# choice for the same sizes (the size check makes sure the sizes agree). Not done where the variable is set in
# the environment (the user's choice), where MPI is not MPICH, or where the tool interface cannot be reached.
SMALL_ALLREDUCE = 64 << 10
IAR_SMALL: Any = None   # whether the algorithm in force is the small-message one (None: not chosen yet)
IAR_TUNED = True        # False once found impossible: all_reduce stops asking
_IAR_CVAR = "MPIR_CVAR_IALLREDUCE_INTRA_ALGORITHM"
_IAR_WRITE: Any = None


def _iar_writer() -> Any:
    """A function that writes the algorithm variable (its automatic choice, or recursive doubling), or None where
    that is not possible or not wanted (NDGRAD_DISTRIBUTED_TUNE=0). The values are the positions of the names in
    the variable's own description (MPICH lists them in the order of its enumeration: auto = 0), so another
    MPICH version's numbering is read, not assumed."""
    if os.environ.get(_IAR_CVAR) is not None or os.environ.get("NDGRAD_DISTRIBUTED_TUNE", "1") == "0":
        return None
    import ctypes
    import re
    try:
        with open("/proc/self/maps") as f:
            paths = {ln.split()[-1] for ln in f if re.search(r"/libmpi[^/]*\.so", ln)}
    except OSError:
        return None
    ref = ctypes.byref
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
            idx, prov, cnt, cur, nlen, dlen, verb, dtype, bind, scope = (ctypes.c_int() for _ in range(10))
            h, enum = ctypes.c_void_p(), ctypes.c_void_p()
            name, desc = ctypes.create_string_buffer(256), ctypes.create_string_buffer(8192)
            nlen.value, dlen.value = 256, 8192
            if (lib.MPI_T_init_thread(0, ref(prov)) or
                    lib.MPI_T_cvar_get_index(_IAR_CVAR.encode(), ref(idx)) or
                    lib.MPI_T_cvar_get_info(idx, name, ref(nlen), ref(verb), ref(dtype), ref(enum), desc, ref(dlen),
                                            ref(bind), ref(scope)) or
                    lib.MPI_T_cvar_handle_alloc(idx, None, ref(h), ref(cnt)) or
                    cnt.value != 1 or lib.MPI_T_cvar_read(h, ref(cur)) or cur.value != 0):
                continue
        except (OSError, AttributeError):
            continue
        names = [ln.split()[0] for ln in desc.value.decode("ascii", "replace").splitlines()[1:] if ln.strip()]
        if not names or names[0] != "auto" or "sched_recursive_doubling" not in names:
            continue
        vals = {True: ctypes.c_int(names.index("sched_recursive_doubling")), False: ctypes.c_int(0)}
        write, refs = lib.MPI_T_cvar_write, {k: ref(v) for k, v in vals.items()}
        return lambda small: write(h, refs[small]) == 0
    return None


def iallreduce_size(nbytes: int) -> None:
    """Before every MPI_Iallreduce that ndgrad makes: put the algorithm for its size class in force (see above).
    Every rank of a group then runs the same one, whatever the sizes of its own earlier calls."""
    global IAR_SMALL, IAR_TUNED, _IAR_WRITE
    small = nbytes <= SMALL_ALLREDUCE
    if small is IAR_SMALL or not IAR_TUNED:
        return
    if _IAR_WRITE is None:
        _IAR_WRITE = _iar_writer() or False
    if _IAR_WRITE is False or not _IAR_WRITE(small):
        IAR_TUNED = False
        return
    IAR_SMALL = small


def wait(reqs: Any, timeout: float, what: str, comm_desc: str, status: Any = None) -> None:
    """Complete one request or a list of them within `timeout` seconds: spin for SPIN_S (0.5 ms, none with more
    ranks than cores), then poll yielding the core between polls for up to 50 ms, then poll with sleeps growing to
    1 ms (a long wait costs no CPU). Raises DistBackendError on timeout."""
    if isinstance(reqs, list):
        test = MPI().Request.Testall
        if test(reqs):
            return
    else:
        if reqs.Test(status):
            return

        def test(r: Any) -> bool:
            return r.Test(status)
    t0 = time.monotonic()
    spin_until = t0 + SPIN_S
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
    status, or None when `timeout` passed first. A job that failed has its orphaned shared memory removed
    (`remove_orphaned_shm`)."""
    import subprocess
    start = time.time()
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            code = popen.wait(0.05)
            if code:
                remove_orphaned_shm(start)
            return code
        except subprocess.TimeoutExpired:
            pass
        if any(f.startswith(prefix + "-") for f in os.listdir(workdir)):
            try:
                popen.wait(0.5)   # mpiexec may end the job itself
            except subprocess.TimeoutExpired:
                popen.terminate()
                try:
                    popen.wait(5)
                except subprocess.TimeoutExpired:
                    popen.kill()
                    popen.wait()
            remove_orphaned_shm(start)
            return popen.returncode
        if end is not None and time.monotonic() > end:
            return None


SHM_DIR = "/dev/shm"


def remove_orphaned_shm(since: float, min_age: float = 1.0) -> int:
    """Remove MPICH's shared-memory files (`/dev/shm/mpich_shm_*`) that a job killed after a failure left behind:
    MPICH unlinks them when its processes finalize, so a job whose ranks are killed leaves 2 MB or more of RAM
    (tmpfs) per node taken until reboot. Only files of this user made since `since` (the job's start), at least
    `min_age` seconds old (a job starting now maps its file within milliseconds of making it), and mapped by no
    process of this user whose memory map /proc shows. Returns how many."""
    if not os.path.isdir(SHM_DIR) or not os.path.isdir("/proc/self"):
        return 0
    uid = os.getuid()
    cand: dict = {}
    try:
        for e in os.scandir(SHM_DIR):
            if e.name.startswith("mpich_shm_"):
                st = e.stat(follow_symlinks=False)
                if st.st_uid == uid and st.st_ctime >= since - 1:
                    cand[e.name] = st.st_mtime
    except OSError:
        return 0
    if not cand:
        return 0
    wait = min_age - (time.time() - max(cand.values()))
    if wait > 0:   # a job that failed within a second: let its files come of age (at most `min_age`)
        time.sleep(min(wait, min_age))
    now = time.time()
    cand = {k: m for k, m in cand.items() if now - m >= min_age}
    mapped = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/maps") as f:
                for line in f:
                    if "/mpich_shm_" in line:
                        mapped.add(line.rsplit("/", 1)[-1].split()[0])
        except OSError:
            continue   # ended meanwhile, or not ours to inspect (a container's init): not an MPI rank of a job
    n = 0
    for name in cand:
        if name not in mapped:
            try:
                os.unlink(os.path.join(SHM_DIR, name))
                n += 1
            except OSError:
                pass
    return n
