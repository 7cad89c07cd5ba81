"""Elementwise math: op-coded unary and binary kernels, forward and backward side by side.

Calling convention (measured, see README "Kernel calling convention"): every array is passed
flat (1-D, C-contiguous, one dtype), so each kernel compiles once per dtype, whatever the
tensors' rank. The op is an integer code branched on *outside* the inner loop, so one compiled
kernel serves every op of its family (few compiles: cold start and CI time stay small).
Broadcasting is described by a coalesced shape and per-input element strides (0 = broadcast).
exp, log and log1p use kernels/_math.py (vectorisable; libm calls are not).
Constants and scalar parameters take the arrays' dtype, so float32 math stays float32 (see
kernels/activation.py); the special functions (_unary_special) are computed in float64 by
design (kernels/_math.py).
"""
import numpy as np

from . import _math
from ._jit import kernel

# binary op codes
ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, MAX_MASK, POW_GRAD_BASE, POW_GRAD_EXP = range(10)
# float math (floor/trunc division and remainders of integers are NumPy calls in jitgrad/_ops)
(ATAN2, HYPOT, XLOGY, FLOOR_DIV, TRUNC_DIV, REMAINDER, FMOD, ATAN2_GRAD_A, ATAN2_GRAD_B,
 XLOGY_GRAD_A) = range(10, 20)

# unary op codes
# (relu, sigmoid and tanh are activations: kernels/activation.py, one Function for jitgrad.tanh,
# Tensor.tanh and nn.functional.tanh)
NEG, EXP, LOG, LOG1P, SQRT, RSQRT, ABS, SIGN, SIN, COS, CLAMP, SCALE = range(12)
(TAN, SINH, COSH, ASIN, ACOS, ATAN, ASINH, ACOSH, ATANH, LOG2, LOG10, EXP2, EXPM1, ERF, ERFC,
 ERFINV) = range(12, 28)  # _unary_special
# ROUND: p0 = 10**|decimals|, p1 = 1 for negative decimals; NAN_TO_NUM: NaN -> p0, +inf -> p1;
# NEGINF_TO: -inf -> p0 (nan_to_num is NAN_TO_NUM then NEGINF_TO)
FLOOR, CEIL, ROUND, TRUNC, FRAC, RECIPROCAL, SQUARE, NAN_TO_NUM, NEGINF_TO = range(28, 37)


@kernel
def _binary_row(op, a, ia, sa, b, ib, sb, out, io, n):
    """out[io+j] = op(a[ia+j*sa], b[ib+j*sb]) for j < n."""
    # unsigned indices: a signed one makes numba add a negative-index wraparound per element,
    # which keeps LLVM from vectorising the loop (strides here are never negative)
    f = out.dtype.type
    zero, one, half = f(0.0), f(1.0), f(0.5)
    if op == ADD:
        for j in range(n):
            out[io + j] = a[np.uint64(ia + j * sa)] + b[np.uint64(ib + j * sb)]
    elif op == SUB:
        for j in range(n):
            out[io + j] = a[np.uint64(ia + j * sa)] - b[np.uint64(ib + j * sb)]
    elif op == MUL:
        for j in range(n):
            out[io + j] = a[np.uint64(ia + j * sa)] * b[np.uint64(ib + j * sb)]
    elif op == DIV:
        for j in range(n):
            out[io + j] = a[np.uint64(ia + j * sa)] / b[np.uint64(ib + j * sb)]
    elif op == POW:
        for j in range(n):
            out[io + j] = a[np.uint64(ia + j * sa)] ** b[np.uint64(ib + j * sb)]
    elif op == MAXIMUM:  # NaN propagates, as torch.maximum
        for j in range(n):
            x, y = a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)]
            out[io + j] = x if (x >= y or x != x) else y
    elif op == MINIMUM:
        for j in range(n):
            x, y = a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)]
            out[io + j] = x if (x <= y or x != x) else y
    elif op == MAX_MASK:  # d maximum(a, b) / da: 1 where a > b, 1/2 at ties
        for j in range(n):
            x, y = a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)]
            out[io + j] = one if x > y else (half if x == y else zero)
    elif op == POW_GRAD_BASE:  # d a**b / da = b * a**(b-1)  (0 where b == 0)
        for j in range(n):
            x, y = a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)]
            out[io + j] = zero if y == 0 else y * x ** (y - one)
    elif op == POW_GRAD_EXP:  # d a**b / db = a**b * log(a)  (0 where a == 0 and b >= 0)
        for j in range(n):
            x, y = a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)]
            out[io + j] = zero if (x == 0 and y >= 0) else x ** y * np.log(x)
    elif op >= ATAN2:  # plain int64 offsets: one compile per dtype, not one per literal variant
        I = np.int64
        _binary_math_row(op, a, I(ia), I(sa), b, I(ib), I(sb), out, I(io), I(n))


