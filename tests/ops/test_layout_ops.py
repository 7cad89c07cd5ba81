"""Layout and contraction ops against PyTorch (values and gradients), their view semantics,
and their errors. The op table covers NumPy references and float64 gradchecks."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jitgrad as jg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)


def _pair(*shapes, dtype=np.float64):
    arrays = [RNG.standard_normal(s).astype(dtype) for s in shapes]
    ours = [jg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _check(fn_jg, fn_torch, *shapes, atol=1e-10):
    """Same value and same input gradients (for a non-uniform upstream gradient)."""
    ours, theirs = _pair(*shapes)
    a, b = fn_jg(*ours), fn_torch(*theirs)
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert tuple(x.shape) == tuple(y.shape)
        np.testing.assert_allclose(x.data, y.detach().numpy(), atol=atol, rtol=1e-10)
    ws = [RNG.standard_normal(tuple(y.shape)) for y in b]
    sum(jg.sum(x * jg.tensor(w)) for x, w in zip(a, ws) if x.requires_grad).backward()
    sum((y * torch.tensor(w)).sum() for y, w in zip(b, ws) if y.requires_grad).backward()
    for x, y in zip(ours, theirs):
        gx = np.zeros(x.shape) if x.grad is None else x.grad
        gy = np.zeros(tuple(y.shape)) if y.grad is None else y.grad.numpy()
        np.testing.assert_allclose(gx, gy, atol=atol, rtol=1e-10)


CALLS = [
    ("tril", lambda x: x.tril(1), lambda x: x.tril(1), [(2, 3, 4)]),
    ("triu", lambda x: jg.triu(x, -1), lambda x: torch.triu(x, -1), [(4, 3)]),
    ("diagonal", lambda x: x.diagonal(1, 2, 0), lambda x: x.diagonal(1, 2, 0), [(3, 2, 4)]),
    ("diagonal-neg", lambda x: jg.diagonal(x, -2), lambda x: torch.diagonal(x, -2), [(4, 3)]),
    ("diag-vec", lambda x: jg.diag(x, 1), lambda x: torch.diag(x, 1), [(3,)]),
    ("diag-mat", lambda x: x.diag(-1), lambda x: x.diag(-1), [(3, 4)]),
    ("trace", lambda x: x.trace(), lambda x: x.trace(), [(3, 5)]),
    ("flip", lambda x: x.flip((0, -1)), lambda x: x.flip((0, -1)), [(2, 3, 4)]),
    ("fliplr", jg.fliplr, torch.fliplr, [(2, 3)]),
    ("flipud", lambda x: x.flipud(), lambda x: x.flipud(), [(3, 2)]),
    ("roll-flat", lambda x: x.roll(4), lambda x: x.roll(4), [(2, 3)]),
    ("roll-dims", lambda x: jg.roll(x, (1, -1), (0, 1)), lambda x: torch.roll(x, (1, -1), (0, 1)),
     [(3, 4)]),
    ("rot90", lambda x: x.rot90(1, (0, 1)), lambda x: x.rot90(1, (0, 1)), [(2, 3)]),
    ("rot90-3", lambda x: jg.rot90(x, 3, (1, 2)), lambda x: torch.rot90(x, 3, (1, 2)),
     [(2, 3, 4)]),
    ("rot90-neg", lambda x: jg.rot90(x, -2), lambda x: torch.rot90(x, -2), [(2, 3)]),
    ("narrow", lambda x: x.narrow(1, -3, 2), lambda x: x.narrow(1, -3, 2), [(2, 4)]),
    ("unbind", lambda x: x.unbind(1), lambda x: x.unbind(1), [(2, 3)]),
    ("movedim", lambda x: x.movedim((0, 1), (2, 0)), lambda x: x.movedim((0, 1), (2, 0)),
     [(2, 3, 4)]),
    ("moveaxis", lambda x: jg.moveaxis(x, -1, 0), lambda x: torch.moveaxis(x, -1, 0), [(2, 3)]),
    ("tile", lambda x: x.tile((2, 1, 2)), lambda x: x.tile((2, 1, 2)), [(2, 3)]),
    ("repeat_interleave", lambda x: x.repeat_interleave(jg.tensor([1, 0, 3]), dim=1),
     lambda x: x.repeat_interleave(torch.tensor([1, 0, 3]), dim=1), [(2, 3)]),
    ("repeat_interleave-flat", lambda x: x.repeat_interleave(2),
     lambda x: x.repeat_interleave(2), [(2, 2)]),
    ("meshgrid-ij", lambda a, b: jg.meshgrid(a, b), lambda a, b: torch.meshgrid(a, b,
                                                                                indexing="ij"),
     [(3,), (2,)]),
    ("meshgrid-xy", lambda a, b, c: jg.meshgrid([a, b, c], indexing="xy"),
     lambda a, b, c: torch.meshgrid([a, b, c], indexing="xy"), [(3,), (2,), (4,)]),
    ("tensordot", lambda a, b: jg.tensordot(a, b, ([1, 0], [0, 2])),
     lambda a, b: torch.tensordot(a, b, ([1, 0], [0, 2])), [(2, 3, 4), (3, 5, 2)]),
    ("outer", lambda a, b: a.outer(b), lambda a, b: a.outer(b), [(3,), (4,)]),
    ("kron", lambda a, b: a.kron(b), lambda a, b: a.kron(b), [(2, 3), (2, 1, 2)]),
    ("cross", lambda a, b: a.cross(b, dim=0), lambda a, b: a.cross(b, dim=0), [(3, 2), (3, 2)]),
    ("cross-linalg", lambda a, b: jg.cross(a, b, dim=-1),
     lambda a, b: torch.linalg.cross(a, b), [(2, 1, 3), (1, 4, 3)]),
    ("cdist", lambda a, b: jg.cdist(a, b), lambda a, b: torch.cdist(a, b), [(2, 4, 3), (5, 3)]),
    ("cdist-p1", lambda a, b: jg.cdist(a, b, 1), lambda a, b: torch.cdist(a, b, 1),
     [(4, 3), (5, 3)]),
    ("cdist-inf", lambda a, b: jg.cdist(a, b, float("inf")),
     lambda a, b: torch.cdist(a, b, float("inf")), [(4, 3), (5, 3)]),
    ("cdist-p0.5", lambda a, b: jg.cdist(a, b, 0.5), lambda a, b: torch.cdist(a, b, 0.5),
     [(3, 2), (2, 2)]),
]


@pytest.mark.parametrize("name,ours,theirs,shapes", CALLS, ids=[c[0] for c in CALLS])
def test_matches_torch(name, ours, theirs, shapes):
    _check(ours, theirs, *shapes)


EQUATIONS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(4, 4)]), ("ii", [(3, 3)]), ("ij->", [(2, 3)]), ("ij->ji", [(2, 3)]),
    ("i,i->", [(5,), (5,)]), ("i,j->ij", [(2,), (3,)]), ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]), ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ab,cd->", [(2, 3), (3, 2)]), ("ij,j->i", [(3, 1), (4,)]), ("Ab,bA->A", [(3, 2), (2, 3)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]), ("i,i,i->i", [(3,), (3,), (3,)]),
]


@pytest.mark.parametrize("equation,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_matches_torch(equation, shapes):
    _check(lambda *xs: jg.einsum(equation, *xs), lambda *xs: torch.einsum(equation, *xs), *shapes)


@settings(deadline=None, max_examples=40, derandomize=True)
@given(st.data())
def test_einsum_random_equations_match_torch(data):
    """Random 1-3 operand equations over labels a-d (repeats, broadcasts, sums) vs torch."""
    sizes = {"a": 2, "b": 3, "c": 1, "d": 2}
    n = data.draw(st.integers(1, 3))
    terms = [data.draw(st.lists(st.sampled_from("abcd"), max_size=3)) for _ in range(n)]
    used = sorted(set("".join("".join(t) for t in terms)))
    out = data.draw(st.permutations(used)) if used else []
    out = out[:data.draw(st.integers(0, len(out)))]
    eq = ",".join("".join(t) for t in terms) + "->" + "".join(out)
    shapes = [tuple(sizes[c] for c in t) for t in terms]
    _check(lambda *xs: jg.einsum(eq, *xs), lambda *xs: torch.einsum(eq, *xs), *shapes)


def test_einsum_list_form_and_float32():
    a = jg.randn(3, 4)
    b = jg.randn(4, 2)
    out = jg.einsum("ij,jk", [a, b])
    assert out.dtype == jg.float32
    np.testing.assert_allclose(out.data, a.data @ b.data, rtol=1e-5, atol=1e-6)


def test_einsum_result_does_not_alias_input():
    x = jg.ones(2, 3)
    y = jg.einsum("ij->ji", x)
    y.data[...] = 5
    assert (x.data == 1).all()


def test_cdist_zero_distance_has_zero_gradient_as_torch():
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    ours = jg.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, requires_grad=True)
    jg.cdist(ours, ours.detach()).sum().backward()
    torch.cdist(theirs, theirs.detach()).sum().backward()
    assert np.isfinite(ours.grad).all()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), atol=1e-12)


def test_cdist_float32():
    x1, x2 = jg.randn(5, 3), jg.randn(4, 3)
    want = torch.cdist(torch.tensor(x1.data), torch.tensor(x2.data)).numpy()
    got = jg.cdist(x1, x2)
    assert got.dtype == jg.float32
    np.testing.assert_allclose(got.data, want, rtol=1e-5, atol=1e-5)


def test_diagonal_and_narrow_are_views():
    x = jg.zeros(3, 3)
    x.diagonal().fill_(1.0)
    x.narrow(0, 2, 1).fill_(2.0)
    np.testing.assert_array_equal(x.data, [[1, 0, 0], [0, 1, 0], [2, 2, 2]])
    x = jg.arange(6).reshape(2, 3)
    a, b = x.unbind()
    b.data[0] = 9
    assert x.data[1, 0] == 9


def test_empty_results_and_their_gradients():
    x = jg.randn(3, 5, requires_grad=True)
    d = x.diagonal(7)
    n = x.narrow(1, 5, 0)
    assert d.shape == (0,) and n.shape == (3, 0)
    (d.sum() + n.sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad, np.ones((3, 5)))
    t = torch.zeros(3, 5)
    assert tuple(t.diagonal(7).shape) == (0,) and tuple(t.narrow(1, 5, 0).shape) == (3, 0)


def test_flip_roll_copy_as_torch():
    x = jg.arange(4)
    y = x.flip(0)
    y.data[0] = 7
    assert x.data.tolist() == [0, 1, 2, 3]


def test_unbind_partial_gradient():
    x = jg.randn(3, 2, requires_grad=True)
    a, b, c = x.unbind()
    (b * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0], [2, 2], [0, 0]])


def test_view_dtype():
    x = jg.tensor([1.0, -2.0, 0.5])
    got = x.view(jg.int32)
    np.testing.assert_array_equal(got.data, torch.tensor([1.0, -2.0, 0.5]).view(torch.int32))
    assert got.view(jg.float32).data.tolist() == [1.0, -2.0, 0.5]
    y = jg.zeros(3, 4).view(jg.float64)
    assert y.shape == (3, 2)
    z = jg.zeros(3, 4, dtype=jg.int64).view(jg.int32)
    assert z.shape == (3, 8)
    w = jg.ones(2, 3, requires_grad=True).view(jg.int32)
    assert not w.requires_grad
    with pytest.raises(RuntimeError, match="last dimension"):
        jg.zeros(3, 3).view(jg.float64)
    x.view(jg.int32).data[0] = 0
    assert x.data[0] == 0.0  # shares memory


def test_repeat_interleave_indices_and_output_size():
    got = jg.repeat_interleave(jg.tensor([2, 0, 1]))
    assert got.data.tolist() == [0, 0, 2]
    x = jg.arange(3.0)
    assert x.repeat_interleave(2, dim=0, output_size=6).data.tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(ValueError, match="output_size"):
        x.repeat_interleave(2, output_size=5)
    with pytest.raises(ValueError, match="same size"):
        x.repeat_interleave(jg.tensor([1, 2]), dim=0)
    with pytest.raises(ValueError, match="negative"):
        x.repeat_interleave(-1)


def test_meshgrid_views_match_torch_values():
    a, b = jg.arange(3), jg.arange(2)
    xs = jg.meshgrid(a, b, indexing="xy")
    ts = torch.meshgrid(torch.arange(3), torch.arange(2), indexing="xy")
    for x, t in zip(xs, ts):
        np.testing.assert_array_equal(x.data, t.numpy())


@pytest.mark.parametrize("call,err,match", [
    (lambda: jg.tril(jg.ones(3)), ValueError, "at least 2 dimensions"),
    (lambda: jg.diagonal(jg.ones(2, 2), 0, 1, 1), ValueError, "cannot be identical"),
    (lambda: jg.diag(jg.ones(2, 2, 2)), ValueError, "1-D or 2-D"),
    (lambda: jg.trace(jg.ones(3)), ValueError, "2-D"),
    (lambda: jg.flip(jg.ones(2, 2), (0, 0)), ValueError, "multiple times"),
    (lambda: jg.flip(jg.ones(2, 2), 2), IndexError, "Dimension out of range"),
    (lambda: jg.roll(jg.ones(2, 2), (1, 2)), ValueError, "one shift"),
    (lambda: jg.roll(jg.ones(2, 2), (1, 2), 0), ValueError, "must align"),
    (lambda: jg.rot90(jg.ones(2), 1), ValueError, "total dims >= 2"),
    (lambda: jg.narrow(jg.ones(2, 3), 1, 2, 2), ValueError, "exceeds dimension size"),
    (lambda: jg.narrow(jg.ones(2, 3), 1, 5, 0), IndexError, "out of range"),
    (lambda: jg.unbind(jg.tensor(1.0)), ValueError, "no dimensions"),
    (lambda: jg.movedim(jg.ones(2, 3), (0, 1), 0), ValueError, "same number of dims"),
    (lambda: jg.einsum("ij,jk", jg.ones(2, 3)), ValueError, "fewer operands"),
    (lambda: jg.einsum("ij", jg.ones(2, 3), jg.ones(3)), ValueError, "more operands"),
    (lambda: jg.einsum("ijk", jg.ones(2, 3)), ValueError, "does not match the number"),
    (lambda: jg.einsum("ij,jk", jg.ones(2, 3), jg.ones(4, 2)), ValueError, "do not broadcast"),
    (lambda: jg.einsum("i1", jg.ones(2, 3)), ValueError, "subscripts must be in"),
    (lambda: jg.einsum("ij->k", jg.ones(2, 3)), ValueError, "does not appear"),
    (lambda: jg.einsum("ij->ii", jg.ones(2, 3)), ValueError, "more than once"),
    (lambda: jg.einsum("ij,j", jg.ones(2, 3), jg.ones(3, dtype=jg.float64)), TypeError,
     "same dtype"),
    (lambda: jg.tensordot(jg.ones(2, 3), jg.ones(2, 3), 1), ValueError, "need to match"),
    (lambda: jg.outer(jg.ones(2, 2), jg.ones(2)), ValueError, "1-D"),
    (lambda: jg.cross(jg.ones(2, 4), jg.ones(2, 4)), ValueError, "size 3"),
    (lambda: jg.cross(jg.ones(3, 2), jg.ones(3, 2), dim=1), ValueError, "length 3"),
    (lambda: jg.cdist(jg.ones(2, 3), jg.ones(2, 4)), ValueError, "same number of columns"),
    (lambda: jg.cdist(jg.ones(2, 3), jg.ones(2, 3), p=-1), ValueError, "non-negative"),
    (lambda: jg.cdist(jg.ones(3), jg.ones(2, 3)), ValueError, "at least 2"),
    (lambda: jg.meshgrid(jg.ones(2, 2)), ValueError, "0D or 1D"),
    (lambda: jg.meshgrid(jg.ones(2), indexing="xz"), ValueError, "'ij' or 'xy'"),
])
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()
