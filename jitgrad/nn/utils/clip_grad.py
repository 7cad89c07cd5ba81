"""Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_).

When the gradients are exactly the views of an optimizer's flat gradient buffer (every tensor
of the buffer, each once) the buffer is handled in one kernel call; otherwise tensor by tensor.
"""
import math

import numpy as np

from ...kernels import optim as K
from ..._tensor import Tensor, _make


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _flat_groups(grads):
    """The arrays to process: whole flat buffers where the grads cover them, else the grads."""
    by_base, rest = {}, []
    for g in grads:
        b = g.base
        if b is not None and b.ndim == 1 and b.flags.c_contiguous and g.flags.c_contiguous:
            by_base.setdefault(id(b), (b, []))[1].append(g)
        else:
            rest.append(g)
    out = []
    for b, gs in by_base.values():
        ids = {id(g) for g in gs}
        if len(ids) == len(gs) and sum(g.size for g in gs) == b.size and _disjoint(b, gs):
            out.append(b)
        else:
            out.extend(gs)
    out.extend(rest)
    return out


def _disjoint(base, gs):
    addr = base.__array_interface__["data"][0]
    spans = sorted((g.__array_interface__["data"][0] - addr, g.nbytes) for g in gs)
    pos = 0
    for start, n in spans:
        if start != pos:
            return False
        pos += n
    return pos == base.nbytes


def _inplace(kernel, a, *args):
    if a.flags.c_contiguous:
        kernel(a.reshape(-1), *args)
    else:  # a gradient set by hand with a strided layout: reshape(-1) would be a copy
        tmp = a.copy()
        kernel(tmp.reshape(-1), *args)
        a[...] = tmp


def _norm_op(p):
    if p == math.inf:
        return K.NORM_INF
    if p == -math.inf:
        return K.NORM_NEGINF
    return {0.0: K.NORM_0, 1.0: K.NORM_1, 2.0: K.NORM_2}.get(p, K.NORM_P)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale gradients in place so their joint ``norm_type``-norm is at most ``max_norm``;
    return the total norm (before clipping) as a 0-d tensor."""
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return _make(np.zeros((), np.float32), False, None, 0)
    op = _norm_op(norm_type)
    parts = [K.norm_partial(op, np.ascontiguousarray(a).reshape(-1), norm_type) for a in _flat_groups(grads)]
    if op == K.NORM_INF:
        total = max(parts)
    elif op == K.NORM_NEGINF:
        total = min(parts)
    elif op == K.NORM_0:
        total = sum(parts)
    elif op == K.NORM_1:
        total = sum(parts)
    elif op == K.NORM_2:
        total = math.sqrt(sum(parts))
    else:
        total = sum(parts) ** (1.0 / norm_type)
    if any(p != p for p in parts):
        total = math.nan
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm anyway, "
                           f"set `error_if_nonfinite=False`")
    dtype = grads[0].dtype
    coef = min(float(dtype.type(max_norm) / (dtype.type(total) + dtype.type(1e-6))), 1.0) \
        if total == total else math.nan
    for a in _flat_groups(grads):
        _inplace(K.scale_inplace, a, coef)
    return _make(np.array(total, dtype), False, None, 0)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    c = float(clip_value)
    for a in _flat_groups(_grads(parameters)):
        _inplace(K.clamp_inplace, a, -c, c)