@kernel
def _binary_math_row(op, a, ia, sa, b, ib, sb, out, io, n):
    """out[io+j] = op(a[ia+j*sa], b[ib+j*sb]) for the float math codes ATAN2 ... XLOGY_GRAD_A."""
    # a kernel of its own, as _unary_math: one body with every op made LLVM superlinear
    if op == ATAN2:
        for j in range(n):
            out[io + j] = _math.atan2(a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)])
    elif op == HYPOT:
        for j in range(n):
            out[io + j] = _math.hypot(a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)])
    elif op == XLOGY:  # x log y, 0 where x == 0 (unless y is NaN), as torch.xlogy
        for j in range(n):
            x, y = a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)]
            out[io + j] = y if y != y else (0.0 if x == 0 else x * _math.log(y))
    elif op == FLOOR_DIV:  # Python's float //: floor of the exact quotient (torch.floor_divide)
        for j in range(n):
            out[io + j] = a[np.uint64(ia + j * sa)] // b[np.uint64(ib + j * sb)]
    elif op == TRUNC_DIV:
        for j in range(n):
            out[io + j] = np.trunc(a[np.uint64(ia + j * sa)] / b[np.uint64(ib + j * sb)])
    elif op == REMAINDER:  # sign of the divisor (Python's %, torch.remainder)
        for j in range(n):
            out[io + j] = a[np.uint64(ia + j * sa)] % b[np.uint64(ib + j * sb)]
    elif op == FMOD:  # sign of the dividend (C fmod, torch.fmod)
        for j in range(n):
            out[io + j] = np.fmod(a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)])
    elif op == ATAN2_GRAD_A:  # d atan2(a, b) / da = b / (a^2 + b^2)
        for j in range(n):
            x, y = a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)]
            out[io + j] = y / (x * x + y * y)
    elif op == ATAN2_GRAD_B:  # d atan2(a, b) / db = -a / (a^2 + b^2)
        for j in range(n):
            x, y = a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)]
            out[io + j] = -x / (x * x + y * y)
    elif op == XLOGY_GRAD_A:  # d x log y / dx = log y, 0 where x == 0 and y <= 0 (torch)
        for j in range(n):
            x, y = a[np.uint64(ia + j * sa)], b[np.uint64(ib + j * sb)]
            out[io + j] = 0.0 if (x == 0 and y <= 0) else _math.log(y)


@kernel
def binary_same(op, a, b, out):
    """out = op(a, b) for equal-size flat arrays."""
    _binary_row(op, a, 0, 1, b, 0, 1, out, 0, out.size)


@kernel
def binary_backward_same(op, g, a, b, y, ga, gb):
    """ga, gb = g * d op(a, b) / da, g * d op(a, b) / db for equal-size flat arrays (y = op(a, b))."""
    n = g.size
    half, zero = g.dtype.type(0.5), g.dtype.type(0.0)
    if op == MUL:
        for i in range(n):
            ga[i] = g[i] * b[i]
            gb[i] = g[i] * a[i]
    elif op == DIV:
        for i in range(n):
            q = g[i] / b[i]
            ga[i] = q
            gb[i] = -q * y[i]
    elif op == MAXIMUM or op == MINIMUM:  # ties split the gradient evenly, as torch
        for i in range(n):
            x, z = a[i], b[i]
            if x == z:
                ga[i] = half * g[i]
            elif (x > z) == (op == MAXIMUM):
                ga[i] = g[i]
            else:
                ga[i] = zero
            gb[i] = g[i] - ga[i]


