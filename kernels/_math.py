"""Vectorisable scalar math for kernels: exp, log, log1p, tanh, sigmoid, softplus, relu:
the one definition of each, used by every kernel family (elementwise, activations, the linear
epilogue, recurrent cells).

Why: the llvmlite build here has no SVML, so ``np.exp``/``np.log``/``np.tanh`` inside a numba
loop are scalar libm calls that LLVM cannot vectorise (4-50x slower than NumPy on 1M floats).
These functions use only arithmetic, comparisons (which become selects) and integer bit casts,
so a plain loop calling them vectorises. Each is an ``@kernel`` that numba/LLVM inline into the
calling kernel; call them on scalars, e.g. ``out[i] = exp(x[i])``.

float32 arguments compute in float32 (musl/Cephes single-precision algorithms), float64 in
float64 (fdlibm/Cephes double); the branch is chosen at compile time with
``isinstance(x, np.float32)``, and integer arguments are computed as float64. Special values
follow IEEE/NumPy: NaN propagates, overflow gives inf, underflow gives 0 (through denormals),
log(0) = -inf, log(x < 0) = NaN. Measured accuracy against float64/long-double NumPy is in
tests/test_math_accuracy.py (float32 <= 2 ulp, float64 <= 4 ulp).

Fastmath note: kernels run with ``reassoc``; the algorithms below avoid expressions such as
``(1 + x) - 1`` that reassociation would fold, or hide them behind a select (see log1p).
"""
import math

import numpy as np

from ._jit import kernel


@kernel
def _exp_f32(x):
    """e**x in float32: x = n ln2 + r, |r| <= ln2/2, e**r by the Cephes expf polynomial."""
    T = np.float32
    xc = x if x > T(-104.0) else T(-104.0)  # NaN -> -104 here, restored at the end
    xc = xc if xc < T(89.0) else T(89.0)
    n = np.floor(xc * T(1.4426950408889634) + T(0.5))
    # `n if x == x else x` is n to us but opaque to fast-math reassociation, which would
    # otherwise fold n*C1 + n*C2 into n*(C1 + C2) and lose the split's precision
    r = (xc - n * T(0.693359375)) - (n if x == x else x) * T(-2.12194440e-4)
    p = ((((T(1.9875691500e-4) * r + T(1.3981999507e-3)) * r + T(8.3334519073e-3)) * r
          + T(4.1665795894e-2)) * r + T(1.6666665459e-1)) * r + T(5.0000001201e-1)
    p = p * (r * r) + r + T(1.0)
    # scale by 2**n as 2**h * 2**(n-h), each built from exponent bits and normal, so denormal
    # and inf results come out right; the select keeps reassociation from forming 2**n itself
    k = np.int32(n)
    h = np.int32(k >> 1)
    y = p * np.int32((h + 127) << 23).view(T)
    y = y if x == x else x
    return y * np.int32((k - h + 127) << 23).view(T)


@kernel
def _exp_f64(x):
    """e**x in float64: x = n ln2 + r, e**r = 1 + 2 r P(r^2) / (Q(r^2) - r P(r^2)) (Cephes)."""
    xc = x if x > -746.0 else -746.0
    xc = xc if xc < 710.0 else 710.0
    n = np.floor(xc * 1.4426950408889634 + 0.5)
    r = (xc - n * 6.93145751953125e-1) - (n if x == x else x) * 1.42860682030941723212e-6
    rr = r * r
    pr = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
              + 9.99999999999999999910e-1)
    q = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
         + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0
    p = 1.0 + 2.0 * (pr / (q - pr))
    k = np.int64(n)
    h = k >> 1
    y = p * np.int64((h + 1023) << 52).view(np.float64)
    y = y if x == x else x
    return y * np.int64((k - h + 1023) << 52).view(np.float64)


