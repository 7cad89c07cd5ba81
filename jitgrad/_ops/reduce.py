"""Reductions: sum, mean, var, std, max, min, amax, amin, argmax, argmin, logsumexp, prod, norm,
nansum, nanmean, aminmax, and the non-differentiable all, any, count_nonzero.

sum/mean walk the input in place with a coalesced plan (kernels.reduce.sum_scaled). The others
run the op-coded row kernels: the reduced axes are moved last (a copy only when they are not
already trailing) so every output element owns one contiguous row.
"""
import builtins
import functools
from collections import namedtuple

import numpy as np

from .. import _check
from ..autograd.function import Function
from ..kernels import elementwise as E
from ..kernels import reduce as K
from .._tensor import Tensor, _make
from .basic import cast
from .binary import maximum, minimum
from .broadcast import PLAN_CACHE_SIZE, reduce_plan
from .unary import unary
from .util import contiguous

# torch.return_types.max / min: a named tuple (values, indices)
max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])
aminmax_result = namedtuple("aminmax", ["min", "max"])

_NO_IDX = np.empty(0, np.int64)
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64))


# ----------------------------------------------------------------------------- argument checks
def _tensor(name, input):
    return _check.tensor(name, "input", input)


def _dim(name, dim, axis):
    if axis is None:
        return dim
    if dim is not None and dim != ():  # () is amax/amin's default
        raise TypeError(f"{name}(): got both 'dim' and its alias 'axis'")
    return axis


def _axes(name, ndim, dim):
    """Sorted non-negative axes for `dim` (int, tuple or list; None or () means all)."""
    if dim is None:
        return tuple(range(ndim))
    if type(dim) is int and -ndim <= dim < ndim:  # fast path
        return (dim % ndim,)
    dims = (dim,) if isinstance(dim, (int, np.integer)) else dim
    if not isinstance(dims, (tuple, list)) or builtins.any(
            isinstance(d, bool) or not isinstance(d, (int, np.integer)) for d in dims):
        raise TypeError(f"{name}(): argument 'dim' must be an int or a tuple of ints, not {dim!r}")
    if len(dims) == 0:
        return tuple(range(ndim))
    axes = []
    for d in dims:
        d = _check.wrap_dim(name, d, ndim)
        if d in axes:
            raise ValueError(f"{name}(): dim {d} appears multiple times in the list of dims")
        axes.append(d)
    return tuple(sorted(axes)) if ndim else ()


def _one_axis(name, ndim, dim):
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return _axes(name, ndim, dim)


def _out_shape(shape, axes, keepdim):
    if keepdim:
        return tuple(1 if d in axes else n for d, n in enumerate(shape))
    return tuple(n for d, n in enumerate(shape) if d not in axes)


def _count(shape, axes):
    n = 1
    for d in axes:
        n *= shape[d]
    return n


def _floating(name, x):
    if x.dtype.kind != "f":
        raise TypeError(f"{name}(): could not infer output dtype. Input dtype must be either a "
                        f"floating point or complex dtype. Got: {x.dtype}")


def _nonempty(name, shape, axes):
    """max/min-like reductions have no identity: a non-empty result needs non-empty rows."""
    if 0 not in shape:
        return
    kept = [d for d in range(len(shape)) if d not in axes]
    if _count(shape, axes) == 0 and _count(shape, kept) > 0:
        raise ValueError(f"{name}(): cannot reduce over a zero-size dimension (input shape "
                         f"{shape}, dims {axes}); the operation has no identity")


# ----------------------------------------------------------------------------- layouts
@functools.lru_cache(maxsize=PLAN_CACHE_SIZE)
def _sum_plan(shape, axes, keepdim):
    """(output shape, output shape with kept dims, coalesced shape, output strides)."""
    return (_out_shape(shape, axes, keepdim), _out_shape(shape, axes, True)) + \
        tuple(reduce_plan(shape, axes))


@functools.lru_cache(maxsize=PLAN_CACHE_SIZE)
def _row_plan(shape, axes):
    """(perm, inverse perm, permuted shape, row length) to bring `axes` last."""
    perm = tuple(d for d in range(len(shape)) if d not in axes) + axes
    inv = tuple(int(i) for i in np.argsort(perm))
    return perm, inv, tuple(shape[d] for d in perm), _count(shape, axes)


def _rows(x, axes):
    """x as flat C-contiguous rows (one per output element) and the row length."""
    perm, _, _, n = _row_plan(x.shape, axes)
    return contiguous(x.transpose(perm)).reshape(-1), n


