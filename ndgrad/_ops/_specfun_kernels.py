"""NumPy kernels of torch.special's functions, written for float64 accuracy (no SciPy).

Every kernel takes and returns float64 arrays (the ops in specfun.py cast). Methods, per function:

- erfcx: exp(x²) erfc(x) with x² split exactly (hi*hi + lo) below 10, the asymptotic series above;
  ndtr / log_ndtr through erfcx in the lower tail, so neither underflows nor cancels.
- ndtri: √2 erfinv(2p - 1) in the middle, Newton on log_ndtr(x) = log p in the tails (p > 1/2 by symmetry).
- I0, I1 (and the exponentially scaled forms): power series (positive terms) below 25, Hankel's asymptotic
  series above. K0, K1: series with the logarithm below 1, above it the trapezoidal rule on
  K_ν(x) = ∫₀^∞ e^(-x cosh t) cosh(νt) dt, with a step chosen from x (exponentially convergent).
- J0, J1, Y0, Y1: power series below 1, Miller's backward recurrence (with Neumann's series for Y) below 25,
  Hankel's asymptotic expansion above.
- Ai: Taylor steps of Ai'' = x Ai from 0 on [-10, 1], (1/π)√(x/3) K_{1/3}(ζ) above 1, the oscillatory
  asymptotic series below -10.
- zeta (Hurwitz): Euler–Maclaurin with 12 Bernoulli terms. gammainc/gammaincc: series / continued
  fraction with the prefactor x^a e^-x / Γ(a) computed without cancellation for large a.
- The orthogonal polynomials: torch's recurrences and closed forms.
"""
from __future__ import annotations

import math

import numpy as np

_PI = math.pi
_EULER = 0.57721566490153286061
_SQRT_PI = math.sqrt(math.pi)
_SQRT2 = math.sqrt(2.0)
_LN_SQRT_2PI = 0.5 * math.log(2 * math.pi)

_erfc_v = np.vectorize(math.erfc, otypes=[np.float64])
_erf_v = np.vectorize(math.erf, otypes=[np.float64])
_lgamma_v = np.vectorize(lambda v: math.lgamma(v) if v > 0 or v != math.floor(v) else math.inf,
                         otypes=[np.float64])


def _erfc(x):
    x = np.asarray(x, np.float64)
    return _erfc_v(x) if x.size else x.copy()


def _erf(x):
    x = np.asarray(x, np.float64)
    return _erf_v(x) if x.size else x.copy()


def lgamma(x):
    x = np.asarray(x, np.float64)
    return _lgamma_v(x) if x.size else x.copy()


def _split(x):
    """x = hi + lo with hi having 26 significant bits, so hi*hi is exact."""
    c = x * 134217729.0  # 2^27 + 1
    hi = c - (c - x)
    return hi, x - hi


def _exp_sq(x, sign=1.0):
    """exp(sign * x²) without the rounding error of forming x²."""
    hi, lo = _split(x)
    return np.exp(sign * hi * hi) * np.exp(sign * lo * (x + hi))


# -- erfcx, ndtr, log_ndtr, ndtri -------------------------------------------------------------------------
def _erfcx_asym(x):
    # erfcx(x) ~ 1/(x√π) Σ (-1)^k (2k-1)!! / (2x²)^k, for x >= 10 (error below 1e-22)
    t = 1.0 / (2.0 * x * x)
    s = np.ones_like(x)
    term = np.ones_like(x)
    for k in range(1, 24):
        term = term * (-(2 * k - 1) * t)
        s = s + term
    return s / (x * _SQRT_PI)


def erfcx(x):
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    big = x >= 10.0
    with np.errstate(all="ignore"):
        xb = np.where(big, x, 20.0)
        out[big] = _erfcx_asym(xb[big])
        mid = (x >= 0) & ~big
        xm = x[mid]
        out[mid] = _exp_sq(xm) * _erfc(xm)
        neg = x < 0
        xn = x[neg]
        # erfcx(-y) = 2 e^(y²) - erfcx(y)
        e2 = 2.0 * _exp_sq(xn)
        out[neg] = np.where(xn < -26.7, np.inf, e2 - erfcx(-xn) if xn.size else e2)
        out[np.isnan(x)] = np.nan
    return out


def ndtr(x):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        out = 0.5 * _erfc(-x / _SQRT2)
        low = x < -1.0
        xl = x[low]
        # 0.5 erfcx(t) e^(-t²), t = -x/√2, with e^(-x²/2) formed from x itself
        out[low] = 0.5 * erfcx(-xl / _SQRT2) * _exp_sq(xl, -0.5) if xl.size else xl
        out[low & (x < -38.5)] = 0.0  # below the smallest subnormal
        out[x == -np.inf] = 0.0
    return out