@kernel
def _log_f32(x):
    """log(x) in float32 (musl logf): x = 2**k m, m in [sqrt(2)/2, sqrt(2)), log(m) via s = f/(2+f)."""
    T, I = np.float32, np.int32
    sub = x < T(1.1754943508222875e-38)  # denormal: scale into the normal range first
    xs = x * (T(33554432.0) if sub else T(1.0))
    k = I(-25) if sub else I(0)
    ix = I(T(xs).view(I) + (0x3f800000 - 0x3f3504f3))
    k = I(k + (ix >> 23) - 127)
    m = I((ix & 0x007fffff) + 0x3f3504f3).view(T)
    f = m - T(1.0)
    s = f / (T(2.0) + f)
    z = s * s
    w = z * z
    t1 = w * (T(0.40000972151756287) + w * T(0.24279078841209412))
    t2 = z * (T(0.6666666269302368) + w * T(0.2849878668785095))
    hfsq = T(0.5) * f * f
    dk = T(k)
    y = s * (hfsq + t1 + t2) + dk * T(9.0580006145e-06) - hfsq + f + (dk if x == x else x) * T(6.9313812256e-01)
    y = -np.inf if x == 0 else y
    y = np.nan if x < 0 else y
    return y if x < np.inf else x  # +inf, NaN


@kernel
def _log_f64(x):
    """log(x) in float64 (fdlibm/musl log): x = 2**k m, log(m) via s = f/(2+f), Lg1..Lg7."""
    I = np.int64
    sub = x < 2.2250738585072014e-308
    xs = x * (18014398509481984.0 if sub else 1.0)  # 2**54
    k = I(-54) if sub else I(0)
    ix = np.float64(xs).view(I) + (0x3ff0000000000000 - 0x3fe6a09e667f3bcd)
    k = k + (ix >> 52) - 1023
    m = I((ix & 0x000fffffffffffff) + 0x3fe6a09e667f3bcd).view(np.float64)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01
                                                + w * 1.531383769920937332e-01))
    t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
                                                + w * (1.818357216161805012e-01
                                                       + w * 1.479819860511658591e-01)))
    hfsq = 0.5 * f * f
    dk = np.float64(k)
    y = s * (hfsq + t1 + t2) + dk * 1.90821492927058770002e-10 - hfsq + f \
        + (dk if x == x else x) * 6.93147180369123816490e-01
    y = -np.inf if x == 0 else y
    y = np.nan if x < 0 else y
    return y if x < np.inf else x


@kernel
def exp(x):
    """e**x."""
    if isinstance(x, np.float32):
        return _exp_f32(x)
    return _exp_f64(np.float64(x))


@kernel
def log(x):
    """natural log(x); log(0) = -inf, log(x < 0) = NaN."""
    if isinstance(x, np.float32):
        return _log_f32(x)
    return _log_f64(np.float64(x))


@kernel(inline="always")
def tanh(x):
    """tanh(x) = (e**x - e**-x) / (e**x + e**-x); odd polynomial/rational near 0 (Cephes)."""
    # inlined at numba IR level: with exp inlined into it, LLVM's size-based inliner would keep
    # tanh a call, and a call in the loop blocks vectorisation
    # Pitfall of the IR-level inlining: given a value computed from another inlined tanh's
    # result (tanh(tanh(x)), f * c + i * tanh(a)), the isinstance below is not settled and
    # the float64 branch is compiled in; pass such a value through an array (store, then load).
    ax = abs(x)
    z = x * x
    if isinstance(x, np.float32):
        T = np.float32
        small = ((((T(-5.70498872745e-3) * z + T(2.06390887954e-2)) * z - T(5.37397155531e-2))
                  * z + T(1.33314422036e-1)) * z - T(3.33332819422e-1)) * z * x + x
        big = T(1.0) - T(2.0) / (_exp_f32(ax + ax) + T(1.0))
        big = big if x >= 0 else -big
        return small if ax < T(0.625) else big
    p = (-9.64399179425052238628e-1 * z - 9.92877231001918586564e1) * z \
        - 1.61468768441708447952e3
    q = ((z + 1.12811678491632931402e2) * z + 2.23548839060100448583e3) * z \
        + 4.84406305325125486048e3
    small = x + x * z * (p / q)
    big = 1.0 - 2.0 / (_exp_f64(np.float64(ax + ax)) + 1.0)
    big = big if x >= 0 else -big
    return small if ax < 0.625 else big


