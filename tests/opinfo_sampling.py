"""OpInfo entries of ndgrad/_ops/sampling.py (pixel_shuffle/unshuffle, the upsampling ops behind
F.interpolate, one per torch node name) and ndgrad/_ops/nn_extra.py (rrelu in evaluation, embedding_bag)."""
from __future__ import annotations

import numpy as np
from opinfo import A, Arg, E, F, OpInfo, Sample, add, f32, ints

from ndgrad._ops import nn_extra as X
from ndgrad._ops import sampling as S

TOL32 = dict(rtol={f32: 1e-4}, atol={f32: 1e-4})


def _f(name):
    return lambda lib, *a, **k: getattr(lib.nn.functional, name)(*a, **k)


def _interp(d, r, shape, *kws):
    def gen(d, r):
        for i, kw in enumerate(kws):
            yield Sample((A(shape, d, r),), kw, desc=", ".join(f"{k}={v}" for k, v in kw.items()))
    return gen


def _interp_entry(name, shape, ops, *kws):
    return OpInfo(f"nn.functional.interpolate({name})", _f("interpolate"),
                  lambda d, r: _interp(d, r, shape, *kws)(d, r), ops=ops + (S.upsample_backward,), **TOL32)


_U = S.UPSAMPLE
add(OpInfo("nn.functional.pixel_shuffle", _f("pixel_shuffle"),
           lambda d, r: iter([Sample((A((1, 4, 2, 2), d, r), 2), desc="tiny"),
                              Sample((A((2, 1, 9, 2, 3), d, r), 3), desc="5-d")]),
           ops=(S.pixel_shuffle_op, S.pixel_unshuffle_op),
           errors=lambda: [E(F((4, 4)), 2), E(F((1, 5, 2, 2)), 2), E(F((1, 4, 2, 2)), 0)]),
    OpInfo("nn.functional.pixel_unshuffle", _f("pixel_unshuffle"),
           lambda d, r: iter([Sample((A((1, 1, 4, 4), d, r), 2), desc="tiny"),
                              Sample((A((3, 6, 3), d, r), 3), desc="unbatched")]),
           ops=(S.pixel_shuffle_op, S.pixel_unshuffle_op),
           errors=lambda: [E(F((4, 4)), 2), E(F((1, 1, 5, 4)), 2), E(F((1, 1, 4, 5)), 2), E(F((1, 1, 4, 4)), 0)]),
    _interp_entry("nearest", (1, 2, 3, 4), (_U[("nearest", 2)],), dict(scale_factor=2), dict(size=(5, 3)),
                  dict(scale_factor=(1.7, 0.6))),
    _interp_entry("nearest 1d", (1, 2, 3), (_U[("nearest", 1)],), dict(size=5), dict(scale_factor=0.7)),
    OpInfo("nn.functional.interpolate(nearest 3d)", _f("interpolate"),
           lambda d, r: iter([Sample((A((1, 1, 2, 3, 2), d, r),), dict(size=(3, 2, 4)), desc="size")]),
           ops=(_U[("nearest", 3)], S.upsample_backward)),
    _interp_entry("nearest-exact", (1, 2, 3, 4), (_U[("nearest-exact", 2)],), dict(scale_factor=1.5, mode="nearest-exact"),
                  dict(size=(2, 7), mode="nearest-exact")),
    _interp_entry("nearest-exact 1d", (2, 2, 5), (_U[("nearest-exact", 1)],), dict(size=3, mode="nearest-exact")),
    OpInfo("nn.functional.interpolate(nearest-exact 3d)", _f("interpolate"),
           lambda d, r: iter([Sample((A((1, 1, 2, 3, 2), d, r),), dict(scale_factor=1.5, mode="nearest-exact"),
                                     desc="scale")]),
           ops=(_U[("nearest-exact", 3)], S.upsample_backward)),
    _interp_entry("linear", (2, 2, 4), (_U[("linear", 1)],), dict(scale_factor=2, mode="linear"),
                  dict(size=3, mode="linear", align_corners=True), dict(size=7, mode="linear")),
    _interp_entry("bilinear", (1, 2, 3, 4), (_U[("bilinear", 2)],), dict(size=(5, 3), mode="bilinear"),
                  dict(scale_factor=1.5, mode="bilinear", align_corners=True),
                  dict(scale_factor=0.6, mode="bilinear", recompute_scale_factor=True)),
    _interp_entry("trilinear", (1, 1, 2, 3, 2), (_U[("trilinear", 3)],), dict(size=(3, 2, 3), mode="trilinear"),
                  dict(scale_factor=1.5, mode="trilinear", align_corners=True)),
    _interp_entry("bicubic", (1, 2, 4, 3), (_U[("bicubic", 2)],), dict(size=(5, 6), mode="bicubic"),
                  dict(size=(3, 2), mode="bicubic", align_corners=True)),
    _interp_entry("antialias", (1, 1, 6, 5), (_U[("bilinear-aa", 2)], _U[("bicubic-aa", 2)]),
                  dict(size=(3, 2), mode="bilinear", antialias=True),
                  dict(size=(2, 3), mode="bicubic", antialias=True),
                  dict(size=(8, 7), mode="bicubic", antialias=True),
                  dict(scale_factor=0.5, mode="bilinear", antialias=True, align_corners=True)),
    OpInfo("nn.functional.interpolate(errors)", _f("interpolate"), lambda d, r: iter(()), differentiable=False,
           errors=lambda: [E(F((1, 1, 4, 4)), size=2, scale_factor=2), E(F((1, 1, 4, 4))),
                           E(F((1, 1, 4, 4)), size=(2, 2, 2)), E(F((1, 1, 4, 4)), scale_factor=(2, 2, 2)),
                           E(F((1, 1, 4, 4)), size=2, align_corners=True),
                           E(F((1, 1, 4, 4)), size=2, mode="linear"), E(F((1, 1, 4)), size=2, mode="bicubic"),
                           E(F((1, 1, 4)), size=2, mode="bilinear", antialias=True),
                           E(F((1, 1, 4, 4)), size=2, recompute_scale_factor=True),
                           E(F((1, 1, 4, 4)), size=(0, 2)), E(F((1, 1, 4, 4)), size=2, mode="lanczos2")]))


