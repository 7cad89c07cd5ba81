"""Selection ops (gather / scatter family, index_*, take, masked_*, nonzero), their in-place
forms, Tensor.softmax, and advanced indexing with torch's placement: torch oracle (values and
gradients), a hypothesis property test over index patterns (getitem, setitem, gradients),
errors raised before anything runs, version counters and leaf refusal."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jitgrad as jg

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)
X34 = RNG.standard_normal((3, 4))
I34 = np.array([[0, 0, 1], [3, 3, 3], [2, 1, 2]])
PERM = np.array([[0, 1, 2], [3, 2, 1], [1, 3, 0]])
MASK = RNG.random((3, 4)) > 0.5


def _both(fn, arrays, grad=()):
    """fn on torch and on jitgrad (same arrays; float inputs at `grad` positions require
    grad): equal values, and equal gradients for a random upstream gradient."""
    tt = [torch.tensor(a, requires_grad=i in grad) if isinstance(a, np.ndarray) else a
          for i, a in enumerate(arrays)]
    jj = [jg.tensor(a, requires_grad=i in grad) if isinstance(a, np.ndarray) else a
          for i, a in enumerate(arrays)]
    rt, rj = fn(torch, *tt), fn(jg, *jj)
    assert tuple(rt.shape) == rj.shape and rj.dtype == rt.detach().numpy().dtype
    np.testing.assert_allclose(rj.data, rt.detach().numpy(), rtol=1e-12, atol=1e-12)
    if grad:
        g = RNG.standard_normal(tuple(rt.shape))
        rt.backward(torch.tensor(g))
        rj.backward(g)
        for i in grad:
            np.testing.assert_allclose(jj[i].grad, tt[i].grad.numpy(), rtol=1e-10,
                                       atol=1e-12)


ORACLE = {
    "gather": (lambda m, x, i: m.gather(x, 1, i), [X34, I34], (0,)),
    "gather dim 0 smaller index": (lambda m, x, i: x.gather(0, i), [X34, I34[:2, :2] % 3],
                                   (0,)),
    "gather 0-d": (lambda m, x, i: x.gather(0, i), [np.array(3.0), np.array([0, 0])], (0,)),
    "take": (lambda m, x, i: m.take(x, i), [X34, np.array([[0, -1], [5, 5]])], (0,)),
    "take_along_dim": (lambda m, x, i: m.take_along_dim(x, i, 1),
                       [X34, np.array([[0], [-1], [2]])], (0,)),
    "take_along_dim broadcast": (lambda m, x, i: m.take_along_dim(x, i, 0),
                                 [X34, np.array([[0, 1, 2, 0]])], (0,)),
    "take_along_dim flat": (lambda m, x, i: m.take_along_dim(x, i),
                            [X34, np.array([[0, 1], [11, 0]])], (0,)),
    "index_select": (lambda m, x, i: m.index_select(x, 1, i), [X34, np.array([3, 0, 3])],
                     (0,)),
    "index_select int": (lambda m, x, i: x.index_select(0, i),
                         [np.arange(12).reshape(3, 4), np.array([2, 2])], ()),
    "masked_select": (lambda m, x, k: m.masked_select(x, k), [X34, MASK], (0,)),
    "masked_select broadcast": (lambda m, x, k: m.masked_select(x, k), [X34[0], MASK], (0,)),
    "nonzero": (lambda m, x: m.nonzero(x), [np.array([[0, 3, 0], [-1, 0, 2]])], ()),
    "scatter": (lambda m, x, i, s: m.scatter(x, 1, i, s), [X34, PERM, X34[:, :3] * 2],
                (0, 2)),
    "scatter value": (lambda m, x, i: m.scatter(x, 1, i, 2.5), [X34, PERM], (0,)),
    "scatter value kw": (lambda m, x, i: m.scatter(x, 1, i, value=-1.0), [X34, PERM], (0,)),
    "scatter bigger src": (lambda m, x, i, s: m.scatter(x, 0, i, s),
                           [X34, np.array([[2, 0, 1, 1]]), RNG.standard_normal((2, 5))], ()),
    "scatter reduce add": (lambda m, x, i, s: m.scatter(x, 1, i, s, reduce="add"),
                           [X34, I34, X34[:, :3]], ()),
    "scatter reduce multiply": (lambda m, x, i: m.scatter(x, 1, i, 3.0, reduce="multiply"),
                                [X34, I34], ()),
    "scatter_add": (lambda m, x, i, s: m.scatter_add(x, 1, i, s), [X34, I34, X34[:, :3]],
                    (0, 2)),
    "index_add": (lambda m, x, i, s: m.index_add(x, 1, i, s, alpha=2.0),
                  [X34, np.array([3, 0, 3]), X34[:, :3]], (0, 2)),
    "index_add int alpha": (lambda m, x, i, s: x.index_add(0, i, s, alpha=2),
                            [np.arange(3), np.array([1, 1]), np.array([5, 7])], ()),
    "index_copy": (lambda m, x, i, s: m.index_copy(x, 1, i, s),
                   [X34, np.array([3, 0, 1]), X34[:, :3]], (0, 2)),
    "index_fill": (lambda m, x, i: m.index_fill(x, 1, i, -2.0), [X34, np.array([3, -1, 1])],
                   (0,)),
    "index_fill int value cast": (lambda m, x, i: x.index_fill(0, i, 5.5),
                                  [np.arange(3), np.array([1])], ()),
    "scatter int value cast": (lambda m, x, i: x.scatter(0, i, 5.5),
                               [np.arange(3), np.array([1])], ()),
    "masked_scatter": (lambda m, x, k, s: m.masked_scatter(x, k, s),
                       [X34, MASK, RNG.standard_normal(13)], (0, 2)),
    "masked_scatter broadcast": (lambda m, x, k, s: m.masked_scatter(x, k, s),
                                 [X34[0], MASK, RNG.standard_normal((4, 4))], (0, 2)),
    "softmax method": (lambda m, x: x.softmax(1), [X34], (0,)),
    "log_softmax method": (lambda m, x: x.log_softmax(dim=-1), [X34], (0,)),
    "softmax function": (lambda m, x: m.softmax(x, 0), [X34], (0,)),
}


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("name", list(ORACLE))
def test_against_torch(name):
    fn, arrays, grad = ORACLE[name]
    _both(fn, arrays, grad)


_TIES = [np.array([[1.0, 2, 3, 3]]), np.array([[0, 0, 2, 3]]), np.array([[3.0, 3, 1, 2]])]
_ZEROS = [np.array([[0.0, 2, 3, 0]]), np.array([[0, 1, 1, 2, 2]]),
          np.array([[0.0, 3, 0, 2, 5]])]


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_against_torch(reduce, include_self):
    """Values and gradients, including ties (amax/amin split the gradient) and zeros (prod's
    gradient is exact there); integer tensors (mean floor-divides as torch)."""
    def fn(m, x, i, s):
        return m.scatter_reduce(x, 1, i, s, reduce, include_self=include_self)
    for arrays in ([X34, I34, RNG.standard_normal((3, 3))], _TIES if reduce in (
            "amax", "amin") else _ZEROS):
        _both(fn, arrays, (0, 2))
    _both(fn, [RNG.integers(-5, 5, (3, 4)), I34, RNG.integers(-5, 5, (3, 3))])


def test_scatter_reduce_amax_exclude_self_does_not_count_self_as_a_tie():
    """Deliberate difference: with include_self=False torch still counts input's value as a
    tie when it happens to equal the result (halving src's gradient); here input is out of
    the reduction, so src's maximum gets the whole gradient (what finite differences say)."""
    x = jg.zeros(1, 2, dtype=jg.float64)
    src = jg.tensor([[0.0, -1.0]], dtype=jg.float64, requires_grad=True)
    out = x.scatter_reduce(1, jg.tensor([[0, 0]]), src, "amax", include_self=False)
    out.sum().backward()
    np.testing.assert_array_equal(src.grad, [[1.0, 0.0]])
    assert jg.gradcheck(lambda s: x.scatter_reduce(1, jg.tensor([[0, 0]]), s, "amax",
                                                   include_self=False), [src])


def test_scatter_with_reduce_has_no_derivative_like_torch():
    x = jg.tensor(X34, requires_grad=True)
    y = x.scatter(1, jg.tensor(I34), 2.0, reduce="add")  # the forward runs
    with pytest.raises(RuntimeError, match="derivative of scatter with reduce= is not"):
        y.sum().backward()
    with pytest.raises(ValueError, match="'add' or 'multiply'"):
        x.scatter(1, jg.tensor(I34), 2.0, reduce="mean")


def test_scatter_src_bigger_than_index_gets_zero_gradient_outside():
    """torch refuses this gradient (shape mismatch); jitgrad gives zeros outside the block."""
    src = jg.tensor(RNG.standard_normal((2, 5)), requires_grad=True)
    out = jg.zeros(3, 4, dtype=jg.float64).scatter(0, jg.tensor([[2, 0, 1, 1]]), src)
    out.sum().backward()
    np.testing.assert_array_equal(src.grad, [[1, 1, 1, 1, 0], [0, 0, 0, 0, 0]])


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, match", [
    (lambda x: x.gather(1, jg.tensor([[4]])), "index 4 is out of bounds for dimension 1 "
                                               "with size 4"),
    (lambda x: x.gather(1, jg.tensor([[-1]])), "index -1 is out of bounds"),
    (lambda x: x.index_select(0, jg.tensor([3])), "index 3 is out of bounds for dimension 0"),
    (lambda x: x.take(jg.tensor([12])), "index 12 is out of bounds"),
    (lambda x: x.take(jg.tensor([-13])), "index -13 is out of bounds"),
    (lambda x: x.scatter_(1, jg.tensor([[5]]), 1.0), "index 5 is out of bounds"),
    (lambda x: x.scatter_add_(0, jg.tensor([[3]]), jg.ones(1, 1, dtype=jg.float64)),
     "index 3 is out of bounds"),
    (lambda x: x.index_add_(1, jg.tensor([4]), jg.ones(3, 1, dtype=jg.float64)),
     "index 4 is out of bounds"),
    (lambda x: x.index_fill_(1, jg.tensor([-5]), 0.0), "index -5 is out of bounds"),
    (lambda x: x.index_copy_(0, jg.tensor([7]), jg.ones(1, 4, dtype=jg.float64)),
     "index 7 is out of bounds"),
])
def test_out_of_range_index_raises_index_error_and_changes_nothing(call, match):
    x = jg.tensor(X34)
    before = x.data.copy()
    with pytest.raises(IndexError, match=match):
        call(x)
    np.testing.assert_array_equal(x.data, before)
    assert x._version[0] == 0


