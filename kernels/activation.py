"""Activations: one op-coded pointwise kernel pair (scalar parameters p0, p1) and a softmax /
log-softmax row kernel pair.

Pointwise kernels take flat C-contiguous arrays, so each compiles once per dtype whatever the
rank; the op code is branched on outside the inner loop. relu, sigmoid, tanh, softplus, exp
expm1 and GELU's normal CDF come from kernels/_math.py (their one definition; vectorisable
for float32).
Gradients at kinks follow PyTorch
(relu'(0) = 0, hardtanh passes the gradient strictly inside (min, max), elu uses the negative
branch at 0, leaky_relu the negative slope at 0).

float32 stays float32: constants and the scalar parameters p0, p1 are cast to the arrays'
dtype (``f = x.dtype.type``), as PyTorch's CPU kernels convert them; a float64 literal or
argument widens the whole expression to float64. 1M float32 elements, old and new kernels in
one process, same aligned buffers, backward: sigmoid 282 -> 163 us, tanh 241 -> 168, silu 927
-> 540, softplus 1441 -> 508, elu 658 -> 429, hardswish 287 -> 166; forward: softplus 3735 ->
2068, softsign 342 -> 112. GELU's tanh form is x sigmoid(2u) (= x (1 + tanh u) / 2, without
its cancellation in the lower tail): forward 2246 -> 636 us, backward 2353 -> 658 us. Mish
passes softplus through the output array before its tanh (see _math.tanh): forward 4138 ->
2486 us, backward 4310 -> 2984 us.

Softmax kernels see the input as (outer, n, inner) (the softmax dim in the middle), so no
transpose copy is needed for any dim: row (o, k) is x[o*n*inner + j*inner + k] for j < n.
"""

import numpy as np

from . import _math
from ._jit import kernel
from ._rows import BLOCK_ROWS, SHORT_ROW, column_max, from_columns, to_columns

(RELU, RELU6, LEAKY_RELU, ELU, GELU, GELU_TANH, SILU, MISH, SOFTPLUS, SIGMOID, TANH,
 HARDTANH) = range(12)
HARDSWISH, HARDSIGMOID, SOFTSIGN, TANHSHRINK, THRESHOLD, CELU, LOGSIGMOID = range(12, 19)

SQRT_2_OVER_PI = 0.7978845608028654
GELU_C = 0.044715


@kernel
def act_forward(op, x, out, p0, p1):
    """out = op(x; p0, p1): elu/selu p0 = alpha*scale (negative), p1 = scale (positive);
    leaky_relu p0 = slope; softplus p0 = beta, p1 = threshold; hardtanh p0, p1 = min, max;
    threshold p0, p1 = threshold, value; celu p0 = alpha."""
    n = x.size
    f = x.dtype.type  # constants and parameters in x's dtype: see the module docstring
    zero, one, half, three, six = f(0.0), f(1.0), f(0.5), f(3.0), f(6.0)
    a, b = f(p0), f(p1)
    if op == RELU:
        for i in range(n):
            out[i] = _math.relu(x[i])
    elif op == RELU6 or op == HARDTANH:  # NaN propagates
        lo, hi = (zero, six) if op == RELU6 else (a, b)
        for i in range(n):
            v = x[i]
            v = lo if v < lo else v
            out[i] = hi if v > hi else v
    elif op == LEAKY_RELU:
        for i in range(n):
            v = x[i]
            out[i] = v if v > 0 else v * a
    elif op == ELU:
        for i in range(n):
            v = x[i]
            out[i] = v * b if v > 0 else a * _math.expm1(v)
    elif op == GELU:
        for i in range(n):
            v = x[i]
            out[i] = v * _math.normal_cdf_pdf(v)[0]
    elif op == GELU_TANH:  # (1 + tanh(u)) / 2 = sigmoid(2u): no cancellation in the tail
        k2, c = f(2.0 * SQRT_2_OVER_PI), f(GELU_C)
        for i in range(n):
            v = x[i]
            out[i] = v * _math.sigmoid(k2 * (v + c * v * v * v))
    elif op == SILU:
        for i in range(n):
            v = x[i]
            out[i] = v * _math.sigmoid(v)
    elif op == MISH:  # softplus through `out`: see _math.tanh
        for i in range(n):
            out[i] = _math.softplus(x[i])
        for i in range(n):
            out[i] = x[i] * _math.tanh(out[i])
    elif op == SOFTPLUS:  # linear above the threshold, as torch
        for i in range(n):
            v = x[i]
            bv = v * a
            out[i] = v if bv > b else _math.softplus(bv) / a
    elif op == SIGMOID:
        for i in range(n):
            out[i] = _math.sigmoid(x[i])
    elif op == TANH:
        for i in range(n):
            out[i] = _math.tanh(x[i])
    elif op == HARDSWISH or op == HARDSIGMOID:  # x * relu6(x + 3) / 6, relu6(x + 3) / 6
        sixth = f(1.0 / 6.0)
        for i in range(n):
            v = x[i]
            r = v + three
            r = zero if r < zero else r
            r = (six if r > six else r) * sixth
            out[i] = v * r if op == HARDSWISH else r
    elif op == SOFTSIGN:
        for i in range(n):
            v = x[i]
            out[i] = v / (one + abs(v))
    elif op == TANHSHRINK:
        for i in range(n):
            v = x[i]
            out[i] = v - _math.tanh(v)
    elif op == THRESHOLD:  # p0 = threshold, p1 = value; NaN passes (as torch: x <= t is false)
        for i in range(n):
            v = x[i]
            out[i] = b if v <= a else v
    elif op == CELU:  # p0 = alpha
        for i in range(n):
            v = x[i]
            out[i] = v if v > 0 else a * _math.expm1(v / a)
    elif op == LOGSIGMOID:  # -softplus(-x)
        for i in range(n):
            out[i] = -_math.softplus(-x[i])


