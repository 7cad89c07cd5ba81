"""Indexing: ``tensor[index]`` and ``tensor[index] = value``.

Basic indices (ints, slices with any step, None, Ellipsis) give a NumPy view sharing the input's
version counter; backward writes the gradient into zeros at the same index. Advanced indices
(integer arrays / lists / int tensors, boolean masks) copy; backward scatter-adds, so repeated
indices accumulate. A lone integer array (the embedding pattern) gathers and scatters whole
rows with the kernels; any other advanced index gathers with NumPy and scatters through the
flat positions of the gathered elements.
"""
import numpy as np

from ..autograd.function import Function
from .._grad_mode import state as _grad_state
from ..kernels import index as K
from .._tensor import Tensor, check_writeable
from .util import contiguous

_INDEX_TYPES = ("only integers, slices (`:`), ellipsis (`...`), None and long or bool tensors "
                "are valid indices")


def _component(it):
    """(NumPy index component, is_advanced) for one entry of a torch-style index."""
    if it is None or it is Ellipsis or isinstance(it, slice):
        return it, False
    if isinstance(it, (bool, np.bool_)):
        return bool(it), True
    if isinstance(it, (int, np.integer)):
        return int(it), False
    if isinstance(it, Tensor):
        it = it.data
    elif isinstance(it, (list, tuple)):
        it = np.asarray([v.data if isinstance(v, Tensor) else v for v in it])
        if it.size == 0:
            it = it.astype(np.int64)
    if isinstance(it, np.ndarray):
        if it.dtype.kind not in "iub":
            raise IndexError(f"{_INDEX_TYPES} (got an array of dtype {it.dtype})")
        if it.ndim == 0 and it.dtype.kind != "b":
            return int(it), False
        return it, True
    raise IndexError(f"{_INDEX_TYPES} (got {type(it).__name__})")


def parse_index(index):
    """(NumPy index tuple, is_advanced) for a torch-style index."""
    if type(index) is tuple:
        parts = [_component(it) for it in index]
        return tuple(p for p, _ in parts), any(a for _, a in parts)
    part, adv = _component(index)
    return (part,), adv


def _row_index(idx, n):
    """A lone integer array index checked against `n` rows, negatives wrapped, as flat int64."""
    i = idx[0]
    if i.size:
        lo, hi = int(i.min()), int(i.max())
        if lo < -n or hi >= n:
            bad = lo if lo < -n else hi
            raise IndexError(f"index {bad} is out of bounds for dimension 0 with size {n}")
    return np.where(i < 0, i + n, i).astype(np.int64, copy=False).reshape(-1)


class IndexBasic(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx = idx
        out = x[idx]
        if type(out) is not np.ndarray:  # all-int index: NumPy returns a scalar copy
            out = x[idx + (Ellipsis,)]
        return out

    @staticmethod
    def backward(ctx, g):
        shape, _ = ctx.in_meta[0]
        gx = np.zeros(shape, g.dtype)
        gx[ctx.idx] = g
        return gx, None

    @staticmethod
    def name_of(ctx):
        return "index"


class IndexAdvanced(Function):
    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx = idx
        ctx.rows = None
        first = idx[0]
        if (len(idx) == 1 and type(first) is np.ndarray and first.dtype.kind in "iu"
                and x.ndim >= 1):
            rows = _row_index(idx, x.shape[0])
            n = x.size // x.shape[0] if x.shape[0] else 0
            out = np.empty(first.shape + x.shape[1:], x.dtype)
            K.gather(rows, n, contiguous(x).reshape(-1), out.reshape(-1))
            ctx.rows = (rows, n)
            return out
        return x[idx]

    @staticmethod
    def backward(ctx, g):
        shape, _ = ctx.in_meta[0]
        gx = np.zeros(shape, g.dtype)
        if ctx.rows is not None:
            rows, n = ctx.rows
        else:
            size = gx.size
            rows, n = np.arange(size).reshape(shape)[ctx.idx].reshape(-1), 1
        K.scatter_add(rows, n, contiguous(g).reshape(-1), gx.reshape(-1))
        return gx, None

    @staticmethod
    def name_of(ctx):
        return "index"


def getitem(input, index):
    idx, advanced = parse_index(index)
    if advanced:
        return IndexAdvanced.apply(input, idx)
    return IndexBasic.apply(input, idx)


def setitem(input, index, value):
    """Write `value` (broadcast, cast to input's dtype) into input[index]; bumps the version."""
    if _grad_state.enabled:
        if input._requires_grad and input.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        if input._requires_grad or (isinstance(value, Tensor) and value._requires_grad):
            raise RuntimeError("__setitem__ on a tensor that is part of the autograd graph is "
                               "not supported; build the result out of place instead (e.g. "
                               "jitgrad.where, masked_fill or cat)")
    idx, _ = parse_index(index)
    data = input.data
    check_writeable(data, "setitem")
    if any(s == 0 and n > 1 for s, n in zip(data.strides, data.shape)):
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    v = value.data if isinstance(value, Tensor) else value
    try:
        data[idx] = v
    except ValueError as e:
        raise ValueError(f"setitem: cannot write a value of shape {np.shape(v)} into "
                         f"input[index] ({e})") from None
    input._version[0] += 1