@kernel
def sigmoid(x):
    """1 / (1 + e**-x), as e/(1+e) with e = e**-|x| for x < 0 (no overflow, full relative accuracy)."""
    e = exp(-abs(x))
    s = type(e)(1.0) / (type(e)(1.0) + e)
    return s if x >= 0 else e * s


@kernel(inline="always")
def log1p(x):
    """log(1 + x), accurate for tiny x: log(u) * x / (u - 1) with u = 1 + x (Goldberg)."""
    u = x + type(x)(1.0)
    u = u if x == x else x  # opaque select: else reassociation folds (1 + x) - 1 to x
    d = u - type(x)(1.0)
    lu = log(u)
    y = lu * (x / d)
    y = x if d == 0 else y  # |x| below half an ulp of 1: log1p(x) = x
    # large u: the correction is 1 within rounding, and reassociation may evaluate
    # (lu * x) / d, which overflows near the top of the range
    return lu if u > type(u)(1e15) else y


@kernel
def relu(x):
    """max(x, 0); NaN propagates (as torch.relu)."""
    return x if (x > 0 or x != x) else type(x)(0.0)


@kernel(inline="always")
def softplus(x):
    """log(1 + e**x) = max(x, 0) + log1p(e**-|x|): no overflow for large |x|."""
    return (x if x > 0 else type(x)(0.0)) + log1p(exp(-abs(x)))


# ----------------------------------------------------------------------------------------------
# Further unary math (tensor ops tan ... erfinv). The vectorisable ones are written over exp,
# log and log1p above and computed in float64 (a float32 argument is widened, the caller's
# store rounds back): accurate to a few ulp. tan, asin, acos, atan, atan2, hypot, log10 (and erf,
# erfc in float64) are libm calls (scalar, not vectorised): their range reductions are long and
# these ops are rare in training loops; log10 stays libm so that powers of ten come out exact.

_LN2 = 0.6931471805599453


@kernel(inline="always")
def expm1(x):
    """e**x - 1, accurate for tiny x: (u - 1) * x / log(u) with u = e**x (Kahan)."""
    # inlined at IR level, as tanh: left a call, an ELU loop over 1M float32 took 13.5 ms
    # (libm's expm1: 9.6 ms), inlined 2.6 ms
    v = np.float64(x)
    u = _exp_f64(v)
    um1 = u - 1.0
    y = um1 * (v / _log_f64(u))
    y = v if u == 1.0 else y
    # |x| > 1/2: u - 1 has no harmful cancellation (and covers u = 0, u = inf)
    return um1 if abs(v) > 0.5 else y


@kernel
def exp2(x):
    """2**x = 2**n * e**(r ln2), n = round(x), |r| <= 1/2: exact for integer x."""
    v = np.float64(x)
    vc = v if v > -1080.0 else -1080.0
    vc = vc if vc < 1030.0 else 1030.0
    n = np.floor(vc + 0.5)
    p = _exp_f64((vc - n) * _LN2)
    k = np.int64(n)
    h = k >> 1
    y = p * np.int64((h + 1023) << 52).view(np.float64)
    y = y if v == v else v
    return y * np.int64((k - h + 1023) << 52).view(np.float64)


@kernel
def log2(x):
    """log2(x) = k + log(m) / ln2 with x = 2**k m, m in [sqrt(2)/2, sqrt(2)): exact for 2**k."""
    I = np.int64
    v = np.float64(x)
    sub = v < 2.2250738585072014e-308
    vs = v * (18014398509481984.0 if sub else 1.0)  # 2**54
    k = I(-54) if sub else I(0)
    ix = np.float64(vs).view(I) + (0x3ff0000000000000 - 0x3fe6a09e667f3bcd)
    k = k + (ix >> 52) - 1023
    m = I((ix & 0x000fffffffffffff) + 0x3fe6a09e667f3bcd).view(np.float64)
    y = np.float64(k) + log1p(m - 1.0) * 1.4426950408889634
    y = -np.inf if v == 0 else y
    y = np.nan if v < 0 else y
    return y if v < np.inf else v  # +inf, NaN


@kernel
def log10(x):
    """log10(x) (libm)."""
    return np.log10(np.float64(x))


