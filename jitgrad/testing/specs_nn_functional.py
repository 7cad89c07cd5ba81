"""Op table entries: jitgrad.nn.functional activations, losses and normalisation, each with a
plain-NumPy reference written from PyTorch's formulas."""
import math

import numpy as np

import jitgrad as jg

from .spec import Case, OpSpec

F = jg.nn.functional
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _near(*points, tol=0.05):
    return lambda x: np.any([np.abs(x - p) < tol for p in points], axis=0)


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


# ----------------------------------------------------------------------------- activations
_ACT = [Case([(3, 4)]), Case([()], name="0-d"), Case([(4, 3)], layout="transposed"),
        Case([(2, 6)], layout="sliced")]


def _act(name, ref, cases=_ACT, **kw):
    return OpSpec(f"nn.functional.{name}", getattr(F, name), ref, cases, **kw)


_SELU_A, _SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

SPECS = [
    _act("relu", lambda x: np.maximum(x, 0), avoid=_near(0)),
    _act("relu6", lambda x: np.clip(x, 0, 6), low=-2, high=8, avoid=_near(0, 6)),
    _act("leaky_relu", lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x),
         _ACT + [Case([(3, 4)], dict(negative_slope=0.2), name="slope")], avoid=_near(0)),
    _act("elu", lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(x)),
         _ACT + [Case([(3, 4)], dict(alpha=0.5), name="alpha")], avoid=_near(0)),
    _act("selu", lambda x: _SELU_S * np.where(x > 0, x, _SELU_A * np.expm1(x)), avoid=_near(0)),
    _act("gelu", lambda x, approximate="none": (
        0.5 * x * (1 + _erf(x / math.sqrt(2))) if approximate == "none" else
        0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
        _ACT + [Case([(3, 4)], dict(approximate="tanh"), name="tanh")], low=-4, high=4),
    _act("silu", lambda x: x * _sig(x), low=-4, high=4),
    _act("mish", lambda x: x * np.tanh(_softplus(x)), low=-4, high=4),
    _act("softplus", lambda x, beta=1.0, threshold=20.0: np.where(
        x * beta > threshold, x, _softplus(x * beta) / beta),
        _ACT + [Case([(3, 4)], dict(beta=2.0, threshold=1.0), name="beta")], low=-4, high=4,
        avoid=_near(0.5)),
    _act("sigmoid", _sig, low=-4, high=4),
    _act("tanh", np.tanh, low=-3, high=3),
    _act("hardtanh", lambda x, min_val=-1.0, max_val=1.0: np.clip(x, min_val, max_val),
         _ACT + [Case([(3, 4)], dict(min_val=-0.5, max_val=1.5), name="bounds")],
         avoid=_near(-1, 1, -0.5, 1.5)),
]


def _softmax_ref(x, dim, log=False):
    if x.ndim == 0:
        return np.zeros_like(x) if log else np.ones_like(x)
    z = x - np.max(x, axis=dim, keepdims=True)
    lse = np.log(np.sum(np.exp(z), axis=dim, keepdims=True))
    return z - lse if log else np.exp(z - lse)


_SOFTMAX = [Case([(2, 3, 4)], dict(dim=d), name=f"dim {d}") for d in (0, 1, 2, -1)] + [
    Case([(5,)], dict(dim=0), name="1-d"), Case([()], dict(dim=0), name="0-d"),
    Case([(3, 4)], dict(dim=1), layout="transposed"), Case([(3, 6)], dict(dim=0),
                                                           layout="sliced")]
SPECS += [
    OpSpec("nn.functional.softmax", F.softmax, _softmax_ref, _SOFTMAX, low=-4, high=4),
    OpSpec("nn.functional.log_softmax", F.log_softmax,
           lambda x, dim: _softmax_ref(x, dim, log=True), _SOFTMAX, low=-4, high=4),
]


# ----------------------------------------------------------------------------- losses
def _reduce(loss, reduction, count=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.sum(loss)
    return np.sum(loss) / (loss.size if count is None else count)


def _reductions(shapes, name="", diff=None, **kw):
    return [Case(shapes, dict(reduction=r, **kw), diff=diff, name=f"{name}{r}")
            for r in ("mean", "sum", "none")]


def _pointwise_ref(elem):
    def ref(x, t, reduction="mean", **kw):
        return _reduce(elem(x, t, **kw), reduction)
    return ref


def _smooth_l1(x, t, beta=1.0):
    d = np.abs(x - t)
    return np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)


def _huber(x, t, delta=1.0):
    d = np.abs(x - t)
    return np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))


