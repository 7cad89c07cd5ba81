"""Scaled dot-product attention: the fused pass between the two BLAS products, both ways.

The Python layer (jitgrad/nn/functional/_attention.py) computes the scores Q K^T and the
output P V with numpy.matmul over (batch*heads) stacks; these kernels do everything between.

Arrays are flat and C-contiguous: the scores are ``rows`` rows of length ``S`` (row r is
query position ``r % L`` of batch item ``r // L``). The optional additive mask (a bool mask is
turned into 0 / -inf by the caller) is read in place, without broadcasting it out: element
(b, i, j) is ``mask[moff[b] + i * mrs + j * mcs]`` (a stride of 0 for a broadcast dim).
``causal`` masks key positions j > i (PyTorch's top-left aligned ``tril``). Dropout is applied
to the probabilities from uniform draws ``u`` (float32, drawn by the caller from jitgrad's
generator): kept where ``u >= drop_p``, scaled by ``drop_scale``.

A row whose every key is masked gets probabilities 0 (and so output 0), as PyTorch's
scaled_dot_product_attention does (its math path uses a "safe" softmax); NaN inputs propagate.
"""
import numpy as np

from . import _math
from ._jit import kernel


@kernel
def sdpa_softmax_forward(s, L, S, mask, moff, mrs, mcs, causal, scale, u, drop_p, drop_scale,
                         pd):
    """s <- softmax(scale * s + mask) per row, in place; pd = s * keep(u) * drop_scale when
    u has elements (dropout)."""
    # three vectorised passes per row: scale + mask + running max (a select, so no branch;
    # NaN never wins it but reaches every output through the sum), exp + sum, normalise
    rows = s.size // S if S > 0 else 0
    has_mask = mask.size > 0
    dropout = u.size > 0
    for r in range(rows):
        o = r * S
        i = r % L
        n = S
        if causal:
            n = i + 1 if i + 1 < S else S
        m = -np.inf
        if has_mask:
            mo = moff[r // L] + i * mrs
            for j in range(n):
                v = s[o + j] * scale + mask[mo + j * mcs]
                s[o + j] = v
                m = v if v > m else m
        else:
            for j in range(n):
                v = s[o + j] * scale
                s[o + j] = v
                m = v if v > m else m
        if m == -np.inf:  # every key masked: probabilities 0 (NaN if a score is NaN)
            bad = 0.0
            for j in range(n):
                if s[o + j] != s[o + j]:
                    bad = np.nan
            for j in range(S):
                s[o + j] = bad
        else:
            t = 0.0
            for j in range(n):
                e = _math.exp(s[o + j] - m)
                s[o + j] = e
                t += e
            rt = 1.0 / t
            for j in range(n):
                s[o + j] *= rt
            for j in range(n, S):
                s[o + j] = 0.0
        if dropout:
            for j in range(S):
                pd[o + j] = s[o + j] * drop_scale if u[o + j] >= drop_p else 0.0


@kernel
def sdpa_softmax_backward(p, gp, S, u, drop_p, drop_scale, scale, gs, pd):
    """gs = scale * p * (m * gp - sum_j(m * gp * p)) per row, m the dropout keep-scale (1
    without dropout); with dropout also pd = p * m (the dropped probabilities, for dV).
    gs may be gp itself."""
    rows = p.size // S if S > 0 else 0
    if u.size > 0:
        for r in range(rows):
            o = r * S
            t = 0.0
            for j in range(S):
                m = drop_scale if u[o + j] >= drop_p else 0.0
                t += m * gp[o + j] * p[o + j]
            for j in range(S):
                m = drop_scale if u[o + j] >= drop_p else 0.0
                pj = p[o + j]
                gs[o + j] = scale * pj * (m * gp[o + j] - t)
                pd[o + j] = pj * m
    else:
        for r in range(rows):
            o = r * S
            t = 0.0
            for j in range(S):
                t += gp[o + j] * p[o + j]
            for j in range(S):
                gs[o + j] = scale * p[o + j] * (gp[o + j] - t)