@kernel
def _arith_row(op, a, ia, sa, b, ib, sb, out, io, n):
    """out[io+j] = a[ia+j*sa] (op) b[ib+j*sb], op in ADD..DIV, (sa, sb) in (1, 1), (1, 0), (0, 1)."""
    # Row views indexed from 0 and the broadcast operand read once into a local: with a[ia + j]
    # LLVM must allow for a negative (wrapped) index, and a load of b[ib] inside the loop could
    # alias the store to out; either way the loop stayed scalar (2x slower than NumPy).
    o = out[io:io + n]
    if sb == 0:
        x = a[ia:ia + n]
        y = b[ib]
        if op == ADD:
            for j in range(n):
                o[j] = x[j] + y
        elif op == SUB:
            for j in range(n):
                o[j] = x[j] - y
        elif op == MUL:
            for j in range(n):
                o[j] = x[j] * y
        else:
            for j in range(n):
                o[j] = x[j] / y
    elif sa == 0:
        x = a[ia]
        y = b[ib:ib + n]
        if op == ADD:
            for j in range(n):
                o[j] = x + y[j]
        elif op == SUB:
            for j in range(n):
                o[j] = x - y[j]
        elif op == MUL:
            for j in range(n):
                o[j] = x * y[j]
        else:
            for j in range(n):
                o[j] = x / y[j]
    else:
        x = a[ia:ia + n]
        y = b[ib:ib + n]
        if op == ADD:
            for j in range(n):
                o[j] = x[j] + y[j]
        elif op == SUB:
            for j in range(n):
                o[j] = x[j] - y[j]
        elif op == MUL:
            for j in range(n):
                o[j] = x[j] * y[j]
        else:
            for j in range(n):
                o[j] = x[j] / y[j]


