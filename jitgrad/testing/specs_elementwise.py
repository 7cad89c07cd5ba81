"""Op table entries: binary arithmetic and unary math."""
import numpy as np

import jitgrad as jg

from .spec import Case, OpSpec

_BCAST = [
    Case([(3, 4), (3, 4)], name="same"),
    Case([(2, 3, 4), (4,)], name="trailing"),
    Case([(3, 1), (1, 4)], name="outer"),
    Case([(2, 3), ()], name="0-d"),
    Case([(), ()], name="both 0-d"),
    Case([(3, 4), (3, 4)], layout="transposed", name="transposed"),
    Case([(2, 6), (2, 6)], layout="sliced", name="sliced"),
]


def _binary(name, ref, **kw):
    return OpSpec(name, getattr(jg, name), ref, _BCAST, **kw)


def _away_from_zero(x):
    return np.abs(x) < 0.2


def _ties_apart(x):
    return np.abs(x) < 0.05


SPECS = [
    _binary("add", np.add),
    _binary("sub", np.subtract),
    _binary("mul", np.multiply),
    _binary("div", np.divide, avoid=_away_from_zero),
    OpSpec("pow", jg.pow, np.power, _BCAST, low=0.5, high=2.0),
    OpSpec("maximum", jg.maximum, np.maximum, _BCAST, avoid=_ties_apart),
    OpSpec("minimum", jg.minimum, np.minimum, _BCAST, avoid=_ties_apart),
]

_UNARY = [Case([(3, 4)]), Case([()], name="0-d"), Case([(4, 3)], layout="transposed"),
          Case([(2, 6)], layout="sliced")]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


for _name, _ref, _kw in [
    ("neg", np.negative, {}), ("exp", np.exp, {}), ("log", np.log, dict(low=0.1, high=3)),
    ("log1p", np.log1p, dict(low=-0.5, high=3)), ("sqrt", np.sqrt, dict(low=0.1, high=3)),
    ("rsqrt", lambda x: 1 / np.sqrt(x), dict(low=0.1, high=3)),
    ("abs", np.abs, dict(avoid=_ties_apart)), ("sin", np.sin, {}), ("cos", np.cos, {}),
    ("tanh", np.tanh, {}), ("sigmoid", _sigmoid, {}),
    ("relu", lambda x: np.maximum(x, 0), dict(avoid=_ties_apart)),
    ("sign", np.sign, dict(avoid=_ties_apart)),
]:
    SPECS.append(OpSpec(_name, getattr(jg, _name), _ref, _UNARY, **_kw))

SPECS.append(OpSpec(
    "clamp", jg.clamp, lambda x, min=None, max=None: np.clip(x, min, max),
    [Case([(3, 4)], dict(min=-0.5, max=0.7)), Case([()], dict(min=-0.5)),
     Case([(4, 3)], dict(max=0.3), layout="transposed")],
    avoid=lambda x: (np.abs(x + 0.5) < 0.05) | (np.abs(x - 0.7) < 0.05) |
    (np.abs(x - 0.3) < 0.05)))