def _weighted_mse(x, t, w, reduction="mean"):
    return _reduce(w * (x - t) ** 2, reduction, count=np.sum(w))


def _bce(p, t, w, reduction="mean"):
    loss = -w * (t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100))
    return _reduce(loss, reduction)


def _bce_logits_fn(x, t, w, pw, **kw):
    return F.binary_cross_entropy_with_logits(x * 8.0 - 4.0, t, w, pos_weight=pw, **kw)


def _bce_logits(x, t, w, pw, reduction="mean"):
    x = x * 8.0 - 4.0
    lw = 1 + (pw - 1) * t
    return _reduce(w * ((1 - t) * x + lw * _softplus(-x)), reduction)


_W4 = np.array([0.5, 1.0, 1.5, 2.0])
_PW4 = np.array([3.0, 0.5, 1.0, 2.0])

SPECS += [
    OpSpec("nn.functional.mse_loss", F.mse_loss, _pointwise_ref(lambda x, t: (x - t) ** 2),
           _reductions([(3, 4), (3, 4)]) + [Case([(), ()], name="0-d"),
                                            Case([(3, 4), (3, 4)], layout="transposed")]),
    OpSpec("nn.functional.mse_loss(weight)",
           lambda x, t, w, **kw: F.mse_loss(x, t, weight=w, **kw), _weighted_mse,
           _reductions([(3, 4), (3, 4), np.tile(_W4, (3, 1))], diff=[0, 1])),
    OpSpec("nn.functional.l1_loss", F.l1_loss, _pointwise_ref(lambda x, t: np.abs(x - t)),
           _reductions([(3, 4), (3, 4)])),
    OpSpec("nn.functional.smooth_l1_loss", F.smooth_l1_loss, _pointwise_ref(_smooth_l1),
           _reductions([(3, 4), (3, 4)]) + [Case([(3, 4), (3, 4)], dict(beta=0.5), "beta")]),
    OpSpec("nn.functional.huber_loss", F.huber_loss, _pointwise_ref(_huber),
           _reductions([(3, 4), (3, 4)]) + [Case([(3, 4), (3, 4)], dict(delta=0.5), "delta")]),
    OpSpec("nn.functional.binary_cross_entropy", F.binary_cross_entropy, _bce,
           [Case([(3, 4), (3, 4), _W4], dict(reduction=r), diff=[0, 1], name=r)
            for r in ("mean", "sum", "none")], low=0.02, high=0.98),
    OpSpec("nn.functional.binary_cross_entropy_with_logits", _bce_logits_fn, _bce_logits,
           [Case([(3, 4), (3, 4), _W4, _PW4], dict(reduction=r), diff=[0, 1], name=r)
            for r in ("mean", "sum", "none")], low=0.0, high=1.0),
]


def _class_last(x):
    """(S, C) view of (N, C, d...) or (C,) scores, and the shape of the per-sample loss."""
    if x.ndim == 1:
        return x[None, :], ()
    rows = np.moveaxis(x, 1, -1)
    return rows.reshape(-1, x.shape[1]), rows.shape[:-1]


