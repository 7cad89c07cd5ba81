"""Op table entries: scaled_dot_product_attention and multi_head_attention_forward, each with a
plain-NumPy reference written from PyTorch's formulas (softmax(Q K^T * scale + mask) V; a query
whose keys are all masked gets 0, as torch's SDPA)."""
import math

import numpy as np

import jitgrad.nn.functional as F

from .spec import Case, OpSpec


def _softmax_rows(x):
    m = np.max(x, axis=-1, keepdims=True)
    dead = np.isneginf(m)
    e = np.exp(x - np.where(dead, 0.0, m))
    t = np.sum(e, axis=-1, keepdims=True)
    return np.where(dead, 0.0, e / np.where(dead, 1.0, t))


def _sdpa_ref(q, k, v, attn_mask=None, is_causal=False, scale=None):
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = np.matmul(q, np.swapaxes(k, -1, -2)) * scale
    L, S = s.shape[-2:]
    if is_causal:
        s = np.where(np.tril(np.ones((L, S), bool)), s, -np.inf)
    if attn_mask is not None:
        s = np.where(attn_mask, s, -np.inf) if attn_mask.dtype == bool else s + attn_mask
    return np.matmul(_softmax_rows(s), v)


_BOOL_MASK = np.array([[True, False, True, True, False],
                       [False, False, False, False, False],  # a fully masked query: output 0
                       [True, True, True, True, True]])

_SDPA = [
    Case([(2, 3, 4), (2, 5, 4), (2, 5, 3)], name="batch"),
    Case([(1, 4, 2), (1, 4, 2), (1, 4, 2)], dict(is_causal=True), name="causal, batch 1"),
    Case([(2, 3, 4), (2, 5, 4), (2, 5, 3), _BOOL_MASK], name="bool mask"),
    Case([(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), (2, 1, 1, 5)], name="float mask (grad)"),
    Case([(2, 2, 3, 3), (1, 2, 4, 3), (2, 1, 4, 2)], dict(scale=0.7), name="broadcast, scale"),
    Case([(3, 4), (5, 4), (5, 2)], name="2-d"),
    Case([(2, 3, 4), (2, 5, 4), (2, 5, 3)], layout="transposed", name="transposed"),
]

SPECS = [OpSpec("nn.functional.scaled_dot_product_attention",
                F.scaled_dot_product_attention, _sdpa_ref, _SDPA)]


def _linear(x, w, b):
    return x @ w.T + b


def _mha_ref(q, k, v, w_in, b_in, w_out, b_out, key_padding_mask=None, num_heads=2,
             average_attn_weights=True):
    """Step by step as torch.nn.functional.multi_head_attention_forward (separate q/k/v)."""
    L, N, E = q.shape
    S, H = k.shape[0], num_heads
    hd = E // H
    wq, wk, wv = np.split(w_in, 3)
    bq, bk, bv = np.split(b_in, 3)

    def heads(x, T):  # (T, N, E) -> (N, H, T, hd)
        return x.reshape(T, N, H, hd).transpose(1, 2, 0, 3)
    qh, kh, vh = heads(_linear(q, wq, bq), L), heads(_linear(k, wk, bk), S), \
        heads(_linear(v, wv, bv), S)
    s = qh @ np.swapaxes(kh, -1, -2) / math.sqrt(hd)
    if key_padding_mask is not None:
        s = np.where(key_padding_mask[:, None, None, :], -np.inf, s)
    p = _softmax_rows(s)
    o = (p @ vh).transpose(2, 0, 1, 3).reshape(L, N, E)
    return _linear(o, w_out, b_out), (p.mean(axis=1) if average_attn_weights else p)


def _mha(q, k, v, w_in, b_in, w_out, b_out, key_padding_mask=None, num_heads=2, **kw):
    return F.multi_head_attention_forward(q, k, v, q.shape[-1], num_heads, w_in, b_in, None,
                                          None, False, 0.0, w_out, b_out,
                                          key_padding_mask=key_padding_mask, **kw)


_E = 4
_W = [(3 * _E, _E), (3 * _E,), (_E, _E), (_E,)]
_KPM = np.array([[False, False, True], [False, False, False]])
SPECS += [OpSpec("nn.functional.multi_head_attention_forward", _mha, _mha_ref, [
    Case([(2, 2, _E), (3, 2, _E), (3, 2, _E)] + _W, name="cross"),
    Case([(3, 2, _E), (3, 2, _E), (3, 2, _E)] + _W + [_KPM], dict(average_attn_weights=False),
         name="padding, per head"),
])]