def test_bad_arguments_raise_clear_errors():
    x = jg.tensor(X34)
    with pytest.raises(TypeError, match=r"gather\(\): argument 'index' expected an integer "
                                        r"\(int64 or int32\) tensor"):
        x.gather(1, jg.tensor([[1.0]]))
    np.testing.assert_array_equal(x.gather(1, jg.tensor([[1]], dtype=jg.int32)).data,
                                  X34[:1, 1:2])
    with pytest.raises(ValueError, match="same number of dimensions"):
        x.gather(1, jg.tensor([1]))
    with pytest.raises(ValueError, match="no larger than input"):
        x.gather(1, jg.zeros(4, 1, dtype=jg.int64))
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.gather(2, jg.tensor([[0]]))
    with pytest.raises(TypeError, match="Expected self.dtype to be equal to src.dtype"):
        x.scatter(1, jg.tensor([[0]]), jg.ones(1, 1))
    with pytest.raises(ValueError, match="no larger than src"):
        x.scatter(1, jg.tensor([[0, 1]]), jg.ones(1, 1, dtype=jg.float64))
    with pytest.raises(ValueError, match="reduce argument must be one of"):
        x.scatter_reduce(1, jg.tensor([[0]]), x, "max")
    with pytest.raises(ValueError, match="Index is supposed to be a vector"):
        x.index_select(0, jg.tensor([[0]]))
    with pytest.raises(ValueError, match=r"argument 'source' expected shape \(3, 2\)"):
        x.index_add(1, jg.tensor([0, 1]), jg.ones(2, 3, dtype=jg.float64))
    with pytest.raises(TypeError, match="bool tensor"):
        x.masked_select(jg.ones(3, 4))
    with pytest.raises(ValueError, match="broadcastable"):
        x.masked_select(jg.tensor([True, False]))
    with pytest.raises(ValueError, match="Number of elements of source"):
        x.masked_scatter(jg.tensor(MASK), jg.zeros(1, dtype=jg.float64))
    with pytest.raises(TypeError, match="exactly one of 'src'"):
        x.scatter(1, jg.tensor([[0]]))


