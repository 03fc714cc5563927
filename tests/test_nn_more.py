"""The rest of nn (issue 11) and the norm layers' node names (issue 10), compared with PyTorch: modules' outputs,
gradients, parameter/buffer names, state_dict keys, reprs and errors; gradcheck/gradgradcheck for the composite
functional forms (the op-backed ones are in the op table: tests/opinfo_normalization.py, opinfo_margin.py,
opinfo_sampling.py)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad
import ndgrad.nn.functional as F
from torchcmp import fn_name, outcome

RNG = np.random.default_rng(7)


def _arr(*shape):
    return RNG.standard_normal(shape)


def _pair(torch, arrays, grad=True):
    t = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
         for a in arrays]
    n = [ndgrad.tensor(a, requires_grad=grad and a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
         for a in arrays]
    return t, n


def _same(torch, f, arrays, rtol=1e-6, atol=1e-8, name=True):
    """f(lib, *tensors): same values, dtype, grad_fn name, and gradients of every float input."""
    ta, na = _pair(torch, arrays)
    to, no = f(torch, *ta), f(ndgrad, *na)
    np.testing.assert_allclose(no.detach().numpy(), to.detach().numpy(), rtol=rtol, atol=atol)
    assert str(no.dtype) == str(to.dtype)
    if name:
        assert fn_name(no.grad_fn) == fn_name(to.grad_fn)
    if to.requires_grad:
        w = RNG.standard_normal(tuple(to.shape))
        (to * torch.tensor(w)).sum().backward()
        (no * ndgrad.tensor(w)).sum().backward()
        for a, b in zip(ta, na):
            if getattr(a, "requires_grad", False):
                if a.grad is None:
                    assert b.grad is None
                else:
                    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=rtol, atol=atol)


def _gradchecks(f, *arrays):
    xs = [ndgrad.tensor(a, requires_grad=True) for a in arrays]
    assert ndgrad.autograd.gradcheck(f, xs)
    assert ndgrad.autograd.gradgradcheck(f, xs)


def _errors_like_torch(torch, f):
    want = outcome(f, torch)
    assert want is not None
    assert outcome(f, ndgrad) == want


# ---------------------------------------------------------------------------------------------------- node names
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_norm_node_names(torch, training, affine):
    x = _arr(4, 3, 5)
    w, b = (_arr(3), _arr(3)) if affine else (None, None)

    def bn(lib, x, *wb):
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        return lib.nn.functional.batch_norm(x, rm, rv, *wb, training=training)
    _same(torch, bn, [x] + ([w, b] if affine else []))
    _same(torch, lambda lib, x, *wb: lib.nn.functional.layer_norm(x, (5,), *wb),
          [x] + ([_arr(5), _arr(5)] if affine else []))
    _same(torch, lambda lib, x, *wb: lib.nn.functional.group_norm(x, 3, *wb), [x] + ([w, b] if affine else []))
    _same(torch, lambda lib, w: lib.nn.functional.embedding(lib.tensor([[1, 2], [0, 1]]), w), [_arr(3, 2)])


def test_norm_modules_keep_their_statistics(torch):
    x = _arr(6, 3, 4)
    for cls in ("BatchNorm1d", "InstanceNorm1d"):
        kw = dict(affine=True, track_running_stats=True) if cls == "InstanceNorm1d" else {}
        tm, nm = getattr(torch.nn, cls)(3, **kw).double(), getattr(ndgrad.nn, cls)(3, **kw).double()
        for _ in range(2):
            _same(torch, lambda lib, x: (tm if lib is torch else nm)(x), [x])
        assert list(tm.state_dict()) == list(nm.state_dict())
        for k, v in tm.state_dict().items():
            np.testing.assert_allclose(nm.state_dict()[k].numpy(), v.numpy(), rtol=1e-7)
        tm.eval(), nm.eval()
        _same(torch, lambda lib, x: (tm if lib is torch else nm)(x), [x])


# ---------------------------------------------------------------------------------------------------- losses
_LOSSES = [
    ("GaussianNLLLoss", dict(full=True), lambda: [_arr(3, 4), _arr(3, 4), RNG.random((3, 1)) + 0.1]),
    ("MultiLabelSoftMarginLoss", {}, lambda: [_arr(3, 4), (RNG.random((3, 4)) > 0.5) * 1.0]),
    ("HingeEmbeddingLoss", dict(margin=0.5), lambda: [_arr(3, 4), np.sign(_arr(3, 4))]),
    ("TripletMarginLoss", dict(swap=True), lambda: [_arr(3, 4), _arr(3, 4), _arr(3, 4)]),
    ("TripletMarginWithDistanceLoss", dict(margin=0.7), lambda: [_arr(3, 4), _arr(3, 4), _arr(3, 4)]),
    ("MultiMarginLoss", dict(p=2), lambda: [_arr(3, 4), np.array([1, 0, 3])]),
    ("MultiLabelMarginLoss", {}, lambda: [_arr(3, 4), np.array([[3, 0, -1, 1], [0, 1, 2, -1], [1, 1, 0, -1]])]),
    ("CTCLoss", dict(blank=1), lambda: [_arr(5, 2, 4), np.array([[2, 3], [0, 0]]), (5, 4), (2, 1)]),
]


@pytest.mark.parametrize("name,kw,make", _LOSSES, ids=[n for n, _, _ in _LOSSES])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules(torch, name, kw, make, reduction):
    arrays = make()
    tm, nm = getattr(torch.nn, name)(reduction=reduction, **kw), getattr(ndgrad.nn, name)(reduction=reduction, **kw)
    assert repr(tm) == repr(nm)
    if name == "CTCLoss":
        arrays[0] = torch.tensor(arrays[0]).log_softmax(2).numpy()
    _same(torch, lambda lib, *a: (tm if lib is torch else nm)(*a), arrays)


def test_composite_losses_gradgradcheck():
    t = ndgrad.tensor(np.sign(_arr(3, 4)))
    y = ndgrad.tensor((RNG.random((3, 4)) > 0.5) * 1.0)
    _gradchecks(lambda x, m, v: F.gaussian_nll_loss(x, m, v, full=True), _arr(3, 4), _arr(3, 4),
                RNG.random((3, 4)) + 0.5)
    _gradchecks(lambda x: F.multilabel_soft_margin_loss(x, y), _arr(3, 4))
    _gradchecks(lambda x: F.hinge_embedding_loss(x, t, margin=3.0), _arr(3, 4))
    _gradchecks(lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=5.0), _arr(3, 4), _arr(3, 4), _arr(3, 4))
    _gradchecks(lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, margin=5.0), _arr(2, 3), _arr(2, 3),
                _arr(2, 3))


def test_loss_errors_like_torch(torch):
    x = _arr(3, 4)
    for f in (lambda lib: lib.nn.functional.gaussian_nll_loss(lib.tensor(x), lib.tensor(x), lib.ones(2)),
              lambda lib: lib.nn.functional.gaussian_nll_loss(lib.tensor(x), lib.tensor(x), -lib.ones(3, 4)),
              lambda lib: lib.nn.functional.gaussian_nll_loss(lib.tensor(x), lib.tensor(x), 1.0, reduction="x"),
              lambda lib: lib.nn.functional.triplet_margin_loss(lib.tensor(x), lib.tensor(x), lib.ones(4)),
              lambda lib: lib.nn.functional.triplet_margin_with_distance_loss(lib.tensor(x), lib.tensor(x),
                                                                              lib.tensor(x), margin=-1),
              lambda lib: lib.nn.functional.hinge_embedding_loss(lib.tensor(x), lib.ones(3)),
              lambda lib: lib.nn.functional.multi_margin_loss(
                  lib.tensor(x), lib.tensor([1, 2, 3]), weight=lib.ones(4, requires_grad=True)),
              lambda lib: lib.nn.TripletMarginLoss(margin=-1), lambda lib: lib.nn.MultiMarginLoss(p=3),
              lambda lib: lib.nn.MultiMarginLoss(weight=lib.ones(2, 2))):
        _errors_like_torch(torch, f)


def test_ctc_double_backward_raises_like_torch(torch):
    lp = _arr(4, 2, 3)

    def f(lib):
        x = lib.tensor(lp, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(x.log_softmax(2), lib.tensor([[1, 1], [2, 0]]), (4, 3), (2, 1))
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        g.sum().backward()
    _errors_like_torch(torch, f)


def test_distance_modules(torch):
    for cls, args in (("PairwiseDistance", (1.5,)), ("CosineSimilarity", (0,))):
        tm, nm = getattr(torch.nn, cls)(*args), getattr(ndgrad.nn, cls)(*args)
        assert repr(tm) == repr(nm)
        # ndgrad's F.pairwise_distance (not part of this change) records LinalgVectorNormBackward0, torch NormBackward1
        _same(torch, lambda lib, a, b: (tm if lib is torch else nm)(a, b), [_arr(3, 4), _arr(3, 4)],
              name=cls != "PairwiseDistance")


# ---------------------------------------------------------------------------------------------------- layers
_LAYERS = [
    ("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad2d", ((1, 0, 2, 1),), (1, 2, 4, 4)),
    ("ReflectionPad3d", (1,), (1, 1, 3, 3, 3)), ("ReplicationPad1d", ((0, 2),), (2, 3, 4)),
    ("ReplicationPad2d", (1,), (1, 2, 3, 3)), ("ReplicationPad3d", ((1, 0, 0, 1, 1, 0),), (1, 1, 2, 3, 2)),
    ("ZeroPad1d", (1,), (2, 3)), ("ZeroPad2d", ((1, 2, 0, 1),), (1, 2, 3, 3)), ("ZeroPad3d", (1,), (1, 1, 2, 2, 2)),
    ("ConstantPad1d", (2, 3.5), (2, 3, 4)), ("ConstantPad2d", ((1, 0, 1, 2), -1.0), (2, 3, 3)),
    ("ConstantPad3d", (1, 2.0), (1, 1, 2, 2, 2)), ("CircularPad1d", (1,), (2, 3, 4)),
    ("CircularPad2d", ((1, 0, 2, 1),), (1, 2, 3, 3)), ("CircularPad3d", (1,), (1, 1, 2, 3, 2)),
    ("PixelShuffle", (2,), (2, 8, 3, 2)), ("PixelUnshuffle", (2,), (1, 2, 4, 6)),
    ("Upsample", (None, 2.0), (1, 2, 3, 3)), ("Upsample", ((4, 5), None, "bilinear"), (1, 2, 3, 3)),
    ("Upsample", (None, 1.5, "trilinear", True), (1, 1, 2, 3, 2)), ("UpsamplingNearest2d", (None, 2), (1, 2, 2, 3)),
    ("UpsamplingBilinear2d", ((5, 4),), (1, 2, 3, 3)), ("LocalResponseNorm", (3,), (2, 5, 4)),
    ("LocalResponseNorm", (2, 0.1, 0.5, 2.0), (2, 4, 3, 3)), ("LPPool1d", (2, 3), (2, 3, 7)),
    ("LPPool2d", (1.5, 2, 1, True), (1, 2, 4, 5)),
    ("LPPool3d", (2, (2, 1, 2)), (1, 2, 4, 3, 4)), ("InstanceNorm1d", (3,), (2, 3, 5)),
    ("InstanceNorm2d", (3, 1e-5, 0.1, True), (2, 3, 4, 4)), ("InstanceNorm3d", (2,), (2, 2, 3, 2, 2)),
    ("InstanceNorm1d", (3, 1e-5, 0.1, True, True), (3, 5)), ("RReLU", (0.1, 0.3), (2, 5)),
    ("Conv3d", (4, 2, (2, 3, 1), 1, 1, 1, 2), (1, 4, 3, 4, 3)), ("Conv3d", (2, 3, 2, 1, 1, 1, 1, True, "circular"),
                                                                   (2, 3, 3, 3)),
    ("ConvTranspose3d", (2, 4, 2, 2, 1, 1), (1, 2, 2, 3, 2)), ("MaxPool3d", (2, 1, 1), (1, 2, 3, 4, 3)),
    ("AvgPool3d", (2, 1, 1, True, False), (2, 3, 3, 3)), ("AdaptiveAvgPool3d", ((2, None, 3),), (1, 2, 3, 4, 5)),
    ("AdaptiveMaxPool3d", (2,), (1, 2, 3, 4, 5)), ("Upsample", ((3, 4, 2), None, "area"), (1, 1, 4, 5, 3)),
]


@pytest.mark.parametrize("cls,args,shape", _LAYERS, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(_LAYERS)])
def test_layer_modules(torch, cls, args, shape):
    tm, nm = getattr(torch.nn, cls)(*args).double(), getattr(ndgrad.nn, cls)(*args).double()
    assert repr(tm) == repr(nm)
    assert list(tm.state_dict()) == list(nm.state_dict())
    nm.load_state_dict({k: ndgrad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})  # same weights
    x = _arr(*shape) if not cls.startswith("LPPool") else RNG.random(shape) + 0.1
    if cls == "RReLU":
        tm.eval(), nm.eval()
    _same(torch, lambda lib, x: (tm if lib is torch else nm)(x), [x])


def test_rrelu_training_draws_slopes_in_bounds(torch):
    x = ndgrad.tensor(-np.ones((200, 50)), requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.detach().numpy()
    assert 0.1 <= slopes.min() < 0.12 and 0.28 < slopes.max() <= 0.3 and abs(slopes.mean() - 0.2) < 0.01
    assert fn_name(y.grad_fn) == "RreluWithNoiseBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)  # the gradient uses the same noise
    z = ndgrad.tensor(-np.ones(4))
    F.rrelu_(z)
    np.testing.assert_allclose(z.numpy(), -np.full(4, (1 / 8 + 1 / 3) / 2))
    m = ndgrad.nn.RReLU(inplace=True)
    assert repr(m) == repr(torch.nn.RReLU(inplace=True))


def test_layer_errors_like_torch(torch):
    for f in (lambda lib: lib.nn.InstanceNorm1d(3)(lib.ones(2, 3, 4, 5)),
              lambda lib: lib.nn.InstanceNorm1d(4, affine=True)(lib.ones(2, 3, 4)),
              lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 3, 1)),
              lambda lib: lib.nn.functional.local_response_norm(lib.ones(2, 3), 2),
              lambda lib: lib.nn.functional.pixel_shuffle(lib.ones(2, 3), 2),
              lambda lib: lib.nn.functional.embedding_bag(lib.tensor([1, 2]), lib.ones(4, 2), lib.tensor([0, 1]),
                                                          mode="mean", per_sample_weights=lib.ones(2))):
        _errors_like_torch(torch, f)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ndgrad.nn.InstanceNorm1d(4)(ndgrad.ones(2, 3, 4))
    assert "does not match num_features" in str(w[0].message)


def test_instance_norm_gradgradcheck():
    _gradchecks(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), _arr(2, 3, 4), _arr(3), _arr(3))
    _gradchecks(lambda x: F.local_response_norm(x, 3, alpha=0.5), _arr(2, 4, 3))
    _gradchecks(lambda x: F.lp_pool2d(x, 2.0, 2), RNG.random((1, 2, 4, 4)) + 0.5)
    _gradchecks(lambda x: F.lp_pool3d(x, 1.5, 2), RNG.random((1, 1, 2, 2, 4)) + 0.5)


def test_embedding_bag_module(torch):
    torch.manual_seed(0)
    tm = torch.nn.EmbeddingBag(6, 3, mode="max", padding_idx=1).double()
    nm = ndgrad.nn.EmbeddingBag(6, 3, mode="max", padding_idx=1).double()
    assert repr(tm) == repr(nm) and list(tm.state_dict()) == list(nm.state_dict())
    assert np.all(nm.weight.detach().numpy()[1] == 0)
    nm.load_state_dict({"weight": ndgrad.tensor(tm.weight.detach().numpy())})
    idx, off = [1, 2, 4, 5, 4, 3], [0, 2, 2]
    _same(torch, lambda lib, _: (tm if lib is torch else nm)(lib.tensor(idx), lib.tensor(off)), [np.zeros(1)])
    np.testing.assert_allclose(nm.weight.grad.numpy(), tm.weight.grad.numpy())
    pre = ndgrad.nn.EmbeddingBag.from_pretrained(ndgrad.tensor(_arr(4, 2)), mode="sum")
    assert not pre.weight.requires_grad and repr(pre) == "EmbeddingBag(4, 2, mode='sum')"


# ---------------------------------------------------------------------------------------------------- lazy modules
_LAZY = [("LazyLinear", (3,), (2, 4)), ("LazyConv1d", (4, 3), (2, 3, 6)), ("LazyConv2d", (4, 3, 1, 1), (2, 3, 5, 5)),
         ("LazyConvTranspose1d", (2, 3, 2), (1, 4, 5)), ("LazyConvTranspose2d", (2, 3), (1, 4, 3, 3)),
         ("LazyConv3d", (2, 2), (1, 3, 3, 3, 3)), ("LazyConvTranspose3d", (2, 2, 2), (1, 2, 2, 3, 2)),
         ("LazyBatchNorm1d", (), (4, 3)), ("LazyBatchNorm2d", (), (2, 3, 2, 2)),
         ("LazyBatchNorm3d", (), (2, 2, 2, 2, 2)),
         ("LazyInstanceNorm1d", (), (2, 3, 4)), ("LazyInstanceNorm2d", (), (2, 3, 2, 3)),
         ("LazyInstanceNorm3d", (), (2, 2, 2, 2, 3))]


@pytest.mark.parametrize("cls,args,shape", _LAZY, ids=[c for c, _, _ in _LAZY])
def test_lazy_modules(torch, cls, args, shape):
    tm, nm = getattr(torch.nn, cls)(*args), getattr(ndgrad.nn, cls)(*args)
    assert repr(tm) == repr(nm)
    assert [(k, repr(v) if "Uninit" in type(v).__name__ else None) for k, v in tm.state_dict().items()] == \
        [(k, repr(v) if "Uninit" in type(v).__name__ else None) for k, v in nm.state_dict().items()]
    assert nm.has_uninitialized_params()
    params = list(nm.parameters())
    opt = ndgrad.optim.SGD(params, lr=0.1) if params else None  # built before the shapes are known
    x = _arr(*shape).astype(np.float32)
    tm(torch.tensor(x)), nm(ndgrad.tensor(x))
    assert type(nm).__name__ == type(tm).__name__ and repr(nm) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in nm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    assert not nm.has_uninitialized_params() if hasattr(nm, "has_uninitialized_params") else True
    # same weights as torch's from here on: identical outputs, and the early optimizer steps the same objects
    nm.load_state_dict({k: ndgrad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    _same(torch, lambda lib, x: (tm if lib is torch else nm)(x), [x], rtol=1e-5, atol=1e-5)
    if opt is not None:
        assert all(p is q for p, q in zip(params, nm.parameters()))
        before = [p.detach().numpy().copy() for p in params]
        opt.step()
        assert any(not np.allclose(b, p.detach().numpy()) for b, p in zip(before, params))


def test_uninitialized_parameter_errors_like_torch(torch):
    for f in (lambda lib: lib.nn.LazyLinear(3).weight.shape, lambda lib: lib.nn.LazyLinear(3).weight + 1,
              lambda lib: lib.nn.LazyConv2d(4, 3, groups=2)(lib.ones(1, 3, 5, 5)),
              lambda lib: lib.nn.LazyConv1d(4, 3)(lib.ones(5))):
        _errors_like_torch(torch, f)
    m = ndgrad.nn.LazyLinear(2)
    m.load_state_dict({"weight": ndgrad.ones(2, 5), "bias": ndgrad.zeros(2)})
    assert type(m).__name__ == "LazyLinear" and tuple(m.weight.shape) == (2, 5)  # class changes at forward only
    m(ndgrad.ones(1, 5))
    assert type(m).__name__ == "Linear"


def test_unpool_and_fractional_modules(torch):
    base = RNG.permutation(2 * 3 * 4 * 6).reshape(2, 3, 4, 6).astype(np.float64)
    for cls, args in (("MaxUnpool2d", (2,)), ("MaxUnpool1d", (3, 2, 1)), ("MaxUnpool3d", (2,))):
        assert repr(getattr(torch.nn, cls)(*args)) == repr(getattr(ndgrad.nn, cls)(*args))

    def f(lib, x):
        out, idx = lib.nn.MaxPool2d(2, return_indices=True)(x)
        return lib.nn.MaxUnpool2d(2)(out, idx, output_size=(5, 7))
    _same(torch, f, [base])
    samples = RNG.random((2, 3, 2))

    def g(lib, x):
        return lib.nn.FractionalMaxPool2d((2, 3), output_size=(3, 2), _random_samples=lib.tensor(samples))(x)
    _same(torch, g, [base])
    tm = torch.nn.FractionalMaxPool2d(2, output_ratio=0.5, return_indices=True)
    nm = ndgrad.nn.FractionalMaxPool2d(2, output_ratio=0.5, return_indices=True)
    assert repr(tm) == repr(nm) and list(tm.state_dict()) == list(nm.state_dict())
    out, idx = nm(ndgrad.tensor(base))
    assert tuple(out.shape) == tuple(tm(torch.tensor(base))[0].shape) and str(idx.dtype) == "torch.int64"
    np.testing.assert_array_equal(out.numpy(), base.reshape(6, -1)[np.arange(6)[:, None], idx.numpy().reshape(6, -1)]
                                  .reshape(out.shape))
    t3 = torch.nn.FractionalMaxPool3d(2, output_size=(2, 3, 2), _random_samples=torch.tensor(RNG.random((1, 3, 3))))
    n3 = ndgrad.nn.FractionalMaxPool3d(2, output_size=(2, 3, 2),
                                       _random_samples=ndgrad.tensor(t3._random_samples.numpy()))
    assert repr(t3) == repr(n3) and list(t3.state_dict()) == list(n3.state_dict())
    _same(torch, lambda lib, x: (t3 if lib is torch else n3)(x), [RNG.random((3, 4, 5, 4))])
    for bad in (lambda lib: lib.nn.FractionalMaxPool2d(2), lambda lib: lib.nn.FractionalMaxPool2d(2, 3, 0.5),
                lambda lib: lib.nn.FractionalMaxPool3d(2), lambda lib: lib.nn.FractionalMaxPool3d(2, output_ratio=2.0),
                lambda lib: lib.nn.FractionalMaxPool2d(2, output_ratio=1.5),
                lambda lib: lib.nn.functional.max_unpool2d(lib.ones(1, 1, 2, 2), lib.tensor([[[[0, 1], [2, 99]]]]),
                                                           2),
                lambda lib: lib.nn.functional.max_unpool2d(lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 2, 2).long(), 2,
                                                           output_size=(9, 9))):
        _errors_like_torch(torch, bad)