@kernel
def sinh(x):
    """(e**x - e**-x) / 2, through expm1 for |x| < 1 and as (e**(|x|/2) / 2) e**(|x|/2) for
    |x| > 20 (no early overflow)."""
    v = np.float64(x)
    a = abs(v)
    em = expm1(a)
    small = 0.5 * (em + em / (em + 1.0))
    e = _exp_f64(a)
    mid = 0.5 * (e - 1.0 / e)
    h = _exp_f64(0.5 * a)
    hh = 0.5 * h
    hh = hh if v == v else v  # opaque select: else reassociation forms h * h, which overflows
    y = small if a < 1.0 else (mid if a < 20.0 else hh * h)
    return y if v >= 0 else -y


@kernel
def cosh(x):
    """(e**x + e**-x) / 2, as (e**(|x|/2) / 2) e**(|x|/2) for |x| > 20 (no early overflow)."""
    a = abs(np.float64(x))
    e = _exp_f64(a)
    h = _exp_f64(0.5 * a)
    hh = 0.5 * h
    hh = hh if a == a else a  # opaque select: else reassociation forms h * h, which overflows
    return 0.5 * (e + 1.0 / e) if a < 20.0 else hh * h


@kernel
def asinh(x):
    """sign(x) log(|x| + sqrt(x^2 + 1)), as log1p(|x| + x^2 / (1 + sqrt(1 + x^2)))."""
    v = np.float64(x)
    a = abs(v)
    y = log1p(a + a * a / (1.0 + np.sqrt(1.0 + a * a)))
    y = y if a < 1e8 else _log_f64(a) + _LN2
    return y if v >= 0 else -y


@kernel
def acosh(x):
    """log(x + sqrt(x^2 - 1)), as log1p(t + sqrt(2t + t^2)) with t = x - 1 (NaN for x < 1)."""
    v = np.float64(x)
    t = v - 1.0
    y = log1p(t + np.sqrt(2.0 * t + t * t))
    y = np.nan if v < 1.0 else y  # (t * t overflows to inf for huge negative x)
    return y if v < 1e8 else _log_f64(v) + _LN2


@kernel
def atanh(x):
    """log((1 + x) / (1 - x)) / 2 through log1p (fdlibm's split at |x| = 1/2)."""
    v = np.float64(x)
    a = abs(v)
    t = a + a
    y = 0.5 * (log1p(t + t * a / (1.0 - a)) if a < 0.5 else log1p(t / (1.0 - a)))
    return y if v >= 0 else -y


@kernel
def tan(x):
    """tan(x) (libm)."""
    return np.tan(np.float64(x))


@kernel
def asin(x):
    """arcsin(x) (libm)."""
    return np.arcsin(np.float64(x))


@kernel
def acos(x):
    """arccos(x) (libm)."""
    return np.arccos(np.float64(x))


@kernel
def atan(x):
    """arctan(x) (libm)."""
    return np.arctan(np.float64(x))


@kernel
def atan2(y, x):
    """the angle of the point (x, y) in (-pi, pi] (libm)."""
    return np.arctan2(np.float64(y), np.float64(x))


@kernel
def hypot(x, y):
    """sqrt(x^2 + y^2) without intermediate overflow (libm)."""
    return np.hypot(np.float64(x), np.float64(y))


# erf(a) = a P(a^2) for a < 1; erfc(a) = exp(-a^2) Q(1 / (1 + a)) / a for a >= 1 (_erf_erfc)
_ERF_P = (1.1283791670623593, -0.37612638475990723, 0.11283782622055578, -0.02686543831019971,
          0.005221053411772582, -0.0008484396540663175, 0.00011268253828484162,
          -9.67359063792199e-06)
_ERFC_Q = (0.5641895562595075, 2.7233867974823543e-06, -0.2822109332623757, -0.5613804998565054,
           -0.46628269496567804, 1.0097144400863893, -1.4208260701847866, 16.27082179831681,
           -59.53128354135289, 108.43361019273219, -112.94675824976206, 65.22637473000455,
           -16.37542920417034)


@kernel(inline="always")
def _horner(c, x):
    """c[0] + c[1] x + ... + c[-1] x^(n-1)."""
    y = c[len(c) - 1]
    for k in range(len(c) - 2, -1, -1):
        y = y * x + c[k]
    return y


