"""More unary math (tan ... erfinv, rounding, reciprocal, square, nan_to_num): new op codes of
the one Unary Function (jitgrad/_ops/unary.py), so every op here is one kernel call each way.

Integer inputs follow PyTorch: transcendental ops compute in float32; floor, ceil, round,
trunc, square and sgn keep an integer tensor's dtype (no gradient); frac and round(decimals=)
refuse integers, rounding ops refuse bool.
"""
import numpy as np

from .. import _check
from ..kernels import elementwise as K
from .._tensor import _make
from .unary import _SPEC, Unary, sign

# op code -> (name, backward needs x, backward needs y)
_SPEC.update({
    K.TAN: ("tan", False, True), K.SINH: ("sinh", True, False), K.COSH: ("cosh", True, False),
    K.ASIN: ("asin", True, False), K.ACOS: ("acos", True, False), K.ATAN: ("atan", True, False),
    K.ASINH: ("asinh", True, False), K.ACOSH: ("acosh", True, False),
    K.ATANH: ("atanh", True, False), K.LOG2: ("log2", True, False),
    K.LOG10: ("log10", True, False), K.EXP2: ("exp2", False, True),
    K.EXPM1: ("expm1", False, True), K.ERF: ("erf", True, False), K.ERFC: ("erfc", True, False),
    K.ERFINV: ("erfinv", False, True), K.FLOOR: ("floor", False, False),
    K.CEIL: ("ceil", False, False), K.ROUND: ("round", False, False),
    K.TRUNC: ("trunc", False, False), K.FRAC: ("frac", False, False),
    K.RECIPROCAL: ("reciprocal", False, True), K.SQUARE: ("square", True, False),
    K.NAN_TO_NUM: ("nan_to_num", True, False),
})


def _unary(op):
    name = _SPEC[op][0]

    def fn(input):
        return Unary.apply(input, op, 0.0, 0.0)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}: elementwise, differentiable (float32 for integer inputs)."
    return fn


tan, sinh, cosh, asin, acos, atan, asinh, acosh, atanh, log2, log10, exp2, expm1, erf, erfc, \
    erfinv, reciprocal = (_unary(op) for op in (
        K.TAN, K.SINH, K.COSH, K.ASIN, K.ACOS, K.ATAN, K.ASINH, K.ACOSH, K.ATANH, K.LOG2,
        K.LOG10, K.EXP2, K.EXPM1, K.ERF, K.ERFC, K.ERFINV, K.RECIPROCAL))


def _not_implemented(name, dtype):
    kind = {"b": "Bool", "i": "Long" if dtype.itemsize == 8 else "Int", "u": "Byte"}[dtype.kind]
    return NotImplementedError(f'{name}(): not implemented for {kind} tensors (dtype {dtype})')


def _rounding(op, p0=0.0):
    name = _SPEC[op][0]

    def fn(input):
        d = input.data.dtype
        if d.kind == "b":
            raise _not_implemented(name, d)
        if d.kind != "f":  # integers are already whole: a copy, as torch
            return _make(input.data.copy(), False, None, 0)
        return Unary.apply(input, op, p0, 0.0)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}: elementwise; gradient 0; integer tensors are returned as a copy."
    return fn


floor, ceil, trunc = _rounding(K.FLOOR), _rounding(K.CEIL), _rounding(K.TRUNC)
_round_whole = _rounding(K.ROUND, 1.0)  # p0 = 10**0


def round(input, *, decimals=0):
    """Round half to even, at ``decimals`` decimal places (negative: to tens, hundreds...)."""
    decimals = _check.integer("round", "decimals", decimals)
    d = input.data.dtype
    if decimals == 0:
        return _round_whole(input)
    if d.kind != "f":
        raise _not_implemented("round", d)
    return Unary.apply(input, K.ROUND, 10.0 ** abs(decimals), 1.0 if decimals < 0 else 0.0)


def frac(input):
    """x - trunc(x) (sign of x), gradient 1."""
    if input.data.dtype.kind != "f":
        raise _not_implemented("frac", input.data.dtype)
    return Unary.apply(input, K.FRAC, 0.0, 0.0)


def square(input):
    """input * input; integer and bool tensors give int64 (bool) / their own dtype, as torch."""
    d = input.data.dtype
    if d.kind == "b":
        return _make(input.data.astype(np.int64), False, None, 0)
    if d.kind != "f":
        return _make(input.data * input.data, False, None, 0)
    return Unary.apply(input, K.SQUARE, 0.0, 0.0)


def sgn(input):
    """sign for real tensors (PyTorch's complex generalisation: there are no complex tensors)."""
    if input.data.dtype.kind == "b":
        return _make(input.data.copy(), False, None, 0)
    return sign(input)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf, -inf -> neginf (defaults: 0 and the dtype's largest finite
    values); the gradient passes where input is finite. Integer tensors are returned as a copy."""
    d = input.data.dtype
    if d.kind != "f":
        return _make(input.data.copy(), False, None, 0)
    big = float(np.finfo(d).max)
    posinf = big if posinf is None else float(posinf)
    neginf = -big if neginf is None else float(neginf)
    return NanToNum.apply(input, float(nan), posinf, neginf)


class NanToNum(Unary):
    """Unary NAN_TO_NUM (NaN, +inf) followed by NEGINF_TO (-inf) on the same output."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        y = Unary.forward(ctx, x, K.NAN_TO_NUM, nan, posinf)
        # a NaN or +inf replaced by -inf must stay -inf: then -inf is replaced first, from x
        if nan == -np.inf or posinf == -np.inf:
            z = np.empty(y.shape, y.dtype)
            K.unary_forward(K.NEGINF_TO, ctx.saved_tensors[0].ravel(), z.ravel(), neginf, 0.0)
            K.unary_forward(K.NAN_TO_NUM, z.ravel(), y.ravel(), nan, posinf)
        else:
            K.unary_forward(K.NEGINF_TO, y.ravel(), y.ravel(), neginf, 0.0)
        return y
