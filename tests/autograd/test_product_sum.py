"""ProductSum gradients: a weight's per-step terms are summed in one GEMM when backward
finishes it, and nothing outside the engine ever sees anything but a plain array."""
import numpy as np
import pytest

import jitgrad as jg
from jitgrad.autograd import Function
from jitgrad.autograd.product_sum import ProductSum


class RowTimesW(Function):
    """y = x @ w.T with dw returned as ProductSum(g, x) (= g.T @ x), db as ProductSum(g)."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w.T + b

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        return g @ w, ProductSum(g, x), ProductSum(g)


def _loop(x, w, b, steps):
    h = x
    out = 0
    for t in range(steps):
        h = jg.tanh(RowTimesW.apply(h, w, b))
        out = out + (h * float(t + 1)).sum()
    return out


def _reference(x, w, b, steps):
    """The same loop's gradients for w and b, accumulated step by step in NumPy."""
    hs, h = [], x
    for t in range(steps):
        hs.append(h)
        h = np.tanh(h @ w.T + b)
        hs.append(h)
    dw, db, dh = np.zeros_like(w), np.zeros_like(b), np.zeros_like(x)
    for t in reversed(range(steps)):
        hin, hout = hs[2 * t], hs[2 * t + 1]
        dh = dh + float(t + 1)
        dz = dh * (1 - hout ** 2)
        dw += dz.T @ hin
        db += dz.sum(0)
        dh = dz @ w
    return dw, db


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((5, 4)), rng.standard_normal((4, 4)) * 0.5,
            rng.standard_normal(4) * 0.1)


def test_terms_of_every_step_sum_to_the_stepwise_gradient(data):
    x, w, b = data
    W, B = jg.tensor(w, requires_grad=True), jg.tensor(b, requires_grad=True)
    _loop(jg.tensor(x), W, B, 6).backward()
    dw, db = _reference(x, w, b, 6)
    assert type(W.grad) is np.ndarray and type(B.grad) is np.ndarray
    np.testing.assert_allclose(W.grad, dw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(B.grad, db, rtol=1e-10, atol=1e-12)


def test_optimizer_flat_view_hooks_autograd_grad_and_anomaly_see_arrays(data):
    x, w, b = data
    dw, db = _reference(x, w, b, 3)
    W, B = jg.tensor(w, requires_grad=True), jg.tensor(b, requires_grad=True)
    opt = jg.optim.SGD([W, B], lr=0.1)          # gradients land in the flat buffer's views
    seen = []
    B.register_hook(lambda g: seen.append(type(g.data)))
    with jg.autograd.detect_anomaly():
        _loop(jg.tensor(x), W, B, 3).backward()
    assert seen == [np.ndarray]
    np.testing.assert_allclose(W.grad, dw, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(B.grad, db, rtol=1e-9, atol=1e-12)
    assert W.grad.base is not None or W.grad is W._grad_store   # written into its view
    opt.step()
    gw, gb = jg.autograd.grad(_loop(jg.tensor(x), W, B, 3), (W, B))
    ref = _reference(x, W.data, B.data, 3)
    np.testing.assert_allclose(gw.numpy(), ref[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gb.numpy(), ref[1], rtol=1e-9, atol=1e-12)


def test_a_non_leaf_weight_gets_the_materialised_sum(data):
    x, w, b = data
    W0 = jg.tensor(w, requires_grad=True)
    (_loop(jg.tensor(x), W0 * 1.0, jg.tensor(b), 4)).backward()   # W0 * 1.0 is a node
    np.testing.assert_allclose(W0.grad, _reference(x, w, b, 4)[0], rtol=1e-9, atol=1e-12)


def test_second_backward_accumulates(data):
    x, w, b = data
    W = jg.tensor(w, requires_grad=True)
    for _ in range(2):
        _loop(jg.tensor(x), W, jg.tensor(b), 3).backward()
    np.testing.assert_allclose(W.grad, 2 * _reference(x, w, b, 3)[0], rtol=1e-9, atol=1e-12)


def test_a_wrong_shape_product_sum_is_refused(data):
    x, w, b = data

    class Bad(Function):
        @staticmethod
        def forward(ctx, w):
            return w.sum()

        @staticmethod
        def backward(ctx, g):
            return ProductSum(np.ones((3, 2)), np.ones((3, 5)))

    with pytest.raises(RuntimeError, match="invalid gradient at index 0.*ProductSum"):
        Bad.apply(jg.tensor(w, requires_grad=True)).backward()


def test_leaves_fed_by_the_same_terms_concatenate_them_once(data, monkeypatch):
    from jitgrad.autograd import product_sum
    x, w, b = data
    seen = []
    real = np.concatenate

    def counting(arrays, *args, **kw):
        seen.append(len(arrays))
        return real(arrays, *args, **kw)
    monkeypatch.setattr(product_sum.np, "concatenate", counting)
    W, B = jg.tensor(w, requires_grad=True), jg.tensor(b, requires_grad=True)
    _loop(jg.tensor(x), W, B, 6).backward()
    monkeypatch.undo()
    # dW = sum g_t.T @ h_t and dB = sum g_t share the g terms: g once, h once (not g twice)
    assert seen == [6, 6]
    assert product_sum._shared.memo is None  # nothing kept after the pass
    dw, db = _reference(x, w, b, 6)
    np.testing.assert_allclose(W.grad, dw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(B.grad, db, rtol=1e-10, atol=1e-12)
