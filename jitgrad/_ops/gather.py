"""Gather / scatter along a dim: gather, take, take_along_dim, index_select, masked_select,
scatter (+ add / reduce), index_add / index_fill / index_copy, masked_scatter, nonzero, and
their in-place forms.

Every op turns its index into flat int64 positions with NumPy (index bookkeeping), checked
against the sizes before any kernel runs: a gather reads ``src[pos[i]]``, a scatter writes
``out[pos[i]]``. Rows of ``n`` elements (index_select, index_*) keep the positions per row.
Float data moves through the kernels of ``kernels/index.py`` (gather / scatter_add, and the
op-coded scatter_reduce pair for everything that writes); backward is the transposed move.
Integer and bool data (non-differentiable) moves with one NumPy call.
"""
import numpy as np

from .. import _check
from ..autograd.function import Function
from .._grad_mode import no_grad, state as _grad_state
from ..kernels import index as K
from .._tensor import Tensor, _check_inplace, _make
from .util import contiguous

_REDUCE = {"sum": K.SUM, "prod": K.PROD, "mean": K.MEAN, "amax": K.AMAX, "amin": K.AMIN}
_SCATTER_REDUCE = {"add": K.SUM, "multiply": K.PROD}  # scatter(..., reduce=): torch's names


# ----------------------------------------------------------------------------- bookkeeping
def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _index(op, name, index):
    """The index argument (an int tensor, ndarray or list) as a C-contiguous int64 ndarray."""
    if isinstance(index, (list, tuple)):
        index = np.asarray(index) if len(index) else np.zeros(0, np.int64)
    return _check.index_array(op, name, _data(index))


def _in_range(op, idx, size, dim, wrap=False):
    """idx checked against `size` (IndexError before any kernel); negatives wrapped if `wrap`."""
    if idx.size == 0:
        return idx
    lo, hi = int(idx.min()), int(idx.max())
    if hi >= size or lo < (-size if wrap else 0):
        bad = hi if hi >= size else lo
        raise IndexError(f"{op}(): index {bad} is out of bounds for dimension {dim} with size "
                         f"{size}")
    return np.where(idx < 0, idx + size, idx) if wrap and lo < 0 else idx


def _strides(shape):
    st = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        st[d] = st[d + 1] * shape[d + 1]
    return st


def _positions(shape, index, dim):
    """Flat positions in an array of `shape` of the coordinates of `index`'s elements, with
    the coordinate along `dim` replaced by the index value (dim None: coordinates as they are)."""
    st = _strides(shape)
    nd = index.ndim
    pos = index * st[dim] if dim is not None else np.zeros(index.shape, np.int64)
    for d in range(nd):
        if d != dim and index.shape[d] > 1:
            pos = pos + (np.arange(index.shape[d], dtype=np.int64) * st[d]).reshape(
                (-1,) + (1,) * (nd - 1 - d))
    return np.ascontiguousarray(np.broadcast_to(pos, index.shape)).reshape(-1)


def _rows(shape, dim, idx):
    """(row positions, row length) of index_select/index_* along `dim` with 1-D `idx`."""
    outer = int(np.prod(shape[:dim], dtype=np.int64))
    inner = int(np.prod(shape[dim + 1:], dtype=np.int64))
    rows = (np.arange(outer, dtype=np.int64)[:, None] * shape[dim] + idx[None, :]).reshape(-1)
    return rows, inner


def _dim_index(op, input, dim, index, name="index"):
    """(wrapped dim, int64 index) with gather/scatter's rank rule (index.ndim == input.ndim)."""
    x = _check.tensor(op, "input", input).data
    dim = _check.wrap_dim(op, dim, x.ndim)
    idx = _index(op, name, index)
    if idx.ndim != x.ndim and not (idx.ndim <= 1 and x.ndim <= 1):
        raise ValueError(f"{op}(): Index tensor must have the same number of dimensions as "
                         f"input tensor: index has {idx.ndim}, input has {x.ndim}")
    return dim, idx


def _flat(x):
    return contiguous(x).reshape(-1)


