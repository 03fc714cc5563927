"""torch.fft, complex views, complex/polar, windows, stft/istft: what the op table (tests/opinfo_fft.py) does not
check — exact error texts, warnings, dtypes, the chain of nodes, memory sharing of views, complex leaves under
gradcheck, lazy loading. torch is the oracle throughout."""
from __future__ import annotations

import itertools
import subprocess
import sys
import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd import gradcheck, gradgradcheck
from torchcmp import outcome

pytestmark = pytest.mark.filterwarnings("ignore:A window was not provided", "ignore:stft with return_complex=False",
                                        "ignore:The length of signal is shorter")

ONE = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
ND = ["fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn"]
TWO = ["fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2"]


def _np(t):
    if hasattr(t, "resolve_conj"):
        return t.detach().resolve_conj().numpy()
    return t.detach().numpy()


def _chain(t) -> list:
    """The node names from the output back to the leaf (first edge each time)."""
    out, fn = [], t.grad_fn
    while fn is not None:
        out.append(type(fn).__name__)
        nxt = [f for f, _ in fn.next_functions if f is not None]
        fn = nxt[0] if nxt else None
    return out


def _same_outcome(f, torch):
    """f(lib) raises the same class and message under both libraries, or returns equal tensors."""
    want, got = outcome(f, torch), outcome(f, ndgrad)
    assert got == want
    if want is None:
        a, b = f(torch), f(ndgrad)
        assert str(a.dtype) == str(b.dtype) and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(_np(b), _np(a), rtol=1e-5, atol=1e-6)


# -- the transforms: values, dtypes, gradients and node chains over a grid -----------------------------------------
def _grid():
    for name in ONE:
        for shape, cplx, n, norm in itertools.product([(5,), (6,), (2, 4)], (False, True), (None, 3, 8),
                                                      (None, "ortho", "forward")):
            yield name, shape, cplx, dict(n=n, norm=norm)
    for name in ND + TWO:
        for shape, cplx, s in itertools.product([(3, 4), (2, 3, 5)], (False, True), (None, (2, 5), (-1, 3))):
            yield name, shape, cplx, dict(s=s, norm="backward")


@pytest.mark.parametrize("name", ONE + ND + TWO)
def test_transform_grid_against_torch(name, torch):
    """Values, dtypes, the whole chain of node names and the gradients (complex weights on complex outputs, so
    imaginary parts count) for real and complex inputs, cropped and padded sizes and every norm."""
    rng = np.random.default_rng(0)
    checked = 0
    for nm, shape, cplx, kw in _grid():
        if nm != name:
            continue
        a = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if cplx else 0)
        xt, xn = torch.from_numpy(a.copy()).requires_grad_(), ndgrad.from_numpy(a.copy()).requires_grad_()
        fn_t, fn_n = getattr(torch.fft, name), getattr(ndgrad.fft, name)
        want = outcome(lambda lib: (fn_t if lib is torch else fn_n)(xt if lib is torch else xn, **kw), torch)
        if want is not None:  # e.g. rfft of a complex input: same error in ndgrad
            assert outcome(lambda lib: fn_n(xn, **kw), ndgrad) == want
            continue
        yt, yn = fn_t(xt, **kw), fn_n(xn, **kw)
        assert str(yn.dtype) == str(yt.dtype) and tuple(yn.shape) == tuple(yt.shape)
        np.testing.assert_allclose(_np(yn), _np(yt), rtol=1e-10, atol=1e-10)
        assert _chain(yn) == _chain(yt), (name, shape, cplx, kw)
        w = rng.standard_normal(tuple(yt.shape)) + (1j * rng.standard_normal(tuple(yt.shape)) if yt.is_complex() else 0)
        (yt * torch.from_numpy(w)).real.sum().backward()
        (yn * ndgrad.from_numpy(w)).real.sum().backward()
        np.testing.assert_allclose(xn.grad.numpy(), _np(xt.grad), rtol=1e-10, atol=1e-10)
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("name", ["fft", "ifft", "irfft", "hfft", "fftn", "hfftn", "irfftn", "ifft2"])
def test_gradcheck_complex_leaves(name):
    """gradcheck and gradgradcheck with complex leaves directly (the table builds complex values from reals)."""
    rng = np.random.default_rng(1)
    shape = (2, 3) if name.endswith(("n", "2")) else (5,)
    z = ndgrad.tensor(rng.standard_normal(shape) + 1j * rng.standard_normal(shape), requires_grad=True)
    for kw in ({}, {"norm": "ortho"}, {"norm": "forward"}):
        f = lambda z: getattr(ndgrad.fft, name)(z, **kw)  # noqa: E731
        assert gradcheck(f, (z,))
        assert gradgradcheck(f, (z,))


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float32", "float64", "complex64", "float16"])
def test_result_dtypes(dtype, torch):
    a = np.arange(6).astype(dtype)
    for name in ONE + ND:
        _same_outcome(lambda lib: getattr(lib.fft, name)(lib.from_numpy(a.copy())), torch)
    _same_outcome(lambda lib: lib.fft.fft2(lib.from_numpy(a.reshape(2, 3).copy())), torch)


