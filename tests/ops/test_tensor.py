"""Tensor creation, dtype rules, attributes, comparisons and reflected operators."""
import numpy as np
import pytest

import jitgrad as jg


# ----------------------------------------------------------------------------- creation
def test_tensor_copies_and_from_numpy_shares_memory():
    a = np.zeros(3)
    t, s = jg.tensor(a), jg.from_numpy(a)
    a[0] = 5.0
    assert t.data[0] == 0.0 and s.data[0] == 5.0
    s.data[1] = 7.0
    assert a[1] == 7.0
    with pytest.raises(TypeError, match="from_numpy"):
        jg.from_numpy([1.0])


def test_filled_creation_functions():
    assert jg.zeros(2, 3).shape == (2, 3) and jg.zeros((2, 3)).data.sum() == 0
    assert jg.ones(2, dtype=jg.float64).dtype == np.float64
    assert jg.ones(2).data.tolist() == [1.0, 1.0] and jg.ones(2).dtype == np.float32
    assert jg.empty(4, 1).shape == (4, 1)
    assert jg.full((2,), 7).dtype == np.int64 and jg.full((2,), 7.0).dtype == np.float32
    assert jg.full((2, 2), 1.5).tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert jg.eye(3).tolist() == np.eye(3).tolist() and jg.eye(2, 3).shape == (2, 3)
    like = jg.ones(2, 3, dtype=jg.float64)
    assert jg.zeros_like(like).dtype == np.float64 and jg.zeros_like(like).shape == (2, 3)
    assert jg.ones_like(like).data.sum() == 6
    assert jg.zeros(2, requires_grad=True).requires_grad


def test_ranges():
    assert jg.arange(5).tolist() == [0, 1, 2, 3, 4] and jg.arange(5).dtype == np.int64
    r = jg.arange(0, 1, 0.25)
    assert r.dtype == np.float32 and r.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert jg.arange(2, 8, 3).tolist() == [2, 5]
    lin = jg.linspace(0, 1, 5)
    assert lin.dtype == np.float32 and lin.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_random_creation_and_manual_seed():
    jg.manual_seed(123)
    a, b, c = jg.rand(3, 2), jg.randn(4), jg.randint(0, 5, (6,))
    jg.manual_seed(123)
    a2, b2, c2 = jg.rand(3, 2), jg.randn(4), jg.randint(0, 5, (6,))
    assert np.array_equal(a.data, a2.data) and np.array_equal(b.data, b2.data)
    assert np.array_equal(c.data, c2.data)
    assert a.dtype == np.float32 and b.dtype == np.float32 and c.dtype == np.int64
    assert 0 <= a.data.min() and a.data.max() < 1
    assert c.data.min() >= 0 and c.data.max() < 5
    assert jg.randn(2, dtype=jg.float64).dtype == np.float64
    assert not np.array_equal(jg.randn(4).data, jg.randn(4).data)


# ----------------------------------------------------------------------------- dtypes
def test_inferred_dtypes():
    assert jg.tensor([1.0, 2.0]).dtype == np.float32
    assert jg.tensor(1.5).dtype == np.float32
    assert jg.tensor([1, 2]).dtype == np.int64
    assert jg.tensor([True, False]).dtype == np.bool_
    assert jg.tensor(np.ones(2)).dtype == np.float64          # an ndarray keeps its dtype
    assert jg.tensor(np.ones(2, np.int32)).dtype == np.int32
    assert jg.tensor(np.float64(1.0)).dtype == np.float64     # so does a NumPy scalar
    assert jg.tensor([1, 2], dtype=jg.float64).dtype == np.float64


def test_promotion_like_torch():
    x32 = jg.ones(2)
    assert (x32 * 2.5).dtype == np.float32       # Python scalars do not upcast
    assert (x32 + 1).dtype == np.float32
    assert (2 ** x32).dtype == np.float32
    assert (x32 + jg.ones(2, dtype=jg.float64)).dtype == np.float64
    ints = jg.tensor([1, 2])
    assert (ints * 2).dtype == np.int64
    assert (ints * 1.5).dtype == np.float32       # int tensor with a float scalar
    assert (ints + x32).dtype == np.float32
    assert (ints / ints).dtype == np.float32      # true division is floating


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        jg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        jg.tensor([1, 2]).requires_grad_()


