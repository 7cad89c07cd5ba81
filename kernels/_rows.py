"""Rows of an (outer, n, inner) layout, the class / softmax axis in the middle: row (o, k) is
x[b + j * inner] for j < n, with b = o * n * inner + k.

A loop over one row vectorises when the row is contiguous (inner = 1) and long. Otherwise the
row kernels (softmax, cross-entropy) run down columns, across many rows at once: a strided
row is a column of its (n, inner) slab as it lies in memory, and contiguous rows of at most
SHORT_ROW values (a ten-class head) go BLOCK_ROWS at a time through a transposed copy
(to_columns / from_columns). log_softmax over (64, 10, 64), float32: 333 -> 64 us forward
and 253 -> 34 us backward against strided rows through a contiguous copy each; over
(4096, 10): 276 -> 87 and 132 -> 73 us against row loops.
"""
import numpy as np

from ._jit import kernel

SHORT_ROW = 16
BLOCK_ROWS = 128


@kernel(inline="always")
def to_columns(x, s0, rows, n, t):
    """t[j, r] = x[s0 + r, j] for the rows from s0 of the contiguous (S, n) array x (column by
    column through strided views: 4096 x 10 float32 took 28 us as a row-major double loop,
    12 us so)."""
    block = x[s0 * n:(s0 + rows) * n].reshape(rows, n)
    for j in range(n):
        col, tj = block[:, j], t[j]
        for r in range(rows):
            tj[r] = col[r]


@kernel(inline="always")
def from_columns(t, s0, rows, n, out):
    """out[s0 + r, j] = t[j, r]: to_columns' inverse."""
    block = out[s0 * n:(s0 + rows) * n].reshape(rows, n)
    for j in range(n):
        col, tj = block[:, j], t[j]
        for r in range(rows):
            col[r] = tj[r]


@kernel(inline="always")
def column_max(x, m):
    """m[r] = the largest x[j, r] over the rows j of the (n, R) array x, in float64 (a NaN is
    skipped; -inf for a column of -inf or NaN only)."""
    n, R = x.shape
    for r in range(R):
        m[r] = -np.inf
    for j in range(n):
        xj = x[j]
        for r in range(R):
            v = np.float64(xj[r])
            m[r] = v if v > m[r] else m[r]