ERRORS = [
    lambda lib, x: lib.fft.fft(x, norm="bad"),
    lambda lib, x: lib.fft.fft(x, n=0),
    lambda lib, x: lib.fft.ifft(x, n=-1),
    lambda lib, x: lib.fft.fft(x, dim=2),
    lambda lib, x: lib.fft.fft(x, dim=(0,)),
    lambda lib, x: lib.fft.fft(x, n=3.5),
    lambda lib, x: lib.fft.fft(x.sum()),
    lambda lib, x: lib.fft.rfft(x * 1j),
    lambda lib, x: lib.fft.ihfft(x * 1j),
    lambda lib, x: lib.fft.rfftn(x * 1j, dim=(0,), s=(1, 2)),
    lambda lib, x: lib.fft.ihfftn(x * 1j),
    lambda lib, x: lib.fft.irfft(x[:, :1]),
    lambda lib, x: lib.fft.hfft(x[:, :1] * 1j),
    lambda lib, x: lib.fft.fftn(x, dim=(0, 0)),
    lambda lib, x: lib.fft.fftn(x, dim=(0, -2)),
    lambda lib, x: lib.fft.fftn(x, s=(3,), dim=(0, 1)),
    lambda lib, x: lib.fft.fftn(x, s=(3, 0)),
    lambda lib, x: lib.fft.fftn(x, s=(3, 4, 5)),
    lambda lib, x: lib.fft.rfftn(x, dim=()),
    lambda lib, x: lib.fft.irfftn(x, dim=()),
    lambda lib, x: lib.fft.hfftn(x, dim=()),
    lambda lib, x: lib.fft.ihfftn(x, dim=()),
    lambda lib, x: lib.fft.fft2(x[0]),
    lambda lib, x: lib.fft.rfft2(x, dim=None),
    lambda lib, x: lib.fft.fft(x[:, :0]),
    lambda lib, x: lib.fft.fftfreq(-1),
    lambda lib, x: lib.fft.fftfreq(3, dtype=lib.int64),
    lambda lib, x: lib.fft.rfftfreq(3, dtype=lib.complex64),
    lambda lib, x: lib.fft.fft(x.half()),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_error_messages(k, torch):
    a = np.random.default_rng(k).standard_normal((4, 5))
    f = ERRORS[k]
    want = outcome(lambda lib: f(lib, lib.from_numpy(a.copy())), torch)
    assert want is not None
    assert outcome(lambda lib: f(lib, lib.from_numpy(a.copy())), ndgrad) == want


def test_fftn_edge_cases(torch):
    for f in (lambda lib: lib.fft.fftn(lib.tensor(1.5)), lambda lib: lib.fft.fftn(lib.ones(2, 3), dim=()),
              lambda lib: lib.fft.fftn(lib.ones(2, 3), s=(-1, 5)), lambda lib: lib.fft.fftfreq(0),
              lambda lib: lib.fft.rfftfreq(0), lambda lib: lib.fft.fftfreq(5, 0.1, dtype=lib.float64),
              lambda lib: lib.fft.rfftfreq(-1), lambda lib: lib.fft.fftshift(lib.arange(10).reshape(2, 5)),
              lambda lib: lib.fft.ifftshift(lib.arange(10).reshape(2, 5), dim=(1,))):
        _same_outcome(f, torch)


# -- complex views -----------------------------------------------------------------------------------------------
def test_view_as_real_shares_memory_and_version():
    z = ndgrad.tensor([1 + 2j, 3 - 4j])
    r = ndgrad.view_as_real(z)
    assert r.shape == (2, 2) and r.dtype == ndgrad.float32
    r[0, 1] = 7.0
    assert z[0].item() == 1 + 7j and z._version == r._version == 1
    c = ndgrad.view_as_complex(r)
    c[1] = 5j
    assert r[1].tolist() == [0.0, 5.0] and z[1].item() == 5j


def test_view_as_real_inplace_with_grad(torch):
    """An in-place op through view_as_real of a non-leaf: CopySlices and gradients as torch's."""
    res = []
    for lib in (torch, ndgrad):
        a = lib.tensor([1.0, -2.0, 0.5], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.3, 0.7, -1.0], dtype=lib.float64, requires_grad=True)
        z = lib.complex(a, b) * (1 + 1j)
        r = lib.view_as_real(z)
        r[:, 0] *= 3
        loss = (z * (0.5 - 2j)).real.sum() + (r ** 2).sum()
        loss.backward()
        res.append((a.grad.numpy(), b.grad.numpy(), type(z.grad_fn).__name__))
    np.testing.assert_allclose(res[1][0], res[0][0])
    np.testing.assert_allclose(res[1][1], res[0][1])
    assert res[1][2] == res[0][2]


