"""Predicates: isnan, isinf, isposinf, isneginf, isfinite, isclose (bool tensors), allclose and
equal (Python bools). No gradient, nothing to fuse: one NumPy call each, as the comparisons."""
import numpy as np

from .. import _check
from .._tensor import _make


def _bool(x):
    return _make(np.asarray(x), False, None, 0)


def isnan(input):
    return _bool(np.isnan(_check.tensor("isnan", "input", input).data))


def isinf(input):
    return _bool(np.isinf(_check.tensor("isinf", "input", input).data))


def isposinf(input):
    return _bool(np.isposinf(_check.tensor("isposinf", "input", input).data))


def isneginf(input):
    return _bool(np.isneginf(_check.tensor("isneginf", "input", input).data))


def isfinite(input):
    return _bool(np.isfinite(_check.tensor("isfinite", "input", input).data))


def _close_operands(op, input, other):
    a = _check.tensor(op, "input", input).data
    b = _check.tensor(op, "other", other).data
    if a.dtype != b.dtype:
        raise RuntimeError(f"{op}(): {_dtype_name(a.dtype)} did not match "
                           f"{_dtype_name(b.dtype)} (argument 'other' expected dtype "
                           f"{a.dtype}, got {b.dtype})")
    return a, b


def _dtype_name(d):
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
            "uint8": "Byte", "bool": "Bool"}.get(d.name, d.name)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise (infinities equal to themselves)."""
    a, b = _close_operands("isclose", input, other)
    return _bool(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if isclose holds everywhere (a Python bool)."""
    a, b = _close_operands("allclose", input, other)
    return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other):
    """True if both have the same shape and the same values (a Python bool; NaN != NaN)."""
    a = _check.tensor("equal", "input", input).data
    b = _check.tensor("equal", "other", other).data
    return a.shape == b.shape and bool(np.array_equal(a, b))
