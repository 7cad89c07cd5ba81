"""Indexing and selection: row gather / scatter-add (indexing, embedding), where, and the
op-coded scatter-reduce pair (scatter, scatter_reduce, index_add / index_fill / index_copy).

Arrays are flat and C-contiguous. Gather and scatter-add move rows of ``n`` elements: row
``idx[i]`` of the source (or destination); ``n = 1`` addresses single elements, so one compiled
kernel serves both the embedding-style row case and arbitrary flat positions.
"""
import numpy as np

from ._jit import kernel


@kernel
def gather(idx, n, src, out):
    """out[i*n + j] = src[idx[i]*n + j]."""
    for i in range(idx.size):
        s = idx[i] * n
        o = i * n
        for j in range(n):
            out[o + j] = src[s + j]


@kernel
def scatter_add(idx, n, src, out):
    """out[idx[i]*n + j] += src[i*n + j] (repeated indices accumulate)."""
    for i in range(idx.size):
        o = idx[i] * n
        s = i * n
        for j in range(n):
            out[o + j] += src[s + j]


@kernel
def where(cond, a, b, out):
    """out = a if cond else b, elementwise over equal-size flat arrays."""
    for i in range(out.size):
        out[i] = a[i] if cond[i] else b[i]


@kernel
def where_backward(cond, g, ga, gb):
    """ga = g where cond else 0; gb = g where not cond else 0."""
    for i in range(g.size):
        if cond[i]:
            ga[i] = g[i]
            gb[i] = 0.0
        else:
            ga[i] = 0.0
            gb[i] = g[i]


# op codes of scatter_reduce / scatter_reduce_backward
SUM = 0
PROD = 1
AMAX = 2
AMIN = 3
MEAN = 4
COPY = 5
FILL = 6


@kernel
def scatter_reduce(op, idx, n, alpha, include, src, out, count):
    """out[idx[i]*n + j] (op)= alpha*src[i*n + j]; op SUM PROD AMAX AMIN MEAN COPY, or FILL
    (= alpha); slots hit start from the op's identity when not include; count (MEAN only,
    else empty): hits per slot."""
    if not include:
        ident = 0.0
        if op == PROD:
            ident = 1.0
        elif op == AMAX:
            ident = -np.inf
        elif op == AMIN:
            ident = np.inf
        for i in range(idx.size):
            o = idx[i] * n
            for j in range(n):
                out[o + j] = ident
    if op == MEAN:
        for p in range(out.size):
            count[p] = 1.0 if include else 0.0
    for i in range(idx.size):
        o = idx[i] * n
        s = i * n
        for j in range(n):
            if op == FILL:
                out[o + j] = alpha
                continue
            v = alpha * src[s + j]
            if op == SUM:
                out[o + j] += v
            elif op == MEAN:
                out[o + j] += v
                count[o + j] += 1.0
            elif op == PROD:
                out[o + j] *= v
            elif op == AMAX:
                if v > out[o + j] or v != v:
                    out[o + j] = v
            elif op == AMIN:
                if v < out[o + j] or v != v:
                    out[o + j] = v
            else:
                out[o + j] = v
    if op == MEAN:
        for p in range(out.size):
            if count[p] > 1.0 or (count[p] == 1.0 and not include):
                out[p] /= count[p]


@kernel
def scatter_reduce_backward(op, idx, n, alpha, include, x, src, out, g, gx, gsrc, work):
    """gx, gsrc of out = scatter_reduce(op, x, idx, alpha*src): SUM/COPY/FILL pass g (zero at
    slots hit unless include), MEAN divides by the count, AMAX/AMIN split g among ties, PROD
    is g times the product of the other factors; gsrc.size == 0 skips it; work: 2 * g.size
    scratch for MEAN AMAX AMIN PROD, else empty (x, src, out are read by AMAX AMIN PROD only)."""
    m = g.size
    for p in range(m):
        gx[p] = g[p]
    if work.size:
        for p in range(m):
            work[p] = 1.0 if include else 0.0  # count / ties / zero factors per slot
            work[m + p] = 1.0                   # PROD: product of the non-zero factors
    for i in range(idx.size):
        o = idx[i] * n
        s = i * n
        for j in range(n):
            p = o + j
            if not include:
                gx[p] = 0.0
            if op == MEAN:
                work[p] += 1.0
            elif op == AMAX or op == AMIN:
                if src[s + j] == out[p]:
                    work[p] += 1.0
            elif op == PROD:
                v = src[s + j]
                if v == 0.0:
                    work[p] += 1.0
                else:
                    work[m + p] *= v
    if include and op != SUM and op != COPY and op != FILL:
        for p in range(m):  # self's share of the slot (slots hit without include got 0)
            v = x[p]
            if op == MEAN:
                gx[p] = g[p] / work[p]
            elif op == AMAX or op == AMIN:
                if v != out[p]:
                    work[p] -= 1.0  # self was counted as a tie: only if equal to the result
                    gx[p] = 0.0
                else:
                    gx[p] = g[p] / work[p]
            else:  # PROD: work[p] counts self as 1; make it count zero factors only
                if v != 0.0:
                    work[p] -= 1.0
                    work[m + p] *= v
                z = work[p]
                if z == 0.0:
                    gx[p] = g[p] * work[m + p] / v
                elif z == 1.0 and v == 0.0:
                    gx[p] = g[p] * work[m + p]
                else:
                    gx[p] = 0.0
    if gsrc.size == 0:
        return
    for i in range(idx.size):
        o = idx[i] * n
        s = i * n
        for j in range(n):
            p = o + j
            if op == MEAN:
                gsrc[s + j] = g[p] / work[p]
            elif op == AMAX or op == AMIN:
                gsrc[s + j] = g[p] / work[p] if src[s + j] == out[p] else 0.0
            elif op == PROD:
                v = src[s + j]
                z = work[p]
                if z == 0.0:
                    gsrc[s + j] = g[p] * work[m + p] / v
                elif z == 1.0 and v == 0.0:
                    gsrc[s + j] = g[p] * work[m + p]
                else:
                    gsrc[s + j] = 0.0
            else:
                gsrc[s + j] = alpha * g[p]
