"""OpInfo entries of ndgrad/_ops/fft.py and ndgrad/_ops/spectral.py: every torch.fft transform, complex views,
complex/polar, stft/istft, window functions.

Complex inputs are built inside each function from two real tensors (`lib.complex(a, b)`), and complex outputs
are returned through `view_as_real`, so the float64 gradcheck/gradgradcheck and the torch comparison of values
and gradients apply unchanged: torch's gradients of a and b are the real and imaginary parts of its complex
gradient. Samples cover odd and even lengths, n/s smaller and larger than the input (cropping, padding), every
norm, several dims and non-contiguous inputs.
"""
from __future__ import annotations

import numpy as np
from opinfo import WITH_INT, A, Arg, E, F, OpInfo, Sample, add, f32, f64, samples_of

from ndgrad._ops import fft as Fo
from ndgrad._ops import indexing as I
from ndgrad._ops import pointwise as P
from ndgrad._ops import shape as S
from ndgrad._ops import spectral as Sp

FLOATS = (f64, f32)
_VIEWS = (Sp.view_as_real_op,)


def _in(lib, a, b):
    return a if b is None else lib.complex(a, b)


def _out(lib, y):
    """Complex results compared through view_as_real (torch's lazy conjugate is resolved first)."""
    if not y.is_complex():
        return y
    if hasattr(y, "resolve_conj"):
        y = y.resolve_conj()
    return lib.view_as_real(y)


def _fft_fn(name):
    def fn(lib, a, b=None, **kw):
        return _out(lib, getattr(lib.fft, name)(_in(lib, a, b), **kw))
    return fn


def _cplx(d, r, *shape, **kw):
    return (A(shape, d, r, **kw), A(shape, d, r, **kw))


def _one_dim_samples(real=True, complex_=True):
    def gen(d, r):
        cases = [((5,), {}, "odd"), ((6,), {}, "even"), ((3, 4), dict(dim=0), "dim 0"),
                 ((2, 5), dict(n=3), "n smaller (crop)"), ((2, 3), dict(n=6, norm="ortho"), "n larger (pad), ortho"),
                 ((4,), dict(n=7, norm="forward"), "odd n padded, forward"),
                 ((6,), dict(norm="backward", n=1), "n=1"), ((3, 4), dict(dim=-1, norm=None), "2-d")]
        for shape, kw, desc in cases:
            if real:
                yield Sample((A(shape, d, r),), dict(kw), desc="real " + desc)
            if complex_:
                yield Sample(_cplx(d, r, *shape), dict(kw), desc="complex " + desc)
        if real:
            yield Sample((A((4, 3), d, r, layout="T"),), dict(dim=0, n=5), desc="real transposed")
        if complex_:
            yield Sample((A((3, 4), d, r, layout="step"), A((3, 4), d, r)), desc="complex strided")
    return gen


def _c2r_samples(d, r):
    cases = [((3,), {}, "default n (even)"), ((4,), dict(n=7), "odd n"), ((4,), dict(n=6), "even n"),
             ((5,), dict(n=4, norm="ortho"), "crop, ortho"), ((3,), dict(n=9, norm="forward"), "pad, forward"),
             ((2, 3), dict(dim=0, n=3), "dim 0"), ((3, 4), dict(n=5), "2-d"), ((2,), dict(n=1), "n=1")]
    for shape, kw, desc in cases:
        yield Sample(_cplx(d, r, *shape), dict(kw), desc="complex " + desc)
        yield Sample((A(shape, d, r),), dict(kw), desc="real " + desc)


