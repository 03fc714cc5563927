"""optim.lr_scheduler compared with PyTorch: the learning rates (and momentums) over 25+ steps for every
scheduler and several option sets, chaining, state dicts, warnings and errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad
from torchcmp import raises_like_torch as _raises_like_torch


def _opt(lib, name="SGD", groups=2, **kw):
    ps = [lib.tensor([1.0, 2.0], requires_grad=True) for _ in range(groups)]
    lrs = [0.1, 0.01, 0.5][:groups]
    defaults = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.1)
    defaults.update(kw)
    return getattr(lib.optim, name)([{"params": [p], "lr": lr} for p, lr in zip(ps, lrs)], **defaults), ps


def _record(opt):
    g = opt.param_groups
    return ([x["lr"] for x in g], [x.get("momentum") for x in g], [x.get("betas") for x in g])


def _run(lib, make, steps=25, name="SGD", metrics=None, groups=2, **okw):
    opt, ps = _opt(lib, name, groups, **okw)
    sched = make(lib.optim.lr_scheduler, opt)
    out = [(sched.get_last_lr(), _record(opt), getattr(sched, "last_epoch", None))]
    for k in range(steps):
        opt.zero_grad()
        sum((p ** 2).sum() for p in ps).backward()
        opt.step()
        if metrics is not None:
            sched.step(metrics[k])
        else:
            sched.step()
        out.append((list(sched.get_last_lr()), _record(opt), getattr(sched, "last_epoch", None)))
    return out


def _same(a, b):
    assert len(a) == len(b)
    for (la, ra, ea), (lb, rb, eb) in zip(a, b):
        assert ea == eb
        assert la == pytest.approx(lb, rel=1e-12, abs=1e-15)
        assert ra[0] == pytest.approx(rb[0], rel=1e-12, abs=1e-15)
        for ma, mb in zip(ra[1], rb[1]):
            assert (ma is None and mb is None) or ma == pytest.approx(mb, rel=1e-12)
        for ba, bb in zip(ra[2], rb[2]):
            assert (ba is None and bb is None) or tuple(ba) == pytest.approx(tuple(bb), rel=1e-12)


def _lam(e):
    return 0.95 ** e


SCHEDULERS = {
    "step": lambda S, o: S.StepLR(o, step_size=4),
    "step_gamma": lambda S, o: S.StepLR(o, step_size=3, gamma=0.5),
    "multistep": lambda S, o: S.MultiStepLR(o, milestones=[3, 7, 7, 15], gamma=0.3),
    "exponential": lambda S, o: S.ExponentialLR(o, gamma=0.9),
    "cosine": lambda S, o: S.CosineAnnealingLR(o, T_max=10),
    "cosine_eta_min": lambda S, o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "lambda": lambda S, o: S.LambdaLR(o, lr_lambda=_lam),
    "lambda_per_group": lambda S, o: S.LambdaLR(o, lr_lambda=[_lam, lambda e: 1.0 / (e + 1)]),
    "multiplicative": lambda S, o: S.MultiplicativeLR(o, lr_lambda=lambda e: 0.9),
    "constant": lambda S, o: S.ConstantLR(o),
    "constant_opts": lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=8),
    "linear": lambda S, o: S.LinearLR(o),
    "linear_opts": lambda S, o: S.LinearLR(o, start_factor=0.1, end_factor=0.7, total_iters=12),
    "linear_decay": lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=10),
    "polynomial": lambda S, o: S.PolynomialLR(o, total_iters=10, power=2.0),
    "warm_restarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=5),
    "warm_restarts_mult": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.002),
    "onecycle": lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=25),
    "onecycle_linear": lambda S, o: S.OneCycleLR(o, max_lr=[1.0, 0.3], total_steps=30, anneal_strategy="linear"),
    "onecycle_three": lambda S, o: S.OneCycleLR(o, max_lr=0.5, epochs=5, steps_per_epoch=6, three_phase=True,
                                                pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
    "onecycle_no_momentum": lambda S, o: S.OneCycleLR(o, max_lr=0.5, total_steps=26, cycle_momentum=False),
    "cyclic": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "cyclic_tri2": lambda S, o: S.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, step_size_down=5,
                                           mode="triangular2"),
    "cyclic_exp": lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range",
                                          gamma=0.9, base_momentum=0.7, max_momentum=0.95),
    "sequential": lambda S, o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                                  S.ExponentialLR(o, gamma=0.9)], milestones=[5]),
    "sequential3": lambda S, o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.5, total_iters=3),
                                                   S.CosineAnnealingLR(o, T_max=6),
                                                   S.StepLR(o, step_size=2, gamma=0.5)], milestones=[4, 12]),
    "chained": lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=4),
                                                S.ExponentialLR(o, gamma=0.9)]),
    "chained_cos": lambda S, o: S.ChainedScheduler([S.LinearLR(o, start_factor=0.2, total_iters=6),
                                                    S.CosineAnnealingLR(o, T_max=8)], optimizer=o),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedule_matches_torch(torch, name):
    steps = 30 if name in ("onecycle_linear", "onecycle_three") else 25
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(_run(ndgrad, SCHEDULERS[name], steps), _run(torch, SCHEDULERS[name], steps))


@pytest.mark.parametrize("name", ["onecycle", "onecycle_three", "cyclic", "cosine", "step"])
def test_schedule_with_adam_betas(torch, name):
    """cycle_momentum updates Adam's beta1."""
    steps = 30 if name == "onecycle_three" else 25
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = _run(ndgrad, SCHEDULERS[name], steps, name="Adam")
        b = _run(torch, SCHEDULERS[name], steps, name="Adam")
    _same(a, b)