def _unrows(gx, shape, axes):
    """Inverse of _rows for a gradient laid out as rows."""
    _, inv, pshape, _ = _row_plan(shape, axes)
    return contiguous(gx.reshape(pshape).transpose(inv))


def _kernel_input(x):
    """Inputs the row kernels compile for: float32, float64, int64 (other ints/bool widen)."""
    return x if x.dtype in _KERNEL_DTYPES else x.astype(np.int64)


# ----------------------------------------------------------------------------- Functions
class Sum(Function):
    """out = scale * sum of x over `axes` (mean: scale = 1/N)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, scale):
        out_shape, kept, shape, ostrides = _sum_plan(x.shape, axes, keepdim)
        out = np.empty(out_shape, x.dtype)
        K.sum_scaled(contiguous(x).reshape(-1), shape, ostrides, out.reshape(-1), scale)
        ctx.shape, ctx.kept, ctx.scale = x.shape, kept, scale
        return out

    @staticmethod
    def backward(ctx, g):
        g = contiguous(g).reshape(ctx.kept)
        if ctx.scale != 1.0:
            g = unary(E.SCALE, g, ctx.scale)
        return np.broadcast_to(g, ctx.shape).copy(), None, None, None


class Mean(Sum):
    pass


class RowReduce(Function):
    """out = row reduction `op` (kernels.reduce) over `axes`; `back` is its backward op code,
    p its parameter (correction, norm order)."""

    @staticmethod
    def forward(ctx, x, name, op, back, axes, keepdim, p):
        xk = _kernel_input(x)
        rows, n = _rows(xk, axes)
        out = np.empty(_out_shape(x.shape, axes, keepdim), xk.dtype)
        idx = np.empty(out.size, np.int64) if op in (K.MAX, K.MIN) else _NO_IDX
        K.reduce_rows(op, rows, n, out.reshape(-1), idx, p)
        ctx.op_name, ctx.back, ctx.axes, ctx.p = name, back, axes, p
        ctx.save_for_backward(x, out)
        return out if out.dtype == x.dtype or op == K.PROD else out.astype(x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        rows, n = _rows(x, ctx.axes)
        gx = np.empty(rows.size, x.dtype)
        K.reduce_rows_backward(ctx.back, rows, n, out.reshape(-1),
                               contiguous(g).astype(x.dtype, copy=False).reshape(-1), _NO_IDX,
                               gx, ctx.p)
        return _unrows(gx, x.shape, ctx.axes), None, None, None, None, None, None

    @staticmethod
    def name_of(ctx):
        return ctx.op_name


class ExtremumDim(Function):
    """(values, indices) of max/min along one axis; the gradient goes to the returned index."""

    @staticmethod
    def forward(ctx, x, op, axes, keepdim):
        xk = _kernel_input(x)
        rows, n = _rows(xk, axes)
        shape = _out_shape(x.shape, axes, keepdim)
        values = np.empty(shape, xk.dtype)
        indices = np.empty(shape, np.int64)
        K.reduce_rows(op, rows, n, values.reshape(-1), indices.reshape(-1), 0.0)
        if values.dtype != x.dtype:
            values = values.astype(x.dtype)
        ctx.op, ctx.shape, ctx.axes = op, x.shape, axes
        ctx.save_for_backward(indices)
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, g, _g_indices):
        (indices,) = ctx.saved_tensors
        g = contiguous(g).reshape(-1)
        _, _, _, n = _row_plan(ctx.shape, ctx.axes)
        gx = np.empty(g.size * n, g.dtype)
        K.reduce_rows_backward(ctx.op, g, n, g, g, indices.reshape(-1), gx, 0.0)
        return _unrows(gx, ctx.shape, ctx.axes), None, None, None

    @staticmethod
    def name_of(ctx):
        return "max" if ctx.op == K.MAX else "min"


# ----------------------------------------------------------------------------- public functions
def sum(input, dim=None, keepdim=False, dtype=None, *, axis=None):
    dim = _dim("sum", dim, axis)
    _tensor("sum", input)
    if dtype is not None:
        input = cast(input, np.dtype(dtype))
    x = input.data
    axes = _axes("sum", x.ndim, dim)
    if x.dtype.kind == "f":
        return Sum.apply(input, axes, bool(keepdim), 1.0)
    # integers and bool sum to int64 (no gradient)
    out_shape, _, shape, ostrides = _sum_plan(x.shape, axes, keepdim)
    acc = np.zeros(out_shape, np.int64)
    K.sum_into(contiguous(x.astype(np.int64, copy=False)).reshape(-1), shape, ostrides,
               acc.reshape(-1))
    return _make(acc, False, None, 0)


def mean(input, dim=None, keepdim=False, dtype=None, *, axis=None):
    dim = _dim("mean", dim, axis)
    _tensor("mean", input)
    if dtype is not None:
        input = cast(input, np.dtype(dtype))
    x = input.data
    _floating("mean", x)
    axes = _axes("mean", x.ndim, dim)
    n = _count(x.shape, axes)
    return Mean.apply(input, axes, bool(keepdim), 1.0 / n if n else float("nan"))


def _correction(name, unbiased, correction):
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}(): pass either 'unbiased' or 'correction', not both")
    if correction is not None:
        return float(correction)
    return 0.0 if unbiased is False else 1.0


def _var(name, op, input, dim, unbiased, keepdim, correction, axis):
    dim = _dim(name, dim, axis)
    if isinstance(dim, bool):  # legacy overload var(input, unbiased)
        dim, unbiased = None, dim
    _tensor(name, input)
    x = input.data
    if x.dtype.kind != "f":
        raise TypeError(f"{name}(): std and var only support floating point dtypes, got "
                        f"{x.dtype}")
    axes = _axes(name, x.ndim, dim)
    return RowReduce.apply(input, name, op, op, axes, bool(keepdim),
                           _correction(name, unbiased, correction))


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    return _var("var", K.VAR, input, dim, unbiased, keepdim, correction, axis)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    return _var("std", K.STD, input, dim, unbiased, keepdim, correction, axis)


def _extremum(name, op, input, axes, keepdim):
    """amax/amin and global max/min: gradient shared evenly among tied extrema."""
    _nonempty(name, input.data.shape, axes)
    return RowReduce.apply(input, name, op, K.SPLIT, axes, bool(keepdim), 0.0)


def _max_min(name, op, result, input, dim, keepdim, axis):
    dim = _dim(name, dim, axis)
    _tensor(name, input)
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}(): 'keepdim' needs 'dim' (the global {name} has no dims)")
        return _extremum(name, op, input, tuple(range(input.data.ndim)), False)
    x = input.data
    axes = _one_axis(name, x.ndim, dim)
    _nonempty(name, x.shape, axes)
    return result(*ExtremumDim.apply(input, op, axes, bool(keepdim)))


def max(input, dim=None, keepdim=False, *, axis=None):
    if isinstance(dim, Tensor):  # torch.max(input, other)
        return maximum(input, dim)
    return _max_min("max", K.MAX, max_result, input, dim, keepdim, axis)


def min(input, dim=None, keepdim=False, *, axis=None):
    if isinstance(dim, Tensor):
        return minimum(input, dim)
    return _max_min("min", K.MIN, min_result, input, dim, keepdim, axis)


def amax(input, dim=(), keepdim=False, *, axis=None):
    dim = _dim("amax", dim, axis)
    _tensor("amax", input)
    return _extremum("amax", K.MAX, input, _axes("amax", input.data.ndim, dim), keepdim)


def amin(input, dim=(), keepdim=False, *, axis=None):
    dim = _dim("amin", dim, axis)
    _tensor("amin", input)
    return _extremum("amin", K.MIN, input, _axes("amin", input.data.ndim, dim), keepdim)


def _arg(name, op, input, dim, keepdim, axis):
    dim = _dim(name, dim, axis)
    x = _tensor(name, input).data
    if x.dtype.kind == "b":  # as torch
        raise RuntimeError(f"{name}(): does not support bool input")
    axes = tuple(range(x.ndim)) if dim is None else _one_axis(name, x.ndim, dim)
    _nonempty(name, x.shape, axes)
    xk = _kernel_input(x)
    rows, n = _rows(xk, axes)
    indices = np.empty(_out_shape(x.shape, axes, keepdim), np.int64)
    values = np.empty(indices.size, xk.dtype)
    K.reduce_rows(op, rows, n, values, indices.reshape(-1), 0.0)
    return _make(indices, False, None, 0)


def argmax(input, dim=None, keepdim=False, *, axis=None):
    return _arg("argmax", K.MAX, input, dim, keepdim, axis)


def argmin(input, dim=None, keepdim=False, *, axis=None):
    return _arg("argmin", K.MIN, input, dim, keepdim, axis)


def logsumexp(input, dim=None, keepdim=False, *, axis=None):
    dim = _dim("logsumexp", dim, axis)
    if dim is None:
        raise TypeError("logsumexp(): missing required argument 'dim'")
    _tensor("logsumexp", input)
    if input.data.dtype.kind != "f":  # integers promote to the default float, as torch
        input = cast(input, np.dtype(np.float32))
    axes = _axes("logsumexp", input.data.ndim, dim)
    return RowReduce.apply(input, "logsumexp", K.LOGSUMEXP, K.LOGSUMEXP, axes, bool(keepdim),
                           0.0)


def prod(input, dim=None, keepdim=False, dtype=None, *, axis=None):
    dim = _dim("prod", dim, axis)
    _tensor("prod", input)
    if dtype is not None:
        input = cast(input, np.dtype(dtype))
    x = input.data
    axes = _axes("prod", x.ndim, dim)
    return RowReduce.apply(input, "prod", K.PROD, K.PROD, axes, bool(keepdim), 0.0)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, *, axis=None):
    """Vector norm over `dim` (all elements when None), as torch.norm for p = 'fro', 2, 1,
    inf, -inf, 0 and any other number."""
    dim = _dim("norm", dim, axis)
    _tensor("norm", input)
    if dtype is not None:
        input = cast(input, np.dtype(dtype))
    x = input.data
    if x.dtype.kind != "f":
        raise TypeError(f"norm(): input dtype should be floating point, got {x.dtype}")
    if p is None or p == "fro":
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise ValueError(f"norm(): p='fro' takes at most 2 dims, got dim={dim}")
        order = 2.0
    elif isinstance(p, str):
        raise ValueError(f"norm(): p={p!r} is not supported (use 'fro' or a number)")
    else:
        order = float(p)
    axes = _axes("norm", x.ndim, dim)
    return RowReduce.apply(input, "norm", K.NORM, K.NORM, axes, bool(keepdim), order)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """sum treating NaN as zero; the gradient is 0 at the NaNs."""
    _tensor("nansum", input)
    if dtype is not None:
        input = cast(input, np.dtype(dtype))
    if input.data.dtype.kind != "f":  # no NaNs: the integer sum
        return sum(input, dim, keepdim)
    axes = _axes("nansum", input.data.ndim, dim)
    return RowReduce.apply(input, "nansum", K.NANSUM, K.NANSUM, axes, bool(keepdim), 0.0)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """mean over the non-NaN elements (NaN where there are none); gradient 1/count there."""
    _tensor("nanmean", input)
    if dtype is not None:
        input = cast(input, np.dtype(dtype))
    x = input.data
    if x.dtype.kind != "f":
        raise TypeError(f"nanmean(): expected input to have floating point dtype but got "
                        f"{x.dtype}")
    axes = _axes("nanmean", x.ndim, dim)
    return RowReduce.apply(input, "nanmean", K.NANMEAN, K.NANMEAN, axes, bool(keepdim), 0.0)


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) named tuple: amin and amax over `dim` (one int, or None for all)."""
    _tensor("aminmax", input)
    if dim is None:
        axes = tuple(range(input.data.ndim))
    else:
        axes = _one_axis("aminmax", input.data.ndim, dim)
    return aminmax_result(_extremum("aminmax", K.MIN, input, axes, keepdim),
                          _extremum("aminmax", K.MAX, input, axes, keepdim))


def count_nonzero(input, dim=None):
    """Number of non-zero elements over `dim` (int, tuple or None), int64."""
    _tensor("count_nonzero", input)
    return sum(_make(input.data != 0, False, None, 0), dim)


def _all_any(name, input, dim, keepdim, test):
    _tensor(name, input)
    x = input.data
    axes = _axes(name, x.ndim, dim)
    count = sum(_make(x != 0, False, None, 0), axes, keepdim).data
    return _make(test(count, _count(x.shape, axes)), False, None, 0)


def all(input, dim=None, keepdim=False):
    """True where every element over `dim` (int, tuple or None) is non-zero; bool."""
    return _all_any("all", input, dim, keepdim, lambda c, n: c == n)


def any(input, dim=None, keepdim=False):
    """True where some element over `dim` (int, tuple or None) is non-zero; bool."""
    return _all_any("any", input, dim, keepdim, lambda c, n: c > 0)