def log_ndtr(x):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        out = np.log1p(-ndtr(-x))  # ndtr's accurate lower tail
        low = x < -1.0
        xl = x[low]
        hi, lo = _split(xl)
        # log(erfcx(t)/2) - t², t = -x/√2, t² = (hi² + lo (x + hi)) / 2 formed from x itself
        out[low] = np.log(0.5 * erfcx(-xl / _SQRT2)) - 0.5 * (hi * hi) - 0.5 * (lo * (xl + hi)) if xl.size else xl
        out[x == -np.inf] = -np.inf
    return out


def _erfinv(y):
    """erfinv on |y| <= 1/2: Taylor start then Newton steps on erf (relative accuracy near 0)."""
    y = np.asarray(y, np.float64)
    c = _SQRT_PI / 2
    z = c * y * (1 + (_PI / 12) * y * y * (1 + (7 * _PI / 30) * y * y))
    for _ in range(4):
        z = z - (_erf(z) - y) / ((2 / _SQRT_PI) * np.exp(-z * z))
    return z


def ndtri(p):
    p = np.asarray(p, np.float64)
    out = np.full(p.shape, np.nan)
    with np.errstate(all="ignore"):
        mid = (p >= 0.25) & (p <= 0.75)
        out[mid] = _SQRT2 * _erfinv(2.0 * (p[mid] - 0.5))
        lo = (p > 0) & (p < 0.25)
        hi = (p > 0.75) & (p < 1)
        q = np.concatenate([p[lo], 1.0 - p[hi]])  # exact for p > 1/2
        if q.size:
            lq = np.log(q)
            # start: Giles' single-precision erfinv in terms of w = -log(4q(1-q))
            w = -np.log(4.0 * q * (1.0 - q))
            s = np.sqrt(w)
            x0 = -_SQRT2 * s * (1.0 - np.log(np.maximum(w, 1.0)) / (4.0 * np.maximum(w, 1.0)))
            x = np.where(w < 5.0, -_SQRT2 * _erfinv(np.minimum(1.0 - 2.0 * q, 0.5)), x0)
            for _ in range(60):
                f = log_ndtr(x) - lq
                # d/dx log ndtr = pdf/ndtr = √(2/π)/erfcx(-x/√2)
                g = math.sqrt(2.0 / _PI) / erfcx(-x / _SQRT2)
                step = f / g
                x = x - step
                if np.all(np.abs(step) <= 4e-16 * np.abs(x)):
                    break
            n = int(lo.sum())
            out[lo] = x[:n]
            out[hi] = -x[n:]
        out[p == 0] = -np.inf
        out[p == 1] = np.inf
    return out


# -- modified Bessel functions ------------------------------------------------------------------------------
def _i_series(x, nu):
    """Σ (x/2)^(2k+ν) / (k! (k+ν)!) for ν in {0, 1}; all terms positive."""
    q = 0.25 * x * x
    term = np.ones_like(x) if nu == 0 else 0.5 * x
    s = term.copy()
    for k in range(1, 70):
        term = term * q / (k * (k + nu))
        s = s + term
    return s


def _i_asym_scaled(x, nu):
    """e^-x I_ν(x) ~ 1/√(2πx) Σ (-1)^k a_k(ν) / x^k, x >= 25."""
    mu = 4.0 * nu * nu
    term = np.ones_like(x)
    s = term.copy()
    for k in range(1, 60):
        term = term * (-(mu - (2 * k - 1) ** 2) / (8.0 * k * x))
        s = s + term
    return s / np.sqrt(2 * _PI * x)


def _bessel_i(x, nu, scaled):
    x = np.asarray(x, np.float64)
    a = np.abs(x)
    out = np.empty_like(a)
    with np.errstate(all="ignore"):
        small = a < 25.0
        xs = a[small]
        r = _i_series(xs, nu)
        out[small] = r * np.exp(-xs) if scaled else r
        big = ~small & ~np.isnan(a)
        xb = a[big]
        r = _i_asym_scaled(np.where(np.isinf(xb), 1e300, xb), nu)
        if scaled:
            r = np.where(np.isinf(xb), 0.0, r)
        else:
            e = np.exp(0.5 * xb)
            r = np.where(np.isinf(xb), np.nan, (r * e) * e)
        out[big] = r
        out[np.isnan(a)] = np.nan
        if nu == 1:
            out = np.where(x < 0, -out, out)
    return out


