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
from ..._ops.binary import minimum as _minimum
from ..._ops.broadcast import sum_to
from ..._ops.select import where as _where
from ..._ops.util import contiguous
from ..._tensor import Tensor
from .._reduction import reduction_arg
from ...kernels import cosine as KD
from ._distance import Cosine, pairwise_distance

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
            if op in (K.MSE, K.L1, K.SMOOTH_L1, K.HUBER):  # torch warns for these only
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


# ----------------------------------------------------------------------------- more losses
# kl_div and poisson_nll_loss are op codes of the fused pointwise kernels, cosine_embedding_loss
# shares cosine_similarity's fused row kernels; the others compose differentiable ops the way
# PyTorch defines them (torch/nn/functional.py, ATen Loss.cpp)
__all__ += ["kl_div", "poisson_nll_loss", "gaussian_nll_loss", "multilabel_soft_margin_loss",
            "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss"]
_POINTWISE.update({K.KL_DIV: "kl_div", K.KL_DIV_LOG: "kl_div",
                   K.POISSON_LOG: "poisson_nll_loss", K.POISSON: "poisson_nll_loss",
                   K.POISSON_LOG_FULL: "poisson_nll_loss", K.POISSON_FULL: "poisson_nll_loss"})


def _apply_reduction(loss, reduction):
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """sum/mean of target * (log target - input) (log_target: exp(target) * (target - input));
    'batchmean' divides the sum by input.shape[0], 'mean' by the element count (with
    PyTorch's warning)."""
    if size_average is not None or reduce is not None:
        reduction = reduction_arg("kl_div", reduction, size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    elif reduction != "batchmean":
        reduction = reduction_arg("kl_div", reduction)
    op = K.KL_DIV_LOG if log_target else K.KL_DIV
    if reduction != "batchmean":
        return _pointwise("kl_div", op, input, target, None, None, 0.0, reduction)
    total = _pointwise("kl_div", op, input, target, None, None, 0.0, "sum")
    return total / input.shape[0] if input.ndim else total


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """exp(input) - target * input (log_input) or input - target * log(input + eps), plus the
    Stirling term target log target - target + log(2 pi target) / 2 where target > 1 (full)."""
    reduction = reduction_arg("poisson_nll_loss", reduction, size_average, reduce)
    op = (K.POISSON_LOG_FULL if full else K.POISSON_LOG) if log_input else \
        (K.POISSON_FULL if full else K.POISSON)
    return _pointwise("poisson_nll_loss", op, input, target, None, None, float(eps), reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """(log v + (input - target)^2 / v) / 2 (+ log(2 pi) / 2 if full), v = max(var, eps) with the
    gradient of var itself (PyTorch clamps a copy under no_grad). var has input's shape, or
    one fewer trailing dim, or one dim of size 1 (homoscedastic), or is a float."""
    name = "gaussian_nll_loss"
    _check.tensor(name, "input", input)
    _check.tensor(name, "target", target)
    reduction = reduction_arg(name, reduction)
    if not isinstance(var, Tensor):
        if not isinstance(var, (int, float)) or isinstance(var, bool):
            raise TypeError(f"{name}(): argument 'var' expected a Tensor or a float, got "
                            f"{type(var).__name__}")
        if var < 0:
            raise ValueError(f"{name}(): var has negative entry/entries")
        var = Tensor(np.full(input.shape, var, input.data.dtype))
    elif var.numel() and bool(np.any(var.data < 0)):
        raise ValueError(f"{name}(): var has negative entry/entries")
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (var.ndim == input.ndim and
                  sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1):
            raise ValueError(f"{name}(): var is of incorrect size: expected the input's shape "
                             f"{tuple(input.shape)}, that shape without its last dim, or one dim "
                             f"of size 1, got {tuple(var.shape)}")
    v = var + Tensor(np.maximum(var.data, eps) - var.data)
    d = input - target
    loss = 0.5 * (v.log() + d * d / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _apply_reduction(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """mean over the last (class) dim of w * -(t log sigmoid(x) + (1 - t) log sigmoid(-x)):
    the fused BCE-with-logits kernel per element, then a mean over classes."""
    name = "multilabel_soft_margin_loss"
    reduction = reduction_arg(name, reduction, size_average, reduce)
    _check.tensor(name, "input", input)
    _check.tensor(name, "target", target)
    if input.ndim == 0:
        raise ValueError(f"{name}(): argument 'input' expected a (C,) or (N, C) tensor, got a "
                         f"0-d tensor")
    loss = PointwiseLoss.apply(input, target, weight, None, K.BCE_LOGITS, 0.0, "none")
    return _apply_reduction(loss.mean(-1), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where target == 1, max(0, cos - margin) where target == -1 (0 for any
    other target), cos = <x1, x2> / sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12)) over the last dim."""
    name = "cosine_embedding_loss"
    reduction = reduction_arg(name, reduction, size_average, reduce)
    for arg, x in (("input1", input1), ("input2", input2), ("target", target)):
        _check.tensor(name, arg, x)
    if target.ndim not in (0, 1):
        raise ValueError(f"{name}(): 0D or 1D target tensor expected, multi-target not "
                         f"supported (argument 'target' has shape {tuple(target.shape)})")
    if input1.ndim != target.ndim + 1 or input2.ndim != target.ndim + 1:
        raise ValueError(f"{name}(): {target.ndim}D target tensor expects "
                         f"{target.ndim + 1}D input tensors, but found inputs with sizes "
                         f"{tuple(input1.shape)} and {tuple(input2.shape)}.")
    for arg, x in (("input1", input1), ("input2", input2)):
        if x.data.dtype.kind != "f":
            raise TypeError(f"{name}(): argument '{arg}' expected a floating-point tensor "
                            f"(float32 or float64), got dtype {x.data.dtype}")
    _check.same_dtype(name, ("input1", "input2"), (input1.data, input2.data))
    cos = Cosine.apply(input1, input2, target.ndim, 1e-12, KD.COSINE_EMB, name)
    zeros = Tensor(np.zeros(cos.shape, cos.dtype))
    loss = _where(target == 1, 1 - cos, zeros) + \
        _where(target == -1, (cos - margin).clamp(min=0.0), zeros)
    return _apply_reduction(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    name = "margin_ranking_loss"
    reduction = reduction_arg(name, reduction, size_average, reduce)
    for arg, x in (("input1", input1), ("input2", input2), ("target", target)):
        _check.tensor(name, arg, x)
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(f"{name}(): All input tensors should have same dimension but got "
                         f"sizes: input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, "
                         f"target: {tuple(target.shape)}")
    return _apply_reduction((-target * (input1 - input2) + margin).clamp(min=0.0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)), d = pairwise_distance(p, eps); swap uses
    min(d(a, n), d(p, n)) as the negative distance."""
    name = "triplet_margin_loss"
    reduction = reduction_arg(name, reduction, size_average, reduce)
    if margin <= 0:
        raise ValueError(f"{name}(): margin must be greater than 0, got {margin}")
    for arg, x in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _check.tensor(name, arg, x)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"{name}(): The anchor, positive, and negative tensors are expected to "
                         f"have the same number of dimensions, but got: anchor {anchor.ndim}D, "
                         f"positive {positive.ndim}D, and negative {negative.ndim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = _minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _apply_reduction((margin + d_pos - d_neg).clamp(min=0.0), reduction)
