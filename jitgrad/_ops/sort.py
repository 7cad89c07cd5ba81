"""Order statistics: sort, argsort, topk, kthvalue, median, mode, unique.

The order along a dim is index bookkeeping and comes from NumPy: a stable argsort for sort,
argsort and mode (ties keep their input order; NaN sorts as the largest value, as torch), a
selection (argpartition) for kthvalue, median and a small topk. Values are then gathered with
the index kernels (kernels/index.py) through flat positions, and the gradient scatter-adds
back to those positions: every selected element gets the gradient of its output slot. The
global median shares its gradient evenly among the elements equal to it (torch's
evenly_distribute_backward), with the row-reduction kernel's SPLIT backward.
"""
from collections import namedtuple

import numpy as np

from .. import _check
from ..autograd.function import Function
from ..kernels import index as KI
from ..kernels import reduce as KR
from .._tensor import _make
from .scan import split
from .util import contiguous

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])

_NO_IDX = np.empty(0, np.int64)
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64))


def _positions(shape, dim, order):
    """Flat C-order positions in an array of `shape` of the elements that `order` (positions
    along `dim`, the shape of `shape` except at `dim`) picks."""
    outer, n, inner = split(shape, dim)
    o3 = order.reshape(outer, order.shape[dim] if order.ndim else 1, inner)
    pos = (np.arange(outer).reshape(-1, 1, 1) * n + o3) * inner + np.arange(inner)
    return pos.reshape(-1).astype(np.int64, copy=False)


class TakeAlong(Function):
    """out = x.flat[pos] reshaped to `shape` (the values of op `name`); backward scatter-adds
    the gradient to pos."""

    @staticmethod
    def forward(ctx, x, pos, shape, name):
        out = np.empty(shape, x.dtype)
        KI.gather(pos, 1, contiguous(x).reshape(-1), out.reshape(-1))
        ctx.pos, ctx.op_name = pos, name
        return out

    @staticmethod
    def backward(ctx, g):
        shape, _ = ctx.in_meta[0]
        gx = np.zeros(shape, g.dtype)
        KI.scatter_add(ctx.pos, 1, contiguous(g).reshape(-1), gx.reshape(-1))
        return gx, None, None, None

    @staticmethod
    def name_of(ctx):
        return ctx.op_name


class Median(Function):
    """The lower median of all elements (NaN if any is NaN); its gradient is shared evenly
    among the elements equal to it."""

    @staticmethod
    def forward(ctx, x, pos):
        flat = contiguous(x).reshape(-1)
        out = np.empty(1, x.dtype)
        KI.gather(pos, 1, flat, out)
        ctx.save_for_backward(x, out)
        return out.reshape(())

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        rows = contiguous(x).reshape(-1)
        gx = np.empty(rows.size, x.dtype)
        KR.reduce_rows_backward(KR.SPLIT, rows, rows.size, out,
                                contiguous(g).astype(x.dtype, copy=False).reshape(-1), _NO_IDX,
                                gx, 0.0)
        return gx.reshape(x.shape), None

    @staticmethod
    def name_of(ctx):
        return "median"


# ----------------------------------------------------------------------------- helpers
def _input(name, input):
    return _check.tensor(name, "input", input)


def _order(x, dim, descending):
    """Stable argsort of x along `dim` (descending: ties still in input order, NaN first)."""
    if x.ndim == 0:
        return np.zeros((), np.int64)
    if not descending:
        return np.argsort(x, axis=dim, kind="stable")
    rev = np.argsort(np.flip(x, dim), axis=dim, kind="stable")
    return np.flip(x.shape[dim] - 1 - rev, dim)


def _take(order, dim, sel):
    """order[..., sel, ...] along dim, keeping the dim (sel an int array or a slice)."""
    if order.ndim == 0:
        return order
    index = [slice(None)] * order.ndim
    index[dim] = sel
    return order[tuple(index)]


def _select(name, input, dim, picked, keepdim):
    """(values, indices) Tensors of the elements at `picked` (positions along dim, dim kept
    with size k); the dim is dropped when keepdim is False (k must then be 1)."""
    x = input.data
    shape = picked.shape if keepdim or x.ndim == 0 else \
        picked.shape[:dim] + picked.shape[dim + 1:]
    pos = _positions(x.shape, dim, picked)
    values = TakeAlong.apply(input, pos, shape, name)
    return values, _make(picked.reshape(shape).astype(np.int64, copy=False), False, None, 0)


def _top(x, dim, k, largest):
    """Positions of the k largest (smallest) along dim, in order: a partial sort (O(n)
    selection, then a sort of the k) when k is small against n. Which of several tied
    elements at the boundary is chosen is unspecified, as in torch."""
    n = _size(x, dim)
    if x.ndim == 0 or k == 0 or 4 * k >= n:
        return _take(_order(x, dim, largest), dim, slice(0, k))
    part = np.argpartition(x, n - k if largest else k - 1, axis=dim)
    cand = _take(part, dim, slice(n - k, n) if largest else slice(0, k))
    return np.take_along_axis(cand, _order(np.take_along_axis(x, cand, dim), dim, largest),
                              dim)


