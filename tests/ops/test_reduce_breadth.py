"""Scans, order statistics and the NaN / bool reductions beyond the op table: PyTorch as the
oracle for values, indices (ties, NaN) and gradients (zeros, ties), named tuples, dtypes,
method forms, empty inputs and errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jitgrad as jg


def _leaf(values, dtype=jg.float64):
    return jg.tensor(values, dtype=dtype, requires_grad=True)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


# ----------------------------------------------------------------------------- torch oracle
def _zeros(a):
    a = a.copy()
    a[0, 1, :] = 0.0                # a zero at the start of dim-2 rows... and mid dim-1 rows
    a[1, 2, 3] = 0.0
    a[2, 0, 0] = a[2, 3, 0] = 0.0   # two zeros in one dim-1 row
    return a


def _ties(a):
    return np.round(a * 2) / 2      # few distinct values: many ties


_ORACLE = [  # (name, f(module, x), input transform)
    ("cumsum 0", lambda m, x: m.cumsum(x, 0), None),
    ("cumsum -1", lambda m, x: m.cumsum(x, -1), None),
    ("cumprod 1", lambda m, x: m.cumprod(x, 1), None),
    ("cumprod zeros 1", lambda m, x: m.cumprod(x, 1), _zeros),
    ("cumprod zeros 2", lambda m, x: m.cumprod(x, 2), _zeros),
    ("cumprod zeros 0", lambda m, x: m.cumprod(x, 0), _zeros),
    ("logcumsumexp", lambda m, x: m.logcumsumexp(x * 100, 1), None),
    ("logcumsumexp 0", lambda m, x: m.logcumsumexp(x, 0), None),
    ("cummax ties", lambda m, x: m.cummax(x, 1).values, _ties),
    ("cummin ties", lambda m, x: m.cummin(x, 2).values, _ties),
    ("sort", lambda m, x: m.sort(x, 1).values, None),
    ("sort descending", lambda m, x: m.sort(x, 0, descending=True).values, None),
    ("topk", lambda m, x: m.topk(x, 3, dim=1).values, None),
    ("topk smallest", lambda m, x: m.topk(x, 2, dim=-1, largest=False).values, None),
    ("kthvalue", lambda m, x: m.kthvalue(x, 2, 1).values, None),
    ("median dim", lambda m, x: m.median(x, 1).values, None),
    ("median global ties", lambda m, x: m.median(x), _ties),
    ("nansum", lambda m, x: m.nansum(m.log(x), (0, 2)), None),      # log of < 0 is NaN
    ("nanmean", lambda m, x: m.nanmean(m.log(x + 0.5), 1, keepdim=True), None),
    ("aminmax min", lambda m, x: m.aminmax(x, dim=1).min, None),
    ("aminmax max ties", lambda m, x: m.aminmax(x).max, _ties),
]


@pytest.mark.parametrize("name,f,prep", _ORACLE, ids=[n for n, _, _ in _ORACLE])
def test_matches_torch_forward_and_gradient(name, f, prep):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    a = rng.uniform(-1, 1, (3, 4, 5))
    if prep is not None:
        a = prep(a)
    ours, theirs = _leaf(a), torch.tensor(a, requires_grad=True)
    y, yt = f(jg, ours), f(torch, theirs)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    v = rng.uniform(0.5, 1.5, yt.shape)
    (y * jg.tensor(v)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_indices_match_torch_on_ties_and_nan():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 3.0, 3.0, np.nan, 2.0, 3.0, np.nan, 1.0],
                  [2.0, 2.0, 1.0, 1.0, 0.0, 0.0, 5.0, 5.0]])
    x, t = jg.tensor(a), torch.tensor(a)
    for name in ("cummax", "cummin"):
        got, want = getattr(jg, name)(x, 1), getattr(torch, name)(t, 1)
        np.testing.assert_array_equal(got.values.data, want.values.numpy())
        np.testing.assert_array_equal(got.indices.data, want.indices.numpy())
    for descending in (False, True):  # stable: ties keep their order, NaN is the largest
        got = jg.sort(x, 1, descending, stable=True)
        want = torch.sort(t, dim=1, descending=descending, stable=True)
        np.testing.assert_array_equal(got.values.data, want.values.numpy())
        np.testing.assert_array_equal(got.indices.data, want.indices.numpy())
        np.testing.assert_array_equal(jg.argsort(x, 1, descending).data,
                                      torch.argsort(t, dim=1, descending=descending,
                                                    stable=True).numpy())
    got, want = jg.median(x, 1), torch.median(t, 1)  # NaN row: NaN at its first NaN
    np.testing.assert_array_equal(got.values.data, want.values.numpy())
    assert got.indices.data[0] == want.indices[0] == 3
    assert a[1, got.indices.data[1]] == 1.0  # a tie: torch leaves which index unspecified
    assert np.isnan(jg.median(x).item()) and np.isnan(torch.median(t).item())
    m = np.array([[1, 2, 2, 3, 3, 1], [5, 5, 4, 4, 9, 9], [7, 8, 8, 6, 6, 6]])
    for d in (0, 1):  # the smallest of the most frequent values, at its last index
        got, want = jg.mode(jg.tensor(m), d), torch.mode(torch.tensor(m), d)
        np.testing.assert_array_equal(got.values.data, want.values.numpy())
        np.testing.assert_array_equal(got.indices.data, want.indices.numpy())


def test_selection_paths_match_torch():
    """topk with k small against n (a partial sort), kthvalue and median (a selection)."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(5).standard_normal((6, 40))
    for d in (0, 1):
        for k in (1, 3):
            for largest in (True, False):
                got = jg.topk(jg.tensor(a), k, d, largest)
                want = torch.topk(torch.tensor(a), k, d, largest)
                np.testing.assert_array_equal(got.values.data, want.values.numpy())
                np.testing.assert_array_equal(got.indices.data, want.indices.numpy())
        for k in (1, 2, 5):
            got, want = jg.kthvalue(jg.tensor(a), k, d), torch.kthvalue(torch.tensor(a), k, d)
            np.testing.assert_array_equal(got.indices.data, want.indices.numpy())
        got, want = jg.median(jg.tensor(a), d), torch.median(torch.tensor(a), d)
        np.testing.assert_array_equal(got.indices.data, want.indices.numpy())
    assert jg.median(jg.tensor(a)).item() == torch.median(torch.tensor(a)).item()


