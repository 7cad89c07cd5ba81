"""bilinear: y_k = x1 @ W_k @ x2 + b_k, with every product a (batched) BLAS GEMM and the bias
pass the linear family's kernel; pixel_shuffle / pixel_unshuffle, composed of reshape and
permute (their gradients are those ops')."""
import numpy as np

from ... import _check
from ...autograd.function import Function
from ...kernels import linear as K
from ..._ops.util import contiguous

__all__ = ["bilinear", "pixel_shuffle", "pixel_unshuffle"]


class Bilinear(Function):
    """y[n, k] = sum_ij x1[n, i] W[k, i, j] x2[n, j] + b[k] over any matching leading dims."""

    @staticmethod
    def forward(ctx, x1, x2, w, b):
        for name, a in (("input1", x1), ("input2", x2), ("weight", w)):
            _check.float_array("bilinear", name, a)
        _check.ndim("bilinear", "weight", w, 3)
        out, in1, in2 = w.shape
        if x1.ndim == 0 or x1.shape[-1] != in1 or x2.ndim == 0 or x2.shape[-1] != in2:
            raise ValueError(f"bilinear(): input1 of shape {x1.shape} and input2 of shape "
                             f"{x2.shape} must end in in1_features={in1} and "
                             f"in2_features={in2} (weight of shape {w.shape})")
        if x1.shape[:-1] != x2.shape[:-1]:
            raise ValueError(f"bilinear(): input1 and input2 must have the same leading "
                             f"dims, got {x1.shape} and {x2.shape}")
        _check.same_dtype("bilinear", ("input1", "input2", "weight", "bias"), (x1, x2, w, b))
        if b is not None:
            _check.shape("bilinear", "bias", b, (out,))
        lead = x1.shape[:-1]
        a1 = contiguous(x1).reshape(-1, in1)
        a2 = contiguous(x2).reshape(-1, in2)
        w = contiguous(w)
        t = (a1 @ w.transpose(1, 0, 2).reshape(in1, out * in2)).reshape(-1, out, in2)
        y = np.matmul(t, a2[:, :, None]).reshape(-1, out)
        if b is not None:
            K.bias_act_forward(K.ACT_NONE, y.reshape(-1), contiguous(b), out)
        ctx.save_for_backward(a1, a2, w)
        ctx.lead = lead
        return y.reshape(lead + (out,))

    @staticmethod
    def backward(ctx, g):
        a1, a2, w = ctx.saved_tensors
        out, in1, in2 = w.shape
        need = ctx.needs_input_grad
        g2 = contiguous(g).reshape(-1, out)
        gx1 = gx2 = gw = gb = None
        if need[0]:
            s = (a2 @ w.transpose(2, 0, 1).reshape(in2, out * in1)).reshape(-1, out, in1)
            gx1 = np.matmul(g2[:, None, :], s).reshape(ctx.lead + (in1,))
        if need[1]:
            t = (a1 @ w.transpose(1, 0, 2).reshape(in1, out * in2)).reshape(-1, out, in2)
            gx2 = np.matmul(g2[:, None, :], t).reshape(ctx.lead + (in2,))
        if need[2]:
            p = np.matmul(g2[:, :, None], a1[:, None, :]).reshape(-1, out * in1)
            gw = (p.T @ a2).reshape(out, in1, in2)
        if need[3]:
            gb = np.empty(out, g2.dtype)
            K.bias_act_backward(K.ACT_NONE, g2.reshape(-1), g2.reshape(-1), g2.reshape(-1), gb,
                                out)
        return gx1, gx2, gw, gb


def bilinear(input1, input2, weight, bias=None):
    """y = x1^T A x2 + b per output feature: weight (out, in1, in2), bias (out,)
    (torch.nn.functional.bilinear)."""
    _check.tensor("bilinear", "input1", input1)
    _check.tensor("bilinear", "input2", input2)
    return Bilinear.apply(input1, input2, weight, bias)


def _factor(op, name, r):
    return _check.integer(op, name, r, minimum=1)


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r) (torch.nn.functional.pixel_shuffle)."""
    _check.tensor("pixel_shuffle", "input", input)
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    if input.ndim < 3:
        raise ValueError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                         f"input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                         f"divisible by the square of upscale_factor, but input.size(-3)={c} is "
                         f"not divisible by {r * r}")
    k = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W) (torch.nn.functional.pixel_unshuffle)."""
    _check.tensor("pixel_unshuffle", "input", input)
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    if input.ndim < 3:
        raise ValueError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                         f"got input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle expects height and width to be divisible by "
                         f"downscale_factor, but input.size(-2)={h} and input.size(-1)={w} are "
                         f"not both divisible by {r}")
    k = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)
