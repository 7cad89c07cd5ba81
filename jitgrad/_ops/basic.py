"""Copies, casts and comparisons (comparisons have no gradient and run as NumPy ufuncs: a
kernel would not beat them and has nothing to fuse)."""
import numpy as np

from ..autograd.function import Function
from .._tensor import Tensor, _make


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return np.array(x, order="C", copy=True)

    @staticmethod
    def backward(ctx, g):
        return g


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.src = x.dtype
        out = x.astype(dtype)
        if dtype.kind != "f":
            ctx.mark_non_differentiable(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.src), None


def clone(input):
    return Clone.apply(input)


def cast(input, dtype):
    if input.data.dtype == dtype:
        return input
    return Cast.apply(input, dtype)


def _compare(ufunc):
    def compare(input, other):
        a = input.data if isinstance(input, Tensor) else input
        b = other.data if isinstance(other, Tensor) else other
        return _make(ufunc(a, b), False, None, 0)
    compare.__name__ = ufunc.__name__
    return compare


lt = less = _compare(np.less)
le = less_equal = _compare(np.less_equal)
gt = greater = _compare(np.greater)
ge = greater_equal = _compare(np.greater_equal)
eq = _compare(np.equal)
ne = not_equal = _compare(np.not_equal)
