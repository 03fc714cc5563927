"""The tutorial scenarios of ndgrad's brief, runnable with ndgrad or (for comparison) torch.

    python examples/tutorial_scenarios.py            # with ndgrad
    python examples/tutorial_scenarios.py --torch    # the same code with PyTorch
    ndgrad tour                                      # the same lessons as a transcript, plus a plot

Each scenario is plain PyTorch tutorial code that refers to the library as `torch`. The list lives in
the package (`ndgrad._tour`) so that the installed `ndgrad tour` command finds it from any directory.
"""
from __future__ import annotations

import sys

from ndgrad._tour import SCENARIOS, run

__all__ = ["SCENARIOS", "run"]

if __name__ == "__main__":
    if "--torch" in sys.argv:
        import torch as lib
    else:
        import ndgrad as lib
    run(lib, [a for a in sys.argv[1:] if not a.startswith("-")], echo=True)
