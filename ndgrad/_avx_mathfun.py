"""float32 log, sine and cosine computed exactly as the vectorised kernels torch's CPU normal sampler uses
(the Cephes-derived polynomials of the widely used AVX "mathfun" routines, with the fused multiply-adds a
compiler makes of them), so `randn` on float32 reproduces torch's numbers bit for bit. Which products the compiler
fused was found by comparing 3.2 million normals with torch 2.13's AVX2 build: all equal.
Plain NumPy float32 arithmetic on arrays; nothing here is faster or more accurate than np.log, only closer
to torch."""
from __future__ import annotations

import numpy as np

f32 = np.float32

_LOG_P = (-1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1, -1.6668057665E-1,
          2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1)


def _fma(a: np.ndarray, b: object, c: object) -> np.ndarray:
    """a*b + c rounded once to float32 (the product of two float32 values is exact in float64)."""
    return (np.asarray(a, np.float64) * np.float64(b) + np.asarray(c, np.float64)).astype(f32)


def log_ps(x: np.ndarray) -> np.ndarray:
    x = np.maximum(np.asarray(x, dtype=f32), f32(1.17549435e-38))
    xi = x.view(np.int32)
    e = ((xi >> 23) - np.int32(0x7f)).astype(f32) + f32(1)
    x = ((xi & ~np.int32(0x7f800000)) | np.int32(0x3f000000)).view(f32)  # mantissa in [0.5, 1)
    mask = x < f32(0.707106781186547524)
    tmp = np.where(mask, x, f32(0))
    x = x - f32(1)
    e = e - np.where(mask, f32(1), f32(0))
    x = x + tmp
    z = x * x
    y = np.full_like(x, f32(7.0376836292E-2))
    for c in _LOG_P:
        y = _fma(y, x, f32(c))
    y = y * x
    y = _fma(y, z, e * f32(-2.12194440e-4))  # (the compiler fuses y*z with the add of the rounded e*c)
    y = y - z * f32(0.5)
    x = x + y
    return x + e * f32(0.693359375)


def sincos_ps(x: np.ndarray) -> tuple:
    x = np.asarray(x, dtype=f32)
    sign_sin = x.view(np.int32) & np.int32(-2 ** 31)
    x = np.abs(x)
    j = (x * f32(1.27323954473516)).astype(np.int32)
    j = (j + np.int32(1)) & np.int32(~1)
    y = j.astype(f32)
    swap = (j & np.int32(4)) << 29
    poly_mask = (j & np.int32(2)) == 0
    x = x + y * f32(-0.78515625)
    x = x + y * f32(-2.4187564849853515625e-4)
    x = x + y * f32(-3.77489497744594108e-8)
    sign_cos = ((~(j - np.int32(2))) & np.int32(4)) << 29
    sign_sin = sign_sin ^ swap
    z = x * x
    yc = f32(2.443315711809948E-005) * z + f32(-1.388731625493765E-003)
    yc = _fma(yc, z, f32(4.166664568298827E-002))
    yc = yc * z
    yc = _fma(yc, z, -(z * f32(0.5)))  # (fused with the subtraction of the exact z/2)
    yc = yc + f32(1)
    ys = _fma(np.full_like(z, f32(-1.9515295891E-4)), z, f32(8.3321608736E-3))
    ys = _fma(ys, z, f32(-1.6666654611E-1))
    ys = ys * z
    ys = _fma(ys, x, x)
    s_part = np.where(poly_mask, ys, f32(0))
    c_part = np.where(poly_mask, f32(0), yc)
    sin = ((c_part + s_part).view(np.int32) ^ sign_sin).view(f32)
    cos = (((yc - c_part) + (ys - s_part)).view(np.int32) ^ sign_cos).view(f32)
    return sin, cos
