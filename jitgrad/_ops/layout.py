"""Layout ops: triangles, diagonals, flips and rolls, narrow / unbind / movedim / tile,
repeat_interleave, meshgrid and view(dtype).

No arithmetic happens here: every op is a view (diagonal, narrow, unbind, movedim, meshgrid,
view(dtype)), a NumPy copy that moves or zeroes elements (tril/triu, flip, roll, diag of a
vector), a row gather with the index kernels (repeat_interleave), or a composition of those
with existing ops (trace, rot90, tile, fliplr/flipud). Each backward is the inverse data
movement: the same mask, the opposite flip or roll, a write into the diagonal of zeros, a
row scatter-add.
"""
import builtins

import numpy as np

from .. import _check
from .._check import wrap_dim
from .._dtypes import as_dtype
from .._tensor import Tensor, _make
from ..autograd.function import Function
from ..kernels import index as K
from .index import getitem
from .reduce import sum as _sum
from .shape import Permute, expand, repeat, reshape, transpose
from .util import contiguous


def _tensor(op, x, name="input"):
    return _check.tensor(op, name, x)


def _int(op, name, v):
    if isinstance(v, Tensor):
        if v.data.size != 1 or v.data.dtype.kind not in "iu":
            raise TypeError(f"{op}(): argument '{name}' expected an int or a one-element "
                            f"integer tensor, got {_check._what(v)}")
        return int(v.data.reshape(-1)[0])
    return _check.integer(op, name, v)


def _dims(op, dims, ndim, name="dims"):
    """An int or a sequence of ints as a tuple of distinct non-negative axes."""
    seq = (dims,) if isinstance(dims, (int, np.integer)) else dims
    if not isinstance(seq, (tuple, list)):
        raise TypeError(f"{op}(): argument '{name}' expected an int or a tuple of ints, got "
                        f"{type(dims).__name__}")
    out = tuple(wrap_dim(op, d, ndim, name) for d in seq)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}(): dim {out} appears multiple times in the list of {name}")
    return out


# ----------------------------------------------------------------------------- tril / triu
class TriMask(Function):
    """out = x with the elements above (tril) or below (triu) the k-th diagonal zeroed."""

    @staticmethod
    def forward(ctx, x, k, upper):
        ctx.k, ctx.upper = k, upper
        return np.triu(x, k) if upper else np.tril(x, k)

    @staticmethod
    def backward(ctx, g):
        return (np.triu(g, ctx.k) if ctx.upper else np.tril(g, ctx.k)), None, None

    @staticmethod
    def name_of(ctx):
        return "triu" if ctx.upper else "tril"


def _tri(op, input, diagonal, upper):
    _tensor(op, input)
    if input.data.ndim < 2:
        raise ValueError(f"{op}(): argument 'input' expected a tensor with at least 2 dimensions, "
                         f"got {input.data.ndim}-D of shape {input.data.shape}")
    return TriMask.apply(input, _check.integer(op, "diagonal", diagonal), upper)


def tril(input, diagonal=0):
    """The lower triangle (on and below the `diagonal`-th diagonal) of the last two dims."""
    return _tri("tril", input, diagonal, False)


def triu(input, diagonal=0):
    """The upper triangle (on and above the `diagonal`-th diagonal) of the last two dims."""
    return _tri("triu", input, diagonal, True)


# ----------------------------------------------------------------------------- diagonals
def _diagonal_view(x, offset, d1, d2):
    """A writable view of x's `offset`-th diagonal over dims d1, d2, moved last (as torch)."""
    n1, n2 = x.shape[d1], x.shape[d2]
    idx = [slice(None)] * x.ndim
    if offset >= 0:
        length = builtins.max(0, builtins.min(n1, n2 - offset))
        idx[d2] = slice(builtins.min(offset, n2), None)
    else:
        length = builtins.max(0, builtins.min(n1 + offset, n2))
        idx[d1] = slice(builtins.min(-offset, n1), None)
    rest = [d for d in range(x.ndim) if d not in (d1, d2)]
    shape = tuple(x.shape[d] for d in rest) + (length,)
    strides = tuple(x.strides[d] for d in rest) + (x.strides[d1] + x.strides[d2],)
    return np.lib.stride_tricks.as_strided(x[tuple(idx)], shape, strides)


