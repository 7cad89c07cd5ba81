"""Loss functions: pointwise losses (one op-coded Function), NLL, and fused cross-entropy.

Each forward and backward is one kernel call (kernels.loss) with the reduction fused in.
Validation (shapes, dtypes, class indices in range) runs before any kernel. Class weights and
pos_weight are constants, as in PyTorch (a gradient for them raises).
"""
import math
import warnings

import numpy as np

from ... import _check
from ...autograd.function import Function
from ...kernels import loss as K
from ..._ops.broadcast import sum_to
from ..._ops.util import contiguous
from ..._tensor import Tensor
from .._reduction import reduction_arg

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "nll_loss", "cross_entropy"]


_NONE = np.empty(0, np.float64)
_NO_IDX = np.empty(0, np.int64)


# ----------------------------------------------------------------------------- helpers


def _float(name, arg, x, dtype=None):
    """x as a C-contiguous float array (of `dtype`, when given)."""
    if x.dtype.kind != "f":
        raise TypeError(f"{name}(): argument '{arg}' expected a floating-point tensor (float32 "
                        f"or float64), got dtype {x.dtype}")
    if dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    return contiguous(x)


def _broadcast_weight(name, arg, w, shape, dtype):
    """An element weight broadcast to `shape` as a flat array (size 0 for None)."""
    if w is None:
        return _NONE.astype(dtype)
    w = _float(name, arg, w, dtype)
    try:
        return contiguous(np.broadcast_to(w, shape)).reshape(-1)
    except ValueError:
        raise ValueError(f"{name}(): argument '{arg}' of shape {w.shape} is not broadcastable "
                         f"to the input shape {shape}") from None


def _reduced(loss, total, count, reduction, dtype):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.array(total, dtype)
    return np.array(total / count if count else np.nan, dtype)


def _upstream(g, reduction, count):
    """(flat g, stride, scale) for the backward kernels' g[i * gs] * scale."""
    g = contiguous(g).reshape(-1)
    if reduction == "none":
        return g, 1, 1.0
    return g, 0, (1.0 / count if count else np.nan) if reduction == "mean" else 1.0


def _no_grad_for(ctx, name, positions):
    for i, arg in positions:
        if ctx.needs_input_grad[i]:
            raise RuntimeError(f"{name}(): the derivative for '{arg}' is not implemented")


# ----------------------------------------------------------------------------- pointwise
_POINTWISE = {K.MSE: "mse_loss", K.L1: "l1_loss", K.SMOOTH_L1: "smooth_l1_loss",
              K.HUBER: "huber_loss", K.BCE: "binary_cross_entropy",
              K.BCE_LOGITS: "binary_cross_entropy_with_logits"}


class PointwiseLoss(Function):
    """reduce_i(w_i * op(x_i, t_i; p)); op a code of kernels.loss (pw: BCE-with-logits only)."""

    @staticmethod
    def forward(ctx, x, t, w, pw, op, p, reduction):
        name = _POINTWISE[op]
        x = _float(name, "input", x)
        t_dtype = t.dtype
        t = _float(name, "target", t, x.dtype)
        ctx.x_shape, ctx.t_shape, ctx.t_dtype = x.shape, t.shape, t_dtype
        if t.shape != x.shape:
            if op in (K.BCE, K.BCE_LOGITS):
                raise ValueError(f"{name}(): target size {tuple(t.shape)} must be the same as "
                                 f"input size {tuple(x.shape)}")
            warnings.warn(f"Using a target size ({tuple(t.shape)}) that is different to the "
                          f"input size ({tuple(x.shape)}). This will likely lead to incorrect "
                          f"results due to broadcasting. Please ensure they have the same size.",
                          UserWarning, stacklevel=4)
            try:
                shape = np.broadcast_shapes(x.shape, t.shape)
            except ValueError:
                raise ValueError(f"{name}(): the size of input {tuple(x.shape)} and of target "
                                 f"{tuple(t.shape)} are not broadcastable") from None
            x = contiguous(np.broadcast_to(x, shape))
            t = contiguous(np.broadcast_to(t, shape))
        if op == K.BCE and x.size and (np.min(x) < 0 or np.max(x) > 1):
            raise ValueError(f"{name}(): all elements of input should be between 0 and 1")
        if w is not None and op in (K.MSE, K.L1, K.HUBER) and w.shape != ctx.x_shape:
            raise ValueError(f"{name}(): Weights and input must have the same size (weight "
                             f"{w.shape}, input {ctx.x_shape})")
        wf = _broadcast_weight(name, "weight", w, x.shape, x.dtype)
        pwf = _broadcast_weight(name, "pos_weight", pw, x.shape, x.dtype)
        out = np.empty(x.shape if reduction == "none" else 0, x.dtype)
        total, wsum = K.pointwise_loss(op, x.reshape(-1), t.reshape(-1), wf, pwf,
                                       out.reshape(-1), p, 0 if reduction == "none" else 1)
        # torch's weighted mse / l1 'mean' divides by the sum of the weights; others by numel
        count = wsum if op in (K.MSE, K.L1) else x.size
        ctx.op, ctx.p, ctx.reduction, ctx.count = op, p, reduction, count
        ctx.save_for_backward(x, t, wf, pwf)
        return _reduced(out, total, count, reduction, x.dtype)

    @staticmethod
    def backward(ctx, g):
        _no_grad_for(ctx, _POINTWISE[ctx.op], [(2, "weight"), (3, "pos_weight")])
        x, t, wf, pwf = ctx.saved_tensors
        gf, gs, scale = _upstream(g.astype(x.dtype, copy=False), ctx.reduction, ctx.count)
        gx = np.empty(x.shape, x.dtype)
        want_t = ctx.needs_input_grad[1]
        gt = np.empty(x.shape if want_t else 0, x.dtype)
        K.pointwise_loss_backward(ctx.op, x.reshape(-1), t.reshape(-1), wf, pwf, gf, gs, scale,
                                  gx.reshape(-1), gt.reshape(-1), ctx.p)
        gx = sum_to(gx, ctx.x_shape) if ctx.needs_input_grad[0] else None
        gt = sum_to(gt, ctx.t_shape).astype(ctx.t_dtype, copy=False) if want_t else None
        return gx, gt, None, None, None, None, None

    @staticmethod
    def name_of(ctx):
        return _POINTWISE[ctx.op]


