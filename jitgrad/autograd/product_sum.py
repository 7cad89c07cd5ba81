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
import numpy as np

from ..kernels import linear as _KL


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
        a = self.a[0] if len(self.a) == 1 else np.concatenate(self.a)
        if self.b[0] is None:
            if out is None:
                out = np.empty(self.shape, self.dtype)
            flat = a.reshape(-1)
            _KL.bias_act_backward(_KL.ACT_NONE, flat, flat, flat, out, a.shape[1])
            return out
        b = self.b[0] if len(self.b) == 1 else np.concatenate(self.b)
        return np.matmul(a.T, b, out=out)


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
