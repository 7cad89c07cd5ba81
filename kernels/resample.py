"""Resampling along one axis: each output position j mixes two source positions, i0[j] and
i1[j], with weight lam[j] on the second. Nearest and linear interpolation (bilinear and
trilinear as one pass per axis) and the reflect / replicate / circular pad modes (lam = 0) all
use it.

The array is seen as (outer, n_in, inner) -> (outer, n_out, inner), flat and C-contiguous;
i0 / i1 are int64 and lam float64, of length n_out (index bookkeeping computed by the caller).
"""
from ._jit import kernel


@kernel
def lerp_axis_forward(x, outer, n_in, inner, i0, i1, lam, y):
    """y[o, j, k] = (1 - lam[j]) * x[o, i0[j], k] + lam[j] * x[o, i1[j], k]."""
    n_out = i0.size
    for o in range(outer):
        for j in range(n_out):
            a = (o * n_in + i0[j]) * inner
            d = (o * n_out + j) * inner
            t = lam[j]
            if t == 0.0:  # a copy (no 0 * inf = nan from the unused neighbour)
                for k in range(inner):
                    y[d + k] = x[a + k]
            else:
                b = (o * n_in + i1[j]) * inner
                s = 1.0 - t
                for k in range(inner):
                    y[d + k] = s * x[a + k] + t * x[b + k]


@kernel
def lerp_axis_backward(gy, outer, n_in, inner, i0, i1, lam, gx):
    """gx[o, i0[j], k] += (1 - lam[j]) * gy[o, j, k]; gx[o, i1[j], k] += lam[j] * gy[o, j, k]
    (gx zeroed by the caller; repeated sources accumulate)."""
    n_out = i0.size
    for o in range(outer):
        for j in range(n_out):
            a = (o * n_in + i0[j]) * inner
            d = (o * n_out + j) * inner
            t = lam[j]
            if t == 0.0:
                for k in range(inner):
                    gx[a + k] += gy[d + k]
            else:
                b = (o * n_in + i1[j]) * inner
                s = 1.0 - t
                for k in range(inner):
                    gx[a + k] += s * gy[d + k]
                    gx[b + k] += t * gy[d + k]