# ----------------------------------------------------------------------------- in place
INPLACE = {
    "scatter_": (lambda t, m: t.scatter_(1, m.tensor(PERM), m.tensor(X34[:, :3] * 3))),
    "scatter_ value": (lambda t, m: t.scatter_(1, m.tensor(PERM), 0.5)),
    "scatter_add_": (lambda t, m: t.scatter_add_(1, m.tensor(I34), m.tensor(X34[:, :3]))),
    "scatter_reduce_": (lambda t, m: t.scatter_reduce_(1, m.tensor(I34), m.tensor(X34[:, :3]),
                                                       "amin", include_self=False)),
    "index_add_": (lambda t, m: t.index_add_(0, m.tensor([2, 2]), m.tensor(X34[:2]),
                                             alpha=-1.0)),
    "index_copy_": (lambda t, m: t.index_copy_(1, m.tensor([1, 3]), m.tensor(X34[:, :2]))),
    "index_fill_": (lambda t, m: t.index_fill_(1, m.tensor([0, 2]), -3.0)),
    "masked_fill_": (lambda t, m: t.masked_fill_(m.tensor(MASK), 2.0)),
    "masked_scatter_": (lambda t, m: t.masked_scatter_(m.tensor(MASK), m.tensor(X34 * 5))),
}