def test_two_schedulers_on_one_optimizer(torch):
    """Recursive forms compose: two schedulers stepped in turn act on the same group lrs."""
    def f(lib):
        opt, ps = _opt(lib)
        S = lib.optim.lr_scheduler
        s1, s2 = S.StepLR(opt, step_size=3, gamma=0.5), S.ExponentialLR(opt, gamma=0.95)
        out = []
        for _ in range(20):
            opt.step()
            s1.step()
            s2.step()
            out.append([g["lr"] for g in opt.param_groups] + s1.get_last_lr() + s2.get_last_lr())
        return out
    np.testing.assert_allclose(f(ndgrad), f(torch), rtol=1e-13)


def test_closed_form_with_epoch(torch):
    def f(lib):
        opt, _ = _opt(lib)
        S = lib.optim.lr_scheduler
        scheds = [S.StepLR(opt, 3), S.MultiStepLR(opt, [2, 5]), S.ExponentialLR(opt, 0.9),
                  S.CosineAnnealingLR(opt, 10), S.LinearLR(opt), S.ConstantLR(opt), S.PolynomialLR(opt)]
        out = []
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            for s in scheds:
                for e in (4, 7, 2):
                    s.step(e)
                    out.append(s.get_last_lr())
        return out, sorted({str(x.message)[:40] for x in w})
    a, b = f(ndgrad), f(torch)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-13)
    assert a[1] == b[1]


def test_warm_restarts_fractional_epochs(torch):
    def f(lib):
        opt, _ = _opt(lib)
        s = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in [0.5, 1.25, 3.9, 4.0, 7.5, 12.0, 13.3, 30.1]:
                s.step(e)
                out.append(s.get_last_lr() + [s.T_cur, s.T_i, s.last_epoch])
        return out
    np.testing.assert_allclose(f(ndgrad), f(torch), rtol=1e-13)


PLATEAU = {
    "min_rel": dict(patience=2),
    "min_abs_cooldown": dict(patience=1, threshold=0.05, threshold_mode="abs", cooldown=2, factor=0.5),
    "max_rel": dict(mode="max", patience=1, factor=0.3, min_lr=0.001),
    "max_abs": dict(mode="max", patience=0, threshold=0.1, threshold_mode="abs", min_lr=[0.02, 0.005]),
    "eps": dict(patience=0, factor=0.5, eps=0.02),
}
METRICS = [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.85, 0.85, 0.7, 0.75, 0.8, 0.9, 0.6, 0.6, 0.6, 0.6, 0.62,
           0.59, 0.61, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2]