def _kth(x, dim, j):
    """Positions (dim kept, size 1) of the j-th smallest (from 0) along dim: a selection
    (NaN counts as the largest value, as in a sort)."""
    if x.ndim == 0:
        return np.zeros((), np.int64)
    return _take(np.argpartition(x, j, axis=dim), dim, slice(j, j + 1))


def _dim(name, x, dim):
    return _check.wrap_dim(name, dim, x.ndim)


def _size(x, dim):
    return x.shape[dim] if x.ndim else 1


# ----------------------------------------------------------------------------- public functions
def sort(input, dim=-1, descending=False, *, stable=False):
    """(values, indices) sorted along `dim`; always stable (`stable=True` is what you get)."""
    x = _input("sort", input).data
    d = _dim("sort", x, dim)
    return sort_result(*_select("sort", input, d, _order(x, d, bool(descending)), True))


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort `input` along `dim` (stable)."""
    x = _input("argsort", input).data
    d = _dim("argsort", x, dim)
    return _make(_order(x, d, bool(descending)).astype(np.int64, copy=False), False, None, 0)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the k largest (or smallest) elements along `dim`, in order."""
    x = _input("topk", input).data
    d = _dim("topk", x, dim)
    k = _check.integer("topk", "k", k)
    if not 0 <= k <= _size(x, d):
        raise IndexError(f"topk(): argument 'k' ({k}) out of range: expected 0 <= k <= "
                         f"{_size(x, d)} (the size of dim {d})")
    return topk_result(*_select("topk", input, d, _top(x, d, k, bool(largest)), True))


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the k-th smallest element (k from 1) along `dim`."""
    x = _input("kthvalue", input).data
    d = _dim("kthvalue", x, dim)
    k = _check.integer("kthvalue", "k", k)
    if not 1 <= k <= _size(x, d):
        raise IndexError(f"kthvalue(): argument 'k' ({k}) out of range: expected 1 <= k <= "
                         f"{_size(x, d)} (the size of dim {d})")
    return kthvalue_result(*_select("kthvalue", input, d, _kth(x, d, k - 1), bool(keepdim)))


def _median_at(x, dim):
    """Positions (dim kept, size 1) of the lower median along dim, or of the first NaN."""
    if x.ndim == 0:
        return np.zeros((), np.int64)
    at = _kth(x, dim, (x.shape[dim] - 1) // 2)
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        at = np.where(nan.any(axis=dim, keepdims=True), np.argmax(nan, axis=dim, keepdims=True),
                      at)
    return at


def median(input, dim=None, keepdim=False):
    """The lower median: of all elements (dim None, a 0-d tensor), or (values, indices) along
    `dim`. NaN if a NaN is present (its index is the first NaN's)."""
    _input("median", input)
    x = input.data
    if dim is None:
        if x.size == 0:
            if x.dtype.kind != "f":
                raise ValueError("median(): cannot compute the median of an empty tensor of "
                                 f"dtype {x.dtype}")
            return _make(np.array(np.nan, x.dtype), False, None, 0)
        return Median.apply(input, _median_at(x.reshape(-1), 0).reshape(1))
    d = _dim("median", x, dim)
    n = _size(x, d)
    if n == 0:
        raise IndexError(f"median(): expected a non-empty dim {d} (input shape {x.shape})")
    return median_result(*_select("median", input, d, _median_at(x, d), bool(keepdim)))


def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along `dim` (the smallest on a tie) and the
    index of its last occurrence."""
    x = _input("mode", input).data
    d = _dim("mode", x, dim)
    n = _size(x, d)
    if n == 0:
        raise IndexError(f"mode(): expected a non-empty dim {d} (input shape {x.shape})")
    xl = np.moveaxis(x.reshape(x.shape or (1,)), d, -1)
    order = np.argsort(xl, axis=-1, kind="stable")
    xs = np.take_along_axis(xl, order, axis=-1)
    xs = xs if xs.dtype in _KERNEL_DTYPES else xs.astype(np.int64)
    rows = xs.shape[:-1]
    at = np.empty(rows, np.int64)
    KR.reduce_rows(KR.MODE, contiguous(xs).reshape(-1), n, np.empty(at.size, xs.dtype),
                   at.reshape(-1), 0.0)
    last = np.take_along_axis(order, at[..., None], axis=-1)  # (..., 1), dim last
    picked = np.moveaxis(last, -1, d) if x.ndim else last.reshape(())
    return mode_result(*_select("mode", input, d, picked, bool(keepdim)))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted; NaNs are each distinct, as torch), optionally with the
    inverse indices (input's shape for dim None) and the counts; no gradient."""
    x = _input("unique", input).data
    axis = None if dim is None else _dim("unique", x, dim)
    res = np.unique(x, return_inverse=True, return_counts=True, axis=axis, equal_nan=False)
    values, inverse, counts = res
    out = [_make(values.astype(x.dtype, copy=False), False, None, 0)]
    if return_inverse:
        inv = inverse.reshape(x.shape if axis is None else -1).astype(np.int64, copy=False)
        out.append(_make(inv, False, None, 0))
    if return_counts:
        out.append(_make(counts.astype(np.int64, copy=False), False, None, 0))
    return out[0] if len(out) == 1 else tuple(out)