def _owned(pos):
    """pos as a writeable array: a read-only one (a broadcast view) is a separate compile."""
    return pos if pos.flags.writeable else pos.copy()


def _expand_rows(idx, n):
    return idx if n == 1 else (idx[:, None] * n + np.arange(n, dtype=np.int64)).reshape(-1)


# ----------------------------------------------------------------------------- gather
class Gather(Function):
    """out = src.flat[pos] (rows of n); backward scatter-adds (repeats accumulate)."""

    @staticmethod
    def forward(ctx, x, pos, n, shape):
        pos = _owned(pos)
        ctx.pos, ctx.n = pos, n
        out = np.empty(shape, x.dtype)
        if x.dtype.kind == "f":
            K.gather(pos, n, _flat(x), out.reshape(-1))
        else:
            out.reshape(-1)[...] = _flat(x)[_expand_rows(pos, n)]
        return out

    @staticmethod
    def backward(ctx, g):
        shape, _ = ctx.in_meta[0]
        gx = np.zeros(shape, g.dtype)
        K.scatter_add(ctx.pos, ctx.n, _flat(g), gx.reshape(-1))
        return gx, None, None, None

    @staticmethod
    def name_of(ctx):
        return "gather"


def gather(input, dim, index, *, sparse_grad=False):
    """torch.gather: out[i][j][k] = input[i][index[i][j][k]][k] (for dim=1). The gradient is
    always dense (sparse_grad is accepted and ignored: there are no sparse tensors here)."""
    dim, idx = _dim_index("gather", input, dim, index)
    x = input.data
    for d in range(idx.ndim):
        if d != dim and idx.shape[d] > x.shape[d]:
            raise ValueError(f"gather(): Size does not match at dimension {d}: expected index "
                             f"{idx.shape} to be no larger than input {x.shape} apart from "
                             f"dimension {dim}")
    _in_range("gather", idx, x.shape[dim] if x.ndim else 1, dim)
    pos = _positions(x.shape, idx, dim) if x.ndim else contiguous(idx).reshape(-1)
    return Gather.apply(input, pos, 1, idx.shape)


def take(input, index):
    """torch.take: input treated as 1-D, out[i] = input.flat[index[i]] (negatives wrap)."""
    x = _check.tensor("take", "input", input).data
    idx = _index("take", "index", index)
    pos = _in_range("take", idx, x.size, 0, wrap=True)
    return Gather.apply(input, contiguous(pos).reshape(-1), 1, idx.shape)


def take_along_dim(input, indices, dim=None):
    """torch.take_along_dim: gather along `dim` after broadcasting input and indices over the
    other dims; dim None takes from the flattened input."""
    x = _check.tensor("take_along_dim", "input", input).data
    idx = _index("take_along_dim", "indices", indices)
    if dim is None:  # torch: no wrapping of negative indices here (there is along a dim)
        pos = _in_range("take_along_dim", idx.reshape(-1), x.size, 0)
        return Gather.apply(input, contiguous(pos), 1, (idx.size,))
    dim = _check.wrap_dim("take_along_dim", dim, x.ndim)
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_dim(): input and indices should have the same number of "
                         f"dimensions, but got {x.ndim} dimensions for input, and {idx.ndim} "
                         f"dimensions for indices")
    try:
        lead = np.broadcast_shapes(x.shape[:dim] + x.shape[dim + 1:],
                                   idx.shape[:dim] + idx.shape[dim + 1:])
    except ValueError:
        raise ValueError(f"take_along_dim(): input of shape {x.shape} and indices of shape "
                         f"{idx.shape} do not broadcast apart from dimension {dim}") from None
    xs = lead[:dim] + (x.shape[dim],) + lead[dim:]
    ishape = lead[:dim] + (idx.shape[dim],) + lead[dim:]
    src = input if xs == x.shape else input.expand(*xs)
    idx = _in_range("take_along_dim", np.broadcast_to(idx, ishape), x.shape[dim], dim,
                    wrap=True)
    return Gather.apply(src, _positions(xs, np.asarray(idx, np.int64), dim), 1, ishape)