def _nd_samples(real=True, complex_=True, c2r=False):
    def gen(d, r):
        cases = [((2, 3), {}, "all dims"), ((3, 4), dict(s=(2, 5)), "s crop and pad"),
                 ((2, 3, 2), dict(dim=(0, 2), norm="ortho"), "dims (0, 2), ortho"),
                 ((2, 3), dict(dim=(1, 0), norm="forward"), "dims reversed, forward"),
                 ((3, 2), dict(s=(-1, 4)), "s with -1"), ((2, 4), dict(dim=(-1,)), "one dim"),
                 ((2, 3), dict(s=(3,)), "s only")]
        if c2r:
            cases.append(((2, 3), dict(s=(2, 5)), "odd last size"))
        for shape, kw, desc in cases:
            if real:
                yield Sample((A(shape, d, r),), dict(kw), desc="real " + desc)
            if complex_:
                yield Sample(_cplx(d, r, *shape), dict(kw), desc="complex " + desc)
    return gen


def _two_samples(real=True, complex_=True):
    def gen(d, r):
        for shape, kw, desc in [((2, 3), {}, "2-d"), ((2, 3, 2), dict(dim=(0, 2)), "dims"),
                                ((2, 3), dict(s=(3, 4), norm="ortho"), "s, ortho")]:
            if real:
                yield Sample((A(shape, d, r),), dict(kw), desc="real " + desc)
            if complex_:
                yield Sample(_cplx(d, r, *shape), dict(kw), desc="complex " + desc)
    return gen


def _common_errors(c2r=False):
    def errors():
        out = [E(F((4, 5)), norm="bad"), E(F((4, 5)), n=0), E(F((4, 5)), n=-2), E(F((4, 5)), dim=2), E(F(()))]
        if c2r:
            out.append(E(F((1,))))  # default n = 2*(1-1) = 0
        return out
    return errors


def _nd_errors(name):
    def errors():
        out = [E(F((4, 5)), dim=(0, 0)), E(F((4, 5)), s=(3,), dim=(0, 1)), E(F((4, 5)), s=(3, 0)),
               E(F((4, 5)), s=(2, 3, 4)), E(F((4, 5)), norm="bad"), E(F((4, 5)), dim=(0, 3))]
        if name in ("rfftn", "irfftn", "hfftn", "ihfftn"):
            out.append(E(F((4, 5)), dim=()))
        return out
    return errors


_C2C, _R2C, _C2R = Fo.fft_c2c, Fo.fft_r2c, Fo.fft_c2r
add(OpInfo("fft.fft", _fft_fn("fft"), _one_dim_samples(), dtypes=WITH_INT,
           ops=(_C2C, _R2C, I.constant_pad, S.narrow) + _VIEWS, errors=_common_errors()),
    OpInfo("fft.ifft", _fft_fn("ifft"), _one_dim_samples(), dtypes=WITH_INT, ops=(_C2C, _R2C, P.conj) + _VIEWS,
           errors=_common_errors()),
    OpInfo("fft.rfft", _fft_fn("rfft"), _one_dim_samples(complex_=False), dtypes=WITH_INT, ops=(_R2C, S.pad_slice),
           errors=lambda: _common_errors()() + [E(F((4,)), F((4,)))]),
    OpInfo("fft.ihfft", _fft_fn("ihfft"), _one_dim_samples(complex_=False), dtypes=WITH_INT, ops=(_R2C, P.conj),
           errors=lambda: _common_errors()() + [E(F((4,)), F((4,)))]),
    OpInfo("fft.irfft", _fft_fn("irfft"), _c2r_samples, dtypes=WITH_INT, ops=(_C2R, _R2C, P.mul),
           errors=_common_errors(c2r=True)),
    OpInfo("fft.hfft", _fft_fn("hfft"), _c2r_samples, dtypes=WITH_INT, ops=(_C2R, P.conj),
           errors=_common_errors(c2r=True)),
    OpInfo("fft.fftn", _fft_fn("fftn"), _nd_samples(), dtypes=WITH_INT, ops=(_C2C, P.cast), errors=_nd_errors("fftn")),
    OpInfo("fft.ifftn", _fft_fn("ifftn"), _nd_samples(), dtypes=WITH_INT, ops=(_C2C,), errors=_nd_errors("ifftn")),
    OpInfo("fft.rfftn", _fft_fn("rfftn"), _nd_samples(complex_=False), dtypes=WITH_INT, ops=(_R2C,),
           errors=lambda: _nd_errors("rfftn")() + [E(F((4,)), F((4,)))]),
    OpInfo("fft.ihfftn", _fft_fn("ihfftn"), _nd_samples(complex_=False), dtypes=WITH_INT, ops=(_R2C, _C2C, P.conj, Fo.conj_physical),
           errors=lambda: _nd_errors("ihfftn")() + [E(F((4,)), F((4,)))]),
    OpInfo("fft.irfftn", _fft_fn("irfftn"), _nd_samples(c2r=True), dtypes=WITH_INT, ops=(_C2R,),
           errors=_nd_errors("irfftn")),
    OpInfo("fft.hfftn", _fft_fn("hfftn"), _nd_samples(c2r=True), dtypes=WITH_INT, ops=(_C2R, _C2C),
           errors=_nd_errors("hfftn")),
    )