def test_unsupported_dtype():
    with pytest.raises(TypeError, match="unsupported dtype"):
        jg.zeros(2, dtype=np.complex64)


# ----------------------------------------------------------------------------- attributes
def test_shape_attributes():
    x = jg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.numel() == 6 and len(x) == 2 and x.dtype == np.float32
    assert isinstance(x.data, np.ndarray)
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert jg.tensor([2.5]).item() == 2.5 and isinstance(jg.tensor(3).item(), int)
    with pytest.raises(ValueError, match="6 elements"):
        x.item()


def test_autograd_attributes():
    x = jg.tensor([1.0, 2.0], requires_grad=True)
    assert x.is_leaf and x.requires_grad and x.grad is None and x.grad_fn is None
    y = x * 2
    assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])
    c = jg.ones(2)
    assert not c.requires_grad and c.requires_grad_() is c and c.requires_grad
    c.requires_grad = False
    assert not c.requires_grad


def test_detach_shares_data_and_clone_copies_with_grad():
    x = jg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and np.shares_memory(d.data, y.data)
    c = y.clone()
    assert c.grad_fn is not None and not np.shares_memory(c.data, y.data)
    (c * c).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * 9 * x.data)


def test_zero_():
    t = jg.ones(2, 2)
    assert t.zero_() is t and t.data.sum() == 0


def test_repr_shows_values_dtype_and_grad_fn():
    assert repr(jg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(jg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(jg.tensor([1.0], dtype=jg.float64)) == "tensor([1.], dtype=jitgrad.float64)"
    x = jg.tensor([1.0], requires_grad=True)
    assert repr(x) == "tensor([1.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward>)"


# ----------------------------------------------------------------------------- operators
def test_comparisons_give_bool_tensors_without_grad():
    x = jg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    other = jg.tensor([3.0, 2.0, 1.0])
    for got, want in [(x < 2, [True, False, False]), (x <= 2, [True, True, False]),
                      (x > other, [False, False, True]), (x >= other, [False, True, True]),
                      (x == 2, [False, True, False]), (x != other, [True, False, True])]:
        assert isinstance(got, jg.Tensor) and got.dtype == np.bool_
        assert got.tolist() == want and not got.requires_grad and got.grad_fn is None


def test_reflected_operators_and_their_gradients():
    x = jg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    np.testing.assert_allclose((2.0 - x).data, [1.0, 0.0])
    np.testing.assert_allclose((2.0 / x).data, [2.0, 1.0])
    np.testing.assert_allclose((2 ** x).data, [2.0, 4.0])
    np.testing.assert_allclose((3 * x).data, [3.0, 6.0])
    np.testing.assert_allclose((1 + x).data, [2.0, 3.0])
    (2.0 - x + 2.0 / x + 2 ** x).sum().backward()
    np.testing.assert_allclose(x.grad, -1 - 2 / x.data ** 2 + np.log(2) * 2 ** x.data)


def test_ndarray_on_the_left_returns_tensor():
    x = jg.tensor([1.0, 2.0], requires_grad=True)
    for out in (np.ones(2, np.float32) + x, np.ones(2, np.float32) * x,
                np.ones(2, np.float32) - x, np.ones(2, np.float32) / x):
        assert isinstance(out, jg.Tensor) and out.requires_grad
    out = np.array([2.0, 3.0], np.float32) * x
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 3.0])


def test_unary_minus_abs_on_integers_keep_dtype():
    ints = jg.tensor([-2, 3])
    assert (-ints).tolist() == [2, -3] and (-ints).dtype == np.int64
    assert abs(ints).tolist() == [2, 3] and abs(ints).dtype == np.int64
    assert ints.exp().dtype == np.float32  # floating-only math promotes


def test_bool_of_multi_element_tensor_is_ambiguous():
    assert bool(jg.tensor([1.0]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(jg.ones(2))


def test_zero_dim_tensor_formats_as_its_number():
    loss = jg.tensor(0.123456, requires_grad=True) * 2
    assert f"{loss:.4f}" == "0.2469" and f"{jg.tensor(3):d}" == "3"
    assert f"{jg.ones(2)}" == repr(jg.ones(2))
    import pytest
    with pytest.raises(TypeError, match="only 0-d tensors"):
        f"{jg.ones(2):.3f}"
