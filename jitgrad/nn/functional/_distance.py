"""Distances: normalize, cosine_similarity, pairwise_distance (PyTorch's names, arguments and
defaults), and the cosine row Function that cosine_embedding_loss shares.

cosine_similarity is one fused kernel pair (kernels.cosine: dot product and both norms in
one pass, backward in one pass; measured against the composition in README numbers and
checked against it in tests/nn/test_fused_vs_composed.py). normalize and pairwise_distance
compose differentiable ops (norm, clamp, sub, div) exactly as PyTorch builds them
(torch.nn.functional.normalize, ATen's Distance.cpp), so values, gradients and edge conventions
(eps placement, which clamp passes a gradient) are PyTorch's.
"""
import math

import numpy as np

from ... import _check
from ..._ops.binary import add, div, sub
from ..._ops.broadcast import sum_to
from ..._ops.reduce import norm
from ..._ops.unary import clamp
from ..._ops.util import contiguous
from ...autograd.function import Function
from ...kernels import cosine as K

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


class Cosine(Function):
    """cos(a, b) along one axis after broadcasting (op: kernels.cosine COSINE_SIM / _EMB)."""

    @staticmethod
    def forward(ctx, a, b, dim, eps, op, name):
        try:
            shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(f"{name}(): the shapes of x1 {tuple(a.shape)} and x2 "
                             f"{tuple(b.shape)} are not broadcastable") from None
        d = _check.wrap_dim(name, dim, len(shape))
        ctx.shapes = a.shape, b.shape
        a = contiguous(np.broadcast_to(a, shape)) if a.shape != shape else contiguous(a)
        b = contiguous(np.broadcast_to(b, shape)) if b.shape != shape else contiguous(b)
        split = (math.prod(shape[:d]), shape[d], math.prod(shape[d + 1:])) if shape else (1, 1, 1)
        out_shape = shape[:d] + shape[d + 1:]
        y = np.empty(out_shape, a.dtype)
        saa = np.empty(y.size, np.float64)
        sbb = np.empty(y.size, np.float64)
        K.cosine_forward(op, a.reshape(-1), b.reshape(-1), y.reshape(-1), saa, sbb, *split,
                         float(eps))
        ctx.op, ctx.eps, ctx.split = op, float(eps), split
        ctx.save_for_backward(a, b, y, saa, sbb)
        return y

    @staticmethod
    def backward(ctx, g):
        a, b, y, saa, sbb = ctx.saved_tensors
        g = contiguous(g.astype(a.dtype, copy=False))
        ga = np.empty(a.shape, a.dtype)
        gb = np.empty(b.shape, b.dtype)
        K.cosine_backward(ctx.op, a.reshape(-1), b.reshape(-1), y.reshape(-1), saa, sbb,
                          g.reshape(-1), ga.reshape(-1), gb.reshape(-1), *ctx.split, ctx.eps)
        sa, sb = ctx.shapes
        return (sum_to(ga, sa) if ctx.needs_input_grad[0] else None,
                sum_to(gb, sb) if ctx.needs_input_grad[1] else None, None, None, None, None)

    @staticmethod
    def name_of(ctx):
        return "cosineSimilarity" if ctx.op == K.COSINE_SIM else "cosineEmbedding"


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim, after broadcasting."""
    _floating_pair("cosine_similarity", x1, x2)
    return Cosine.apply(x1, x2, dim, eps, K.COSINE_SIM, "cosine_similarity")


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim of the broadcast shape."""
    _floating_pair("pairwise_distance", x1, x2)
    last = max(x1.ndim, x2.ndim) - 1
    return norm(add(sub(x1, x2), eps), p, last, keepdim=keepdim)
