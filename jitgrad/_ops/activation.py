"""Pointwise activations: one op-coded Function over kernels.activation.

``jitgrad.relu`` / ``sigmoid`` / ``tanh``, the Tensor methods of those names and
``jitgrad.nn.functional``'s activations are all this one Function (nn.functional re-exports
these three), so every path runs the same kernel and gives bitwise the same result.
"""
import numpy as np

from .. import _check
from .._tensor import Tensor, _make
from ..autograd.function import Function
from ..kernels import activation as K
from .basic import cast
from .util import contiguous

__all__ = ["relu", "sigmoid", "tanh"]

# op code -> (name, backward reads y = op(x) instead of x)
SPEC = {
    K.RELU: ("relu", False), K.RELU6: ("relu6", False), K.LEAKY_RELU: ("leaky_relu", False),
    K.ELU: ("elu", False), K.GELU: ("gelu", False), K.GELU_TANH: ("gelu", False),
    K.SILU: ("silu", False), K.MISH: ("mish", False), K.SOFTPLUS: ("softplus", False),
    K.SIGMOID: ("sigmoid", True), K.TANH: ("tanh", True), K.HARDTANH: ("hardtanh", False),
    K.HARDSWISH: ("hardswish", False), K.HARDSIGMOID: ("hardsigmoid", False),
    K.SOFTSIGN: ("softsign", False), K.TANHSHRINK: ("tanhshrink", False),
    K.THRESHOLD: ("threshold", False), K.CELU: ("celu", False),
    K.LOGSIGMOID: ("logsigmoid", False),
}


class Activation(Function):
    """y = op(x; p0, p1) for an op code of kernels.activation."""

    @staticmethod
    def forward(ctx, x, op, p0, p1):
        name, from_y = SPEC[op]
        x = _check.float_array(name, "input", x)
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
        return SPEC[ctx.op][0]


def _floating(name, input):
    """Integer and bool tensors promote to float32, as torch.sigmoid / torch.tanh do."""
    _check.tensor(name, "input", input)
    return input if input.data.dtype.kind == "f" else cast(input, np.dtype(np.float32))


def relu(input, inplace=False):
    """max(input, 0); integer tensors stay integer (no gradient), as torch.relu."""
    _check.tensor("relu", "input", input)
    if input.data.dtype.kind in "iu":
        return _make(np.maximum(input.data, 0).astype(input.data.dtype), False, None, 0)
    return Activation.apply(input, K.RELU, 0.0, 0.0)


def sigmoid(input):
    """1 / (1 + exp(-input))."""
    return Activation.apply(_floating("sigmoid", input), K.SIGMOID, 0.0, 0.0)


def tanh(input):
    """tanh(input)."""
    return Activation.apply(_floating("tanh", input), K.TANH, 0.0, 0.0)
