"""Pooling through the public API: ties and NaN resolved as PyTorch (first maximum in scan
order, NaN wins), float64 gradcheck over a geometry grid, PyTorch parity (values, indices,
gradients), modules and dropout2d."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import jitgrad as jg
import jitgrad.nn.functional as F
from jitgrad import nn
from jitgrad.testing.specs_conv import _max_pool_ref, _pool_ref


def _leaf(a, grad=True):
    return jg.tensor(np.asarray(a, np.float64), requires_grad=grad)


def test_max_pool_ties_take_the_first_maximum():
    x = np.ones((1, 1, 4, 4))
    y, idx = F.max_pool2d(_leaf(x), 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy().ravel(), [0, 2, 8, 10])
    y2, idx2 = F.max_pool2d(_leaf(x), 3, stride=1, return_indices=True)
    np.testing.assert_array_equal(idx2.numpy().ravel(), [0, 1, 4, 5])
    # the gradient goes to the first maximum only
    t = _leaf(x)
    F.max_pool2d(t, 2).sum().backward()
    np.testing.assert_array_equal(np.asarray(t.grad)[0, 0],
                                  [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])


def test_max_pool_nan_propagates_last_nan_wins():
    x = np.zeros((1, 1, 3, 4))
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 1, 0] = np.nan
    y, idx = F.max_pool2d(_leaf(x), 2, stride=2, return_indices=True)
    assert np.isnan(y.detach().numpy()[0, 0, 0, 0]) and idx.numpy()[0, 0, 0, 0] == 4
    assert y.detach().numpy()[0, 0, 0, 1] == 0


def test_max_pool_padding_is_minus_infinity():
    x = -np.ones((1, 1, 2, 2))
    y = F.max_pool2d(_leaf(x), 2, stride=1, padding=1)
    np.testing.assert_array_equal(y.detach().numpy(), -np.ones((1, 1, 3, 3)))


@settings(deadline=None, max_examples=30)
@given(st.sampled_from([1, 2]), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2),
       st.integers(0, 1), st.booleans(), st.sampled_from(["max", "avg"]), st.booleans(),
       st.integers(0, 2 ** 31 - 1))
def test_pool_gradcheck_and_reference(nsp, k, s, d, p, ceil, kind, cip, seed):
    p = min(p, k // 2)
    if kind == "avg":
        d = 1
    rng = np.random.default_rng(seed)
    size = d * (k - 1) + 1 + rng.integers(0, 4, nsp)
    # distinct values keep max pooling differentiable under finite differences
    x = rng.permutation(np.prod((2, 2) + tuple(size))).reshape((2, 2) + tuple(size)) / 7.0
    if kind == "max":
        fn = F.max_pool2d if nsp == 2 else F.max_pool1d
        kw = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
        want = _max_pool_ref(nsp)(x, **kw)
    else:
        fn = F.avg_pool2d if nsp == 2 else F.avg_pool1d
        kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=cip)
        want = _pool_ref(x, nsp, k, s, p, 1, ceil, "avg", cip)
    np.testing.assert_allclose(fn(_leaf(x, False), **kw).numpy(), want, rtol=1e-12)
    assert jg.gradcheck(lambda t: fn(t, **kw), [_leaf(x)])


def test_pool_geometry_errors():
    with pytest.raises(ValueError, match=r"max_pool2d\(\): argument 'padding' expected at "
                                         r"most half the kernel size"):
        F.max_pool2d(jg.zeros(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(ValueError, match=r"argument 'input' of shape \(1, 1, 2, 2\) is too "
                                         r"small"):
        F.max_pool2d(jg.zeros(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match=r"expected a 3-D or 4-D tensor, got a 2-D"):
        F.avg_pool2d(jg.zeros(4, 4), 2)
    with pytest.raises(ValueError, match=r"^MaxPool2d\(kernel_size=3.*too small"):
        nn.MaxPool2d(3)(jg.zeros(1, 1, 2, 2))


def test_modules_and_dropout2d():
    x = jg.tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32))
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 3, 3)
    assert nn.AvgPool2d(3, stride=2, padding=1)(x).shape == (2, 3, 3, 3)
    assert nn.AdaptiveAvgPool2d((2, 1))(x).shape == (2, 3, 2, 1)
    out, idx = nn.AdaptiveMaxPool2d(4, return_indices=True)(x)
    assert out.shape == idx.shape == (2, 3, 4, 4) and idx.dtype == np.int64
    assert nn.MaxPool1d(2)(x[:, :, 0]).shape == (2, 3, 3)
    assert nn.AvgPool1d(3, 1)(x[:, :, 0]).shape == (2, 3, 4)
    jg.manual_seed(0)
    drop = nn.Dropout2d(0.5)
    t = jg.ones(8, 16, 3, 3, requires_grad=True)
    y = drop(t).detach().numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # whole channels
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1
    drop(t).sum().backward()
    drop.eval()
    assert drop(t) is t


# ----------------------------------------------------------------------------- PyTorch
@pytest.mark.parametrize("name,kw", [
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True,
                        return_indices=True)),
    ("max_pool2d", dict(kernel_size=(2, 3), stride=(1, 2), return_indices=True)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                        count_include_pad=False)),
    ("avg_pool2d", dict(kernel_size=(3, 2), stride=2, padding=1, divisor_override=3)),
    ("adaptive_avg_pool2d", dict(output_size=(4, 3))),
    ("adaptive_max_pool2d", dict(output_size=(5, 4), return_indices=True)),
])
def test_pooling_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 7)).astype(np.float32)
    t, tt = jg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = getattr(F, name)(t, **kw), getattr(torch.nn.functional, name)(tt, **kw)
    if kw.get("return_indices"):
        np.testing.assert_array_equal(y[1].numpy(), yt[1].numpy())
        y, yt = y[0], yt[0]
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(jg.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(t.grad), tt.grad.numpy(), rtol=1e-6, atol=1e-6)