def test_unique_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 3.0, 3.0, np.nan], [2.0, np.nan, 1.0, 1.0]])
    for kw in (dict(), dict(return_inverse=True), dict(return_counts=True),
               dict(return_inverse=True, return_counts=True)):
        got, want = jg.unique(jg.tensor(a), **kw), torch.unique(torch.tensor(a), **kw)
        got = got if isinstance(got, tuple) else (got,)
        want = want if isinstance(want, tuple) else (want,)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == tuple(w.shape) and g.dtype == w.numpy().dtype
            np.testing.assert_array_equal(g.data, w.numpy())
    rows = np.array([[1, 2], [1, 2], [0, 3]])
    got = jg.unique(jg.tensor(rows), dim=0, return_inverse=True, return_counts=True)
    want = torch.unique(torch.tensor(rows), dim=0, return_inverse=True, return_counts=True)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.data, w.numpy())


def test_all_any_count_nonzero_match_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[[0.0, 1.0, np.nan], [0.0, 0.0, 0.0]], [[2.0, -1.0, 3.0], [0.0, 5.0, 0.0]]])
    x, t = jg.tensor(a), torch.tensor(a)
    for dim in (None, 0, -1, (0, 2)):
        for name in ("all", "any"):
            for keepdim in (False, True):
                kw = dict(keepdim=keepdim) if dim is not None else {}
                got = getattr(jg, name)(x, dim, **kw) if dim is not None else getattr(jg, name)(x)
                want = getattr(torch, name)(t, dim, **kw) if dim is not None else \
                    getattr(torch, name)(t)
                assert got.dtype == np.bool_ and got.shape == tuple(want.shape)
                np.testing.assert_array_equal(got.data, want.numpy())
        got = jg.count_nonzero(x, dim)
        want = torch.count_nonzero(t, dim)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got.data, want.numpy())