def index_select(input, dim, index):
    """torch.index_select: the slices input[..., index[i], ...] along `dim` (index 1-D)."""
    x = _check.tensor("index_select", "input", input).data
    dim = _check.wrap_dim("index_select", dim, x.ndim)
    idx = _index("index_select", "index", index)
    if idx.ndim > 1:
        raise ValueError(f"index_select(): Index is supposed to be a vector, got a "
                         f"{idx.ndim}-D tensor of shape {idx.shape}")
    idx = idx.reshape(-1)
    if x.ndim == 0:
        _in_range("index_select", idx, 1, 0)
        return Gather.apply(input, np.zeros(idx.size, np.int64), 1,
                            () if np.ndim(_data(index)) == 0 else (idx.size,))
    _in_range("index_select", idx, x.shape[dim], dim)
    rows, n = _rows(x.shape, dim, idx)
    return Gather.apply(input, rows, n, x.shape[:dim] + (idx.size,) + x.shape[dim + 1:])


def masked_select(input, mask):
    """torch.masked_select: the elements of input where mask (broadcast together), as 1-D."""
    x = _check.tensor("masked_select", "input", input).data
    m = _data(mask)
    if not isinstance(m, np.ndarray) or m.dtype != np.bool_:
        raise TypeError(f"masked_select(): argument 'mask' expected a bool tensor, got "
                        f"{_check._what(m)}")
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise ValueError(f"masked_select(): the shape of the mask {m.shape} must be "
                         f"broadcastable with the shape of input {x.shape}") from None
    pos = np.flatnonzero(np.broadcast_to(m, shape)).astype(np.int64)
    src = input if shape == x.shape else input.expand(*shape)
    return Gather.apply(src, pos, 1, (pos.size,))


def nonzero(input, *, out=None, as_tuple=False):
    """torch.nonzero: (count, ndim) int64 coordinates of the non-zero elements (row-major),
    or a tuple of 1-D coordinate tensors with as_tuple=True."""
    x = _check.tensor("nonzero", "input", input).data
    if out is not None:
        raise TypeError("nonzero(): out= is not supported; use the returned tensor")
    if as_tuple:
        if x.ndim == 0:
            return (_make(np.flatnonzero(x.reshape(1)).astype(np.int64), False, None, 0),)
        return tuple(_make(c.astype(np.int64), False, None, 0) for c in np.nonzero(x))
    return _make(np.argwhere(x).astype(np.int64), False, None, 0)


# ----------------------------------------------------------------------------- scatter
def _scatter_numpy(op, pos, n, alpha, include, s, out):
    """The non-float path of K.scatter_reduce: one NumPy call per step (ints, bools)."""
    p = _expand_rows(pos, n)
    if op == K.FILL:
        out[p] = alpha
        return
    v = s if alpha == 1 else s * alpha
    if not include:
        info = np.iinfo(out.dtype) if out.dtype.kind in "iu" else None
        out[p] = {K.PROD: 1, K.AMAX: info.min if info else False,
                  K.AMIN: info.max if info else True}.get(op, 0)
    if op == K.COPY:
        out[p] = v
    elif op in (K.SUM, K.MEAN):
        np.add.at(out, p, v)
    else:
        {K.PROD: np.multiply, K.AMAX: np.maximum, K.AMIN: np.minimum}[op].at(out, p, v)
    if op == K.MEAN:
        count = np.bincount(p, minlength=out.size) + (1 if include else 0)
        hit = count > 0
        out[hit] = np.floor_divide(out[hit], count[hit]).astype(out.dtype)


