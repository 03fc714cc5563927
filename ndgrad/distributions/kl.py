"""kl_divergence with a registry of closed forms (register_kl), dispatched on the most specific pair."""
from __future__ import annotations

import math
import warnings
from functools import total_ordering
from typing import Any, Callable

import ndgrad as _t
from .._tensor import Tensor
from .continuous import (Beta, Cauchy, ContinuousBernoulli, Exponential, Gamma, Gumbel, HalfNormal, Laplace,
                         Normal, Pareto, Uniform)
from .discrete import Bernoulli, Binomial, Categorical, Geometric, OneHotCategorical, Poisson
from .distribution import Distribution, ExponentialFamily
from .independent import Independent
from .multivariate import Dirichlet, LowRankMultivariateNormal, MultivariateNormal, _batch_mahalanobis
from .transformed_distribution import TransformedDistribution
from .utils import _sum_rightmost

__all__ = ["register_kl", "kl_divergence"]

_KL_REGISTRY: dict = {}
_KL_MEMOIZE: dict = {}
_EULER = 0.57721566490153286060


def register_kl(type_p: type, type_q: type) -> Callable:
    """Decorator registering a pairwise KL(p || q) implementation for the two Distribution subclasses."""
    def decorator(fun: Callable) -> Callable:
        _KL_REGISTRY[type_p, type_q] = fun
        _KL_MEMOIZE.clear()
        return fun

    return decorator


@total_ordering
class _Match:
    __slots__ = ["types"]

    def __init__(self, *types: type) -> None:
        self.types = types

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Match) and self.types == other.types

    def __le__(self, other: "_Match") -> bool:
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch_kl(type_p: type, type_q: type) -> Any:
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return NotImplemented
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left_fun = _KL_REGISTRY[left_p, left_q]
    right_fun = _KL_REGISTRY[right_p, right_q]
    if left_fun is not right_fun:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). Please register_kl("
                      f"{left_p.__name__}, {right_q.__name__})", RuntimeWarning)
    return left_fun


