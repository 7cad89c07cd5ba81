"""Reductions beyond the op table: bad dims, named tuples, ties, zeros, overflow, integer
dtypes, precision, and PyTorch as an oracle."""
import numpy as np
import pytest

import jitgrad as jg


def _leaf(values, dtype=jg.float64):
    return jg.tensor(values, dtype=dtype, requires_grad=True)


# ----------------------------------------------------------------------------- dims
@pytest.mark.parametrize("fn", [
    lambda x, d: jg.sum(x, d), lambda x, d: jg.mean(x, d), lambda x, d: jg.var(x, d),
    lambda x, d: jg.std(x, d), lambda x, d: jg.max(x, d), lambda x, d: jg.min(x, d),
    lambda x, d: jg.amax(x, d), lambda x, d: jg.amin(x, d), lambda x, d: jg.argmax(x, d),
    lambda x, d: jg.argmin(x, d), lambda x, d: jg.logsumexp(x, d), lambda x, d: jg.prod(x, d),
    lambda x, d: jg.norm(x, 2, d)])
@pytest.mark.parametrize("dim", [2, -3])
def test_dim_out_of_range_raises_index_error(fn, dim):
    x = jg.ones((2, 3))
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range "
                                         r"of \[-2, 1\], but got"):
        fn(x, dim)


def test_dim_errors_on_0d_and_bad_types():
    s = jg.tensor(2.0)
    assert jg.sum(s, 0).item() == 2.0 and jg.sum(s, -1).item() == 2.0
    with pytest.raises(IndexError, match=r"\[-1, 0\], but got 1"):
        jg.sum(s, 1)
    x = jg.ones((2, 3))
    with pytest.raises(ValueError, match="dim 1 appears multiple times"):
        jg.sum(x, (1, -1))
    with pytest.raises(TypeError, match="dim"):
        jg.sum(x, 1.0)
    with pytest.raises(TypeError, match="must be int"):
        jg.max(x, (0, 1))
    with pytest.raises(TypeError, match="axis"):
        jg.sum(x, dim=0, axis=0)
    with pytest.raises(TypeError, match="dim"):
        jg.logsumexp(x)


def test_axis_alias_and_list_dims():
    x = jg.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_array_equal(jg.sum(x, axis=1).data, x.data.sum(1))
    np.testing.assert_array_equal(x.amax(axis=[0, 2]).data, x.data.max((0, 2)))
    np.testing.assert_array_equal(jg.argmax(x, axis=-1).data, x.data.argmax(-1))
    assert jg.sum(x, dim=None, keepdim=True).shape == (1, 1, 1)
    assert jg.sum(x, dim=()).item() == x.data.sum()


# ----------------------------------------------------------------------------- max / min
def test_max_min_with_dim_return_named_tuples():
    x = _leaf([[1.0, 5.0, 3.0], [7.0, 2.0, 4.0]])
    r = jg.max(x, dim=1)
    assert type(r).__name__ == "max" and r._fields == ("values", "indices")
    values, indices = r
    assert values is r.values and indices is r.indices
    np.testing.assert_array_equal(r.values.data, [5.0, 7.0])
    np.testing.assert_array_equal(r.indices.data, [1, 0])
    assert r.indices.dtype == np.int64 and not r.indices.requires_grad
    assert r.values.requires_grad
    m = x.min(0, keepdim=True)
    assert type(m).__name__ == "min" and m.values.shape == (1, 3)
    np.testing.assert_array_equal(m.indices.data, [[0, 1, 0]])


def test_max_with_other_tensor_is_maximum():
    a, b = jg.tensor([1.0, 4.0]), jg.tensor([3.0, 2.0])
    np.testing.assert_array_equal(jg.max(a, b).data, [3.0, 4.0])
    np.testing.assert_array_equal(jg.min(a, b).data, [1.0, 2.0])