@kernel
def act_backward(op, x, y, gy, gx, p0, p1):
    """gx = gy * op'(x), from x or from y = op(x) (sigmoid, tanh) where that is cheaper."""
    n = gy.size
    f = gy.dtype.type
    zero, one, half, three, six = f(0.0), f(1.0), f(0.5), f(3.0), f(6.0)
    a, b = f(p0), f(p1)
    if op == RELU:
        for i in range(n):
            gx[i] = gy[i] if x[i] > 0 else zero
    elif op == RELU6 or op == HARDTANH:
        lo, hi = (zero, six) if op == RELU6 else (a, b)
        for i in range(n):
            v = x[i]
            gx[i] = gy[i] if (v > lo and v < hi) else zero
    elif op == LEAKY_RELU:
        for i in range(n):
            gx[i] = gy[i] if x[i] > 0 else gy[i] * a
    elif op == ELU:
        for i in range(n):
            v = x[i]
            gx[i] = gy[i] * b if v > 0 else gy[i] * a * _math.exp(v)
    elif op == GELU:
        for i in range(n):
            v = x[i]
            cdf, pdf = _math.normal_cdf_pdf(v)
            gx[i] = gy[i] * (cdf + v * pdf)
    elif op == GELU_TANH:  # with s = sigmoid(2u): s + 2 v s (1 - s) u'
        k2, c = f(2.0 * SQRT_2_OVER_PI), f(GELU_C)
        k6c = f(2.0 * SQRT_2_OVER_PI * 3.0 * GELU_C)
        for i in range(n):
            v = x[i]
            s = _math.sigmoid(k2 * (v + c * v * v * v))
            gx[i] = gy[i] * (s + v * s * (one - s) * (k2 + k6c * v * v))
    elif op == SILU:
        for i in range(n):
            v = x[i]
            s = _math.sigmoid(v)
            gx[i] = gy[i] * s * (one + v * (one - s))
    elif op == MISH:  # softplus through `gx`: see _math.tanh
        for i in range(n):
            gx[i] = _math.softplus(x[i])
        for i in range(n):
            v = x[i]
            t = _math.tanh(gx[i])
            gx[i] = gy[i] * (t + v * (one - t * t) * _math.sigmoid(v))
    elif op == SOFTPLUS:
        for i in range(n):
            bv = x[i] * a
            gx[i] = gy[i] if bv > b else gy[i] * _math.sigmoid(bv)
    elif op == SIGMOID:
        for i in range(n):
            gx[i] = gy[i] * y[i] * (one - y[i])
    elif op == TANH:
        for i in range(n):
            gx[i] = gy[i] * (one - y[i] * y[i])
    elif op == HARDSWISH:  # torch: 0 for x <= -3, 1 for x >= 3 (and NaN), x/3 + 1/2 between
        third = f(1.0 / 3.0)
        for i in range(n):
            v = x[i]
            gx[i] = zero if v <= -three else (gy[i] * (v * third + half) if v < three else gy[i])
    elif op == HARDSIGMOID:  # 1/6 strictly inside (-3, 3)
        sixth = f(1.0 / 6.0)
        for i in range(n):
            v = x[i]
            gx[i] = gy[i] * sixth if (v > -three and v < three) else zero
    elif op == SOFTSIGN:
        for i in range(n):
            d = one + abs(x[i])
            gx[i] = gy[i] / (d * d)
    elif op == TANHSHRINK:
        for i in range(n):
            t = _math.tanh(x[i])
            gx[i] = gy[i] * t * t
    elif op == THRESHOLD:
        for i in range(n):
            gx[i] = zero if x[i] <= a else gy[i]
    elif op == CELU:  # the negative branch at 0, as elu; NaN passes gy, as torch
        for i in range(n):
            v = x[i]
            gx[i] = gy[i] * _math.exp(v / a) if v <= 0 else gy[i]
    elif op == LOGSIGMOID:
        for i in range(n):
            gx[i] = gy[i] * _math.sigmoid(-x[i])