@pytest.mark.parametrize("cfg", list(PLATEAU))
def test_reduce_on_plateau(torch, cfg):
    def make(S, o):
        return S.ReduceLROnPlateau(o, **PLATEAU[cfg])
    a = _run(ndgrad, make, len(METRICS), metrics=METRICS)
    b = _run(torch, make, len(METRICS), metrics=METRICS)
    _same(a, b)


def test_reduce_on_plateau_state(torch):
    def f(lib):
        opt, _ = _opt(lib)
        s = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
        for m in METRICS[:8]:
            s.step(lib.tensor(m))
        sd = s.state_dict()
        return {k: v for k, v in sd.items()}, s.in_cooldown
    a, b = f(ndgrad), f(torch)
    assert a == b


@pytest.mark.parametrize("name", ["step", "cosine", "onecycle", "lambda", "sequential", "chained", "cyclic",
                                  "warm_restarts_mult", "multistep"])
def test_state_dict_resume(torch, name):
    """20 steps, save at 8, rebuild the optimizer and scheduler, load both, continue: same lrs as torch's run."""
    make = SCHEDULERS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _run(torch, make, 20)
        opt, ps = _opt(ndgrad)
        sched = make(ndgrad.optim.lr_scheduler, opt)
        got = [(sched.get_last_lr(), _record(opt), getattr(sched, "last_epoch", None))]
        for k in range(20):
            if k == 8:
                osd, ssd = opt.state_dict(), sched.state_dict()
                opt, _ = _opt(ndgrad)
                opt.param_groups[0]["params"], opt.param_groups[1]["params"] = [ps[0]], [ps[1]]
                sched = make(ndgrad.optim.lr_scheduler, opt)
                opt.load_state_dict(osd)
                sched.load_state_dict(ssd)
            opt.zero_grad()
            sum((p ** 2).sum() for p in ps).backward()
            opt.step()
            sched.step()
            got.append((list(sched.get_last_lr()), _record(opt), getattr(sched, "last_epoch", None)))
    _same(got, want)


@pytest.mark.parametrize("name", ["step", "multistep", "cosine", "lambda", "onecycle", "sequential", "cyclic",
                                  "warm_restarts"])
def test_state_dict_keys(torch, name):
    def f(lib):
        opt, _ = _opt(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
            s.step()
        sd = s.state_dict()
        keys = sorted(sd)
        if "_schedulers" in sd:
            keys.append([sorted(x) for x in sd["_schedulers"]])
        return keys, sorted(k for g in opt.param_groups for k in g if k != "params")
    assert f(ndgrad) == f(torch)


def test_lambda_state_dict_callable_object(torch):
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, e):
            return self.rate ** e

    def f(lib):
        opt, _ = _opt(lib)
        s = lib.optim.lr_scheduler.LambdaLR(opt, [Decay(), _lam])
        sd = s.state_dict()
        sd["lr_lambdas"][0]["rate"] = 0.25
        opt2, _ = _opt(lib)
        s2 = lib.optim.lr_scheduler.LambdaLR(opt2, [Decay(), _lam])
        s2.load_state_dict(sd)
        opt2.step()
        s2.step()
        return s.state_dict()["lr_lambdas"], s2.lr_lambdas[0].rate, s2.get_last_lr()
    assert f(ndgrad) == f(torch)


