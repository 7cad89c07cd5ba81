"""Activations beyond the op table: modules, kinks, extreme inputs, softmax dims, errors, and
PyTorch as an oracle."""
import warnings

import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F

_ALL = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "mish", "softplus",
        "sigmoid", "tanh", "hardtanh"]


def _grad(fn, values, dtype=jg.float64):
    x = jg.tensor(values, dtype=dtype, requires_grad=True)
    fn(x).sum().backward()
    return x.grad


def test_gradients_at_kinks_follow_torch():
    at = [0.0]
    assert _grad(F.relu, at)[0] == 0.0
    assert _grad(F.leaky_relu, at)[0] == 0.01
    assert _grad(F.elu, at)[0] == 1.0                  # negative branch: alpha * exp(0)
    np.testing.assert_array_equal(_grad(F.relu6, [0.0, 6.0, 3.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad(F.hardtanh, [-1.0, 1.0, 0.5]), [0.0, 0.0, 1.0])
    assert _grad(lambda x: F.softplus(x, 1.0, 20.0), [25.0])[0] == 1.0


@pytest.mark.parametrize("name", _ALL)
@pytest.mark.parametrize("dtype", [jg.float32, jg.float64])
def test_extreme_inputs_are_finite_and_warning_free(name, dtype):
    values = [-1e4, -100.0, -30.0, 30.0, 100.0, 1e4]
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        x = jg.tensor(values, dtype=dtype, requires_grad=True)
        y = getattr(F, name)(x)
        y.sum().backward()
    assert np.all(np.isfinite(y.detach().numpy())) and np.all(np.isfinite(x.grad))


def test_gelu_modes_differ_and_match_their_formulas():
    x = jg.tensor(np.linspace(-3, 3, 13))
    exact, approx = F.gelu(x).numpy(), F.gelu(x, approximate="tanh").numpy()
    assert 0 < np.max(np.abs(exact - approx)) < 1e-3
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, approximate="fast")


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_every_dim_and_large_logits(fn):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 4)) * 1e4
    for d in (0, 1, 2, -1, -2, -3):
        with np.errstate(all="raise"):
            y = fn(jg.tensor(x), dim=d).numpy()
        p = y if fn is F.softmax else np.exp(y)
        np.testing.assert_allclose(p.sum(axis=d), 1.0, rtol=1e-12)
    with pytest.raises(IndexError, match=r"Dimension out of range"):
        fn(jg.tensor(x), dim=3)


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
@pytest.mark.parametrize("dim", [1, 0])   # contiguous rows, then strided ones
def test_softmax_nan_and_all_minus_inf_rows_are_nan_alone(fn, dim):
    """A NaN, or a row of -inf only, makes its own row NaN (as torch) and leaves the others."""
    x = np.array([[0.5, np.nan, 1.0, 2.0], [-np.inf] * 4, [0.5, -np.inf, 1.0, 2.0]])
    x = x if dim == 1 else x.T.copy()
    y = fn(jg.tensor(x), dim=dim).numpy()
    y = y if dim == 1 else y.T
    assert np.isnan(y[:2]).all()
    want = np.array([0.5, -np.inf, 1.0, 2.0]) - np.log(np.exp([0.5, 1.0, 2.0]).sum())
    np.testing.assert_allclose(y[2], want if fn is F.log_softmax else np.exp(want), rtol=1e-12)


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
@pytest.mark.parametrize("C", [3, 10, 16, 40])
def test_softmax_rows_in_blocks_and_columns_match_numpy(fn, C):
    """300 rows: short ones run in three transposed blocks (kernels/_rows.py), longer ones as
    rows, and dim=1 of (30, C, 10) down the columns of each slab; NaN and all -inf rows stay
    NaN alone. Forward against NumPy, backward against the closed form, both layouts alike."""
    rng = np.random.default_rng(C)
    rows = rng.normal(scale=4.0, size=(300, C))
    rows[7, 1], rows[150] = np.nan, -np.inf
    z = rows - rows[np.arange(300), np.nanargmax(np.where(np.isinf(rows), 0, rows), 1)][:, None]
    want = z - np.log(np.exp(z).sum(1, keepdims=True))
    want = want if fn is F.log_softmax else np.exp(want)
    slab = np.ascontiguousarray(rows.reshape(30, 10, C).transpose(0, 2, 1))
    g = rng.uniform(0.5, 1.5, size=(300, C))
    a, b = jg.tensor(rows, requires_grad=True), jg.tensor(slab, requires_grad=True)
    ya, yb = fn(a, dim=1), fn(b, dim=1)
    got_b = yb.detach().numpy().transpose(0, 2, 1).reshape(300, C)
    for got in (ya.detach().numpy(), got_b):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
        assert np.isnan(got[[7, 150]]).all() and not np.isnan(np.delete(got, [7, 150], 0)).any()
    ya.backward(jg.tensor(g))
    yb.backward(jg.tensor(np.ascontiguousarray(g.reshape(30, 10, C).transpose(0, 2, 1))))
    y = ya.detach().numpy()
    gx = (y * (g - (g * y).sum(1, keepdims=True)) if fn is F.softmax else
          g - np.exp(y) * g.sum(1, keepdims=True))
    ok = np.ones(300, bool)
    ok[[7, 150]] = False
    np.testing.assert_allclose(a.grad[ok], gx[ok], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.grad.transpose(0, 2, 1).reshape(300, C)[ok], gx[ok],
                               rtol=1e-12, atol=1e-14)