def _infinite_like(tensor: Tensor) -> Tensor:
    return _t.full_like(tensor, math.inf)


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) from the registered closed form for the pair of types."""
    try:
        fun = _KL_MEMOIZE[type(p), type(q)]
    except KeyError:
        fun = _dispatch_kl(type(p), type(q))
        _KL_MEMOIZE[type(p), type(q)] = fun
    if fun is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type {p.__class__.__name__} and "
                                  f"q type {q.__class__.__name__}")
    return fun(p, q)


def _softplus(x: Tensor) -> Tensor:
    from ..nn import functional as F
    return F.softplus(x)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Any, q: Any) -> Tensor:
    t1 = p.probs * (_softplus(-q.logits) - _softplus(-p.logits))
    t1 = _t.where(q.probs == 0, _infinite_like(t1), t1)
    t1 = _t.where(p.probs == 0, _t.zeros_like(t1), t1)
    t2 = (1 - p.probs) * (_softplus(q.logits) - _softplus(p.logits))
    t2 = _t.where(q.probs == 1, _infinite_like(t2), t2)
    t2 = _t.where(p.probs == 1, _t.zeros_like(t2), t2)
    return t1 + t2


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Any, q: Any) -> Tensor:
    sum_params_p = p.concentration1 + p.concentration0
    sum_params_q = q.concentration1 + q.concentration0
    t1 = q.concentration1.lgamma() + q.concentration0.lgamma() + sum_params_p.lgamma()
    t2 = p.concentration1.lgamma() + p.concentration0.lgamma() + sum_params_q.lgamma()
    t3 = (p.concentration1 - q.concentration1) * _t.digamma(p.concentration1)
    t4 = (p.concentration0 - q.concentration0) * _t.digamma(p.concentration0)
    t5 = (sum_params_q - sum_params_p) * _t.digamma(sum_params_p)
    return t1 - t2 + t3 + t4 + t5


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Any, q: Any) -> Tensor:
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count is not implemented")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return _t.where(p.total_count > q.total_count, _infinite_like(kl), kl)


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Any, q: Any) -> Tensor:
    t = p.probs * (p.logits - q.logits)
    t = _t.where((q.probs == 0).expand_as(t), _infinite_like(t), t)
    t = _t.where((p.probs == 0).expand_as(t), _t.zeros_like(t), t)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p: Any, q: Any) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Any, q: Any) -> Tensor:
    sum_p_concentration = p.concentration.sum(-1)
    sum_q_concentration = q.concentration.sum(-1)
    t1 = sum_p_concentration.lgamma() - sum_q_concentration.lgamma()
    t2 = (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = p.concentration.digamma() - sum_p_concentration.digamma().unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Any, q: Any) -> Tensor:
    rate_ratio = q.rate / p.rate
    t1 = -rate_ratio.log()
    return t1 + rate_ratio - 1


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p: Any, q: Any) -> Tensor:
    if not type(p) == type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential families cannot"
                                  "                             be computed using Bregman divergences")
    p_nparams = [np_.detach().requires_grad_() for np_ in p._natural_params]
    q_nparams = q._natural_params
    lg_normal = p._log_normalizer(*p_nparams)
    gradients = _t.autograd.grad(lg_normal.sum(), p_nparams, create_graph=True)
    result = q._log_normalizer(*q_nparams) - lg_normal
    for pnp, qnp, g in zip(p_nparams, q_nparams, gradients):
        term = (qnp - pnp) * g
        result = result - _sum_rightmost(term, len(q.event_shape))
    return result


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Any, q: Any) -> Tensor:
    t1 = q.concentration * _t.log(p.rate / q.rate)
    t2 = _t.lgamma(q.concentration) - _t.lgamma(p.concentration)
    t3 = (p.concentration - q.concentration) * _t.digamma(p.concentration)
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p: Any, q: Any) -> Tensor:
    ct1 = p.scale / q.scale
    ct2 = q.loc / q.scale
    ct3 = p.loc / q.scale
    t1 = -ct1.log() - ct2 + ct3
    t2 = ct1 * _EULER
    t3 = _t.exp(ct2 + (1 + ct1).lgamma() - ct3)
    return t1 + t2 + t3 - (1 + _EULER)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Any, q: Any) -> Tensor:
    return -p.entropy() - _t.log1p(-q.probs) / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p: Any, q: Any) -> Tensor:
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Any, q: Any) -> Tensor:
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    t1 = -scale_ratio.log()
    t2 = loc_abs_diff / q.scale
    t3 = scale_ratio * _t.exp(-loc_abs_diff / p.scale)
    return t1 + t2 + t3 - 1


def _mvn_parts(d: Any) -> tuple:
    if isinstance(d, LowRankMultivariateNormal):
        return d.loc, _t.linalg.cholesky(d.covariance_matrix)
    return d.loc, d._unbroadcasted_scale_tril


def _kl_mvn_generic(p: Any, q: Any) -> Tensor:
    if tuple(p.event_shape) != tuple(q.event_shape):
        raise ValueError("KL-divergence between two Multivariate Normals with different event shapes "
                         "cannot be computed")
    p_loc, pL = _mvn_parts(p)
    q_loc, qL = _mvn_parts(q)
    half_term1 = (qL.diagonal(dim1=-2, dim2=-1).log().sum(-1) - pL.diagonal(dim1=-2, dim2=-1).log().sum(-1))
    n = p.event_shape[0]
    import numpy as np
    bshape = tuple(np.broadcast_shapes(tuple(qL.shape[:-2]), tuple(pL.shape[:-2])))
    qLb = qL.expand(bshape + (n, n))
    pLb = pL.expand(bshape + (n, n))
    term2 = _t.linalg.solve(qLb, pLb).pow(2).sum((-2, -1))
    term3 = _batch_mahalanobis(qL, q_loc - p_loc)
    return half_term1 + 0.5 * (term2 + term3 - n)


for _a in (MultivariateNormal, LowRankMultivariateNormal):
    for _b in (MultivariateNormal, LowRankMultivariateNormal):
        register_kl(_a, _b)(_kl_mvn_generic)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Any, q: Any) -> Tensor:
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p: Any, q: Any) -> Tensor:
    scale_ratio = p.scale / q.scale
    alpha_ratio = q.alpha / p.alpha
    t1 = q.alpha * scale_ratio.log()
    t2 = -alpha_ratio.log()
    result = t1 + t2 + alpha_ratio - 1
    return _t.where(p.scale < q.scale, _infinite_like(result), result)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Any, q: Any) -> Tensor:
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p: Any, q: Any) -> Tensor:
    if p.transforms != q.transforms:
        raise NotImplementedError
    if tuple(p.event_shape) != tuple(q.event_shape):
        raise NotImplementedError
    extra_event_dim = len(p.event_shape) - len(p.base_dist.event_shape)
    return _sum_rightmost(kl_divergence(p.base_dist, q.base_dist), extra_event_dim)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Any, q: Any) -> Tensor:
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _t.where((q.low > p.low) | (q.high < p.high), _infinite_like(result), result)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Any, q: Any) -> Tensor:
    t1 = ((p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)).log()
    t2 = (4 * p.scale * q.scale).log()
    return t1 - t2


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Any, q: Any) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    result = kl_divergence(p.base_dist, q.base_dist)
    return _sum_rightmost(result, p.reinterpreted_batch_ndims)


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p: Any, q: Any) -> Tensor:
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + _t.log1p(-p.probs)
    t3 = -q._cont_bern_log_norm() - _t.log1p(-q.probs)
    return t1 + t2 + t3


# -- cross-family pairs ---------------------------------------------------------------------------------------
@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p: Any, q: Any) -> Tensor:
    ratio = q.rate / p.rate
    t1 = -q.concentration * _t.log(ratio)
    return t1 + ratio + q.concentration.lgamma() + q.concentration * _EULER - (1 + _EULER)


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p: Any, q: Any) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * (p.concentration / p.rate)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p: Any, q: Any) -> Tensor:
    common_term = p.high - p.low
    t1 = (math.sqrt(math.pi * 2) * q.scale / common_term).log()
    t2 = (common_term).pow(2) / 12
    t3 = ((p.high + p.low - 2 * q.loc) / 2).pow(2)
    return t1 + 0.5 * (t2 + t3) / q.scale.pow(2)


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p: Any, q: Any) -> Tensor:
    loc_diff = p.loc - q.loc
    scale_ratio = p.scale / q.scale
    loc_diff_scale_ratio = loc_diff / p.scale
    t1 = _t.log(scale_ratio)
    t2 = math.sqrt(2 / math.pi) * p.scale * _t.exp(-0.5 * loc_diff_scale_ratio.pow(2))
    t3 = loc_diff * _t.erf(math.sqrt(0.5) * loc_diff_scale_ratio)
    return -t1 + (t2 + t3) / q.scale - (0.5 * (1 + math.log(0.5 * math.pi)))


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p: Any, q: Any) -> Tensor:
    var_normal = q.scale.pow(2)
    scale_sqr_var_ratio = p.scale.pow(2) / var_normal
    t1 = 0.5 * _t.log(2 * scale_sqr_var_ratio / math.pi)
    t2 = 0.5 * p.loc.pow(2)
    t3 = p.loc * q.loc
    t4 = 0.5 * q.loc.pow(2)
    return -t1 + scale_sqr_var_ratio + (t2 - t3 + t4) / var_normal - 1


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p: Any, q: Any) -> Tensor:
    result = -p.entropy() + (q.high - q.low).log()
    return _t.where((q.low > 0) | (q.high < 1), _infinite_like(result), result)


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p: Any, q: Any) -> Tensor:
    mean_scale_ratio = p.loc / q.scale
    var_scale_sqr_ratio = (p.scale / q.scale).pow(2)
    loc_scale_ratio = q.loc / q.scale
    t1 = var_scale_sqr_ratio.log() * 0.5
    t2 = mean_scale_ratio - loc_scale_ratio
    t3 = _t.exp(-mean_scale_ratio + 0.5 * var_scale_sqr_ratio + loc_scale_ratio)
    return -t1 + t2 + t3 - (0.5 * (1 + math.log(2 * math.pi)))


def _infinite_pair(p: Any, q: Any) -> Tensor:
    return _infinite_like(p.mean if hasattr(p, "loc") is False else p.loc)


@register_kl(Normal, Beta)
@register_kl(Normal, Exponential)
@register_kl(Normal, Gamma)
@register_kl(Normal, Pareto)
@register_kl(Normal, Uniform)
@register_kl(Laplace, Beta)
@register_kl(Laplace, Exponential)
@register_kl(Laplace, Gamma)
@register_kl(Laplace, Pareto)
@register_kl(Laplace, Uniform)
def _kl_real_to_bounded(p: Any, q: Any) -> Tensor:
    return _infinite_like(p.loc)


@register_kl(Exponential, Beta)
@register_kl(Gamma, Beta)
@register_kl(Exponential, Uniform)
@register_kl(Gamma, Uniform)
def _kl_positive_to_bounded(p: Any, q: Any) -> Tensor:
    return _infinite_like(p.rate)


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p: Any, q: Any) -> Tensor:
    # -H(p) - E_p[log q]; E_p[(x - loc)^2] = var + (mean - loc)^2
    second = p.concentration / p.rate.pow(2) + (p.concentration / p.rate - q.loc).pow(2)
    return -p.entropy() + 0.5 * _t.log(2 * math.pi * q.scale.pow(2)) + second / (2 * q.scale.pow(2))


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p: Any, q: Any) -> Tensor:
    second = 2 / p.rate.pow(2) - 2 * q.loc / p.rate + q.loc.pow(2)
    return -p.entropy() + 0.5 * _t.log(2 * math.pi * q.scale.pow(2)) + second / (2 * q.scale.pow(2))


# -- more cross-family pairs: expectations of log q under p, written out; infinite where p's support
#    reaches outside q's ------------------------------------------------------------------------------------
def _normal_cross(p: Any, q: Any, mean: Tensor, var: Tensor) -> Tensor:
    """-H(p) - E_p[log Normal(q)] from p's mean and variance."""
    return (-p.entropy() + q.scale.log() + 0.5 * math.log(2 * math.pi)
            + (var + (mean - q.loc).pow(2)) / (2 * q.scale.pow(2)))


