"""Pairwise distances (cdist): forward and backward side by side.

x1 is (B, P, M), x2 is (B, R, M), the distances (B, P, R), all C-contiguous. ``code`` selects
the norm outside the inner loop; ``p`` is used by the general-p code only. Sums accumulate in
float64. Backward follows torch's conventions: a zero distance has zero gradient, p=1 uses
sign(0) = 0, and p=inf passes the gradient to every coordinate that attains the maximum.
"""
import math

from ._jit import kernel

P2, P1, PINF, P0, PGEN = range(5)


@kernel
def _sign(v):
    return 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)


@kernel
def cdist_forward(code, p, x1, x2, out):
    """out[b,i,j] = ||x1[b,i,:] - x2[b,j,:]||_p."""
    B, P, M = x1.shape
    R = x2.shape[1]
    for b in range(B):
        for i in range(P):
            for j in range(R):
                acc = 0.0
                if code == P2:
                    for k in range(M):
                        d = x1[b, i, k] - x2[b, j, k]
                        acc += d * d
                    acc = math.sqrt(acc)
                elif code == P1:
                    for k in range(M):
                        acc += abs(x1[b, i, k] - x2[b, j, k])
                elif code == PINF:
                    for k in range(M):
                        acc = max(acc, abs(x1[b, i, k] - x2[b, j, k]))
                elif code == P0:
                    for k in range(M):
                        acc += 1.0 if x1[b, i, k] != x2[b, j, k] else 0.0
                else:
                    for k in range(M):
                        acc += abs(x1[b, i, k] - x2[b, j, k]) ** p
                    acc = acc ** (1.0 / p)
                out[b, i, j] = acc


@kernel
def cdist_backward(code, p, x1, x2, dist, g, g1, g2):
    """g1[b,i,:] = sum_j g[b,i,j] dD[b,i,j]/dx1[b,i,:]; g2[b,j,:] = -sum_i (same); g1, g2 zeroed."""
    B, P, M = x1.shape
    R = x2.shape[1]
    if code == P0:
        return
    for b in range(B):
        for i in range(P):
            for j in range(R):
                gd = g[b, i, j]
                D = dist[b, i, j]
                if gd == 0.0 or (D == 0.0 and code != P1):
                    continue
                if code == P2:
                    c = gd / D
                    for k in range(M):
                        v = c * (x1[b, i, k] - x2[b, j, k])
                        g1[b, i, k] += v
                        g2[b, j, k] -= v
                elif code == P1:
                    for k in range(M):
                        v = gd * _sign(x1[b, i, k] - x2[b, j, k])
                        g1[b, i, k] += v
                        g2[b, j, k] -= v
                elif code == PINF:
                    for k in range(M):
                        d = x1[b, i, k] - x2[b, j, k]
                        v = gd * _sign(d) if abs(d) == D else 0.0
                        g1[b, i, k] += v
                        g2[b, j, k] -= v
                else:
                    for k in range(M):
                        d = x1[b, i, k] - x2[b, j, k]
                        v = gd * _sign(d) * (abs(d) / D) ** (p - 1.0)
                        g1[b, i, k] += v
                        g2[b, j, k] -= v
