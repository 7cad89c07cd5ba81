"""Attention: scaled_dot_product_attention (one fused Function) and multi_head_attention_forward
(composed from linear, the attention Function and shape ops, as torch.nn.functional's).

scaled_dot_product_attention is one graph node. Forward: S = Q K^T (numpy.matmul, BLAS over
the broadcast batch dims, on the caller's strided views: no copies), then one kernel pass
scales, masks, soft-maxes (and drops out) in place, then O = P V (BLAS). Backward: dP = dO V^T,
one kernel pass dS = scale * P * (dP - rowsum(dP * P)) (dropout mask re-derived from the saved
draws), then dQ = dS K, dK = dS^T Q, dV = P_dropped^T dO (BLAS).

Saved for backward: the probabilities P (batch * L * S), not recomputed. Measured with float32
on the shared 2-core machine (one thread, medians of 5 rounds): recomputing P in backward (one
more Q K^T GEMM and the softmax pass) would add 17-33% to a forward+backward at L = S = 64..256,
E = 32..64 (3-12% at L = 8), while saving costs one (L, S) array per head, as PyTorch's math
path does. The kernels are serial: they are 10-25% of such a forward+backward (the rest is
BLAS), so a parallel pass could save at most about half of that on 2 cores, at ~4x compile time.
"""
import math

import numpy as np

from ... import _check, _ops
from ..._ops.broadcast import sum_to
from ..._ops.util import contiguous
from ..._random import numpy_rng
from ..._tensor import Tensor
from ...autograd.function import Function
from ...kernels import attention as K
from ...kernels import elementwise as _ew
from ._layers import linear, pad

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_EMPTY = {np.dtype(np.float32): np.empty(0, np.float32),
          np.dtype(np.float64): np.empty(0, np.float64)}
_NO_DRAWS = np.empty(0, np.float32)
_NO_OFFSETS = np.zeros(1, np.int64)