class Scatter(Function):
    """out = x with out.flat[pos] (op)= alpha * src (rows of n; see K.scatter_reduce)."""

    @staticmethod
    def forward(ctx, x, src, op, pos, n, alpha, include):
        pos = _owned(pos)
        out = np.array(x, order="C")
        s = _flat(src) if src is not None else out.reshape(-1)[:0]
        ctx.args = (op, pos, n, alpha, include)
        if x.dtype.kind != "f":
            _scatter_numpy(op, pos, n, alpha, include, s, out.reshape(-1))
            return out
        K.scatter_reduce(op, pos, n, float(alpha), include, s, out.reshape(-1),
                         np.empty(out.size if op == K.MEAN else 0, x.dtype))
        if op in (K.PROD, K.AMAX, K.AMIN):
            ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        op, pos, n, alpha, include = ctx.args
        g = _flat(g)
        x = s = o = g
        if op in (K.PROD, K.AMAX, K.AMIN):
            x, s, o = ctx.saved_tensors
            x, s, o = _flat(x), _flat(s), o.reshape(-1)
        want_src = ctx.needs_input_grad[1]
        shape, _ = ctx.in_meta[0] if ctx.in_meta[0] is not None else (None, None)
        gx = np.empty(g.size, g.dtype)
        gs = np.empty(pos.size * n if want_src else 0, g.dtype)
        scratch = op in (K.MEAN, K.PROD, K.AMAX, K.AMIN)
        K.scatter_reduce_backward(op, pos, n, float(alpha), include, x, s, o, g, gx, gs,
                                  np.empty(2 * g.size if scratch else 0, g.dtype))
        gx = gx.reshape(shape) if ctx.needs_input_grad[0] else None
        if want_src:
            gs = gs.reshape(ctx.in_meta[1][0])
        return gx, gs if want_src else None, None, None, None, None, None

    @staticmethod
    def name_of(ctx):
        return "scatter"


class ScatterLegacyReduce(Scatter):
    """scatter(..., reduce='add'|'multiply'): forward as Scatter; like torch, no derivative."""

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError("the derivative of scatter with reduce= is not implemented "
                                  "(as in torch); use scatter_add or scatter_reduce")


def _same_dtype(op, x, name, src):
    if src.data.dtype != x.data.dtype:
        raise TypeError(f"{op}(): Expected self.dtype to be equal to src.dtype: input has "
                        f"dtype {x.data.dtype}, {name} has dtype {src.data.dtype}")


def _scalar(op, value, dtype):
    """A number (or 0-d tensor) as the Python scalar written into a tensor of `dtype`
    (truncated toward zero for integer tensors, as torch casts it)."""
    if isinstance(value, Tensor):
        if value.data.ndim != 0:
            raise ValueError(f"{op}(): only supports a 0-dimensional value tensor, but got a "
                             f"tensor with {value.data.ndim} dimension(s)")
        value = value.data.item()
    if not isinstance(value, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"{op}(): argument 'value' expected a number, got "
                        f"{type(value).__name__}")
    return np.array(value).astype(dtype).item()


def _scatter_along(op, input, dim, index, src, code, include=True, value=None, fn=Scatter):
    """Checks of torch's scatter family, then the Scatter Function on the index's positions."""
    dim, idx = _dim_index(op, input, dim, index)
    x = input.data
    shape = x.shape if x.ndim else (1,)
    idx = idx.reshape(idx.shape if x.ndim else (-1,))
    if src is not None:
        _check.tensor(op, "src", src)
        _same_dtype(op, input, "src", src)
        sshape = src.data.shape if src.data.ndim else (1,)
        if len(sshape) != idx.ndim or any(i > s for i, s in zip(idx.shape, sshape)):
            raise ValueError(f"{op}(): Expected index {idx.shape} to be no larger than src "
                             f"{src.data.shape} in every dimension")
    for d in range(idx.ndim):
        if d != dim and idx.shape[d] > shape[d]:
            raise ValueError(f"{op}(): Expected index {idx.shape} to be no larger than self "
                             f"{x.shape} apart from dimension {dim}")
    _in_range(op, idx, shape[dim], dim)
    pos = _positions(shape, idx, dim)
    if src is not None and sshape != idx.shape:  # index covers a block of src: take it
        src = Gather.apply(src, _positions(sshape, idx, None), 1, idx.shape)
    if src is None:
        value = _scalar(op, value, x.dtype)
        return Scatter.apply(input, None, K.FILL, pos, 1, value, False)
    return fn.apply(input, src, code, pos, 1, 1, include)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """torch.scatter: out = input with out[i][index[i][j]][k] = src[i][j][k] (dim=1), or
    `value`; reduce='add' | 'multiply' accumulates instead (repeated indices: the last write
    wins only without reduce, and which one is unspecified, as in torch)."""
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src  # scatter(input, dim, index, 1.5): the value overload
    if (src is None) == (value is None):
        raise TypeError("scatter(): expected exactly one of 'src' (a Tensor) or 'value' (a "
                        "number)")
    if reduce is None:
        return _scatter_along("scatter", input, dim, index, src, K.COPY, include=False,
                              value=value)
    if reduce not in _SCATTER_REDUCE:
        raise ValueError(f"scatter(): reduce argument must be either 'add' or 'multiply', got "
                         f"{reduce!r}")
    if src is None:
        src = _make(np.full(np.shape(_data(index)), _scalar("scatter", value, input.dtype),
                            input.data.dtype), False, None, 0)
    return _scatter_along("scatter", input, dim, index, src, _SCATTER_REDUCE[reduce],
                          fn=ScatterLegacyReduce)


