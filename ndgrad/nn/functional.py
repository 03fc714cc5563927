"""Mirrors `torch.nn.functional`. The implementations live in `nn/_functional/`, one file per area."""
from __future__ import annotations

from .._ops.indexing import FUNCTIONAL as _INDEXING
from .._ops.special import softplus
from ._functional import activation as _activation, conv as _conv, layers as _layers, loss as _loss, rnn as _rnn
from ._functional import loss_extra as _loss_extra, more as _more
from ._functional.activation import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.layers import *  # noqa: F401,F403
from ._functional.loss import *  # noqa: F401,F403
from ._functional.rnn import *  # noqa: F401,F403
from ._functional.loss_extra import *  # noqa: F401,F403
from ._functional.more import *  # noqa: F401,F403

pad = _INDEXING["pad"]

__all__ = sorted({"pad", "softplus"}
                 | {n for m in (_activation, _conv, _layers, _loss, _rnn, _loss_extra, _more) for n in m.__all__})

from .. import _argcheck  # noqa: E402

_argcheck.install(globals(), __all__, "nn.functional.")
