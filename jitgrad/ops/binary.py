"""Binary arithmetic with NumPy broadcasting: add, sub, mul, div, pow, maximum, minimum."""
import numpy as np

from ..autograd.function import Function
from ..dtypes import result_type
from ..kernels import elementwise as K
from .broadcast import broadcast_plan, sum_to
from .util import contiguous


def _operand(x, dtype):
    if type(x) is np.ndarray:
        if x.dtype != dtype:
            x = x.astype(dtype)
        elif not x.flags.c_contiguous:
            x = contiguous(x)
        return x
    return np.array(x, dtype)


def binary(op, name, a, b, floating=False, out=None):
    """out = a (op) b: promote (to float when `floating`), broadcast, run the op-coded kernel.
    A given `out` (C-contiguous, of the result's dtype and shape) is written in place."""
    dtype = result_type(a, b) if out is None else out.dtype
    if floating and dtype.kind != "f":
        dtype = np.dtype(np.float32)
    a = _operand(a, dtype)
    b = _operand(b, dtype)
    if a.shape == b.shape:
        if out is None:
            out = np.empty(a.shape, dtype)
        K.binary_same(op, a.reshape(-1), b.reshape(-1), out.reshape(-1))
        return out
    out_shape, shape, sa, sb = broadcast_plan(name, a.shape, b.shape)
    if out is None:
        out = np.empty(out_shape, dtype)
    elif out.shape != out_shape:
        raise ValueError(f"{name}_: output with shape {out.shape} doesn't match the broadcast "
                         f"shape {out_shape}")
    K.binary_broadcast(op, a.reshape(-1), b.reshape(-1), out.reshape(-1), shape, sa, sb)
    return out


def _shape(x):
    return x.shape if type(x) is np.ndarray else ()


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return binary(K.ADD, "add", a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        return (sum_to(g, sa) if na else None), (sum_to(g, sb) if nb else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return binary(K.SUB, "sub", a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        return (sum_to(g, sa) if na else None), (sum_to(-g, sb) if nb else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        na, nb = ctx.needs_input_grad
        ctx.save_for_backward(a if nb else None, b if na else None)
        ctx.shapes = (_shape(a), _shape(b))
        return binary(K.MUL, "mul", a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = sum_to(binary(K.MUL, "mul", g, b), sa) if b is not None else None
        gb = sum_to(binary(K.MUL, "mul", g, a), sb) if a is not None else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = binary(K.DIV, "div", a, b, floating=True)
        ctx.save_for_backward(b, out if ctx.needs_input_grad[1] else None)
        ctx.shapes = (_shape(a), _shape(b))
        return out

    @staticmethod
    def backward(ctx, g):
        b, out = ctx.saved_tensors
        sa, sb = ctx.shapes
        ga = binary(K.DIV, "div", g, b)  # g / b
        gb = sum_to(-binary(K.MUL, "mul", ga, out), sb) if out is not None else None
        return (sum_to(ga, sa) if ctx.needs_input_grad[0] else None), gb


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.shapes = (_shape(a), _shape(b))
        return binary(K.POW, "pow", a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        na, nb = ctx.needs_input_grad
        ga = gb = None
        if na:
            ga = sum_to(binary(K.MUL, "pow", g, binary(K.POW_GRAD_BASE, "pow", a, b)), sa)
        if nb:
            gb = sum_to(binary(K.MUL, "pow", g, binary(K.POW_GRAD_EXP, "pow", a, b)), sb)
        return ga, gb


class _Extremum(Function):
    op = name = None
    a_first = True  # maximum: mask(a, b); minimum: mask(b, a)

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.shapes = (_shape(a), _shape(b))
        return binary(cls.op, cls.name, a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        mask = binary(K.MAX_MASK, cls.name, a, b) if cls.a_first else \
            binary(K.MAX_MASK, cls.name, b, a)
        ga = binary(K.MUL, cls.name, g, mask)
        gb = binary(K.SUB, cls.name, g, ga)
        return sum_to(ga, sa), sum_to(gb, sb)


class Maximum(_Extremum):
    op, name, a_first = K.MAXIMUM, "maximum", True


class Minimum(_Extremum):
    op, name, a_first = K.MINIMUM, "minimum", False


def add(input, other, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return Add.apply(input, other)


def sub(input, other, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return Sub.apply(input, other)


def rsub(input, other):
    return Sub.apply(other, input)


def mul(input, other):
    return Mul.apply(input, other)


def div(input, other):
    return Div.apply(input, other)


def rdiv(input, other):
    return Div.apply(other, input)


def pow(input, exponent):
    return Pow.apply(input, exponent)


def rpow(input, other):
    return Pow.apply(other, input)


def maximum(input, other):
    return Maximum.apply(input, other)


def minimum(input, other):
    return Minimum.apply(input, other)


subtract, multiply, true_divide, divide = sub, mul, div, div