def test_max_tie_gradients_follow_torch():
    vals = [1.0, 3.0, 3.0, 2.0]
    x = _leaf(vals)
    jg.max(x, dim=0).values.backward()  # with dim: all to the first index returned
    np.testing.assert_array_equal(x.grad, [0, 1, 0, 0])
    for f in (jg.max, jg.amax):  # global max / amax: split evenly among the ties
        x = _leaf(vals)
        f(x).backward()
        np.testing.assert_array_equal(x.grad, [0, 0.5, 0.5, 0])
    x = _leaf([[2.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    jg.amin(x, 1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x = _leaf([[2.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    jg.min(x, 1).values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])


def test_max_nan_propagates_with_its_index():
    x = jg.tensor([1.0, np.nan, 3.0])
    assert np.isnan(jg.max(x).item())
    r = jg.max(x, 0)
    assert np.isnan(r.values.item()) and r.indices.item() == 1
    assert jg.argmin(x).item() == 1
    y = jg.tensor([[3.0, 1.0, np.nan], [np.nan, 2.0, 5.0]])  # NaN wins wherever it is
    for f in (jg.max, jg.min):
        r = f(y, 1)
        assert np.isnan(r.values.data).all() and r.indices.tolist() == [2, 0]
    assert jg.argmin(y, 1).tolist() == [2, 0] and np.isnan(jg.amin(y).item())


def test_extrema_of_empty_raise():
    x = jg.ones((0, 3))
    for f in (lambda: jg.max(x), lambda: jg.max(x, 0), lambda: jg.amin(x, 0),
              lambda: jg.argmax(x)):
        with pytest.raises(ValueError, match="zero-size"):
            f()
    assert jg.max(x, 1).values.shape == (0,)
    assert jg.sum(x).item() == 0.0 and jg.prod(x).item() == 1.0
    assert np.isnan(jg.mean(x).item())
    np.testing.assert_array_equal(jg.sum(x, 0).data, [0, 0, 0])


# ----------------------------------------------------------------------------- dtypes
def test_integer_and_bool_inputs():
    i = jg.tensor([[1, 2], [3, 4]])
    s = jg.sum(i)
    assert s.dtype == np.int64 and s.item() == 10 and not s.requires_grad
    assert jg.sum(jg.tensor([True, False, True])).dtype == np.int64
    assert jg.sum(jg.tensor([1, 2], dtype=jg.int32), 0).dtype == np.int64
    big = jg.tensor([2 ** 62, 1, -(2 ** 62)])
    assert jg.sum(big).item() == 1  # exact: integers never go through float
    with pytest.raises(TypeError, match="floating point"):
        jg.mean(i)
    assert jg.mean(i, dtype=jg.float32).item() == 2.5
    assert jg.sum(i, dtype=jg.float64).dtype == np.float64
    p = jg.prod(jg.tensor([3, 5, 7], dtype=jg.int32))
    assert p.dtype == np.int64 and p.item() == 105
    m = jg.max(jg.tensor([[1, 9], [4, 2]], dtype=jg.int32), 1)
    assert m.values.dtype == np.int32 and m.values.tolist() == [9, 4]
    assert jg.argmax(i).dtype == np.int64 and jg.argmax(i).item() == 3
    assert jg.logsumexp(jg.tensor([0, 0]), 0).dtype == np.float32
    with pytest.raises(TypeError):
        jg.var(i)
    with pytest.raises(TypeError):
        jg.norm(i)


def test_float32_sum_accumulates_in_float64():
    x = np.random.default_rng(0).random(1_000_000).astype(np.float32)
    want = x.astype(np.float64).sum()
    got = jg.sum(jg.tensor(x))
    assert got.dtype == np.float32
    assert abs(float(got.item()) - want) / want < 1e-6  # float32 accumulation: ~1e-4 off
    assert abs(float(jg.mean(jg.tensor(x)).item()) - want / x.size) / (want / x.size) < 1e-6
    cols = jg.sum(jg.tensor(x.reshape(1000, 1000)), 0).data
    np.testing.assert_allclose(cols, x.reshape(1000, 1000).astype(np.float64).sum(0), rtol=1e-6)


# ----------------------------------------------------------------------------- prod, logsumexp, var
def test_prod_gradient_with_zeros():
    x = _leaf([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 4.0]])
    jg.prod(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 6, 0], [0, 0, 0], [8, 4, 2]])
    x = _leaf([2.0, 0.0, 3.0, -1.0])
    jg.prod(x).backward()
    np.testing.assert_array_equal(x.grad, [0, -6, 0, 0])


def test_logsumexp_large_values_do_not_overflow():
    x = _leaf([1e4, 1e4, 1e4 - 1.0])
    y = jg.logsumexp(x, 0)
    assert np.isfinite(y.item())
    np.testing.assert_allclose(y.item(), 1e4 + np.log(2 + np.exp(-1.0)), rtol=1e-12)
    y.backward()
    e = np.array([1.0, 1.0, np.exp(-1.0)])
    np.testing.assert_allclose(x.grad, e / e.sum(), rtol=1e-12)
    x32 = jg.tensor([[-1e4, -1e4 + 2.0]], dtype=jg.float32)
    np.testing.assert_allclose(jg.logsumexp(x32, 1).data, [-1e4 + 2 + np.log1p(np.exp(-2))],
                               rtol=1e-6)
    assert jg.logsumexp(jg.tensor([-np.inf, -np.inf]), 0).item() == -np.inf
    assert jg.logsumexp(jg.tensor([np.inf, 1.0]), 0).item() == np.inf


def test_var_std_correction():
    a = np.random.default_rng(3).standard_normal((4, 5))
    x = jg.tensor(a)
    for c in (0, 1, 2):
        np.testing.assert_allclose(jg.var(x, 1, correction=c).data, a.var(1, ddof=c),
                                   rtol=1e-12)
        np.testing.assert_allclose(jg.std(x, correction=c).data, a.std(ddof=c), rtol=1e-12)
    np.testing.assert_allclose(jg.var(x, unbiased=False).data, a.var(), rtol=1e-12)
    np.testing.assert_allclose(x.var(True).data, a.var(ddof=1), rtol=1e-12)  # var(input, unbiased)
    np.testing.assert_allclose(x.var(0, keepdim=True).data, a.var(0, ddof=1, keepdims=True),
                               rtol=1e-12)
    with pytest.raises(TypeError, match="either"):
        jg.var(x, unbiased=True, correction=0)
    assert np.isnan(jg.var(jg.tensor([1.0])).item())  # N - 1 == 0, as torch


def test_std_gradient_is_zero_where_std_is_zero():
    """Regression: std of one element with correction=0 (or of a constant row) had a NaN
    gradient (0 / 0); torch masks it to 0. var's gradient there was already 0."""
    for f in (lambda x: jg.std(x, correction=0), lambda x: jg.var(x, correction=0),
              lambda x: jg.std(x, 1, correction=0).sum(), lambda x: x.std(0, correction=0).sum()):
        for a in ([[2.0]], [[3.0, 3.0, 3.0]]):
            x = _leaf(a)
            f(x).backward()
            np.testing.assert_array_equal(x.grad, np.zeros(np.shape(a)))
    x = _leaf([[3.0, 3.0, 3.0]])
    jg.std(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((1, 3)))
    x = _leaf([[1.0, 1.0], [1.0, 4.0]])  # one constant row, one not: only the first masked
    jg.std(x, 1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.0], [-1 / np.sqrt(2), 1 / np.sqrt(2)]])


