"""Selection: where(condition, input, other) and masked_fill (a where with the value as input).

The three operands are broadcast to the output shape (a copy only for those that need it) and
one flat kernel selects; backward splits the gradient by the condition and sums each part back
to its operand's shape.
"""
import numpy as np

from .. import _check
from ..autograd.function import Function
from .._dtypes import result_type
from ..kernels import index as K
from .._tensor import Tensor
from .broadcast import sum_to
from .util import contiguous


def _expanded(x, shape, dtype):
    """x (array or scalar) as a C-contiguous, writable array of `shape` and `dtype`."""
    if type(x) is not np.ndarray:
        return np.full(shape, x, dtype)
    if x.shape == shape:
        return contiguous(x) if x.dtype == dtype else x.astype(dtype, order="C")
    return np.broadcast_to(x.astype(dtype, copy=False), shape).copy()


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        dtype = result_type(a, b)
        shape = cond.shape
        sa = a.shape if type(a) is np.ndarray else shape  # a scalar takes any shape
        sb = b.shape if type(b) is np.ndarray else shape
        try:
            if sa != shape or sb != shape:
                shape = np.broadcast_shapes(shape, sa, sb)
        except ValueError:
            raise ValueError(f"where(): shapes cannot be broadcast together: condition has "
                             f"shape {cond.shape}, input has shape {np.shape(a)}, other has "
                             f"shape {np.shape(b)}") from None
        out = np.empty(shape, dtype)
        K.where(_expanded(cond, shape, np.bool_).reshape(-1),
                _expanded(a, shape, dtype).reshape(-1), _expanded(b, shape, dtype).reshape(-1),
                out.reshape(-1))
        ctx.save_for_backward(cond)
        return out

    @staticmethod
    def backward(ctx, g):
        cond, = ctx.saved_tensors
        ga = np.empty(g.shape, g.dtype)
        gb = np.empty(g.shape, g.dtype)
        K.where_backward(_expanded(cond, g.shape, np.bool_).reshape(-1),
                         contiguous(g).reshape(-1), ga.reshape(-1), gb.reshape(-1))
        _, ma, mb = ctx.in_meta
        return (None, sum_to(ga, ma[0]) if ma is not None else None,
                sum_to(gb, mb[0]) if mb is not None else None)


def _condition(op, name, c):
    data = c.data if isinstance(c, Tensor) else c
    if not isinstance(data, np.ndarray):
        raise TypeError(f"{op}(): argument '{name}' must be a bool Tensor, not "
                        f"{type(c).__name__}")
    if data.dtype != np.bool_:
        raise TypeError(f"{op}(): expected '{name}' to be a bool tensor, but got dtype "
                        f"{data.dtype}")
    return c


def _operand(op, name, x):
    if isinstance(x, (Tensor, np.ndarray)) or (isinstance(x, (int, float, np.number))):
        return x
    raise TypeError(f"{op}(): argument '{name}' must be a Tensor or a number, not "
                    f"{type(x).__name__}")


def where(condition, input, other):
    """torch.where(condition, input, other): input where condition, else other (broadcast)."""
    return Where.apply(_condition("where", "condition", condition),
                       _operand("where", "input", input), _operand("where", "other", other))


def masked_fill(input, mask, value):
    """input with `value` (a number or a 0-d tensor, cast to input's dtype) where mask is True;
    mask broadcasts to input's shape."""
    _check.tensor("masked_fill", "input", input)
    _condition("masked_fill", "mask", mask)
    shape = input.data.shape
    mshape = np.shape(mask.data if isinstance(mask, Tensor) else mask)
    try:
        ok = np.broadcast_shapes(mshape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"masked_fill(): mask of shape {mshape} does not broadcast to the "
                         f"input's shape {shape}")
    if isinstance(value, Tensor):
        if value.data.ndim != 0:
            raise ValueError(f"masked_fill(): only supports a 0-dimensional value tensor, but "
                             f"got a tensor with {value.data.ndim} dimension(s)")
        if value.data.dtype != input.data.dtype:
            value = value.to(input.data.dtype)
    else:
        value = np.array(_operand("masked_fill", "value", value), input.data.dtype)
    return Where.apply(mask, value, input)