# ----------------------------------------------------------------------------- gradients
def test_cumprod_gradient_with_zeros_is_exact():
    """No division: the gradient at and around zeros is the product of the other factors."""
    x = _leaf([2.0, 0.0, 3.0, 0.0, 5.0])
    jg.cumprod(x, 0).sum().backward()
    # d/dx0 = 1, d/dx1 = 2 + 2*3 + 0 + 0, d/dx2 = 0, d/dx3 = 2*0*3 + ... = 0, d/dx4 = 0
    np.testing.assert_array_equal(x.grad, [1.0, 8.0, 0.0, 0.0, 0.0])
    x = _leaf([0.0, 4.0])
    jg.cumprod(x, 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 0.0])


def test_cummax_gradient_goes_to_the_running_extremum():
    x = _leaf([1.0, 3.0, 2.0, 3.0, 0.0])
    jg.cummax(x, 0).values.backward(jg.tensor([1.0, 10.0, 100.0, 1000.0, 10000.0]))
    np.testing.assert_array_equal(x.grad, [1.0, 110.0, 0.0, 11000.0, 0.0])


def test_logcumsumexp_extremes():
    x = _leaf([-np.inf, -np.inf, 0.0, 1000.0, -1000.0])
    y = jg.logcumsumexp(x, 0)
    np.testing.assert_allclose(y.data, [-np.inf, -np.inf, 0.0, 1000.0, 1000.0])
    y.backward(jg.ones(5, dtype=jg.float64))
    # torch's values: NaN where the prefix is all -inf (exp(-inf - -inf)), finite after it
    np.testing.assert_array_equal(x.grad, [np.nan, np.nan, 1.0, 2.0, 0.0])
    x = _leaf([np.inf, 1.0, np.inf])
    y = jg.logcumsumexp(x, 0)
    assert y.data.tolist() == [np.inf, np.inf, np.inf]
    y.backward(jg.ones(3, dtype=jg.float64))
    np.testing.assert_array_equal(x.grad, [np.nan, 0.0, np.nan])


