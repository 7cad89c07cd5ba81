"""Reductions along axes, and sum_to (undo a broadcast), on flat arrays with a coalesced plan."""
import numpy as np

from ._jit import kernel


@kernel
def sum_strided(x, shape, ostrides, out):
    """out[o(i)] = sum of x[i] over the index space `shape` (C order); ostrides[d] = 0 on
    reduced dims. Accumulates in float64."""
    nd = shape.size
    n = shape[nd - 1]
    acc = np.zeros(out.size, np.float64)
    if n > 0 and x.size > 0:
        idx = np.zeros(nd, np.int64)
        io = 0
        s = ostrides[nd - 1]
        for r in range(x.size // n):
            base = r * n
            if s == 0:
                t = 0.0
                for j in range(n):
                    t += x[base + j]
                acc[io] += t
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
    for i in range(out.size):
        out[i] = acc[i]