def _mask_layout(op, mask, full):
    """(flat mask, per-batch offsets, row stride, column stride) reading `mask` broadcast to
    `full` = batch + (L, S) in place (stride 0 along broadcast dims)."""
    if mask.ndim > len(full):
        raise ValueError(f"{op}(): argument 'attn_mask' expected a shape that broadcasts to "
                         f"{full}, got {mask.shape}")
    try:
        view = np.broadcast_to(mask, full)
    except ValueError:
        raise ValueError(f"{op}(): argument 'attn_mask' expected a shape that broadcasts to "
                         f"{full}, got {mask.shape}") from None
    strides = [s // mask.itemsize for s in view.strides]
    off = _NO_OFFSETS
    for d, n in enumerate(full[:-2]):
        off = (off[:, None] + np.arange(n, dtype=np.int64) * strides[d]).reshape(-1)
    return mask.reshape(-1), off, strides[-2], strides[-1]


class ScaledDotProductAttention(Function):
    """O = dropout(softmax(Q K^T * scale + mask)) V over the last two dims, batch dims
    broadcast; with `weights`, the (dropped-out) probabilities are a second output."""

    @staticmethod
    def forward(ctx, q, k, v, mask, dropout_p, causal, scale, weights):
        op = "scaled_dot_product_attention"
        for name, a in (("query", q), ("key", k), ("value", v)):
            _check.array(op, name, a)
            if a.dtype.kind != "f":
                raise TypeError(f"{op}(): argument '{name}' expected a floating-point tensor "
                                f"(float32 or float64), got dtype {a.dtype}")
            if a.ndim < 2:
                raise ValueError(f"{op}(): argument '{name}' expected a tensor of at least 2 "
                                 f"dims (..., sequence, features), got shape {a.shape}")
        _check.same_dtype(op, ("query", "key", "value"), (q, k, v))
        if k.shape[-1] != q.shape[-1]:
            raise ValueError(f"{op}(): argument 'key' expected last dim {q.shape[-1]} (query's "
                             f"embedding size), got shape {k.shape}")
        if v.shape[-2] != k.shape[-2]:
            raise ValueError(f"{op}(): argument 'value' expected sequence length {k.shape[-2]} "
                             f"(key's, dim -2), got shape {v.shape}")
        try:
            batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
        except ValueError:
            raise ValueError(f"{op}(): the batch dims of query {q.shape}, key {k.shape} and "
                             f"value {v.shape} do not broadcast together") from None
        L, S, dt = q.shape[-2], k.shape[-2], q.dtype
        full = batch + (L, S)
        flat_mask, moff, mrs, mcs = _EMPTY[dt], _NO_OFFSETS, 0, 0
        if mask is not None:
            _check.array(op, "attn_mask", mask)
            if mask.dtype == np.bool_:
                mask = np.where(mask, dt.type(0), dt.type(-np.inf))
            elif mask.dtype.kind != "f":
                raise TypeError(f"{op}(): argument 'attn_mask' expected a bool or floating-point "
                                f"tensor, got dtype {mask.dtype}")
            ctx.mask_meta = (mask.shape, mask.dtype)
            flat_mask, moff, mrs, mcs = _mask_layout(op, contiguous(mask.astype(dt, copy=False)),
                                                     full)
        p = np.empty(full, dt)
        np.matmul(q, np.swapaxes(k, -1, -2), out=p)
        u, pd, drop_scale = _NO_DRAWS, _EMPTY[dt], 1.0
        if dropout_p > 0.0:
            u = numpy_rng().random(full, dtype=np.float32)
            pd = np.empty(full, dt)
            drop_scale = 0.0 if dropout_p == 1.0 else 1.0 / (1.0 - dropout_p)
        K.sdpa_softmax_forward(p.reshape(-1), L, S, flat_mask, moff, mrs, mcs, int(causal),
                               float(scale), u.reshape(-1), float(dropout_p), drop_scale,
                               pd.reshape(-1))
        pdrop = pd if dropout_p > 0.0 else p
        out = np.matmul(pdrop, v)
        ctx.scale, ctx.drop = float(scale), (float(dropout_p), drop_scale)
        ctx.save_for_backward(q, k, v, p, u)
        return (out, pdrop) if weights else out

    @staticmethod
    def backward(ctx, g, gw=None):
        q, k, v, p, u = ctx.saved_tensors
        need = ctx.needs_input_grad
        drop_p, drop_scale = ctx.drop
        g = contiguous(g)
        gp = np.matmul(g, np.swapaxes(v, -1, -2))
        if gw is not None:  # gradient reaching the returned attention weights
            _ew.binary_same(_ew.ADD, gp.reshape(-1), contiguous(gw).reshape(-1), gp.reshape(-1))
        pd = np.empty(p.shape, p.dtype) if u.size else _EMPTY[p.dtype]
        kscale = 1.0 if need[3] else ctx.scale  # the mask's gradient is the unscaled dS
        K.sdpa_softmax_backward(p.reshape(-1), gp.reshape(-1), p.shape[-1], u.reshape(-1),
                                drop_p, drop_scale, kscale, gp.reshape(-1), pd.reshape(-1))
        gmask = None
        if need[3]:
            shape, dtype = ctx.mask_meta
            gmask = sum_to(gp, shape)
            gmask = gmask.astype(dtype, copy=gmask is gp)  # gp is scaled in place next
            _ew.unary_forward(_ew.SCALE, gp.reshape(-1), gp.reshape(-1), ctx.scale, 0.0)
        gq = sum_to(np.matmul(gp, k), q.shape) if need[0] else None
        gk = sum_to(np.matmul(np.swapaxes(gp, -1, -2), q), k.shape) if need[1] else None
        gv = None
        if need[2]:
            gv = sum_to(np.matmul(np.swapaxes(pd if u.size else p, -1, -2), g), v.shape)
        return gq, gk, gv, gmask, None, None, None, None

    @staticmethod
    def name_of(ctx):
        return "scaledDotProductAttention"


def _attention(name, query, key, value, attn_mask, dropout_p, is_causal, scale, weights):
    for arg, t in (("query", query), ("key", key), ("value", value)):
        _check.tensor(name, arg, t)
    if attn_mask is not None:
        _check.tensor(name, "attn_mask", attn_mask)
        if is_causal:
            raise ValueError(f"{name}(): an explicit attn_mask cannot be combined with "
                             f"is_causal=True (pass one or the other)")
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float)) or \
            not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{name}(): argument 'dropout_p' expected a float in [0, 1], got "
                         f"{dropout_p!r}")
    if scale is None:
        e = query.shape[-1] if query.ndim else 0
        scale = 1.0 / math.sqrt(e) if e > 0 else 1.0
    elif isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"{name}(): argument 'scale' expected a float or None, got "
                        f"{type(scale).__name__}")
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, float(dropout_p),
                                           bool(is_causal), float(scale), weights)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value over (..., L, E) x (..., S, E) x
    (..., S, Ev), batch dims broadcast (torch.nn.functional.scaled_dot_product_attention).

    `attn_mask`: bool (True = take part in attention) or float (added to the scores), any
    shape that broadcasts to (..., L, S). `is_causal`: query i attends to keys j <= i.
    `scale` defaults to 1/sqrt(E). Dropout (always applied when dropout_p > 0, as torch)
    draws from jitgrad's default generator. A query whose keys are all masked gets output 0."""
    if enable_gqa:
        raise NotImplementedError("scaled_dot_product_attention(): enable_gqa=True is not "
                                  "supported; repeat key/value heads to the query's count "
                                  "(key.repeat_interleave) instead")
    return _attention("scaled_dot_product_attention", query, key, value, attn_mask, dropout_p,
                      is_causal, scale, False)