def scatter_add(input, dim, index, src):
    """torch.scatter_add: out = input with out[i][index[i][j]][k] += src[i][j][k] (dim=1)."""
    if not isinstance(src, Tensor):
        _check.tensor("scatter_add", "src", src)
    return _scatter_along("scatter_add", input, dim, index, src, K.SUM)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """torch.scatter_reduce: reduce src into input at index along dim with 'sum', 'prod',
    'mean', 'amax' or 'amin'; include_self=False leaves input's values out at the slots hit.
    Gradients as torch: amax/amin split among ties, prod exact with zeros."""
    if reduce not in _REDUCE:
        raise ValueError(f"scatter_reduce(): reduce argument must be one of 'sum', 'prod', "
                         f"'mean', 'amax', 'amin', got {reduce!r}")
    _check.tensor("scatter_reduce", "src", src)
    return _scatter_along("scatter_reduce", input, dim, index, src, _REDUCE[reduce],
                          include=bool(include_self))


def _index_rows(op, input, dim, index, source=None, wrap=False):
    """(positions of rows, row length) of the index_* family, with torch's checks."""
    x = _check.tensor(op, "input", input).data
    dim = _check.wrap_dim(op, dim, x.ndim)
    idx = _index(op, "index", index)
    if idx.ndim > 1:
        raise ValueError(f"{op}(): Index is supposed to be a vector, got a {idx.ndim}-D "
                         f"tensor of shape {idx.shape}")
    idx = idx.reshape(-1)
    shape = x.shape if x.ndim else (1,)
    idx = _in_range(op, idx, shape[dim], dim, wrap=wrap)
    if source is not None:
        _check.tensor(op, "source", source)
        _same_dtype(op, input, "source", source)
        want = shape[:dim] + (idx.size,) + shape[dim + 1:]
        got = source.data.shape if source.data.ndim else (1,)
        if got != want:
            raise ValueError(f"{op}(): argument 'source' expected shape {want} (input's shape "
                             f"with dimension {dim} of size len(index)), got "
                             f"{source.data.shape}")
    return _rows(shape, dim, idx)


def index_add(input, dim, index, source, *, alpha=1):
    """torch.index_add: out = input with out[..., index[i], ...] += alpha * source[..., i, ...]."""
    rows, n = _index_rows("index_add", input, dim, index, source)
    return Scatter.apply(input, source, K.SUM, rows, n, _scalar("index_add", alpha,
                                                                  input.data.dtype), True)


def index_copy(input, dim, index, source):
    """torch.index_copy: out = input with out[..., index[i], ...] = source[..., i, ...]."""
    rows, n = _index_rows("index_copy", input, dim, index, source)
    return Scatter.apply(input, source, K.COPY, rows, n, 1, False)


def index_fill(input, dim, index, value):
    """torch.index_fill: out = input with out[..., index[i], ...] = value."""
    rows, n = _index_rows("index_fill", input, dim, index, wrap=True)  # torch wraps here
    return Scatter.apply(input, None, K.FILL, rows, n,
                         _scalar("index_fill", value, input.data.dtype), False)


