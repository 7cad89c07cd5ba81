"""Losses beyond the op table: cross-entropy variants against torch's formulas, extreme
logits, validation errors, modules, and PyTorch as an oracle."""
import warnings

import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F
from jitgrad.testing.specs_nn_functional import _ce_ref, _nll_ref


def _leaf(a, dtype=jg.float64):
    return jg.tensor(a, dtype=dtype, requires_grad=True)


# ----------------------------------------------------------------------------- cross-entropy
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ls", [0.0, 0.25])
def test_cross_entropy_indices_weights_ignore_smoothing(reduction, ls):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4, 3))
    t = rng.integers(0, 4, size=(6, 3))
    t[0, 1] = t[3, 2] = 7                       # ignore_index
    w = rng.uniform(0.2, 2.0, 4)
    got = F.cross_entropy(jg.tensor(x), jg.tensor(t), jg.tensor(w), ignore_index=7,
                          reduction=reduction, label_smoothing=ls)
    want = _ce_ref(x, t, w, ignore_index=7, reduction=reduction, label_smoothing=ls)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    assert jg.gradcheck(lambda a: F.cross_entropy(a, jg.tensor(t), jg.tensor(w), ignore_index=7,
                                                  reduction=reduction, label_smoothing=ls),
                        [_leaf(x)])


# (classes, weighted, batch, ignored targets): 20 rows in one block or as rows (C > 16), 300
# rows in three blocks of short rows (kernels/_rows.py)
LAYOUT_CASES = [(C, wt, 4, False) for C in (1, 3, 13, 1000) for wt in (False, True)] + \
    [(C, True, 60, True) for C in (2, 10, 16)]


@pytest.mark.parametrize("C,weighted,N,ignored", LAYOUT_CASES)
def test_cross_entropy_contiguous_rows_equal_the_strided_layout(C, weighted, N, ignored):
    """(N, C) inputs take row loops (long rows) or blocks of rows (short ones), (N, C, d)
    inputs columns of their slabs: the same logits either way give the same losses and
    gradients, ignored targets and smoothing included, and the reference's values."""
    rng = np.random.default_rng(C)
    x = rng.normal(scale=3.0, size=(N, C, 5))
    t = rng.integers(0, C, size=(N, 5))
    if ignored:
        t[::7, 1] = -100
    w = jg.tensor(rng.uniform(0.5, 2.0, C)) if weighted else None
    rows = np.ascontiguousarray(x.transpose(0, 2, 1).reshape(5 * N, C))
    xs, xr = _leaf(x), _leaf(rows)
    a = F.cross_entropy(xs, jg.tensor(t), w, label_smoothing=0.1, reduction="none")
    b = F.cross_entropy(xr, jg.tensor(t.reshape(-1)), w, label_smoothing=0.1, reduction="none")
    np.testing.assert_allclose(a.detach().numpy().reshape(-1), b.detach().numpy(), rtol=1e-12)
    want = _ce_ref(rows, t.reshape(-1), None if w is None else w.numpy(), reduction="none",
                   label_smoothing=0.1)
    np.testing.assert_allclose(b.detach().numpy(), want, rtol=1e-12)
    g = rng.uniform(0.5, 1.5, size=(N, 5))
    a.backward(jg.tensor(g))
    b.backward(jg.tensor(g.reshape(-1)))
    np.testing.assert_allclose(xs.grad.transpose(0, 2, 1).reshape(5 * N, C), xr.grad, rtol=1e-12,
                               atol=1e-15)
    assert (xr.grad[t.reshape(-1) == -100] == 0).all()


def test_cross_entropy_nan_logit_makes_only_its_row_nan():
    x = np.array([[0.5, np.nan, 1.0], [0.5, 2.0, 1.0]], np.float32)
    xl = _leaf(x, jg.float32)
    loss = F.cross_entropy(xl, jg.tensor([0, 1]), reduction="none")
    loss.sum().backward()
    got = loss.detach().numpy()
    assert np.isnan(got[0]) and np.isfinite(got[1])
    assert np.isnan(xl.grad[0]).all() and np.isfinite(xl.grad[1]).all()


def test_cross_entropy_one_hot_probabilities_equal_indices():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 4))
    t = np.array([0, 3, 1, 1, 2])
    onehot = np.eye(4)[t]
    a = F.cross_entropy(jg.tensor(x), jg.tensor(t), label_smoothing=0.1)
    b = F.cross_entropy(jg.tensor(x), jg.tensor(onehot), label_smoothing=0.1)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    xa, xb = _leaf(x), _leaf(x)
    F.cross_entropy(xa, jg.tensor(t)).backward()
    F.cross_entropy(xb, jg.tensor(onehot)).backward()
    np.testing.assert_allclose(xa.grad, xb.grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [jg.float32, jg.float64])
