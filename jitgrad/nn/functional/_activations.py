"""Activation functions: the pointwise Function of jitgrad._ops.activation (relu, sigmoid and
tanh are jitgrad's own, re-exported) and one softmax Function.

Every forward and backward is one kernel call (kernels.activation); the public functions carry
PyTorch's names, arguments and defaults. ``inplace`` is accepted for compatibility, but the
result is always a new tensor (the input is left unchanged, which autograd needs anyway).
"""
import warnings

import numpy as np

from ... import _check
from ..._ops.activation import Activation, relu, sigmoid, tanh  # noqa: F401  (one Function)
from ..._ops.util import contiguous
from ...autograd.function import Function
from ...kernels import activation as K

__all__ = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "mish", "softplus",
           "sigmoid", "tanh", "hardtanh", "softmax", "log_softmax"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


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
        x = _check.float_array(name, "input", x)
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
    d = _check.wrap_dim(name, dim, nd)
    if nd == 0:
        return 1, 1, 1
    return int(np.prod(shape[:d])), shape[d], int(np.prod(shape[d + 1:]))


def _softmax_dim(name, ndim):
    """PyTorch's legacy implicit dim (with its deprecation warning)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax(name, input, dim, dtype, log):
    _check.tensor(name, "input", input)
    if dim is None:
        dim = _softmax_dim(name, input.ndim)
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, dim, log)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax("softmax", input, dim, dtype, 0)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax("log_softmax", input, dim, dtype, 1)