@kernel
def binary_broadcast(op, a, b, out, shape, sa, sb):
    """out = op(a, b) over the broadcast index space `shape`, inputs read with strides sa, sb."""
    nd = shape.size
    n = shape[nd - 1]
    if n == 0 or out.size == 0:
        return
    idx = np.zeros(nd, np.int64)
    ia = 0
    ib = 0
    ja, jb = sa[nd - 1], sb[nd - 1]
    # arithmetic rows with unit or zero inner strides (bias add, scaling, 0-d operands) take
    # dedicated loops; one generic strided row per op would multiply compile time if specialised
    fast = op <= DIV and ((ja == 1 and (jb == 1 or jb == 0)) or (ja == 0 and jb == 1))
    for r in range(out.size // n):
        if fast:
            _arith_row(op, a, ia, ja, b, ib, jb, out, r * n, n)
        else:
            _binary_row(op, a, ia, ja, b, ib, jb, out, r * n, n)
        d = nd - 2
        while d >= 0:
            idx[d] += 1
            ia += sa[d]
            ib += sb[d]
            if idx[d] < shape[d]:
                break
            ia -= sa[d] * shape[d]
            ib -= sb[d] * shape[d]
            idx[d] = 0
            d -= 1


@kernel
def _unary_math(op, x, out):
    """out = op(x) for op in EXP, LOG, LOG1P (kernels/_math.py)."""
    # a kernel of its own: these inlined bodies in one function with the other ops' loops made
    # LLVM's optimiser superlinear (4 s cold compile instead of ~1.5 s split)
    n = x.size
    if op == EXP:
        for i in range(n):
            out[i] = _math.exp(x[i])
    elif op == LOG:
        for i in range(n):
            out[i] = _math.log(x[i])
    elif op == LOG1P:
        for i in range(n):
            out[i] = _math.log1p(x[i])


@kernel
def unary_forward(op, x, out, p0, p1):
    """out = op(x); p0, p1 are the op's scalar parameters (clamp bounds, scale)."""
    n = x.size
    f = x.dtype.type  # constants and parameters in x's dtype (see the module docstring)
    zero, one = f(0.0), f(1.0)
    if op == EXP or op == LOG or op == LOG1P:
        _unary_math(op, x, out)
    elif op >= TAN and op <= ERFINV:
        _unary_special(op, x, out)
    elif op == NEG:
        for i in range(n):
            out[i] = -x[i]
    elif op == SQRT:
        for i in range(n):
            out[i] = np.sqrt(x[i])
    elif op == RSQRT:  # rsqrt(+-0) = +-inf, as torch (fast-math's reciprocal-sqrt gave NaN)
        for i in range(n):
            v = x[i]
            out[i] = one / v if v == 0 else one / np.sqrt(v)
    elif op == ABS:
        for i in range(n):
            out[i] = abs(x[i])
    elif op == SIGN:
        for i in range(n):
            v = x[i]
            out[i] = one if v > 0 else (-one if v < 0 else (zero if v == 0 else v))
    elif op == SIN:
        for i in range(n):
            out[i] = np.sin(x[i])
    elif op == COS:
        for i in range(n):
            out[i] = np.cos(x[i])
    elif op == CLAMP:  # min(max(x, p0), p1); NaN propagates
        lo, hi = f(p0), f(p1)
        for i in range(n):
            v = x[i]
            v = lo if v < lo else v
            out[i] = hi if v > hi else v
    elif op == SCALE:
        c = f(p0)
        for i in range(n):
            out[i] = x[i] * c
    elif op == FLOOR:
        for i in range(n):
            out[i] = np.floor(x[i])
    elif op == CEIL:
        for i in range(n):
            out[i] = np.ceil(x[i])
    elif op == ROUND:  # half to even, scaled by 10**decimals as torch (and NumPy) do
        if p0 == 1.0:
            for i in range(n):
                out[i] = np.rint(x[i])
        elif p1 == 0.0:
            for i in range(n):
                out[i] = np.rint(x[i] * p0) / p0
        else:
            for i in range(n):
                out[i] = np.rint(x[i] / p0) * p0
    elif op == TRUNC:
        for i in range(n):
            out[i] = np.trunc(x[i])
    elif op == FRAC:
        for i in range(n):
            out[i] = x[i] - np.trunc(x[i])
    elif op == RECIPROCAL:
        for i in range(n):
            out[i] = one / x[i]
    elif op == SQUARE:
        for i in range(n):
            out[i] = x[i] * x[i]
    elif op == NAN_TO_NUM:
        for i in range(n):
            v = x[i]
            out[i] = p0 if v != v else (p1 if v == np.inf else v)
    elif op == NEGINF_TO:
        for i in range(n):
            v = x[i]
            out[i] = p0 if v == -np.inf else v


@kernel
def _unary_special(op, x, out):
    """out = op(x) for op in TAN ... ERFINV (kernels/_math.py)."""
    n = x.size
    if op == TAN:
        for i in range(n):
            out[i] = _math.tan(x[i])
    elif op == SINH:
        for i in range(n):
            out[i] = _math.sinh(x[i])
    elif op == COSH:
        for i in range(n):
            out[i] = _math.cosh(x[i])
    elif op == ASIN:
        for i in range(n):
            out[i] = _math.asin(x[i])
    elif op == ACOS:
        for i in range(n):
            out[i] = _math.acos(x[i])
    elif op == ATAN:
        for i in range(n):
            out[i] = _math.atan(x[i])
    elif op == ASINH:
        for i in range(n):
            out[i] = _math.asinh(x[i])
    elif op == ACOSH:
        for i in range(n):
            out[i] = _math.acosh(x[i])
    elif op == ATANH:
        for i in range(n):
            out[i] = _math.atanh(x[i])
    elif op == LOG2:
        for i in range(n):
            out[i] = _math.log2(x[i])
    elif op == LOG10:
        for i in range(n):
            out[i] = _math.log10(x[i])
    elif op == EXP2:
        for i in range(n):
            out[i] = _math.exp2(x[i])
    elif op == EXPM1:
        for i in range(n):
            out[i] = _math.expm1(x[i])
    elif op == ERF:
        for i in range(n):
            out[i] = _math.erf(x[i])
    elif op == ERFC:
        for i in range(n):
            out[i] = _math.erfc(x[i])
    elif op == ERFINV:
        for i in range(n):
            out[i] = _math.erfinv(x[i])


@kernel
def unary_backward(op, x, y, gy, gx, p0, p1):
    """gx = gy * op'(x), written with y = op(x) where that is cheaper."""
    n = gy.size
    f = gy.dtype.type
    zero, one, two, half = f(0.0), f(1.0), f(2.0), f(0.5)
    if op == NEG:
        for i in range(n):
            gx[i] = -gy[i]
    elif op == EXP:
        for i in range(n):
            gx[i] = gy[i] * y[i]
    elif op == LOG:
        for i in range(n):
            gx[i] = gy[i] / x[i]
    elif op == LOG1P:
        for i in range(n):
            gx[i] = gy[i] / (one + x[i])
    elif op == SQRT:
        for i in range(n):
            gx[i] = gy[i] / (two * y[i])
    elif op == RSQRT:
        for i in range(n):
            gx[i] = -half * gy[i] * y[i] * y[i] * y[i]
    elif op == ABS:
        for i in range(n):
            v = x[i]
            gx[i] = gy[i] * (one if v > 0 else (-one if v < 0 else zero))
    elif op == SIGN:
        for i in range(n):
            gx[i] = zero
    elif op == SIN:
        for i in range(n):
            gx[i] = gy[i] * np.cos(x[i])
    elif op == COS:
        for i in range(n):
            gx[i] = -gy[i] * np.sin(x[i])
    elif op == CLAMP:  # gradient passes where p0 <= x <= p1 (torch: boundaries included)
        lo, hi = f(p0), f(p1)
        for i in range(n):
            v = x[i]
            gx[i] = gy[i] if (v >= lo and v <= hi) else zero
    elif op == SCALE:
        c = f(p0)
        for i in range(n):
            gx[i] = gy[i] * c
    elif op >= TAN and op <= ERFINV:
        _unary_special_backward(op, x, y, gy, gx)
    elif op == FLOOR or op == CEIL or op == ROUND or op == TRUNC:  # piecewise constant
        for i in range(n):
            gx[i] = zero
    elif op == FRAC:
        for i in range(n):
            gx[i] = gy[i]
    elif op == RECIPROCAL:
        for i in range(n):
            gx[i] = -gy[i] * y[i] * y[i]
    elif op == SQUARE:
        for i in range(n):
            gx[i] = two * gy[i] * x[i]
    elif op == NAN_TO_NUM:  # gradient passes where x is finite (torch)
        for i in range(n):
            v = x[i]
            gx[i] = gy[i] if (v == v and v != np.inf and v != -np.inf) else zero


@kernel
def _unary_special_backward(op, x, y, gy, gx):
    """gx = gy * op'(x) for op in TAN ... ERFINV (y = op(x))."""
    n = gy.size
    f = gy.dtype.type
    one = f(1.0)
    if op == TAN:
        for i in range(n):
            gx[i] = gy[i] * (one + y[i] * y[i])
    elif op == SINH:
        for i in range(n):
            gx[i] = gy[i] * _math.cosh(x[i])
    elif op == COSH:
        for i in range(n):
            gx[i] = gy[i] * _math.sinh(x[i])
    elif op == ASIN:
        for i in range(n):
            gx[i] = gy[i] / np.sqrt(one - x[i] * x[i])
    elif op == ACOS:
        for i in range(n):
            gx[i] = -gy[i] / np.sqrt(one - x[i] * x[i])
    elif op == ATAN:
        for i in range(n):
            gx[i] = gy[i] / (one + x[i] * x[i])
    elif op == ASINH:
        for i in range(n):
            gx[i] = gy[i] / np.sqrt(x[i] * x[i] + one)
    elif op == ACOSH:
        for i in range(n):
            gx[i] = gy[i] / np.sqrt(x[i] * x[i] - one)
    elif op == ATANH:
        for i in range(n):
            gx[i] = gy[i] / (one - x[i] * x[i])
    elif op == LOG2:
        for i in range(n):
            gx[i] = gy[i] / (x[i] * f(0.6931471805599453))
    elif op == LOG10:
        for i in range(n):
            gx[i] = gy[i] / (x[i] * f(2.302585092994046))
    elif op == EXP2:
        for i in range(n):
            gx[i] = gy[i] * y[i] * f(0.6931471805599453)
    elif op == EXPM1:
        for i in range(n):
            gx[i] = gy[i] * (y[i] + one)
    elif op == ERF:  # 2/sqrt(pi) e**-x^2
        for i in range(n):
            gx[i] = gy[i] * f(1.1283791670955126) * _math.exp(-x[i] * x[i])
    elif op == ERFC:
        for i in range(n):
            gx[i] = -gy[i] * f(1.1283791670955126) * _math.exp(-x[i] * x[i])
    elif op == ERFINV:  # sqrt(pi)/2 e**y^2
        for i in range(n):
            gx[i] = gy[i] * f(0.886226925452758) * _math.exp(y[i] * y[i])
