"""Op table entries: shape views, repeat, cat / stack / split / chunk, indexing, where."""
import numpy as np

import jitgrad as jg

from .spec import Case, OpSpec

_rng = np.random.default_rng(42)
_MASK34 = _rng.random((3, 4)) > 0.5
_MASK4 = np.array([True, False, True, False])
_MASK31 = np.array([[True], [False], [True]])


def _split_ref(x, split_size_or_sections, dim=0):
    n = x.shape[dim]
    s = split_size_or_sections
    sizes = [s] * (n // s) + ([n % s] if n % s else []) if isinstance(s, int) else s
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=dim))


def _chunk_ref(x, chunks, dim=0):
    return _split_ref(x, -(-x.shape[dim] // chunks), dim)


def _expand_ref(x, sizes):
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return np.broadcast_to(x, shape)


def _squeeze_ref(x, dim=None):
    if dim is None:
        return np.squeeze(x)
    dims = dim if isinstance(dim, tuple) else (dim,)
    return np.squeeze(x, tuple(d for d in dims if x.shape[d] == 1))


def _flatten_ref(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1:])


SPECS = [
    OpSpec("reshape", lambda x, shape: jg.reshape(x, shape),
           lambda x, shape: np.reshape(x, shape),
           [Case([(3, 4)], dict(shape=(2, -1))), Case([()], dict(shape=(1, 1)), name="0-d"),
            Case([(4, 3)], dict(shape=(-1,)), layout="transposed", name="transposed copy"),
            Case([(2, 6)], dict(shape=(2, 3, 2)), layout="sliced", name="sliced view")]),
    OpSpec("view", lambda x, shape: x.view(*shape), lambda x, shape: np.reshape(x, shape),
           [Case([(3, 4)], dict(shape=(4, 3))), Case([()], dict(shape=(1,)), name="0-d"),
            Case([(2, 6)], dict(shape=(2, 3, 2)), layout="sliced")]),
    OpSpec("flatten", jg.flatten, _flatten_ref,
           [Case([(2, 3, 4)], dict(start_dim=1)), Case([()], name="0-d"),
            Case([(3, 4)], layout="transposed")]),
    OpSpec("squeeze", jg.squeeze, _squeeze_ref,
           [Case([(3, 1, 4)]), Case([(1, 3, 1)], dict(dim=(0, 2)), name="tuple"),
            Case([(3, 4)], dict(dim=1), name="no-op"), Case([()], name="0-d")]),
    OpSpec("unsqueeze", jg.unsqueeze, lambda x, dim: np.expand_dims(x, dim),
           [Case([(3, 4)], dict(dim=1)), Case([(3, 4)], dict(dim=-1), layout="transposed"),
            Case([()], dict(dim=0), name="0-d")]),
    OpSpec("transpose", jg.transpose, lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1),
           [Case([(2, 3, 4)], dict(dim0=0, dim1=2)),
            Case([(3, 4)], dict(dim0=0, dim1=1), layout="transposed"),
            Case([(5,)], dict(dim0=0, dim1=-1), name="1-d")]),
    OpSpec("permute", lambda x, dims: x.permute(*dims), lambda x, dims: np.transpose(x, dims),
           [Case([(2, 3, 4)], dict(dims=(2, 0, 1))), Case([()], dict(dims=()), name="0-d"),
            Case([(2, 6)], dict(dims=(1, 0)), layout="sliced")]),
    OpSpec("t", jg.t, lambda x: x.T,
           [Case([(3, 4)]), Case([(4,)], name="1-d"), Case([()], name="0-d")]),
    OpSpec("expand", lambda x, sizes: x.expand(*sizes), _expand_ref,
           [Case([(3, 1)], dict(sizes=(2, 3, 4))), Case([(4,)], dict(sizes=(3, -1))),
            Case([()], dict(sizes=(2, 3)), name="0-d"),
            Case([(1, 6)], dict(sizes=(3, 6)), layout="sliced")]),
    OpSpec("broadcast_to", jg.broadcast_to, lambda x, size: np.broadcast_to(x, size),
           [Case([(3, 1)], dict(size=(3, 4))), Case([()], dict(size=(2,)), name="0-d")]),
    OpSpec("repeat", lambda x, repeats: x.repeat(*repeats), lambda x, repeats: np.tile(x, repeats),
           [Case([(2, 3)], dict(repeats=(2, 1, 3))), Case([()], dict(repeats=(2,)), name="0-d"),
            Case([(3, 4)], dict(repeats=(1, 2)), layout="transposed")]),
    OpSpec("cat", lambda *xs, dim=0: jg.cat(xs, dim),
           lambda *xs, dim=0: np.concatenate(xs, axis=dim),
           [Case([(2, 3), (4, 3)]), Case([(2, 3), (2, 1), (2, 2)], dict(dim=-1), name="dim -1"),
            Case([(3, 4), (2, 4)], layout="transposed")]),
    OpSpec("stack", lambda *xs, dim=0: jg.stack(xs, dim),
           lambda *xs, dim=0: np.stack(xs, axis=dim),
           [Case([(2, 3), (2, 3)], dict(dim=1)), Case([(), ()], name="0-d"),
            Case([(2, 6), (2, 6)], dict(dim=-1), layout="sliced")]),
    OpSpec("split", jg.split, _split_ref,
           [Case([(5, 3)], dict(split_size_or_sections=2), name="size"),
            Case([(4, 3)], dict(split_size_or_sections=[1, 2], dim=1), name="sections"),
            Case([(4, 3)], dict(split_size_or_sections=3, dim=0), layout="transposed")]),
    OpSpec("chunk", jg.chunk, _chunk_ref,
           [Case([(5, 3)], dict(chunks=3)), Case([(3, 4)], dict(chunks=2, dim=1),
                                                  layout="transposed")]),
    OpSpec("getitem", lambda x, index: x[index], lambda x, index: x[index],
           [Case([(5, 4)], dict(index=(slice(1, None, 2), slice(None, None, -1))),
                 name="steps"),
            Case([(3, 4)], dict(index=(None, Ellipsis, 2)), name="None-Ellipsis"),
            Case([(3, 4)], dict(index=(1, 2)), name="ints"),
            Case([(4, 3)], dict(index=np.array([0, 2, 0, -1])), name="int array repeats"),
            Case([(3, 4)], dict(index=(slice(None), np.array([[1, 1], [3, 0]]))),
                 name="int array dim 1"),
            Case([(3, 4)], dict(index=_MASK34), name="bool mask"),
            Case([(3, 4)], dict(index=np.array([2, 0])), layout="transposed",
                 name="transposed rows")]),
    OpSpec("where", jg.where, np.where,
           [Case([_MASK34, (3, 4), (3, 4)]), Case([_MASK31, (4,), (3, 4)], name="broadcast"),
            Case([_MASK34, (3, 4), 0.5], name="scalar other"),
            Case([np.array(True), (), (2,)], name="0-d"),
            Case([_MASK34, (3, 4), (3, 4)], layout="transposed")]),
    OpSpec("masked_fill", jg.masked_fill, lambda x, m, value: np.where(m, value, x),
           [Case([(3, 4), _MASK4, 0.5], name="scalar value"),
            Case([(3, 4), _MASK31, ()], name="0-d tensor value"),
            Case([(3, 4), _MASK34, -1.0], layout="transposed")]),
]
