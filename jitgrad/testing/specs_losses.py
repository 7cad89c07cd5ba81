"""Op table entries for the second batch of nn.functional: activations (hardswish ...
prelu), distances (normalize, cosine_similarity, pairwise_distance) and losses (kl_div ...
multilabel_soft_margin_loss), each with a plain-NumPy reference written from PyTorch's
formulas."""
import numpy as np

import jitgrad as jg

from .spec import Case, OpSpec

F = jg.nn.functional

_ACT = [Case([(3, 4)]), Case([()], name="0-d"), Case([(4, 3)], layout="transposed"),
        Case([(2, 6)], layout="sliced")]


def _near(*points, tol=0.05):
    return lambda x: np.any([np.abs(x - p) < tol for p in points], axis=0)


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _act(name, ref, cases=_ACT, **kw):
    return OpSpec(f"nn.functional.{name}", getattr(F, name), ref, cases, **kw)


def _softmin_ref(x, dim):
    if x.ndim == 0:
        return np.ones_like(x)
    z = -x - np.max(-x, axis=dim, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=dim, keepdims=True)


def _glu_ref(x, dim=-1):
    a, b = np.split(x, 2, axis=dim)
    return a * _sig(b)


def _prelu_fn(x, w):
    return F.prelu(x, w)


def _prelu_ref(x, w):
    if w.size > 1:
        w = w.reshape((w.size,) + (1,) * (x.ndim - 2))
    else:
        w = w.reshape(())
    return np.where(x > 0, x, w * x)


SPECS = [
    _act("hardswish", lambda x: x * np.clip(x + 3, 0, 6) / 6, low=-4, high=4,
         avoid=_near(-3, 3)),
    _act("hardsigmoid", lambda x: np.clip(x + 3, 0, 6) / 6, low=-4, high=4,
         avoid=_near(-3, 3)),
    _act("softsign", lambda x: x / (1 + np.abs(x)), avoid=_near(0)),
    _act("tanhshrink", lambda x: x - np.tanh(x)),
    _act("threshold", lambda x, threshold, value: np.where(x <= threshold, value, x),
         [Case([(3, 4)], dict(threshold=0.5, value=-2.0)),
          Case([()], dict(threshold=0.0, value=3.0), name="0-d"),
          Case([(4, 3)], dict(threshold=-0.5, value=0.0), layout="transposed")],
         avoid=_near(0.5, 0.0, -0.5)),
    _act("celu", lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(x / alpha)),
         _ACT + [Case([(3, 4)], dict(alpha=0.5), name="alpha")], avoid=_near(0)),
    _act("logsigmoid", lambda x: -_softplus(-x), low=-6, high=6),
    _act("softmin", _softmin_ref,
         [Case([(2, 3, 4)], dict(dim=d), name=f"dim {d}") for d in (0, 1, -1)] +
         [Case([()], dict(dim=0), name="0-d"),
          Case([(3, 4)], dict(dim=1), layout="transposed")], low=-3, high=3),
    _act("glu", _glu_ref,
         [Case([(3, 4)]), Case([(2, 4, 3)], dict(dim=1), name="dim 1"),
          Case([(1, 6)], dict(dim=-1), name="batch 1"),
          Case([(4, 6)], dict(dim=0), layout="transposed")], low=-3, high=3),
    OpSpec("nn.functional.prelu", _prelu_fn, _prelu_ref,
           [Case([(2, 3, 4), (3,)], name="channels"), Case([(2, 3), (1,)], name="shared"),
            Case([(5,), (1,)], name="1-d"), Case([(), (1,)], name="0-d"),
            Case([(1, 3, 2, 2), (3,)], name="batch 1 2-d"),
            Case([(3, 4), (4,)], layout="transposed")], avoid=_near(0)),
]


# ----------------------------------------------------------------------------- distances
def _normalize_ref(x, p=2.0, dim=1, eps=1e-12):
    n = np.sum(np.abs(x) ** p, axis=dim, keepdims=True) ** (1.0 / p)
    return x / np.maximum(n, eps)


def _cos_ref(a, b, dim=1, eps=1e-8):
    a, b = np.broadcast_arrays(a, b)
    na = np.maximum(np.sqrt(np.sum(a * a, axis=dim, keepdims=True)), eps)
    nb = np.maximum(np.sqrt(np.sum(b * b, axis=dim, keepdims=True)), eps)
    return np.sum(a / na * (b / nb), axis=dim)