def i0(x):
    return _bessel_i(x, 0, False)


def i0e(x):
    return _bessel_i(x, 0, True)


def i1(x):
    return _bessel_i(x, 1, False)


def i1e(x):
    return _bessel_i(x, 1, True)


def _harmonic_series_k0(x):
    # K0 = -(ln(x/2) + γ) I0 + Σ_{k>=1} H_k q^k / (k!)²
    q = 0.25 * x * x
    term = np.ones_like(x)
    s = np.zeros_like(x)
    h = 0.0
    for k in range(1, 30):
        term = term * q / (k * k)
        h += 1.0 / k
        s = s + h * term
    return -(np.log(0.5 * x) + _EULER) * _i_series(x, 0) + s


def _series_k1(x):
    # K1 = 1/x + ln(x/2) I1 - (x/4) Σ_{k>=0} (ψ(k+1) + ψ(k+2)) q^k / (k! (k+1)!)
    q = 0.25 * x * x
    term = np.ones_like(x)
    psi1 = -_EULER
    s = term * (psi1 + psi1 + 1.0)
    for k in range(1, 30):
        term = term * q / (k * (k + 1))
        psi1 += 1.0 / k
        s = s + term * (psi1 + psi1 + 1.0 / (k + 1))
    return 1.0 / x + np.log(0.5 * x) * _i_series(x, 1) - 0.25 * x * s


def _k_integral_scaled(x, nu):
    """e^x K_ν(x) = ∫₀^∞ e^(-x (cosh t - 1)) cosh(νt) dt by the trapezoidal rule (x >= ~0.5)."""
    if x.size == 0:
        return x.copy()
    # the step: the trapezoidal error is about min over 0 < d <= π/2 of exp(x (1 - cos d) - 2πd/h); d = π/2
    # bounds it below 1e-17 for h <= π²/(x + 40), a small d (≈ 2π/(hx)) for h <= 0.68/√x once x is large
    h = _PI * _PI / (x + 40.0)
    h = np.where(x < 50.0, h, np.maximum(h, 0.68 / np.sqrt(x)))
    tmax = np.arccosh(1.0 + 42.0 / x)
    n = int(np.ceil(np.max(tmax / h))) + 2
    s = 0.5 * np.ones_like(x)
    for k in range(1, n):
        t = k * h
        sh = np.sinh(0.5 * t)
        s = s + np.exp(-2.0 * x * sh * sh) * (np.cosh(nu * t) if nu else 1.0)  # cosh t - 1 = 2 sinh²(t/2)
    return s * h


def _bessel_k(x, nu, scaled):
    x = np.asarray(x, np.float64)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        small = (x > 0) & (x <= 1.0)
        xs = x[small]
        r = _harmonic_series_k0(xs) if nu == 0 else _series_k1(xs)
        out[small] = r * np.exp(xs) if scaled else r
        big = (x > 1.0) & np.isfinite(x)
        xb = x[big]
        r = _k_integral_scaled(xb, nu)
        out[big] = r if scaled else r * np.exp(-xb)
        out[x == 0] = np.inf
        out[x == np.inf] = 0.0
    return out


def modified_bessel_k0(x):
    return _bessel_k(x, 0, False)


def modified_bessel_k1(x):
    return _bessel_k(x, 1, False)


def scaled_modified_bessel_k0(x):
    return _bessel_k(x, 0, True)


def scaled_modified_bessel_k1(x):
    return _bessel_k(x, 1, True)


def modified_bessel_i0(x):
    return _bessel_i(x, 0, False)


def modified_bessel_i1(x):
    return _bessel_i(x, 1, False)


# -- Bessel functions of the first and second kind -----------------------------------------------------------
def _jy_series(x):
    """J0, J1, Y0, Y1 by their power series (0 < x <= 1)."""
    q = 0.25 * x * x
    t0 = np.ones_like(x)      # (-q)^k / (k!)²
    t1 = np.ones_like(x)      # (-q)^k / (k! (k+1)!)
    j0 = t0.copy()
    j1s = t1.copy()
    y0s = np.zeros_like(x)
    psi_a = -_EULER            # ψ(k+1)
    y1s = t1 * (2 * psi_a + 1.0)  # ψ(1) + ψ(2)
    h = 0.0
    for k in range(1, 25):
        t0 = t0 * (-q) / (k * k)
        t1 = t1 * (-q) / (k * (k + 1))
        h += 1.0 / k
        psi_a += 1.0 / k
        j0 = j0 + t0
        j1s = j1s + t1
        y0s = y0s - h * t0     # (-1)^(k+1) H_k q^k/(k!)²
        y1s = y1s + t1 * (2 * psi_a + 1.0 / (k + 1))
    j1 = 0.5 * x * j1s
    lg = np.log(0.5 * x)
    y0 = (2 / _PI) * ((lg + _EULER) * j0 + y0s)
    y1 = -2 / (_PI * x) + (2 / _PI) * lg * j1 - (0.5 * x / _PI) * y1s
    return j0, j1, y0, y1


