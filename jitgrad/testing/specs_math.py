"""Op table entries: the further unary and binary math, rounding divisions, predicates, bitwise
and logical ops, and the in-place forms with arguments (jitgrad/_ops/*_math.py, logical.py,
predicates.py)."""
import math

import numpy as np

import jitgrad as jg

from .spec import Case, OpSpec

_UNARY = [Case([(3, 4)]), Case([()], name="0-d"), Case([(4, 3)], layout="transposed"),
          Case([(2, 6)], layout="sliced")]
_BCAST = [Case([(3, 4), (3, 4)], name="same"), Case([(2, 3, 4), (4,)], name="trailing"),
          Case([(3, 1), (1, 4)], name="outer"), Case([(2, 3), ()], name="0-d"),
          Case([(3, 4), (3, 4)], layout="transposed", name="transposed")]


def _near_integer(x):
    return np.abs(x - np.round(x)) < 0.05


def _near_half(x):
    return np.abs(x - np.floor(x) - 0.5) < 0.05


def _near_zero(x):
    return np.abs(x) < 0.2


def _erfinv_ref(y):
    """Bisection on math.erf: slow and obviously right."""
    def one(v):
        lo, hi = -6.0, 6.0
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if math.erf(mid) < v else (lo, mid)
        return 0.5 * (lo + hi)
    return np.vectorize(one, otypes=[np.float64])(y).astype(y.dtype)


def _vectorised(f):
    return lambda x: np.vectorize(f, otypes=[np.float64])(x).astype(x.dtype)


SPECS = []
for _name, _ref, _kw in [
    ("tan", np.tan, dict(low=-1.2, high=1.2)), ("sinh", np.sinh, {}), ("cosh", np.cosh, {}),
    ("asin", np.arcsin, dict(low=-0.9, high=0.9)), ("acos", np.arccos, dict(low=-0.9, high=0.9)),
    ("atan", np.arctan, {}), ("asinh", np.arcsinh, {}), ("acosh", np.arccosh, dict(low=1.1, high=3)),
    ("atanh", np.arctanh, dict(low=-0.9, high=0.9)),
    ("floor", np.floor, dict(avoid=_near_integer)), ("ceil", np.ceil, dict(avoid=_near_integer)),
    ("trunc", np.trunc, dict(avoid=_near_integer)), ("round", np.round, dict(avoid=_near_half)),
    ("frac", lambda x: x - np.trunc(x), dict(avoid=_near_integer)),
    ("log2", np.log2, dict(low=0.1, high=3)), ("log10", np.log10, dict(low=0.1, high=3)),
    ("exp2", np.exp2, {}), ("expm1", np.expm1, {}),
    ("erf", _vectorised(math.erf), {}), ("erfc", _vectorised(math.erfc), {}),
    ("erfinv", _erfinv_ref, dict(low=-0.9, high=0.9)),
    ("reciprocal", np.reciprocal, dict(avoid=_near_zero)), ("square", np.square, {}),
    ("sgn", np.sign, dict(avoid=_near_zero)),
]:
    SPECS.append(OpSpec(_name, getattr(jg, _name), _ref, _UNARY, **_kw))

SPECS += [
    OpSpec("round(decimals)", jg.round, lambda x, decimals: np.round(x, decimals),
           [Case([(3, 4)], dict(decimals=1)), Case([(4, 3)], dict(decimals=2), layout="transposed")],
           avoid=lambda x: _near_half(x * 100) | _near_half(x * 10)),
    OpSpec("nan_to_num", jg.nan_to_num, lambda x, **kw: np.nan_to_num(x, **kw),
           _UNARY[:3] + [Case([(3, 4)], dict(nan=1.0, posinf=2.0, neginf=-2.0))]),
    OpSpec("atan2", jg.atan2, np.arctan2, _BCAST),
    OpSpec("hypot", jg.hypot, np.hypot, _BCAST, avoid=_near_zero),
    OpSpec("xlogy", jg.xlogy, lambda a, b: a * np.log(b), _BCAST, low=0.1, high=3.0),
    # the quotient of inputs in [0.5, 3] is an integer (a jump) nowhere near the samples drawn
    OpSpec("floor_divide", jg.floor_divide, np.floor_divide, _BCAST, low=0.5, high=3.0),
    OpSpec("remainder", jg.remainder, np.remainder, _BCAST, low=0.5, high=3.0),
    OpSpec("fmod", jg.fmod, np.fmod, _BCAST, low=-3.0, high=3.0, avoid=lambda x: np.abs(x) < 0.5),
    OpSpec("div(rounding_mode=floor)", lambda a, b: jg.div(a, b, rounding_mode="floor"),
           np.floor_divide, _BCAST[:2], low=0.5, high=3.0),
    OpSpec("div(rounding_mode=trunc)", lambda a, b: jg.div(a, b, rounding_mode="trunc"),
           lambda a, b: np.trunc(a / b), _BCAST[:2], low=-3.0, high=3.0,
           avoid=lambda x: np.abs(x) < 0.5),
    OpSpec("lerp", jg.lerp, lambda a, b, w: a + w * (b - a),
           [Case([(3, 4), (3, 4), (3, 4)], name="tensor weight"),
            Case([(2, 3, 4), (4,), ()], name="broadcast"),
            Case([(3, 4), (3, 4), 0.3], name="weight 0.3"),
            Case([(4, 3), (4, 3), 0.8], layout="transposed", name="weight 0.8")],
           avoid=lambda x: np.abs(np.abs(x) - 0.5) < 0.05),
]