def _gumbel_expect_logq(q: Any, mean: Tensor, mgf_neg: Tensor) -> Tensor:
    """E_p[log Gumbel(q)] given E_p[x] and E_p[exp(-x / q.scale)]."""
    return -q.scale.log() + q.loc / q.scale - mean / q.scale - _t.exp(q.loc / q.scale) * mgf_neg


def _cb_expect_logq(q: Any, mean: Tensor) -> Tensor:
    """E_p[log ContinuousBernoulli(q)] given E_p[x] (the density is log-linear in x)."""
    return mean * q.logits + _t.log1p(-q.probs) + q._cont_bern_log_norm()


def _uniform_mean_log(low: Tensor, high: Tensor) -> Tensor:
    """E[log x] for x ~ Uniform(low, high), 0 <= low."""
    return (_t.xlogy(high, high) - _t.xlogy(low, low)) / (high - low) - 1


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p: Any, q: Any) -> Tensor:
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p: Any, q: Any) -> Tensor:
    return -p.entropy() - _cb_expect_logq(q, p.mean)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p: Any, q: Any) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p: Any, q: Any) -> Tensor:
    e_log = _t.digamma(p.concentration1) - _t.digamma(p.concentration1 + p.concentration0)
    return (-p.entropy() - q.concentration * q.rate.log() + _t.lgamma(q.concentration)
            - (q.concentration - 1) * e_log + q.rate * p.mean)