VIEW_ERRORS = [
    lambda lib: lib.view_as_real(lib.ones(3)),
    lambda lib: lib.view_as_complex(lib.ones(3, 3)),
    lambda lib: lib.view_as_complex(lib.ones(2, 3).t()),
    lambda lib: lib.view_as_complex(lib.ones(4, 4)[:, ::2]),
    lambda lib: lib.view_as_complex(lib.ones(3, 3)[:, :2]),
    lambda lib: lib.view_as_complex(lib.ones(7)[1:].reshape(3, 2)),
    lambda lib: lib.view_as_complex(lib.ones(3, 2, dtype=lib.int64)),
    lambda lib: lib.view_as_complex(lib.tensor(1.0)),
    lambda lib: lib.complex(lib.ones(2), lib.ones(2, dtype=lib.float64)),
    lambda lib: lib.complex(lib.ones(2, dtype=lib.int64), lib.ones(2, dtype=lib.int64)),
    lambda lib: lib.complex(lib.ones(2), 1.0),
    lambda lib: lib.complex(lib.ones(2, 3), lib.ones(3, 2)),
    lambda lib: lib.complex(lib.ones(2, dtype=lib.complex64), lib.ones(2, dtype=lib.complex64)),
    lambda lib: lib.polar(lib.ones(2, dtype=lib.float64), lib.ones(2)),
]


@pytest.mark.parametrize("k", range(len(VIEW_ERRORS)))
def test_view_and_constructor_errors(k, torch):
    want = outcome(VIEW_ERRORS[k], torch)
    assert want is not None
    assert outcome(VIEW_ERRORS[k], ndgrad) == want