@kernel
def _softmax_row(x, out, log):
    """out = softmax(x) (log=1: log_softmax) of one contiguous row (the loops vectorise). A NaN
    is skipped by the max and propagates through the sum."""
    n = x.size
    f = x.dtype.type
    m = f(-np.inf)  # the largest value, in x's dtype (exact)
    for j in range(n):
        v = x[j]
        m = v if v > m else m
    if m == -np.inf:  # all -inf: shift by 0 (gives NaN like torch)
        m = f(0.0)
    s = 0.0
    if log == 0:
        # x - m and exp in float64: a float32 x - m is rounded, which costs small
        # probabilities up to 2.0e-6 of their value (512 x 1000 normal logits times 3; torch
        # 1.4e-6, float64 1.1e-7)
        for j in range(n):
            e = _math.exp(np.float64(x[j]) - m)
            out[j] = e
            s += e
        r = 1.0 / s
        for j in range(n):
            out[j] *= r
    else:
        # in x's dtype, the sum in float64: the outputs x - m - log(s) keep 1.1e-7 either way,
        # and float32 runs 1.4-1.5x faster (512 x 1000: 933 -> 616 us)
        for j in range(n):
            s += _math.exp(x[j] - m)
        # (x - m) - log(s), not x - (m + log(s)): exact at |x| ~ 1e30. Two passes, as
        # fastmath's 'reassoc' lets LLVM regroup the one-line form into the inexact one
        ls = f(_math.log(s))
        for j in range(n):
            out[j] = x[j] - m
        for j in range(n):
            out[j] -= ls


@kernel(inline="always")
def _softmax_cols(x, out, m, s, log):
    """_softmax_row down every column of the (n, R) arrays x, out (m, s: float64 scratch of
    at least R): the same steps, run across columns, for strided rows (the (n, inner) slabs of
    an (outer, n, inner) layout) and for blocks of short rows."""
    n, R = x.shape
    column_max(x, m)
    for r in range(R):
        m[r] = 0.0 if m[r] == -np.inf else m[r]
        s[r] = 0.0
    if log == 0:
        for j in range(n):
            xj, oj = x[j], out[j]
            for r in range(R):
                e = _math.exp(xj[r] - m[r])
                oj[r] = e
                s[r] += e
        for r in range(R):
            s[r] = 1.0 / s[r]
        for j in range(n):
            oj = out[j]
            for r in range(R):
                oj[r] *= s[r]
    else:
        for j in range(n):
            xj = x[j]
            for r in range(R):
                s[r] += _math.exp(xj[r] - m[r])
        for r in range(R):
            s[r] = _math.log(s[r])
        for j in range(n):
            xj, oj = x[j], out[j]
            for r in range(R):
                oj[r] = xj[r] - m[r]
        for j in range(n):
            oj = out[j]
            for r in range(R):
                oj[r] -= s[r]