@register_kl(Beta, Normal)
def _kl_beta_normal(p: Any, q: Any) -> Tensor:
    return _normal_cross(p, q, p.mean, p.variance)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p: Any, q: Any) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p: Any, q: Any) -> Tensor:
    return _normal_cross(p, q, p.mean, p.variance)


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p: Any, q: Any) -> Tensor:
    result = -p.entropy() + (q.high - q.low).log()
    return _t.where((q.low > 0) | (q.high < 1), _infinite_like(result), result)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p: Any, q: Any) -> Tensor:
    result = -p.entropy() - _cb_expect_logq(q, p.mean)
    return _t.where((p.low < 0) | (p.high > 1), _infinite_like(result), result)


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p: Any, q: Any) -> Tensor:
    rs = p.rate * q.scale
    return -p.entropy() - _gumbel_expect_logq(q, p.mean, rs / (rs + 1))


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p: Any, q: Any) -> Tensor:
    mgf = (1 + 1 / (p.rate * q.scale)).pow(-p.concentration)
    return -p.entropy() - _gumbel_expect_logq(q, p.mean, mgf)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p: Any, q: Any) -> Tensor:
    mgf = q.scale * (_t.exp(-p.low / q.scale) - _t.exp(-p.high / q.scale)) / (p.high - p.low)
    return -p.entropy() - _gumbel_expect_logq(q, p.mean, mgf)


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p: Any, q: Any) -> Tensor:
    return _normal_cross(p, q, p.mean, p.variance)


