"""Mirrors `torch.nn`: activation modules (ReLU, LeakyReLU, ELU, GELU, Softmax, ..., PReLU), reprs as torch's."""
from __future__ import annotations

from typing import Any

from ..._creation import empty
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .. import functional as F
from ..parameter import Parameter
from .module import Module

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
           "Softmax", "LogSoftmax", "Softmin", "Softmax2d", "Softplus", "Hardtanh", "Hardsigmoid", "Hardswish",
           "Threshold", "Softsign", "Tanhshrink", "LogSigmoid", "GLU", "Hardshrink", "Softshrink", "PReLU"]


def _inplace_repr(inplace: bool) -> str:
    return "inplace=True" if inplace else ""


class ReLU(Module):
    """Mirrors `torch.nn.ReLU`: max(0, x)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """Apply relu."""
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        """`inplace=True` when set, as torch."""
        return _inplace_repr(self.inplace)


class Hardtanh(Module):
    """Mirrors `torch.nn.Hardtanh`: x clamped to [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        if min_value is not None:
            import warnings
            warnings.warn("keyword argument `min_value` is deprecated and rename to `min_val`", FutureWarning,
                          stacklevel=2)
            min_val = min_value
        if max_value is not None:
            import warnings
            warnings.warn("keyword argument `max_value` is deprecated and rename to `max_val`", FutureWarning,
                          stacklevel=2)
            max_val = max_value
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        assert self.max_val > self.min_val

    def forward(self, input: Tensor) -> Tensor:
        """Apply hardtanh."""
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        """`min_val=.., max_val=..[, inplace=True]`."""
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"min_val={self.min_val}, max_val={self.max_val}{inplace_str}"


class ReLU6(Hardtanh):
    """Mirrors `torch.nn.ReLU6`: min(max(0, x), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        """`inplace=True` when set."""
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """Mirrors `torch.nn.LeakyReLU`: x for x > 0, negative_slope·x otherwise."""

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """Apply leaky_relu."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        """`negative_slope=..[, inplace=True]`."""
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{inplace_str}"


class ELU(Module):
    """Mirrors `torch.nn.ELU`: x for x > 0, alpha·(exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """Apply elu."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        """`alpha=..[, inplace=True]`."""
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"alpha={self.alpha}{inplace_str}"


class CELU(Module):
    """Mirrors `torch.nn.CELU`: max(0, x) + min(0, alpha·(exp(x/alpha) - 1))."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """Apply celu."""
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        """`alpha=..[, inplace=True]`."""
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"alpha={self.alpha}{inplace_str}"


class _InplaceOnly(Module):
    """Activations whose only option is `inplace`."""

    _fn = staticmethod(F.relu)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """Apply the activation."""
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        """`inplace=True` when set."""
        return _inplace_repr(self.inplace)


class SELU(_InplaceOnly):
    """Mirrors `torch.nn.SELU`: scale·elu(x, alpha) with the self-normalising constants."""

    _fn = staticmethod(F.selu)


class SiLU(_InplaceOnly):
    """Mirrors `torch.nn.SiLU`: x·σ(x)."""

    _fn = staticmethod(F.silu)


class Mish(_InplaceOnly):
    """Mirrors `torch.nn.Mish`: x·tanh(softplus(x))."""

    _fn = staticmethod(F.mish)


class Hardsigmoid(_InplaceOnly):
    """Mirrors `torch.nn.Hardsigmoid`: relu6(x + 3) / 6."""

    _fn = staticmethod(F.hardsigmoid)


class Hardswish(_InplaceOnly):
    """Mirrors `torch.nn.Hardswish`: x·relu6(x + 3) / 6."""

    _fn = staticmethod(F.hardswish)


class _NoArgs(Module):
    """Activations without options (torch's accept and ignore any arguments)."""

    _fn = staticmethod(F.sigmoid)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        """Apply the activation."""
        return type(self)._fn(input)


class Sigmoid(_NoArgs):
    """Mirrors `torch.nn.Sigmoid`: 1 / (1 + exp(-x))."""

    _fn = staticmethod(F.sigmoid)


class Tanh(_NoArgs):
    """Mirrors `torch.nn.Tanh`."""

    _fn = staticmethod(F.tanh)


class Softsign(_NoArgs):
    """Mirrors `torch.nn.Softsign`: x / (1 + |x|)."""

    _fn = staticmethod(F.softsign)


class Tanhshrink(_NoArgs):
    """Mirrors `torch.nn.Tanhshrink`: x - tanh(x)."""

    _fn = staticmethod(F.tanhshrink)


class LogSigmoid(_NoArgs):
    """Mirrors `torch.nn.LogSigmoid`: log σ(x)."""

    _fn = staticmethod(F.logsigmoid)


class GELU(Module):
    """Mirrors `torch.nn.GELU`: x·Φ(x), or its tanh approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        """Apply gelu."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        """`approximate='none'`."""
        return f"approximate={self.approximate!r}"


class _SoftmaxLike(Module):
    _fn = staticmethod(F.softmax)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input: Tensor) -> Tensor:
        """Apply the function along `dim` (None: torch's implicit choice, with its warning)."""
        return type(self)._fn(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        """`dim=..`."""
        return f"dim={self.dim}"


class Softmax(_SoftmaxLike):
    """Mirrors `torch.nn.Softmax`: exp(x) / Σ exp(x) along `dim`."""

    _fn = staticmethod(F.softmax)


class LogSoftmax(_SoftmaxLike):
    """Mirrors `torch.nn.LogSoftmax`: log softmax along `dim`."""

    _fn = staticmethod(F.log_softmax)


class Softmin(_SoftmaxLike):
    """Mirrors `torch.nn.Softmin`: softmax(-x) along `dim`."""

    _fn = staticmethod(F.softmin)


class Softmax2d(Module):
    """Mirrors `torch.nn.Softmax2d`: softmax over the channels of (C, H, W) or (N, C, H, W) inputs."""

    def forward(self, input: Tensor) -> Tensor:
        """Apply softmax over dim -3."""
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead")
        return F.softmax(input, -3, _stacklevel=5)


class Softplus(Module):
    """Mirrors `torch.nn.Softplus`: log(1 + exp(βx)) / β, linear above the threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        """Apply softplus."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        """`beta=.., threshold=..`."""
        return f"beta={self.beta}, threshold={self.threshold}"


class Threshold(Module):
    """Mirrors `torch.nn.Threshold`: x where x > threshold, else value."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """Apply threshold."""
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        """`threshold=.., value=..[, inplace=True]`."""
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{inplace_str}"


class GLU(Module):
    """Mirrors `torch.nn.GLU`: a·σ(b), the halves of the input along `dim`."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """Apply glu."""
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        """`dim=..`."""
        return f"dim={self.dim}"


class Hardshrink(Module):
    """Mirrors `torch.nn.Hardshrink`: x where |x| > lambd, else 0."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        """Apply hardshrink."""
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        """The bare `lambd`, as torch prints it."""
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """Mirrors `torch.nn.Softshrink`: x ∓ lambd beyond ±lambd, else 0."""

    def forward(self, input: Tensor) -> Tensor:
        """Apply softshrink."""
        return F.softshrink(input, self.lambd)


class PReLU(Module):
    """Mirrors `torch.nn.PReLU`: max(0, x) + a·min(0, x), `a` learnt (one value or one per channel)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None) -> None:
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Fill the weight with `init`."""
        with no_grad():
            self.weight.fill_(self.init)

    def forward(self, input: Tensor) -> Tensor:
        """Apply prelu."""
        from ... import _ops
        return _ops.prelu(input, self.weight)

    def extra_repr(self) -> str:
        """`num_parameters=..`."""
        return f"num_parameters={self.num_parameters}"
