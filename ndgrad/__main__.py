"""`python -m ndgrad ...`: the same as the `ndgrad` command."""
import sys

from .cli import main

sys.exit(main())
