"""Binary arithmetic with NumPy broadcasting: add, sub, mul, div, pow, maximum, minimum."""
import numpy as np

from ..autograd.function import Function
from .._dtypes import result_type
from ..kernels import elementwise as K
from .broadcast import broadcast_plan, sum_to
from .logical import check_bool_sub
from .util import contiguous
from .. import _check


_NUMBERS = (int, float, np.number, np.bool_)  # bool is an int


def _operand(x, dtype, name):
    if type(x) is np.ndarray:
        if x.dtype != dtype:
            x = x.astype(dtype)
        elif not x.flags.c_contiguous:
            x = contiguous(x)
        return x
    if not isinstance(x, _NUMBERS):
        raise TypeError(f"{name}: unsupported operand of type {type(x).__name__}; expected a "
                        f"Tensor, an ndarray or a number")
    return np.array(x, dtype)


def binary(op, name, a, b, floating=False, out=None):
    """out = a (op) b: promote (to float when `floating`), broadcast, run the op-coded kernel.
    A given `out` (C-contiguous, of the result's dtype and shape) is written in place."""
    if (out is None and type(a) is np.ndarray and type(b) is np.ndarray and a.dtype is b.dtype
            and a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous
            and (not floating or a.dtype.kind == "f")):
        out = np.empty(a.shape, a.dtype)  # the common case, kept lean: ~1 us in all
        K.binary_same(op, a.ravel(), b.ravel(), out.ravel())
        return out
    dtype = result_type(a, b) if out is None else out.dtype
    if floating and dtype.kind != "f":
        dtype = np.dtype(np.float32)
    a = _operand(a, dtype, name)
    b = _operand(b, dtype, name)
    if a.shape == b.shape:
        if out is None:
            out = np.empty(a.shape, dtype)
        K.binary_same(op, a.ravel(), b.ravel(), out.ravel())
        return out
    out_shape, shape, sa, sb = broadcast_plan(name, a.shape, b.shape)
    if out is None:
        out = np.empty(out_shape, dtype)
    elif out.shape != out_shape:
        raise _check.ShapeError(f"{name}_: output with shape {out.shape} doesn't match the broadcast "
                         f"shape {out_shape}")
    K.binary_broadcast(op, a.ravel(), b.ravel(), out.ravel(), shape, sa, sb)
    return out


def _fused_backward(op, g, a, b, y):
    """Both gradients of a same-shape binary op in one kernel pass, or None if shapes differ."""
    if not (type(a) is np.ndarray and type(b) is np.ndarray and a.shape == b.shape == g.shape
            and a.dtype is b.dtype is g.dtype):
        return None
    g, a, b = contiguous(g), contiguous(a), contiguous(b)
    ga = np.empty(g.shape, g.dtype)
    gb = np.empty(g.shape, g.dtype)
    yf = g if y is None else contiguous(y)
    K.binary_backward_same(op, g.ravel(), a.ravel(), b.ravel(), yf.ravel(), ga.ravel(),
                           gb.ravel())
    return ga, gb


def _reduce_to_inputs(ctx, ga, gb):
    """Undo broadcasting of the two inputs' gradients (None where not needed)."""
    ma, mb = ctx.in_meta
    return (sum_to(ga, ma[0]) if ma is not None and ga is not None else None,
            sum_to(gb, mb[0]) if mb is not None and gb is not None else None)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return binary(K.ADD, "add", a, b)

    @staticmethod
    def backward(ctx, g):
        return _reduce_to_inputs(ctx, g, g)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        if not (type(a) is np.ndarray and a.dtype.kind == "f"):  # the float path stays lean
            check_bool_sub(a, b)
        return binary(K.SUB, "sub", a, b)

    @staticmethod
    def backward(ctx, g):
        return _reduce_to_inputs(ctx, g, -g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        na, nb = ctx.needs_input_grad
        ctx.save_for_backward(a if nb else None, b if na else None)
        return binary(K.MUL, "mul", a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if a is not None and b is not None:
            both = _fused_backward(K.MUL, g, a, b, None)
            if both is not None:
                return both
        return _reduce_to_inputs(ctx, binary(K.MUL, "mul", g, b) if b is not None else None,
                                 binary(K.MUL, "mul", g, a) if a is not None else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = binary(K.DIV, "div", a, b, floating=True)
        ctx.save_for_backward(b, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, g):
        b, out = ctx.saved_tensors
        if out is not None and ctx.needs_input_grad[0]:
            # the fused pass reads the output, which has the broadcast shape: a broadcast
            # numerator still needs its gradient summed back to its own shape
            both = _fused_backward(K.DIV, g, out, b, out)
            if both is not None:
                return _reduce_to_inputs(ctx, *both)
        ga = binary(K.DIV, "div", g, b)  # g / b
        gb = -binary(K.MUL, "mul", ga, out) if out is not None else None  # -g a / b^2
        return _reduce_to_inputs(ctx, ga, gb)


def _negative_int_power(a, b):
    """True if a ** b is an integer power with a negative exponent (NumPy and torch raise)."""
    if result_type(a, b).kind not in "iub":
        return False
    if type(b) is np.ndarray:
        return b.size > 0 and b.dtype.kind == "i" and bool(b.min() < 0)
    return isinstance(b, (int, np.integer)) and b < 0


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        if _negative_int_power(a, b):
            raise RuntimeError("pow(): Integers to negative integer powers are not allowed.")
        ctx.save_for_backward(a, b)
        return binary(K.POW, "pow", a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = binary(K.MUL, "pow", g, binary(K.POW_GRAD_BASE, "pow", a, b)) if na else None
        gb = binary(K.MUL, "pow", g, binary(K.POW_GRAD_EXP, "pow", a, b)) if nb else None
        return _reduce_to_inputs(ctx, ga, gb)


class _Extremum(Function):
    op = name = None
    a_first = True  # maximum: mask(a, b); minimum: mask(b, a)

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return binary(cls.op, cls.name, a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        both = _fused_backward(cls.op, g, a, b, None)
        if both is not None:
            return both
        mask = binary(K.MAX_MASK, cls.name, a, b) if cls.a_first else \
            binary(K.MAX_MASK, cls.name, b, a)
        ga = binary(K.MUL, cls.name, g, mask)
        gb = binary(K.SUB, cls.name, g, ga)
        return _reduce_to_inputs(ctx, ga, gb)


class Maximum(_Extremum):
    op, name, a_first = K.MAXIMUM, "maximum", True


class Minimum(_Extremum):
    op, name, a_first = K.MINIMUM, "minimum", False


def add_op(input, other):
    """``input + other`` (operators skip the alpha keyword: per-op overhead matters)."""
    return Add.apply(input, other)


def add(input, other, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return Add.apply(input, other)


def sub(input, other, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return Sub.apply(input, other)


def sub_op(input, other):
    return Sub.apply(input, other)


def rsub(input, other):
    return Sub.apply(other, input)


def mul(input, other):
    return Mul.apply(input, other)


def div(input, other, *, rounding_mode=None):
    if rounding_mode is not None:
        from .binary_math import rounded_div
        return rounded_div(input, other, rounding_mode)
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
