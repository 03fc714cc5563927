"""One worker of ndgrad.multiprocessing.spawn: `python -m ndgrad.multiprocessing._worker WORKDIR` under mpiexec."""
from __future__ import annotations

import multiprocessing.spawn as _mps
import os
import pickle
import sys
import traceback


def main(workdir: str) -> None:
    rank = int(os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "-1")))
    if rank < 0:
        from ..distributed import _mpi
        rank = _mpi.MPI().COMM_WORLD.Get_rank()
    with open(os.path.join(workdir, f"pid-{rank}"), "w") as f:
        f.write(str(os.getpid()))
    try:
        with open(os.path.join(workdir, "prep.pkl"), "rb") as f:
            _mps.prepare(pickle.load(f))
        with open(os.path.join(workdir, "fn.pkl"), "rb") as f:
            fn, args = pickle.load(f)
        fn(rank, *args)
    except KeyboardInterrupt:
        sys.exit(1)
    except BaseException:
        with open(os.path.join(workdir, f"error-{rank}"), "w", encoding="utf-8") as f:
            f.write(traceback.format_exc())
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    with open(os.path.join(workdir, f"done-{rank}"), "w") as f:
        f.write("")


if __name__ == "__main__":
    main(sys.argv[1])
