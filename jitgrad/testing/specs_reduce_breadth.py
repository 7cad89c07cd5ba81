"""Op table entries: scans (cumsum, cumprod, cummax, cummin, logcumsumexp), order statistics
(sort, argsort, topk, kthvalue, median, mode, unique) and the reductions nansum, nanmean,
aminmax, all, any, count_nonzero.

Random inputs are continuous, so they have no ties: the gradients checked here are the unique
ones (with ties, sort/topk/kthvalue/median/mode send the gradient to one of the tied
elements, which finite differences cannot check). References are slow and obvious.
"""
import numpy as np

import jitgrad as jg

from .spec import Case, OpSpec


def _ax(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def _last(x, dim):
    """x with `dim` moved last (a 0-d x as one element), for row-by-row references."""
    return np.moveaxis(x.reshape(x.shape or (1,)), dim, -1)


def _back(rows, x, dim, keepdim=True):
    """Inverse of _last for a result with `dim` of any size (dropped if not keepdim)."""
    if x.ndim == 0:
        return rows.reshape(())
    out = np.moveaxis(rows, -1, dim)
    return out if keepdim else np.squeeze(out, axis=dim)


# ----------------------------------------------------------------------------- scans
_SCAN = [
    Case([(3, 4)], dict(dim=1), name="dim 1"),
    Case([(2, 3, 4)], dict(dim=0), name="leading dim"),
    Case([(2, 3, 4)], dict(dim=-2), name="negative dim"),
    Case([(5,)], dict(dim=0), name="1-d"),
    Case([(1, 4)], dict(dim=1), name="batch 1"),
    Case([()], dict(dim=0), name="0-d"),
    Case([(4, 3)], dict(dim=0), layout="transposed", name="transposed"),
    Case([(3, 6)], dict(dim=1), layout="sliced", name="sliced"),
]


def _accumulate(ufunc):
    def ref(x, dim):
        return x.copy() if x.ndim == 0 else ufunc.accumulate(x, axis=dim)
    return ref


def _cumext_ref(better):
    """(values, indices) of the running extremum: a later element replaces on ties."""
    def ref(x, dim):
        rows = _last(x, dim)
        values = np.empty(rows.shape, x.dtype)
        indices = np.empty(rows.shape, np.int64)
        for r in np.ndindex(rows.shape[:-1]):
            best = 0
            for k in range(rows.shape[-1]):
                if better(rows[r + (k,)], rows[r + (best,)]) or rows[r + (k,)] == rows[r + (best,)]:
                    best = k
                values[r + (k,)] = rows[r + (best,)]
                indices[r + (k,)] = best
        return _back(values, x, dim), _back(indices, x, dim)
    return ref


def _logcumsumexp_ref(x, dim):
    if x.ndim == 0:
        return x.copy()
    return np.logaddexp.accumulate(x.astype(np.float64), axis=dim).astype(x.dtype)


def _cumprod_zeros(x, dim):
    """cumprod of x with zeros written at every third element (rows that hold zeros)."""
    return jg.cumprod(jg.where(_third(x.shape), x * 0.0, x), dim)


def _cumprod_zeros_ref(x, dim):
    return np.cumprod(np.where(_third(x.shape), 0.0, x).astype(x.dtype), axis=dim)


def _third(shape, k=3):
    """Mask of every k-th element (flat positions 1, 1 + k, ...)."""
    return (np.arange(int(np.prod(shape))) % k == 1).reshape(shape)


# ----------------------------------------------------------------------------- order statistics
_ORDER = [
    Case([(3, 4)], name="default dim"),
    Case([(3, 4)], dict(dim=0), name="dim 0"),
    Case([(2, 3, 4)], dict(dim=-2), name="negative dim"),
    Case([(2, 3, 5)], dict(dim=1, descending=True), name="descending"),
    Case([(1, 5)], dict(dim=1), name="batch 1"),
    Case([()], name="0-d"),
    Case([(4, 3)], dict(dim=0), layout="transposed", name="transposed"),
    Case([(3, 6)], dict(dim=1, descending=True), layout="sliced", name="sliced"),
]


def _argsort_ref(x, dim=-1, descending=False):
    if x.ndim == 0:
        return np.zeros((), np.int64)
    return np.argsort(-x if descending else x, axis=dim, kind="stable")


def _sort_ref(x, dim=-1, descending=False, stable=False):
    idx = _argsort_ref(x, dim, descending)
    return (x.copy(), idx) if x.ndim == 0 else (np.take_along_axis(x, idx, dim), idx)


_TOPK = [
    Case([(3, 5)], dict(k=2), name="k 2"),
    Case([(3, 5)], dict(k=3, dim=0, largest=False), name="smallest dim 0"),
    Case([(2, 3, 4)], dict(k=4, dim=-1), name="k = n"),
    Case([(2, 3, 4)], dict(k=1, dim=1), name="k 1"),
    Case([(2, 12)], dict(k=2), name="partial sort"),
    Case([(13, 2)], dict(k=3, dim=0, largest=False), name="partial sort smallest"),
    Case([()], dict(k=1), name="0-d"),
    Case([(4, 3)], dict(k=2, dim=0), layout="transposed", name="transposed"),
    Case([(3, 6)], dict(k=2), layout="sliced", name="sliced"),
]


def _topk_ref(x, k, dim=-1, largest=True, sorted=True):
    if x.ndim == 0:
        return x.copy(), np.zeros((), np.int64)
    idx = np.take(_argsort_ref(x, dim, largest), np.arange(k), axis=dim)
    return np.take_along_axis(x, idx, dim), idx


_KTH = [
    Case([(3, 5)], dict(k=2), name="k 2"),
    Case([(3, 5)], dict(k=3, dim=0), name="dim 0"),
    Case([(2, 3, 4)], dict(k=4, dim=-1, keepdim=True), name="keepdim"),
    Case([(2, 3, 4)], dict(k=1, dim=1), name="k 1"),
    Case([()], dict(k=1), name="0-d"),
    Case([(4, 3)], dict(k=2, dim=0), layout="transposed", name="transposed"),
    Case([(3, 6)], dict(k=5), layout="sliced", name="sliced"),
]


def _pick_ref(x, dim, keepdim, pick):
    """(values, indices) of the element at sorted position pick(n) along dim."""
    if x.ndim == 0:
        return x.copy(), np.zeros((), np.int64)
    idx = np.take(np.argsort(x, axis=dim, kind="stable"), [pick(x.shape[dim])], axis=dim)
    values = np.take_along_axis(x, idx, dim)
    if not keepdim:
        values, idx = np.squeeze(values, axis=dim), np.squeeze(idx, axis=dim)
    return values, idx


def _kthvalue_ref(x, k, dim=-1, keepdim=False):
    return _pick_ref(x, dim, keepdim, lambda n: k - 1)


_MEDIAN = [
    Case([(3, 4)], name="all even"),
    Case([(3, 5)], name="all odd"),
    Case([(3, 5)], dict(dim=1), name="dim odd"),
    Case([(3, 4)], dict(dim=1), name="dim even"),
    Case([(2, 3, 4)], dict(dim=0, keepdim=True), name="keepdim"),
    Case([()], name="0-d"),
    Case([()], dict(dim=0), name="0-d dim"),
    Case([(4, 3)], dict(dim=0), layout="transposed", name="transposed"),
    Case([(3, 6)], dict(dim=-1), layout="sliced", name="sliced"),
]


def _median_ref(x, dim=None, keepdim=False):
    if dim is None:
        return np.asarray(np.sort(x.reshape(-1))[(x.size - 1) // 2], x.dtype)
    return _pick_ref(x, dim, keepdim, lambda n: (n - 1) // 2)


_MODE = [
    Case([(3, 4)], name="default dim"),
    Case([(3, 4)], dict(dim=0), name="dim 0"),
    Case([(2, 3, 4)], dict(dim=1, keepdim=True), name="keepdim"),
    Case([(4, 3)], dict(dim=-1), layout="transposed", name="transposed"),
    Case([(3, 6)], dict(dim=1), layout="sliced", name="sliced"),
]


def _mode(x, dim=-1, keepdim=False):
    d = dim % x.ndim
    first = x[(slice(None),) * d + (slice(0, 1),)]
    return jg.mode(jg.cat([x, first], d), d, keepdim)


def _mode_ref(x, dim=-1, keepdim=False):
    d = dim % x.ndim
    x = np.concatenate([x, x[(slice(None),) * d + (slice(0, 1),)]], d)
    rows = _last(x, d)
    values = np.empty(rows.shape[:-1] + (1,), x.dtype)
    indices = np.empty(rows.shape[:-1] + (1,), np.int64)
    for r in np.ndindex(rows.shape[:-1]):
        row = list(rows[r])
        best = min(row, key=lambda v: (-row.count(v), v))
        values[r] = best
        indices[r] = len(row) - 1 - row[::-1].index(best)
    return _back(values, x, d, keepdim), _back(indices, x, d, keepdim)


_UNIQUE = [
    Case([(3, 4)], name="default"),
    Case([(3, 4)], dict(return_inverse=True, return_counts=True), name="inverse counts"),
    Case([(3, 4)], dict(dim=1, return_inverse=True), name="dim"),
    Case([()], dict(return_counts=True), name="0-d"),
]


def _unique(x, **kw):
    return jg.unique(jg.cat([x, x]).reshape(-1) if x.ndim and "dim" not in kw else x, **kw)


def _unique_ref(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    if x.ndim and dim is None:
        x = np.concatenate([x, x]).reshape(-1)
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True, axis=dim,
                                        equal_nan=False)  # NaNs each distinct, as torch
    out = [values]
    if return_inverse:
        out.append(inverse.reshape(x.shape if dim is None else -1).astype(np.int64))
    if return_counts:
        out.append(counts.astype(np.int64))
    return out[0] if len(out) == 1 else tuple(out)


# ----------------------------------------------------------------------------- reductions
_REDUCE = [
    Case([(3, 4)], name="all"),
    Case([(3, 4)], dict(dim=1), name="dim"),
    Case([(2, 3, 4)], dict(dim=-2), name="negative dim"),
    Case([(2, 3, 4)], dict(dim=(0, 2)), name="tuple dim"),
    Case([(2, 3, 4)], dict(dim=1, keepdim=True), name="keepdim"),
    Case([()], name="0-d"),
    Case([(4, 3)], dict(dim=0), layout="transposed", name="transposed"),
    Case([(3, 6)], dict(dim=1), layout="sliced", name="sliced"),
]


def _nans(x):
    """x with NaN at every fifth element (no row all NaN; gradients flow elsewhere)."""
    return jg.masked_fill(x, jg.tensor(_third(x.shape, 5)), float("nan"))


def _nan_ref(f):
    def ref(x, dim=None, keepdim=False):
        x = np.where(_third(x.shape, 5), np.nan, x).astype(x.dtype)
        return np.asarray(f(x, axis=_ax(dim), keepdims=keepdim), x.dtype)
    return ref


_AMINMAX = [
    Case([(3, 4)], name="all"),
    Case([(3, 4)], dict(keepdim=True), name="all keepdim"),
    Case([(3, 4)], dict(dim=1), name="dim"),
    Case([(2, 3, 4)], dict(dim=-2, keepdim=True), name="keepdim"),
    Case([()], name="0-d"),
    Case([(4, 3)], dict(dim=0), layout="transposed", name="transposed"),
    Case([(3, 6)], dict(dim=1), layout="sliced", name="sliced"),
]


def _aminmax_ref(x, dim=None, keepdim=False):
    return (np.asarray(np.min(x, axis=dim, keepdims=keepdim), x.dtype),
            np.asarray(np.max(x, axis=dim, keepdims=keepdim), x.dtype))


def _on_positive(f):
    """f applied to the bool tensor x > 0 (so the result is not the same for every input)."""
    def fn(x, **kw):
        return f(x > 0, **kw)
    return fn


def _count_ref(x, dim=None):
    return np.asarray(np.count_nonzero(x > 0, axis=_ax(dim)), np.int64)


def _bool_ref(f):
    def ref(x, dim=None, keepdim=False):
        return np.asarray(f(x > 0, axis=_ax(dim), keepdims=keepdim))
    return ref


_COUNT = [c for c in _REDUCE if "keepdim" not in c.kwargs]

SPECS = [
    OpSpec("cumsum", jg.cumsum, _accumulate(np.add), _SCAN),
    OpSpec("cumprod", jg.cumprod, _accumulate(np.multiply), _SCAN),
    OpSpec("cumprod(zeros)", _cumprod_zeros, _cumprod_zeros_ref, [
        Case([(3, 4)], dict(dim=1), name="zeros dim 1"),
        Case([(4, 3)], dict(dim=0), name="zeros dim 0")]),
    OpSpec("cummax", jg.cummax, _cumext_ref(np.greater), _SCAN),
    OpSpec("cummin", jg.cummin, _cumext_ref(np.less), _SCAN),
    OpSpec("logcumsumexp", jg.logcumsumexp, _logcumsumexp_ref, _SCAN),
    OpSpec("sort", jg.sort, _sort_ref, _ORDER),
    OpSpec("argsort", jg.argsort, _argsort_ref, _ORDER, grad=False),
    OpSpec("topk", jg.topk, _topk_ref, _TOPK),
    OpSpec("kthvalue", jg.kthvalue, _kthvalue_ref, _KTH),
    OpSpec("median", jg.median, _median_ref, _MEDIAN),
    OpSpec("mode", _mode, _mode_ref, _MODE),
    OpSpec("unique", _unique, _unique_ref, _UNIQUE, grad=False),
    OpSpec("nansum", lambda x, **kw: jg.nansum(_nans(x), **kw), _nan_ref(np.nansum), _REDUCE),
    OpSpec("nanmean", lambda x, **kw: jg.nanmean(_nans(x), **kw), _nan_ref(np.nanmean),
           _REDUCE),
    OpSpec("aminmax", jg.aminmax, _aminmax_ref, _AMINMAX),
    OpSpec("all", _on_positive(jg.all), _bool_ref(np.all), _REDUCE, grad=False),
    OpSpec("any", _on_positive(jg.any), _bool_ref(np.any), _REDUCE, grad=False),
    OpSpec("count_nonzero", _on_positive(jg.count_nonzero), _count_ref, _COUNT, grad=False),
]
