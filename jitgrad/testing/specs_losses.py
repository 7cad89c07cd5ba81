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