for _name, _kw in (("fft2", {}), ("ifft2", {}), ("rfft2", dict(complex_=False)), ("irfft2", {}), ("hfft2", {}),
                   ("ihfft2", dict(complex_=False))):
    add(OpInfo(f"fft.{_name}", _fft_fn(_name), _two_samples(**_kw), dtypes=FLOATS,
               errors=lambda: [E(F((4,))), E(F((4, 5)), dim=None), E(F((4, 5)), dim=(0, 0))]))


def _shift(name):
    return lambda lib, x, **kw: getattr(lib.fft, name)(x, **kw)


def _shift_samples(d, r):
    yield Sample((A((5,), d, r),), desc="odd")
    yield Sample((A((2, 5), d, r),), dict(dim=1), desc="dim")
    yield Sample((A((3, 4), d, r),), dict(dim=(0, 1)), desc="dims")
    yield Sample((A((4, 3), d, r, layout="T"),), desc="all dims, transposed")
    yield Sample((A((3, 4), d, r),), dict(dim=-1), desc="negative dim")


add(OpInfo("fft.fftshift", _shift("fftshift"), _shift_samples, dtypes=WITH_INT + (np.bool_,), ops=(I.roll_op,)),
    OpInfo("fft.ifftshift", _shift("ifftshift"), _shift_samples, dtypes=WITH_INT, ops=(I.roll_op,)))


def _freq(name):
    def fn(lib, n, *a, dtype=None, **kw):
        return getattr(lib.fft, name)(n, *a, dtype=None if dtype is None else getattr(lib, dtype), **kw)
    return fn


def _freq_samples(d, r):
    for n in (0, 1, 4, 5):
        yield Sample((n,), desc=f"n={n}")
    yield Sample((6, 0.5), desc="d=0.5")
    yield Sample((5, 2), dict(dtype="float64"), desc="float64")
    yield Sample((4,), dict(requires_grad=True), desc="requires_grad")
    yield Sample((-1,), desc="n=-1")


for _name in ("fftfreq", "rfftfreq"):
    add(OpInfo(f"fft.{_name}", _freq(_name), _freq_samples, dtypes=(f64,), differentiable=False,
               errors=lambda: [E(-4), E(3, dtype="int64"), E(3, dtype="complex64")]))


# ---- complex views and constructors
def _vac(lib, x, how=""):
    if how == "T":
        x = x.t()
    y = lib.view_as_complex(x * 1.0 if how == "copy" else x)
    return lib.view_as_real(y * (0.5 - 2j))


def _vac_samples(d, r):
    yield Sample((A((3, 2), d, r),), desc="(3, 2)")
    yield Sample((A((2, 2, 2), d, r),), desc="3-d")
    yield Sample((A((1, 2), d, r), "copy"), desc="non-leaf")


