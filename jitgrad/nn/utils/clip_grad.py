"""Gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_).

When the parameters' gradients are exactly an optimizer's flat gradient array (a GradStore:
every parameter of it, each once; jitgrad/autograd/grad_store.py) that array is handled in one
kernel call; otherwise gradient by gradient.
"""
import math

import numpy as np

from ...kernels import optim as K
from ..._tensor import Tensor, _make


def _grads(parameters):
    """The arrays to process: a GradStore's whole flat array where the parameters cover it
    exactly (GradStore.covers: no address arithmetic), else each gradient by itself."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = [p for p in parameters if p.grad is not None]
    by_store, out = {}, []
    for p in params:
        home = p._grad_home
        if home is not None and p.grad is p._grad_store:
            by_store.setdefault(id(home), (home, []))[1].append(p)
        else:
            out.append(p.grad)
    for home, ps in by_store.values():
        if home.covers(ps):
            out.append(home.grad)
        else:
            out.extend(p.grad for p in ps)
    return out


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
    arrays = _grads(parameters)
    norm_type = float(norm_type)
    if not arrays:
        return _make(np.zeros((), np.float32), False, None, 0)
    op = _norm_op(norm_type)
    parts = [K.norm_partial(op, np.ascontiguousarray(a).reshape(-1), norm_type) for a in arrays]
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
    dtype = arrays[0].dtype
    coef = min(float(dtype.type(max_norm) / (dtype.type(total) + dtype.type(1e-6))), 1.0) \
        if total == total else math.nan
    for a in arrays:
        _inplace(K.scale_inplace, a, coef)
    return _make(np.array(total, dtype), False, None, 0)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    c = float(clip_value)
    for a in _grads(parameters):
        _inplace(K.clamp_inplace, a, -c, c)
