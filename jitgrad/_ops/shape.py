"""Shape ops: reshape / view / flatten / squeeze / unsqueeze, transpose / permute, expand, repeat.

All but ``repeat`` (and ``reshape`` of a non-viewable layout) are NumPy views: no kernel runs,
the output shares its input's storage and version counter (``Function.is_view``), and the
backward rule is the inverse view (reshape back, inverse permutation) or ``sum_to`` for expand.
"""
import math

import numpy as np

from .. import _check
from .._check import wrap_dim
from ..autograd.function import Function
from .._tensor import Tensor
from .broadcast import sum_to
from .util import contiguous

_VIEW_ERROR = ("view size is not compatible with input tensor's size and stride (at least one "
               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")


# ----------------------------------------------------------------------------- argument helpers
def _size_arg(op, size):
    """A size given as varargs or as one tuple/list, as a tuple of Python ints."""
    if len(size) == 1 and type(size[0]) in (tuple, list):
        size = size[0]
    for s in size:
        if type(s) is not int:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
                raise TypeError(f"{op}(): size must be a sequence of ints, got {tuple(size)!r}")
            return tuple(int(v) for v in size)
    return tuple(size)


def _infer_shape(op, shape, numel):
    """Resolve one -1 in `shape` against `numel` elements."""
    if -1 not in shape and math.prod(shape) == numel and (not shape or min(shape) >= 0):
        return shape
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise _check.ShapeError(f"{op}(): only one dimension can be inferred, got shape {list(shape)}")
    if any(s < -1 for s in shape):
        raise _check.ShapeError(f"{op}(): invalid shape dimension in {list(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise _check.ShapeError(f"{op}(): shape {list(shape)} is invalid for input of size {numel}")
        shape = shape[:neg[0]] + (numel // known,) + shape[neg[0] + 1:]
    elif known != numel:
        raise _check.ShapeError(f"{op}(): shape {list(shape)} is invalid for input of size {numel}")
    return shape


def _tensor(op, x):
    return _check.tensor(op, "input", x)


# ----------------------------------------------------------------------------- Functions
class View(Function):
    """out = x seen with another shape (no copy); `op` names the public op in errors and repr."""
    is_view = True

    @staticmethod
    def forward(ctx, x, shape, op):
        ctx.op = op
        try:
            return x.reshape(shape, copy=False)
        except ValueError:
            raise RuntimeError(f"{op}(): {_VIEW_ERROR}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_meta[0][0]), None, None

    @staticmethod
    def name_of(ctx):
        return ctx.op


class ReshapeCopy(Function):
    """reshape of a layout no view can describe: a C-order copy, as torch's reshape."""

    @staticmethod
    def forward(ctx, x, shape):
        return contiguous(x).reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_meta[0][0]), None

    @staticmethod
    def name_of(ctx):
        return "reshape"


class Permute(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(np.argsort(ctx.dims)), None


class Expand(Function):
    """A broadcast view (stride 0 along expanded dims); backward sums back with sum_to."""
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        if x.shape == shape:
            return x.view()
        strides = np.broadcast_to(x, shape).strides
        return np.lib.stride_tricks.as_strided(x, shape, strides)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.in_meta[0][0]), None


class Repeat(Function):
    """np.tile semantics (torch repeat); backward sums the tiles."""

    @staticmethod
    def forward(ctx, x, repeats):
        ctx.repeats = repeats
        return np.tile(x, repeats)

    @staticmethod
    def backward(ctx, g):
        shape = ctx.in_meta[0][0]
        reps = ctx.repeats
        padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
        tiled = sum(((r, s) for r, s in zip(reps, padded)), ())  # g seen as (r0, s0, r1, s1..)
        kept = sum(((1, s) for s in padded), ())
        return sum_to(contiguous(g).reshape(tiled), kept).reshape(shape), None


# ----------------------------------------------------------------------------- public functions
def view(input, *shape):
    _tensor("view", input)
    if len(shape) == 1 and isinstance(shape[0], (np.dtype, type)):  # view(dtype)
        from .layout import view_dtype
        return view_dtype(input, shape[0])
    shape = _infer_shape("view", _size_arg("view", shape), input.data.size)
    return View.apply(input, shape, "view")


def reshape(input, *shape):
    _tensor("reshape", input)
    shape = _infer_shape("reshape", _size_arg("reshape", shape), input.data.size)
    x = input.data
    if not x.flags.c_contiguous:
        try:
            x.reshape(shape, copy=False)
        except ValueError:
            return ReshapeCopy.apply(input, shape)
    return View.apply(input, shape, "reshape")


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    _tensor("flatten", input)
    shape = input.data.shape
    if not shape:
        return reshape(input, (1,))
    s = wrap_dim("flatten", start_dim, len(shape), "start_dim")
    e = wrap_dim("flatten", end_dim, len(shape), "end_dim")
    if s > e:
        raise ValueError(f"flatten(): start_dim ({start_dim}) cannot come after end_dim "
                         f"({end_dim})")
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def squeeze(input, dim=None):
    _tensor("squeeze", input)
    shape = input.data.shape
    if dim is None:
        dims = set(range(len(shape)))
    else:
        dims = {wrap_dim("squeeze", d, len(shape))
                for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
    new = tuple(n for d, n in enumerate(shape) if not (d in dims and n == 1))
    return View.apply(input, new, "squeeze")


def unsqueeze(input, dim):
    _tensor("unsqueeze", input)
    shape = input.data.shape
    d = wrap_dim("unsqueeze", dim, len(shape) + 1)
    return View.apply(input, shape[:d] + (1,) + shape[d:], "unsqueeze")


def permute(input, *dims):
    _tensor("permute", input)
    dims = _size_arg("permute", dims)
    nd = input.data.ndim
    if len(dims) != nd:
        raise ValueError(f"permute(): number of dims don't match: input has {nd} dims, got "
                         f"dims {list(dims)}")
    dims = tuple(wrap_dim("permute", d, nd) for d in dims) if nd else ()
    if len(set(dims)) != nd:
        raise ValueError(f"permute(): repeated dim in {list(dims)}")
    return Permute.apply(input, dims)


def transpose(input, dim0, dim1):
    _tensor("transpose", input)
    nd = input.data.ndim
    a = wrap_dim("transpose", dim0, nd, "dim0")
    b = wrap_dim("transpose", dim1, nd, "dim1")
    dims = list(range(nd))
    if nd:
        dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, tuple(dims))


swapaxes = transpose


def t(input):
    _tensor("t", input)
    nd = input.data.ndim
    if nd > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return Permute.apply(input, tuple(range(nd))[::-1])


def _T(self):
    return Permute.apply(self, tuple(range(self.data.ndim))[::-1])


def _mT(self):
    if self.data.ndim < 2:
        raise ValueError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                         f"{self.data.ndim}-D tensor.")
    return transpose(self, -2, -1)


Tensor.T = property(_T, doc="All dimensions reversed (torch.Tensor.T).")
Tensor.mT = property(_mT, doc="The last two dimensions swapped (torch.Tensor.mT).")


def _expand_shape(op, shape, sizes):
    nd = len(shape)
    if len(sizes) < nd:
        raise _check.ShapeError(f"{op}(): the number of sizes provided ({len(sizes)}) must be greater "
                         f"or equal to the number of dimensions in the tensor ({nd})")
    lead = len(sizes) - nd
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise _check.ShapeError(f"{op}(): the expanded size {s} is not allowed in a leading, "
                                 f"non-existing dimension {i}")
            out.append(s)
            continue
        n = shape[i - lead]
        if s == -1:
            s = n
        elif s != n and n != 1:
            raise _check.ShapeError(f"{op}(): the expanded size of the tensor ({s}) must match the "
                             f"existing size ({n}) at non-singleton dimension {i}. Target sizes: "
                             f"{list(sizes)}. Tensor sizes: {list(shape)}")
        elif s < 0:
            raise _check.ShapeError(f"{op}(): invalid expanded size {s} at dimension {i}")
        out.append(s)
    return tuple(out)


def expand(input, *sizes):
    _tensor("expand", input)
    shape = _expand_shape("expand", input.data.shape, _size_arg("expand", sizes))
    return Expand.apply(input, shape)


def broadcast_to(input, size):
    _tensor("broadcast_to", input)
    shape = _expand_shape("broadcast_to", input.data.shape, _size_arg("broadcast_to", (size,)))
    return Expand.apply(input, shape)


def expand_as(input, other):
    return expand(input, other.shape)


def repeat(input, *repeats):
    _tensor("repeat", input)
    repeats = _size_arg("repeat", repeats)
    if len(repeats) < input.data.ndim:
        raise ValueError(f"repeat(): number of dimensions of repeat dims ({len(repeats)}) can "
                         f"not be smaller than number of dimensions of tensor "
                         f"({input.data.ndim})")
    if any(r < 0 for r in repeats):
        raise ValueError(f"repeat(): repeats must be non-negative, got {list(repeats)}")
    return Repeat.apply(input, repeats)
