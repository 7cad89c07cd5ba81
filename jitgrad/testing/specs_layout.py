"""Op table entries: triangles, diagonals, flips / rolls, narrow / unbind / movedim / tile,
repeat_interleave, meshgrid, einsum, tensordot, outer, kron, cross, cdist."""
import itertools

import numpy as np

import jitgrad as jg

from .spec import Case, OpSpec

_REPEATS = np.array([2, 0, 1])


def _diagonal_ref(x, offset=0, dim1=0, dim2=1):
    return np.diagonal(x, offset, dim1, dim2)


def _diag_ref(x, diagonal=0):
    return np.diag(x, diagonal)


def _roll_ref(x, shifts, dims=None):
    return np.roll(x, shifts, dims)


def _narrow_ref(x, dim, start, length):
    start %= x.shape[dim]
    return np.take(x, np.arange(start, start + length), axis=dim)


def _unbind_ref(x, dim=0):
    return tuple(np.moveaxis(x, dim, 0))


def _tile_ref(x, dims):
    return np.tile(x, dims)


def _repeat_interleave_ref(x, repeats, dim=None):
    return np.repeat(x.reshape(-1) if dim is None else x, repeats, axis=0 if dim is None else dim)


def _meshgrid_ref(*xs, indexing="ij"):
    return tuple(np.meshgrid(*xs, indexing=indexing))


def _cross_ref(a, b, dim=-1):
    return np.moveaxis(np.cross(np.moveaxis(a, dim, -1), np.moveaxis(b, dim, -1)), -1, dim)


def _cdist_ref(x1, x2, p=2.0):
    """A slow obvious loop over every pair of rows."""
    batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    a = np.broadcast_to(x1, batch + x1.shape[-2:])
    b = np.broadcast_to(x2, batch + x2.shape[-2:])
    out = np.empty(batch + (a.shape[-2], b.shape[-2]), x1.dtype)
    for idx in itertools.product(*(range(n) for n in batch)):
        for i in range(a.shape[-2]):
            for j in range(b.shape[-2]):
                d = np.abs(a[idx + (i,)] - b[idx + (j,)])
                out[idx + (i, j)] = (d.max() if p == np.inf else np.count_nonzero(d) if p == 0
                                     else (d ** p).sum() ** (1.0 / p))
    return out


def _tensordot_ref(a, b, dims=2):
    return np.tensordot(a, b, dims)


