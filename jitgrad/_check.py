"""The one argument-check vocabulary of every op, functional and module.

Every message has one form, naming the op, the argument, what was expected and what came:
``op(): argument 'x' expected ..., got ...``. Checks run in Python before any kernel, so a
failed call changes nothing. ``dim`` wrapping keeps PyTorch's wording ("Dimension out of
range"), which ported code matches on.
"""
import numpy as np

from ._tensor import Tensor


class ShapeError(RuntimeError, ValueError):
    """A shape mismatch (broadcasting, matmul, reshape/view, expand, cat/stack, an in-place
    op's output): PyTorch raises RuntimeError for these, jitgrad raised ValueError; this class
    is both, so ``except RuntimeError`` (ported code) and ``except ValueError`` both catch it."""


def _what(x):
    if isinstance(x, (Tensor, np.ndarray)):
        return f"a tensor of dtype {x.dtype} and shape {tuple(x.shape)}"
    return type(x).__name__


def tensor(op, name, x):
    """x, which must be a Tensor."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' expected a Tensor, got {_what(x)}")
    return x


def array(op, name, x):
    """x (the array behind a Tensor, inside Function.forward), which must be an ndarray."""
    if type(x) is not np.ndarray:
        raise TypeError(f"{op}(): argument '{name}' expected a Tensor, got {_what(x)}")
    return x


def float_array(op, name, x):
    """x as a C-contiguous float32/float64 ndarray (copied only if not C-contiguous)."""
    array(op, name, x)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}(): argument '{name}' expected a floating-point tensor (float32 "
                        f"or float64), got dtype {x.dtype}")
    return x if x.flags.c_contiguous else x.copy(order="C")


def index_array(op, name, x):
    """x as a C-contiguous int64 ndarray of indices (int32/int64 accepted)."""
    if type(x) is not np.ndarray or x.dtype.kind not in "iu":
        raise TypeError(f"{op}(): argument '{name}' expected an integer (int64 or int32) "
                        f"tensor, got {_what(x)}")
    x = x.astype(np.int64, copy=False)
    return x if x.flags.c_contiguous else x.copy(order="C")


def same_dtype(op, names, arrays):
    """All `arrays` (None entries skipped) share the first one's dtype."""
    ref = None
    for name, a in zip(names, arrays):
        if a is None:
            continue
        if ref is None:
            ref = (name, a.dtype)
        elif a.dtype != ref[1]:
            raise TypeError(f"{op}(): argument '{name}' expected dtype {ref[1]} (the dtype of "
                            f"'{ref[0]}'), got {a.dtype}")


def shape(op, name, x, expected):
    """x.shape must equal `expected` (a tuple; None entries match any size)."""
    got = x.shape
    if got == expected:
        return
    if len(got) == len(expected):
        for e, g in zip(expected, got):
            if e is not None and e != g:
                break
        else:
            return
    want = "(" + ", ".join("*" if e is None else str(e) for e in expected) + \
           ("," if len(expected) == 1 else "") + ")"
    raise ValueError(f"{op}(): argument '{name}' expected shape {want}, got {tuple(got)}")


def ndim(op, name, x, allowed):
    """x.ndim must be one of `allowed` (an int or a tuple of ints)."""
    allowed = (allowed,) if isinstance(allowed, int) else tuple(allowed)
    if x.ndim not in allowed:
        want = " or ".join(f"{n}-D" for n in allowed)
        raise ValueError(f"{op}(): argument '{name}' expected a {want} tensor, got a "
                         f"{x.ndim}-D tensor of shape {tuple(x.shape)}")


def integer(op, name, v, minimum=None):
    """v as a Python int (bools refused), at least `minimum` if given."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{op}(): argument '{name}' expected an int, got {type(v).__name__}")
    v = int(v)
    if minimum is not None and v < minimum:
        raise ValueError(f"{op}(): argument '{name}' expected an int >= {minimum}, got {v}")
    return v


def index_in_range(op, name, i, n):
    """i (an int in [-n, n)) wrapped to [0, n)."""
    i = integer(op, name, i)
    if not -n <= i < n:
        raise ValueError(f"{op}(): argument '{name}' expected an int in [{-n}, {n}), got {i}")
    return i % n


def wrap_dim(op, dim, ndim, name="dim"):
    """dim as a non-negative axis of an ndim-d tensor (a 0-d tensor accepts -1 and 0)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}(): argument '{name}' expected an int, got {type(dim).__name__}")
    span = max(ndim, 1)
    if not -span <= dim < span:
        raise IndexError(f"{op}(): Dimension out of range (expected to be in range of "
                         f"[{-span}, {span - 1}], but got {dim})")
    return int(dim) % span
