"""matmul / mm / bmm / dot: errors, rank rules, one-sided gradients, torch oracle."""
import numpy as np
import pytest

import jitgrad as jg


def _t(*shape, dtype=np.float64, requires_grad=False, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return jg.tensor(data, requires_grad=requires_grad)


def test_inner_dim_mismatch_names_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: input \(2, 3\) and other \(4, 5\) cannot be "
                                         r"multiplied: 3 != 4"):
        jg.matmul(_t(2, 3), _t(4, 5))
    with pytest.raises(ValueError, match=r"cannot be multiplied: 3 != 4"):
        _t(3) @ _t(4)


def test_batch_dims_must_broadcast():
    with pytest.raises(ValueError, match=r"matmul: batch dimensions of input \(2, 2, 3\) and "
                                         r"other \(3, 3, 4\)"):
        jg.matmul(_t(2, 2, 3), _t(3, 3, 4))


def test_rank_rules_of_mm_bmm_dot():
    with pytest.raises(ValueError, match=r"mm: expected input to be 2-D, but got shape \(3,\)"):
        jg.mm(_t(3), _t(3, 3))
    with pytest.raises(ValueError, match=r"bmm: expected mat2 to be 3-D"):
        jg.bmm(_t(2, 2, 3), _t(3, 3))
    with pytest.raises(ValueError, match=r"bmm: .* same batch size: 2 != 3"):
        jg.bmm(_t(2, 2, 3), _t(3, 3, 4))
    with pytest.raises(ValueError, match=r"dot: expected other to be 1-D"):
        jg.dot(_t(3), _t(3, 1))
    with pytest.raises(ValueError, match=r"at least 1-D, but input is 0-D"):
        jg.matmul(_t(), _t(3))


def test_mixed_float_dtypes_raise_like_torch():
    with pytest.raises(TypeError, match=r"matmul: expected input and other to have the same "
                                        r"dtype, but got input float32 and other float64"):
        jg.matmul(_t(2, 3, dtype=np.float32), _t(3, 2))
    with pytest.raises(TypeError, match="same dtype"):
        _t(2, 3) @ np.ones((3, 2), np.float32)
    with pytest.raises(TypeError, match=r"matmul\(\): argument 'other' expected a Tensor, got list"):
        jg.matmul(_t(2, 2), [[1.0, 0.0], [0.0, 1.0]])


def test_integer_matmul_has_no_grad():
    a = jg.tensor([[1, 2], [3, 4]])
    out = a @ jg.tensor([1, 1])
    assert out.dtype == np.int64 and out.tolist() == [3, 7] and out.grad_fn is None


def test_vector_dot_is_0d_with_grad_fn_name():
    a, b = _t(3, requires_grad=True), _t(3, seed=1)
    out = a @ b
    assert out.shape == () and "MatmulBackward" in repr(out)
    assert "DotBackward" in repr(jg.dot(a, b))
    out.backward()
    np.testing.assert_allclose(a.grad, b.data)


def test_ndarray_at_tensor_returns_tensor_and_grads_the_tensor():
    w = _t(3, 2, requires_grad=True)
    x = np.ones((4, 3))
    out = x @ w
    assert isinstance(out, jg.Tensor) and out.shape == (4, 2)
    out.sum().backward()
    np.testing.assert_allclose(w.grad, np.full((3, 2), 4.0))


def test_only_one_side_requires_grad():
    a, b = _t(2, 3, 4, requires_grad=True), _t(4, 5, seed=1)
    (a @ b).sum().backward()
    assert a.grad.shape == (2, 3, 4) and b.grad is None
    a, b = _t(2, 3, 4), _t(4, 5, requires_grad=True, seed=1)
    (a @ b).sum().backward()
    np.testing.assert_allclose(b.grad, np.einsum("bmk->k", a.data)[:, None].repeat(5, 1))
    assert a.grad is None


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)),
                                   ((2, 1, 3, 4), (5, 4, 2)), ((3,), (2, 3, 4)),
                                   ((2, 3, 4), (4,)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5))])
def test_matches_torch_forward_and_backward(sa, sb):
    torch = pytest.importorskip("torch")
    a, b = _t(*sa, requires_grad=True), _t(*sb, requires_grad=True, seed=1)
    ta = torch.tensor(a.data, requires_grad=True)
    tb = torch.tensor(b.data, requires_grad=True)
    out, tout = a @ b, ta @ tb
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(2).standard_normal(out.shape)
    out.backward(jg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad, tb.grad.numpy(), rtol=1e-12)


def test_transposed_input_float32_matches_torch():
    torch = pytest.importorskip("torch")
    a = _t(4, 3, dtype=np.float32, requires_grad=True)
    b = _t(4, 5, dtype=np.float32, seed=1)
    out = a.t() @ b
    np.testing.assert_allclose(out.data, (torch.tensor(a.data).T @ torch.tensor(b.data)).numpy(),
                               rtol=1e-5, atol=1e-6)
    assert out.dtype == np.float32


@pytest.mark.parametrize("sa,sb", [((5, 1), (1, 4)), ((1, 1), (1, 3)), ((3, 5, 1), (1, 4)),
                                   ((0, 1), (1, 2))])
def test_inner_dimension_one_is_an_outer_product(sa, sb):
    # k = 1 goes through a broadcast multiply instead of BLAS (jitgrad/_ops/util.py gemm)
    a, b = _t(*sa, requires_grad=True), _t(*sb, requires_grad=True, seed=1)
    np.testing.assert_array_equal(jg.matmul(a, b).detach().numpy(), a.data @ b.data)
    g = np.random.default_rng(2).standard_normal(np.broadcast_shapes(sa[:-1], (1,)) + sb[-1:])
    assert jg.gradcheck(lambda u, v: jg.matmul(u, v) * jg.tensor(g), [a, b])


@pytest.mark.parametrize("n_in,n_out", [(1, 6), (6, 1), (1, 1)])
def test_linear_with_one_input_or_output_feature(n_in, n_out):
    lin = jg.nn.Linear(n_in, n_out).double()
    x = _t(7, n_in, requires_grad=True, seed=3)
    w, bias = lin.weight.data, lin.bias.data
    np.testing.assert_allclose(lin(x).detach().numpy(), x.data @ w.T + bias, rtol=1e-14)
    g = jg.tensor(np.random.default_rng(4).standard_normal((7, n_out)))
    assert jg.gradcheck(lambda u, W, c: jg.nn.functional.linear(u, W, c) * g,
                        [x, lin.weight, lin.bias])
    for act in ("relu", "tanh"):
        assert jg.gradcheck(lambda u, W, c: jg.nn.functional.linear_act(u, W, c, act) * g,
                            [x, lin.weight, lin.bias])