def test_nansum_nanmean_gradient_is_zero_at_nans():
    x = _leaf([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    jg.nansum(x).backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    x = _leaf([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    y = jg.nanmean(x, 1)
    np.testing.assert_array_equal(y.data, [2.0, np.nan])
    y[0].backward()
    np.testing.assert_array_equal(x.grad, [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])


def test_sort_family_gradients_scatter_to_indices():
    x = _leaf([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    y = jg.topk(x, 2, dim=1)
    y.values.backward(jg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, 2.0], [0.0, 3.0, 4.0]])
    x = _leaf([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    jg.sort(x, 0, descending=True).values.backward(jg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    np.testing.assert_array_equal(x.grad, [[1.0, 5.0, 6.0], [4.0, 2.0, 3.0]])
    x = _leaf([[1.0, 1.0, 2.0, 2.0, 2.0]])
    jg.mode(x, 1).values.backward(jg.tensor([7.0]))
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0, 0.0, 0.0, 7.0]])


def test_non_differentiable_results():
    x = _leaf([[3.0, 1.0], [2.0, 2.0]])
    for out in (jg.argsort(x), jg.all(x), jg.any(x, 1), jg.count_nonzero(x),
                jg.unique(x), jg.sort(x).indices, jg.cummax(x, 0).indices,
                jg.median(x, 0).indices, jg.topk(x, 1).indices):
        assert not out.requires_grad and out.grad_fn is None
    assert jg.sort(x).values.requires_grad and jg.cumsum(x, 0).requires_grad
    names = [f(x).grad_fn.name() for f in (
        lambda x: jg.sort(x).values, lambda x: jg.topk(x, 1).values,
        lambda x: jg.kthvalue(x, 1).values, lambda x: jg.median(x, 0).values,
        lambda x: jg.median(x), lambda x: jg.mode(x).values, lambda x: jg.cumsum(x, 0),
        lambda x: jg.cumprod(x, 0), lambda x: jg.cummax(x, 0).values,
        lambda x: jg.logcumsumexp(x, 0), lambda x: jg.nansum(x), lambda x: jg.nanmean(x))]
    assert names == ["SortBackward", "TopkBackward", "KthvalueBackward", "MedianBackward",
                     "MedianBackward", "ModeBackward", "CumsumBackward", "CumprodBackward",
                     "CummaxBackward", "LogcumsumexpBackward", "NansumBackward",
                     "NanmeanBackward"]


# ----------------------------------------------------------------------------- API surface
def test_named_tuples_and_method_forms():
    x = jg.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    for r, name, fields in [(x.sort(), "sort", ("values", "indices")),
                            (x.topk(1), "topk", ("values", "indices")),
                            (x.kthvalue(1), "kthvalue", ("values", "indices")),
                            (x.median(1), "median", ("values", "indices")),
                            (x.mode(), "mode", ("values", "indices")),
                            (x.cummax(1), "cummax", ("values", "indices")),
                            (x.cummin(0), "cummin", ("values", "indices")),
                            (x.aminmax(), "aminmax", ("min", "max"))]:
        assert type(r).__name__ == name and r._fields == fields
        assert r[1].dtype == (x.dtype if name == "aminmax" else np.int64)
    np.testing.assert_array_equal(x.cumsum(1).data, np.cumsum(x.data, 1))
    np.testing.assert_array_equal(x.cumprod(dim=0).data, np.cumprod(x.data, 0))
    np.testing.assert_allclose(x.logcumsumexp(1).data, np.logaddexp.accumulate(x.data, 1))
    np.testing.assert_array_equal(x.argsort(descending=True).data, [[0, 2, 1], [1, 2, 0]])
    assert x.all().item() is False and x.any().item() is True
    assert x.count_nonzero().item() == 5
    assert x.nansum().item() == 15.0 and x.nanmean().item() == 2.5
    assert x.median().item() == 2.0
    np.testing.assert_array_equal(x.unique().data, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert x.aminmax(dim=0, keepdim=True).max.shape == (1, 3)


def test_dtypes():
    i32 = jg.tensor(np.array([[1, 2], [3, 4]], np.int32))
    assert jg.cumsum(i32, 0).dtype == np.int64 and jg.cumprod(i32, 1).dtype == np.int64
    np.testing.assert_array_equal(jg.cumsum(jg.tensor([True, False, True]), 0).data, [1, 1, 2])
    big = jg.tensor(np.array([2 ** 40, 3], np.int64))
    assert jg.cumprod(big, 0).data.tolist() == [2 ** 40, 3 * 2 ** 40]  # exact in int64
    assert jg.cummax(i32, 1).values.dtype == np.int32
    assert jg.cummin(jg.tensor([True, False, True]), 0).values.data.tolist() == [True, False,
                                                                                  False]
    x = _leaf([1.0, 2.0], jg.float32)
    y = jg.cumsum(x, 0, dtype=jg.float64)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 1.0]
    assert jg.nansum(i32).dtype == np.int64 and jg.nansum(i32).item() == 10
    assert jg.nanmean(x, dtype=jg.float64).dtype == np.float64
    s = jg.sort(jg.tensor(np.array([3, 1, 2], np.int32)))
    assert s.values.dtype == np.int32 and s.values.data.tolist() == [1, 2, 3]
    assert jg.median(i32).item() == 2 and jg.mode(i32, 0).values.dtype == np.int32
    v = jg.cumsum(jg.tensor(np.full(10 ** 5, 0.1, np.float32)), 0)  # accumulates in float64
    assert abs(v.data[-1] - 1e4) < 1e-2


def test_zero_d_and_empty_inputs():
    s = jg.tensor(2.5)
    for r in (jg.sort(s), jg.topk(s, 1), jg.kthvalue(s, 1), jg.median(s, 0), jg.mode(s),
              jg.cummax(s, 0)):
        assert r.values.shape == () and r.values.item() == 2.5 and r.indices.item() == 0
    assert jg.cumsum(s, -1).item() == 2.5 and jg.median(s).item() == 2.5
    e = jg.zeros((0, 3))
    assert jg.cumsum(e, 0).shape == (0, 3) and jg.cumprod(e, 1).shape == (0, 3)
    for f in (jg.cummax, jg.cummin):  # an empty scanned dim with other dims non-empty
        r = f(jg.zeros((3, 0, 2)), 1)
        assert r.values.shape == r.indices.shape == (3, 0, 2)
    assert jg.sort(e, 0).values.shape == (0, 3) and jg.topk(e, 0, 1).values.shape == (0, 0)
    assert jg.topk(jg.ones((2, 9)), 0).values.shape == (2, 0)
    assert jg.all(e).item() is True and jg.any(e).item() is False
    assert jg.count_nonzero(e, 0).data.tolist() == [0, 0, 0]
    assert jg.nansum(e).item() == 0.0 and np.isnan(jg.nanmean(e).item())
    assert np.isnan(jg.median(e).item()) and jg.unique(e).shape == (0,)


def test_errors_name_the_op_and_argument():
    x = jg.ones((2, 3))
    with pytest.raises(TypeError, match=r"cumsum\(\): missing required argument 'dim'"):
        jg.cumsum(x)
    with pytest.raises(IndexError, match=r"cummax\(\): Dimension out of range"):
        jg.cummax(x, 2)
    with pytest.raises(IndexError, match=r"sort\(\): Dimension out of range"):
        jg.sort(x, -3)
    with pytest.raises(IndexError, match=r"topk\(\): argument 'k' \(4\) out of range"):
        jg.topk(x, 4)
    with pytest.raises(IndexError, match=r"kthvalue\(\): argument 'k' \(0\) out of range"):
        jg.kthvalue(x, 0)
    with pytest.raises(TypeError, match=r"topk\(\): argument 'k' expected an int"):
        jg.topk(x, 1.5)
    with pytest.raises(TypeError, match=r"logcumsumexp\(\): argument 'input' expected a "
                                        r"floating-point"):
        jg.logcumsumexp(jg.tensor([1, 2]), 0)
    with pytest.raises(TypeError, match=r"nanmean\(\): expected input to have floating"):
        jg.nanmean(jg.tensor([1, 2]))
    with pytest.raises(TypeError, match=r"aminmax\(\): argument 'dim' must be int"):
        jg.aminmax(x, dim=(0, 1))
    with pytest.raises(ValueError, match=r"aminmax\(\): cannot reduce over a zero-size"):
        jg.aminmax(jg.zeros((0, 2)), dim=0)
    with pytest.raises(IndexError, match=r"median\(\): expected a non-empty dim 0"):
        jg.median(jg.zeros((0, 2)), 0)
    with pytest.raises(IndexError, match=r"mode\(\): expected a non-empty dim 1"):
        jg.mode(jg.zeros((2, 0)))
    with pytest.raises(TypeError, match=r"all\(\): argument 'input' expected a Tensor"):
        jg.all([1, 2])


# ----------------------------------------------------------------------------- properties
@settings(deadline=None, max_examples=30)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3), data=st.data())
def test_scans_match_numpy_on_any_shape_and_dim(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    a = np.random.default_rng(len(shape)).uniform(0.5, 1.5, shape)
    x = jg.tensor(a)
    np.testing.assert_allclose(jg.cumsum(x, dim).data, np.cumsum(a, dim), rtol=1e-12)
    np.testing.assert_allclose(jg.cumprod(x, dim).data, np.cumprod(a, dim), rtol=1e-12)
    np.testing.assert_allclose(jg.logcumsumexp(x, dim).data, np.logaddexp.accumulate(a, dim),
                               rtol=1e-12)
    np.testing.assert_array_equal(jg.cummax(x, dim).values.data, np.maximum.accumulate(a, dim))
    np.testing.assert_array_equal(jg.sort(x, dim).values.data, np.sort(a, dim))