def _log_softmax_rows(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _nll_ref(x, t, weight=None, ignore_index=-100, reduction="mean"):
    rows, shape = _class_last(x)
    t = np.asarray(t).reshape(-1)
    w = np.ones(rows.shape[1]) if weight is None else np.asarray(weight, np.float64)
    keep = t != ignore_index
    tt = np.where(keep, t, 0)
    wt = np.where(keep, w[tt], 0.0)
    loss = -wt * rows[np.arange(len(t)), tt]
    return _reduce(loss.reshape(shape), reduction, count=np.sum(wt))


def _ce_ref(x, t, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """torch's cross_entropy: log_softmax + nll, label smoothing as (1-ls) nll + ls/C smooth."""
    rows, shape = _class_last(x)
    C = rows.shape[1]
    logp = _log_softmax_rows(rows)
    w = np.ones(C) if weight is None else np.asarray(weight, np.float64)
    ls = label_smoothing
    if t.dtype.kind == "f":  # class probabilities
        q = _class_last(t)[0] * (1 - ls) + ls / C
        loss = -(q * w * logp).sum(axis=1)
        return _reduce(loss.reshape(shape), reduction, count=rows.shape[0])
    t = np.asarray(t).reshape(-1)
    keep = t != ignore_index
    tt = np.where(keep, t, 0)
    wt = np.where(keep, w[tt], 0.0)
    nll = -wt * logp[np.arange(len(t)), tt]
    smooth = np.where(keep, -(logp * w).sum(axis=1), 0.0)
    loss = (1 - ls) * nll + ls / C * smooth
    return _reduce(loss.reshape(shape), reduction, count=np.sum(wt))


_T5 = np.array([0, 3, 2, 4, 1])
_T5_IGN = np.array([0, -100, 2, 4, -100])
_T224 = np.array([[[0, 2, 1, 1], [2, 2, 0, 1]], [[1, 0, 0, 2], [0, 1, 2, 2]]])
_W5 = np.array([0.2, 1.0, 2.0, 0.7, 1.3])


_CE_INDEX = _reductions([(5, 5), _T5]) + [
    Case([(5, 5), _T5_IGN], dict(ignore_index=-100), name="ignore_index"),
    Case([(2, 3, 2, 4), _T224], name="(N, C, d1, d2)"),
    Case([(5,), np.array(3)], name="unbatched"),
    Case([(5, 5), _T5], layout="transposed", name="transposed"),
]
SPECS += [
    OpSpec("nn.functional.nll_loss", F.nll_loss, _nll_ref, _CE_INDEX),
    OpSpec("nn.functional.nll_loss(weight)", F.nll_loss, _nll_ref,
           [Case([(5, 5), _T5_IGN, _W5], dict(reduction=r), diff=[0], name=r)
            for r in ("mean", "sum", "none")]),
    OpSpec("nn.functional.cross_entropy", F.cross_entropy, _ce_ref, _CE_INDEX + [
        Case([(5, 5), _T5_IGN], dict(label_smoothing=0.2), name="smoothing+ignore"),
        Case([(2, 3, 4), (2, 3, 4)], name="probabilities (N, C, d)"),
        Case([(5, 5), (5, 5)], dict(label_smoothing=0.1, reduction="none"),
             name="probabilities smoothing"),
        Case([(5,), (5,)], dict(reduction="sum"), name="probabilities unbatched"),
    ], low=-3, high=3),
    OpSpec("nn.functional.cross_entropy(weight)", F.cross_entropy, _ce_ref,
           [Case([(5, 5), _T5_IGN, _W5], dict(reduction=r, label_smoothing=ls), diff=[0],
                 name=f"{r} ls={ls}") for r in ("mean", "sum", "none") for ls in (0.0, 0.3)] +
           [Case([(5, 5), (5, 5), _W5], dict(label_smoothing=0.2), diff=[0, 1],
                 name="probabilities")], low=-3, high=3),
]


# ----------------------------------------------------------------------------- normalisation
def _layer_norm_ref(x, w=None, b=None, normalized_shape=None, eps=1e-5):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    return y * (1 if w is None else w) + (0 if b is None else b)


def _batch_norm_ref(x, w, b, rm=None, rv=None, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if rm is None:
        mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    else:
        mu, var = rm.reshape(shape), rv.reshape(shape)
    return (x - mu) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


def _batch_norm_fn(x, w, b, rm=None, rv=None, eps=1e-5):
    if rm is None:
        return F.batch_norm(x, None, None, w, b, training=True, eps=eps)
    return F.batch_norm(x, rm.to(x.dtype), rv.to(x.dtype), w, b, training=False, eps=eps)


_RM3, _RV3 = np.array([0.1, -0.2, 0.3]), np.array([0.5, 1.5, 2.0])

SPECS += [
    OpSpec("nn.functional.layer_norm",
           lambda x, w=None, b=None, **kw: F.layer_norm(x, weight=w, bias=b, **kw),
           _layer_norm_ref, [
               Case([(2, 3, 4), (4,), (4,)], dict(normalized_shape=(4,)), name="last dim"),
               Case([(2, 3, 4), (3, 4), (3, 4)], dict(normalized_shape=(3, 4)), name="2 dims"),
               Case([(3, 5)], dict(normalized_shape=(5,), eps=1e-3), name="no affine"),
               Case([(4, 3), (3,), (3,)], dict(normalized_shape=(3,)), layout="transposed"),
           ], atol32=1e-4),
    OpSpec("nn.functional.batch_norm", _batch_norm_fn, _batch_norm_ref, [
        Case([(4, 3), (3,), (3,)], name="train (N, C)"),
        Case([(2, 3, 4), (3,), (3,)], name="train (N, C, L)"),
        Case([(2, 3, 2, 2), (3,), (3,)], dict(eps=1e-3), name="train (N, C, H, W)"),
        Case([(2, 3, 4), (3,), (3,), _RM3, _RV3], diff=[0, 1, 2], name="eval"),
        Case([(3, 4), (4,), (4,)], layout="transposed", name="train transposed"),
    ], atol32=1e-4),
]
