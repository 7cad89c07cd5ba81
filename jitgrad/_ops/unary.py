"""Unary math: one Function, parametrised by the kernel's op code."""
import numpy as np

from .. import _check
from ..autograd.function import Function
from ..kernels import elementwise as K
from .._tensor import Tensor, _make
from .logical import check_bool_neg
from .util import contiguous

# op code -> (name, backward needs x, backward needs y)
_SPEC = {
    K.NEG: ("neg", False, False), K.EXP: ("exp", False, True), K.LOG: ("log", True, False),
    K.LOG1P: ("log1p", True, False), K.SQRT: ("sqrt", False, True),
    K.RSQRT: ("rsqrt", False, True), K.ABS: ("abs", True, False),
    K.SIGN: ("sign", False, False), K.SIN: ("sin", True, False), K.COS: ("cos", True, False),
    K.CLAMP: ("clamp", True, False),
    K.SCALE: ("scale", False, False),
}


def _float_input(x, name):
    _check.array(name, "input", x)
    if x.dtype.kind != "f":
        x = x.astype(np.float32)
    elif not x.flags.c_contiguous:
        x = contiguous(x)
    return x


def unary(op, x, p0=0.0, p1=0.0):
    out = np.empty(x.shape, x.dtype)
    K.unary_forward(op, x.ravel(), out.ravel(), p0, p1)
    return out


class Unary(Function):
    """y = op(x) for an op code of kernels.elementwise; p0, p1 are its scalar parameters."""

    @staticmethod
    def forward(ctx, x, op, p0=0.0, p1=0.0):
        name, need_x, need_y = _SPEC[op]
        x = _float_input(x, name)
        y = unary(op, x, p0, p1)
        ctx.op, ctx.p = op, (p0, p1)
        ctx.save_for_backward(x if need_x else None, y if need_y else None)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        g = contiguous(g)
        gx = np.empty(g.shape, g.dtype)
        xf = (x if x is not None else g).ravel()
        yf = (y if y is not None else g).ravel()
        K.unary_backward(ctx.op, xf, yf, g.ravel(), gx.ravel(), *ctx.p)
        return gx, None, None, None

    @classmethod
    def name_of(cls, ctx):
        return _SPEC[ctx.op][0]


def neg(input):
    if input.data.dtype.kind != "f":
        check_bool_neg(input.data)
        return _make(-input.data, False, None, 0)
    return Unary.apply(input, K.NEG, 0.0, 0.0)


def exp(input):
    return Unary.apply(input, K.EXP, 0.0, 0.0)


def log(input):
    return Unary.apply(input, K.LOG, 0.0, 0.0)


def log1p(input):
    return Unary.apply(input, K.LOG1P, 0.0, 0.0)


def sqrt(input):
    return Unary.apply(input, K.SQRT, 0.0, 0.0)


def rsqrt(input):
    return Unary.apply(input, K.RSQRT, 0.0, 0.0)


def abs(input):
    if input.data.dtype.kind != "f":  # integers stay integers, as in torch
        return _make(np.abs(input.data), False, None, 0)
    return Unary.apply(input, K.ABS, 0.0, 0.0)


def sign(input):
    if input.data.dtype.kind != "f":
        return _make(np.sign(input.data), False, None, 0)
    return Unary.apply(input, K.SIGN, 0.0, 0.0)


def sin(input):
    return Unary.apply(input, K.SIN, 0.0, 0.0)


def cos(input):
    return Unary.apply(input, K.COS, 0.0, 0.0)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .binary import maximum, minimum
        out = input if min is None else maximum(input, min)
        return out if max is None else minimum(out, max)
    if input.data.dtype.kind in "iu" and all(v is None or (isinstance(v, (int, np.integer))
                                                           and not isinstance(v, bool))
                                             for v in (min, max)):
        return _make(np.clip(input.data, min, max), False, None, 0)  # integers stay, as torch
    lo = -np.inf if min is None else float(min)
    hi = np.inf if max is None else float(max)
    return Unary.apply(input, K.CLAMP, lo, hi)


clip = clamp
absolute = abs
negative = neg
