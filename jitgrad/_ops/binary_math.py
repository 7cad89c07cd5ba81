"""Binary math: atan2, hypot, xlogy, lerp, and the rounding divisions and remainders
(floor_divide, remainder, fmod, div(rounding_mode=)). Float math runs as op codes of the
broadcasting binary kernels (kernels/elementwise.py); integer division and remainders are one
NumPy call each (no gradient) after PyTorch's ZeroDivisionError check.

Gradients follow PyTorch's derivatives.yaml: remainder and fmod pass the gradient to `input`
unchanged and give `other` -g * floor(a / b) (remainder) or -g * trunc(a / b) (fmod); the
rounding divisions have zero gradient.
"""
import numpy as np

from ..autograd.function import Function
from .._dtypes import result_type
from ..kernels import elementwise as K
from .._tensor import Tensor
from .broadcast import sum_to
from .binary import _reduce_to_inputs, add, binary, mul, sub


def _data(x):
    return x.data if isinstance(x, Tensor) else x


class _FloatBinary(Function):
    """Shared forward of the float-only binary ops (integer and bool inputs become float32)."""
    op = name = None

    @classmethod
    def forward(cls, ctx, a, b):
        out = binary(cls.op, cls.name, a, b, floating=True)
        ctx.save_for_backward(a, b, out)
        return out


class Atan2(_FloatBinary):
    op, name = K.ATAN2, "atan2"

    @staticmethod
    def backward(ctx, g):
        a, b, _ = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = binary(K.MUL, "atan2", g, binary(K.ATAN2_GRAD_A, "atan2", a, b)) if na else None
        gb = binary(K.MUL, "atan2", g, binary(K.ATAN2_GRAD_B, "atan2", a, b)) if nb else None
        return _reduce_to_inputs(ctx, ga, gb)


class Hypot(_FloatBinary):
    op, name = K.HYPOT, "hypot"

    @staticmethod
    def backward(ctx, g):
        a, b, y = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        q = binary(K.DIV, "hypot", g, y)  # d hypot / da = a / hypot
        return _reduce_to_inputs(ctx, binary(K.MUL, "hypot", q, a) if na else None,
                                 binary(K.MUL, "hypot", q, b) if nb else None)


class Xlogy(_FloatBinary):
    op, name = K.XLOGY, "xlogy"

    @staticmethod
    def backward(ctx, g):
        a, b, _ = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        ga = binary(K.MUL, "xlogy", g, binary(K.XLOGY_GRAD_A, "xlogy", a, b)) if na else None
        gb = binary(K.MUL, "xlogy", g, binary(K.DIV, "xlogy", a, b, floating=True)) if nb \
            else None
        return _reduce_to_inputs(ctx, ga, gb)


def atan2(input, other):
    """The angle of (other, input) in (-pi, pi], elementwise with broadcasting."""
    return Atan2.apply(input, other)


def hypot(input, other):
    """sqrt(input^2 + other^2) without intermediate overflow."""
    return Hypot.apply(input, other)


def xlogy(input, other):
    """input * log(other), 0 where input == 0 (NaN where other is NaN)."""
    return Xlogy.apply(input, other)


def lerp(input, end, weight):
    """input + weight * (end - input), as torch: end - (end - input) * (1 - weight) where
    |weight| >= 1/2 (exact at weight 1); differentiable in all three (float tensors)."""
    for name, x in (("input", input), ("end", end)):
        if not isinstance(x, Tensor) or x.data.dtype.kind != "f":
            raise TypeError(f"lerp(): argument '{name}' expected a floating-point tensor, got "
                            f"{x.dtype if isinstance(x, Tensor) else type(x).__name__}")
    diff = sub(end, input)
    if not isinstance(weight, Tensor):
        w = float(weight)
        return add(input, mul(diff, w)) if abs(w) < 0.5 else sub(end, mul(diff, 1.0 - w))
    from .select import where
    from .unary import abs as abs_
    return where(abs_(weight) < 0.5, add(input, mul(weight, diff)),
                 sub(end, mul(diff, sub(1.0, weight))))


