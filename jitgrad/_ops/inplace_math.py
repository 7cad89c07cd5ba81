"""In-place forms with arguments: add_(other, alpha=), sub_(other, alpha=), pow_, clamp_,
fill_, copy_. Each writes into the tensor's own storage and bumps its version counter, refuses
a leaf that requires grad (outside no_grad), and with a graph to record takes over the
out-of-place op's node, exactly as ``+=`` does (jitgrad/_ops/inplace.py).
"""
import numpy as np

from .. import _check
from ..autograd.function import Function
from .._grad_mode import no_grad, state as _grad_state
from .._tensor import Tensor, _check_inplace
from .binary import mul, pow
from .broadcast import sum_to
from .inplace import _KIND_NAMES, _RANK, _inplace, _take_over
from .unary import clamp
from ..kernels import elementwise as K


def _needs_graph(self, args):
    return _grad_state.enabled and (self._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args))


def _apply(name, self, outofplace, *args):
    """self <- outofplace(self, *args): computed out of place, cast back and written in."""
    _check_inplace(self, name)
    if _needs_graph(self, args):
        return _take_over(name, self, outofplace, *args)
    with no_grad():
        result = outofplace(self, *args).data
    data = self.data
    if result.shape != data.shape:
        raise _check.ShapeError(f"{name}: output with shape {data.shape} doesn't match the "
                                f"broadcast shape {result.shape}")
    if _RANK[result.dtype.kind] > _RANK[data.dtype.kind]:  # torch: no float -> int, int -> bool
        raise TypeError(f"{name}: result type {_KIND_NAMES[result.dtype.kind]} can't be cast to "
                        f"the desired output type {data.dtype}")
    data[...] = result
    self._version[0] += 1
    return self


def _scaled(name, self, other, alpha):
    if alpha == 1:
        return other
    if self.data.dtype.kind != "f" and isinstance(alpha, (float, np.floating)):
        raise RuntimeError(f"{name}: for integral input tensors, argument alpha must not be a "
                           f"floating point number.")
    return mul(other, alpha) if isinstance(other, Tensor) else other * alpha


def add_(self, other, alpha=1):
    """self += alpha * other, in place."""
    from .binary import add
    return _inplace(K.ADD, add, self, _scaled("add_", self, other, alpha))


def sub_(self, other, alpha=1):
    """self -= alpha * other, in place."""
    from .binary import sub
    return _inplace(K.SUB, sub, self, _scaled("sub_", self, other, alpha))


def pow_(self, exponent):
    """self = self ** exponent, in place."""
    return _apply("pow_", self, pow, exponent)


def clamp_(self, min=None, max=None):
    """self = clamp(self, min, max), in place."""
    return _apply("clamp_", self, clamp, min, max)



class Fill(Function):
    """Every element set to `value` (a number or a 0-d tensor): gradient 0 for the input, the
    sum of the gradient for a tensor value."""

    @staticmethod
    def forward(ctx, x, value):
        ctx.value_shape = None if type(value) is not np.ndarray else (value.shape, value.dtype)
        return np.full(x.shape, value, x.dtype)

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(g.shape, g.dtype) if ctx.needs_input_grad[0] else None
        gv = None
        if ctx.needs_input_grad[1]:
            gv = np.asarray(g.sum(), ctx.value_shape[1])
        return gx, gv


def fill_(self, value):
    """Every element set to `value` (a number or a 0-d tensor), in place."""
    if isinstance(value, Tensor) and value.data.ndim != 0:
        raise RuntimeError(f"fill_: only supports 0-dimension value tensor but got tensor with "
                           f"{value.data.ndim} dimensions.")
    _check_inplace(self, "fill_")
    if self.data.dtype.kind == "f" and _needs_graph(self, (value,)):
        return _take_over("fill_", self, Fill.apply, value)
    self.data[...] = value.data if isinstance(value, Tensor) else value
    self._version[0] += 1
    return self


class Copy(Function):
    """`src` broadcast to the input's shape and cast to its dtype: gradient 0 for the input,
    the gradient summed back to src's shape (and cast to its dtype) for src."""

    @staticmethod
    def forward(ctx, x, src):
        src = np.asarray(src)
        ctx.src = (src.shape, src.dtype)
        return np.array(np.broadcast_to(src, x.shape), x.dtype, order="C")

    @staticmethod
    def backward(ctx, g):
        gx = np.zeros(g.shape, g.dtype) if ctx.needs_input_grad[0] else None
        gs = None
        if ctx.needs_input_grad[1]:
            shape, dtype = ctx.src
            gs = sum_to(g, shape).astype(dtype, copy=False)
        return gx, gs


def copy_(self, src, non_blocking=False):
    """self's elements replaced by src's (broadcast to self's shape, cast to self's dtype)."""
    s = src.data if isinstance(src, Tensor) else np.asarray(src)
    try:
        ok = np.broadcast_shapes(s.shape, self.data.shape) == self.data.shape
    except ValueError:
        ok = False
    if not ok:
        raise _check.ShapeError(f"copy_: the src tensor of shape {s.shape} cannot be broadcast "
                                f"to the destination shape {self.data.shape}")
    _check_inplace(self, "copy_")
    if self.data.dtype.kind == "f" and _needs_graph(self, (src,)):
        return _take_over("copy_", self, Copy.apply, src)
    self.data[...] = s
    self._version[0] += 1
    return self
