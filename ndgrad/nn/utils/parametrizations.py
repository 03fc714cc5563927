"""Mirrors `torch.nn.utils.parametrizations`: weight_norm and spectral_norm as parametrizations."""
from __future__ import annotations

from typing import Any, TypeVar

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..modules.module import Module
from . import parametrize
from .weight_norm import _norm_except_dim

__all__ = ["weight_norm", "spectral_norm"]

T_module = TypeVar("T_module", bound=Module)


class _WeightNorm(Module):
    """weight = g · v / ‖v‖, from (original0, original1) = (g, v)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        """g · v / ‖v‖."""
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        """(‖weight‖, weight): the originals that give `weight`."""
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: T_module, name: str = "weight", dim: int | None = 0) -> T_module:
    """Reparametrize `module.<name>` as g · v / ‖v‖ with `parametrizations.<name>.original0` = g and
    `original1` = v. Mirrors `nn.utils.parametrizations.weight_norm` (old `<name>_g`/`<name>_v` checkpoints
    load too)."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def compat(state_dict: Any, prefix: str, local_metadata: Any, strict: bool, missing_keys: list,
               unexpected_keys: list, error_msgs: list) -> None:
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(compat)
    return module


def _mH(mat: Tensor) -> Tensor:
    return mat.t().conj() if mat.is_complex() else mat.t()


def _l2_normalize(x: Tensor, eps: float) -> Tensor:
    from ... import linalg
    return x / linalg.vector_norm(x, 2).clamp(min=eps)


class _SpectralNorm(Module):
    """weight / σ(weight), σ from power iteration on the buffers `_u`, `_v` (updated in training mode)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        from ... import empty
        from ..init import normal_
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got "
                             f"{dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but "
                             f"got n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = self._reshape_weight_to_matrix(weight)
            h, w = mat.shape
            with no_grad():
                self.register_buffer("_u", _l2_normalize(normal_(empty(h, dtype=weight.dtype)), eps))
                self.register_buffer("_v", _l2_normalize(normal_(empty(w, dtype=weight.dtype)), eps))
            self._power_method(mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, mat: Tensor, n: int) -> None:
        from ... import mv
        with no_grad():
            for _ in range(n):
                for buf, new in (("_u", lambda: mv(mat, self._v)), ("_v", lambda: mv(_mH(mat), self._u))):
                    b = self._buffers[buf]
                    b._data[...] = _l2_normalize(new(), self.eps)._data
                    b._vc[0] += 1

    def forward(self, weight: Tensor) -> Tensor:
        """weight / σ (a power-iteration step first, in training mode)."""
        from ... import dot, mv
        if weight.ndim == 1:
            return _l2_normalize(weight, self.eps)
        mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        return weight / dot(u.conj() if u.is_complex() else u, mv(mat, v))

    def right_inverse(self, value: Tensor) -> Tensor:
        """The original is the weight itself."""
        return value


def spectral_norm(module: T_module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> T_module:
    """Normalise `module.<name>` by its spectral norm as a parametrization. Mirrors
    `nn.utils.parametrizations.spectral_norm`."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if type(module).__name__ in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d") else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