@kernel(inline="always")
def _erf_erfc(a, e):
    """(erf(a), erfc(a)) for a >= 0 in float64, given e = exp(-a^2): erf(a) = a P(a^2) below
    a = 1, erfc(a) = e Q(1 / (1 + a)) / a above, each with the other as 1 minus it. P (degree
    7) and Q (degree 12) are least-squares fits (numpy polyfit on 6,000 Chebyshev nodes against
    math.erf / math.erfc): relative error of erf < 4e-11 and of erfc < 2e-10 for a in [0, 26]
    (erfc(26) ~ 1e-296; beyond, e is 0). Vectorisable, for float32 results; the tail of erfc
    keeps its relative accuracy, where 1 - erf would cancel."""
    small = a * _horner(_ERF_P, a * a)
    big = e * _horner(_ERFC_Q, 1.0 / (1.0 + a)) / a
    if a < 1.0:
        return small, 1.0 - small
    return 1.0 - big, big


@kernel(inline="always")
def erf(x):
    """2/sqrt(pi) * integral of e**-t^2 from 0 to x: float32 from _erf_erfc, float64 libm."""
    v = np.float64(x)
    if not isinstance(x, np.float32):
        return math.erf(v)
    a = abs(v)
    return math.copysign(_erf_erfc(a, _exp_f64(-a * a))[0], v)


@kernel(inline="always")
def erfc(x):
    """1 - erf(x), accurate in the tail: float32 from _erf_erfc, float64 libm."""
    v = np.float64(x)
    if not isinstance(x, np.float32):
        return math.erfc(v)
    a = abs(v)
    r, rc = _erf_erfc(a, _exp_f64(-a * a))
    return 1.0 + r if v < 0 else rc


@kernel(inline="always")
def normal_cdf_pdf(x):
    """(Phi(x), phi(x)): the standard normal CDF (1 + erf(x / sqrt 2)) / 2 and density
    exp(-x^2 / 2) / sqrt(2 pi), in float64; for float32 arguments (GELU's) Phi(x) = erfc(a) / 2
    below 0 (a = |x| / sqrt 2), from _erf_erfc, so the lower tail stays accurate; float64
    arguments use libm's erf (gradcheck's finite differences need the full precision)."""
    v = np.float64(x)
    t = 0.5 * v * v  # a^2
    pdf = _exp_f64(-t) * 0.3989422804014327
    if not isinstance(x, np.float32):
        return 0.5 * (1.0 + math.erf(v * 0.7071067811865476)), pdf
    erfc = _erf_erfc(abs(v) * 0.7071067811865476, pdf * 2.5066282746310002)[1]
    return (0.5 * erfc if v < 0 else 1.0 - 0.5 * erfc), pdf


@kernel
def erfinv(y):
    """x with erf(x) = y: a rational first guess, then three Newton steps on erf(x) - y."""
    v = np.float64(y)
    a = abs(v)
    z = v * v
    central = v * (((-0.140543331 * z + 0.914624893) * z - 1.645349621) * z + 0.886226899) / \
        ((((0.012229801 * z - 0.329097515) * z + 1.442710462) * z - 2.118377725) * z + 1.0)
    w = np.sqrt(-_log_f64((1.0 - a) / 2.0))
    tail = (((1.641345311 * w + 3.429567803) * w - 1.624906493) * w - 1.970840454) / \
        ((1.637067800 * w + 3.543889200) * w + 1.0)
    r = central if a <= 0.7 else (tail if v >= 0 else -tail)
    for _ in range(3):
        # the residual erf(r) - y in the tails as (1 - |y|) - erfc(|r|): 1 - |y| is exact there
        # and erfc keeps its digits, where erf(r) - y would cancel
        res = math.erf(r) - v if a < 0.5 else (1.0 - a - math.erfc(abs(r))) * (1.0 if v >= 0 else -1.0)
        r = r - res / (1.1283791670955126 * _exp_f64(-r * r))
    r = (np.inf if v > 0 else -np.inf) if a == 1.0 else r
    return np.nan if a > 1.0 else r  # NaN stays NaN through the steps
