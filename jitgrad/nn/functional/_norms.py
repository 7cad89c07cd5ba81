"""Normalisation functions: layer_norm, batch_norm, group_norm, instance_norm, rms_norm, one
fused kernel each way (instance_norm is group_norm with one channel per group; in eval mode
with running statistics it is batch_norm's eval path).

batch_norm in training mode updates the running buffers in place (inside the forward kernel),
as PyTorch does: running_var moves toward the unbiased batch variance while the output is
normalised with the biased one.
"""
import numpy as np

from ... import _check
from ...autograd.function import Function
from ...kernels import norm as K
from ..._ops.util import contiguous
from ..._tensor import Tensor

__all__ = ["layer_norm", "batch_norm", "group_norm", "instance_norm", "rms_norm"]

_EMPTY = {np.dtype(np.float32): np.empty(0, np.float32),
          np.dtype(np.float64): np.empty(0, np.float64)}


def _input(name, x):
    return _check.float_array(name, "input", x)


def _param(name, arg, p, shape, dtype):
    """An optional per-feature array of exactly `shape` and the input's dtype (flat)."""
    if p is None:
        return _EMPTY[dtype]
    if type(p) is not np.ndarray:
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor or None, not "
                        f"{type(p).__name__}")
    if p.shape != shape:
        raise ValueError(f"{name}(): expected {arg} of shape {shape}, got {p.shape}")
    if p.dtype != dtype:
        raise TypeError(f"{name}(): expected {arg} of dtype {dtype} (the input's), got "
                        f"{p.dtype}")
    return contiguous(p).reshape(-1)


class LayerNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b over the trailing `normalized_shape` dims."""

    @staticmethod
    def forward(ctx, x, w, b, normalized_shape, eps):
        x = _input("layer_norm", x)
        k = len(normalized_shape)
        if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != normalized_shape:
            raise ValueError(f"layer_norm(): Given normalized_shape={list(normalized_shape)}, "
                             f"expected input with shape [*, "
                             f"{', '.join(map(str, normalized_shape))}], but got input of size "
                             f"{list(x.shape)}")
        wf = _param("layer_norm", "weight", w, normalized_shape, x.dtype)
        bf = _param("layer_norm", "bias", b, normalized_shape, x.dtype)
        n = int(np.prod(normalized_shape))
        rows = x.size // n if n else 0
        y = np.empty(x.shape, x.dtype)
        mean = np.empty(rows, np.float64)
        rstd = np.empty(rows, np.float64)
        K.layer_norm_forward(x.reshape(-1), wf, bf, n, float(eps), y.reshape(-1), mean, rstd)
        ctx.n, ctx.wshape = n, normalized_shape
        ctx.save_for_backward(x, wf, mean, rstd)
        return y

    @staticmethod
    def backward(ctx, g):
        x, wf, mean, rstd = ctx.saved_tensors
        g = contiguous(g)
        gx = np.empty(x.shape, x.dtype)
        need = ctx.needs_input_grad
        gw = np.zeros(ctx.n if need[1] else 0, np.float64)
        gb = np.zeros(ctx.n if need[2] else 0, np.float64)
        K.layer_norm_backward(x.reshape(-1), wf, mean, rstd, g.reshape(-1), ctx.n,
                              gx.reshape(-1), gw, gb)
        gw = gw.astype(x.dtype).reshape(ctx.wshape) if need[1] else None
        gb = gb.astype(x.dtype).reshape(ctx.wshape) if need[2] else None
        return gx, gw, gb, None, None


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    _check.tensor("layer_norm", "input", input)
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(d) for d in normalized_shape)
    return LayerNorm.apply(input, weight, bias, normalized_shape, eps)


class BatchNorm(Function):
    """y = (x - mean_c) / sqrt(var_c + eps) * w_c + b_c over channel dim 1 of (N, C, *)."""

    @staticmethod
    def forward(ctx, x, rmean, rvar, w, b, training, factor, eps):
        x = _input("batch_norm", x)
        if x.ndim < 2:
            raise ValueError(f"batch_norm(): expected input of shape (N, C, *) with at least 2 "
                             f"dims, got shape {x.shape}")
        N, C = x.shape[0], x.shape[1]
        L = int(np.prod(x.shape[2:]))
        if training and N * L <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {x.shape}")
        if (rmean is None) != (rvar is None):
            raise ValueError("batch_norm(): running_mean and running_var must both be given or "
                             "both be None")
        if rmean is None and not training:
            raise ValueError("batch_norm(): running_mean and running_var must be defined when "
                             "training=False")
        rm = _param("batch_norm", "running_mean", rmean, (C,), x.dtype)
        rv = _param("batch_norm", "running_var", rvar, (C,), x.dtype)
        for arg, r in (("running_mean", rmean), ("running_var", rvar)):
            if r is not None and not r.flags.c_contiguous:
                raise ValueError(f"batch_norm(): {arg} must be contiguous (it is updated in "
                                 f"place)")
        wf = _param("batch_norm", "weight", w, (C,), x.dtype)
        bf = _param("batch_norm", "bias", b, (C,), x.dtype)
        y = np.empty(x.shape, x.dtype)
        smean = np.empty(C, np.float64)
        srstd = np.empty(C, np.float64)
        t = 1 if training else 0
        K.batch_norm_forward(x.reshape(-1), N, C, L, t, rm, rv, float(factor), float(eps), wf,
                             bf, y.reshape(-1), smean, srstd)
        ctx.dims, ctx.training = (N, C, L), t
        ctx.save_for_backward(x, wf, smean, srstd)
        return y

    @staticmethod
    def backward(ctx, g):
        x, wf, smean, srstd = ctx.saved_tensors
        g = contiguous(g)
        N, C, L = ctx.dims
        need = ctx.needs_input_grad
        gx = np.empty(x.shape, x.dtype)
        gw = np.empty(C if need[3] else 0, x.dtype)
        gb = np.empty(C if need[4] else 0, x.dtype)
        K.batch_norm_backward(x.reshape(-1), N, C, L, ctx.training, smean, srstd, wf,
                              g.reshape(-1), gx.reshape(-1), gw, gb)
        return (gx if need[0] else None, None, None, gw if need[3] else None,
                gb if need[4] else None, None, None, None)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    _check.tensor("batch_norm", "input", input)
    for arg, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.requires_grad:
            raise RuntimeError(f"batch_norm(): {arg} must not require grad (it is a buffer "
                               f"updated in place)")
    return BatchNorm.apply(input, running_mean, running_var, weight, bias, bool(training),
                           0.0 if momentum is None else momentum, eps)


class GroupNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w_c + b_c, stats per (sample, group of C/G channels)
    of (N, C, *). Given running buffers (instance norm, G = C), they move by `momentum` toward
    the batch mean of the per-instance means and unbiased variances."""

    @staticmethod
    def forward(ctx, x, w, b, G, eps, rmean, rvar, momentum, op):
        x = _input(op, x)
        N, C = x.shape[0], x.shape[1]
        L = int(np.prod(x.shape[2:]))
        wf = _param(op, "weight", w, (C,), x.dtype)
        bf = _param(op, "bias", b, (C,), x.dtype)
        rm = _param(op, "running_mean", rmean, (C,), x.dtype)
        rv = _param(op, "running_var", rvar, (C,), x.dtype)
        y = np.empty(x.shape, x.dtype)
        mean = np.empty(N * G, np.float64)
        rstd = np.empty(N * G, np.float64)
        K.group_norm_forward(x.reshape(-1), N, C, L, G, float(eps), wf, bf, y.reshape(-1),
                             mean, rstd)
        if rm.size:  # instance norm's running statistics (G == C), bookkeeping only
            var = (1.0 / (rstd * rstd) - eps) * (L / (L - 1))
            rmean[...] = (1.0 - momentum) * rmean + momentum * mean.reshape(N, C).mean(0)
            rvar[...] = (1.0 - momentum) * rvar + momentum * var.reshape(N, C).mean(0)
        ctx.dims = (N, C, L, G)
        ctx.save_for_backward(x, wf, mean, rstd)
        return y

    @staticmethod
    def backward(ctx, g):
        x, wf, mean, rstd = ctx.saved_tensors
        g = contiguous(g)
        N, C, L, G = ctx.dims
        need = ctx.needs_input_grad
        gx = np.empty(x.shape, x.dtype)
        gw = np.zeros(C if need[1] else 0, np.float64)
        gb = np.zeros(C if need[2] else 0, np.float64)
        K.group_norm_backward(x.reshape(-1), N, C, L, G, wf, mean, rstd, g.reshape(-1),
                              gx.reshape(-1), gw, gb)
        return (gx if need[0] else None, gw.astype(x.dtype) if need[1] else None,
                gb.astype(x.dtype) if need[2] else None, None, None, None, None, None, None)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise (N, C, *) over each sample's groups of C / num_groups channels, then scale and
    shift per channel (torch.nn.functional.group_norm)."""
    _check.tensor("group_norm", "input", input)
    G = _check.integer("group_norm", "num_groups", num_groups, minimum=1)
    if input.ndim < 2:
        raise ValueError(f"group_norm(): argument 'input' expected shape (N, C, *) with at "
                         f"least 2 dims, got shape {tuple(input.shape)}")
    if input.shape[1] % G:
        raise ValueError(f"group_norm(): Expected number of channels in input to be divisible "
                         f"by num_groups, but got input of shape {tuple(input.shape)} and "
                         f"num_groups={G}")
    return GroupNorm.apply(input, weight, bias, G, eps, None, None, 0.0, "group_norm")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample of (N, C, *) over its spatial dims
    (torch.nn.functional.instance_norm); with use_input_stats=False the running statistics
    are used instead."""
    _check.tensor("instance_norm", "input", input)
    if input.ndim < 3:
        raise ValueError(f"instance_norm(): argument 'input' expected shape (N, C, *) with at "
                         f"least 3 dims, got shape {tuple(input.shape)}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("instance_norm(): running_mean and running_var must both be given or "
                         "both be None")
    for arg, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and (t.requires_grad or not t.data.flags.c_contiguous):
            raise RuntimeError(f"instance_norm(): {arg} must be a contiguous buffer that does "
                               f"not require grad (it is updated in place)")
    if not use_input_stats:
        if running_mean is None:
            raise ValueError("instance_norm(): Expected running_mean and running_var to be "
                             "defined when use_input_stats is false")
        return batch_norm(input, running_mean, running_var, weight, bias, False, 0.0, eps)
    if int(np.prod(input.shape[2:])) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    return GroupNorm.apply(input, weight, bias, input.shape[1], eps, running_mean, running_var,
                           0.0 if momentum is None else float(momentum), "instance_norm")