@pytest.mark.parametrize("name", list(INPLACE))
def test_inplace_forms(name):
    op = INPLACE[name]
    # no graph: the tensor's own storage is written, the version bumped, self returned
    base = X34.copy()
    t = jg.from_numpy(base)
    assert op(t, jg) is t and t._version[0] == 1
    want = op(torch.tensor(X34), torch).numpy()
    np.testing.assert_array_equal(base, want)
    # a leaf that requires grad is refused, nothing written
    leaf = jg.tensor(X34, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        op(leaf, jg)
    np.testing.assert_array_equal(leaf.data, X34)
    # in a graph: the tensor takes over the node; gradients as torch
    tl, jl = torch.tensor(X34, requires_grad=True), jg.tensor(X34, requires_grad=True)
    ty, jy = tl * 2.0, jl * 2.0
    op(ty, torch)
    op(jy, jg)
    g = RNG.standard_normal((3, 4))
    (ty * torch.tensor(g)).sum().backward()
    (jy * jg.tensor(g)).sum().backward()
    np.testing.assert_allclose(jl.grad, tl.grad.numpy(), rtol=1e-12)


def test_inplace_invalidates_saved_tensors_and_refuses_views_in_graph():
    x = jg.tensor(X34, requires_grad=True)
    y = x.exp()  # saves its output
    y.index_fill_(0, jg.tensor([0]), 0.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    z = x * 1.0
    with pytest.raises(RuntimeError, match="view of a tensor in the graph"):
        z[0].scatter_(0, jg.tensor([0]), 1.0)
    with pytest.raises(ValueError, match="read-only"):
        ro = X34.copy()
        ro.flags.writeable = False
        jg.from_numpy(ro).index_fill_(0, jg.tensor([0]), 1.0)


# ----------------------------------------------------------------------------- indexing
def test_issue_example_placement():
    x = jg.zeros(2, 3, 4, 5)
    assert x[0, :, jg.tensor([0, 1])].shape == (3, 2, 5)     # numpy would say (2, 3, 5)
    assert x[:, 0, :, [1, 2, 3]].shape == (2, 4, 3)
    x[0, :, jg.tensor([0, 1])] = jg.ones(3, 2, 5)            # setitem takes torch's shape
    assert x.data[0, :, :2].sum() == 30


@st.composite
def _index_case(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    arr_shape = draw(st.sampled_from([(2,), (1,), (2, 2), (3,)]))
    parts, d = [], 0
    ellipsis = draw(st.booleans())
    while d < ndim:
        if draw(st.integers(0, 5)) == 0:
            parts.append(None)
        if ellipsis and draw(st.integers(0, 3)) == 0:
            parts.append(Ellipsis)
            ellipsis = False
            break
        kind = draw(st.sampled_from(["int", "slice", "array", "array", "mask", "full", "bool"]))
        n = shape[d]
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            parts.append(slice(draw(st.integers(-n, n) | st.none()),
                               draw(st.integers(-n, n) | st.none()),
                               draw(st.sampled_from([None, 1, 2]))))  # torch: step > 0
        elif kind == "array":
            parts.append(np.array(draw(st.lists(st.integers(-n, n - 1),
                                                min_size=int(np.prod(arr_shape)),
                                                max_size=int(np.prod(arr_shape))))
                                  ).reshape(arr_shape))
        elif kind == "mask":
            parts.append(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))))
        elif kind == "bool":
            parts.append(draw(st.booleans()))
            continue  # a bool scalar adds a dim, it does not consume one
        else:
            parts.append(slice(None))
        d += 1
    return shape, tuple(parts)