def _pareto_moments(p: Any, bound: float) -> tuple:
    """Pareto mean and variance with alpha replaced where it is <= bound (the caller masks those to inf), so
    that no infinite intermediate reaches the backward pass."""
    a = _t.where(p.alpha > bound, p.alpha, _t.full_like(p.alpha, bound + 1.0))
    mean = a * p.scale / (a - 1)
    a2 = _t.where(a > 2, a, _t.full_like(a, 3.0))
    var = p.scale.pow(2) * a2 / ((a2 - 1).pow(2) * (a2 - 2))
    return mean, var


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p: Any, q: Any) -> Tensor:
    result = -p.entropy() - q.rate.log() + q.rate * _pareto_moments(p, 1.0)[0]
    return _t.where(p.alpha <= 1, _infinite_like(result), result)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p: Any, q: Any) -> Tensor:
    e_log = p.scale.log() + p.alpha.reciprocal()
    result = (-p.entropy() - q.concentration * q.rate.log() + _t.lgamma(q.concentration)
              - (q.concentration - 1) * e_log + q.rate * _pareto_moments(p, 1.0)[0])
    return _t.where(p.alpha <= 1, _infinite_like(result), result)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p: Any, q: Any) -> Tensor:
    result = _normal_cross(p, q, *_pareto_moments(p, 2.0))
    return _t.where(p.alpha <= 2, _infinite_like(result), result)


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p: Any, q: Any) -> Tensor:
    e_log = _uniform_mean_log(p.low, p.high)
    e_log1m = _uniform_mean_log(1 - p.high, 1 - p.low)
    lbeta = _t.lgamma(q.concentration1) + _t.lgamma(q.concentration0) \
        - _t.lgamma(q.concentration1 + q.concentration0)
    result = (-p.entropy() - (q.concentration1 - 1) * e_log - (q.concentration0 - 1) * e_log1m + lbeta)
    return _t.where((p.low < 0) | (p.high > 1), _infinite_like(result), result)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p: Any, q: Any) -> Tensor:
    result = -p.entropy() - q.rate.log() + q.rate * p.mean
    return _t.where(p.low < 0, _infinite_like(result), result)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p: Any, q: Any) -> Tensor:
    e_log = _uniform_mean_log(p.low, p.high)
    result = (-p.entropy() - q.concentration * q.rate.log() + _t.lgamma(q.concentration)
              - (q.concentration - 1) * e_log + q.rate * p.mean)
    return _t.where(p.low < 0, _infinite_like(result), result)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p: Any, q: Any) -> Tensor:
    e_log = _uniform_mean_log(p.low, p.high)
    result = -p.entropy() - (q.alpha.log() + q.alpha * q.scale.log() - (q.alpha + 1) * e_log)
    return _t.where(p.low < q.scale, _infinite_like(result), result)


def _inf_on(attr: str) -> Callable:
    def f(p: Any, q: Any) -> Tensor:
        return _infinite_like(getattr(p, attr))
    return f


for _p, _attr, _qs in [
        (Beta, "concentration0", (Pareto,)),
        (ContinuousBernoulli, "probs", (Pareto,)),
        (Exponential, "rate", (ContinuousBernoulli, Pareto)),
        (Gamma, "concentration", (ContinuousBernoulli, Pareto)),
        (Gumbel, "loc", (Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform)),
        (Laplace, "loc", (ContinuousBernoulli,)),
        (Normal, "loc", (ContinuousBernoulli,)),
        (Pareto, "scale", (Beta, ContinuousBernoulli, Uniform)),
        (Poisson, "rate", (Bernoulli, Binomial))]:
    for _q in _qs:
        register_kl(_p, _q)(_inf_on(_attr))