def test_softmax_implicit_dim_warns_like_torch():
    x = jg.ones((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.numpy(), np.full((2, 3), 1 / 3))
    assert nn.Softmax(dim=0)(x).shape == (2, 3)


def test_errors_name_op_and_argument():
    with pytest.raises(TypeError, match=r"relu6\(\): argument 'input' expected a "
                                        r"floating-point tensor \(float32 or float64\), got "
                                        r"dtype int64"):
        F.relu6(jg.tensor([1, 2]))
    with pytest.raises(TypeError, match=r"softmax\(\): argument 'input' expected a Tensor, "
                                        r"got a tensor of dtype float64 and shape \(3,\)"):
        F.softmax(np.ones(3), 0)
    assert F.relu(jg.tensor([-1, 2])).tolist() == [0, 2]          # integers stay integers
    with pytest.raises(ValueError, match="min_val"):
        F.hardtanh(jg.ones(2), 1.0, -1.0)


def test_modules_match_functionals_and_repr():
    x = jg.tensor(np.linspace(-2, 2, 9))
    pairs = [(nn.ReLU(), F.relu), (nn.ReLU6(), F.relu6),
             (nn.LeakyReLU(0.2), lambda t: F.leaky_relu(t, 0.2)),
             (nn.ELU(0.5), lambda t: F.elu(t, 0.5)), (nn.SELU(), F.selu),
             (nn.GELU("tanh"), lambda t: F.gelu(t, approximate="tanh")), (nn.SiLU(), F.silu),
             (nn.Mish(), F.mish),
             (nn.Softplus(2, 5), lambda t: F.softplus(t, 2, 5)), (nn.Sigmoid(), F.sigmoid),
             (nn.Tanh(), F.tanh), (nn.Hardtanh(-0.5, 0.5), lambda t: F.hardtanh(t, -0.5, 0.5)),
             (nn.LogSoftmax(dim=0), lambda t: F.log_softmax(t, 0))]
    for m, f in pairs:
        np.testing.assert_array_equal(m(x).numpy(), f(x).numpy())
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


def test_float32_stays_float32():
    x = jg.randn(3, 4).float().requires_grad_()
    for name in _ALL:
        y = getattr(F, name)(x)
        assert y.dtype == jg.float32
    F.log_softmax(x, 1).sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name,kw", [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {"alpha": 0.7}),
    ("selu", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("softplus", {"beta": 2.0, "threshold": 3.0}), ("sigmoid", {}), ("tanh", {}),
    ("hardtanh", {"min_val": -0.5, "max_val": 2.0})])
def test_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).normal(size=(5, 7)) * 4
    j = jg.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    y = getattr(F, name)(j, **kw)
    ty = getattr(torch.nn.functional, name)(t, **kw)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(4).normal(size=x.shape)
    y.backward(jg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(j.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_softmax_matches_torch_every_dim():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).normal(size=(2, 3, 4))
    for d in range(3):
        for name in ("softmax", "log_softmax"):
            j = jg.tensor(x, requires_grad=True)
            t = torch.tensor(x, requires_grad=True)
            g = np.random.default_rng(d).normal(size=x.shape)
            getattr(F, name)(j, d).backward(jg.tensor(g))
            getattr(torch.nn.functional, name)(t, d).backward(torch.tensor(g))
            np.testing.assert_allclose(j.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
