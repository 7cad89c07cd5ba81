"""Embedding lookup (row gather) and its scatter-add backward."""
from ._jit import kernel


@kernel
def embedding_forward(idx, w, out, d):
    """out[i, :] = w[idx[i], :] for rows of length d."""
    for i in range(idx.size):
        src = idx[i] * d
        dst = i * d
        for j in range(d):
            out[dst + j] = w[src + j]


@kernel
def embedding_backward(idx, gy, gw, d, padding_idx):
    """gw = 0; gw[idx[i], :] += gy[i, :] for idx[i] != padding_idx (repeats accumulate)."""
    for k in range(gw.size):
        gw[k] = 0.0
    for i in range(idx.size):
        r = idx[i]
        if r == padding_idx:
            continue
        dst = r * d
        src = i * d
        for j in range(d):
            gw[dst + j] += gy[src + j]
