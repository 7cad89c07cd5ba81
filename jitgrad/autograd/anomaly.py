"""Anomaly mode: find the op that first made a NaN (forward) or a NaN/Inf gradient (backward).

``with jitgrad.autograd.detect_anomaly():`` (also a decorator) or
``jitgrad.autograd.set_detect_anomaly(True)`` (also a context manager) switches it on for the
whole process, as in PyTorch. While it is on:
- every op records where the user created it: the innermost stack frame outside the jitgrad
  package (file, line, function), kept on the graph node;
- an op whose forward output holds a NaN raises RuntimeError naming the op and that place
  (an infinite forward value, such as a ``-inf`` attention mask, is legitimate);
- a backward step that returns a NaN or infinite gradient raises RuntimeError naming the op,
  the input slot and where the op was created.

Off, the only cost is one module-attribute read per op and per backward node, and no stack
is recorded: a 4-element ``x * y`` took 7.9 us with the check and 8.0 us without (medians of 4
interleaved processes on a shared 2-core machine, i.e. within noise); on, 14.4 us.
"""
import functools
import os
import sys

import numpy as np

from .._tensor import Tensor
from . import product_sum

enabled = False

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def is_anomaly_enabled():
    return enabled


def _set(mode):
    global enabled
    enabled = bool(mode)


class set_detect_anomaly:
    """``set_detect_anomaly(mode)``: set anomaly mode now; as a context manager, restore the
    previous mode on exit (torch.autograd.set_detect_anomaly)."""

    def __init__(self, mode, check_nan=True):
        self.prev = enabled
        _set(mode and check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(self.prev)
        return False


class detect_anomaly:
    """Context manager / decorator turning anomaly mode on inside its block."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = enabled
        _set(self.check_nan)
        return self

    def __exit__(self, *exc):
        _set(self.prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


def _user_site():
    """'file:line in function' of the innermost frame outside the jitgrad package."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE):
        f = f.f_back
    if f is None:
        return "<inside jitgrad>"
    return f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}"


def _op_name(ctx):
    name = ctx.name()
    return name[:-len("Backward")] if name.endswith("Backward") else name


def check_forward(ctx, out):
    """Record where ctx's op was created; raise if a floating output holds a NaN."""
    site = ctx._anomaly_site = _user_site()
    outs = out if type(out) is tuple else (out,)
    for i, o in enumerate(outs):
        if isinstance(o, np.ndarray) and o.dtype.kind == "f" and np.isnan(o).any():
            raise RuntimeError(f"anomaly mode: the forward of {_op_name(ctx)} produced NaN in "
                               f"its output {i} (shape {o.shape}); the op was created at "
                               f"{site}")


def check_backward(node, grads):
    """Raise if the backward of `node` returned a NaN or infinite gradient."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        a = g.data if isinstance(g, Tensor) else np.asarray(product_sum.dense(g))
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            what = "nan" if np.isnan(a).any() else "inf"
            site = getattr(node, "_anomaly_site", "<unknown: created before anomaly mode was on>")
            raise RuntimeError(f"anomaly mode: Function '{node.name()}' returned {what} values "
                               f"in its {i}th output (the gradient of input {i}); the op was "
                               f"created at {site}")