SPECS = [
    OpSpec("tril", jg.tril, lambda x, diagonal=0: np.tril(x, diagonal),
           [Case([(3, 4)]), Case([(2, 3, 4)], dict(diagonal=-1), name="batched k=-1"),
            Case([(4, 3)], dict(diagonal=1), layout="transposed")]),
    OpSpec("triu", jg.triu, lambda x, diagonal=0: np.triu(x, diagonal),
           [Case([(3, 4)]), Case([(2, 4, 3)], dict(diagonal=2), name="batched k=2"),
            Case([(3, 4)], layout="sliced")]),
    OpSpec("diagonal", jg.diagonal, _diagonal_ref,
           [Case([(3, 4)]), Case([(3, 4)], dict(offset=-1), name="below"),
            Case([(2, 3, 4)], dict(offset=1, dim1=2, dim2=0), name="dims 2,0"),
            Case([(4, 4)], layout="transposed")]),
    OpSpec("diag", jg.diag, _diag_ref,
           [Case([(3,)]), Case([(3,)], dict(diagonal=-2), name="vector k=-2"),
            Case([(3, 4)], dict(diagonal=1), name="matrix"),
            Case([(4, 3)], layout="transposed", name="matrix transposed")]),
    OpSpec("trace", jg.trace, np.trace,
           [Case([(3, 3)]), Case([(2, 5)], name="wide"), Case([(4, 3)], layout="sliced")]),
    OpSpec("flip", jg.flip, lambda x, dims: np.flip(x, dims),
           [Case([(2, 3, 4)], dict(dims=(0, 2))), Case([(5,)], dict(dims=0), name="1-d"),
            Case([()], dict(dims=()), name="0-d"), Case([(3, 4)], dict(dims=(-1,)),
                                                          layout="transposed")]),
    OpSpec("fliplr", jg.fliplr, np.fliplr, [Case([(3, 4)]), Case([(2, 3, 2)], name="3-d")]),
    OpSpec("flipud", jg.flipud, np.flipud, [Case([(3, 4)]), Case([(5,)], name="1-d")]),
    OpSpec("roll", jg.roll, _roll_ref,
           [Case([(3, 4)], dict(shifts=1, dims=1)), Case([(3, 4)], dict(shifts=-5), name="flat"),
            Case([(2, 3, 4)], dict(shifts=(1, -2), dims=(0, 2)), name="two dims"),
            Case([(3, 4)], dict(shifts=2, dims=0), layout="transposed")]),
    OpSpec("rot90", jg.rot90, lambda x, k=1, dims=(0, 1): np.rot90(x, k, dims),
           [Case([(3, 4)]), Case([(3, 4)], dict(k=2), name="k=2"),
            Case([(2, 3, 4)], dict(k=-1, dims=(2, 0)), name="k=-1 dims 2,0"),
            Case([(3, 4)], dict(k=4), name="k=4")]),
    OpSpec("narrow", jg.narrow, _narrow_ref,
           [Case([(4, 3)], dict(dim=0, start=1, length=2)),
            Case([(3, 5)], dict(dim=-1, start=-3, length=3), name="negative start"),
            Case([(4, 3)], dict(dim=1, start=1, length=2), layout="transposed")]),
    OpSpec("unbind", jg.unbind, _unbind_ref,
           [Case([(3, 4)]), Case([(2, 3, 4)], dict(dim=-1), name="last"),
            Case([(3, 4)], dict(dim=1), layout="transposed")]),
    OpSpec("movedim", jg.movedim, np.moveaxis,
           [Case([(2, 3, 4)], dict(source=0, destination=-1)),
            Case([(2, 3, 4, 5)], dict(source=(0, 3), destination=(2, 0)), name="two"),
            Case([(3, 4)], dict(source=1, destination=0), layout="sliced")]),
    OpSpec("moveaxis", jg.moveaxis, np.moveaxis,
           [Case([(2, 3, 4)], dict(source=-1, destination=0))]),
    OpSpec("tile", jg.tile, _tile_ref,
           [Case([(2, 3)], dict(dims=(2,)), name="short dims"),
            Case([(3,)], dict(dims=(2, 2)), name="long dims"),
            Case([(3, 4)], dict(dims=(1, 2)), layout="transposed")]),
    OpSpec("repeat_interleave", jg.repeat_interleave, _repeat_interleave_ref,
           [Case([(2, 3)], dict(repeats=2), name="flat"),
            Case([(3, 2)], dict(repeats=jg.tensor(_REPEATS), dim=0), name="counts dim 0"),
            Case([(2, 3)], dict(repeats=2, dim=-1), name="dim -1"),
            Case([(2, 3)], dict(repeats=jg.tensor(_REPEATS), dim=1), layout="transposed")]),
    OpSpec("meshgrid", jg.meshgrid, _meshgrid_ref,
           [Case([(3,), (4,)]), Case([(3,), (2,), (4,)], dict(indexing="xy"), name="xy 3"),
            Case([(2,), ()], name="0-d")]),
    OpSpec("einsum", lambda *xs, equation: jg.einsum(equation, *xs),
           lambda *xs, equation: np.einsum(equation, *xs),
           [Case([(3, 4), (4, 5)], dict(equation="ij,jk->ik"), name="matmul"),
            Case([(2, 3, 4), (2, 4, 5)], dict(equation="bij,bjk->bik"), name="bmm"),
            Case([(3, 3)], dict(equation="ii->"), name="trace"),
            Case([(3, 3, 2)], dict(equation="iij->ji"), name="diagonal"),
            Case([(2, 3), (3,), (3, 4)], dict(equation="ij,j,jk->ik"), name="three"),
            Case([(2, 1, 3), (4, 3)], dict(equation="...j,kj->...k"), name="ellipsis"),
            Case([(3, 4), (5,)], dict(equation="ij,k"), name="implicit outer"),
            Case([(3, 4), (3, 4)], dict(equation="ij,ij->i"), layout="transposed")]),
    OpSpec("tensordot", jg.tensordot, _tensordot_ref,
           [Case([(2, 3, 4), (3, 4, 5)]), Case([(3, 4), (4, 3)], dict(dims=([0, 1], [1, 0])),
                                              name="lists"),
            Case([(3,), (2,)], dict(dims=0), name="outer"),
            Case([(3, 4), (4, 2)], dict(dims=1), layout="transposed")]),
    OpSpec("outer", jg.outer, np.outer, [Case([(3,), (4,)]), Case([(1,), (2,)], name="size 1")]),
    OpSpec("ger", jg.ger, np.outer, [Case([(2,), (3,)])]),
    OpSpec("kron", jg.kron, np.kron,
           [Case([(2, 3), (3, 2)]), Case([(2,), (2, 3)], name="ranks differ"),
            Case([(2, 2), (2, 3)], layout="transposed")]),
    OpSpec("cross", jg.cross, _cross_ref,
           [Case([(4, 3), (4, 3)], dict(dim=-1)), Case([(3, 2), (3, 1)], dict(dim=0),
                                                       name="broadcast dim 0"),
            Case([(2, 3), (2, 3)], dict(dim=1), layout="transposed")]),
    OpSpec("cdist", jg.cdist, _cdist_ref,
           [Case([(4, 3), (5, 3)], name="p2"), Case([(4, 3), (2, 3)], dict(p=1.0), name="p1"),
            Case([(3, 2), (4, 2)], dict(p=np.inf), name="pinf"),
            Case([(3, 2), (2, 2)], dict(p=3.0), name="p3"),
            Case([(2, 3, 2), (1, 4, 2)], name="batch broadcast"),
            Case([(3, 4), (2, 4)], layout="transposed")]),
]