def test_complex_polar_special_values(torch):
    for f in (lambda lib: lib.complex(lib.tensor([float("inf"), 1.0]), lib.tensor([0.0, float("nan")])),
              lambda lib: lib.polar(lib.tensor([float("inf"), 2.0]), lib.tensor([0.0, 1.0])),
              lambda lib: lib.view_as_complex(lib.arange(8.0).reshape(2, 2, 2)[:, 1]),
              lambda lib: lib.view_as_real(lib.tensor(1 + 2j))):
        want, got = f(torch), f(ndgrad)
        assert str(got.dtype) == str(want.dtype)
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6)


def test_view_as_complex_float16_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="complex32"):
        ndgrad.view_as_complex(ndgrad.ones(3, 2, dtype=ndgrad.float16))


# -- windows -------------------------------------------------------------------------------------------------------
WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


@pytest.mark.parametrize("name", WINDOWS)
def test_window_errors_and_dtypes(name, torch):
    for f in (lambda lib: getattr(lib, name)(-1), lambda lib: getattr(lib, name)(3, dtype=lib.int64),
              lambda lib: getattr(lib, name)(3, dtype=lib.complex64), lambda lib: getattr(lib, name)(2.5),
              lambda lib: getattr(lib, name)(1, dtype=lib.complex64), lambda lib: getattr(lib, name)(0),
              lambda lib: getattr(lib, name)(9, False, dtype=lib.float64)):
        _same_outcome(f, torch)
    t, n = getattr(torch, name)(4, requires_grad=True), getattr(ndgrad, name)(4, requires_grad=True)
    assert n.requires_grad and t.requires_grad and n.is_leaf


@pytest.mark.parametrize("name", WINDOWS)
def test_window_float16_and_float32(name, torch):
    for n, periodic in itertools.product((2, 5, 16), (True, False)):
        for dt, tol in (("float16", 2e-3), ("float32", 1e-6)):
            a = getattr(torch, name)(n, periodic, dtype=getattr(torch, dt))
            b = getattr(ndgrad, name)(n, periodic, dtype=getattr(ndgrad, dt))
            assert str(a.dtype) == str(b.dtype)
            np.testing.assert_allclose(b.numpy().astype(float), a.numpy().astype(float), atol=tol)


# -- stft / istft ---------------------------------------------------------------------------------------------------
def _stft_cases():
    yield dict(return_complex=True)
    yield dict(return_complex=True, center=False, hop_length=3)
    yield dict(return_complex=True, normalized=True, onesided=False)
    yield dict(return_complex=True, win_length=6, window="hann6")
    yield dict(return_complex=True, window="hann", pad_mode="constant")
    yield dict(return_complex=False, window="hann")


@pytest.mark.parametrize("batched", [False, True])
def test_stft_chain_values_and_grads(batched, torch):
    rng = np.random.default_rng(2)
    for kw in _stft_cases():
        a = rng.standard_normal((2, 20) if batched else (20,))
        res = []
        for lib in (torch, ndgrad):
            x = lib.from_numpy(a.copy()).requires_grad_()
            k = dict(kw)
            win = k.pop("window", None)
            if win is not None:
                win = (lib.hann_window(6, dtype=lib.float64) if win == "hann6"
                       else lib.hann_window(8, dtype=lib.float64)).requires_grad_()
            y = lib.stft(x, 8, window=win, **k)
            w = np.random.default_rng(3).standard_normal(tuple(y.shape))
            (y * lib.from_numpy(w)).real.sum().backward() if y.is_complex() else (y * lib.from_numpy(w)).sum().backward()
            res.append((y, _chain(y), x.grad, None if win is None else win.grad))
        (yt, ct, gt, wt), (yn, cn, gn, wn) = res
        assert cn[:3] == ct[:3], kw  # output node and the two before it
        assert str(yn.dtype) == str(yt.dtype)
        np.testing.assert_allclose(_np(yn), _np(yt), atol=1e-10)
        np.testing.assert_allclose(gn.numpy(), gt.numpy(), atol=1e-10)
        if wt is not None:
            np.testing.assert_allclose(wn.numpy(), wt.numpy(), atol=1e-10)


