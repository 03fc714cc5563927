"""GeneralizedPareto, InverseGamma, OneHotCategoricalStraightThrough and Wishart."""
from __future__ import annotations

import math
from numbers import Number
from typing import Any

import numpy as np

import ndgrad as _t
from .._tensor import Tensor
from . import constraints
from .continuous import Chi2, Gamma, _normal, _uniform
from .discrete import OneHotCategorical
from .distribution import Distribution
from .multivariate import _broadcast_shapes, _mvlgamma, _precision_to_scale_tril
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform
from .utils import broadcast_all, lazy_property

__all__ = ["GeneralizedPareto", "InverseGamma", "OneHotCategoricalStraightThrough", "Wishart"]

_Size = _t.Size


class GeneralizedPareto(Distribution):
    """GeneralizedPareto(loc, scale, concentration); concentration 0 is the shifted Exponential."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if all(isinstance(v, Number) for v in (loc, scale, concentration)):
            batch_shape = _Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> "GeneralizedPareto":
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = _Size(tuple(batch_shape))
        for n in ("loc", "scale", "concentration"):
            setattr(new, n, getattr(self, n).expand(tuple(batch_shape)))
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _safe_c(self) -> Tensor:
        c = self.concentration
        return _t.where(c == 0, _t.ones_like(c), c)

    def rsample(self, sample_shape: Any = _Size()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = _uniform(shape, self.loc.dtype)
        return self.icdf(u)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        c = self._safe_c()
        lp_c = -(1 / c + 1) * _t.log1p(c * z)
        lp = _t.where(self.concentration == 0, -z, lp_c) - self.scale.log()
        return lp

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        c = self._safe_c()
        log_sf = _t.where(self.concentration == 0, -z, -_t.log1p(c * z) / c)
        return -_t.expm1(log_sf)

    def icdf(self, value: Tensor) -> Tensor:
        c = self._safe_c()
        log1m = _t.log1p(-value)
        z = _t.where(self.concentration == 0, -log1m, _t.expm1(-c * log1m) / c)
        return self.loc + self.scale * z

    @property
    def mean(self) -> Tensor:
        c = self.concentration
        valid = c < 1
        safe = _t.where(valid, c, _t.zeros_like(c))
        return _t.where(valid, self.loc + self.scale / (1 - safe), _t.full_like(c, math.nan))

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        valid = c < 0.5
        safe = _t.where(valid, c, _t.zeros_like(c))
        return _t.where(valid, self.scale.pow(2) / ((1 - safe).pow(2) * (1 - 2 * safe)), _t.full_like(c, math.nan))

    @property
    def mode(self) -> Tensor:
        return self.loc

    def entropy(self) -> Tensor:
        return (self.scale.log() + self.concentration + 1).expand(tuple(self._batch_shape))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> Any:
        c = self.concentration
        upper = _t.where(c < 0, self.loc - self.scale / self._safe_c(), _t.full_like(self.loc, math.inf))
        return constraints.interval(self.loc, upper)


class InverseGamma(TransformedDistribution):
    """1 / Gamma(concentration, rate)."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = -base_dist.rate.new_ones(())
        super().__init__(base_dist, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> "InverseGamma":
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self) -> Tensor:
        return self.base_dist.concentration

    @property
    def rate(self) -> Tensor:
        return self.base_dist.rate

    @property
    def mean(self) -> Tensor:
        c = self.concentration
        safe = _t.where(c > 1, c, _t.full_like(c, 2.0))
        return _t.where(c > 1, self.rate / (safe - 1), _t.full_like(c, math.inf))

    @property
    def mode(self) -> Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        safe = _t.where(c > 2, c, _t.full_like(c, 3.0))
        return _t.where(c > 2, self.rate.pow(2) / ((safe - 1).pow(2) * (safe - 2)), _t.full_like(c, math.inf))

    def entropy(self) -> Tensor:
        c = self.concentration
        return c + self.rate.log() + c.lgamma() - (1 + c) * c.digamma()


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose rsample passes the gradient of the probabilities straight through."""
    has_rsample = True

    def rsample(self, sample_shape: Any = _Size()) -> Tensor:
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())


class Wishart(Distribution):
    """Wishart(df, covariance_matrix | precision_matrix | scale_tril) on positive definite matrices;
    rsample by the Bartlett decomposition (chi-squared diagonal: reparameterised in df too)."""
    support = constraints.positive_definite
    has_rsample = True

    @property
    def arg_constraints(self) -> dict:  # type: ignore[override]
        return self._arg_constraints

    def __init__(self, df: Any, covariance_matrix: Tensor | None = None, precision_matrix: Tensor | None = None,
                 scale_tril: Tensor | None = None, validate_args: bool | None = None) -> None:
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            # torch checks this with an assert statement (AssertionError)
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                                 "specified.")
        param = next(p for p in (covariance_matrix, precision_matrix, scale_tril) if p is not None)
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional leading batch dimensions")
        if isinstance(df, Number):
            batch_shape = tuple(param.shape[:-2])
            self.df = _t.tensor(float(df), dtype=param.dtype)
        else:
            batch_shape = _broadcast_shapes(param.shape[:-2], df.shape)
            self.df = df
        self.df = self.df.expand(batch_shape)
        event_shape = tuple(param.shape[-2:])
        p = event_shape[-1]
        self._arg_constraints = {"covariance_matrix": constraints.positive_definite,
                                "precision_matrix": constraints.positive_definite,
                                "scale_tril": constraints.lower_cholesky,
                                "df": constraints.greater_than(p - 1)}
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        if scale_tril is not None:
            self.scale_tril = param.expand(batch_shape + (-1, -1))
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self.covariance_matrix = param.expand(batch_shape + (-1, -1))
            self._unbroadcasted_scale_tril = _t.linalg.cholesky(covariance_matrix)
        else:
            self.precision_matrix = param.expand(batch_shape + (-1, -1))
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        self._dist_chi2 = Chi2(self.df.unsqueeze(-1) - _t.arange(p, dtype=self.df.dtype).expand(
            tuple(batch_shape) + (p,)), validate_args=False)

    def expand(self, batch_shape: Any, _instance: Any = None) -> "Wishart":
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = _Size(tuple(batch_shape))
        cov_shape = tuple(batch_shape) + tuple(self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(tuple(batch_shape))
        new._arg_constraints = self._arg_constraints
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        p = self.event_shape[-1]
        new._dist_chi2 = Chi2(new.df.unsqueeze(-1) - _t.arange(p, dtype=new.df.dtype).expand(
            tuple(batch_shape) + (p,)), validate_args=False)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self) -> Tensor:  # type: ignore[override]
        return self._unbroadcasted_scale_tril.expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def covariance_matrix(self) -> Tensor:  # type: ignore[override]
        L = self._unbroadcasted_scale_tril
        return _t.matmul(L, L.mT).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @lazy_property
    def precision_matrix(self) -> Tensor:  # type: ignore[override]
        L = self._unbroadcasted_scale_tril
        n = L.shape[-1]
        Linv = _t.linalg.solve(L, _t.eye(n, dtype=L.dtype).expand(L.shape))
        return _t.matmul(Linv.mT, Linv).expand(tuple(self._batch_shape) + tuple(self._event_shape))

    @property
    def mean(self) -> Tensor:
        return self.df.reshape(tuple(self._batch_shape) + (1, 1)) * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        factor = self.df - self.event_shape[-1] - 1
        factor = _t.where(factor <= 0, _t.full_like(factor, math.nan), factor)
        return factor.reshape(tuple(self._batch_shape) + (1, 1)) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        V = self.covariance_matrix
        diag_V = V.diagonal(dim1=-2, dim2=-1)
        return self.df.reshape(tuple(self._batch_shape) + (1, 1)) * (
            V.pow(2) + diag_V.unsqueeze(-1) * diag_V.unsqueeze(-2))

    def rsample(self, sample_shape: Any = _Size(), max_try_correction: Any = None) -> Tensor:
        """Bartlett decomposition L A A^T L^T. `max_try_correction` (torch's retries of numerically singular
        draws) is accepted for compatibility; with a positive chi-squared diagonal no draw needs a retry."""
        sample_shape = tuple(sample_shape)
        p = self._event_shape[-1]
        noise = _normal(sample_shape + tuple(self._batch_shape) + (p, p), self.df.dtype).tril(-1)
        chi = self._dist_chi2.rsample(sample_shape).sqrt()
        A = noise + chi.unsqueeze(-1) * _t.eye(p, dtype=self.df.dtype)
        LA = _t.matmul(self._unbroadcasted_scale_tril, A)
        return _t.matmul(LA, LA.mT)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        logdet_V = 2 * L.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        logdet_X = _t.linalg.slogdet(value)[1]
        n = L.shape[-1]
        shape = _broadcast_shapes(L.shape[:-2], value.shape[:-2])
        Lb = L.expand(shape + (n, n))
        Y = _t.linalg.solve(Lb, value.expand(shape + (n, n)))      # L^{-1} X
        Z = _t.linalg.solve(Lb, Y.mT)                                # L^{-1} X^T L^{-T}... symmetric X
        trace = Z.diagonal(dim1=-2, dim2=-1).sum(-1)
        return (0.5 * (nu - p - 1) * logdet_X - 0.5 * trace - 0.5 * nu * p * math.log(2)
                - 0.5 * nu * logdet_V - _mvlgamma(0.5 * nu, p))

    def entropy(self) -> Tensor:
        nu = self.df
        p = self._event_shape[-1]
        logdet_V = 2 * self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        mvdigamma = 0
        for i in range(p):
            mvdigamma = mvdigamma + _t.digamma(0.5 * nu - i / 2)
        return (0.5 * (p + 1) * logdet_V + 0.5 * p * (p + 1) * math.log(2) + _mvlgamma(0.5 * nu, p)
                - 0.5 * (nu - p - 1) * mvdigamma + 0.5 * nu * p)