add(OpInfo("view_as_complex", _vac, _vac_samples, dtypes=FLOATS,
           ops=(Sp.view_as_complex_op, Sp.view_as_real_op, P.mul),
           errors=lambda: [E(F((3, 3))), E(F((2, 3)), "T"), E(F(())), E(Arg(np.ones((3, 2), np.int64), False))]),
    OpInfo("view_as_real", lambda lib, a, b=None: lib.view_as_real(a if b is None else lib.complex(a, b) * (1 + 1j)) * 2.0,
           samples_of(lambda d, r: Sample(_cplx(d, r, 3, 2), desc="2-d"),
                      lambda d, r: Sample(_cplx(d, r), desc="0-d"),
                      lambda d, r: Sample((A((2, 3), d, r, layout="step"), A((2, 3), d, r)), desc="strided")),
           dtypes=FLOATS, ops=(Sp.view_as_real_op, Sp.view_as_complex_op), errors=lambda: [E(F((3,)))]),
    OpInfo("complex", lambda lib, a, b: lib.view_as_real(lib.complex(a, b)),
           samples_of(lambda d, r: Sample((A((3, 4), d, r), A((3, 4), d, r)), desc="same shape"),
                      lambda d, r: Sample((A((3, 1), d, r), A((4,), d, r)), desc="broadcast"),
                      lambda d, r: Sample((A((), d, r), A((2,), d, r)), desc="0-d"),
                      lambda d, r: Sample((A((4, 3), d, r, layout="T"), A((4, 3), d, r)), desc="transposed")),
           dtypes=FLOATS, ops=(Sp.complex_op, P.real, P.imag),
           errors=lambda: [E(F((2,)), Arg(np.ones(2, np.float32), False)), E(F((2, 3)), F((3, 2))),
                           E(Arg(np.ones(2, np.int64), False), Arg(np.ones(2, np.int64), False))]),
    OpInfo("polar", lambda lib, a, t: lib.view_as_real(lib.polar(a, t)),
           samples_of(lambda d, r: Sample((A((3, 4), d, r, 0.2, 2.0), A((3, 4), d, r, -3.0, 3.0)), desc="same shape"),
                      lambda d, r: Sample((A((3, 1), d, r, 0.2, 2.0), A((4,), d, r)), desc="broadcast")),
           dtypes=FLOATS, ops=(Sp.polar_op, P.sgn, P.conj),
           errors=lambda: [E(F((2,)), Arg(np.ones(2, np.float32), False)),
                           E(Arg(np.ones(2, np.int64), False), Arg(np.ones(2, np.int64), False))]),
    )


# ---- windows
def _window(name):
    def fn(lib, n, *a, dtype=None, **kw):
        return getattr(lib, name)(n, *a, dtype=None if dtype is None else getattr(lib, dtype), **kw)
    return fn


def _window_samples(d, r):
    for n in (0, 1, 2, 5, 8):
        yield Sample((n,), desc=f"periodic {n}")
        yield Sample((n, False), desc=f"symmetric {n}")
    yield Sample((7,), dict(dtype="float64"), desc="float64")
    yield Sample((6, False), dict(dtype="float16"), desc="float16")
    yield Sample((4,), dict(requires_grad=True), desc="requires_grad")


_WINDOW_ERRORS = lambda: [E(-1), E(3, dtype="int64"), E(3, dtype="complex64"), E(2.5)]  # noqa: E731
for _name in ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"):
    add(OpInfo(_name, _window(_name), _window_samples, dtypes=(f64,), differentiable=False, errors=_WINDOW_ERRORS,
               atol={f64: 1e-6}))
add(OpInfo("hamming_window(alpha, beta)", lambda lib, n: lib.hamming_window(n, False, 0.6, 0.3),
           samples_of(lambda d, r: Sample((7,))), dtypes=(f64,), differentiable=False),
    OpInfo("kaiser_window(beta)", lambda lib, n: lib.kaiser_window(n, True, 4.5, dtype=lib.float64),
           samples_of(lambda d, r: Sample((7,))), dtypes=(f64,), differentiable=False))


# ---- stft / istft
def _stft(lib, x, w=None, b=None, **kw):
    x = _in(lib, x, b)
    kw.setdefault("return_complex", True)
    return _out(lib, lib.stft(x, 4, window=w, **kw))


