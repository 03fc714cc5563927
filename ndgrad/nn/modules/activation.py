"""Mirrors `torch.nn`: activation modules (ReLU, LeakyReLU, ELU, GELU, Softmax, ..., PReLU), reprs as torch's."""
from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .. import functional as F
from ..parameter import Parameter
from .module import Module
from ..._warn import warn as _warn

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Tanh",
           "Softmax", "LogSoftmax", "Softmin", "Softmax2d", "Softplus", "Hardtanh", "Hardsigmoid", "Hardswish",
           "Threshold", "Softsign", "Tanhshrink", "LogSigmoid", "GLU", "Hardshrink", "Softshrink", "PReLU"]


class _Activation(Module):
    """An activation that calls one functional with its stored options: `_fn(input, name=self.name, ...)`.

    `_options` names the constructor's arguments in order; `extra_repr` prints each as `name=value`, and
    `inplace` only when set (`inplace=True`), as torch's modules do.
    """

    _fn = staticmethod(F.relu)
    _options: tuple[str, ...] = ()

    def __init__(self, *values: Any) -> None:
        super().__init__()
        for name, value in zip(self._options, values):
            setattr(self, name, value)

    def forward(self, input: Tensor) -> Tensor:
        """Apply the activation with the stored options."""
        return type(self)._fn(input, **{name: getattr(self, name) for name in self._options})

    def extra_repr(self) -> str:
        """`name=value` for each option, `inplace=True` only when set."""
        parts = [f"{name}={getattr(self, name)}" for name in self._options if name != "inplace"]
        if "inplace" in self._options and self.inplace:
            parts.append("inplace=True")
        return ", ".join(parts)


class _InplaceOnly(_Activation):
    """Activations whose only option is `inplace`."""

    _options = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace)


class ReLU(_InplaceOnly):
    """Mirrors `torch.nn.ReLU`: max(0, x)."""

    _fn = staticmethod(F.relu)

    def __init__(self, inplace: bool = False) -> None:  # its own, so argument errors name ReLU, as torch's
        super().__init__(inplace)


class Hardtanh(_Activation):
    """Mirrors `torch.nn.Hardtanh`: x clamped to [min_val, max_val]."""

    _fn = staticmethod(F.hardtanh)
    _options = ("min_val", "max_val", "inplace")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        if min_value is not None:
            _warn("keyword argument `min_value` is deprecated and rename to `min_val`", FutureWarning,
                  stacklevel=2)
            min_val = min_value
        if max_value is not None:
            _warn("keyword argument `max_value` is deprecated and rename to `max_val`", FutureWarning,
                  stacklevel=2)
            max_val = max_value
        super().__init__(min_val, max_val, inplace)
        if self.max_val <= self.min_val:  # (NaN bounds pass, as in torch)
            raise AssertionError(f"max_val ({self.max_val}) must be greater than min_val ({self.min_val})")


class ReLU6(Hardtanh):
    """Mirrors `torch.nn.ReLU6`: min(max(0, x), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        """`inplace=True` when set."""
        return "inplace=True" if self.inplace else ""


class LeakyReLU(_Activation):
    """Mirrors `torch.nn.LeakyReLU`: x for x > 0, negative_slope·x otherwise."""

    _fn = staticmethod(F.leaky_relu)
    _options = ("negative_slope", "inplace")

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__(negative_slope, inplace)


class ELU(_Activation):
    """Mirrors `torch.nn.ELU`: x for x > 0, alpha·(exp(x) - 1) otherwise."""

    _fn = staticmethod(F.elu)
    _options = ("alpha", "inplace")

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(alpha, inplace)


class CELU(_Activation):
    """Mirrors `torch.nn.CELU`: max(0, x) + min(0, alpha·(exp(x/alpha) - 1))."""

    _fn = staticmethod(F.celu)
    _options = ("alpha", "inplace")

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(alpha, inplace)


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


class _NoArgs(_Activation):
    """Activations without options: their constructors take no arguments, as torch's."""

    _fn = staticmethod(F.sigmoid)

    def __init__(self) -> None:
        super().__init__()


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


class GELU(_Activation):
    """Mirrors `torch.nn.GELU`: x·Φ(x), or its tanh approximation."""

    _fn = staticmethod(F.gelu)
    _options = ("approximate",)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__(approximate)

    def extra_repr(self) -> str:
        """`approximate='none'`."""
        return f"approximate={self.approximate!r}"


class _SoftmaxLike(_Activation):
    _fn = staticmethod(F.softmax)
    _options = ("dim",)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__(dim)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input: Tensor) -> Tensor:
        """Apply the function along `dim` (None: torch's implicit choice, with its warning)."""
        return type(self)._fn(input, self.dim, _stacklevel=5)


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


class Softplus(_Activation):
    """Mirrors `torch.nn.Softplus`: log(1 + exp(βx)) / β, linear above the threshold."""

    _fn = staticmethod(F.softplus)
    _options = ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta, threshold)


class Threshold(_Activation):
    """Mirrors `torch.nn.Threshold`: x where x > threshold, else value."""

    _fn = staticmethod(F.threshold)
    _options = ("threshold", "value", "inplace")

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__(threshold, value, inplace)


class GLU(_Activation):
    """Mirrors `torch.nn.GLU`: a·σ(b), the halves of the input along `dim`."""

    _fn = staticmethod(F.glu)
    _options = ("dim",)

    def __init__(self, dim: int = -1) -> None:
        super().__init__(dim)


class Hardshrink(_Activation):
    """Mirrors `torch.nn.Hardshrink`: x where |x| > lambd, else 0."""

    _fn = staticmethod(F.hardshrink)
    _options = ("lambd",)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__(lambd)

    def extra_repr(self) -> str:
        """The bare `lambd`, as torch prints it."""
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """Mirrors `torch.nn.Softshrink`: x ∓ lambd beyond ±lambd, else 0."""

    _fn = staticmethod(F.softshrink)


class PReLU(Module):
    """Mirrors `torch.nn.PReLU`: max(0, x) + a·min(0, x), `a` learnt (one value or one per channel)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None) -> None:
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        import ndgrad
        self.weight = Parameter(ndgrad.empty(num_parameters, device=device, dtype=dtype))  # torch's size checks
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


def __getattr__(name: str) -> Any:
    # torch defines MultiheadAttention in torch.nn.modules.activation; programs name it there (e.g. in the
    # safe_globals they load a saved Transformer with). It lives in .attention here, loaded on first use.
    if name == "MultiheadAttention":
        from .attention import MultiheadAttention
        return MultiheadAttention
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
