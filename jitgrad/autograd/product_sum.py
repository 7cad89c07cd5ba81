"""ProductSum: a gradient kept as a sum of matrix products until the engine needs its value.

A weight used at every step of a Python loop (an ``LSTMCell`` called 64 times) receives one
gradient term ``dgates_t^T @ h_t`` per step. Computed one by one, that is 64 small-K GEMMs
(K = batch) and 64 full-size adds; kept as terms, it is one GEMM over all steps' rows
(K = steps x batch) when the leaf's gradient is finished: the same products, summed in one
BLAS call, written straight into the optimizer's flat gradient view when it can be.

A backward may return ``ProductSum(a, b)`` (the gradient ``a.T @ b``; ``b=None`` means a
column of ones, i.e. ``a.sum(0)``, the form of a bias gradient) wherever it would return that
array. The engine merges the terms of every such gradient flowing into the same leaf and
materialises them (``dense``) before anything looks at the value: hooks, ``autograd.grad``,
anomaly checks and the backward of a non-leaf node always see a plain array.
"""
import threading
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np

from .._ops.util import gemm
from ..kernels import linear as _KL

_shared = threading.local()
SHARED = 2


@contextmanager
def sharing():
    """Within (one backward pass): sums whose gradient terms (the `a` side) are the same arrays
    concatenate them once. An LSTMCell loop's gate gradients feed W_ih, W_hh and both biases:
    one concatenation of 64 x (32, 512) float32 terms took 175-450 us and ran four times, now
    once (a GRUCell's two gate gradients: twice instead of four times). The last SHARED
    concatenations are kept, so memory grows by at most that many."""
    outer = getattr(_shared, "memo", None)
    if outer is None:
        _shared.memo = OrderedDict()
    try:
        yield
    finally:
        if outer is None:
            _shared.memo = None


def _concat(arrays):
    """np.concatenate(arrays) of gradient terms, once per backward for the same arrays."""
    if len(arrays) == 1:
        return arrays[0]
    memo = getattr(_shared, "memo", None)
    if memo is None:
        return np.concatenate(arrays)
    key = tuple(map(id, arrays))
    hit = memo.get(key)
    if hit is None:  # the arrays stay referenced, so their ids cannot be reused meanwhile
        hit = memo[key] = (list(arrays), np.concatenate(arrays))
        if len(memo) > SHARED:
            memo.popitem(last=False)
    else:
        memo.move_to_end(key)
    return hit[1]


class ProductSum:
    """sum_i a_i.T @ b_i (a_i: (K_i, m); b_i: (K_i, n), or None for a row of ones)."""

    __slots__ = ("a", "b", "shape", "dtype")

    def __init__(self, a, b=None):
        self.a = [a]
        self.b = [b]
        self.shape = (a.shape[1],) if b is None else (a.shape[1], b.shape[1])
        self.dtype = a.dtype

    def merge(self, other):
        """Take `other`'s terms (same shape and dtype) into this sum; returns self."""
        self.a.extend(other.a)
        self.b.extend(other.b)
        return self

    def dense(self, out=None):
        """The sum as an array (written into `out` when given): one GEMM or column sum."""
        a = _concat(self.a)
        if self.b[0] is None:
            if out is None:
                out = np.empty(self.shape, self.dtype)
            flat = a.reshape(-1)
            _KL.bias_act_backward(_KL.ACT_NONE, flat, flat, flat, out, a.shape[1])
            return out
        b = self.b[0] if len(self.b) == 1 else np.concatenate(self.b)
        return gemm(a.T, b, out=out)


def add(prev, g):
    """prev + g where either may be a ProductSum (terms merge; mixed sums materialise)."""
    if prev is None:
        return g
    p_lazy, g_lazy = type(prev) is ProductSum, type(g) is ProductSum
    if p_lazy and g_lazy:
        return prev.merge(g)
    return (prev.dense() if p_lazy else prev) + (g.dense() if g_lazy else g)


def dense(g):
    return g.dense() if type(g) is ProductSum else g
