"""Broadcast plans and ``sum_to``: the one place where broadcasting is done and undone.

A plan is a coalesced description of an index space (shape plus element strides per operand),
cached per shape pair so a repeated op pays one cache lookup. The caches are LRU-bounded
(``PLAN_CACHE_SIZE`` entries each): an RNN over many sequence lengths, or every last partial
batch, would otherwise grow them without end.
"""
import functools

import numpy as np

from ..kernels import reduce as _reduce
from .util import contiguous
from .. import _check

PLAN_CACHE_SIZE = 1024


def _c_strides(shape):
    strides = [0] * len(shape)
    s = 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = s if shape[d] != 1 else 0
        s *= shape[d]
    return strides


def _coalesce(shape, *strides):
    """Drop size-1 dims and merge neighbours that every operand walks contiguously."""
    dims = [d for d in range(len(shape)) if shape[d] != 1]
    out_shape, out_strides = [], [[] for _ in strides]
    for d in dims:
        if out_shape and all(st[-1] == s[d] * shape[d] for st, s in zip(out_strides, strides)):
            out_shape[-1] *= shape[d]
            for st, s in zip(out_strides, strides):
                st[-1] = s[d]
            continue
        out_shape.append(shape[d])
        for st, s in zip(out_strides, strides):
            st.append(s[d])
    if not out_shape:
        out_shape = [1]
        out_strides = [[0] for _ in strides]
    return (np.array(out_shape, np.int64),) + tuple(np.array(s, np.int64) for s in out_strides)


def broadcast_shape(op, sa, sb, names=("input", "other")):
    nd = max(len(sa), len(sb))
    pa = (1,) * (nd - len(sa)) + tuple(sa)
    pb = (1,) * (nd - len(sb)) + tuple(sb)
    out = []
    for x, y in zip(pa, pb):
        if x != y and x != 1 and y != 1:
            raise _check.ShapeError(f"{op}: shapes cannot be broadcast together: {names[0]} has shape "
                             f"{tuple(sa)}, {names[1]} has shape {tuple(sb)}")
        out.append(y if x == 1 else x)
    return tuple(out), pa, pb


def broadcast_plan(op, sa, sb):
    """(out_shape, shape, strides_a, strides_b) for out = a (op) b with NumPy broadcasting."""
    plan = _broadcast_plan(sa, sb)
    if plan is None:
        broadcast_shape(op, sa, sb)  # raises, naming the op
    return plan


@functools.lru_cache(maxsize=PLAN_CACHE_SIZE)
def _broadcast_plan(sa, sb):
    try:
        out, pa, pb = broadcast_shape("", sa, sb)
    except ValueError:
        return None
    return (out,) + _coalesce(out, _c_strides(pa), _c_strides(pb))


def reduce_plan(shape, axes):
    """(shape, out_strides) to sum a C-contiguous array of `shape` over `axes` (a tuple)."""
    kept = tuple(1 if d in axes else n for d, n in enumerate(shape))
    ostrides = _c_strides(kept)
    return _coalesce(shape, ostrides)


@functools.lru_cache(maxsize=PLAN_CACHE_SIZE)
def _sum_to_plan(gshape, shape):
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + d for d, n in enumerate(shape)
                                      if n == 1 and gshape[lead + d] != 1)
    return reduce_plan(gshape, axes)


def sum_to(g, shape):
    """Sum g down to `shape` (undo NumPy broadcasting): leading dims and size-1 dims."""
    if g.shape == shape:
        return g
    plan = _sum_to_plan(g.shape, shape)
    out = np.empty(shape, g.dtype)
    g = contiguous(g)
    _reduce.sum_strided(g.ravel(), plan[0], plan[1], out.ravel())
    return out
