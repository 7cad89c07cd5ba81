"""Activation functions: one op-coded pointwise Function and one softmax Function.

Every forward and backward is one kernel call (kernels.activation); the public functions carry
PyTorch's names, arguments and defaults. ``inplace`` is accepted for compatibility, but the
result is always a new tensor (the input is left unchanged, which autograd needs anyway).
"""
import warnings

import numpy as np

from ...autograd.function import Function
from ...kernels import activation as K
from ..._ops.util import contiguous
from ..._tensor import Tensor

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "mish", "softplus",
           "sigmoid", "tanh", "hardtanh", "softmax", "log_softmax"]

# op code -> (name, backward reads y = op(x) instead of x)
_SPEC = {
    K.RELU: ("relu", False), K.RELU6: ("relu6", False), K.LEAKY_RELU: ("leaky_relu", False),
    K.ELU: ("elu", False), K.GELU: ("gelu", False), K.GELU_TANH: ("gelu", False),
    K.SILU: ("silu", False), K.MISH: ("mish", False), K.SOFTPLUS: ("softplus", False),
    K.SIGMOID: ("sigmoid", True), K.TANH: ("tanh", True), K.HARDTANH: ("hardtanh", False),
}
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _float_array(name, x):
    if type(x) is not np.ndarray:
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}(): expected a floating-point input (float32 or float64), "
                        f"got {x.dtype}")
    return contiguous(x)


class Activation(Function):
    """y = op(x; p0, p1) for an op code of kernels.activation."""

    @staticmethod
    def forward(ctx, x, op, p0, p1):
        name, from_y = _SPEC[op]
        x = _float_array(name, x)
        y = np.empty(x.shape, x.dtype)
        K.act_forward(op, x.reshape(-1), y.reshape(-1), p0, p1)
        ctx.op, ctx.p0, ctx.p1 = op, p0, p1
        ctx.save_for_backward(y if from_y else x)
        return y

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        g = contiguous(g)
        gx = np.empty(g.shape, g.dtype)
        flat = s.reshape(-1)
        K.act_backward(ctx.op, flat, flat, g.reshape(-1), gx.reshape(-1), ctx.p0, ctx.p1)
        return gx, None, None, None

    @staticmethod
    def name_of(ctx):
        return _SPEC[ctx.op][0]


def relu(input, inplace=False):
    return Activation.apply(input, K.RELU, 0.0, 0.0)


def relu6(input, inplace=False):
    return Activation.apply(input, K.RELU6, 0.0, 6.0)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return Activation.apply(input, K.LEAKY_RELU, float(negative_slope), 0.0)


def elu(input, alpha=1.0, inplace=False):
    return Activation.apply(input, K.ELU, float(alpha), 1.0)


def selu(input, inplace=False):
    return Activation.apply(input, K.ELU, _SELU_ALPHA * _SELU_SCALE, _SELU_SCALE)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")
    return Activation.apply(input, K.GELU if approximate == "none" else K.GELU_TANH, 0.0, 0.0)


def silu(input, inplace=False):
    return Activation.apply(input, K.SILU, 0.0, 0.0)


def mish(input, inplace=False):
    return Activation.apply(input, K.MISH, 0.0, 0.0)


def softplus(input, beta=1.0, threshold=20.0):
    return Activation.apply(input, K.SOFTPLUS, float(beta), float(threshold))


def sigmoid(input):
    return Activation.apply(input, K.SIGMOID, 0.0, 0.0)


def tanh(input):
    return Activation.apply(input, K.TANH, 0.0, 0.0)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError(f"hardtanh(): min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return Activation.apply(input, K.HARDTANH, float(min_val), float(max_val))


# ----------------------------------------------------------------------------- softmax
class Softmax(Function):
    """y = softmax(x) or log_softmax(x) along one axis (log = 1), one row kernel each way."""

    @staticmethod
    def forward(ctx, x, dim, log):
        name = "log_softmax" if log else "softmax"
        x = _float_array(name, x)
        outer, n, inner = _split(name, x.shape, dim)
        y = np.empty(x.shape, x.dtype)
        K.softmax_forward(x.reshape(-1), y.reshape(-1), outer, n, inner, log)
        ctx.log, ctx.split = log, (outer, n, inner)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        g = contiguous(g)
        gx = np.empty(g.shape, g.dtype)
        K.softmax_backward(y.reshape(-1), g.reshape(-1), gx.reshape(-1), *ctx.split, ctx.log)
        return gx, None, None

    @staticmethod
    def name_of(ctx):
        return "logSoftmax" if ctx.log else "softmax"


def _split(name, shape, dim):
    """(outer, n, inner) sizes around axis `dim` (a 0-d input is one row of length 1)."""
    nd = len(shape)
    span = max(nd, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    if not -span <= dim < span:
        raise IndexError(f"{name}(): Dimension out of range (expected to be in range of "
                         f"[{-span}, {span - 1}], but got {dim})")
    if nd == 0:
        return 1, 1, 1
    d = int(dim) % nd
    return int(np.prod(shape[:d])), shape[d], int(np.prod(shape[d + 1:]))


def _softmax_dim(name, ndim):
    """PyTorch's legacy implicit dim (with its deprecation warning)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax(name, input, dim, dtype, log):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if dim is None:
        dim = _softmax_dim(name, input.ndim)
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, dim, log)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax("softmax", input, dim, dtype, 0)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax("log_softmax", input, dim, dtype, 1)
