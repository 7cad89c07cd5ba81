"""Distances: normalize, cosine_similarity, pairwise_distance (PyTorch's names, arguments and
defaults). Each composes differentiable ops (norm, clamp, sub, div, sum), exactly as PyTorch
builds them (torch.nn.functional.normalize, ATen's Distance.cpp), so values, gradients and
edge conventions (eps placement, which clamp passes a gradient) are PyTorch's.
"""
import numpy as np

from ... import _check
from ..._ops.binary import add, div, mul, sub
from ..._ops.reduce import norm, sum as _sum
from ..._ops.shape import broadcast_to
from ..._ops.unary import clamp
from ..._tensor import Tensor

__all__ = ["normalize", "cosine_similarity", "pairwise_distance"]


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps); the clamp passes no gradient where it binds."""
    _check.tensor("normalize", "input", input)
    if out is not None:
        raise TypeError("normalize(): argument 'out' is not supported (autograd needs a new "
                        "tensor); use the returned tensor")
    return div(input, clamp(norm(input, p, dim, keepdim=True), min=eps))


def _floating_pair(name, x1, x2):
    _check.tensor(name, "x1", x1)
    _check.tensor(name, "x2", x2)
    for arg, x in (("x1", x1), ("x2", x2)):
        if x.data.dtype.kind != "f":
            raise TypeError(f"{name}(): argument '{arg}' expected a floating-point tensor "
                            f"(float32 or float64), got dtype {x.data.dtype}")
    _check.same_dtype(name, ("x1", "x2"), (x1.data, x2.data))


def _clamped_norm(x, dim, eps):
    """||x||_2 along dim (kept), raised to eps where smaller, with the gradient of the unclamped
    norm (ATen clamps the norm in place under no_grad)."""
    n = norm(x, 2, dim, keepdim=True)
    return add(n, Tensor(np.maximum(n.data, eps) - n.data))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim, after broadcasting."""
    _floating_pair("cosine_similarity", x1, x2)
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"cosine_similarity(): the shapes of x1 {tuple(x1.shape)} and x2 "
                         f"{tuple(x2.shape)} are not broadcastable") from None
    d = _check.wrap_dim("cosine_similarity", dim, len(shape))
    if x1.shape != shape:
        x1 = broadcast_to(x1, shape)
    if x2.shape != shape:
        x2 = broadcast_to(x2, shape)
    return _sum(mul(div(x1, _clamped_norm(x1, d, eps)), div(x2, _clamped_norm(x2, d, eps))), d)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim of the broadcast shape."""
    _floating_pair("pairwise_distance", x1, x2)
    last = max(x1.ndim, x2.ndim) - 1
    return norm(add(sub(x1, x2), eps), p, last, keepdim=keepdim)
