"""Reductions: sums over a coalesced strided plan (sum, mean, sum_to), and op-coded row
reductions (max/min with indices, prod, logsumexp, var/std, p-norms, nansum/nanmean, the mode
of a sorted row) with their backward.

Row kernels see the input as flat rows of length n (row r is x[r*n : r*n+n], one row per output
element): the Python layer moves the reduced axes last (a transpose copy only when they are not
already trailing), so one compiled kernel per dtype serves every shape and axis set.
"""
import numpy as np

from ._jit import kernel

# row-reduction op codes (forward and backward); SPLIT is backward only: the gradient of an
# extremum shared evenly among ties, or among the NaNs of a NaN result (amax/amin, global
# max/min), where MAX/MIN backward sends it to the returned index. NANSUM / NANMEAN skip NaNs.
# MODE is forward only and reads rows sorted ascending: out = the most frequent value (the
# smallest on a tie in count), idx = the position of its last copy in the sorted row.
MAX, MIN, PROD, LOGSUMEXP, VAR, STD, NORM, SPLIT = range(8)
NANSUM, NANMEAN, MODE = range(8, 11)


@kernel
def sum_into(x, shape, ostrides, acc):
    """acc[o(i)] += x[i] over the index space `shape` (C order); ostrides[d] = 0 on reduced
    dims. acc (caller-zeroed) sets the accumulator dtype."""
    nd = shape.size
    n = shape[nd - 1]
    if n == 0 or x.size == 0:
        return
    idx = np.zeros(nd, np.int64)
    io = 0
    s = ostrides[nd - 1]
    for r in range(x.size // n):
        base = r * n
        if s == 0:
            t = acc[io]
            for j in range(n):
                t += x[base + j]
            acc[io] = t
        elif s == 1:  # a dim-0 sum, say: indexing a slice by j alone lets LLVM vectorise
            a = acc[io:io + n]
            for j in range(n):
                a[j] += x[base + j]
        else:
            for j in range(n):
                acc[io + j * s] += x[base + j]
        d = nd - 2
        while d >= 0:
            idx[d] += 1
            io += ostrides[d]
            if idx[d] < shape[d]:
                break
            io -= ostrides[d] * shape[d]
            idx[d] = 0
            d -= 1


@kernel
def sum_scaled(x, shape, ostrides, out, scale):
    """out[o(i)] = scale * sum of x[i] over `shape` (see sum_into); accumulates in float64."""
    acc = np.zeros(out.size, np.float64)
    sum_into(x, shape, ostrides, acc)
    for i in range(out.size):
        out[i] = acc[i] * scale


@kernel
def sum_strided(x, shape, ostrides, out):
    """out[o(i)] = sum of x[i] over `shape` (see sum_into); accumulates in float64."""
    sum_scaled(x, shape, ostrides, out, 1.0)


@kernel
def row_extremum(op, row):
    """(max (op MAX) or min of row, number of NaNs in it); row is non-empty."""
    # Four independent accumulators: ~4x faster than one compare-and-track-index loop (the
    # index is found by a second scan that stops at the first match).
    m0 = m1 = m2 = m3 = row[0]
    nan = 0
    n = row.size
    k = 0
    if op == MAX:
        while k + 4 <= n:
            v0, v1, v2, v3 = row[k], row[k + 1], row[k + 2], row[k + 3]
            m0 = v0 if v0 > m0 else m0
            m1 = v1 if v1 > m1 else m1
            m2 = v2 if v2 > m2 else m2
            m3 = v3 if v3 > m3 else m3
            nan += (v0 != v0) + (v1 != v1) + (v2 != v2) + (v3 != v3)
            k += 4
        for j in range(k, n):
            v0 = row[j]
            m0 = v0 if v0 > m0 else m0
            nan += v0 != v0
        m0 = m1 if m1 > m0 else m0
        m2 = m3 if m3 > m2 else m2
        return (m2 if m2 > m0 else m0), nan
    while k + 4 <= n:
        v0, v1, v2, v3 = row[k], row[k + 1], row[k + 2], row[k + 3]
        m0 = v0 if v0 < m0 else m0
        m1 = v1 if v1 < m1 else m1
        m2 = v2 if v2 < m2 else m2
        m3 = v3 if v3 < m3 else m3
        nan += (v0 != v0) + (v1 != v1) + (v2 != v2) + (v3 != v3)
        k += 4
    for j in range(k, n):
        v0 = row[j]
        m0 = v0 if v0 < m0 else m0
        nan += v0 != v0
    m0 = m1 if m1 < m0 else m0
    m2 = m3 if m3 < m2 else m2
    return (m2 if m2 < m0 else m0), nan


@kernel
def reduce_rows(op, x, n, out, idx, p):
    """out[r] = op(x[r*n : r*n+n]); idx[r] = first position of the extremum (MAX/MIN, NaN wins);
    p = correction (VAR/STD) or order (NORM). Floats accumulate in float64."""
    rows = out.size
    if op == MAX or op == MIN:
        for r in range(rows):
            row = x[r * n:r * n + n]
            best, nan = row_extremum(op, row)
            for k in range(n):  # the first extremum, or the first NaN if there is one
                v = row[k]
                if (v == best) if nan == 0 else (v != v):
                    out[r] = v
                    idx[r] = k
                    break
    elif op == PROD:  # t starts as an int: int64 inputs stay exact, floats accumulate in float64
        for r in range(rows):
            b = r * n
            t = 1
            for k in range(n):
                t *= x[b + k]
            out[r] = t
    elif op == LOGSUMEXP:  # shift by the max (none if it is infinite, as torch)
        for r in range(rows):
            row = x[r * n:r * n + n]
            s = 0.0
            if n == 0:
                out[r] = -np.inf
                continue
            m, _ = row_extremum(MAX, row)
            if m == np.inf or m == -np.inf:
                for k in range(n):
                    s += np.exp(row[k])
                out[r] = np.log(s)
            else:  # x - m keeps x's dtype: float32 inputs use the 2x faster expf
                for k in range(n):
                    s += np.exp(row[k] - m)
                out[r] = np.log(s) + m
    elif op == VAR or op == STD:  # two-pass: mean, then squared deviations
        div = max(n - p, 0.0)
        for r in range(rows):
            b = r * n
            s = 0.0
            for k in range(n):
                s += x[b + k]
            mean = s / n
            ss = 0.0
            for k in range(n):
                d = x[b + k] - mean
                ss += d * d
            out[r] = ss / div if op == VAR else np.sqrt(ss / div)
    elif op == NANSUM or op == NANMEAN:
        for r in range(rows):
            b = r * n
            s = 0.0
            c = 0
            for k in range(n):  # branch-free, so the loop vectorises
                v = x[b + k]
                ok = v == v
                s += v if ok else 0.0
                c += ok
            out[r] = s if op == NANSUM else s / c
    elif op == MODE:  # runs of equal values in a sorted row; a longer run wins
        for r in range(rows):
            b = r * n
            best = 0
            end = 0
            run = 0
            for k in range(n):
                run += 1
                if k == n - 1 or x[b + k + 1] != x[b + k]:
                    if run > best:
                        best = run
                        end = k
                    run = 0
            out[r] = x[b + end]
            idx[r] = end
    elif op == NORM:
        for r in range(rows):
            b = r * n
            t = 0.0
            if p == np.inf:
                for k in range(n):
                    a = abs(x[b + k])
                    if a > t or a != a:
                        t = a
            elif p == -np.inf:
                t = np.inf
                for k in range(n):
                    a = abs(x[b + k])
                    if a < t or a != a:
                        t = a
            elif p == 0:
                for k in range(n):
                    t += 1.0 if x[b + k] != 0 else 0.0
            elif p == 1:
                for k in range(n):
                    t += abs(x[b + k])
            elif p == 2:
                for k in range(n):
                    v = np.float64(x[b + k])
                    t += v * v
                t = np.sqrt(t)
            else:
                for k in range(n):
                    t += abs(x[b + k]) ** p
                t = t ** (1.0 / p)
            out[r] = t


@kernel
def reduce_rows_backward(op, x, n, y, g, idx, gx, p):
    """gx[r*n+k] = g[r] * d y[r] / d x[r*n+k] for y = reduce_rows(op, x) (MAX/MIN: all to
    idx[r]; SPLIT: shared evenly among the ties of y[r])."""
    rows = g.size
    if op == MAX or op == MIN:
        for i in range(gx.size):
            gx[i] = 0.0
        for r in range(rows):
            gx[r * n + idx[r]] = g[r]
    elif op == SPLIT:  # a NaN extremum: shared among the NaNs (as torch.max())
        for r in range(rows):
            b = r * n
            yr = y[r]
            nan = yr != yr
            c = 0
            for k in range(n):
                v = x[b + k]
                if v == yr or (nan and v != v):
                    c += 1
            s = g[r] / c
            for k in range(n):
                v = x[b + k]
                gx[b + k] = s if (v == yr or (nan and v != v)) else 0.0
    elif op == PROD:  # product of the other entries, right with zeros in the row
        for r in range(rows):
            b = r * n
            zeros = 0
            kz = 0
            t = 1.0
            for k in range(n):
                v = x[b + k]
                if v == 0:
                    zeros += 1
                    kz = k
                else:
                    t *= v
            for k in range(n):
                if zeros == 0:
                    gx[b + k] = g[r] * (t / x[b + k])
                else:
                    gx[b + k] = g[r] * t if (zeros == 1 and k == kz) else 0.0
    elif op == LOGSUMEXP:
        for r in range(rows):
            b = r * n
            for k in range(n):
                gx[b + k] = g[r] * np.exp(x[b + k] - y[r])
    elif op == VAR or op == STD:
        div = max(n - p, 0.0)
        for r in range(rows):
            b = r * n
            s = 0.0
            for k in range(n):
                s += x[b + k]
            mean = s / n
            # std: 0 where std is 0 (one element with correction 0, a constant row), as torch
            c = 2.0 * g[r] / div if op == VAR else (0.0 if y[r] == 0 else g[r] / (div * y[r]))
            for k in range(n):
                gx[b + k] = c * (x[b + k] - mean)
    elif op == NANSUM or op == NANMEAN:
        for r in range(rows):
            b = r * n
            s = g[r]
            if op == NANMEAN:
                c = 0
                for k in range(n):
                    c += x[b + k] == x[b + k]
                s = s / c
            for k in range(n):
                v = x[b + k]
                gx[b + k] = s if v == v else 0.0
    elif op == NORM:  # torch's norm_backward: 0 where the norm is 0 (p > 1)
        for r in range(rows):
            b = r * n
            if p == np.inf or p == -np.inf:
                c = 0
                for k in range(n):
                    if abs(x[b + k]) == y[r]:
                        c += 1
                s = g[r] / c
                for k in range(n):
                    v = x[b + k]
                    gx[b + k] = np.sign(v) * s if abs(v) == y[r] else 0.0
            elif p == 0:
                for k in range(n):
                    gx[b + k] = 0.0
            elif p == 1:
                for k in range(n):
                    gx[b + k] = g[r] * np.sign(x[b + k])
            elif p < 1:
                s = g[r] * y[r] ** (1.0 - p)
                for k in range(n):
                    v = x[b + k]
                    gx[b + k] = 0.0 if v == 0 else np.sign(v) * abs(v) ** (p - 1.0) * s
            else:
                s = 0.0 if y[r] == 0 else g[r] / y[r] ** (p - 1.0)
                for k in range(n):
                    v = x[b + k]
                    gx[b + k] = np.sign(v) * abs(v) ** (p - 1.0) * s