def test_stft_warnings(torch):
    import ndgrad._ops.spectral as Sp
    Sp._warned.clear()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ndgrad.stft(ndgrad.randn(16), 4, return_complex=True)
        ndgrad.stft(ndgrad.randn(16), 4, window=ndgrad.ones(4), return_complex=False)
        ndgrad.istft(ndgrad.randn(3, 5, dtype=ndgrad.complex64), 4)
        ndgrad.istft(ndgrad.randn(3, 5, dtype=ndgrad.complex64), 4, window=ndgrad.ones(4), length=30)
    msgs = [str(m.message) for m in w]
    assert msgs[0].startswith("A window was not provided. A rectangular window will be applied,which")
    assert msgs[1].startswith("stft with return_complex=False is deprecated.")
    assert msgs[2].startswith("A window was not provided. A rectangular window will be applied.Please")
    assert msgs[3].startswith("The length of signal is shorter than the length parameter.")


STFT_ERRORS = [
    lambda lib, x: lib.stft(x, 8),
    lambda lib, x: lib.stft(x, 30, center=False, return_complex=True),
    lambda lib, x: lib.stft(x, 8, hop_length=0, return_complex=True),
    lambda lib, x: lib.stft(x, 8, win_length=9, return_complex=True),
    lambda lib, x: lib.stft(x, 8, window=lib.ones(5, dtype=lib.float64), return_complex=True),
    lambda lib, x: lib.stft(x, 0, return_complex=True),
    lambda lib, x: lib.stft(x.reshape(1, 2, 10), 4, return_complex=True),
    lambda lib, x: lib.stft(x * 1j, 8, onesided=True, return_complex=True),
    lambda lib, x: lib.stft(x * 1j, 8, hop_length=0),
    lambda lib, x: lib.stft(x, 8, pad_mode="bad", return_complex=True),
    lambda lib, x: lib.stft(lib.arange(10), 4, return_complex=True),
    lambda lib, x: lib.stft(x.half(), 4, return_complex=True),
    lambda lib, x: lib.istft(x.reshape(4, 5), 8),
    lambda lib, x: lib.istft(x.reshape(4, 5) * 1j, 8, onesided=False),
    lambda lib, x: lib.istft(x.reshape(4, 5) * 1j, 10),
    lambda lib, x: lib.istft(x.reshape(5, 4) * 1j, 8, hop_length=9),
    lambda lib, x: lib.istft(x.reshape(5, 4) * 1j, 8, win_length=9),
    lambda lib, x: lib.istft(x.reshape(5, 4) * 1j, 8, window=lib.ones(5)),
    lambda lib, x: lib.istft(x.reshape(1, 1, 5, 4) * 1j, 8),
    lambda lib, x: lib.istft(x[:0].reshape(5, 0) * 1j, 8),
    lambda lib, x: lib.istft(x.reshape(5, 4) * 1j, 8, return_complex=True),
    lambda lib, x: lib.istft(x.reshape(5, 4) * 1j, 8, window=lib.ones(8, dtype=lib.complex64)),
    lambda lib, x: lib.istft(x.reshape(5, 4) * 1j, 8, window=lib.zeros(8, dtype=lib.float64)),
]


@pytest.mark.parametrize("k", range(len(STFT_ERRORS)))
def test_stft_istft_errors(k, torch):
    a = np.random.default_rng(k).standard_normal(20)
    f = STFT_ERRORS[k]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = outcome(lambda lib: f(lib, lib.from_numpy(a.copy())), torch)
        assert want is not None
        assert outcome(lambda lib: f(lib, lib.from_numpy(a.copy())), ndgrad) == want