@pytest.mark.parametrize("target", ["indices", "probabilities"])
def test_cross_entropy_extreme_logits(dtype, target):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [5e3, 5e3, -1e4]])
    t = np.array([0, 1, 2]) if target == "indices" else np.eye(3)[[0, 1, 2]]
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        xl = _leaf(x, dtype)
        loss = F.cross_entropy(xl, jg.tensor(t, dtype=jg.int64 if target == "indices" else dtype),
                               reduction="none")
        loss.sum().backward()
    want = np.array([0.0, 2e4, np.log(2) + 1.5e4])
    np.testing.assert_allclose(loss.detach().numpy(), want, rtol=1e-6)
    assert np.all(np.isfinite(xl.grad))
    np.testing.assert_allclose(xl.grad.sum(axis=1), 0.0, atol=1e-6)


def test_cross_entropy_all_ignored_mean_is_nan_and_grad_zero():
    x = _leaf(np.ones((2, 3)))
    loss = F.cross_entropy(x, jg.tensor([-100, -100]))
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad, 0.0)


def test_cross_entropy_and_nll_validation_errors():
    x = jg.randn(4, 3)
    with pytest.raises(IndexError, match=r"cross_entropy\(\): Target 5 is out of bounds"):
        F.cross_entropy(x, jg.tensor([0, 5, 1, 2]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.nll_loss(x, jg.tensor([0, -1, 1, 2]))
    with pytest.raises(ValueError, match=r"cross_entropy\(\): expected target of shape \(4,\)"):
        F.cross_entropy(x, jg.tensor([0, 1]))
    with pytest.raises(ValueError, match="class-probability target must have the input's shape"):
        F.cross_entropy(x, jg.rand(4, 2))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(x, jg.tensor([0, 1, 2, 0]), weight=jg.ones(4))
    with pytest.raises(TypeError, match="target"):
        F.cross_entropy(x, jg.tensor([True, False, True, True]))
    with pytest.raises(TypeError, match="int64 class indices"):
        F.nll_loss(x, jg.rand(4, 3))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, jg.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="argument 'reduction' expected 'mean', 'sum' or 'none'"):
        F.cross_entropy(x, jg.tensor([0, 1, 2, 0]), reduction="avg")


def test_nll_of_log_softmax_equals_cross_entropy():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 5, 2))
    t = rng.integers(0, 5, size=(3, 2))
    a = F.nll_loss(F.log_softmax(jg.tensor(x), 1), jg.tensor(t))
    b = F.cross_entropy(jg.tensor(x), jg.tensor(t))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.numpy(), _nll_ref(_log_softmax(x), t), rtol=1e-12)


def _log_softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_class_weight_gradient_is_not_implemented():
    w = jg.ones(3).requires_grad_()
    loss = F.cross_entropy(jg.randn(2, 3), jg.tensor([0, 1]), w)
    with pytest.raises(RuntimeError, match="derivative for 'weight' is not implemented"):
        loss.backward()


# ----------------------------------------------------------------------------- pointwise
def test_bce_log_clamp_and_range_check():
    p = _leaf([0.0, 1.0, 0.5])
    loss = F.binary_cross_entropy(p, jg.tensor([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0, np.log(2)])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(jg.tensor([1.5]), jg.tensor([1.0]))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy(jg.tensor([0.5, 0.5]), jg.tensor([1.0]))


def test_bce_with_logits_is_stable():
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        x = _leaf([1e4, -1e4, 0.0], jg.float32)
        loss = F.binary_cross_entropy_with_logits(x, jg.tensor([0.0, 1.0, 1.0]), reduction="none",
                                                  pos_weight=jg.tensor([1.0, 2.0, 3.0]))
        loss.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), [1e4, 2e4, 3 * np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(x.grad, [1.0, -2.0, -1.5], rtol=1e-6)


def test_mse_broadcast_warns_and_reduces_gradient():
    x = _leaf(np.ones((3, 1)))
    t = _leaf(np.zeros(4))
    with pytest.warns(UserWarning, match="different to the input size"):
        loss = F.mse_loss(x, t)
    loss.backward()
    assert x.grad.shape == (3, 1) and t.grad.shape == (4,)
    np.testing.assert_allclose(x.grad, np.full((3, 1), 2 * 4 / 12))


def test_legacy_size_average_reduce():
    x, t = jg.tensor([1.0, 3.0]), jg.tensor([0.0, 0.0])
    with pytest.warns(UserWarning, match="size_average and reduce"):
        assert F.l1_loss(x, t, size_average=False).item() == 4.0
    with pytest.warns(UserWarning):
        assert F.l1_loss(x, t, reduce=False).shape == (2,)


def test_modules_and_buffers():
    w = jg.tensor([1.0, 2.0, 0.5])
    ce = nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1)
    assert list(ce.state_dict()) == ["weight"]
    x, t = jg.randn(4, 3), jg.tensor([0, 1, 2, 2])
    np.testing.assert_allclose(ce(x, t).numpy(), F.cross_entropy(
        x, t, w, ignore_index=1, label_smoothing=0.1).numpy())
    bce = nn.BCEWithLogitsLoss(pos_weight=jg.tensor([2.0]))
    assert list(bce.state_dict()) == ["pos_weight"]
    assert nn.MSELoss(reduction="sum")(jg.ones(3), jg.zeros(3)).item() == 3.0
    assert nn.L1Loss()(jg.ones(3), jg.zeros(3)).item() == 1.0
    assert nn.SmoothL1Loss(beta=0.5)(jg.ones(1), jg.zeros(1)).item() == 0.75
    assert nn.HuberLoss(delta=0.5)(jg.ones(1), jg.zeros(1)).item() == 0.375
    assert nn.NLLLoss()(jg.tensor([[-1.0, -2.0]]), jg.tensor([1])).item() == 2.0
    assert nn.BCELoss()(jg.tensor([0.5]), jg.tensor([1.0])).item() == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="bad")