# ----------------------------------------------------------------------------- multi-head
def _canonical_mask(name, mask, dtype):
    """A bool mask (True = masked out, MultiheadAttention's convention) as a float mask of
    0 / -inf in `dtype`; a float mask as given (it is added to the scores)."""
    if mask is None:
        return None
    _check.tensor("multi_head_attention_forward", name, mask)
    if mask.dtype == np.bool_:
        out = np.zeros(mask.shape, dtype)
        out[mask.data] = -np.inf
        return Tensor(out)
    if mask.dtype.kind != "f":
        raise TypeError(f"multi_head_attention_forward(): argument '{name}' expected a bool or "
                        f"floating-point tensor, got dtype {mask.dtype}")
    return mask


def _mha_shapes(query, key, value, embed_dim, num_heads, use_separate_proj_weight):
    op = "multi_head_attention_forward"
    for arg, t in (("query", query), ("key", key), ("value", value)):
        _check.tensor(op, arg, t)
    batched = query.ndim == 3
    if query.ndim not in (2, 3):
        raise ValueError(f"{op}(): argument 'query' expected a 2-D (L, E) or 3-D (L, N, E) "
                         f"tensor, got shape {tuple(query.shape)}")
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{op}(): key and value must be {query.ndim}-D like query, got key "
                         f"{tuple(key.shape)} and value {tuple(value.shape)}")
    if query.shape[-1] != embed_dim:
        raise ValueError(f"{op}(): was expecting embedding dimension of {embed_dim}, but got "
                         f"{query.shape[-1]}")
    if embed_dim % num_heads:
        raise ValueError(f"{op}(): embed_dim {embed_dim} not divisible by num_heads "
                         f"{num_heads}")
    if key.shape[:-1] != value.shape[:-1]:
        raise ValueError(f"{op}(): key shape {tuple(key.shape)} does not match value shape "
                         f"{tuple(value.shape)}")
    if not use_separate_proj_weight and key.shape != value.shape:
        raise ValueError(f"{op}(): key shape {tuple(key.shape)} does not match value shape "
                         f"{tuple(value.shape)}")
    if batched and key.shape[1] != query.shape[1]:
        raise ValueError(f"{op}(): key batch size {key.shape[1]} does not match query batch "
                         f"size {query.shape[1]}")
    return batched