def _pdist_ref(a, b, p=2.0, eps=1e-6, keepdim=False):
    d = np.abs(a - b + eps)
    axis = max(a.ndim, b.ndim) - 1
    return np.sum(d ** p, axis=axis, keepdims=keepdim) ** (1.0 / p)


SPECS += [
    OpSpec("nn.functional.normalize", F.normalize, _normalize_ref,
           [Case([(3, 4)]), Case([(2, 3, 4)], dict(dim=-1, p=1.0), name="p1 last"),
            Case([(1, 5)], dict(dim=0), name="batch 1 dim 0"),
            Case([(4, 3)], layout="transposed")], avoid=_near(0)),
    OpSpec("nn.functional.cosine_similarity", F.cosine_similarity, _cos_ref,
           [Case([(3, 4), (3, 4)]), Case([(1, 5), (4, 5)], dict(dim=-1), name="broadcast"),
            Case([(2, 3, 4), (2, 3, 4)], dict(dim=0), name="dim 0"),
            Case([(3, 4), (3, 4)], layout="transposed")]),
    OpSpec("nn.functional.pairwise_distance", F.pairwise_distance, _pdist_ref,
           [Case([(3, 4), (3, 4)]), Case([(3, 4), (4,)], dict(p=1.0, keepdim=True), name="p1"),
            Case([(1, 5), (1, 5)], dict(p=3.0), name="batch 1 p3"),
            Case([(4, 3), (4, 3)], layout="sliced")], avoid=_near(0, tol=0.1)),
]


# ----------------------------------------------------------------------------- losses
def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return np.sum(loss) if reduction == "sum" else np.mean(loss)


def _reductions(shapes, name="", diff=None, **kw):
    return [Case(shapes, dict(reduction=r, **kw), diff=diff, name=f"{name}{r}")
            for r in ("mean", "sum", "none")]


def _kl_fn(x, t, **kw):  # t in [0.02, 0.98]: probabilities (or log-probabilities) as drawn
    return F.kl_div(x, t if not kw.get("log_target") else t.log(), **kw)


def _kl_ref(x, t, reduction="mean", log_target=False):
    loss = t * (np.log(t) - x)
    if reduction == "batchmean":
        return np.sum(loss) / x.shape[0]
    return _reduce(loss, reduction)


def _kl_mean_fn(x, t, **kw):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _kl_fn(x, t, **kw)


def _stirling(t):
    return np.where(t > 1, t * np.log(t) - t + 0.5 * np.log(2 * np.pi * t), 0.0)


def _poisson_fn(x, t, **kw):
    return F.poisson_nll_loss(x, t * 3.0, **kw)


def _poisson_ref(x, t, log_input=True, full=False, eps=1e-8, reduction="mean"):
    t = t * 3.0
    loss = np.exp(x) - t * x if log_input else x - t * np.log(x + eps)
    return _reduce(loss + (_stirling(t) if full else 0.0), reduction)


def _gauss_fn(x, t, v, **kw):
    return F.gaussian_nll_loss(x, t, v + 2.1, **kw)


def _gauss_ref(x, t, v, full=False, eps=1e-6, reduction="mean"):
    v = v + 2.1
    if v.shape != x.shape and v.shape == x.shape[:-1]:
        v = v[..., None]
    v = np.maximum(v, eps)
    loss = 0.5 * (np.log(v) + (x - t) ** 2 / v) + (0.5 * np.log(2 * np.pi) if full else 0.0)
    return _reduce(np.broadcast_to(loss, np.broadcast_shapes(x.shape, loss.shape)), reduction)


def _mlsm_fn(x, t, *w, **kw):
    return F.multilabel_soft_margin_loss(x * 4.0 - 2.0, (t > 0.5) * 1.0, *w, **kw)


def _mlsm_ref(x, t, w=None, reduction="mean"):
    x = x * 4.0 - 2.0
    t = (t > 0.5) * 1.0
    loss = t * _softplus(-x) + (1 - t) * _softplus(x)
    if w is not None:
        loss = loss * w
    return _reduce(loss.mean(axis=-1), reduction)


_T5 = np.array([1.0, -1.0, 1.0, -1.0, -1.0])


