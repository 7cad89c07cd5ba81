"""Op table entries: gather / scatter family, index_*, take, masked_select / masked_scatter,
nonzero, their in-place forms, Tensor.softmax / log_softmax. References are plain loops."""
import numpy as np

import jitgrad as jg

from .spec import Case, OpSpec

_rng = np.random.default_rng(7)
_I34 = np.array([[0, 2, 2, 1], [3, 0, 3, 3], [1, 1, 0, 2]])    # into dim 1 of (3, 4)
_I23 = np.array([[2, 0, 1], [0, 0, 2]])                          # into dim 0 of (3, 3)
_M34 = _rng.random((3, 4)) > 0.5
_M4 = np.array([True, False, True, True])
_ROWS = np.array([3, 0, 3])


def _gather_ref(x, dim, index):
    if x.ndim == 0:
        return np.full(index.shape, x)
    out = np.empty(index.shape, x.dtype)
    for c in np.ndindex(*index.shape):
        src = list(c)
        src[dim] = index[c]
        out[c] = x[tuple(src)]
    return out


def _take_along_ref(x, indices, dim=None):
    if dim is None:
        return x.reshape(-1)[indices.reshape(-1)]
    return np.take_along_axis(x, indices, dim)


def _index_select_ref(x, dim, index):
    return np.stack([np.take(x, int(i), axis=dim) for i in index], axis=dim)


_FOLD = {"sum": np.add, "prod": np.multiply, "mean": np.add, "amax": np.maximum,
         "amin": np.minimum}


def _scatter_reduce_ref(x, dim, index, src, reduce, include_self=True):
    out = x.copy()
    hits = {}
    for c in np.ndindex(*index.shape):
        dst = list(c)
        dst[dim] = index[c]
        hits.setdefault(tuple(dst), []).append(src[c])
    for dst, vals in hits.items():
        acc = [x[dst]] + vals if include_self else vals
        v = acc[0]
        for a in acc[1:]:
            v = _FOLD[reduce](v, a)
        out[dst] = v / len(acc) if reduce == "mean" else v
    return out


def _scatter_ref(x, dim, index, src=None, value=None, reduce=None):
    out = x.copy()
    for c in np.ndindex(*index.shape):
        dst = list(c)
        dst[dim] = index[c]
        v = src[c] if src is not None else value
        out[tuple(dst)] = v if reduce is None else (out[tuple(dst)] + v if reduce == "add" else
                                                    out[tuple(dst)] * v)
    return out


def _moved(x, dim):
    return np.moveaxis(x, dim, 0)


def _index_add_ref(x, dim, index, source, alpha=1):
    out = x.copy()
    o, s = _moved(out, dim), _moved(source, dim)
    for k, i in enumerate(index):
        o[i] += alpha * s[k]
    return out


def _index_copy_ref(x, dim, index, source):
    out = x.copy()
    o, s = _moved(out, dim), _moved(source, dim)
    for k, i in enumerate(index):
        o[i] = s[k]
    return out


def _index_fill_ref(x, dim, index, value):
    out = x.copy()
    _moved(out, dim)[index] = value
    return out


def _masked_select_ref(x, mask):
    shape = np.broadcast_shapes(x.shape, mask.shape)
    return np.broadcast_to(x, shape)[np.broadcast_to(mask, shape)]


def _masked_scatter_ref(x, mask, source):
    out = np.array(np.broadcast_to(x, np.broadcast_shapes(x.shape, mask.shape)))
    m = np.broadcast_to(mask, out.shape)
    out[m] = source.reshape(-1)[:int(m.sum())]
    return out