# ------------------------------------------------------------------ divisions and remainders
_KIND = {K.FLOOR_DIV: ("floor_divide", "div_floor"), K.TRUNC_DIV: ("div", "div_trunc"),
         K.REMAINDER: ("remainder", "remainder"), K.FMOD: ("fmod", "fmod")}


def _integer_result(op, a, b, dtype):
    """a (op) b for integer operands of result `dtype` (NumPy; torch's ZeroDivisionError)."""
    a = np.asarray(a).astype(dtype, copy=False)
    b = np.asarray(b).astype(dtype, copy=False)
    if np.any(b == 0):
        raise RuntimeError("ZeroDivisionError")
    if op == K.FLOOR_DIV:
        return np.floor_divide(a, b)
    if op == K.REMAINDER:
        return np.remainder(a, b)
    r = np.fmod(a, b)
    return r if op == K.FMOD else (a - r) // b


def _unbroadcast(ctx, ga, gb):
    ma, mb = ctx.in_meta[:2]
    return (sum_to(ga, ma[0]) if ma is not None and ga is not None else None,
            sum_to(gb, mb[0]) if mb is not None and gb is not None else None)


class _Rounded(Function):
    """a (op) b for op in FLOOR_DIV, TRUNC_DIV, REMAINDER, FMOD."""

    @staticmethod
    def forward(ctx, a, b, op):
        dtype = result_type(a, b)
        ctx.op = op
        if dtype.kind == "b":
            raise NotImplementedError(f'"{_KIND[op][1]}_cpu" not implemented for \'Bool\'')
        if dtype.kind != "f":
            out = _integer_result(op, a, b, dtype)
            ctx.mark_non_differentiable(out)
            return out
        needs_b = ctx.needs_input_grad[1] and op in (K.REMAINDER, K.FMOD)
        ctx.save_for_backward(a if needs_b else None, b if needs_b else None)
        return binary(op, _KIND[op][0], a, b)

    @staticmethod
    def backward(ctx, g):
        op = ctx.op
        na, nb = ctx.needs_input_grad[:2]
        if op in (K.FLOOR_DIV, K.TRUNC_DIV):
            z = np.zeros(g.shape, g.dtype)
            return (*_unbroadcast(ctx, z if na else None, z if nb else None), None)
        a, b = ctx.saved_tensors
        gb = None
        if nb:
            q = binary(K.FLOOR_DIV if op == K.REMAINDER else K.TRUNC_DIV, "remainder", a, b)
            gb = binary(K.MUL, "remainder", g, q)
            gb = -gb
        return (*_unbroadcast(ctx, g if na else None, gb), None)

    @classmethod
    def name_of(cls, ctx):
        return _KIND[ctx.op][0]


def floor_divide(input, other):
    """floor(input / other) (Python's //); integer tensors stay integer (ZeroDivisionError on
    an integer zero divisor). Gradient 0."""
    return _Rounded.apply(input, other, K.FLOOR_DIV)


def remainder(input, other):
    """input - floor(input / other) * other: the sign of `other` (Python's %)."""
    return _Rounded.apply(input, other, K.REMAINDER)


def fmod(input, other):
    """input - trunc(input / other) * other: the sign of `input` (C's fmod)."""
    return _Rounded.apply(input, other, K.FMOD)


def rounded_div(input, other, rounding_mode):
    """div(input, other, rounding_mode=...) for rounding_mode 'trunc' or 'floor'."""
    if rounding_mode == "floor":
        return _Rounded.apply(input, other, K.FLOOR_DIV)
    if rounding_mode == "trunc":
        return _Rounded.apply(input, other, K.TRUNC_DIV)
    raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                     f"found {rounding_mode!r}")


def rfloordiv(input, other):
    return _Rounded.apply(other, input, K.FLOOR_DIV)


def rremainder(input, other):
    return _Rounded.apply(other, input, K.REMAINDER)

