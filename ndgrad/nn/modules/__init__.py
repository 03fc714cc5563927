"""The module classes of `ndgrad.nn`, one file per area (each lists its public names in `__all__`)."""
from __future__ import annotations

from . import (activation, attention, container, conv, dropout, flatten, linear, loss, module, normalization,
               pooling, rnn, sparse)
from . import rmsnorm, transformer
from . import distance, lazy, loss_extra, more  # noqa: E402
from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .container import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .flatten import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .module import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .rmsnorm import *  # noqa: F401,F403
from .transformer import *  # noqa: F401,F403

from .distance import *  # noqa: F401,F403
from .loss_extra import *  # noqa: F401,F403
from .more import *  # noqa: F401,F403
from .lazy import *  # noqa: F401,F403

__all__ = [n for m in (activation, attention, container, conv, dropout, flatten, linear, loss, module,
                       normalization, pooling, rnn, sparse, rmsnorm, transformer, distance, loss_extra, more, lazy)
           for n in m.__all__]