def _in_projection(query, key, value, w, b, separate):
    """q, k, v projections; one GEMM for self-attention (query is key is value), two for
    encoder-decoder attention (key is value), as torch's _in_projection_packed."""
    E = query.shape[-1]
    if separate is not None:
        wq, wk, wv = separate
        bq, bk, bv = (None, None, None) if b is None else b.chunk(3)
        return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)
    if key is value and query is key:
        return linear(query, w, b).chunk(3, dim=-1)
    if key is value:
        wq, wkv = w.split([E, 2 * E])
        bq, bkv = (None, None) if b is None else b.split([E, 2 * E])
        return (linear(query, wq, bq),) + linear(key, wkv, bkv).chunk(2, dim=-1)
    wq, wk, wv = w.chunk(3)
    bq, bk, bv = (None, None, None) if b is None else b.chunk(3)
    return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """torch.nn.functional.multi_head_attention_forward: query (L, N, E), key/value (S, N, *)
    (or unbatched (L, E), (S, *)); returns (output (L, N, E), weights or None).

    Masks: bool True = *not* attended (PyTorch's MultiheadAttention convention), float masks
    are added. attn_mask is (L, S) or (N * num_heads, L, S); key_padding_mask (N, S). The
    weights are averaged over heads to (N, L, S) unless average_attn_weights=False
    ((N, num_heads, L, S)). The attention itself is one scaled_dot_product_attention node on
    (N, heads, L, head_dim) views; a query whose keys are all masked gets output 0 (torch gives
    NaN on its need_weights=True path and 0 on its need_weights=False path)."""
    op = "multi_head_attention_forward"
    E, H = int(embed_dim_to_check), int(num_heads)
    batched = _mha_shapes(query, key, value, E, H, use_separate_proj_weight)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N = query.shape[0], query.shape[1]
    hd = E // H
    key_padding_mask = _canonical_mask("key_padding_mask", key_padding_mask, query.dtype)
    if is_causal and attn_mask is None:
        raise ValueError(f"{op}(): need attn_mask if specifying the is_causal hint (pass the "
                         f"causal mask, e.g. Transformer.generate_square_subsequent_mask)")
    causal = False
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask, causal = None, True  # the hint: the fused kernel masks, no mask is read
    else:
        attn_mask = _canonical_mask("attn_mask", attn_mask, query.dtype)
    separate = None
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError(f"{op}(): use_separate_proj_weight is True but q_proj_weight, "
                             f"k_proj_weight or v_proj_weight is None")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    elif in_proj_weight is None:
        raise ValueError(f"{op}(): use_separate_proj_weight is False but in_proj_weight is None")
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (L, key.shape[0]):
                raise ValueError(f"{op}(): the shape of the 2D attn_mask is "
                                 f"{tuple(attn_mask.shape)}, but should be {(L, key.shape[0])}")
        elif attn_mask.ndim == 3:
            if tuple(attn_mask.shape) != (N * H, L, key.shape[0]):
                raise ValueError(f"{op}(): the shape of the 3D attn_mask is "
                                 f"{tuple(attn_mask.shape)}, but should be "
                                 f"{(N * H, L, key.shape[0])}")
            attn_mask = attn_mask.reshape(N, H, L, key.shape[0])
        else:
            raise ValueError(f"{op}(): attn_mask's dimension {attn_mask.ndim} is not "
                             f"supported (2-D or 3-D)")
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise ValueError(f"{op}(): bias_k/bias_v cannot be added to static_k/static_v")
        k = _ops.cat([k, bias_k.expand(1, N, E)])
        v = _ops.cat([v, bias_v.expand(1, N, E)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif (bias_k is None) != (bias_v is None):
        raise ValueError(f"{op}(): bias_k and bias_v must both be given or both be None")
    # (L, N, E) -> (N, H, L, hd): views, no copies (the attention node reads strided views)
    q = q.reshape(L, N, H, hd).permute(1, 2, 0, 3)
    k = _heads(op, "static_k", k, static_k, N, H, hd)
    v = _heads(op, "static_v", v, static_v, N, H, hd)
    if add_zero_attn:
        zeros = Tensor(np.zeros((N, H, 1, hd), q.dtype))
        k = _ops.cat([k, zeros], dim=2)
        v = _ops.cat([v, zeros], dim=2)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    S = k.shape[2]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise ValueError(f"{op}(): expecting key_padding_mask shape of {(N, S)}, but got "
                             f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(N, 1, 1, S)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    p = float(dropout_p) if training else 0.0
    res = _attention(op, q, k, v, attn_mask, p, causal, None, bool(need_weights))
    out, w = res if need_weights else (res, None)
    out = out.permute(2, 0, 1, 3).reshape(L * N, E)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(L, N, E)
    if w is not None and average_attn_weights:
        w = w.mean(dim=1)
    if not batched:
        out = out.squeeze(1)
        w = None if w is None else w.squeeze(0)
    return out, w


def _heads(op, name, x, static, N, H, hd):
    """(S, N, E) projections as (N, H, S, hd) views, or the given static (N * H, S, hd)."""
    if static is None:
        return x.reshape(x.shape[0], N, H, hd).permute(1, 2, 0, 3)
    _check.tensor(op, name, static)
    if static.ndim != 3 or static.shape[0] != N * H or static.shape[2] != hd:
        raise ValueError(f"{op}(): expecting {name} of shape ({N * H}, *, {hd}), got "
                         f"{tuple(static.shape)}")
    return static.reshape(N, H, static.shape[1], hd)
