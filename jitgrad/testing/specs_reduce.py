"""Op table entries: reductions (sum, mean, var, std, max, min, amax, amin, argmax, argmin,
logsumexp, prod, norm)."""
import numpy as np

import jitgrad as jg

from .spec import Case, OpSpec


def _ax(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def _zero_d_dim(x, dim):
    """torch accepts dim 0 / -1 on a 0-d tensor (a no-op reduction); NumPy does not."""
    return None if x.ndim == 0 else dim


def _cases(all_dims=None, tuple_dim=(0, 2), zero_d=True):
    """no dim, single dim, negative dim, tuple dim (non-trailing), keepdim, 0-d, transposed,
    sliced. `all_dims` replaces the no-dim case's kwargs (for ops that need a dim)."""
    cases = [
        Case([(3, 4)], all_dims or {}, name="all"),
        Case([(3, 4)], dict(dim=1), name="dim"),
        Case([(2, 3, 4)], dict(dim=-2), name="negative dim"),
        Case([(2, 3, 4)], dict(dim=1, keepdim=True), name="keepdim"),
        Case([(4, 3)], dict(dim=0), layout="transposed", name="transposed"),
        Case([(3, 6)], dict(dim=1), layout="sliced", name="sliced"),
    ]
    if tuple_dim is not None:
        cases.append(Case([(2, 3, 4)], dict(dim=tuple_dim), name="tuple dim"))
    if zero_d:
        cases.append(Case([()], all_dims or {}, name="0-d"))
    return cases


def _np_reduce(f):
    def ref(x, dim=None, keepdim=False, **kw):
        return np.asarray(f(x, axis=_ax(dim), keepdims=keepdim, **kw), x.dtype)
    return ref


def _var_ref(x, dim=None, keepdim=False, correction=1, unbiased=None):
    ddof = correction if unbiased is None else int(unbiased)
    return np.asarray(np.var(x, axis=_ax(dim), ddof=ddof, keepdims=keepdim), x.dtype)


def _std_ref(x, **kw):
    return np.sqrt(_var_ref(x, **kw))


def _extremum_ref(values, args):
    def ref(x, dim=None, keepdim=False):
        if dim is None:
            return np.asarray(values(x), x.dtype)
        if x.ndim == 0:
            return x.copy(), np.asarray(0, np.int64)
        return (values(x, axis=dim, keepdims=keepdim), args(x, axis=dim, keepdims=keepdim))
    return ref


def _arg_ref(args):
    def ref(x, dim=None, keepdim=False):
        out = args(x, axis=_zero_d_dim(x, dim), keepdims=keepdim)
        return np.asarray(out, np.int64)
    return ref


def _logsumexp_ref(x, dim, keepdim=False):
    if x.ndim == 0:
        return x.copy()
    x64 = x.astype(np.float64)
    m = np.max(x64, axis=_ax(dim), keepdims=True)
    out = np.log(np.sum(np.exp(x64 - m), axis=_ax(dim), keepdims=True)) + m
    if not keepdim:
        out = np.squeeze(out, axis=_ax(dim))
    return out.astype(x.dtype)


def _norm_ref(x, p="fro", dim=None, keepdim=False):
    a = np.abs(x.astype(np.float64))
    ax = _ax(dim)
    if p == "fro" or p == 2:
        out = np.sqrt(np.sum(a * a, axis=ax, keepdims=keepdim))
    elif p == np.inf:
        out = np.max(a, axis=ax, keepdims=keepdim)
    elif p == -np.inf:
        out = np.min(a, axis=ax, keepdims=keepdim)
    else:
        out = np.sum(a ** p, axis=ax, keepdims=keepdim) ** (1.0 / p)
    return np.asarray(out, x.dtype)


def _away_from_zero(x):
    return np.abs(x) < 0.1


_EXTREMUM_DIM = [  # max/min/argmax/argmin: dim is one int
    Case([(3, 4)], name="all"),
    Case([(3, 4)], dict(dim=1), name="dim"),
    Case([(2, 3, 4)], dict(dim=-2), name="negative dim"),
    Case([(2, 3, 4)], dict(dim=0, keepdim=True), name="keepdim"),
    Case([()], name="0-d"),
    Case([()], dict(dim=0), name="0-d dim"),
    Case([(4, 3)], dict(dim=0), layout="transposed", name="transposed"),
    Case([(3, 6)], dict(dim=1), layout="sliced", name="sliced"),
]

_NORM = [
    Case([(3, 4)], name="fro all"),
    Case([(3, 4)], dict(p=2, dim=1), name="p2 dim"),
    Case([(2, 3, 4)], dict(p=1, dim=-1), name="p1 negative dim"),
    Case([(2, 3, 4)], dict(p=np.inf, dim=(0, 2)), name="inf tuple dim"),
    Case([(2, 3, 4)], dict(p=-np.inf, dim=1), name="-inf"),
    Case([(2, 3, 4)], dict(p=3, dim=1, keepdim=True), name="p3 keepdim"),
    Case([(3, 4)], dict(p=0.5, dim=1), name="p0.5"),
    Case([()], name="0-d"),
    Case([(4, 3)], dict(dim=0), layout="transposed", name="transposed"),
    Case([(3, 6)], dict(p=1.5, dim=1), layout="sliced", name="sliced"),
]

SPECS = [
    OpSpec("sum", jg.sum, _np_reduce(np.sum), _cases()),
    OpSpec("mean", jg.mean, _np_reduce(np.mean), _cases()),
    OpSpec("var", jg.var, _var_ref, _cases(zero_d=False) + [
        Case([(3, 4)], dict(dim=1, correction=0), name="correction 0"),
        Case([(3, 4)], dict(dim=0, unbiased=False), name="unbiased False"),
        Case([()], dict(correction=0), name="0-d")]),
    OpSpec("std", jg.std, _std_ref, _cases(zero_d=False) + [
        Case([(3, 4)], dict(dim=1, correction=0), name="correction 0")]),
    OpSpec("max", jg.max, _extremum_ref(np.max, np.argmax), _EXTREMUM_DIM),
    OpSpec("min", jg.min, _extremum_ref(np.min, np.argmin), _EXTREMUM_DIM),
    OpSpec("amax", jg.amax, _np_reduce(np.max), _cases()),
    OpSpec("amin", jg.amin, _np_reduce(np.min), _cases()),
    OpSpec("argmax", jg.argmax, _arg_ref(np.argmax), _EXTREMUM_DIM, grad=False),
    OpSpec("argmin", jg.argmin, _arg_ref(np.argmin), _EXTREMUM_DIM, grad=False),
    OpSpec("logsumexp", jg.logsumexp, _logsumexp_ref, _cases(all_dims=dict(dim=(0, 1)),
                                                             zero_d=False) +
           [Case([()], dict(dim=0), name="0-d")]),
    OpSpec("prod", jg.prod, _np_reduce(np.prod), _cases(), low=-1.5, high=1.5,
           avoid=_away_from_zero),
    OpSpec("norm", jg.norm, _norm_ref, _NORM, avoid=_away_from_zero),
]
