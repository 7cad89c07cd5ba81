"""Indexing and selection: row gather / scatter-add (indexing, embedding) and where.

Arrays are flat and C-contiguous. Gather and scatter-add move rows of ``n`` elements: row
``idx[i]`` of the source (or destination); ``n = 1`` addresses single elements, so one compiled
kernel serves both the embedding-style row case and arbitrary flat positions.
"""
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
