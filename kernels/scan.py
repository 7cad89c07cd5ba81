"""Scans along one axis: cumsum, cumprod, cummax / cummin (with indices), logcumsumexp, and
their backward.

A scanned array is seen as (outer, n, inner), flat and C-contiguous: element (o, k, i) sits at
(o*n + k)*inner + i and the scan runs over k. The inner loop walks contiguous memory, so a scan
along a leading axis vectorises and no axis is ever moved (no transpose copy). ``acc`` is a
caller-allocated scratch row of ``inner`` accumulators: float64 for float inputs (PyTorch's CPU
scans accumulate floats in double too), int64 for integer inputs, so integer sums stay exact.
"""
import numpy as np

from ._jit import kernel
from ._math import exp, log1p

# scan op codes (forward and backward)
CUMSUM, CUMPROD, CUMMAX, CUMMIN, LOGCUMSUMEXP = range(5)


@kernel
def scan(op, x, outer, n, inner, out, idx, acc):
    """out[o, k, i] = op over x[o, 0..k, i] (CUMSUM, CUMPROD, LOGCUMSUMEXP; CUMMAX / CUMMIN
    also write idx = position of the running extremum: the latest on ties, NaN sticks)."""
    if n == 0:  # nothing to scan (and no row to start the extremum from)
        return
    for o in range(outer):
        b0 = o * n * inner
        if op == CUMMAX or op == CUMMIN:
            for i in range(inner):
                out[b0 + i] = x[b0 + i]
                idx[b0 + i] = 0
            for k in range(1, n):
                b = b0 + k * inner
                for i in range(inner):
                    v = x[b + i]
                    p = out[b - inner + i]
                    take = v >= p if op == CUMMAX else v <= p
                    if v != v or (p == p and take):
                        out[b + i] = v
                        idx[b + i] = k
                    else:
                        out[b + i] = p
                        idx[b + i] = idx[b - inner + i]
            continue
        for i in range(inner):
            acc[i] = 1 if op == CUMPROD else (-np.inf if op == LOGCUMSUMEXP else 0)
        for k in range(n):
            b = b0 + k * inner
            if op == CUMSUM:
                for i in range(inner):
                    acc[i] += x[b + i]
                    out[b + i] = acc[i]
            elif op == CUMPROD:
                for i in range(inner):
                    acc[i] *= x[b + i]
                    out[b + i] = acc[i]
            else:  # log(exp(a) + exp(v)), exact at infinities, NaN if either is NaN
                for i in range(inner):
                    a = acc[i]
                    v = np.float64(x[b + i])
                    m = a if a > v else v
                    if a != a or v != v:
                        m = a + v
                    elif m != np.inf and m != -np.inf:
                        m += log1p(exp(-abs(a - v)))
                    acc[i] = m
                    out[b + i] = m


@kernel
def scan_backward(op, x, y, idx, g, outer, n, inner, gx, acc):
    """gx = (d y / d x)^T g for y = scan(op, x): CUMSUM gx_k = sum_{j>=k} g_j; CUMPROD
    gx_k = y_{k-1} R_k, R_k = g_k + x_{k+1} R_{k+1} (no division: right with zeros);
    LOGCUMSUMEXP gx_k = exp(x_k - y_k) S_k, S_k = g_k + exp(y_k - y_{k+1}) S_{k+1};
    CUMMAX / CUMMIN: g scatter-added to idx."""
    if op == CUMMAX or op == CUMMIN:
        for j in range(gx.size):
            gx[j] = 0.0
        for o in range(outer):
            b0 = o * n * inner
            for k in range(n):
                b = b0 + k * inner
                for i in range(inner):
                    gx[b0 + idx[b + i] * inner + i] += g[b + i]
        return
    for o in range(outer):
        b0 = o * n * inner
        for i in range(inner):
            acc[i] = 0.0
        for k in range(n - 1, -1, -1):
            b = b0 + k * inner
            if op == CUMSUM:
                for i in range(inner):
                    acc[i] += g[b + i]
                    gx[b + i] = acc[i]
            elif op == CUMPROD:
                for i in range(inner):
                    r = g[b + i] + (x[b + inner + i] * acc[i] if k < n - 1 else 0.0)
                    acc[i] = r
                    gx[b + i] = r * y[b - inner + i] if k > 0 else r
            else:
                for i in range(inner):
                    yk = y[b + i]
                    s = g[b + i]
                    if k < n - 1:
                        yn = y[b + inner + i]
                        s += acc[i] * (1.0 if yk == yn else exp(np.float64(yk - yn)))
                    acc[i] = s
                    gx[b + i] = s * exp(np.float64(x[b + i] - yk))  # NaN at -inf/inf, as torch