def test_istft_inverts_stft_and_matches_torch(torch):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 33))
    for kw in (dict(hop_length=2), dict(hop_length=4, normalized=True), dict(center=False, hop_length=2),
               dict(hop_length=3, win_length=6)):
        outs = []
        for lib in (torch, ndgrad):
            wl = kw.get("win_length", 8)
            w = lib.hann_window(wl, dtype=lib.float64) + 0.1 if not kw.get("center", True) else \
                lib.hann_window(wl, dtype=lib.float64)
            x = lib.from_numpy(a.copy())
            spec = lib.stft(x, 8, window=w, return_complex=True, **kw).detach().requires_grad_()
            y = lib.istft(spec, 8, window=w, length=33 if kw.get("center", True) else None, **kw)
            (y * y).sum().backward()
            outs.append((y, spec.grad, _chain(y)[:3]))
        (yt, gt, ct), (yn, gn, cn) = outs
        np.testing.assert_allclose(_np(yn), _np(yt), atol=1e-10)
        np.testing.assert_allclose(_np(gn), _np(gt), atol=1e-10)
        assert cn == ct
        if kw.get("center", True):
            np.testing.assert_allclose(_np(yn), a, atol=1e-10)  # lossless round trip


def test_fft_loads_lazily():
    code = ("import sys, ndgrad; assert 'ndgrad.fft' not in sys.modules and 'ndgrad._ops.fft' not in sys.modules "
            "and 'ndgrad._ops.spectral' not in sys.modules; ndgrad.fft.fft; ndgrad.stft; "
            "assert 'ndgrad._ops.spectral' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_stft_align_to_window(torch):
    """center=False, align_to_window=True: each frame starts where its (shorter) window starts."""
    a = np.random.default_rng(5).standard_normal(23)
    for wl, hop in ((4, 4), (6, 2), (8, 2)):
        res = []
        for lib in (torch, ndgrad):
            x = lib.from_numpy(a.copy()).requires_grad_()
            y = lib.stft(x, 8, hop_length=hop, win_length=wl, window=lib.hann_window(wl, dtype=lib.float64),
                         center=False, align_to_window=True, return_complex=True)
            y.abs().sum().backward()
            res.append((_np(y), x.grad.numpy()))
        np.testing.assert_allclose(res[1][0], res[0][0], atol=1e-10)
        np.testing.assert_allclose(res[1][1], res[0][1], atol=1e-10)
    assert outcome(lambda lib: lib.stft(lib.ones(20), 8, align_to_window=False, return_complex=True), ndgrad) == \
        outcome(lambda lib: lib.stft(lib.ones(20), 8, align_to_window=False, return_complex=True), torch)


def test_polar_at_zero_and_negative_abs(torch):
    """torch's reverse formula goes through sgn(result) (zero gradient at abs = 0, sign flipped for abs < 0) and its
    forward rule is the plain derivative: the two disagree there, and ndgrad follows each."""
    a, t = np.array([-1.0, 0.0, 2.0]), np.array([0.3, -1.2, 2.5])
    ta, tt = np.array([0.7, -0.4, 1.1]), np.array([-0.2, 0.9, 0.5])
    w = np.array([0.5 - 1j, 2 + 0.25j, -1 + 1j])
    res = []
    for lib, fw in ((torch, torch.autograd.forward_ad), (ndgrad, ndgrad.autograd.forward_ad)):
        x, y = lib.from_numpy(a.copy()).requires_grad_(), lib.from_numpy(t.copy()).requires_grad_()
        (lib.polar(x, y) * lib.from_numpy(w)).real.sum().backward()
        with fw.dual_level():
            d = lib.polar(fw.make_dual(lib.from_numpy(a.copy()), lib.from_numpy(ta.copy())),
                          fw.make_dual(lib.from_numpy(t.copy()), lib.from_numpy(tt.copy())))
            tan = fw.unpack_dual(d).tangent
        res.append((x.grad.numpy(), y.grad.numpy(), _np(tan)))
    for u, v in zip(res[1], res[0]):
        np.testing.assert_allclose(u, v, atol=1e-12)
