"""Indexing: ``tensor[index]`` and ``tensor[index] = value``.

Basic indices (ints, slices with any step, None, Ellipsis) give a NumPy view sharing the input's
version counter; backward writes the gradient into zeros at the same index. Advanced indices
(integer arrays / lists / int tensors, boolean masks) copy; backward scatter-adds, so repeated
indices accumulate. A lone integer array (the embedding pattern) gathers and scatters whole
rows with the kernels; any other advanced index gathers with NumPy and scatters through the
flat positions of the gathered elements. Advanced indices take torch's placement, which differs
from NumPy's when ints are mixed in (see ``parse_index``). ``tensor[index] = value`` in a graph
is recorded as a scatter of the value (torch's index_put).
"""
import numpy as np

from ..autograd.function import Function
from .._grad_mode import state as _grad_state
from ..kernels import index as K
from .._tensor import Tensor, _make, check_writeable
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
    """(NumPy index tuple, is_advanced) for a torch-style index, with torch's placement.

    torch applies integers as basic indexing (a select) before the advanced indices, so
    ``x[0, :, idx]`` places idx's dims where the remaining advanced indices sit (NumPy counts
    the int as advanced and moves them to the front). An advanced index mixed with ints is
    therefore returned as a pair (basic index, advanced index on the basic view) wrapped in a
    `_TwoStep`; anything else is one NumPy index whose placement already matches torch."""
    parts = [_component(it) for it in index] if type(index) is tuple else [_component(index)]
    idx = tuple(p for p, _ in parts)
    advanced = any(a for _, a in parts)
    if not advanced or not any(type(p) is int for p in idx):
        return idx, advanced
    basic, adv = [], []
    for p in idx:
        if isinstance(p, np.ndarray) and p.ndim == 0:  # a 0-d bool tensor: as a bool
            p = bool(p)
        if type(p) is int:
            basic.append(p)
        elif isinstance(p, np.ndarray):  # a bool mask spans its ndim dims, an int array one
            basic.extend([slice(None)] * (p.ndim if p.dtype == np.bool_ else 1))
            adv.append(p)
        elif type(p) is bool:  # torch: unsqueeze, then index it with [0] (True) or [] (False)
            basic.append(None)
            adv.append(np.zeros(1 if p else 0, np.int64))
        else:
            basic.append(p)
            adv.append(p if p is Ellipsis else slice(None))
    return (_TwoStep(tuple(basic), tuple(adv)),), True


class _TwoStep:
    """A torch index NumPy cannot express in one step: ``x[basic][adv]``."""
    __slots__ = ("basic", "adv")

    def __init__(self, basic, adv):
        self.basic, self.adv = basic, adv


def _split(idx):
    """(array to index with the advanced index, advanced index) of a parsed index on x."""
    first = idx[0] if len(idx) == 1 else None
    if type(first) is _TwoStep:
        return first.basic, first.adv
    return None, idx


def indexed_positions(shape, idx):
    """Flat positions (int64, in the result's shape) of x[idx]'s elements in x of `shape`."""
    basic, adv = _split(idx)
    pos = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)
    if basic is not None:
        pos = pos[basic]
    return pos[adv]


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
        basic, idx = _split(idx)
        if basic is not None:
            x = x[basic]
        first = idx[0]
        if (basic is None and len(idx) == 1 and type(first) is np.ndarray
                and first.dtype.kind in "iu" and x.ndim >= 1):
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
            rows, n = indexed_positions(shape, ctx.idx).reshape(-1), 1
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


def _write(data, idx, v):
    basic, adv = _split(idx)
    if basic is not None:
        data = data[basic]
    data[adv] = v


def setitem(input, index, value):
    """Write `value` (broadcast, cast to input's dtype) into input[index]; bumps the version.
    With a graph (input or value requires grad) the write is recorded like torch's index_put:
    input's gradient is zero at the written elements, value's is the gradient there (summed
    over broadcast dims); input then takes over the recorded node."""
    if _grad_state.enabled:
        if input._requires_grad and input.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
    idx, _ = parse_index(index)
    data = input.data
    check_writeable(data, "setitem")
    if any(s == 0 and n > 1 for s, n in zip(data.strides, data.shape)):
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
    if _grad_state.enabled and (input._requires_grad or (isinstance(value, Tensor) and
                                                         value._requires_grad)):
        return _setitem_graph(input, idx, value)
    v = value.data if isinstance(value, Tensor) else value
    try:
        _write(data, idx, v)
    except ValueError as e:
        raise ValueError(f"setitem: cannot write a value of shape {np.shape(v)} into "
                         f"input[index] ({e})") from None
    input._version[0] += 1


def _setitem_graph(input, idx, value):
    """setitem recorded as Scatter(COPY) of the broadcast value at the indexed positions."""
    from .gather import Scatter
    from ..kernels.index import COPY
    if input._base is not None:
        raise RuntimeError("setitem: in-place operation on a view of a tensor in the graph is "
                           "not supported; index the base tensor, or build the result out of "
                           "place (e.g. jitgrad.where, index_put via scatter)")
    data = input.data
    pos = indexed_positions(data.shape, idx)
    if not isinstance(value, Tensor):
        value = _make(np.array(value, data.dtype), False, None, 0)
    try:
        shape = np.broadcast_shapes(value.data.shape, pos.shape)
        if shape != pos.shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"setitem: cannot write a value of shape {value.data.shape} into "
                         f"input[index] of shape {pos.shape}") from None
    if value.data.dtype != data.dtype:
        value = value.to(data.dtype)
    if value.data.shape != pos.shape:
        value = value.expand(*pos.shape)
    alias = _make(data, input._requires_grad, input.grad_fn, input._out_idx)
    result = Scatter.apply(alias, value, COPY, contiguous(pos).reshape(-1), 1, 1, False)
    data[...] = result.data
    input._version[0] += 1
    input.grad_fn, input._out_idx, input._requires_grad = result.grad_fn, 0, True
