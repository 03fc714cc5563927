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