def _jy_miller(x):
    """J0, J1, Y0, Y1 for 1 < x < 25 by Miller's backward recurrence, normalized by 1 = J0 + 2 Σ J_2k,
    Y0 by Neumann's series (2/π)[ln(x/2)+γ] J0 - (4/π) Σ (-1)^k J_2k / k, and Y1 = -Y0'."""
    n_top = int(np.ceil(np.max(x))) + 46
    n_top += n_top % 2
    jn = [None] * (n_top + 2)
    jn[n_top + 1] = np.zeros_like(x)
    jn[n_top] = np.full_like(x, 1e-300)
    for n in range(n_top, 0, -1):
        jn[n - 1] = (2.0 * n / x) * jn[n] - jn[n + 1]
        big = np.abs(jn[n - 1]) > 1e200
        if np.any(big):
            f = np.where(big, 1e-200, 1.0)
            for m in range(n - 1, n_top + 2):
                jn[m] = jn[m] * f
    norm = jn[0] + 2.0 * sum(jn[2 * k] for k in range(1, n_top // 2 + 1))
    j = [v / norm for v in jn[:n_top + 1]]
    j0, j1 = j[0], j[1]
    lg = np.log(0.5 * x) + _EULER
    s0 = sum((-1) ** k * j[2 * k] / k for k in range(1, n_top // 2))
    y0 = (2 / _PI) * lg * j0 - (4 / _PI) * s0
    s1 = sum((-1) ** k * (j[2 * k - 1] - j[2 * k + 1]) / k for k in range(1, n_top // 2))
    y1 = (2 / _PI) * (lg * j1 - j0 / x) + (2 / _PI) * s1
    return j0, j1, y0, y1


def _hankel_pq(x, nu):
    mu = 4.0 * nu * nu
    p = np.ones_like(x)
    q = np.zeros_like(x)
    term = np.ones_like(x)
    for k in range(1, 50):
        term = term * (mu - (2 * k - 1) ** 2) / (8.0 * k * x)
        if k % 2:
            q = q + (term if k % 4 == 1 else -term)
        else:
            p = p + (term if k % 4 == 0 else -term)
    return p, q


def _jy_hankel(x):
    c, s = np.cos(x), np.sin(x)
    amp = np.sqrt(2.0 / (_PI * x))
    p0, q0 = _hankel_pq(x, 0)
    p1, q1 = _hankel_pq(x, 1)
    # χ0 = x - π/4, χ1 = x - 3π/4, from cos x and sin x (no rounding of π/4 added to x)
    c0, s0 = (c + s) / _SQRT2, (s - c) / _SQRT2
    c1, s1 = (s - c) / _SQRT2, -(s + c) / _SQRT2
    return (amp * (p0 * c0 - q0 * s0), amp * (p1 * c1 - q1 * s1),
            amp * (p0 * s0 + q0 * c0), amp * (p1 * s1 + q1 * c1))


def _jy(x):
    """J0, J1, Y0, Y1 of |x| (finite, > 0)."""
    outs = [np.empty_like(x) for _ in range(4)]
    for mask, f in ((x <= 1.0, _jy_series), ((x > 1.0) & (x < 25.0), _jy_miller), (x >= 25.0, _jy_hankel)):
        if np.any(mask):
            for o, v in zip(outs, f(x[mask])):
                o[mask] = v
    return outs


def _bessel_jy(x, which):
    x = np.asarray(x, np.float64)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        a = np.abs(x)
        ok = np.isfinite(a) & (a > 0)
        if np.any(ok):
            out[ok] = _jy(a[ok])[which]
        if which == 1:
            out = np.where(x < 0, -out, out)
        elif which >= 2:
            out[x < 0] = np.nan
        zero = x == 0
        out[zero] = (1.0, 0.0, -np.inf, -np.inf)[which]
        if which == 1:
            out[zero] = x[zero]  # keeps the sign of zero
    return out


def bessel_j0(x):
    return _bessel_jy(x, 0)


def bessel_j1(x):
    return _bessel_jy(x, 1)


def bessel_y0(x):
    return _bessel_jy(x, 2)


def bessel_y1(x):
    return _bessel_jy(x, 3)


def spherical_bessel_j0(x):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        out = np.sin(x) / x
        small = np.abs(x) < 0.5
        x2 = x * x
        ser = 1.0
        for k in range(8, 0, -1):  # sin(x)/x = Σ (-x²)^k / (2k+1)!
            ser = 1.0 - ser * x2 / ((2 * k) * (2 * k + 1))
        out = np.where(small, ser, out)
        out = np.where(np.isinf(x), 0.0, out)
    return out


# -- Airy Ai -------------------------------------------------------------------------------------------------
_AI0 = 0.355028053887817239260
_AIP0 = -0.258819403792806798405


def _airy_taylor(x):
    """Ai on [-10, 1]: 20 Taylor steps of Ai'' = t Ai from 0 (stable toward negative x)."""
    steps = 20
    h = x / steps
    y = np.full_like(x, _AI0)
    yp = np.full_like(x, _AIP0)
    t0 = np.zeros_like(x)
    for _ in range(steps):
        # coefficients c_n of Σ c_n s^n around t0 (scaled by h^n): c_{n+2} = (t0 c_n + c_{n-1}) / ((n+2)(n+1))
        cm1 = np.zeros_like(x)
        c0, c1 = y, yp * h
        sy, sp = c0 + c1, c1.copy()
        h2, h3 = h * h, h * h * h
        for n in range(0, 40):
            c2 = (t0 * c0 * h2 + cm1 * h3) / ((n + 2) * (n + 1))
            sy = sy + c2
            sp = sp + (n + 2) * c2
            cm1, c0, c1 = c0, c1, c2
        y, yp = sy, sp / _h_safe(h)
        t0 = t0 + h
    return y


def _h_safe(h):
    return np.where(h == 0, 1.0, h)


def _airy_neg_asym(z):
    """Ai(-z), z >= 10: z^(-1/4)/√π [sin(ζ+π/4) P - cos(ζ+π/4) Q]."""
    zeta = (2.0 / 3.0) * z * np.sqrt(z)
    u = 1.0
    p = np.ones_like(z)
    q = np.zeros_like(z)
    term = np.ones_like(z)
    for k in range(1, 40):
        u = u * (6 * k - 5) * (6 * k - 3) * (6 * k - 1) / ((2 * k - 1) * 216.0 * k)
        term = term / zeta
        t = u * term
        if k % 2:
            q = q + (t if k % 4 == 1 else -t)
        else:
            p = p + (t if k % 4 == 0 else -t)
    s, c = np.sin(zeta), np.cos(zeta)
    sp, cp = (s + c) / _SQRT2, (c - s) / _SQRT2  # sin(ζ+π/4), cos(ζ+π/4)
    return (sp * p - cp * q) / (_SQRT_PI * np.sqrt(np.sqrt(z)))


def airy_ai(x):
    x = np.asarray(x, np.float64)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        mid = (x >= -10.0) & (x <= 1.0)
        out[mid] = _airy_taylor(x[mid]) if np.any(mid) else 0.0
        pos = (x > 1.0) & np.isfinite(x)
        xp = x[pos]
        zeta = (2.0 / 3.0) * xp * np.sqrt(xp)
        ks = _k_integral_scaled(zeta, 1.0 / 3.0)
        out[pos] = np.sqrt(xp / 3.0) / _PI * ks * np.exp(-zeta)
        neg = (x < -10.0) & np.isfinite(x)
        out[neg] = _airy_neg_asym(-x[neg])
    return out


# -- Hurwitz zeta ----------------------------------------------------------------------------------------------
# B_2j / (2j)! for j = 1..12
_B2J = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330,
        854513 / 138, -236364091 / 2730]
_B2J_FACT = [b / math.factorial(2 * j) for j, b in enumerate(_B2J, start=1)]


def _zeta_em(s, q):
    """Euler–Maclaurin for s > 1 finite and q finite, q not a non-positive integer."""
    n = np.clip(np.ceil(s + 26.0 - q), 0, 4000).astype(np.int64)
    total = np.zeros_like(s)
    nmax = int(n.max()) if n.size else 0
    for k in range(nmax):
        m = k < n
        total = total + np.where(m, np.power(q + k, -s), 0.0)
    a = q + n
    ap = np.power(a, -s)
    total = total + ap * a / (s - 1.0) + 0.5 * ap
    fac = s * ap / a  # s a^(-s-1)
    for j, c in enumerate(_B2J_FACT):
        total = total + c * fac
        fac = fac * (s + 2 * j + 1) * (s + 2 * j + 2) / (a * a)
    return total


def zeta(s, q):
    s, q = np.broadcast_arrays(np.asarray(s, np.float64), np.asarray(q, np.float64))
    out = np.full(s.shape, np.nan)
    with np.errstate(all="ignore"):
        pole_q = (q <= 0) & (q == np.floor(q))
        bad_neg = (q < 0) & ~pole_q & (s != np.floor(s))
        ok = (s > 1) & np.isfinite(s) & np.isfinite(q) & ~pole_q & ~bad_neg
        out[ok] = _zeta_em(s[ok], q[ok])
        out[(s == 1) & ~np.isnan(q)] = np.inf
        out[(s > 1) & pole_q] = np.inf
    return out


# -- incomplete gamma ------------------------------------------------------------------------------------------
def _log1pmx(d):
    """log(1 + d) - d, accurate for small d."""
    out = np.log1p(d) - d
    small = np.abs(d) < 0.3
    ds = d[small]
    s = np.zeros_like(ds)
    p = ds * ds
    for k in range(2, 45):
        s = s + (p / k if k % 2 == 0 else -p / k)
        p = p * ds
    out[small] = -s  # log1p(d) - d = Σ_{k>=2} (-1)^(k+1) d^k / k; the loop summed (-1)^k d^k / k
    return out


def _igam_fac(a, x):
    """x^a e^-x / Γ(a), without cancellation for large a."""
    out = np.exp(a * np.log(x) - x - lgamma(a))
    # for large a the terms above cancel: Stirling's series gives x^a e^-x / Γ(a) = √(a/2π) (x/a)^a e^(a-x)
    # e^-stirl(a), with a log(x/a) + a - x = a (log1p(d) - d) formed without cancellation near x = a
    big = a >= 20.0
    ab, xb = a[big], x[big]
    d = (xb - ab) / ab
    ia = 1.0 / ab
    ia2 = ia * ia
    stirl = ia * (1 / 12 - ia2 * (1 / 360 - ia2 * (1 / 1260 - ia2 * (1 / 1680 - ia2 / 1188))))
    expo = np.where(np.abs(d) < 0.5, ab * _log1pmx(d), ab * np.log(xb / ab) + (ab - xb))
    out[big] = np.sqrt(ab / (2 * _PI)) * np.exp(expo - stirl)
    return out


def _iterate(state, step, done, max_iter):
    """Run step on the unfinished elements only, until done or max_iter."""
    idx = np.arange(state[0].size)
    for _ in range(max_iter):
        if idx.size == 0:
            break
        sub = [v[idx] for v in state]
        new = step(*sub)
        for v, nv in zip(state, new):
            v[idx] = nv
        fin = done(*new)
        idx = idx[~fin]


def _igam_series(a, x):
    """P(a, x) = fac/a Σ x^n / ((a+1)...(a+n))."""
    term = np.ones_like(a)
    s = np.ones_like(a)
    an = a.copy()
    st = [term, s, an, a, x]

    def step(term, s, an, a, x):
        an = an + 1.0
        term = term * x / an
        s = s + term
        return term, s, an, a, x
    _iterate(st, step, lambda term, s, *r: np.abs(term) <= 1e-17 * np.abs(s),
             200 + int(40 * np.sqrt(np.max(a) + 1)) if a.size else 0)
    return _igam_fac(a, x) / a * st[1]


def _igamc_cf(a, x):
    """Q(a, x) by the continued fraction (modified Lentz)."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full_like(a, 1.0 / tiny)
    d = 1.0 / np.where(b == 0, tiny, b)
    h = d.copy()
    i = np.zeros_like(a)
    st = [b, c, d, h, i, a, x, np.ones_like(a)]

    def step(b, c, d, h, i, a, x, dl):
        i = i + 1.0
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        dl = d * c
        h = h * dl
        return b, c, d, h, i, a, x, dl
    _iterate(st, step, lambda *v: np.abs(v[7] - 1.0) <= 1e-16,
             300 + int(40 * np.sqrt(np.max(a) + 1)) if a.size else 0)
    return _igam_fac(a, x) * st[3]


_ZETA_K: list = []


def lgamma1p(a):
    """lnΓ(1 + a) without rounding 1 + a: -γa + Σ_{k>=2} (-1)^k ζ(k) a^k / k for |a| < 1/2."""
    a = np.asarray(a, np.float64)
    if not _ZETA_K:
        _ZETA_K.extend(zeta(np.arange(2.0, 80.0), np.ones(78)).tolist())
    small = np.abs(a) < 0.5
    out = lgamma(1.0 + a)
    asm = a[small]
    s = np.zeros_like(asm)
    p = asm * asm
    for k, z in enumerate(_ZETA_K, start=2):
        s = s + (z / k if k % 2 == 0 else -z / k) * p
        p = p * asm
    out[small] = -_EULER * asm + s
    return out


def _igamc_small(a, x):
    """Q(a, x) for a < 1, x <= 1.5 without forming 1 - P:
    Q = -expm1(a ln x - lnΓ(1+a)) - x^a/Γ(a) Σ_{n>=1} (-x)^n / (n! (a+n))."""
    lx = np.log(x)
    lg = lgamma1p(a)
    t1 = -np.expm1(a * lx - lg)
    term = np.ones_like(x)
    s = np.zeros_like(x)
    for n in range(1, 40):
        term = term * (-x) / n
        s = s + term / (a + n)
    # x^a / Γ(a) = a x^a / Γ(1+a)
    return t1 - a * np.exp(a * lx - lg) * s


def _igam(a, x, upper):
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
        use_cf = ok & (x > a + 1.0) | ok & (a < 1.0) & (x > 1.5)
        use_ser = ok & ~use_cf
        small_q = use_ser & (a < 1.0) & (x <= 1.5)
        if upper and np.any(small_q):
            out[small_q] = _igamc_small(a[small_q], x[small_q])
            use_ser = use_ser & ~small_q
        if np.any(use_ser):
            p = _igam_series(a[use_ser], x[use_ser])
            out[use_ser] = 1.0 - p if upper else p
        if np.any(use_cf):
            qv = _igamc_cf(a[use_cf], x[use_cf])
            out[use_cf] = qv if upper else 1.0 - qv
        lo, hi = (1.0, 0.0) if upper else (0.0, 1.0)
        out[(x == 0) & (a > 0)] = lo
        out[(a == 0) & (x > 0)] = hi
        out[(x == np.inf) & np.isfinite(a) & (a >= 0)] = hi
        out[(a == np.inf) & np.isfinite(x) & (x >= 0)] = lo
    return out


def gammainc(a, x):
    return _igam(a, x, False)


def gammaincc(a, x):
    return _igam(a, x, True)


# -- orthogonal polynomials (torch's recurrences and closed forms) --------------------------------------------
def _poly(x, n, kind):
    # computed in the operands' own float dtype, as torch does (so overflow gives torch's inf/nan)
    dt = np.result_type(np.asarray(x).dtype, np.float32) if isinstance(x, np.ndarray) else np.float64
    x, n = np.broadcast_arrays(np.asarray(x, dt), np.asarray(n, np.float64))
    out = np.zeros(x.shape, dt)
    with np.errstate(all="ignore"):
        nn = np.where(np.isfinite(n), n, -1.0)
        ni = np.trunc(np.clip(nn, -1.0, 2.0 ** 62)).astype(np.int64)
        _POLYS[kind](x, ni.astype(dt), out)
        out[np.isnan(x) & (ni >= 0)] = np.nan
    return out


def _recur(x, n, out, p0, p1, step, special=None, closed=None):
    """p_n by the three-term recurrence for the elements not already handled."""
    todo = n >= 0
    if special is not None:
        m, v = special(x, n)
        m = m & todo
        out[m] = v[m]
        todo &= ~m
    if closed is not None:
        m, v = closed(x, n)
        m = m & todo
        out[m] = v[m]
        todo &= ~m
    if not np.any(todo):
        return
    xs, ns = x[todo], n[todo]
    p, q = p0(xs), p1(xs)
    res = np.where(ns == 0, p, q)
    nmax = int(ns.max())
    for k in range(2, nmax + 1):
        p, q = q, step(xs, k, p, q)
        res = np.where(ns == k, q, res)
    out[todo] = res


def _ones(x):
    return np.ones_like(x)


def _sgn_n(n):
    return np.where(n % 2 == 0, 1.0, -1.0)


def _cheb_t(x, n, out):
    def special(x, n):
        return np.abs(x) == 1, np.where((x > 0) | (n % 2 == 0), 1.0, -1.0)

    def closed(x, n):
        return (n > 6) & (np.abs(x) < 1), np.cos(n * np.arccos(x))
    _recur(x, n, out, _ones, lambda x: x, lambda x, k, p, q: (x + x) * q - p, special, closed)


def _cheb_u(x, n, out):
    def special(x, n):
        return np.abs(x) == 1, np.where((x > 0) | (n % 2 == 0), n + 1.0, -(n + 1.0))

    def closed(x, n):
        t = np.arccos(x)
        st = np.sin(t)
        v = np.where(st != 0, np.sin((n + 1) * t) / st, (n + 1) * np.cos((n + 1) * t) / x)
        return (n > 8) & (np.abs(x) < 1), v
    _recur(x, n, out, _ones, lambda x: x + x, lambda x, k, p, q: (x + x) * q - p, special, closed)


def _cheb_v(x, n, out):
    def special(x, n):
        return np.abs(x) == 1, np.where(x > 0, 1.0, np.where(n % 2 == 0, n + n + 1.0, -(n + n + 1.0)))

    def closed(x, n):
        t = np.arccos(x)
        v = np.where(np.sin(t / 2) != 1, np.cos((n + 0.5) * t) / np.cos(t / 2),
                     np.where(n % 2 == 0, n + n + 1.0, -(n + n + 1.0)))
        return (n > 8) & (np.abs(x) < 1), v
    _recur(x, n, out, _ones, lambda x: x + x - 1, lambda x, k, p, q: (x + x) * q - p, special, closed)


def _cheb_w(x, n, out):
    def special(x, n):
        return np.abs(x) == 1, np.where(x > 0, n + n + 1.0, _sgn_n(n))

    def closed(x, n):
        t = np.arccos(x)
        v = np.where(np.cos(t / 2) != 1, np.sin((n + 0.5) * t) / np.sin(t / 2),
                     np.where(x > 0, n + n + 1.0, _sgn_n(n)))
        return (n > 8) & (np.abs(x) < 1), v
    _recur(x, n, out, _ones, lambda x: x + x + 1, lambda x, k, p, q: (x + x) * q - p, special, closed)


def _shifted(fn, x, n, out):
    fn(x + x - x.dtype.type(1), n, out)


def _hermite_h(x, n, out):
    _recur(x, n, out, _ones, lambda x: x + x, lambda x, k, p, q: (x + x) * q - (2.0 * (k - 1)) * p)


def _hermite_he(x, n, out):
    _recur(x, n, out, _ones, lambda x: x, lambda x, k, p, q: x * q - (k - 1.0) * p)


def _laguerre(x, n, out):
    def special(x, n):
        return x == 0, np.ones_like(x)
    _recur(x, n, out, _ones, lambda x: 1.0 - x,
           lambda x, k, p, q: ((2.0 * k - 1.0 - x) * q - (k - 1.0) * p) / k, special)


def _legendre(x, n, out):
    def special(x, n):
        return np.abs(x) == 1, np.where((x > 0) | (n == 0) | (n % 2 == 0), 1.0, -1.0)
    _recur(x, n, out, _ones, lambda x: x, lambda x, k, p, q: ((2.0 * k - 1.0) * x * q - (k - 1.0) * p) / k, special)


_POLYS = {
    "chebyshev_polynomial_t": _cheb_t, "chebyshev_polynomial_u": _cheb_u,
    "chebyshev_polynomial_v": _cheb_v, "chebyshev_polynomial_w": _cheb_w,
    "shifted_chebyshev_polynomial_t": lambda x, n, o: _shifted(_cheb_t, x, n, o),
    "shifted_chebyshev_polynomial_u": lambda x, n, o: _shifted(_cheb_u, x, n, o),
    "shifted_chebyshev_polynomial_v": lambda x, n, o: _shifted(_cheb_v, x, n, o),
    "shifted_chebyshev_polynomial_w": lambda x, n, o: _shifted(_cheb_w, x, n, o),
    "hermite_polynomial_h": _hermite_h, "hermite_polynomial_he": _hermite_he,
    "laguerre_polynomial_l": _laguerre, "legendre_polynomial_p": _legendre,
}


def polynomial(kind):
    return lambda x, n: _poly(x, n, kind)


# -- entr, xlog1py ------------------------------------------------------------------------------------------
def entr(x):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        out = -x * np.log(x)
        out = np.where(x == 0, 0.0, out)
        out = np.where(x < 0, -np.inf, out)
    return out