@kernel
def softmax_forward(x, out, outer, n, inner, log):
    """out = softmax(x) (log=1: log_softmax) along the middle axis of (outer, n, inner)."""
    if inner > 1:
        m, s = np.empty(inner), np.empty(inner)
        for o in range(outer):
            a, b = o * n * inner, (o + 1) * n * inner
            _softmax_cols(x[a:b].reshape(n, inner), out[a:b].reshape(n, inner), m, s, log)
    elif n <= SHORT_ROW:  # blocks of short rows, transposed (kernels/_rows.py)
        rows = min(outer, BLOCK_ROWS)
        tx, ty = np.empty(n * rows, x.dtype), np.empty(n * rows, x.dtype)
        m, s = np.empty(rows), np.empty(rows)
        for s0 in range(0, outer, BLOCK_ROWS):
            k = min(BLOCK_ROWS, outer - s0)
            bx, by = tx[:n * k].reshape(n, k), ty[:n * k].reshape(n, k)
            to_columns(x, s0, k, n, bx)
            _softmax_cols(bx, by, m, s, log)
            from_columns(by, s0, k, n, out)
    else:
        for o in range(outer):
            _softmax_row(x[o * n:(o + 1) * n], out[o * n:(o + 1) * n], log)


@kernel
def _softmax_row_backward(y, gy, gx, log):
    """One row: softmax gx = y (gy - sum(gy y)); log_softmax gx = gy - exp(y) sum(gy)."""
    n = y.size
    s = 0.0
    if log == 0:
        for j in range(n):
            s += gy[j] * y[j]
        for j in range(n):
            gx[j] = y[j] * (gy[j] - s)
    else:
        for j in range(n):
            s += gy[j]
        for j in range(n):
            gx[j] = gy[j] - _math.exp(y[j]) * s


@kernel(inline="always")
def _softmax_cols_backward(y, gy, gx, s, log):
    """_softmax_row_backward down every column of the (n, R) arrays (s: float64 scratch)."""
    n, R = y.shape
    for r in range(R):
        s[r] = 0.0
    if log == 0:
        for j in range(n):
            yj, gj = y[j], gy[j]
            for r in range(R):
                s[r] += gj[r] * yj[r]
        for j in range(n):
            yj, gj, xj = y[j], gy[j], gx[j]
            for r in range(R):
                xj[r] = yj[r] * (gj[r] - s[r])
    else:
        for j in range(n):
            gj = gy[j]
            for r in range(R):
                s[r] += gj[r]
        for j in range(n):
            yj, gj, xj = y[j], gy[j], gx[j]
            for r in range(R):
                xj[r] = gj[r] - _math.exp(yj[r]) * s[r]


@kernel
def softmax_backward(y, gy, gx, outer, n, inner, log):
    """softmax: gx = y * (gy - sum(gy * y)); log_softmax: gx = gy - exp(y) * sum(gy)."""
    if inner > 1:
        s = np.empty(inner)
        for o in range(outer):
            a, b = o * n * inner, (o + 1) * n * inner
            _softmax_cols_backward(y[a:b].reshape(n, inner), gy[a:b].reshape(n, inner),
                                   gx[a:b].reshape(n, inner), s, log)
    elif n <= SHORT_ROW:  # blocks of short rows, transposed (kernels/_rows.py)
        rows = min(outer, BLOCK_ROWS)
        ty, tg, tx = (np.empty(n * rows, y.dtype), np.empty(n * rows, y.dtype),
                      np.empty(n * rows, y.dtype))
        s = np.empty(rows)
        for s0 in range(0, outer, BLOCK_ROWS):
            k = min(BLOCK_ROWS, outer - s0)
            by, bg, bx = ty[:n * k].reshape(n, k), tg[:n * k].reshape(n, k), tx[:n * k].reshape(n, k)
            to_columns(y, s0, k, n, by)
            to_columns(gy, s0, k, n, bg)
            _softmax_cols_backward(by, bg, bx, s, log)
            from_columns(bx, s0, k, n, gx)
    else:
        for o in range(outer):
            a, b = o * n, (o + 1) * n
            _softmax_row_backward(y[a:b], gy[a:b], gx[a:b], log)