def _softmax_ref(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _inplace(name):
    """x.clone().<name>(...): the in-place form, differentiable through the clone."""
    return lambda x, *args, **kw: getattr(x.clone(), name)(*args, **kw)


_PERM = np.array([[0, 1, 2], [3, 2, 1], [1, 3, 0]])  # distinct per row: one write per slot


def _src_last(fn):
    """fn(input, dim, index, src, **kw) called as (input, src, dim=, index=, **kw): the op
    table passes every tensor positionally first."""
    return lambda x, src, dim, index, **kw: fn(x, dim, index, src, **kw)


SPECS = [
    OpSpec("gather", jg.gather, _gather_ref,
           [Case([(3, 4)], dict(dim=1, index=_I34)),
            Case([(3, 4)], dict(dim=0, index=_I23[:, :2] % 3), name="smaller index"),
            Case([(4, 3)], dict(dim=1, index=_I34.T[:, :2] % 3), layout="transposed"),
            Case([()], dict(dim=0, index=np.array([0, 0])), name="0-d")]),
    OpSpec("take", jg.take, lambda x, index: x.reshape(-1)[index],
           [Case([(3, 4)], dict(index=np.array([[0, 11], [-1, 5]]))),
            Case([(3, 4)], dict(index=np.array([5, 5, 0])), layout="sliced")]),
    OpSpec("take_along_dim", jg.take_along_dim, _take_along_ref,
           [Case([(3, 4)], dict(indices=np.array([[0], [-1], [2]]), dim=1)),
            Case([(3, 4)], dict(indices=np.array([[2, 0, 7]])), name="flat")]),
    OpSpec("index_select", jg.index_select, _index_select_ref,
           [Case([(3, 4)], dict(dim=1, index=_ROWS)),
            Case([(2, 3, 2)], dict(dim=0, index=np.array([1, 1, 0, 1])), name="dim 0"),
            Case([(4, 3)], dict(dim=-1, index=np.array([2])), layout="transposed")]),
    OpSpec("masked_select", jg.masked_select, _masked_select_ref,
           [Case([(3, 4), _M34]), Case([(4,), _M34], name="broadcast input"),
            Case([(3, 4), _M4], layout="transposed")]),
    OpSpec("nonzero", lambda x: jg.nonzero(x > 0), lambda x: np.argwhere(x > 0),
           [Case([(3, 4)]), Case([(5,)], name="1-d")], grad=False),
    OpSpec("scatter", _src_last(jg.scatter), _src_last(_scatter_ref),
           [Case([(3, 4), (3, 3)], dict(dim=1, index=_PERM), name="src"),
            Case([(3, 3), (3, 4)], dict(dim=0, index=np.array([[2, 0, 1]])), name="bigger src",
                 layout="transposed")]),
    OpSpec("scatter(value)", jg.scatter, _scatter_ref,
           [Case([(3, 4)], dict(dim=1, index=_I34[:, :2], value=-0.5))]),
    OpSpec("scatter(reduce)", _src_last(jg.scatter), _src_last(_scatter_ref),
           [Case([(3, 4), (3, 4)], dict(dim=1, index=_I34, reduce="add"), name="add"),
            Case([(3, 4), (3, 4)], dict(dim=1, index=_I34, reduce="multiply"),
                 name="multiply")], grad=False),
    OpSpec("scatter_add", _src_last(jg.scatter_add),
           _src_last(lambda x, dim, index, src: _scatter_reduce_ref(x, dim, index, src, "sum")),
           [Case([(3, 4), (3, 4)], dict(dim=1, index=_I34)),
            Case([(3, 3), (2, 3)], dict(dim=0, index=_I23), layout="transposed")]),
    OpSpec("index_add", _src_last(jg.index_add), _src_last(_index_add_ref),
           [Case([(3, 4), (3, 3)], dict(dim=1, index=_ROWS, alpha=-1.5)),
            Case([(4, 2), (3, 2)], dict(dim=0, index=_ROWS), layout="transposed")]),
    OpSpec("index_copy", _src_last(jg.index_copy), _src_last(_index_copy_ref),
           [Case([(3, 4), (3, 2)], dict(dim=1, index=np.array([3, 0]))),
            Case([(4, 2), (3, 2)], dict(dim=0, index=np.array([1, 0, 3])), layout="sliced")]),
    OpSpec("index_fill", jg.index_fill, _index_fill_ref,
           [Case([(3, 4)], dict(dim=1, index=np.array([3, 0, 3]), value=2.5)),
            Case([(4, 3)], dict(dim=0, index=np.array([-1]), value=0.0), layout="transposed",
                 name="negative index")]),
    OpSpec("masked_scatter", jg.masked_scatter, _masked_scatter_ref,
           [Case([(3, 4), _M34, (13,)]), Case([(4,), _M34, (3, 5)], name="broadcast input"),
            Case([(3, 4), _M4, (3, 4)], layout="transposed")]),
    OpSpec("softmax", lambda x, dim: x.softmax(dim), _softmax_ref,
           [Case([(3, 4)], dict(dim=1)), Case([(2, 3)], dict(dim=0), layout="transposed")]),
    OpSpec("log_softmax", lambda x, dim: x.log_softmax(dim),
           lambda x, dim: np.log(_softmax_ref(x, dim)), [Case([(3, 4)], dict(dim=-1))]),
    OpSpec("scatter_", _src_last(_inplace("scatter_")), _src_last(_scatter_ref),
           [Case([(3, 4), (3, 2)], dict(dim=1, index=np.array([[0, 1], [3, 2], [1, 0]])))]),
    OpSpec("scatter_add_", _src_last(_inplace("scatter_add_")),
           _src_last(lambda x, dim, index, src: _scatter_reduce_ref(x, dim, index, src, "sum")),
           [Case([(3, 4), (3, 4)], dict(dim=1, index=_I34))]),
    OpSpec("index_add_", _src_last(_inplace("index_add_")), _src_last(_index_add_ref),
           [Case([(3, 4), (3, 3)], dict(dim=1, index=_ROWS, alpha=2.0))]),
    OpSpec("index_copy_", _src_last(_inplace("index_copy_")), _src_last(_index_copy_ref),
           [Case([(4, 2), (2, 2)], dict(dim=0, index=np.array([3, 1])))]),
    OpSpec("index_fill_", _inplace("index_fill_"), _index_fill_ref,
           [Case([(3, 4)], dict(dim=1, index=np.array([1]), value=-1.0))]),
    OpSpec("masked_fill_", _inplace("masked_fill_"), lambda x, m, value: np.where(m, value, x),
           [Case([(3, 4), _M34, 0.5])]),
    OpSpec("masked_scatter_", _inplace("masked_scatter_"), _masked_scatter_ref,
           [Case([(3, 4), _M4, (9,)])]),
]

for _red in ("sum", "prod", "mean", "amax", "amin"):
    SPECS.append(OpSpec(
        f"scatter_reduce({_red})", _src_last(jg.scatter_reduce),
        _src_last(_scatter_reduce_ref),
        [Case([(3, 4), (3, 4)], dict(dim=1, index=_I34, reduce=_red)),
         Case([(3, 3), (2, 3)], dict(dim=0, index=_I23, reduce=_red, include_self=False),
              name="exclude self")],
        low=0.5 if _red == "prod" else -2.0))
SPECS.append(OpSpec("scatter_reduce_", _src_last(_inplace("scatter_reduce_")),
                    _src_last(_scatter_reduce_ref),
                    [Case([(3, 4), (3, 4)], dict(dim=1, index=_I34, reduce="amax"))]))