def _stft_samples(d, r):
    win = lambda n=4: A((n,), d, r, 0.5, 1.5)  # noqa: E731
    yield Sample((A((10,), d, r), win()), desc="reflect, hop 1")
    yield Sample((A((10,), d, r), win()), dict(hop_length=2, normalized=True), desc="hop 2, normalized")
    yield Sample((A((9,), d, r), None), dict(center=False, hop_length=2), desc="no window, not centred")
    yield Sample((A((2, 6), d, r), win(3)), dict(win_length=3, pad_mode="constant"), desc="batch, win_length 3")
    yield Sample((A((8,), d, r), win()), dict(onesided=False, pad_mode="replicate"), desc="two-sided")
    yield Sample((A((8,), d, r), win(), A((8,), d, r)), dict(hop_length=3), desc="complex input")
    yield Sample((A((8,), d, r), win()), dict(return_complex=False, hop_length=2), desc="return_complex=False")


add(OpInfo("stft", _stft, _stft_samples, dtypes=FLOATS,
           ops=(Sp.frames_op, Sp.overlap_add_op, Sp.transpose_, S.squeeze_dim_, _R2C, _C2C, I.reflection_pad[1][0]),
           errors=lambda: [E(F((10,)), F((4,)), return_complex=None),
                           E(F((10,)), F((4,)), hop_length=0), E(F((10,)), F((5,))),
                           E(F((10,)), F((4,)), win_length=5), E(F((10,)), F((4,)), F((10,)), onesided=True),
                           E(F((3,)), F((4,)), center=False), E(F((10,)), F((4,)), pad_mode="bad"),
                           E(F((2, 2, 2, 10)), F((4,)))]),
    OpInfo("Tensor.stft", lambda lib, x, w: lib.view_as_real(x.stft(4, 2, window=w, return_complex=True)),
           samples_of(lambda d, r: Sample((A((8,), d, r), A((4,), d, r, 0.5, 1.5)))), dtypes=FLOATS,
           ops=(Sp.frames_op,)))


def _istft(lib, a, b, w=None, **kw):
    return _out(lib, lib.istft(lib.complex(a, b), 4, window=w, **kw))


def _istft_samples(d, r):
    win = lambda n=4: A((n,), d, r, 0.5, 1.5)  # noqa: E731
    yield Sample(_cplx(d, r, 3, 3) + (win(),), desc="onesided, hop 1")
    yield Sample(_cplx(d, r, 3, 4) + (win(),), dict(hop_length=2, normalized=True), desc="hop 2, normalized")
    yield Sample(_cplx(d, r, 3, 3) + (None,), dict(center=False, length=5), desc="no window, length")
    yield Sample(_cplx(d, r, 2, 3, 4) + (win(),), dict(hop_length=2, length=9), desc="batch, padded length")
    yield Sample(_cplx(d, r, 4, 3) + (win(),), dict(onesided=False), desc="two-sided input, real output")
    yield Sample(_cplx(d, r, 4, 3) + (win(),), dict(return_complex=True), desc="complex output")
    yield Sample(_cplx(d, r, 3, 4) + (win(3),), dict(win_length=3, hop_length=2), desc="win_length 3")


add(OpInfo("istft", _istft, _istft_samples, dtypes=FLOATS,
           ops=(Sp.overlap_add_op, Sp.frames_op, _C2R, _C2C, P.div, S.squeeze_dim),
           errors=lambda: [E(F((3, 3)), F((3, 3)), F((8,))), E(F((3, 3)), F((3, 3)), F((4,)), hop_length=5),
                           E(F((3, 0)), F((3, 0)), F((4,))), E(F((3, 3)), F((3, 3)), F((4,)), onesided=False),
                           E(F((3, 3)), F((3, 3)), Arg(np.zeros(4), False)),
                           E(F((3, 3)), F((3, 3)), F((4,)), return_complex=True)]),
    OpInfo("Tensor.istft", lambda lib, a, b: lib.complex(a, b).istft(4, 2, window=lib.ones(4, dtype=a.dtype)),
           samples_of(lambda d, r: Sample(_cplx(d, r, 3, 4))), dtypes=FLOATS, ops=(Sp.overlap_add_op,)))