# -- warnings and errors ----------------------------------------------------------------------------------
def _warning_texts(lib, order_ok):
    opt, _ = _opt(lib)
    s = lib.optim.lr_scheduler.StepLR(opt, 2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        if order_ok:
            opt.step()
        s.step()
        s.get_lr()
    return [str(x.message) for x in w]


@pytest.mark.parametrize("order_ok", [True, False])
def test_warnings(torch, order_ok):
    assert _warning_texts(ndgrad, order_ok) == _warning_texts(torch, order_ok)


def _o(lib):
    return _opt(lib)[0]


ERRORS = [
    (lambda lib: lib.optim.lr_scheduler.StepLR(object(), 3), TypeError, "object is not an Optimizer"),
    (lambda lib: lib.optim.lr_scheduler.StepLR(_o(lib), 3, last_epoch=4), KeyError, None),
    (lambda lib: lib.optim.lr_scheduler.LambdaLR(_o(lib), [_lam]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda lib: lib.optim.lr_scheduler.MultiplicativeLR(_o(lib), 3), TypeError,
     "lr_lambda should be a function, but got int"),
    (lambda lib: lib.optim.lr_scheduler.ConstantLR(_o(lib), factor=2), ValueError,
     "Constant multiplicative factor expected to be between 0 and 1."),
    (lambda lib: lib.optim.lr_scheduler.LinearLR(_o(lib), start_factor=0), ValueError,
     "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."),
    (lambda lib: lib.optim.lr_scheduler.LinearLR(_o(lib), end_factor=2), ValueError,
     "Ending multiplicative factor expected to be between 0 and 1."),
    (lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_o(lib), factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_o(lib), mode="mid"), ValueError, "mode mid is unknown!"),
    (lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_o(lib), threshold_mode="x"), ValueError,
     "threshold mode x is unknown!"),
    (lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_o(lib), min_lr=[0.1]), ValueError,
     "expected 2 min_lrs, got 1"),
    (lambda lib: lib.optim.lr_scheduler.OneCycleLR(_o(lib), max_lr=1.0), ValueError,
     "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda lib: lib.optim.lr_scheduler.OneCycleLR(_o(lib), max_lr=1.0, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    (lambda lib: lib.optim.lr_scheduler.OneCycleLR(_o(lib), max_lr=1.0, total_steps=10, pct_start=1), ValueError,
     "Expected float between 0 and 1 pct_start, but got 1"),
    (lambda lib: lib.optim.lr_scheduler.OneCycleLR(_o(lib), max_lr=1.0, total_steps=10, anneal_strategy="x"),
     ValueError, "anneal_strategy must be one of 'cos' or 'linear', instead got x"),
    (lambda lib: lib.optim.lr_scheduler.OneCycleLR(_o(lib), max_lr=[1.0], total_steps=10), ValueError,
     "max_lr must have the same length as optimizer.param_groups. max_lr has 1 values, param_groups has 2."),
    (lambda lib: lib.optim.lr_scheduler.OneCycleLR(lib.optim.Adagrad([lib.tensor([1.], requires_grad=True)]),
                                                   max_lr=1.0, total_steps=10), ValueError,
     "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"),
    (lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(_o(lib), T_0=0), ValueError,
     "Expected positive integer T_0, but got 0"),
    (lambda lib: lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(_o(lib), T_0=2, T_mult=0), ValueError,
     "Expected integer T_mult >= 1, but got 0"),
    (lambda lib: lib.optim.lr_scheduler.CyclicLR(_o(lib), 0.1, 1.0, mode="x"), ValueError,
     "mode is invalid and scale_fn is None"),
    (lambda lib: lib.optim.lr_scheduler.SequentialLR(_o(lib), [], []), ValueError,
     "SequentialLR expects at least one scheduler, but got no scheduler."),
    (lambda lib: lib.optim.lr_scheduler.ChainedScheduler([]), ValueError,
     "ChainedScheduler expects at least one scheduler to be chained, but got no scheduler."),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(torch, i):
    f, cls, msg = ERRORS[i]
    _raises_like_torch(f, torch, cls, msg)


def test_sequential_errors(torch):
    def milestones(lib):
        o = _o(lib)
        S = lib.optim.lr_scheduler
        S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], milestones=[])
    _raises_like_torch(milestones, torch, ValueError,
                       "Sequential Schedulers expects number of schedulers provided to be one more than the number of "
                       "milestone points, but got number of schedulers 2 and the number of milestones to be equal to 0")

    def plateau(lib):
        o = _o(lib)
        S = lib.optim.lr_scheduler
        S.SequentialLR(o, [S.StepLR(o, 2), S.ReduceLROnPlateau(o)], milestones=[3])
    _raises_like_torch(plateau, torch, ValueError,
                       "SequentialLR does not support `ReduceLROnPlateau` scheduler as it requires additional kwargs "
                       "to be specified when calling `step`, but got one at index 1 in the given schedulers sequence.")

    def too_many(lib):
        o = _o(lib)
        s = lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=3)
        for _ in range(4):
            o.step()
            s.step()
    _raises_like_torch(too_many, torch, ValueError, "Tried to step 4 times. The specified number of total steps is 3")
