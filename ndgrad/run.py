"""`python -m ndgrad.run SCRIPT.py [ARGS...]`: run a PyTorch program with `torch` aliased to ndgrad."""
import sys

from ._alias import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
