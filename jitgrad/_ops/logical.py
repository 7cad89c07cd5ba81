"""Bitwise and logical ops, and the bool arithmetic PyTorch refuses.

These have no gradient and nothing to fuse, so each is one NumPy call after PyTorch's type
rules: bitwise ops take integer and bool tensors (result type by PyTorch promotion; floats
raise as torch does), shifts past the bit width give 0 (left) or the sign (right) as torch;
logical ops take any dtype and give bool.
"""
import numpy as np

from .._dtypes import result_type
from .._tensor import Tensor, _make

_TYPE_NAMES = {"f": "Float", "b": "Bool"}


def _data(x, op, arg):
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return x
    raise TypeError(f"{op}(): argument '{arg}' expected a Tensor or a number, got "
                    f"{type(x).__name__}")


def _operands(op, kernel_name, input, other, allow_bool=True):
    a, b = _data(input, op, "input"), _data(other, op, "other")
    dtype = result_type(a, b)
    if dtype.kind == "f" or (dtype.kind == "b" and not allow_bool):
        name = "Float" if dtype.kind == "f" else "Bool"
        if dtype.kind == "f" and dtype.itemsize == 8:
            name = "Double"
        raise NotImplementedError(f'"{kernel_name}_cpu" not implemented for \'{name}\'')
    return np.asarray(a).astype(dtype, copy=False), np.asarray(b).astype(dtype, copy=False)


def _result(x):
    return _make(np.asarray(x), False, None, 0)


def _bitwise(op, ufunc):
    def fn(input, other):
        a, b = _operands(op, op, input, other)
        return _result(ufunc(a, b))
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"torch.{op}: integer and bool tensors (no gradient)."
    return fn


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)


def bitwise_not(input):
    """~input for integer and bool tensors."""
    d = input.data.dtype
    if d.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return _result(np.invert(input.data))


def _shift(op, kernel_name, left):
    def fn(input, other):
        a, b = _operands(op, kernel_name, input, other, allow_bool=False)
        bits = a.dtype.itemsize * 8
        out_of_range = (b < 0) | (b >= bits)
        s = np.where(out_of_range, bits - 1, b).astype(a.dtype, copy=False)
        if left:  # shifted past the width: 0, as torch
            out = np.where(out_of_range, a.dtype.type(0), np.left_shift(a, s))
        else:  # an arithmetic shift past the width (or by < 0) leaves the sign: 0 or -1
            out = np.right_shift(a, s)
        return _result(out.astype(a.dtype, copy=False))
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"torch.{op}: integer tensors (no gradient)."
    return fn


bitwise_left_shift = _shift("bitwise_left_shift", "lshift", True)
bitwise_right_shift = _shift("bitwise_right_shift", "rshift", False)


def _logical(op, ufunc):
    def fn(input, other):
        a, b = _data(input, op, "input"), _data(other, op, "other")
        return _result(ufunc(np.asarray(a) != 0, np.asarray(b) != 0))
    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"torch.{op}: nonzero elements are true; any dtype, bool result."
    return fn


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


def logical_not(input):
    """True where input is zero; any dtype, bool result."""
    return _result(input.data == 0)


def _reflected(fn):
    def r(input, other):
        return fn(other, input)
    r.__name__ = r.__qualname__ = "r" + fn.__name__
    return r


rbitwise_and, rbitwise_or, rbitwise_xor, rbitwise_left_shift, rbitwise_right_shift = (
    _reflected(f) for f in (bitwise_and, bitwise_or, bitwise_xor, bitwise_left_shift,
                            bitwise_right_shift))


def check_bool_sub(a, b):
    """PyTorch refuses subtraction with a bool operand (arrays or Python bools)."""
    ba = isinstance(a, (bool, np.bool_)) or (type(a) is np.ndarray and a.dtype.kind == "b")
    bb = isinstance(b, (bool, np.bool_)) or (type(b) is np.ndarray and b.dtype.kind == "b")
    if ba and bb:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if ba or bb:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


def check_bool_neg(a):
    if a.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