def _pointwise(name, op, input, target, weight, pos_weight, p, reduction):
    _check.tensor(name, "input", input)
    _check.tensor(name, "target", target)
    return PointwiseLoss.apply(input, target, weight, pos_weight, op, float(p), reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = reduction_arg("mse_loss", reduction, size_average, reduce)
    return _pointwise("mse_loss", K.MSE, input, target, weight, None, 0.0, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = reduction_arg("l1_loss", reduction, size_average, reduce)
    return _pointwise("l1_loss", K.L1, input, target, weight, None, 0.0, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = reduction_arg("smooth_l1_loss", reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss(): beta must be non-negative, got {beta}")
    if beta == 0:  # torch: plain l1
        return _pointwise("smooth_l1_loss", K.L1, input, target, None, None, 0.0, reduction)
    return _pointwise("smooth_l1_loss", K.SMOOTH_L1, input, target, None, None, beta, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    reduction = reduction_arg("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss(): delta must be positive, got {delta}")
    return _pointwise("huber_loss", K.HUBER, input, target, weight, None, delta, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = reduction_arg("binary_cross_entropy", reduction, size_average, reduce)
    return _pointwise("binary_cross_entropy", K.BCE, input, target, weight, None, 0.0, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    name = "binary_cross_entropy_with_logits"
    reduction = reduction_arg(name, reduction, size_average, reduce)
    return _pointwise(name, K.BCE_LOGITS, input, target, weight, pos_weight, 0.0, reduction)


# ----------------------------------------------------------------------------- class losses
def _class_layout(name, x, t, w, by_index, ignore_index):
    """Validate input / target / weight of nll_loss or cross_entropy; return the (C, inner)
    layout, the flat targets and the flat weight (all before any kernel runs)."""
    x = _float(name, "input", x)
    if x.ndim == 0:
        raise ValueError(f"{name}(): input must have at least 1 dimension (C) or 2 (N, C, ...), "
                         f"got a 0-d tensor")
    batched = x.ndim >= 2
    C = x.shape[1] if batched else x.shape[0]
    inner = math.prod(x.shape[2:]) if batched else 1
    if by_index:
        want = (x.shape[:1] + x.shape[2:]) if batched else ()
        if t.shape != want:
            raise ValueError(f"{name}(): expected target of shape {want} (input {x.shape} "
                             f"without the class dim 1), got {t.shape}")
        t = contiguous(t.astype(np.int64, copy=False)).reshape(-1)
        if t.size and not (0 <= t.min() and t.max() < C):  # cheap check first
            bad = (t != ignore_index) & ((t < 0) | (t >= C))
        else:
            bad = None
        if bad is not None and bad.any():
            raise IndexError(f"{name}(): Target {int(t[np.argmax(bad)])} is out of bounds "
                             f"(argument 'target' must hold class indices in [0, {C}) or "
                             f"ignore_index={ignore_index})")
    else:
        if t.shape != x.shape:
            raise ValueError(f"{name}(): class-probability target must have the input's shape "
                             f"{x.shape}, got {t.shape}")
        t = _float(name, "target", t, x.dtype)
    if w is None:
        wf = _NONE.astype(x.dtype)
    else:
        if w.shape != (C,):
            raise ValueError(f"{name}(): weight must have shape ({C},) (one per class), got "
                             f"{w.shape}")
        wf = _float(name, "weight", w, x.dtype)
    return x, t, wf, C, inner, batched


def _target_kind(name, target):
    """True for class indices (integer dtype), False for class probabilities (float)."""
    kind = target.data.dtype.kind
    if kind in "iu":
        return True
    if kind == "f":
        return False
    raise TypeError(f"{name}(): argument 'target' must hold int64 class indices or float class "
                    f"probabilities, got dtype {target.data.dtype}")


class NLLLoss(Function):
    """reduce_s(-w_t x[s, t]) over (N, C, d1, ...) or (C,) log-probabilities."""

    @staticmethod
    def forward(ctx, x, t, w, ignore_index, reduction):
        x, idx, wf, C, inner, batched = _class_layout("nll_loss", x, t, w, True, ignore_index)
        loss = np.empty(idx.size, x.dtype)
        total, wsum = K.nll_forward(x.reshape(-1), idx, wf, C, inner, ignore_index, loss)
        ctx.shape, ctx.layout, ctx.ignore, ctx.reduction, ctx.wsum = \
            x.shape, (C, inner), ignore_index, reduction, wsum
        ctx.save_for_backward(idx, wf)
        return _reduced(loss.reshape(t.shape), total, wsum, reduction, x.dtype)

    @staticmethod
    def backward(ctx, g):
        _no_grad_for(ctx, "nll_loss", [(2, "weight")])
        idx, wf = ctx.saved_tensors
        gf, gs, scale = _upstream(g.astype(wf.dtype, copy=False), ctx.reduction, ctx.wsum)
        gx = np.empty(ctx.shape, wf.dtype)
        K.nll_backward(idx, wf, gf, gs, scale, *ctx.layout, ctx.ignore, gx.reshape(-1))
        return gx, None, None, None, None


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    reduction = reduction_arg("nll_loss", reduction, size_average, reduce)
    _check.tensor("nll_loss", "input", input)
    _check.tensor("nll_loss", "target", target)
    if not _target_kind("nll_loss", target):
        raise TypeError(f"nll_loss(): argument 'target' must hold int64 class indices, got "
                        f"dtype {target.data.dtype}")
    return NLLLoss.apply(input, target, weight, int(ignore_index), reduction)


class CrossEntropy(Function):
    """Fused log-softmax + NLL over the class axis; targets are indices or probabilities."""

    @staticmethod
    def forward(ctx, x, t, w, ignore_index, label_smoothing, reduction, by_index):
        x, tf, wf, C, inner, batched = _class_layout("cross_entropy", x, t, w, by_index,
                                                    ignore_index)
        idx, prob = (tf, _NONE.astype(x.dtype)) if by_index else (_NO_IDX, tf.reshape(-1))
        S = x.size // C if C else 0
        loss = np.empty(S, x.dtype)
        lse = np.empty(S, np.float64)  # float64: exp(x - lse) keeps float32 rows summing to 1
        total, wsum = K.cross_entropy_forward(x.reshape(-1), idx, prob, wf, C, inner,
                                              ignore_index, label_smoothing, loss, lse)
        ctx.layout, ctx.ignore, ctx.ls, ctx.reduction, ctx.wsum = \
            (C, inner), ignore_index, label_smoothing, reduction, wsum
        ctx.save_for_backward(x, idx, prob, wf, lse)
        shape = (x.shape[:1] + x.shape[2:]) if batched else ()
        return _reduced(loss.reshape(shape), total, wsum, reduction, x.dtype)

    @staticmethod
    def backward(ctx, g):
        _no_grad_for(ctx, "cross_entropy", [(2, "weight")])
        x, idx, prob, wf, lse = ctx.saved_tensors
        gf, gs, scale = _upstream(g.astype(x.dtype, copy=False), ctx.reduction, ctx.wsum)
        gx = np.empty(x.shape, x.dtype)
        want_t = ctx.needs_input_grad[1]
        gt = np.empty(x.shape if want_t else 0, x.dtype)
        K.cross_entropy_backward(x.reshape(-1), idx, prob, wf, lse, gf, gs, scale, *ctx.layout,
                                 ctx.ignore, ctx.ls, gx.reshape(-1), gt.reshape(-1))
        return gx, (gt if want_t else None), None, None, None, None, None

    @staticmethod
    def name_of(ctx):
        return "crossEntropyLoss"


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    reduction = reduction_arg("cross_entropy", reduction, size_average, reduce)
    _check.tensor("cross_entropy", "input", input)
    _check.tensor("cross_entropy", "target", target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy(): label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    by_index = _target_kind("cross_entropy", target)
    return CrossEntropy.apply(input, target, weight, int(ignore_index), float(label_smoothing),
                              reduction, by_index)