def _to(m, index):
    return tuple(m.tensor(p) if isinstance(p, np.ndarray) else p for p in index)


@settings(deadline=None, max_examples=150)
@given(_index_case())
def test_indexing_matches_torch(case):
    """getitem (values, shape, gradient), setitem (values) and setitem in a graph (gradients
    of the tensor and of the value) agree with torch over random index patterns."""
    shape, index = case
    x = np.random.default_rng(1).standard_normal(shape)
    tx, jx = torch.tensor(x, requires_grad=True), jg.tensor(x, requires_grad=True)
    try:
        rt = tx[_to(torch, index)]
    except IndexError:
        with pytest.raises(IndexError):
            jx[_to(jg, index)]
        return
    rj = jx[_to(jg, index)]
    assert rj.shape == tuple(rt.shape)
    np.testing.assert_array_equal(rj.data, rt.detach().numpy())
    g = np.random.default_rng(2).standard_normal(rj.shape)
    rt.backward(torch.tensor(g))
    rj.backward(g)
    np.testing.assert_array_equal(jx.grad, tx.grad.numpy())

    hit = torch.arange(x.size).reshape(shape)[_to(torch, index)]
    if hit.unique().numel() != hit.numel():
        return  # repeated writes: which one lands is unspecified in torch
    v = np.random.default_rng(3).standard_normal(rj.shape[-1:] if rj.ndim else ())
    ct, cj = torch.tensor(x), jg.tensor(x)
    ct[_to(torch, index)] = torch.tensor(v)
    cj[_to(jg, index)] = jg.tensor(v)
    np.testing.assert_array_equal(cj.data, ct.numpy())
    tl, jl = torch.tensor(x, requires_grad=True), jg.tensor(x, requires_grad=True)
    tv, jv = torch.tensor(v, requires_grad=True), jg.tensor(v, requires_grad=True)
    ty, jy = tl * 1.0, jl * 1.0
    ty[_to(torch, index)] = tv
    jy[_to(jg, index)] = jv
    w = np.random.default_rng(4).standard_normal(shape)
    (ty * torch.tensor(w)).sum().backward()
    (jy * jg.tensor(w)).sum().backward()
    np.testing.assert_allclose(jl.grad, tl.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(jv.grad, tv.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_setitem_in_graph():
    leaf = jg.tensor(X34, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf[0] = 1.0
    y = leaf * 2.0
    y[0] = 1.0
    y.sum().backward()
    np.testing.assert_array_equal(leaf.grad, [[0] * 4, [2] * 4, [2] * 4])
    z = jg.zeros(3, 4, dtype=jg.float64)  # a plain tensor takes a value that requires grad
    z[1:, ::2] = leaf[0, :2]
    assert z.requires_grad and z.grad_fn is not None
    leaf.grad = None
    z.sum().backward()
    np.testing.assert_array_equal(leaf.grad, [[2, 2, 0, 0], [0] * 4, [0] * 4])
    with pytest.raises(RuntimeError, match="view of a tensor in the graph"):
        (leaf * 1.0)[0][1] = 3.0
    with pytest.raises(ValueError, match=r"cannot write a value of shape \(3,\)"):
        (leaf * 1.0)[0] = jg.ones(3, dtype=jg.float64, requires_grad=True)