class RMSNorm(Function):
    """y = x / sqrt(mean(x^2) + eps) * w over the trailing `normalized_shape` dims."""

    @staticmethod
    def forward(ctx, x, w, normalized_shape, eps):
        x = _input("rms_norm", x)
        k = len(normalized_shape)
        if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != normalized_shape:
            raise ValueError(f"rms_norm(): Given normalized_shape={list(normalized_shape)}, "
                             f"expected input with shape [*, "
                             f"{', '.join(map(str, normalized_shape))}], but got input of size "
                             f"{list(x.shape)}")
        wf = _param("rms_norm", "weight", w, normalized_shape, x.dtype)
        n = int(np.prod(normalized_shape))
        rows = x.size // n if n else 0
        if eps is None:
            eps = float(np.finfo(x.dtype).eps)
        y = np.empty(x.shape, x.dtype)
        rstd = np.empty(rows, np.float64)
        K.rms_norm_forward(x.reshape(-1), wf, n, float(eps), y.reshape(-1), rstd)
        ctx.n, ctx.wshape = n, normalized_shape
        ctx.save_for_backward(x, wf, rstd)
        return y

    @staticmethod
    def backward(ctx, g):
        x, wf, rstd = ctx.saved_tensors
        g = contiguous(g)
        gx = np.empty(x.shape, x.dtype)
        need = ctx.needs_input_grad
        gw = np.zeros(ctx.n if need[1] else 0, np.float64)
        K.rms_norm_backward(x.reshape(-1), wf, rstd, g.reshape(-1), ctx.n, gx.reshape(-1), gw)
        gw = gw.astype(x.dtype).reshape(ctx.wshape) if need[1] else None
        return gx, gw, None, None


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) * weight over the trailing `normalized_shape` dims; eps None
    is the input dtype's machine epsilon (torch.nn.functional.rms_norm)."""
    _check.tensor("rms_norm", "input", input)
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(d) for d in normalized_shape)
    return RMSNorm.apply(input, weight, normalized_shape, eps)