# in-place forms: on a non-leaf (x * 1), so the graph path (taking over the node) is checked
SPECS += [
    OpSpec("pow_", lambda x, e: (x * 1).pow_(e), np.power,
           [Case([(3, 4), 2.5]), Case([(3, 4), (4,)]), Case([(), ()], name="0-d")],
           low=0.5, high=2.0),
    OpSpec("clamp_", lambda x, **kw: (x * 1).clamp_(**kw),
           lambda x, min=None, max=None: np.clip(x, min, max),
           [Case([(3, 4)], dict(min=-0.5, max=0.7)), Case([(4, 3)], dict(max=0.3),
                                                         layout="transposed")],
           avoid=lambda x: (np.abs(x + 0.5) < 0.05) | (np.abs(x - 0.7) < 0.05) |
           (np.abs(x - 0.3) < 0.05)),
    OpSpec("fill_", lambda x, v: (x * 1).fill_(v),
           lambda x, v: np.full(x.shape, v, (x * 1).dtype),
           [Case([(3, 4), 0.5], name="number"), Case([(3, 4), ()], name="0-d tensor")]),
    OpSpec("copy_", lambda x, s: (x * 1).copy_(s),
           lambda x, s: np.broadcast_to(s, x.shape).astype((x * 1).dtype),
           [Case([(3, 4), (3, 4)]), Case([(2, 3, 4), (4,)], name="broadcast"),
            Case([(4, 3), (4, 3)], layout="transposed")]),
]

# predicates and integer / bool ops: no gradient
_SPECIAL = np.array([[0.0, -1.5, np.nan, np.inf], [-np.inf, 2.0, 1e-30, -0.0]])
_INTS = np.array([[7, -7, 3, 0], [12, -1, 5, 9]], np.int64)
_SHIFTS = np.array([[1, 2, 0, 3], [63, 64, 5, -1]], np.int64)
_MASK = np.array([[True, False, True, False], [False, False, True, True]])


def _tensor_of(fn):
    return lambda *xs, **kw: jg.tensor(fn(*xs, **kw))


SPECS += [OpSpec(n, getattr(jg, n), getattr(np, n), [Case([(3, 4)]), Case([_SPECIAL])],
                 grad=False) for n in ("isnan", "isinf", "isposinf", "isneginf", "isfinite")]
SPECS += [
    OpSpec("isclose", jg.isclose, np.isclose,
           [Case([(3, 4), (3, 4)]), Case([(2, 3, 4), (4,)], dict(rtol=0.5, atol=0.1))],
           grad=False),
    OpSpec("allclose", _tensor_of(jg.allclose), np.allclose,
           [Case([(3, 4), (3, 4)]), Case([(3, 4), (3, 4)], dict(atol=10.0))], grad=False),
    OpSpec("equal", _tensor_of(jg.equal), np.array_equal,
           [Case([(3, 4), (3, 4)]), Case([_INTS, _INTS])], grad=False),
]


def _shift_ref(left):
    def ref(a, b):
        out = np.zeros(np.broadcast(a, b).shape, np.int64)
        for idx in np.ndindex(out.shape):
            x, s = int(np.broadcast_to(a, out.shape)[idx]), int(np.broadcast_to(b, out.shape)[idx])
            if left:
                v = (x << s) if 0 <= s < 64 else 0
                v = (v + 2**63) % 2**64 - 2**63  # wrap to int64
            else:
                v = x >> s if 0 <= s < 64 else (-1 if x < 0 else 0)
            out[idx] = v
        return out
    return ref


SPECS += [OpSpec(n, getattr(jg, n), ref, [Case([_INTS, _INTS[::-1]]), Case([_MASK, _MASK[::-1]]),
                                          Case([_INTS, 6])], grad=False)
          for n, ref in [("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                         ("bitwise_xor", np.bitwise_xor)]]
SPECS += [
    OpSpec("bitwise_not", jg.bitwise_not, np.invert, [Case([_INTS]), Case([_MASK])], grad=False),
    OpSpec("bitwise_left_shift", jg.bitwise_left_shift, _shift_ref(True),
           [Case([_INTS, _SHIFTS]), Case([_INTS, 2])], grad=False),
    OpSpec("bitwise_right_shift", jg.bitwise_right_shift, _shift_ref(False),
           [Case([_INTS, _SHIFTS]), Case([_INTS, 1])], grad=False),
]
SPECS += [OpSpec(n, getattr(jg, n), getattr(np, n),
                 [Case([(3, 4), (3, 4)]), Case([_INTS, _MASK]), Case([_SPECIAL, (4,)])], grad=False)
          for n in ("logical_and", "logical_or", "logical_xor")]
SPECS.append(OpSpec("logical_not", jg.logical_not, np.logical_not,
                    [Case([(3, 4)]), Case([_INTS]), Case([_SPECIAL])], grad=False))