def test_norm_zero_input_gradient_is_zero():
    for p in (2, "fro", 3):
        x = _leaf(np.zeros((2, 3)))
        y = jg.norm(x, p)
        assert y.item() == 0.0
        y.backward()
        np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="nuc"):
        jg.norm(jg.ones((2, 2)), "nuc")


# ----------------------------------------------------------------------------- torch oracle
_ORACLE = [
    ("sum", lambda m, x: m.sum(x, (0, 2))),
    ("mean keepdim", lambda m, x: m.mean(x, 1, keepdim=True)),
    ("var", lambda m, x: m.var(x, (0, 2), correction=0)),
    ("std", lambda m, x: m.std(x, -1)),
    ("logsumexp", lambda m, x: m.logsumexp(x * 50, (1, 2))),
    ("prod", lambda m, x: m.prod(x, 1)),
    ("norm fro", lambda m, x: m.norm(x)),
    ("norm p", lambda m, x: m.norm(x, 2.5, (0, 1))),
    ("norm inf", lambda m, x: m.norm(x, float("inf"), 2)),
    ("norm 1", lambda m, x: m.norm(x, 1, 0)),
    ("norm 0.5", lambda m, x: m.norm(x, 0.5, 1)),
    ("amax ties", lambda m, x: m.amax(m.clamp(x, -0.5, 0.5), (0, 1))),
    ("max global ties", lambda m, x: m.max(m.clamp(x, -0.5, 0.5))),
    ("max dim ties", lambda m, x: m.max(m.clamp(x, -0.5, 0.5), 1)[0]),
    ("min dim", lambda m, x: m.min(x, -1).values),
]


@pytest.mark.parametrize("name,f", _ORACLE, ids=[n for n, _ in _ORACLE])
def test_matches_torch_forward_and_gradient(name, f):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    a = rng.uniform(-1, 1, (3, 4, 2))
    if name == "prod":
        a[0, 1, 0] = 0.0
        a[1, 1:3, 1] = 0.0
    ours = _leaf(a)
    theirs = torch.tensor(a, requires_grad=True)
    y, yt = f(jg, ours), f(torch, theirs)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    v = rng.uniform(0.5, 1.5, yt.shape)
    (y * jg.tensor(v)).sum().backward()
    (yt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_argmax_matches_torch_first_index_on_ties():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    for d, k in [(None, False), (1, False), (0, True), (None, True)]:
        want = torch.argmax(torch.tensor(a), dim=d, keepdim=k).numpy()
        got = jg.argmax(jg.tensor(a), dim=d, keepdim=k).data
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(jg.argmin(jg.tensor(a), dim=d, keepdim=k).data,
                                      torch.argmin(torch.tensor(a), dim=d, keepdim=k).numpy())
