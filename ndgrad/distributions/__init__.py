"""`ndgrad.distributions`: torch.distributions on ndgrad ops (loaded on first use of the name).

Parameters, log-densities, entropies, KL divergences and reparameterised samples are built from ndgrad ops, so
gradients flow through them; samples are drawn from ndgrad's generator (`manual_seed` makes them reproducible,
though the values are not torch's bit stream).
"""
from __future__ import annotations

from . import constraints, transforms
from .constraint_registry import biject_to, transform_to
from .continuous import (Beta, Cauchy, Chi2, ContinuousBernoulli, Exponential, FisherSnedecor, Gamma, Gumbel,
                         HalfCauchy, HalfNormal, Kumaraswamy, Laplace, LogNormal, Normal, Pareto, StudentT, Uniform,
                         VonMises, Weibull)
from .discrete import (Bernoulli, Binomial, Categorical, Geometric, Multinomial, NegativeBinomial,
                       OneHotCategorical, Poisson)
from .distribution import Distribution, ExponentialFamily
from .extra import GeneralizedPareto, InverseGamma, OneHotCategoricalStraightThrough, Wishart
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate import (Dirichlet, LKJCholesky, LogisticNormal, LowRankMultivariateNormal, MixtureSameFamily,
                           MultivariateNormal, RelaxedBernoulli, RelaxedOneHotCategorical)
from .transformed_distribution import TransformedDistribution
from .transforms import (AbsTransform, AffineTransform, CatTransform, ComposeTransform, CorrCholeskyTransform,
                         CumulativeDistributionTransform, ExpTransform, IndependentTransform, LowerCholeskyTransform,
                         PositiveDefiniteTransform, PowerTransform, ReshapeTransform, SigmoidTransform,
                         SoftmaxTransform, SoftplusTransform, StackTransform, StickBreakingTransform, TanhTransform,
                         Transform, identity_transform)

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "ContinuousBernoulli", "Dirichlet",
           "Distribution", "Exponential", "ExponentialFamily", "FisherSnedecor", "Gamma", "GeneralizedPareto",
           "Geometric", "Gumbel", "InverseGamma", "OneHotCategoricalStraightThrough", "Wishart",
           "HalfCauchy", "HalfNormal", "Independent", "Kumaraswamy", "LKJCholesky", "Laplace", "LogNormal",
           "LogisticNormal", "LowRankMultivariateNormal", "MixtureSameFamily", "Multinomial", "MultivariateNormal",
           "NegativeBinomial", "Normal", "OneHotCategorical", "Pareto", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "StudentT", "Poisson", "Uniform", "VonMises", "Weibull",
           "TransformedDistribution", "biject_to", "kl_divergence", "register_kl", "transform_to", "AbsTransform",
           "AffineTransform", "CatTransform", "ComposeTransform", "CorrCholeskyTransform",
           "CumulativeDistributionTransform", "ExpTransform", "IndependentTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "PowerTransform", "ReshapeTransform", "SigmoidTransform",
           "SoftplusTransform", "TanhTransform", "SoftmaxTransform", "StackTransform", "StickBreakingTransform",
           "Transform", "identity_transform", "constraints", "transforms"]



# torch keeps each family in a module of its own (`torch.distributions.normal.Normal`); programs import those
# paths, so each is an alias module here holding the same classes
_FAMILY_MODULES = {
    "bernoulli": ["Bernoulli"], "beta": ["Beta"], "binomial": ["Binomial"], "categorical": ["Categorical"],
    "cauchy": ["Cauchy"], "chi2": ["Chi2"], "continuous_bernoulli": ["ContinuousBernoulli"],
    "dirichlet": ["Dirichlet"], "exp_family": ["ExponentialFamily"], "exponential": ["Exponential"],
    "fishersnedecor": ["FisherSnedecor"], "gamma": ["Gamma"], "generalized_pareto": ["GeneralizedPareto"],
    "geometric": ["Geometric"], "gumbel": ["Gumbel"], "half_cauchy": ["HalfCauchy"], "half_normal": ["HalfNormal"],
    "inverse_gamma": ["InverseGamma"], "kumaraswamy": ["Kumaraswamy"], "laplace": ["Laplace"],
    "lkj_cholesky": ["LKJCholesky"], "log_normal": ["LogNormal"], "logistic_normal": ["LogisticNormal"],
    "lowrank_multivariate_normal": ["LowRankMultivariateNormal"], "mixture_same_family": ["MixtureSameFamily"],
    "multinomial": ["Multinomial"], "multivariate_normal": ["MultivariateNormal"],
    "negative_binomial": ["NegativeBinomial"], "normal": ["Normal"],
    "one_hot_categorical": ["OneHotCategorical", "OneHotCategoricalStraightThrough"], "pareto": ["Pareto"],
    "poisson": ["Poisson"], "relaxed_bernoulli": ["LogitRelaxedBernoulli", "RelaxedBernoulli"],
    "relaxed_categorical": ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"], "studentT": ["StudentT"],
    "uniform": ["Uniform"], "von_mises": ["VonMises"], "weibull": ["Weibull"], "wishart": ["Wishart"],
}


def _alias_modules() -> None:
    import sys
    import types
    for _mod, _names in _FAMILY_MODULES.items():
        full = f"{__name__}.{_mod}"
        m = types.ModuleType(full, f"torch.distributions.{_mod} (an alias: the classes live in ndgrad.distributions)")
        for _n in _names:
            cls = globals().get(_n)
            if cls is not None:
                setattr(m, _n, cls)
        m.__all__ = [n for n in _names if hasattr(m, n)]
        sys.modules.setdefault(full, m)
        globals().setdefault(_mod, sys.modules[full])


_alias_modules()
