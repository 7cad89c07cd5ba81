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
from ..._ops.join import chunk as _chunk
from ..._ops.select import where as _where
from ..._ops.shape import reshape as _reshape
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


# ----------------------------------------------------------------------------- more pointwise
# op codes of the same kernel pair (kernels.activation); softmin, glu and prelu compose ops
__all__ += ["hardswish", "hardsigmoid", "softsign", "tanhshrink", "threshold", "celu",
            "logsigmoid", "softmin", "glu", "prelu"]


def _float_tensor(name, arg, x):
    _check.tensor(name, arg, x)
    _check.float_array(name, arg, x.data)


def hardswish(input, inplace=False):
    return Activation.apply(input, K.HARDSWISH, 0.0, 0.0)


def hardsigmoid(input, inplace=False):
    return Activation.apply(input, K.HARDSIGMOID, 0.0, 0.0)


def softsign(input):
    return Activation.apply(input, K.SOFTSIGN, 0.0, 0.0)


def tanhshrink(input):
    return Activation.apply(input, K.TANHSHRINK, 0.0, 0.0)


def threshold(input, threshold, value, inplace=False):
    """value where input <= threshold, else input (NaN passes through, as torch)."""
    return Activation.apply(input, K.THRESHOLD, float(threshold), float(value))


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise ValueError("celu(): argument 'alpha' expected a non-zero number (ZeroDivisionError: "
                         "alpha cannot be 0 for CELU), got 0")
    return Activation.apply(input, K.CELU, float(alpha), 0.0)


def logsigmoid(input):
    return Activation.apply(input, K.LOGSIGMOID, 0.0, 0.0)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input): composed (one negation, then the softmax kernel), as torch does."""
    _check.tensor("softmin", "input", input)
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(-input, dim, 0)


def glu(input, dim=-1):
    """a * sigmoid(b), where a, b are the two halves of input along dim (composed: two slices,
    the sigmoid kernel and one product)."""
    _float_tensor("glu", "input", input)
    if input.ndim == 0:
        raise ValueError("glu(): argument 'input' expected at least 1 dimension (glu does not "
                         "support scalars because halving size must be even), got a 0-d tensor")
    d = _check.wrap_dim("glu", dim, input.ndim)
    n = input.shape[d]
    if n % 2:
        raise ValueError(f"glu(): Halving dimension must be even, but dimension {d} is size {n}")
    a, b = _chunk(input, 2, d)
    return a * sigmoid(b)


def prelu(input, weight):
    """input where input > 0, else weight * input; weight has 1 or C = input.shape[1] entries
    (channel dim 1; inputs of fewer than 2 dims have one channel). Composed: where + product,
    so the gradient at 0 takes the negative branch (weight), as torch."""
    _float_tensor("prelu", "input", input)
    _float_tensor("prelu", "weight", weight)
    if weight.ndim > 1:
        raise ValueError(f"prelu(): argument 'weight' expected a scalar or 1-D tensor, got "
                         f"ndim = {weight.ndim}")
    k = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if k != 1 and k != channels:
        raise ValueError(f"prelu(): Mismatch of parameter numbers and input channel size. Found "
                         f"parameter numbers = {k} and channel size = {channels}.")
    if k == 1:
        w = _reshape(weight, ())
    else:
        w = _reshape(weight, (k,) + (1,) * (input.ndim - 2))
    return _where(input > 0, input, w * input)
