"""ndgrad.distributions against torch.distributions: values, shapes, gradients, errors, sampling statistics."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd import gradcheck, gradgradcheck

D = ndgrad.distributions
R = np.random.default_rng(0)

pos = lambda *s: R.uniform(0.5, 2.0, s)          # noqa: E731
real = lambda *s: R.normal(size=s)               # noqa: E731
unit = lambda *s: R.uniform(0.15, 0.85, s)       # noqa: E731


def _simplex(*s):
    x = R.uniform(0.2, 1.0, s)
    return x / x.sum(-1, keepdims=True)


def _corr_chol(n):
    a = R.normal(size=(n, n + 2))
    c = a @ a.T
    d = np.sqrt(np.diag(c))
    return np.linalg.cholesky(c / d[:, None] / d[None, :])


def _spd(n):
    a = R.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


# name, constructor(lib, *params), params (numpy), value (numpy), number of differentiable params
CASES = [
    ("Normal", lambda d, a, b: d.Normal(a, b), [real(3), pos(3)], real(3)),
    ("LogNormal", lambda d, a, b: d.LogNormal(a, b), [real(3), pos(3)], pos(3)),
    ("HalfNormal", lambda d, s: d.HalfNormal(s), [pos(3)], pos(3)),
    ("HalfCauchy", lambda d, s: d.HalfCauchy(s), [pos(3)], pos(3)),
    ("Laplace", lambda d, a, b: d.Laplace(a, b), [real(3), pos(3)], real(3)),
    ("Cauchy", lambda d, a, b: d.Cauchy(a, b), [real(3), pos(3)], real(3)),
    ("StudentT", lambda d, df, a, b: d.StudentT(df, a, b), [pos(3) + 2, real(3), pos(3)], real(3)),
    ("Uniform", lambda d, a, b: d.Uniform(a, b), [real(3) - 3, real(3) + 3], real(3) * 0.3),
    ("Exponential", lambda d, r: d.Exponential(r), [pos(3)], pos(3)),
    ("Gamma", lambda d, c, r: d.Gamma(c, r), [pos(3) + 1, pos(3)], pos(3)),
    ("Chi2", lambda d, df: d.Chi2(df), [pos(3) + 2], pos(3)),
    ("Beta", lambda d, a, b: d.Beta(a, b), [pos(3), pos(3)], unit(3)),
    ("Dirichlet", lambda d, c: d.Dirichlet(c), [pos(2, 3)], _simplex(2, 3)),
    ("Bernoulli", lambda d, p: d.Bernoulli(p), [unit(3)], np.array([0., 1., 1.])),
    ("BernoulliLogits", lambda d, lg: d.Bernoulli(logits=lg), [real(3)], np.array([0., 1., 0.])),
    ("Binomial", lambda d, p: d.Binomial(5, p), [unit(3)], np.array([0., 2., 5.])),
    ("Categorical", lambda d, p: d.Categorical(p), [_simplex(2, 4)], np.array([1., 3.])),
    ("CategoricalLogits", lambda d, lg: d.Categorical(logits=lg), [real(2, 4)], np.array([0., 2.])),
    ("OneHotCategorical", lambda d, p: d.OneHotCategorical(p), [_simplex(2, 3)],
     np.array([[0., 1., 0.], [0., 0., 1.]])),
    ("Multinomial", lambda d, p: d.Multinomial(4, p), [_simplex(2, 3)], np.array([[1., 2., 1.], [0., 0., 4.]])),
    ("Poisson", lambda d, r: d.Poisson(r), [pos(3)], np.array([0., 1., 4.])),
    ("Geometric", lambda d, p: d.Geometric(p), [unit(3)], np.array([0., 1., 4.])),
    ("NegativeBinomial", lambda d, n, p: d.NegativeBinomial(n, p), [pos(3) + 1, unit(3)], np.array([0., 1., 4.])),
    ("MVNCov", lambda d, m, c: d.MultivariateNormal(m, covariance_matrix=c), [real(3), _spd(3)], real(2, 3)),
    ("MVNTril", lambda d, m, L: d.MultivariateNormal(m, scale_tril=L),
     [real(3), np.tril(R.normal(size=(3, 3)), -1) + np.diag(pos(3))], real(2, 3)),
    ("MVNPrec", lambda d, m, P: d.MultivariateNormal(m, precision_matrix=P), [real(3), _spd(3)], real(3)),
    ("LowRankMVN", lambda d, m, W, v: d.LowRankMultivariateNormal(m, W, v), [real(3), real(3, 2), pos(3)],
     real(2, 3)),
    ("Independent", lambda d, a, b: d.Independent(d.Normal(a, b), 1), [real(2, 3), pos(2, 3)], real(2, 3)),
    ("MixtureSameFamily", lambda d, w, a, b: d.MixtureSameFamily(d.Categorical(w), d.Normal(a, b)),
     [_simplex(3), real(3), pos(3)], real(4)),
    ("RelaxedBernoulli", lambda d, t, p: d.RelaxedBernoulli(t, p), [np.array(0.7), unit(3)], unit(3)),
    ("RelaxedOneHot", lambda d, t, p: d.RelaxedOneHotCategorical(t, p), [np.array(0.7), _simplex(3)],
     _simplex(2, 3)),
    ("Gumbel", lambda d, a, b: d.Gumbel(a, b), [real(3), pos(3)], real(3)),
    ("VonMises", lambda d, a, k: d.VonMises(a, k), [real(3), np.array([0.3, 2.0, 40.0])], real(3)),
    ("Weibull", lambda d, s, c: d.Weibull(s, c), [pos(3), pos(3) + 1], pos(3)),
    ("Kumaraswamy", lambda d, a, b: d.Kumaraswamy(a, b), [pos(3) + 1, pos(3) + 1], unit(3)),
    ("LKJCholesky", lambda d, c: d.LKJCholesky(3, c), [pos(2)], np.stack([_corr_chol(3), _corr_chol(3)])),
    ("ContinuousBernoulli", lambda d, p: d.ContinuousBernoulli(p), [np.array([0.2, 0.4995, 0.8])], unit(3)),
    ("FisherSnedecor", lambda d, a, b: d.FisherSnedecor(a, b), [pos(3) + 5, pos(3) + 5], pos(3)),
    ("Pareto", lambda d, s, a: d.Pareto(s, a), [pos(3) * 0.5, pos(3) + 2], pos(3) + 1.5),
    ("LogisticNormal", lambda d, a, b: d.LogisticNormal(a, b), [real(3), pos(3)], _simplex(2, 4)),
    ("GeneralizedPareto", lambda d, a, s, c: d.GeneralizedPareto(a, s, c),
     [np.array([0., 1., -1.]), np.array([1., 2., 0.5]), np.array([0.3, -0.2, 0.0])], np.array([0.5, 1.5, 0.2])),
    ("GeneralizedParetoHeavy", lambda d, a, s, c: d.GeneralizedPareto(a, s, c),
     [np.array([0., 1.]), np.array([1., 2.]), np.array([0.7, 1.5])], np.array([0.5, 1.5])),
    ("InverseGamma", lambda d, c, r: d.InverseGamma(c, r), [np.array([0.5, 1.5, 3.0]), pos(3)], pos(3)),
    ("OneHotStraightThrough", lambda d, p: d.OneHotCategoricalStraightThrough(p), [_simplex(2, 3)],
     np.array([[0., 1., 0.], [1., 0., 0.]])),
    ("WishartCov", lambda d, df, c: d.Wishart(df, covariance_matrix=c), [np.array([4.0, 2.5]), _spd(2)],
     np.stack([_spd(2), _spd(2)])),
    ("WishartTril", lambda d, df, L: d.Wishart(df, scale_tril=L),
     [np.array(3.5), np.tril(R.normal(size=(3, 3)), -1) + np.diag(pos(3))], _spd(3)),
    ("WishartLowDf", lambda d, df, c: d.Wishart(df, precision_matrix=c), [np.array([1.5]), _spd(2)], _spd(2)),
]
IDS = [c[0] for c in CASES]
PROPS = ["mean", "mode", "variance", "stddev"]


def _make(lib, case, grad=True):
    name, ctor, params, value = case
    ps = [lib.tensor(p, dtype=lib.float64, requires_grad=grad) for p in params]
    return ctor(lib.distributions, *ps), ps, lib.tensor(value, dtype=lib.float64)


def _np(x):
    return x.detach().numpy() if hasattr(x, "detach") else np.asarray(x)


def _call(f):
    try:
        return "ok", f()
    except Exception as e:  # noqa: BLE001
        return "err", e


def _same(a, b, what, rtol=1e-6):
    ka, va = a
    kb, vb = b
    assert ka == kb, f"{what}: ndgrad {a} vs torch {b}"
    if ka == "err":
        assert type(va).__name__ == type(vb).__name__, f"{what}: {va!r} vs {vb!r}"
        return
    np.testing.assert_allclose(_np(va), _np(vb), rtol=rtol, atol=1e-8, err_msg=what)
    assert tuple(va.shape) == tuple(vb.shape), what
    assert str(va.dtype) == str(vb.dtype), what


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_against_torch(case, torch):
    d, ps, v = _make(ndgrad, case)
    td, tps, tv = _make(torch, case)
    # torch's VonMises uses polynomial approximations of the Bessel functions (about 3e-5 relative here); ours
    # agree with scipy.special.i0e/i1e to 1e-15
    rtol = 1e-4 if case[0] == "VonMises" else 1e-6
    assert tuple(d.batch_shape) == tuple(td.batch_shape)
    assert tuple(d.event_shape) == tuple(td.event_shape)
    assert repr(d) == repr(td)
    assert repr(d.support) == repr(td.support)
    assert d.has_rsample == td.has_rsample
    assert set(d.arg_constraints) == set(td.arg_constraints)
    for k in d.arg_constraints:
        assert repr(d.arg_constraints[k]) == repr(td.arg_constraints[k])
    for p in PROPS:
        _same(_call(lambda: getattr(d, p)), _call(lambda: getattr(td, p)), p, rtol)
    if case[0].startswith("GeneralizedPareto"):
        # torch 2.13's GeneralizedPareto.log_prob fails on float64 ("Double did not match Float"): compare with
        # scipy here (test_float32_dtypes compares with torch in float32)
        stats = pytest.importorskip("scipy.stats")
        loc, scale, c = case[2]
        np.testing.assert_allclose(_np(d.log_prob(v)), stats.genpareto(c, loc, scale).logpdf(case[3]), rtol=1e-9)
        np.testing.assert_allclose(_np(d.cdf(v)), stats.genpareto(c, loc, scale).cdf(case[3]), rtol=1e-9)
    else:
        _same(_call(lambda: d.log_prob(v)), _call(lambda: td.log_prob(tv)), "log_prob", rtol)
    if case[0] == "VonMises":  # torch has no VonMises.entropy; ours is checked against scipy
        stats = pytest.importorskip("scipy.stats")
        np.testing.assert_allclose(_np(d.entropy()), [stats.vonmises(k).entropy() for k in case[2][1]], rtol=1e-9)
    else:
        _same(_call(lambda: d.entropy()), _call(lambda: td.entropy()), "entropy", rtol)
    if not case[0].startswith("GeneralizedPareto"):
        _same(_call(lambda: d.cdf(v)), _call(lambda: td.cdf(tv)), "cdf")
    if d.event_shape == ():
        u = np.linspace(0.1, 0.9, int(np.prod(tuple(d.batch_shape)) or 1)).reshape(tuple(d.batch_shape))
        _same(_call(lambda: d.icdf(ndgrad.tensor(u))), _call(lambda: td.icdf(torch.tensor(u))), "icdf")
    # the graph ends in the node torch's formula ends in
    for f, tf in ((lambda: d.log_prob(v), lambda: td.log_prob(tv)), (lambda: d.entropy(), lambda: td.entropy())):
        a, b = _call(f), _call(tf)
        a = a if b[0] == "ok" else b
        if a[0] == b[0] == "ok" and b[1].grad_fn is not None:
            assert a[1].grad_fn.name() == b[1].grad_fn.name()
    # gradients of log_prob and entropy with respect to every parameter
    lp = d.log_prob(v).sum() if not case[0].startswith("GeneralizedPareto") else 0 * v.sum()
    tlp = td.log_prob(tv).sum() if not case[0].startswith("GeneralizedPareto") else 0 * tv.sum()
    ok, ent = _call(lambda: d.entropy().sum())
    if ok == "ok" and _call(lambda: td.entropy())[0] == "ok":
        lp = lp + ent
        tlp = tlp + td.entropy().sum()
    gs = ndgrad.autograd.grad(lp, ps, allow_unused=True)
    tgs = torch.autograd.grad(tlp, tps, allow_unused=True)
    for g, tg in zip(gs, tgs):
        if tg is None:
            continue
        np.testing.assert_allclose(_np(g), _np(tg), rtol=rtol, atol=1e-8)
    # expand
    e = d.expand((2,) + tuple(d.batch_shape))
    te = td.expand((2,) + tuple(td.batch_shape))
    assert tuple(e.batch_shape) == tuple(te.batch_shape)
    if not case[0].startswith("GeneralizedPareto"):
        _same(_call(lambda: e.log_prob(v)), _call(lambda: te.log_prob(tv)), "expand.log_prob")
    _same(_call(lambda: e.mean), _call(lambda: te.mean), "expand.mean")
    # sample shapes and support
    ndgrad.manual_seed(0)
    s = d.sample((5,))
    assert tuple(s.shape) == tuple(td.sample((5,)).shape)
    assert str(s.dtype) == str(td.sample().dtype)
    assert bool(d.support.check(s).all())
    assert not s.requires_grad
    if d.has_rsample:
        r = d.rsample((2,))
        assert r.requires_grad


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_dtypes(case, torch):
    name, ctor, params, value = case
    d = ctor(D, *[ndgrad.tensor(p, dtype=ndgrad.float32) for p in params])
    td = ctor(torch.distributions, *[torch.tensor(p, dtype=torch.float32) for p in params])
    assert str(d.log_prob(ndgrad.tensor(value, dtype=ndgrad.float32)).dtype) == \
        str(td.log_prob(torch.tensor(value, dtype=torch.float32)).dtype)
    assert str(d.sample().dtype) == str(td.sample().dtype)
    np.testing.assert_allclose(_np(d.log_prob(ndgrad.tensor(value, dtype=ndgrad.float32))),
                               _np(td.log_prob(torch.tensor(value, dtype=torch.float32))), rtol=2e-4, atol=1e-5)


GRADCHECK = ["Normal", "LogNormal", "Laplace", "Cauchy", "StudentT", "Exponential", "Gamma", "Beta", "Dirichlet",
             "BernoulliLogits", "Binomial", "CategoricalLogits", "Poisson", "NegativeBinomial", "MVNTril",
             "LowRankMVN", "MixtureSameFamily", "Gumbel", "VonMises", "Weibull", "Kumaraswamy", "LKJCholesky",
             "FisherSnedecor", "Pareto", "RelaxedBernoulli", "RelaxedOneHot", "ContinuousBernoulli",
             "GeneralizedParetoHeavy", "InverseGamma", "WishartTril"]


@pytest.mark.parametrize("name", GRADCHECK)
def test_gradcheck_log_prob_entropy(name):
    case = CASES[IDS.index(name)]
    _, ctor, params, value = case
    ps = [ndgrad.tensor(p, dtype=ndgrad.float64, requires_grad=True) for p in params]
    v = ndgrad.tensor(value, dtype=ndgrad.float64)

    def f(*ps):
        d = ctor(D, *ps)
        out = d.log_prob(v).sum()
        try:
            out = out + d.entropy().sum()
        except NotImplementedError:
            pass
        return out

    # finite differences step off the constraint (e.g. off the lower triangle): no validation here
    D.Distribution.set_default_validate_args(False)
    try:
        assert gradcheck(f, ps)
        assert gradgradcheck(f, ps)
    finally:
        D.Distribution.set_default_validate_args(True)


def test_validate_args_messages(torch):
    cases = [lambda d, t: d.Normal(t.tensor([0., 1.]), t.tensor([1., -2.])),
             lambda d, t: d.Gamma(t.tensor(-1.), 1.),
             lambda d, t: d.Bernoulli(t.tensor([1.5])),
             lambda d, t: d.Categorical(t.tensor([[0.5, -0.1]])),
             lambda d, t: d.Geometric(t.tensor([0.0, 0.5])),
             lambda d, t: d.Bernoulli(),
             lambda d, t: d.Categorical(t.tensor(0.5)),
             lambda d, t: d.MultivariateNormal(t.zeros(2)),
             lambda d, t: d.LKJCholesky(1),
             lambda d, t: d.Dirichlet(t.tensor(1.0)),
             lambda d, t: d.Multinomial(t.tensor(2), t.tensor([0.5, 0.5])),
             lambda d, t: d.Normal(0., 1.).log_prob(3.0),
             lambda d, t: d.Normal(t.zeros(2), 1.).log_prob(t.zeros(3)),
             lambda d, t: d.Dirichlet(t.ones(3)).log_prob(t.ones(2)),
             lambda d, t: d.Exponential(1.).log_prob(t.tensor([-1.0, 2.0])),
             lambda d, t: d.Beta(1., 1.).log_prob(t.tensor(1.5)),
             lambda d, t: d.Poisson(2.).log_prob(t.tensor(0.5)),
             lambda d, t: d.Uniform(0., 1.).log_prob(t.tensor(2.)),
             lambda d, t: d.kl_divergence(d.Normal(0., 1.), d.Poisson(1.)),
             lambda d, t: d.kl_divergence(d.Binomial(2, t.tensor(0.3)), d.Binomial(3, t.tensor(0.3))),
             lambda d, t: d.kl_divergence(d.Categorical(t.ones(2)), d.Normal(0., 1.)),
             lambda d, t: d.Normal(0., 1.).enumerate_support(),
             lambda d, t: d.Distribution.set_default_validate_args(3),
             lambda d, t: d.MixtureSameFamily(d.Normal(0., 1.), d.Normal(t.zeros(2), 1.)),
             lambda d, t: d.MixtureSameFamily(d.Categorical(t.ones(3)), d.Normal(t.zeros(2), 1.)),
             lambda d, t: d.transform_to(d.constraints.boolean),
             lambda d, t: d.Wishart(t.tensor(0.5), covariance_matrix=t.eye(2)),
             lambda d, t: d.Wishart(t.tensor(3.), covariance_matrix=t.eye(2), scale_tril=t.eye(2)),
             ]
    for c in cases:
        with pytest.raises(Exception) as te:
            c(torch.distributions, torch)
        with pytest.raises(Exception) as ne:
            c(D, ndgrad)
        assert type(ne.value) is type(te.value), (ne.value, te.value)
        assert str(ne.value) == str(te.value)


def test_validate_args_off_and_default(torch):
    d = D.Normal(ndgrad.tensor([0.]), ndgrad.tensor([-1.]), validate_args=False)
    assert d.scale.item() == -1
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(0., -1.)
        assert D.Normal(0., 1.).log_prob(ndgrad.tensor([float("nan")])).isnan().all()
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0., -1.)


def test_constraints_repr_and_check(torch):
    C, TC = D.constraints, torch.distributions.constraints
    assert C.__all__ == TC.__all__
    for n in C.__all__:
        o, to = getattr(C, n), getattr(TC, n)
        if isinstance(to, TC.Constraint) and n != "dependent":
            assert repr(o) == repr(to), n
            assert o.event_dim == to.event_dim and o.is_discrete == to.is_discrete, n
    x = R.normal(size=(4, 3, 3))
    samples = [x, np.abs(x), np.tril(x), np.eye(3)[None].repeat(2, 0), np.stack([_corr_chol(3), _spd(3)]),
               np.stack([_spd(3), -_spd(3)]), _simplex(4, 3), np.array([[0., 1., 0.], [1., 1., 0.]]),
               np.array([0., 0.5, 1., 2.]), np.array([[2., 1., 1.], [4., 1., 0.]])]
    objs = ["boolean", "corr_cholesky", "lower_cholesky", "lower_triangular", "nonnegative", "nonnegative_integer",
            "one_hot", "positive", "positive_semidefinite", "positive_definite", "positive_integer", "real",
            "real_vector", "simplex", "square", "symmetric", "unit_interval"]
    for n in objs:
        for s in samples:
            if s.ndim < getattr(TC, n).event_dim:
                continue
            a = getattr(C, n).check(ndgrad.tensor(s))
            b = getattr(TC, n).check(torch.tensor(s))
            assert np.array_equal(_np(a), b.numpy()), (n, s)
    for c, tc in [(C.interval(-1, 1), TC.interval(-1, 1)), (C.half_open_interval(0., 1.),
                                                            TC.half_open_interval(0., 1.)),
                  (C.greater_than_eq(0.5), TC.greater_than_eq(0.5)), (C.less_than(0.), TC.less_than(0.)),
                  (C.integer_interval(0, 2), TC.integer_interval(0, 2)), (C.multinomial(4), TC.multinomial(4)),
                  (C.independent(C.positive, 1), TC.independent(TC.positive, 1))]:
        assert repr(c) == repr(tc)
        s = x.reshape(-1, 3)
        assert np.array_equal(_np(c.check(ndgrad.tensor(s))), tc.check(torch.tensor(s)).numpy())
    cat, tcat = C.cat([C.positive, C.real], 1, [1, 2]), TC.cat([TC.positive, TC.real], 1, [1, 2])
    assert np.array_equal(_np(cat.check(ndgrad.tensor(x[0]))), tcat.check(torch.tensor(x[0])).numpy())
    st, tst = C.stack([C.positive, C.real, C.real], 1), TC.stack([TC.positive, TC.real, TC.real], 1)
    assert np.array_equal(_np(st.check(ndgrad.tensor(x[0]))), tst.check(torch.tensor(x[0])).numpy())


TRANSFORMS = [
    ("ExpTransform", lambda T, t: T.ExpTransform(), real(2, 3)),
    ("AffineTransform", lambda T, t: T.AffineTransform(t.tensor([1., 2., 3.], dtype=t.float64), -2.0), real(2, 3)),
    ("AffineEvent", lambda T, t: T.AffineTransform(0.5, t.tensor([1., 2., 3.], dtype=t.float64), event_dim=1),
     real(2, 3)),
    ("SigmoidTransform", lambda T, t: T.SigmoidTransform(), real(2, 3)),
    ("TanhTransform", lambda T, t: T.TanhTransform(), real(2, 3)),
    ("SoftplusTransform", lambda T, t: T.SoftplusTransform(), real(2, 3)),
    ("PowerTransform", lambda T, t: T.PowerTransform(2.5), pos(2, 3)),
    ("AbsTransform", lambda T, t: T.AbsTransform(), real(2, 3)),
    ("SoftmaxTransform", lambda T, t: T.SoftmaxTransform(), real(2, 3)),
    ("StickBreakingTransform", lambda T, t: T.StickBreakingTransform(), real(2, 3)),
    ("LowerCholeskyTransform", lambda T, t: T.LowerCholeskyTransform(), real(2, 3, 3)),
    ("PositiveDefiniteTransform", lambda T, t: T.PositiveDefiniteTransform(), real(2, 3, 3)),
    ("CorrCholeskyTransform", lambda T, t: T.CorrCholeskyTransform(), real(2, 3)),
    ("ComposeTransform", lambda T, t: T.ComposeTransform([T.AffineTransform(1., 2.), T.ExpTransform()]),
     real(2, 3)),
    ("ReshapeTransform", lambda T, t: T.ReshapeTransform((3,), (3, 1)), real(2, 3)),
    ("IndependentTransform", lambda T, t: T.IndependentTransform(T.ExpTransform(), 1), real(2, 3)),
    ("CatTransform", lambda T, t: T.CatTransform([T.ExpTransform(), T.AffineTransform(1., 3.)], 1, [1, 2]),
     real(2, 3)),
    ("StackTransform", lambda T, t: T.StackTransform([T.ExpTransform(), T.SigmoidTransform(), T.ExpTransform()],
                                                     1), real(2, 3)),
    ("InverseExp", lambda T, t: T.ExpTransform().inv, pos(2, 3)),
]


@pytest.mark.parametrize("case", TRANSFORMS, ids=[c[0] for c in TRANSFORMS])
def test_transforms(case, torch):
    _, make, x = case
    t, tt = make(D.transforms, ndgrad), make(torch.distributions.transforms, torch)
    xs = ndgrad.tensor(x, requires_grad=True)
    txs = torch.tensor(x, requires_grad=True)
    y, ty = t(xs), tt(txs)
    np.testing.assert_allclose(_np(y), _np(ty), rtol=1e-6, atol=1e-10)
    assert repr(t) == repr(tt)
    assert repr(t.domain) == repr(tt.domain) and repr(t.codomain) == repr(tt.codomain)
    assert t.bijective == tt.bijective
    _same(_call(lambda: t.inv(y)), _call(lambda: tt.inv(ty)), "inverse")
    ok = _call(lambda: t.log_abs_det_jacobian(xs, y))
    tok = _call(lambda: tt.log_abs_det_jacobian(txs, ty))
    _same(ok, tok, "log_abs_det_jacobian")
    assert tuple(t.forward_shape((2, 3) if x.ndim == 2 else (2, 3, 3))) == \
        tuple(tt.forward_shape((2, 3) if x.ndim == 2 else (2, 3, 3)))
    if ok[0] == "ok":
        out = (y.sum() + ok[1].sum())
        tout = (ty.sum() + tok[1].sum())
        np.testing.assert_allclose(_np(ndgrad.autograd.grad(out, xs)[0]), _np(torch.autograd.grad(tout, txs)[0]),
                                   rtol=1e-6, atol=1e-10)
        if t.bijective:
            assert gradcheck(lambda a: t.log_abs_det_jacobian(a, t(a)), [ndgrad.tensor(x, requires_grad=True)])
    try:
        tsign = tt.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            t.sign
    else:
        np.testing.assert_array_equal(_np(t.sign), _np(tsign))


def test_biject_to_transform_to(torch):
    C, TC = D.constraints, torch.distributions.constraints
    pairs = [(C.real, TC.real), (C.positive, TC.positive), (C.greater_than(1.), TC.greater_than(1.)),
             (C.less_than(2.), TC.less_than(2.)), (C.unit_interval, TC.unit_interval),
             (C.interval(-2., 3.), TC.interval(-2., 3.)), (C.simplex, TC.simplex),
             (C.lower_cholesky, TC.lower_cholesky), (C.corr_cholesky, TC.corr_cholesky),
             (C.positive_definite, TC.positive_definite), (C.real_vector, TC.real_vector),
             (C.independent(C.positive, 1), TC.independent(TC.positive, 1))]
    for c, tc in pairs:
        for reg, treg in ((D.biject_to, torch.distributions.biject_to),
                          (D.transform_to, torch.distributions.transform_to)):
            a, b = _call(lambda: reg(c)), _call(lambda: treg(tc))
            assert a[0] == b[0], (c, a, b)
            if a[0] == "ok":
                assert repr(a[1]) == repr(b[1])
                x = R.normal(size=(2, 3, 3) if c.event_dim == 2 else (2, 3))
                np.testing.assert_allclose(_np(a[1](ndgrad.tensor(x))), _np(b[1](torch.tensor(x))), rtol=1e-6)
                assert bool(c.check(a[1](ndgrad.tensor(x))).all())


def _kl_pairs():
    n = lambda d, a, b: d.Normal(a, b)  # noqa: E731
    return [
        ("Normal", n, n, [real(3), pos(3)], [real(3), pos(3)]),
        ("Bernoulli", lambda d, p: d.Bernoulli(p), lambda d, p: d.Bernoulli(p), [unit(3)], [unit(3)]),
        ("Beta", lambda d, a, b: d.Beta(a, b), lambda d, a, b: d.Beta(a, b), [pos(3), pos(3)], [pos(3), pos(3)]),
        ("Binomial", lambda d, p: d.Binomial(4, p), lambda d, p: d.Binomial(4, p), [unit(3)], [unit(3)]),
        ("Categorical", lambda d, p: d.Categorical(p), lambda d, p: d.Categorical(p), [_simplex(2, 3)],
         [_simplex(2, 3)]),
        ("OneHot", lambda d, p: d.OneHotCategorical(p), lambda d, p: d.OneHotCategorical(p), [_simplex(3)],
         [_simplex(3)]),
        ("Dirichlet", lambda d, c: d.Dirichlet(c), lambda d, c: d.Dirichlet(c), [pos(2, 3)], [pos(2, 3)]),
        ("Exponential", lambda d, r: d.Exponential(r), lambda d, r: d.Exponential(r), [pos(3)], [pos(3)]),
        ("Gamma", lambda d, a, b: d.Gamma(a, b), lambda d, a, b: d.Gamma(a, b), [pos(3), pos(3)], [pos(3), pos(3)]),
        ("Gumbel", lambda d, a, b: d.Gumbel(a, b), lambda d, a, b: d.Gumbel(a, b), [real(3), pos(3)],
         [real(3), pos(3)]),
        ("Geometric", lambda d, p: d.Geometric(p), lambda d, p: d.Geometric(p), [unit(3)], [unit(3)]),
        ("HalfNormal", lambda d, s: d.HalfNormal(s), lambda d, s: d.HalfNormal(s), [pos(3)], [pos(3)]),
        ("Laplace", lambda d, a, b: d.Laplace(a, b), lambda d, a, b: d.Laplace(a, b), [real(3), pos(3)],
         [real(3), pos(3)]),
        ("MVN", lambda d, m, L: d.MultivariateNormal(m, scale_tril=L),
         lambda d, m, c: d.MultivariateNormal(m, covariance_matrix=c),
         [real(2, 3), np.tril(R.normal(size=(3, 3)), -1) + np.diag(pos(3))], [real(3), _spd(3)]),
        ("LowRank", lambda d, m, W, v: d.LowRankMultivariateNormal(m, W, v),
         lambda d, m, c: d.MultivariateNormal(m, covariance_matrix=c), [real(3), real(3, 2), pos(3)],
         [real(3), _spd(3)]),
        ("Pareto", lambda d, s, a: d.Pareto(s, a), lambda d, s, a: d.Pareto(s, a), [pos(3), pos(3)],
         [pos(3) * 0.1, pos(3)]),
        ("Poisson", lambda d, r: d.Poisson(r), lambda d, r: d.Poisson(r), [pos(3)], [pos(3)]),
        ("Uniform", lambda d, a, b: d.Uniform(a, b), lambda d, a, b: d.Uniform(a, b), [real(3), real(3) + 4],
         [real(3) - 4, real(3) + 9]),
        ("Cauchy", lambda d, a, b: d.Cauchy(a, b), lambda d, a, b: d.Cauchy(a, b), [real(3), pos(3)],
         [real(3), pos(3)]),
        ("Independent", lambda d, a, b: d.Independent(d.Normal(a, b), 1),
         lambda d, a, b: d.Independent(d.Normal(a, b), 1), [real(2, 3), pos(2, 3)], [real(2, 3), pos(2, 3)]),
        ("LogNormal", lambda d, a, b: d.LogNormal(a, b), lambda d, a, b: d.LogNormal(a, b), [real(3), pos(3)],
         [real(3), pos(3)]),
        ("ContinuousBernoulli", lambda d, p: d.ContinuousBernoulli(p), lambda d, p: d.ContinuousBernoulli(p),
         [unit(3)], [unit(3)]),
        ("Exponential-Gamma", lambda d, r: d.Exponential(r), lambda d, a, b: d.Gamma(a, b), [pos(3)],
         [pos(3), pos(3)]),
        ("Gamma-Exponential", lambda d, a, b: d.Gamma(a, b), lambda d, r: d.Exponential(r), [pos(3), pos(3)],
         [pos(3)]),
        ("Uniform-Normal", lambda d, a, b: d.Uniform(a, b), n, [real(3), real(3) + 4], [real(3), pos(3)]),
        ("Normal-Laplace", n, lambda d, a, b: d.Laplace(a, b), [real(3), pos(3)], [real(3), pos(3)]),
        ("Laplace-Normal", lambda d, a, b: d.Laplace(a, b), n, [real(3), pos(3)], [real(3), pos(3)]),
        ("Normal-Gumbel", n, lambda d, a, b: d.Gumbel(a, b), [real(3), pos(3)], [real(3), pos(3)]),
        ("Beta-Uniform", lambda d, a, b: d.Beta(a, b), lambda d, a, b: d.Uniform(a, b), [pos(3), pos(3)],
         [np.array([-1., 0.5, -1]), np.array([2., 2., 0.5])]),
        ("Gamma-Normal", lambda d, a, b: d.Gamma(a, b), n, [pos(3), pos(3)], [real(3), pos(3)]),
        ("Exponential-Normal", lambda d, r: d.Exponential(r), n, [pos(3)], [real(3), pos(3)]),
        ("Normal-Gamma", n, lambda d, a, b: d.Gamma(a, b), [real(3), pos(3)], [pos(3), pos(3)]),
        ("ExpFamily-Bregman", lambda d, lg: d.Poisson(lg), lambda d, lg: d.Poisson(lg), [pos(3)], [pos(3)]),
    ]


@pytest.mark.parametrize("pair", _kl_pairs(), ids=[p[0] for p in _kl_pairs()])
def test_kl_divergence(pair, torch):
    _, mp, mq, pp, qp = pair
    vals = {}
    for lib in (ndgrad, torch):
        ps = [lib.tensor(x, dtype=lib.float64, requires_grad=True) for x in pp]
        qs = [lib.tensor(x, dtype=lib.float64, requires_grad=True) for x in qp]
        kl = lib.distributions.kl_divergence(mp(lib.distributions, *ps), mq(lib.distributions, *qs))
        gs = lib.autograd.grad(kl.sum(), ps + qs, allow_unused=True) if kl.requires_grad else ()
        vals[lib.__name__] = (kl, gs)
    kl, gs = vals["ndgrad"]
    tkl, tgs = vals["torch"]
    np.testing.assert_allclose(_np(kl), _np(tkl), rtol=1e-6, atol=1e-9)
    assert tuple(kl.shape) == tuple(tkl.shape)
    for g, tg in zip(gs, tgs):
        if tg is not None:
            np.testing.assert_allclose(_np(g), _np(tg), rtol=1e-5, atol=1e-8)


def test_kl_bregman_matches_closed_form():
    p, q = D.Gamma(ndgrad.tensor([2.0]), ndgrad.tensor([1.5])), D.Gamma(ndgrad.tensor([1.2]), ndgrad.tensor([0.7]))
    bregman = D.kl._kl_expfamily_expfamily(p, q)
    np.testing.assert_allclose(_np(bregman), _np(D.kl_divergence(p, q)), rtol=1e-5)


def test_register_kl_custom():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, MyNormal)
    def _kl(p, q):
        return ndgrad.tensor(42.0)

    assert D.kl_divergence(MyNormal(0., 1.), MyNormal(0., 1.)).item() == 42.0
    assert D.kl_divergence(MyNormal(0., 1.), D.Normal(0., 1.)).item() == 0.0


# -- sampling statistics ------------------------------------------------------------------------------------------
KS = [
    ("Normal", lambda: D.Normal(1.5, 2.0), "norm", (1.5, 2.0)),
    ("Gamma small", lambda: D.Gamma(0.3, 2.0), "gamma", (0.3, 0, 0.5)),
    ("Gamma", lambda: D.Gamma(4.0, 2.0), "gamma", (4.0, 0, 0.5)),
    ("Beta", lambda: D.Beta(0.7, 2.5), "beta", (0.7, 2.5)),
    ("Chi2", lambda: D.Chi2(3.0), "chi2", (3.0,)),
    ("StudentT", lambda: D.StudentT(3.0, 1.0, 2.0), "t", (3.0, 1.0, 2.0)),
    ("Laplace", lambda: D.Laplace(0.5, 1.5), "laplace", (0.5, 1.5)),
    ("Cauchy", lambda: D.Cauchy(0.5, 1.5), "cauchy", (0.5, 1.5)),
    ("Exponential", lambda: D.Exponential(3.0), "expon", (0, 1 / 3.0)),
    ("Uniform", lambda: D.Uniform(-1.0, 3.0), "uniform", (-1.0, 4.0)),
    ("LogNormal", lambda: D.LogNormal(0.2, 0.5), "lognorm", (0.5, 0, math.exp(0.2))),
    ("HalfNormal", lambda: D.HalfNormal(2.0), "halfnorm", (0, 2.0)),
    ("HalfCauchy", lambda: D.HalfCauchy(2.0), "halfcauchy", (0, 2.0)),
    ("Gumbel", lambda: D.Gumbel(1.0, 2.0), "gumbel_r", (1.0, 2.0)),
    ("Weibull", lambda: D.Weibull(2.0, 1.5), "weibull_min", (1.5, 0, 2.0)),
    ("Pareto", lambda: D.Pareto(1.0, 3.0), "pareto", (3.0, 0, 1.0)),
    ("FisherSnedecor", lambda: D.FisherSnedecor(4.0, 7.0), "f", (4.0, 7.0)),
    ("VonMises", lambda: D.VonMises(0.5, 2.0), "vonmises", (2.0, 0.5)),
    ("VonMises small", lambda: D.VonMises(-2.0, 0.1), "vonmises", (0.1, -2.0)),
    ("VonMises large", lambda: D.VonMises(3.0, 50.0), "vonmises", (50.0, 3.0)),
    ("GeneralizedPareto", lambda: D.GeneralizedPareto(0.5, 2.0, 0.3), "genpareto", (0.3, 0.5, 2.0)),
    ("GeneralizedPareto neg", lambda: D.GeneralizedPareto(0.5, 2.0, -0.4), "genpareto", (-0.4, 0.5, 2.0)),
    ("InverseGamma", lambda: D.InverseGamma(3.0, 2.0), "invgamma", (3.0, 0, 2.0)),
]


@pytest.mark.parametrize("case", KS, ids=[c[0] for c in KS])
def test_sample_ks(case):
    stats = pytest.importorskip("scipy.stats")
    _, make, dist, args = case
    ndgrad.manual_seed(1)
    s = _np(make().sample((4000,))).astype(np.float64)
    if dist == "vonmises":  # samples lie in [-pi, pi); compare the angle about loc with scipy's centred law
        s = np.mod(s - args[1] + np.pi, 2 * np.pi) - np.pi
        args = (args[0], 0.0)
    p = stats.kstest(s, dist, args=args).pvalue
    assert p > 1e-3, p


def test_rsample_ks_and_seed():
    stats = pytest.importorskip("scipy.stats")
    for make, dist, args in [(lambda: D.Kumaraswamy(2.0, 3.0), None, None),
                             (lambda: D.ContinuousBernoulli(0.3), None, None)]:
        ndgrad.manual_seed(3)
        a = make().rsample((2000,))
        ndgrad.manual_seed(3)
        b = make().rsample((2000,))
        assert np.array_equal(_np(a), _np(b))
        # probability integral transform: cdf(sample) is uniform
        d = make()
        try:
            u = _np(d.cdf(a))
        except NotImplementedError:
            u = 1 - (1 - _np(a) ** 2.0) ** 3.0
        assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_discrete_sample_moments():
    ndgrad.manual_seed(2)
    n = 20000
    checks = [(D.Bernoulli(ndgrad.tensor([0.2, 0.7])), None), (D.Binomial(7, ndgrad.tensor([0.3])), None),
              (D.Poisson(ndgrad.tensor([3.5])), None), (D.Geometric(ndgrad.tensor([0.3])), None),
              (D.NegativeBinomial(ndgrad.tensor([3.0]), ndgrad.tensor([0.4])), None),
              (D.Categorical(ndgrad.tensor([0.1, 0.6, 0.3])), None),
              (D.OneHotCategorical(ndgrad.tensor([0.1, 0.6, 0.3])), None),
              (D.Multinomial(5, ndgrad.tensor([0.1, 0.6, 0.3])), None),
              (D.Dirichlet(ndgrad.tensor([0.5, 2.0, 1.0])), None),
              (D.MultivariateNormal(ndgrad.tensor([1., -1.]), ndgrad.tensor([[2., 0.5], [0.5, 1.]])), None),
              (D.LowRankMultivariateNormal(ndgrad.tensor([1., -1.]), ndgrad.tensor([[1.], [0.5]]),
                                           ndgrad.tensor([0.3, 0.2])), None),
              (D.MixtureSameFamily(D.Categorical(ndgrad.tensor([0.3, 0.7])),
                                   D.Normal(ndgrad.tensor([-2., 2.]), ndgrad.tensor([0.5, 1.0]))), None),
              (D.RelaxedBernoulli(ndgrad.tensor(0.5), ndgrad.tensor([0.3])), None),
              (D.Wishart(ndgrad.tensor(5.0), covariance_matrix=ndgrad.tensor([[1.0, 0.3], [0.3, 0.5]])), None),
              ]
    for d, _ in checks:
        s = _np(d.sample((n,))).astype(np.float64)
        if isinstance(d, D.Categorical):
            mean = _np(d.probs) @ np.arange(3)
            np.testing.assert_allclose(s.mean(0), mean, atol=0.03)
            continue
        if isinstance(d, D.RelaxedBernoulli):
            continue
        np.testing.assert_allclose(s.mean(0), _np(d.mean), rtol=0.05, atol=0.03)
        np.testing.assert_allclose(s.var(0), _np(d.variance), rtol=0.08, atol=0.03)
        if isinstance(d, D.MultivariateNormal):
            np.testing.assert_allclose(np.cov(s.T), _np(d.covariance_matrix), atol=0.06)


def test_lkj_marginal():
    stats = pytest.importorskip("scipy.stats")
    ndgrad.manual_seed(4)
    eta, d = 2.0, 4
    L = _np(D.LKJCholesky(d, eta).sample((3000,)))
    C = L @ np.swapaxes(L, -1, -2)
    assert np.allclose(np.diagonal(C, axis1=-2, axis2=-1), 1)
    # each off-diagonal correlation: (r + 1) / 2 ~ Beta(eta - 1 + d/2, eta - 1 + d/2)
    a = eta - 1 + d / 2
    for i, j in [(1, 0), (3, 1)]:
        assert stats.kstest((C[:, i, j] + 1) / 2, "beta", args=(a, a)).pvalue > 1e-3


def test_standard_gamma_implicit_gradient():
    sp = pytest.importorskip("scipy.special")
    from ndgrad.distributions.utils import _standard_gamma_grad_np
    a = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 80.0, 500.0])
    x = np.array([1e-4, 0.05, 1.7, 4.0, 6.5, 95.0, 480.0])
    h = 1e-6
    dF = (sp.gammainc(a + h, x) - sp.gammainc(a - h, x)) / (2 * h)
    pdf = np.exp(sp.xlogy(a - 1, x) - x - sp.gammaln(a))
    np.testing.assert_allclose(_standard_gamma_grad_np(a, x), -dF / pdf, rtol=1e-6)
    # and through autograd: the gradient of Gamma(alpha, 1).rsample() at the drawn sample
    ndgrad.manual_seed(7)
    alpha = ndgrad.tensor(a, dtype=ndgrad.float64, requires_grad=True)
    xs = D.Gamma(alpha, 1.0).rsample()
    (g,) = ndgrad.autograd.grad(xs.sum(), alpha)
    xv = _np(xs)
    dF = (sp.gammainc(a + h, xv) - sp.gammainc(a - h, xv)) / (2 * h)
    pdf = np.exp(sp.xlogy(a - 1, xv) - xv - sp.gammaln(a))
    np.testing.assert_allclose(_np(g), -dF / pdf, rtol=1e-5)


def test_rsample_gradients_reparameterised():
    # d/dalpha E[X] of Gamma(alpha, beta) is 1/beta; pathwise estimate over many samples
    ndgrad.manual_seed(5)
    c = ndgrad.tensor(2.0, requires_grad=True)
    r = ndgrad.tensor(0.5, requires_grad=True)
    x = D.Gamma(c, r).rsample((20000,))
    assert x.grad_fn.name() == "DivBackward0"
    gc, gr = ndgrad.autograd.grad(x.mean(), [c, r])
    assert abs(gc.item() - 1 / 0.5) < 0.05 and abs(gr.item() + 2.0 / 0.25) < 0.2
    # Beta mean a / (a + b): derivative in a is b / (a + b)^2
    a = ndgrad.tensor(1.5, requires_grad=True)
    b = ndgrad.tensor(2.5, requires_grad=True)
    x = D.Beta(a, b).rsample((20000,))
    ga, gb = ndgrad.autograd.grad(x.mean(), [a, b])
    assert abs(ga.item() - 2.5 / 16) < 0.01 and abs(gb.item() + 1.5 / 16) < 0.01
    # Dirichlet second moment E[X0^2] = a0 (a0 + 1) / (s (s + 1))
    conc = ndgrad.tensor([1.0, 2.0, 3.0], dtype=ndgrad.float64, requires_grad=True)
    x = D.Dirichlet(conc).rsample((20000,))
    g = ndgrad.autograd.grad((x[:, 0] ** 2).mean(), conc)[0]
    tc = ndgrad.tensor([1.0, 2.0, 3.0], dtype=ndgrad.float64, requires_grad=True)  # the closed form's gradient
    exact = ndgrad.autograd.grad(tc[0] * (tc[0] + 1) / (tc.sum() * (tc.sum() + 1)), tc)[0].numpy()
    np.testing.assert_allclose(_np(g), exact, atol=0.01)
    # Chi2 and StudentT have rsample; Normal's is exact
    loc = ndgrad.tensor([0.5], requires_grad=True)
    y = D.Normal(loc, 2.0).rsample((3,))
    assert np.allclose(_np(ndgrad.autograd.grad(y.sum(), loc)[0]), [3.0])
    df = ndgrad.tensor(4.0, requires_grad=True)
    assert D.Chi2(df).rsample((10,)).requires_grad and D.StudentT(df).rsample((10,)).requires_grad


def test_standard_gamma_grad_not_twice_differentiable():
    c = ndgrad.tensor([2.0], dtype=ndgrad.float64, requires_grad=True)
    x = D.Gamma(c, 1.0).rsample()
    (g,) = ndgrad.autograd.grad(x.sum(), c, create_graph=True)
    with pytest.raises(RuntimeError, match="_standard_gamma_grad"):
        ndgrad.autograd.grad(g.sum(), c)


def test_straight_through_gradient():
    p = ndgrad.tensor([0.2, 0.3, 0.5], requires_grad=True)
    s = D.OneHotCategoricalStraightThrough(p).rsample((4,))
    assert bool(((s == 0) | (s == 1)).all()) and bool((s.sum(-1) == 1).all())
    (g,) = ndgrad.autograd.grad((s * ndgrad.tensor([1.0, 2.0, 3.0])).sum(), p)
    # d/dp of probs = p / p.sum(), times 4 samples
    w = np.array([1.0, 2.0, 3.0])
    exact = 4 * (w - (w * _np(p)).sum()) / _np(p).sum()
    np.testing.assert_allclose(_np(g), exact, rtol=1e-5)


def test_manual_seed_reproducible():
    out = []
    for _ in range(2):
        ndgrad.manual_seed(11)
        out.append([_np(D.Normal(0., 1.).sample((3,))), _np(D.Gamma(2., 1.).sample((3,))),
                    _np(D.Categorical(ndgrad.ones(4)).sample((3,))), _np(D.Poisson(3.).sample((3,)))])
    for a, b in zip(*out):
        assert np.array_equal(a, b)


def test_misc_api(torch):
    assert set(torch.distributions.__all__) <= set(D.__all__)
    assert set(torch.distributions.transforms.__all__) == set(D.transforms.__all__)
    d, td = D.Normal(0., 1.), torch.distributions.Normal(0., 1.)
    with pytest.warns(UserWarning, match="sample_n will be deprecated"):
        assert tuple(d.sample_n(4).shape) == (4,)
    assert tuple(D.Bernoulli(ndgrad.tensor([0.3, 0.6])).enumerate_support().shape) == \
        tuple(torch.distributions.Bernoulli(torch.tensor([0.3, 0.6])).enumerate_support().shape)
    for make in (lambda d, t: d.Categorical(t.ones(2, 3)), lambda d, t: d.Binomial(3, t.tensor([0.2, 0.4])),
                 lambda d, t: d.OneHotCategorical(t.ones(2, 3))):
        a = make(D, ndgrad).enumerate_support()
        b = make(torch.distributions, torch).enumerate_support()
        assert np.array_equal(_np(a), b.numpy())
        a = make(D, ndgrad).enumerate_support(expand=False)
        b = make(torch.distributions, torch).enumerate_support(expand=False)
        assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(_np(d.perplexity()), td.perplexity().numpy(), rtol=1e-6)
    td2 = D.TransformedDistribution(D.Normal(0., 1.), [D.ExpTransform()])
    ttd2 = torch.distributions.TransformedDistribution(torch.distributions.Normal(0., 1.),
                                                       [torch.distributions.ExpTransform()])
    assert repr(td2) == repr(ttd2)
    np.testing.assert_allclose(_np(td2.cdf(ndgrad.tensor(2.0))), ttd2.cdf(torch.tensor(2.0)).numpy(), rtol=1e-6)
    np.testing.assert_allclose(_np(td2.icdf(ndgrad.tensor(0.3))), ttd2.icdf(torch.tensor(0.3)).numpy(), rtol=1e-6)


def test_lazy_import():
    import subprocess
    import sys
    code = "import ndgrad, sys; assert 'ndgrad.distributions' not in sys.modules; ndgrad.distributions.Normal"
    subprocess.run([sys.executable, "-c", code], check=True)


KL_FAMILIES = {
    "Bernoulli": (lambda d, p: d.Bernoulli(p), [[0.3, 0.6]]),
    "Beta": (lambda d, a, b: d.Beta(a, b), [[1.5, 0.7], [2.0, 3.0]]),
    "Binomial": (lambda d, p: d.Binomial(5, p), [[0.3, 0.6]]),
    "Categorical": (lambda d, p: d.Categorical(p), [[[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]]),
    "ContinuousBernoulli": (lambda d, p: d.ContinuousBernoulli(p), [[0.3, 0.7]]),
    "Dirichlet": (lambda d, c: d.Dirichlet(c), [[[0.5, 1.5, 2.0], [3.0, 1.0, 0.7]]]),
    "Exponential": (lambda d, r: d.Exponential(r), [[1.5, 0.7]]),
    "Gamma": (lambda d, a, b: d.Gamma(a, b), [[2.0, 0.8], [1.5, 0.6]]),
    "Geometric": (lambda d, p: d.Geometric(p), [[0.3, 0.6]]),
    "Gumbel": (lambda d, a, b: d.Gumbel(a, b), [[0.3, -0.5], [1.2, 0.7]]),
    "HalfNormal": (lambda d, s: d.HalfNormal(s), [[1.0, 2.0]]),
    "Laplace": (lambda d, a, b: d.Laplace(a, b), [[0.2, -0.4], [1.1, 0.6]]),
    "Normal": (lambda d, a, b: d.Normal(a, b), [[0.2, -0.4], [1.1, 0.6]]),
    "Pareto": (lambda d, s, a: d.Pareto(s, a), [[0.5, 0.05], [2.5, 0.8]]),
    "Poisson": (lambda d, r: d.Poisson(r), [[1.5, 0.4]]),
    "Uniform": (lambda d, a, b: d.Uniform(a, b), [[0.1, -0.5], [0.8, 0.6]]),
    "Cauchy": (lambda d, a, b: d.Cauchy(a, b), [[0.2, -0.4], [1.1, 0.6]]),
    "OneHotCategorical": (lambda d, p: d.OneHotCategorical(p), [[[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]]),
}


def _registered_pairs():
    torch = pytest.importorskip("torch")
    from torch.distributions import kl as tkl
    return sorted((a.__name__, b.__name__) for a, b in tkl._KL_REGISTRY
                  if a.__name__ in KL_FAMILIES and b.__name__ in KL_FAMILIES)


def test_kl_registry_covers_torch(torch):
    from torch.distributions import kl as tkl
    mine = {(a.__name__, b.__name__) for a, b in D.kl._KL_REGISTRY}
    assert {(a.__name__, b.__name__) for a, b in tkl._KL_REGISTRY} <= mine


def test_kl_every_registered_pair(torch):
    for pn, qn in _registered_pairs():
        res = {}
        for lib in (ndgrad, torch):
            mp, pp = KL_FAMILIES[pn]
            mq, qp = KL_FAMILIES[qn]
            ps = [lib.tensor(x, dtype=lib.float64, requires_grad=True) for x in pp]
            qs = [lib.tensor(x, dtype=lib.float64, requires_grad=True) for x in qp]
            kl = lib.distributions.kl_divergence(mp(lib.distributions, *ps), mq(lib.distributions, *qs))
            gs = lib.autograd.grad(kl[kl.isfinite()].sum(), ps + qs, allow_unused=True) \
                if kl.requires_grad and bool(kl.isfinite().any()) else None
            res[lib.__name__] = (kl, gs)
        (kl, gs), (tkl_, tgs) = res["ndgrad"], res["torch"]
        np.testing.assert_allclose(_np(kl), _np(tkl_), rtol=1e-6, atol=1e-9, err_msg=f"{pn}-{qn}")
        assert tuple(kl.shape) == tuple(tkl_.shape), (pn, qn)
        if tgs is not None:
            for g, tg in zip(gs, tgs):
                if tg is not None and g is not None:
                    np.testing.assert_allclose(_np(g), _np(tg), rtol=1e-5, atol=1e-8, err_msg=f"{pn}-{qn}")
