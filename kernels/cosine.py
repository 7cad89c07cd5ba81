"""Cosine similarity rows: two inputs reduced together along one axis, forward and backward.

Inputs (of one shape, C-contiguous) are seen as (outer, n, inner) with the reduced axis in the
middle, as the softmax kernels do, so no transpose copy is needed for any dim: row (o, k) is
x[o*n*inner + j*inner + k] for j < n. Sums accumulate in float64. Two conventions:
COSINE_SIM (F.cosine_similarity): <a, b> / (max(|a|, eps) max(|b|, eps)), the clamps passing
the gradient of the unclamped norm (ATen clamps a copy under no_grad);
COSINE_EMB (F.cosine_embedding_loss): <a, b> / sqrt((|a|^2 + eps) (|b|^2 + eps)).
"""
import numpy as np

from ._jit import kernel

COSINE_SIM, COSINE_EMB = 0, 1


@kernel
def cosine_forward(op, a, b, out, saa, sbb, outer, n, inner, eps):
    """out = cos(a, b) along the middle axis; saa, sbb = |a|^2, |b|^2 per row (float64)."""
    for o in range(outer):
        base = o * n * inner
        for k in range(inner):
            r = o * inner + k
            dot = 0.0
            aa = 0.0
            bb = 0.0
            for j in range(n):
                i = base + k + j * inner
                x = np.float64(a[i])
                y = np.float64(b[i])
                dot += x * y
                aa += x * x
                bb += y * y
            saa[r] = aa
            sbb[r] = bb
            if op == COSINE_SIM:
                out[r] = dot / (max(np.sqrt(aa), eps) * max(np.sqrt(bb), eps))
            else:
                out[r] = dot / np.sqrt((aa + eps) * (bb + eps))


@kernel
def cosine_backward(op, a, b, y, saa, sbb, g, ga, gb, outer, n, inner, eps):
    """SIM: ga = g (b / (ca cb) - y a / (ca |a|)) (no second term where |a| = 0), ca = max(|a|,
    eps); EMB: ga = g (b / sqrt(ma mb) - y a / ma), ma = |a|^2 + eps; gb likewise."""
    for o in range(outer):
        base = o * n * inner
        for k in range(inner):
            r = o * inner + k
            gy = np.float64(g[r])
            yr = np.float64(y[r])
            if op == COSINE_SIM:
                na = np.sqrt(saa[r])
                nb = np.sqrt(sbb[r])
                ca = max(na, eps)
                cb = max(nb, eps)
                cross = gy / (ca * cb)
                self_a = gy * yr / (ca * na) if na > 0 else 0.0
                self_b = gy * yr / (cb * nb) if nb > 0 else 0.0
            else:
                ma = saa[r] + eps
                mb = sbb[r] + eps
                cross = gy / np.sqrt(ma * mb)
                self_a = gy * yr / ma
                self_b = gy * yr / mb
            for j in range(n):
                i = base + k + j * inner
                x = np.float64(a[i])
                z = np.float64(b[i])
                ga[i] = z * cross - x * self_a
                gb[i] = x * cross - z * self_b