# ----------------------------------------------------------------------------- torch oracle
def _both(torch, x, requires_grad=True):
    return jg.tensor(x, requires_grad=requires_grad), torch.tensor(x, requires_grad=requires_grad)


@pytest.mark.parametrize("case", ["ce-index", "ce-prob", "ce-4d", "nll", "bce", "bce-logits",
                                  "mse", "l1", "smooth_l1", "huber"])
def test_losses_match_torch(case):
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 5))
    w = rng.uniform(0.5, 2.0, 5)
    if case == "ce-index":
        t = np.array([0, 4, 2, -100, 1, 3])
        args = lambda F_, X, T, W: F_.cross_entropy(X, T, W, label_smoothing=0.15)  # noqa: E731
        tj, tt = jg.tensor(t), torch.tensor(t)
    elif case == "ce-prob":
        t = rng.dirichlet(np.ones(5), size=6)
        args = lambda F_, X, T, W: F_.cross_entropy(X, T, W, label_smoothing=0.15)  # noqa: E731
        tj, tt = _both(torch, t)
    elif case == "ce-4d":
        x = rng.normal(size=(2, 5, 3, 2))
        t = rng.integers(0, 5, size=(2, 3, 2))
        args = lambda F_, X, T, W: F_.cross_entropy(X, T, W, reduction="sum")  # noqa: E731
        tj, tt = jg.tensor(t), torch.tensor(t)
    elif case == "nll":
        t = np.array([0, 4, 2, 3, 1, 3])
        args = lambda F_, X, T, W: F_.nll_loss(X, T, W, ignore_index=3)  # noqa: E731
        tj, tt = jg.tensor(t), torch.tensor(t)
    elif case in ("bce", "bce-logits"):
        if case == "bce":
            x = rng.uniform(0.05, 0.95, size=(6, 5))
        t = rng.uniform(0, 1, size=(6, 5))
        pw = rng.uniform(0.5, 3.0, 5)
        if case == "bce":
            args = lambda F_, X, T, W: F_.binary_cross_entropy(X, T, W)  # noqa: E731
        else:
            args = lambda F_, X, T, W: F_.binary_cross_entropy_with_logits(  # noqa: E731
                X, T, W, pos_weight=(jg.tensor(pw) if F_ is F else torch.tensor(pw)))
        tj, tt = _both(torch, t)
    else:
        t = rng.normal(size=(6, 5))
        name = case + "_loss"
        kw = {"smooth_l1_loss": {"beta": 0.7}, "huber_loss": {"delta": 0.7}}.get(name, {})
        args = lambda F_, X, T, W: getattr(F_, name)(X, T, reduction="sum", **kw)  # noqa: E731
        tj, tt = _both(torch, t)
    xj, xt = _both(torch, x)
    lj, lt = args(F, xj, tj, jg.tensor(w)), args(TF, xt, tt, torch.tensor(w))
    np.testing.assert_allclose(lj.detach().numpy(), lt.detach().numpy(), rtol=1e-12, atol=1e-14)
    lj.backward()
    lt.backward()
    np.testing.assert_allclose(xj.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-14)
    if tt.requires_grad:
        np.testing.assert_allclose(tj.grad, tt.grad.numpy(), rtol=1e-10, atol=1e-14)