class Diagonal(Function):
    """A view of a diagonal; backward writes the gradient into the diagonal of zeros."""
    is_view = True

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        return _diagonal_view(x, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        shape, dtype = ctx.in_meta[0]
        gx = np.zeros(shape, g.dtype)
        _diagonal_view(gx, *ctx.args)[...] = g
        return gx, None, None, None


def diagonal(input, offset=0, dim1=0, dim2=1):
    """torch.diagonal: the `offset`-th diagonal of the (dim1, dim2) planes, as a view, with
    the diagonal as the last dimension."""
    _tensor("diagonal", input)
    nd = input.data.ndim
    if nd < 2:
        raise ValueError(f"diagonal(): argument 'input' expected a tensor with at least 2 "
                         f"dimensions, got {nd}-D of shape {input.data.shape}")
    d1 = wrap_dim("diagonal", dim1, nd, "dim1")
    d2 = wrap_dim("diagonal", dim2, nd, "dim2")
    if d1 == d2:
        raise ValueError(f"diagonal(): diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, _check.integer("diagonal", "offset", offset), d1, d2)


class DiagEmbed(Function):
    """A 1-D vector placed on the k-th diagonal of a square matrix of zeros."""

    @staticmethod
    def forward(ctx, v, k):
        ctx.k = k
        n = v.shape[0] + abs(k)
        out = np.zeros((n, n), v.dtype)
        _diagonal_view(out, k, 0, 1)[...] = v
        return out

    @staticmethod
    def backward(ctx, g):
        return _diagonal_view(g, ctx.k, 0, 1).copy(), None

    @staticmethod
    def name_of(ctx):
        return "diag"


def diag(input, diagonal=0):
    """torch.diag: a 1-D input becomes a matrix with it on the `diagonal`-th diagonal; a 2-D
    input gives a copy of its `diagonal`-th diagonal."""
    _tensor("diag", input)
    k = _check.integer("diag", "diagonal", diagonal)
    nd = input.data.ndim
    if nd == 1:
        return DiagEmbed.apply(input, k)
    if nd == 2:
        return Diagonal.apply(input, k, 0, 1).clone()
    raise ValueError(f"diag(): argument 'input' expected a 1-D or 2-D tensor, got {nd}-D of "
                     f"shape {input.data.shape}")


def trace(input):
    """Sum of the main diagonal of a 2-D tensor."""
    _tensor("trace", input)
    _check.ndim("trace", "input", input.data, 2)
    return _sum(diagonal(input))


# ----------------------------------------------------------------------------- flips, rolls
class Flip(Function):
    """out = x reversed along `dims` (a copy, as torch.flip); backward flips back."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy() if dims else x.copy()

    @staticmethod
    def backward(ctx, g):
        return (np.flip(g, ctx.dims) if ctx.dims else g), None


def flip(input, dims):
    _tensor("flip", input)
    return Flip.apply(input, _dims("flip", dims, input.data.ndim))


def fliplr(input):
    """Flip dim 1 (left/right) of a tensor with at least 2 dimensions."""
    _tensor("fliplr", input)
    if input.data.ndim < 2:
        raise ValueError(f"fliplr(): argument 'input' expected a tensor with at least 2 "
                         f"dimensions, got {input.data.ndim}-D")
    return Flip.apply(input, (1,))


def flipud(input):
    """Flip dim 0 (up/down) of a tensor with at least 1 dimension."""
    _tensor("flipud", input)
    if input.data.ndim < 1:
        raise ValueError("flipud(): argument 'input' expected a tensor with at least 1 "
                         "dimension, got 0-D")
    return Flip.apply(input, (0,))


class Roll(Function):
    """out = x rolled by `shifts` along `dims` (dims None: the flattened tensor)."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        neg = tuple(-s for s in ctx.shifts) if ctx.dims is not None else -ctx.shifts
        return np.roll(g, neg, ctx.dims), None, None


def roll(input, shifts, dims=None):
    """torch.roll: elements shifted along `dims` with wrap-around; without dims, the
    flattened tensor is rolled and the shape restored."""
    _tensor("roll", input)
    many = isinstance(shifts, (tuple, list))
    sh = tuple(_check.integer("roll", "shifts", s) for s in shifts) if many else \
        (_check.integer("roll", "shifts", shifts),)
    if dims is None:
        if len(sh) != 1:
            raise ValueError(f"roll(): argument 'shifts' expected one shift when dims is None, "
                             f"got {list(sh)}")
        return Roll.apply(input, sh[0], None)
    nd = input.data.ndim
    seq = dims if isinstance(dims, (tuple, list)) else (dims,)
    dd = tuple(wrap_dim("roll", d, nd, "dims") for d in seq)
    if len(dd) != len(sh):
        raise ValueError(f"roll(): shifts and dimensions must align. shifts: {len(sh)}, "
                         f"dims: {len(dd)}")
    return Roll.apply(input, sh, dd)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane `dims` (from the first towards the second)."""
    _tensor("rot90", input)
    nd = input.data.ndim
    if len(dims) != 2:
        raise ValueError(f"rot90(): expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise ValueError(f"rot90(): expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = _dims("rot90", tuple(dims), nd)
    k = _check.integer("rot90", "k", k) % 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(transpose(input, d0, d1), (d1,))
    return Flip.apply(input, ())


# ----------------------------------------------------------------------------- views
def narrow(input, dim, start, length):
    """The view input[..., start:start+length, ...] along `dim` (start may be negative)."""
    _tensor("narrow", input)
    nd = input.data.ndim
    if nd == 0:
        raise ValueError("narrow(): cannot be applied to a 0-dim tensor.")
    d = wrap_dim("narrow", dim, nd)
    n = input.data.shape[d]
    s = _int("narrow", "start", start)
    length = _check.integer("narrow", "length", length, minimum=0)
    if not -n <= s <= n:
        raise IndexError(f"narrow(): start ({s}) out of range (expected to be in range of "
                         f"[{-n}, {n}])")
    if s < 0:
        s += n
    if s + length > n:
        raise ValueError(f"narrow(): start ({s}) + length ({length}) exceeds dimension size "
                         f"({n}).")
    return getitem(input, (slice(None),) * d + (slice(s, s + length),))


class Unbind(Function):
    """Views of every index along `dim`; backward stacks the gradients (zeros where unused)."""
    is_view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x[lead + (i,)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return np.stack(grads, axis=ctx.dim), None


def unbind(input, dim=0):
    _tensor("unbind", input)
    if input.data.ndim == 0:
        raise ValueError("unbind(): Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim("unbind", dim, input.data.ndim)
    if input.data.shape[d] == 0:
        return ()
    return Unbind.apply(input, d)


def movedim(input, source, destination):
    """Move dims `source` to positions `destination` (ints or equal-length sequences); the
    other dims keep their order."""
    _tensor("movedim", input)
    nd = input.data.ndim
    src = _dims("movedim", source, nd, "source")
    dst = _dims("movedim", destination, nd, "destination")
    if len(src) != len(dst):
        raise ValueError(f"movedim(): Invalid source or destination dims: source ({list(src)} "
                         f"dims) should contain the same number of dims as destination "
                         f"({list(dst)} dims)")
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(nd) if d not in src)
    order = tuple(o if o is not None else next(rest) for o in order)
    return Permute.apply(input, order)


moveaxis = movedim


def tile(input, dims):
    """torch.tile: repeat with `dims` padded by leading 1s to the input's rank."""
    _tensor("tile", input)
    reps = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    reps = (1,) * (input.data.ndim - len(reps)) + reps
    return repeat(input, reps)


# ----------------------------------------------------------------------------- repeat_interleave
class RowGather(Function):
    """out = rows `rows` of x seen as (x.shape[0], n): gathered with the index kernels;
    backward scatter-adds (repeated rows accumulate)."""

    @staticmethod
    def forward(ctx, x, rows, out_shape):
        n = x.size // x.shape[0] if x.shape[0] else 0
        out = np.empty(out_shape, x.dtype)
        K.gather(rows, n, contiguous(x).reshape(-1), out.reshape(-1))
        ctx.rows, ctx.n = rows, n
        return out

    @staticmethod
    def backward(ctx, g):
        shape, _ = ctx.in_meta[0]
        gx = np.zeros(shape, g.dtype)
        K.scatter_add(ctx.rows, ctx.n, contiguous(g).reshape(-1), gx.reshape(-1))
        return gx, None, None

    @staticmethod
    def name_of(ctx):
        return "repeat_interleave"


def _repeats(op, repeats, n):
    if isinstance(repeats, Tensor):
        r = repeats.data
        if r.dtype.kind not in "iu":
            raise TypeError(f"{op}(): argument 'repeats' expected an integer tensor, got dtype "
                            f"{r.dtype}")
        if r.ndim > 1:
            raise ValueError(f"{op}(): repeats must be 0-dim or 1-dim tensor, got shape "
                             f"{r.shape}")
        r = r.reshape(-1).astype(np.int64)
    else:
        r = np.array([_check.integer(op, "repeats", repeats)], np.int64)
    if r.size == 1:
        r = np.full(n, r[0], np.int64)
    if r.size != n:
        raise ValueError(f"{op}(): repeats must have the same size as input along dim, but got "
                         f"repeats.size(0) = {r.size} and input.size(dim) = {n}")
    if r.size and r.min() < 0:
        raise ValueError(f"{op}(): repeats can not be negative, got {r.tolist()}")
    return r


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """torch.repeat_interleave: each element (dim None: of the flattened input) or each slice
    along `dim` repeated `repeats` times (an int, or one count per slice). With only a 1-D
    integer tensor given, returns the indices arange(n) repeated by its counts."""
    if repeats is None:
        _tensor("repeat_interleave", input, "repeats")
        counts = _repeats("repeat_interleave", input, builtins.max(input.data.size, 1)
                          if input.data.ndim == 0 else input.data.shape[0])
        return _make(np.repeat(np.arange(counts.size, dtype=np.int64), counts), False, None, 0)
    _tensor("repeat_interleave", input)
    x = input
    if dim is None:
        x = reshape(input, (-1,))
        d = 0
    else:
        d = wrap_dim("repeat_interleave", dim, input.data.ndim)
        if x.data.ndim == 0:
            x = reshape(input, (1,))
    n = x.data.shape[d]
    counts = _repeats("repeat_interleave", repeats, n)
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    if output_size is not None and output_size != rows.size:
        raise ValueError(f"repeat_interleave(): argument 'output_size' expected {rows.size} (the "
                         f"sum of repeats), got {output_size}")
    if d != 0:
        x = movedim(x, d, 0)
    out = RowGather.apply(x, rows, (rows.size,) + x.data.shape[1:])
    return movedim(out, 0, d) if d != 0 else out


# ----------------------------------------------------------------------------- meshgrid
def meshgrid(*tensors, indexing="ij"):
    """Grids of N 1-D (or 0-d) tensors, as broadcast views: indexing 'ij' (matrix, the
    default) or 'xy' (Cartesian: the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid(): argument 'indexing' expected 'ij' or 'xy', got "
                         f"{indexing!r}")
    if not tensors:
        raise ValueError("meshgrid(): expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        _tensor("meshgrid", t, f"tensors[{i}]")
        if t.data.ndim > 1:
            raise ValueError(f"meshgrid(): expects 0D or 1D tensors, but tensor {i} has shape "
                             f"{t.data.shape}")
        if t.data.dtype != tensors[0].data.dtype:
            raise TypeError(f"meshgrid(): expects all tensors to have the same dtype, got "
                            f"{tensors[0].data.dtype} and {t.data.dtype}")
    sizes = [builtins.max(t.data.size, 1) if t.data.ndim == 0 else t.data.shape[0]
             for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[o] for o in order)
    pos = {o: i for i, o in enumerate(order)}
    out = []
    for i, t in enumerate(tensors):
        view = [1] * len(tensors)
        view[pos[i]] = sizes[i]
        out.append(expand(reshape(t, tuple(view)), shape))
    return tuple(out)


# ----------------------------------------------------------------------------- view(dtype)
class ViewDtype(Function):
    """The same bytes seen as another dtype (not differentiable, as in torch)."""
    is_view = True

    @staticmethod
    def forward(ctx, x, dtype):
        out = x.view(dtype)
        ctx.mark_non_differentiable(out)
        return out

    @staticmethod
    def name_of(ctx):
        return "view"


def view_dtype(input, dtype):
    """Tensor.view(dtype): reinterpret the bytes. Equal item sizes keep the shape; otherwise the
    last dim (stride 1) scales by the size ratio, as torch allows."""
    d = as_dtype(dtype)
    x = input.data
    if d.itemsize != x.dtype.itemsize:
        if not (x.ndim >= 1 and x.strides[-1] == x.itemsize and
                (x.shape[-1] * x.itemsize) % d.itemsize == 0):
            raise RuntimeError(f"view(): to view a tensor of dtype {x.dtype} as {d}, its last "
                               f"dimension must have stride 1 and a size in bytes divisible by "
                               f"{d.itemsize}; got shape {x.shape} and strides {x.strides}")
    return ViewDtype.apply(input, d)