def _rrelu_eval(lib, x, **kw):
    return lib.nn.functional.rrelu(x, **kw)


def _rrelu_inplace(lib, x, **kw):
    return lib.nn.functional.rrelu_(x.clone(), **kw)


_RR = lambda d, r: iter([Sample((A((3, 4), d, r, away=(0,)),), desc="default"),  # noqa: E731
                         Sample((A((2, 5), d, r, away=(0,)),), dict(lower=0.2, upper=0.6), desc="bounds")])
_BAG_I = [1, 2, 4, 5, 4, 3, 2, 0]


def _bag(mode, **fixed):
    def f(lib, w, idx, off=None, **kw):
        return lib.nn.functional.embedding_bag(idx, w, off, mode=mode, **fixed, **kw)
    return f


def _bag_samples(d, r):
    yield Sample((A((6, 3), d, r, distinct=True), ints(_BAG_I), ints([0, 3, 3, 6])), desc="offsets, empty bag")
    yield Sample((A((6, 2), d, r, distinct=True), ints([[1, 2, 4, 5], [4, 3, 2, 0]])), dict(padding_idx=4),
                 desc="2-d input, padding_idx")
    yield Sample((A((6, 2), d, r, distinct=True), ints(_BAG_I), ints([0, 3, 3, 6, 8])),
                 dict(include_last_offset=True), desc="include_last_offset")


def _bag_psw(lib, w, idx, off, psw, **kw):
    return lib.nn.functional.embedding_bag(idx, w, off, mode="sum", per_sample_weights=psw, **kw)