def masked_scatter(input, mask, source):
    """torch.masked_scatter: out = input with the elements where mask (broadcast to input's
    shape) replaced by source's first elements in row-major order."""
    x = _check.tensor("masked_scatter", "input", input).data
    m = _data(mask)
    if not isinstance(m, np.ndarray) or m.dtype != np.bool_:
        raise TypeError(f"masked_scatter(): argument 'mask' expected a bool tensor, got "
                        f"{_check._what(m)}")
    _check.tensor("masked_scatter", "source", source)
    _same_dtype("masked_scatter", input, "source", source)
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise ValueError(f"masked_scatter(): the shape of the mask {m.shape} must be "
                         f"broadcastable with the shape of input {x.shape}") from None
    pos = np.flatnonzero(np.broadcast_to(m, shape)).astype(np.int64)
    if pos.size > source.data.size:
        raise ValueError(f"masked_scatter(): Number of elements of source < number of ones in "
                         f"mask: source has {source.data.size}, mask has {pos.size}")
    base = input if shape == x.shape else input.expand(*shape)
    src = Gather.apply(source, np.arange(pos.size, dtype=np.int64), 1, (pos.size,))
    return Scatter.apply(base, src, K.COPY, pos, 1, 1, False)


# ----------------------------------------------------------------------------- in place
def _inplace(name, outofplace, self, *args, **kwargs):
    """Run `outofplace` and write its result into self's storage (version bumped); with a
    graph, self takes over the recorded node (as jitgrad/_ops/inplace.py does)."""
    _check_inplace(self, name)
    graph = _grad_state.enabled and (self._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args))
    data = self.data
    if not graph:
        with no_grad():
            result = outofplace(self, *args, **kwargs)
    else:
        if self._base is not None:
            raise RuntimeError(f"{name}: in-place operation on a view of a tensor in the graph "
                               f"is not supported; use the out-of-place form")
        alias = _make(data, self._requires_grad, self.grad_fn, self._out_idx)
        result = outofplace(alias, *args, **kwargs)
        node = result.grad_fn
        if node is not None and any(s is data for s in node._saved):
            node._saved = tuple(data.copy() if s is data else s for s in node._saved)
    if result.data.shape != data.shape:
        raise ValueError(f"{name}: output with shape {data.shape} doesn't match the broadcast "
                         f"shape {result.data.shape}")
    data[...] = result.data
    self._version[0] += 1
    if graph:
        self.grad_fn, self._out_idx, self._requires_grad = result.grad_fn, 0, True
    return self


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    return _inplace("scatter_", scatter, self, dim, index, src, value, reduce=reduce)


def scatter_add_(self, dim, index, src):
    return _inplace("scatter_add_", scatter_add, self, dim, index, src)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return _inplace("scatter_reduce_", scatter_reduce, self, dim, index, src, reduce,
                    include_self=include_self)


def index_add_(self, dim, index, source, *, alpha=1):
    return _inplace("index_add_", index_add, self, dim, index, source, alpha=alpha)


def index_copy_(self, dim, index, source):
    return _inplace("index_copy_", index_copy, self, dim, index, source)


def index_fill_(self, dim, index, value):
    return _inplace("index_fill_", index_fill, self, dim, index, value)


def masked_scatter_(self, mask, source):
    return _inplace("masked_scatter_", masked_scatter, self, mask, source)


def masked_fill_(self, mask, value):
    from .select import masked_fill
    return _inplace("masked_fill_", masked_fill, self, mask, value)


# ----------------------------------------------------------------------------- softmax
def softmax(input, dim=None, dtype=None):
    """torch.softmax / Tensor.softmax: jitgrad.nn.functional.softmax."""
    from ..nn import functional as F
    return F.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, dtype=None):
    """torch.log_softmax / Tensor.log_softmax: jitgrad.nn.functional.log_softmax."""
    from ..nn import functional as F
    return F.log_softmax(input, dim, dtype=dtype)
