"""nn layers (Linear, Bilinear, Dropout, BatchNorm, LayerNorm, GroupNorm, Embedding, one_hot, attention
functional) compared with PyTorch from identical weights: outputs, input and parameter gradients, running
statistics, reprs, errors; float64 gradcheck for the functional forms."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ndgrad
import ndgrad.nn.functional as F
from torchcmp import fn_name, outcome, raises_like_torch

RNG = np.random.default_rng(1234)


def _arr(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def _lib_args(lib, arrays, grad=True):
    out = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            out.append(lib.tensor(a, requires_grad=grad and a.dtype.kind == "f"))
        else:
            out.append(a)
    return out


def _flat(x):
    if isinstance(x, (tuple, list)):
        return [t for v in x for t in _flat(v)]
    return [x] if x is not None and hasattr(x, "shape") else []


def _compare_fn(torch, f, arrays, rtol=1e-7, atol=1e-9):
    """f(lib, *tensors) under torch and ndgrad from the same arrays: outputs and gradients of every input."""
    ta, na = _lib_args(torch, arrays), _lib_args(ndgrad, arrays)
    to, no = _flat(f(torch, *ta)), _flat(f(ndgrad, *na))
    assert len(to) == len(no)
    for a, b in zip(to, no):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=rtol, atol=atol)
    outs_t = [o for o in to if o.requires_grad]
    outs_n = [o for o in no if o.requires_grad]
    if not outs_t:
        return
    ws = [RNG.standard_normal(tuple(o.shape)) for o in outs_t]
    sum(((o * torch.tensor(w)).sum() for o, w in zip(outs_t, ws))).backward()
    sum(((o * ndgrad.tensor(w)).sum() for o, w in zip(outs_n, ws))).backward()
    for a, b in zip(ta, na):
        if hasattr(a, "requires_grad") and a.requires_grad:
            if a.grad is None:
                assert b.grad is None
            else:
                np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=rtol, atol=atol)


def _gradcheck(f, arrays, **kw):
    args = _lib_args(ndgrad, arrays)
    assert ndgrad.autograd.gradcheck(lambda *a: f(ndgrad, *a), tuple(args), **kw)


# -- linear ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("xshape", [(4,), (5, 4), (2, 3, 4), (0, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(torch, xshape, bias):
    arrays = [_arr(*xshape), _arr(3, 4)] + ([_arr(3)] if bias else [])
    _compare_fn(torch, lambda lib, *a: lib.nn.functional.linear(*a), arrays)


@pytest.mark.parametrize("xshape,bshape", [((2, 4), (2, 3)), ((5, 2, 4), (2, 3)), ((2, 4), (1, 3)), ((4,), (1,))])
def test_linear_broadcast_bias(torch, xshape, bshape):
    _compare_fn(torch, lambda lib, *a: lib.nn.functional.linear(*a), [_arr(*xshape), _arr(3, 4), _arr(*bshape)])


def test_linear_grad_fn_names_and_edges(torch):
    for lib_name, lib in (("torch", torch), ("ndgrad", ndgrad)):
        w = lib.ones(3, 4, requires_grad=True)
        b = lib.ones(3, requires_grad=True)
        names = [fn_name(lib.nn.functional.linear(lib.ones(*s), w, bb).grad_fn)
                 for s in ((2, 4), (5, 2, 4), (4,)) for bb in (b, None)]
        assert names[:4] == ["AddmmBackward0", "MmBackward0", "ViewBackward0", "UnsafeViewBackward0"], lib_name
        y = lib.nn.functional.linear(lib.ones(2, 4), w, b)
        nf = [fn_name(f) for f, _ in y.grad_fn.next_functions]
        assert nf == ["AccumulateGrad", None, "TBackward0"], lib_name


def test_linear_backward_results():
    # the weight's gradient is a fresh C-contiguous array of the weight's shape, the bias's summed over rows
    x = ndgrad.randn(5, 4)
    w = ndgrad.randn(3, 4, requires_grad=True)
    b = ndgrad.randn(3, requires_grad=True)
    F.linear(x, w, b).sum().backward()
    assert w.grad.shape == (3, 4) and w.grad._data.flags.c_contiguous
    np.testing.assert_allclose(b.grad.numpy(), np.full(3, 5.0))
    np.testing.assert_allclose(w.grad.numpy(), np.tile(x.numpy().sum(0), (3, 1)), rtol=1e-6)


def test_linear_gradcheck_and_gradgradcheck():
    f = lambda lib, x, w, b: lib.nn.functional.linear(x, w, b)  # noqa: E731
    arrays = [_arr(3, 4), _arr(2, 4), _arr(2)]
    _gradcheck(f, arrays)
    args = _lib_args(ndgrad, arrays)
    assert ndgrad.autograd.gradgradcheck(lambda *a: f(ndgrad, *a), tuple(args))
    _gradcheck(f, [_arr(2, 3, 4), _arr(2, 4), _arr(2)])


def test_linear_errors_like_torch(torch):
    raises_like_torch(lambda lib: lib.nn.functional.linear(lib.ones(2, 5), lib.ones(3, 4), lib.ones(3)), torch,
                      RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x5 and 4x3)")
    raises_like_torch(lambda lib: lib.nn.functional.linear(lib.ones(5, 2, 5), lib.ones(3, 4), lib.ones(3)), torch,
                      RuntimeError)
    raises_like_torch(lambda lib: lib.nn.functional.linear(lib.ones(5), lib.ones(3, 4), lib.ones(3)), torch,
                      RuntimeError)
    raises_like_torch(lambda lib: lib.nn.functional.linear(lib.ones(2, 4), lib.ones(3, 4), lib.ones(4)), torch,
                      RuntimeError, "The expanded size of the tensor (3) must match the existing size (4) at "
                      "non-singleton dimension 1.  Target sizes: [2, 3].  Tensor sizes: [4]")
    raises_like_torch(lambda lib: lib.nn.functional.linear(lib.ones(2, 4), lib.ones(3, 4), lib.ones(3, 3)), torch,
                      RuntimeError)
    raises_like_torch(lambda lib: lib.nn.functional.linear(lib.ones(2, 4), lib.ones(3, 4), lib.ones(1, 2, 3)),
                      torch, RuntimeError)
    raises_like_torch(lambda lib: lib.nn.functional.linear(lib.ones(2, 4, dtype=lib.float64), lib.ones(3, 4),
                                                           lib.ones(3)), torch, RuntimeError)
    raises_like_torch(lambda lib: lib.nn.functional.linear(lib.ones(2, 4), lib.ones(3, 4),
                                                           lib.ones(3, dtype=lib.float64)), torch, RuntimeError,
                      "self and mat2 must have the same dtype, but got Double and Float")
    raises_like_torch(lambda lib: lib.nn.functional.linear(lib.ones(5, 2, 4), lib.ones(3, 4),
                                                           lib.ones(3, dtype=lib.float64)), torch, RuntimeError)


def test_bilinear_matches_torch_and_gradcheck(torch):
    f = lambda lib, a, b, w, bias: lib.nn.functional.bilinear(a, b, w, bias)  # noqa: E731
    _compare_fn(torch, f, [_arr(5, 3), _arr(5, 2), _arr(4, 3, 2), _arr(4)])
    _compare_fn(torch, lambda lib, a, b, w: lib.nn.functional.bilinear(a, b, w), [_arr(2, 5, 3), _arr(2, 5, 2),
                                                                                  _arr(4, 3, 2)])
    _gradcheck(f, [_arr(2, 3), _arr(2, 2), _arr(2, 3, 2), _arr(2)])
    raises_like_torch(lambda lib: lib.nn.functional.bilinear(lib.ones(2, 3), lib.ones(2, 4), lib.ones(5, 3, 5)),
                      torch, RuntimeError, "bilinear(): input2 size does not match weight size: got 4 but expected 5")


# -- Linear / Bilinear modules ----------------------------------------------------------------------------------
def _copy_params(tm, nm):
    tp, np_ = dict(tm.named_parameters()), dict(nm.named_parameters())
    assert list(tp) == list(np_)
    for k in tp:
        assert tuple(tp[k].shape) == tuple(np_[k].shape), k
        assert str(tp[k].dtype) == str(np_[k].dtype), k
        with ndgrad.no_grad():
            np_[k].copy_(ndgrad.tensor(tp[k].detach().numpy()))


def _check_param_grads(tm, nm, rtol=1e-6, atol=1e-7):
    for (k, a), (_, b) in zip(tm.named_parameters(), nm.named_parameters()):
        if a.grad is None:
            assert b.grad is None, k
        else:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=rtol, atol=atol, err_msg=k)


def _module_step(torch, tm, nm, *inputs, rtol=1e-5, atol=1e-5):
    ti = [torch.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a for a in inputs]
    ni = [ndgrad.tensor(a, requires_grad=a.dtype.kind == "f") if isinstance(a, np.ndarray) else a for a in inputs]
    to, no = tm(*ti), nm(*ni)
    np.testing.assert_allclose(no.detach().numpy(), to.detach().numpy(), rtol=rtol, atol=atol)
    w = RNG.standard_normal(tuple(to.shape)).astype(to.detach().numpy().dtype)
    (to * torch.tensor(w)).sum().backward()
    (no * ndgrad.tensor(w)).sum().backward()
    for a, b in zip(ti, ni):
        if hasattr(a, "grad") and a.requires_grad:
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=rtol, atol=atol)
    _check_param_grads(tm, nm, rtol, atol)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_module_matches_torch(torch, bias):
    tm, nm = torch.nn.Linear(4, 3, bias=bias), ndgrad.nn.Linear(4, 3, bias=bias)
    assert repr(nm) == repr(tm) == f"Linear(in_features=4, out_features=3, bias={bias})"
    _copy_params(tm, nm)
    _module_step(torch, tm, nm, _arr(6, 4, dtype=np.float32))
    _module_step(torch, tm, nm, _arr(2, 6, 4, dtype=np.float32))
    tb, nb = torch.nn.Bilinear(3, 2, 4, bias=bias), ndgrad.nn.Bilinear(3, 2, 4, bias=bias)
    assert repr(nb) == repr(tb)
    _copy_params(tb, nb)
    _module_step(torch, tb, nb, _arr(5, 3, dtype=np.float32), _arr(5, 2, dtype=np.float32))


def test_linear_init_bounds():
    ndgrad.manual_seed(0)
    m = ndgrad.nn.Linear(50, 400)
    bound = 1 / math.sqrt(50)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # uniform on [-bound, bound]
    assert abs(w.mean()) < 0.02 * bound
    assert m.weight.dtype == ndgrad.float32 and isinstance(m.weight, ndgrad.nn.Parameter)
    m64 = ndgrad.nn.Linear(3, 2, dtype=ndgrad.float64)
    assert m64.weight.dtype == ndgrad.float64 and m64.bias.dtype == ndgrad.float64
    assert [n for n, _ in ndgrad.nn.Linear(3, 2, bias=False).named_parameters()] == ["weight"]
    bl = ndgrad.nn.Bilinear(16, 3, 100)
    assert np.abs(bl.weight.detach().numpy()).max() <= 0.25 and bl.weight.shape == (100, 16, 3)


# -- dropout -----------------------------------------------------------------------------------------------------
def test_dropout_statistics_and_modes():
    ndgrad.manual_seed(0)
    x = ndgrad.ones(200, 500, requires_grad=True)
    y = F.dropout(x, 0.3)
    v = y.detach().numpy()
    kept = v != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(v[kept], 1 / 0.7, rtol=1e-6)
    assert fn_name(y.grad_fn) == "MulBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), v)  # gradient flows through the kept elements, scaled
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert not F.dropout(x, 1.0).detach().numpy().any()
    a = F.dropout(ndgrad.ones(1000), 0.5).numpy()
    b = F.dropout(ndgrad.ones(1000), 0.5).numpy()
    assert (a != b).any()  # fresh masks
    ndgrad.manual_seed(7)
    c = F.dropout(ndgrad.ones(50), 0.5).numpy()
    ndgrad.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(ndgrad.ones(50), 0.5).numpy(), c)  # reproducible from the seed


def test_dropout_module_and_inplace(torch):
    m, tm = ndgrad.nn.Dropout(0.25), torch.nn.Dropout(0.25)
    assert repr(m) == repr(tm) == "Dropout(p=0.25, inplace=False)"
    x = ndgrad.ones(4, 5)
    m.eval()
    assert m(x) is x
    m.train()
    z = ndgrad.ones(1000)
    r = ndgrad.nn.Dropout(0.5, inplace=True)(z)
    assert r is z and (z.numpy() == 0).any()
    for cls in ("Dropout1d", "Dropout2d", "Dropout3d"):
        assert repr(getattr(ndgrad.nn, cls)(0.1)) == repr(getattr(torch.nn, cls)(0.1))
    raises_like_torch(lambda lib: lib.nn.Dropout(1.5), torch, ValueError,
                      "dropout probability has to be between 0 and 1, but got 1.5")
    raises_like_torch(lambda lib: lib.nn.functional.dropout(lib.ones(2), -0.1), torch, ValueError)


def test_dropout2d_zeroes_whole_channels():
    ndgrad.manual_seed(3)
    y = F.dropout2d(ndgrad.ones(8, 50, 3, 3), 0.5).numpy()
    per_channel = y.reshape(8, 50, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.3 < (per_channel == 0).all(-1).mean() < 0.7
    y1 = F.dropout1d(ndgrad.ones(40, 6), 0.5).numpy()  # unbatched (C, L)
    assert ((y1 == 0).all(-1) | (y1 == 2).all(-1)).all()


# -- batch norm ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 2)])
def test_batch_norm_functional_matches_torch(torch, training, shape):
    rm, rv = _arr(3), np.abs(_arr(3)) + 0.5

    def f(lib, x, w, b):
        m, v = lib.tensor(rm.copy()), lib.tensor(rv.copy())
        y = lib.nn.functional.batch_norm(x, m, v, w, b, training=training, momentum=0.3, eps=1e-3)
        return y, m, v  # the running stats after the in-place update

    _compare_fn(torch, f, [_arr(*shape), _arr(3), _arr(3)])
    _gradcheck(lambda lib, x, w, b: f(lib, x, w, b)[0], [_arr(*shape), _arr(3), _arr(3)])


def test_batch_norm_functional_errors(torch):
    bn = lambda *a, **k: lambda lib: lib.nn.functional.batch_norm(*[lib.ones(*s) if s is not None else None  # noqa
                                                                    for s in a], **k)
    raises_like_torch(bn((2, 3), None, None, training=False), torch, RuntimeError,
                      "running_mean must be defined in evaluation mode")
    raises_like_torch(bn((1, 3), (3,), (3,), training=True), torch, ValueError,
                      "Expected more than 1 value per channel when training, got input size torch.Size([1, 3])")
    raises_like_torch(bn((2, 3, 4), (4,), (4,), training=True), torch, RuntimeError,
                      "running_mean should contain 3 elements not 4")


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 2, 2))])
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
                                {"bias": False}])
def test_batchnorm_module_running_stats(torch, cls, shape, kw):
    tm, nm = getattr(torch.nn, cls)(3, **kw), getattr(ndgrad.nn, cls)(3, **kw)
    assert repr(nm) == repr(tm)
    assert list(nm.state_dict()) == list(tm.state_dict())
    if tm.affine:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(_arr(3, dtype=np.float32)))
            if tm.bias is not None:
                tm.bias.copy_(torch.tensor(_arr(3, dtype=np.float32)))
    _copy_params(tm, nm)
    for _ in range(3):
        for p in list(tm.parameters()) + list(nm.parameters()):
            p.grad = None
        _module_step(torch, tm, nm, (_arr(*shape) * 2 + 1).astype(np.float32), rtol=1e-5, atol=1e-5)
    for (k, a), (_, b) in zip(tm.named_buffers(), nm.named_buffers()):
        assert str(a.dtype) == str(b.dtype), k
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    if tm.track_running_stats:
        assert nm.num_batches_tracked.dtype == ndgrad.int64 and nm.num_batches_tracked.item() == 3
    tm.eval()
    nm.eval()
    for p in list(tm.parameters()) + list(nm.parameters()):
        p.grad = None
    _module_step(torch, tm, nm, _arr(*shape).astype(np.float32), rtol=1e-5, atol=1e-5)


def test_batchnorm_input_dim_errors(torch):
    raises_like_torch(lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 3, 4, 5)), torch, ValueError,
                      "expected 2D or 3D input (got 4D input)")
    raises_like_torch(lambda lib: lib.nn.BatchNorm2d(3)(lib.ones(2, 3, 4)), torch, ValueError,
                      "expected 4D input (got 3D input)")


# -- layer norm / group norm -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("ns", [(4,), (3, 4)])
def test_layer_norm_functional(torch, ns):
    f = lambda lib, x, w, b: lib.nn.functional.layer_norm(x, ns, w, b, 1e-4)  # noqa: E731
    _compare_fn(torch, f, [_arr(2, 3, 4), _arr(*ns), _arr(*ns)])
    _compare_fn(torch, lambda lib, x: lib.nn.functional.layer_norm(x, ns), [_arr(2, 3, 4)])
    _gradcheck(f, [_arr(2, 3, 4), _arr(*ns), _arr(*ns)])
    raises_like_torch(lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 3, 4), (3,)), torch, RuntimeError,
                      "Given normalized_shape=[3], expected input with shape [*, 3], but got input of size[2, 3, 4]")


@pytest.mark.parametrize("shape,groups", [((2, 6), 3), ((2, 6, 5), 2), ((3, 4, 2, 3), 4), ((2, 4, 3), 1)])
def test_group_norm_functional(torch, shape, groups):
    c = shape[1]
    f = lambda lib, x, w, b: lib.nn.functional.group_norm(x, groups, w, b, 1e-4)  # noqa: E731
    _compare_fn(torch, f, [_arr(*shape), _arr(c), _arr(c)])
    _compare_fn(torch, lambda lib, x: lib.nn.functional.group_norm(x, groups), [_arr(*shape)])
    _gradcheck(f, [_arr(*shape), _arr(c), _arr(c)])


def test_group_norm_errors(torch):
    raises_like_torch(lambda lib: lib.nn.functional.group_norm(lib.ones(2, 6, 4), 4), torch, RuntimeError,
                      "Expected number of channels in input to be divisible by num_groups, but got input of shape "
                      "[2, 6, 4] and num_groups=4")
    raises_like_torch(lambda lib: lib.nn.GroupNorm(4, 6), torch, ValueError,
                      "num_channels (6) must be divisible by num_groups (4)")


@pytest.mark.parametrize("kw", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-3}])
def test_layernorm_module(torch, kw):
    tm, nm = torch.nn.LayerNorm((3, 4), **kw), ndgrad.nn.LayerNorm((3, 4), **kw)
    assert repr(nm) == repr(tm)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(_arr(3, 4, dtype=np.float32)))
    _copy_params(tm, nm)
    _module_step(torch, tm, nm, _arr(2, 3, 4, dtype=np.float32), rtol=1e-5, atol=1e-5)
    assert repr(ndgrad.nn.LayerNorm(5)) == repr(torch.nn.LayerNorm(5))


@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"bias": False}])
def test_groupnorm_module(torch, kw):
    tm, nm = torch.nn.GroupNorm(2, 4, **kw), ndgrad.nn.GroupNorm(2, 4, **kw)
    assert repr(nm) == repr(tm)
    if tm.weight is not None:
        with torch.no_grad():
            tm.weight.copy_(torch.tensor(_arr(4, dtype=np.float32)))
    _copy_params(tm, nm)
    _module_step(torch, tm, nm, _arr(3, 4, 5, dtype=np.float32), rtol=1e-5, atol=1e-5)


# -- embedding ------------------------------------------------------------------------------------------------------
IDX = np.array([[0, 2, 4, 2], [1, 0, 3, 4]])


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                                {"padding_idx": 0, "scale_grad_by_freq": True}])
def test_embedding_functional(torch, kw):
    _compare_fn(torch, lambda lib, w, i: lib.nn.functional.embedding(i, w, **kw), [_arr(5, 3), IDX])
    if not kw:  # padding_idx and scale_grad_by_freq change the gradient on purpose
        _gradcheck(lambda lib, w: lib.nn.functional.embedding(lib.tensor(IDX), w, **kw), [_arr(5, 3)])


def test_embedding_max_norm_renormalises_in_place(torch):
    w0 = _arr(5, 3) * 3
    res = []
    for lib in (torch, ndgrad):
        w = lib.tensor(w0.copy())
        y = lib.nn.functional.embedding(lib.tensor([[0, 1], [1, 3]]), w, max_norm=1.5)
        res.append((y.numpy(), w.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-6)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-6)


def test_embedding_errors(torch):
    raises_like_torch(lambda lib: lib.nn.functional.embedding(lib.tensor([5]), lib.ones(3, 2)), torch, IndexError,
                      "index out of range in self")
    raises_like_torch(lambda lib: lib.nn.functional.embedding(lib.tensor([1.]), lib.ones(3, 2)), torch,
                      RuntimeError)
    raises_like_torch(lambda lib: lib.nn.Embedding(3, 2, padding_idx=3), torch, AssertionError,
                      "Padding_idx must be within num_embeddings")


def test_embedding_module(torch):
    for kw in ({}, {"padding_idx": 1}, {"max_norm": 1.0, "norm_type": 1.0, "scale_grad_by_freq": True}):
        assert repr(ndgrad.nn.Embedding(10, 3, **kw)) == repr(torch.nn.Embedding(10, 3, **kw))
    ndgrad.manual_seed(0)
    e = ndgrad.nn.Embedding(300, 40, padding_idx=1)
    w = e.weight.detach().numpy()
    assert not w[1].any() and abs(w.std() - 1) < 0.05  # N(0, 1) with the padding row zero
    tm, nm = torch.nn.Embedding(5, 3, padding_idx=2), ndgrad.nn.Embedding(5, 3, padding_idx=2)
    _copy_params(tm, nm)
    to, no = tm(torch.tensor(IDX)), nm(ndgrad.tensor(IDX))
    np.testing.assert_allclose(no.detach().numpy(), to.detach().numpy())
    to.pow(2).sum().backward()
    no.pow(2).sum().backward()
    np.testing.assert_allclose(nm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-6)
    assert not nm.weight.grad.numpy()[2].any()
    pre = _arr(4, 2)
    te, ne = torch.nn.Embedding.from_pretrained(torch.tensor(pre)), ndgrad.nn.Embedding.from_pretrained(
        ndgrad.tensor(pre))
    assert repr(ne) == repr(te) and ne.weight.requires_grad is False
    np.testing.assert_array_equal(ne(ndgrad.tensor([3, 0])).numpy(), pre[[3, 0]])
    assert ndgrad.nn.Embedding.from_pretrained(ndgrad.tensor(pre), freeze=False).weight.requires_grad


# -- one_hot ----------------------------------------------------------------------------------------------------------
def test_one_hot(torch):
    for args in (([0, 2, 1],), ([[0, 2], [1, 1]], 4), ([3],)):
        a = torch.nn.functional.one_hot(torch.tensor(args[0]), *args[1:])
        b = F.one_hot(ndgrad.tensor(args[0]), *args[1:])
        assert str(b.dtype) == str(a.dtype) and tuple(b.shape) == tuple(a.shape)
        np.testing.assert_array_equal(b.numpy(), a.numpy())
    for bad in (lambda lib: lib.nn.functional.one_hot(lib.tensor([0, 2]), 2),
                lambda lib: lib.nn.functional.one_hot(lib.tensor([0, -1])),
                lambda lib: lib.nn.functional.one_hot(lib.tensor([0., 1.]))):
        assert outcome(bad, ndgrad) == outcome(bad, torch) is not None


# -- scaled dot-product attention -------------------------------------------------------------------------------
SDPA_MASK = RNG.random((3, 5)) > 0.3
SDPA_MASK[:, 0] = True


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}, {"attn_mask": "bool"},
                                {"attn_mask": "float"}])
def test_sdpa_matches_torch(torch, kw):
    def f(lib, q, k, v):
        extra = dict(kw)
        if extra.get("attn_mask") == "bool":
            extra["attn_mask"] = lib.tensor(SDPA_MASK)
        elif extra.get("attn_mask") == "float":
            extra["attn_mask"] = lib.tensor(np.where(SDPA_MASK, 0.5, -1.0))
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, **extra)

    arrays = [_arr(2, 3, 4), _arr(2, 5, 4), _arr(2, 5, 6)]
    _compare_fn(torch, f, arrays)
    _gradcheck(f, arrays)


def test_sdpa_errors_and_dropout(torch):
    raises_like_torch(lambda lib: lib.nn.functional.scaled_dot_product_attention(
        lib.ones(2, 3, 4), lib.ones(2, 3, 4), lib.ones(2, 3, 4), is_causal=True, attn_mask=lib.ones(3, 3).bool()),
        torch, RuntimeError, "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    raises_like_torch(lambda lib: lib.nn.functional.scaled_dot_product_attention(
        lib.ones(4), lib.ones(2, 4), lib.ones(2, 4)), torch, RuntimeError)
    ndgrad.manual_seed(0)
    q = ndgrad.randn(1, 4, 8)
    out = F.scaled_dot_product_attention(q, q, ndgrad.eye(4).reshape(1, 4, 4), dropout_p=0.5).numpy()
    # with v = I the output rows are the attention rows: dropped entries are 0, the others scaled by 2
    assert (out == 0).any() and (out >= 0).all()


def test_linear_forward_mode_matches_torch(torch):
    x, w, b, tx, tw = _arr(2, 3), _arr(4, 3), _arr(4), _arr(2, 3), _arr(4, 3)
    res = []
    for lib in (torch, ndgrad):
        fw = lib.autograd.forward_ad
        with fw.dual_level():
            y = lib.nn.functional.linear(fw.make_dual(lib.tensor(x), lib.tensor(tx)),
                                         fw.make_dual(lib.tensor(w), lib.tensor(tw)), lib.tensor(b))
            res.append(fw.unpack_dual(y).tangent.numpy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-10)


def test_embedding_module_max_norm_with_int32_indices(torch):
    tm, nm = torch.nn.Embedding(5, 3, max_norm=0.5), ndgrad.nn.Embedding(5, 3, max_norm=0.5)
    _copy_params(tm, nm)
    idx = np.array([[0, 1], [1, 2]], np.int32)
    to, no = tm(torch.tensor(idx)), nm(ndgrad.tensor(idx))
    np.testing.assert_allclose(no.detach().numpy(), to.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(nm.weight.detach().numpy(), tm.weight.detach().numpy(), rtol=1e-5)
    to.sum().backward()
    no.sum().backward()
    np.testing.assert_allclose(nm.weight.grad.numpy(), tm.weight.grad.numpy())


def test_alpha_dropout_statistics_and_modes(torch):
    ndgrad.manual_seed(0)
    x = ndgrad.randn(200000)
    y = F.alpha_dropout(x, 0.3, True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01  # keeps zero mean, unit variance
    alpha = 1.7580993408473766
    a = 1 / math.sqrt((alpha ** 2 * 0.3 + 1) * 0.7)
    dropped = np.isclose(y, -alpha * a + alpha * a * 0.3)
    assert abs(dropped.mean() - 0.3) < 0.01
    assert F.alpha_dropout(x, 0.3) is x and F.alpha_dropout(x, 0.0, True) is x
    xs = ndgrad.randn(4, 50, 3)
    yf = F.feature_alpha_dropout(xs, 0.5, True).numpy()
    const = np.isclose(yf, yf[..., :1]).all(-1)  # dropped channels are constant along the last dim
    assert 0.3 < const.mean() < 0.7
    for cls in ("AlphaDropout", "FeatureAlphaDropout"):
        assert repr(getattr(ndgrad.nn, cls)(0.2)) == repr(getattr(torch.nn, cls)(0.2))
    m = ndgrad.nn.AlphaDropout(0.2).eval()
    assert m(x) is x


def test_dropout_gradcheck_with_a_fixed_mask():
    def f(x):
        ndgrad.manual_seed(5)  # the same mask at every evaluation
        return F.dropout(x, 0.4), F.dropout2d(x.reshape(2, 3, 2, 1), 0.5), F.alpha_dropout(x, 0.3, True)
    x = ndgrad.randn(6, 2, dtype=ndgrad.float64, requires_grad=True)
    assert ndgrad.autograd.gradcheck(f, (x,))


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_norm_backward_takes_the_forwards_xhat(monkeypatch, affine, dtype):
    """An affine layer/batch norm's backward uses the x-hat and 1/std its forward computed (no rsqrt of its own),
    with the bits of computing them again; without weight and bias (the output is x-hat itself, which may be
    changed in place) nothing is kept."""
    from ndgrad._ops import normalization as N
    rng = np.random.default_rng(5)
    calls = []
    inner = N.rsqrt
    monkeypatch.setattr(N, "rsqrt", lambda a: calls.append(1) or inner(a))

    def grads(keep):
        calls.clear()
        x = ndgrad.tensor((rng.standard_normal((4, 3, 6)) * 2 + 1).astype(dtype), requires_grad=True)
        w = ndgrad.tensor(rng.standard_normal(6).astype(dtype), requires_grad=True) if affine else None
        y = F.layer_norm(x * 1.0, (6,), w, w)
        if not affine:
            y.mul_(3.0)  # the output (x-hat itself) changed in place: the backward must not read it
        bw = ndgrad.tensor(rng.standard_normal(3).astype(dtype), requires_grad=True) if affine else None
        z = F.batch_norm(x * 2.0, None, None, bw, bw, training=True)
        (y.sum() + (z * z).sum()).backward()
        return [t.grad.numpy().tobytes() for t in (x, w, bw) if t is not None], len(calls)

    kept, n_kept = grads(True)
    assert n_kept == (0 if affine else 2)  # (affine: two formulas each for the two norms; else one each)
    monkeypatch.setattr(N._NORM, "keep", lambda x, key, value: None)
    rng = np.random.default_rng(5)
    again, n_again = grads(False)
    assert n_again == (4 if affine else 2) and kept == again
    assert not N._NORM.table


def test_norm_kept_xhat_is_dropped_by_a_forward_that_keeps_nothing():
    """An entry from an affine forward would be stale after an in-place change of the input: a later forward on the
    same array that keeps nothing (no weight, or no grad mode) forgets it, so its backward computes x-hat."""
    from ndgrad._ops import normalization as N
    x = ndgrad.tensor(np.random.default_rng(1).standard_normal((5, 8)).astype(np.float32))
    w = ndgrad.ones(8, requires_grad=True)
    y = F.layer_norm(x, (8,), w)
    assert len(N._NORM.table) == 1
    x.add_(1.0)
    with ndgrad.no_grad():
        F.layer_norm(x, (8,), w)
    assert not N._NORM.table
    y = F.layer_norm(x, (8,), w)
    x.mul_(2.0)
    x.requires_grad_(True)
    y2 = F.layer_norm(x, (8,))
    assert not N._NORM.table
    y2.sum().backward()
    ref = ndgrad.tensor(x.detach().numpy(), requires_grad=True)
    F.layer_norm(ref, (8,)).sum().backward()
    assert np.array_equal(x.grad.numpy(), ref.grad.numpy()) and y is not None