def _bag_errors():
    w = F((6, 3))
    return [E(w, ints(_BAG_I)), E(w, ints([[1, 2], [3, 4]]), ints([0, 1])), E(w, ints(_BAG_I), ints([1, 3])),
            E(w, ints(_BAG_I), ints([0, 3]), mode="foo"), E(w, ints([7]), ints([0])),
            E(w, Arg(np.array([0.5, 1.0]), requires_grad=False), ints([0]))]


add(OpInfo("nn.functional.rrelu", _rrelu_eval, _RR, ops=(X.rrelu_op,)),
    OpInfo("nn.functional.rrelu_", _rrelu_inplace, _RR, ops=(X.rrelu_inplace_op,)),
    OpInfo("nn.functional.embedding_bag(sum)", _bag("sum"), _bag_samples, ops=(X.embedding_bag_op,), **TOL32,
           errors=_bag_errors),
    OpInfo("nn.functional.embedding_bag(mean)", _bag("mean"), _bag_samples, ops=(X.embedding_bag_op,), **TOL32),
    OpInfo("nn.functional.embedding_bag(max)", _bag("max"), _bag_samples, ops=(X.embedding_bag_op,), **TOL32),
    OpInfo("nn.functional.embedding_bag(per_sample_weights)", _bag_psw,
           lambda d, r: iter([Sample((A((6, 3), d, r), ints(_BAG_I), ints([0, 3, 3, 6]), A((8,), d, r)),
                                     desc="sum"),
                              Sample((A((5, 2), d, r), ints([1, 2, 4, 2]), ints([0, 2]), A((4,), d, r)),
                                     dict(padding_idx=2), desc="padding_idx")]),
           ops=(X.embedding_bag_op,), **TOL32))


# ---- grid_sample, affine_grid (ndgrad/_ops/grid.py)
from ndgrad._ops import grid as G  # noqa: E402


def _gs(mode, padding):
    def f(lib, x, g, **kw):
        return lib.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding, **kw)
    return f


def _gs_samples(d, r):
    yield Sample((A((1, 1, 3, 3), d, r), A((1, 2, 2, 2), d, r, -1.2, 1.2)), dict(align_corners=False), desc="tiny")
    yield Sample((A((2, 2, 4, 5), d, r), A((2, 3, 2, 2), d, r, -1.3, 1.3)), dict(align_corners=True),
                 desc="align_corners")


_GS_ERR = lambda: [E(F((1, 1, 3, 3)), F((1, 2, 2, 3)), align_corners=False),  # noqa: E731
                   E(F((2, 1, 3, 3)), F((1, 2, 2, 2)), align_corners=False),
                   E(F((1, 1, 3, 3)), F((1, 2, 2)), align_corners=False),
                   E(F((1, 1, 3, 3)), F((1, 2, 2, 2)), align_corners=False, mode="area")]
for _m in ("bilinear", "nearest", "bicubic"):
    for _p in ("zeros", "border", "reflection"):
        add(OpInfo(f"nn.functional.grid_sample({_m}, {_p})", _gs(_m, _p), _gs_samples,
                   ops=(G.grid_sampler_2d, G.gs_scatter) + (() if _m == "nearest" else (G.gs_gather,)),
                   **TOL32,
                   errors=_GS_ERR if (_m, _p) == ("bilinear", "zeros") else None))


def _ag_samples(d, r):
    yield Sample((A((2, 2, 3), d, r), (2, 1, 3, 4)), dict(align_corners=False), desc="2-d")
    yield Sample((A((1, 3, 4), d, r), (1, 1, 2, 3, 2)), dict(align_corners=True), desc="3-d")


add(OpInfo("nn.functional.affine_grid", lambda lib, t, s, **kw: lib.nn.functional.affine_grid(t, s, **kw),
           _ag_samples, ops=(G.affine_grid_op, G.affine_grid_backward),
           errors=lambda: [E(F((2, 2, 3)), (2, 1, 3), align_corners=False),
                           E(F((2, 3, 3)), (2, 1, 3, 4), align_corners=False),
                           E(F((2, 2, 3)), (2, 1, 2, 3, 4), align_corners=False)]))