def _cel_ref(a, b, t, margin=0.0, reduction="mean"):
    d = t.ndim
    cos = np.sum(a * b, axis=d) / np.sqrt((np.sum(a * a, axis=d) + 1e-12)
                                          * (np.sum(b * b, axis=d) + 1e-12))
    loss = np.where(t == 1, 1 - cos, 0.0) + np.where(t == -1, np.maximum(cos - margin, 0), 0.0)
    return _reduce(loss, reduction)


def _mrl_ref(a, b, t, margin=0.0, reduction="mean"):
    return _reduce(np.maximum(-t * (a - b) + margin, 0), reduction)


def _mrl_fn(a, b, t, **kw):  # the +-1 target in the inputs' dtype (else the result promotes)
    return F.margin_ranking_loss(a, b, t.to(a.dtype), **kw)


def _triplet_ref(a, p, n, margin=1.0, p_norm=2.0, eps=1e-6, swap=False, reduction="mean"):
    dp = _pdist_ref(a, p, p_norm, eps)
    dn = _pdist_ref(a, n, p_norm, eps)
    if swap:
        dn = np.minimum(dn, _pdist_ref(p, n, p_norm, eps))
    return _reduce(np.maximum(margin + dp - dn, 0), reduction)


def _triplet_fn(a, p, n, p_norm=2.0, **kw):
    return F.triplet_margin_loss(a, p, n, p=p_norm, **kw)


SPECS += [
    OpSpec("nn.functional.kl_div", _kl_mean_fn, _kl_ref,
           _reductions([(3, 4), (3, 4)]) +
           [Case([(3, 4), (3, 4)], dict(reduction="batchmean"), name="batchmean"),
            Case([(2, 5), (2, 5)], dict(reduction="batchmean", log_target=True),
                 name="log_target"),
            Case([(4, 3), (4, 3)], dict(reduction="sum"), layout="transposed")],
           low=0.02, high=0.98),
    OpSpec("nn.functional.poisson_nll_loss", _poisson_fn, _poisson_ref,
           _reductions([(3, 4), (3, 4)]) +
           [Case([(3, 4), (3, 4)], dict(full=True), name="full"),
            Case([(3, 4), (3, 4)], dict(log_input=False), name="linear"),
            Case([(2, 3), (2, 3)], dict(log_input=False, full=True, reduction="sum"),
                 name="linear full"),
            Case([(), ()], name="0-d")],
           low=0.05, high=1.5, avoid=_near(1 / 3, tol=0.02)),
    OpSpec("nn.functional.gaussian_nll_loss", _gauss_fn, _gauss_ref,
           _reductions([(3, 4), (3, 4), (3, 4)]) +
           [Case([(3, 4), (3, 4), (3,)], dict(full=True), name="homoscedastic full"),
            Case([(3, 4), (3, 4), (3, 1)], dict(eps=1e-3), name="var (N, 1)"),
            Case([(4, 3), (4, 3), (4, 3)], layout="transposed")]),
    OpSpec("nn.functional.multilabel_soft_margin_loss", _mlsm_fn, _mlsm_ref,
           _reductions([(3, 4), (3, 4)], diff=None) +
           [Case([(3, 4), (3, 4), np.array([0.5, 1.0, 2.0, 1.5])], name="weight",
                 diff=[0]),
            Case([(5,), (5,)], name="1-d")], low=0.0, high=1.0,
           avoid=_near(0.5)),
    OpSpec("nn.functional.cosine_embedding_loss", F.cosine_embedding_loss, _cel_ref,
           _reductions([(5, 3), (5, 3), _T5], diff=[0, 1]) +
           [Case([(5, 3), (5, 3), _T5], dict(margin=-0.5), diff=[0, 1], name="margin"),
            Case([(4,), (4,), np.array(1.0)], diff=[0, 1], name="0-d target")]),
    OpSpec("nn.functional.margin_ranking_loss", _mrl_fn, _mrl_ref,
           _reductions([(5,), (5,), _T5], diff=[0, 1]) +
           [Case([(5,), (5,), _T5], dict(margin=0.5), diff=[0, 1], name="margin")]),
    OpSpec("nn.functional.triplet_margin_loss", _triplet_fn, _triplet_ref,
           _reductions([(4, 3), (4, 3), (4, 3)]) +
           [Case([(4, 3), (4, 3), (4, 3)], dict(swap=True, margin=0.5, p_norm=1.0),
                 name="swap p1"),
            Case([(1, 5), (1, 5), (1, 5)], dict(margin=3.0), name="batch 1")]),
]
