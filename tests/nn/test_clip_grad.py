"""Gradient clipping: norms vs NumPy (and torch), fused flat-buffer path vs per-tensor path."""
import math

import numpy as np
import pytest

import jitgrad as jg
import jitgrad.optim as jo
from jitgrad.nn.utils import clip_grad_norm_, clip_grad_value_

SHAPES = [(3, 4), (5,), (), (2, 2, 2)]


def _params(flat, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    ps = [jg.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES]
    if flat:
        jo.SGD(ps, lr=0.1)   # re-homes parameters and gradients into flat buffers
    grads = [rng.standard_normal(s).astype(dtype) * 3 for s in SHAPES]
    for p, g in zip(ps, grads):
        p.backward(jg.tensor(g)) if p.data.ndim else (p * float(g)).backward()
    return ps, grads


def _np_norm(gs, p):
    x = np.concatenate([np.asarray(g, np.float64).reshape(-1) for g in gs])
    if p == math.inf:
        return np.abs(x).max()
    if p == -math.inf:
        return np.abs(x).min()
    if p == 0:
        return float((x != 0).sum())
    return (np.abs(x) ** p).sum() ** (1 / p)


@pytest.mark.parametrize("flat", [True, False])
@pytest.mark.parametrize("p", [2.0, 1.0, math.inf, 3.0, 0.0, -math.inf])
def test_clip_grad_norm_matches_numpy(flat, p):
    ps, grads = _params(flat)
    if flat:
        assert len({id(q.grad.base) for q in ps}) == 1
    total = clip_grad_norm_(ps, 1.5, norm_type=p)
    want = _np_norm(grads, p)
    assert isinstance(total, jg.Tensor) and total.ndim == 0
    assert float(total) == pytest.approx(want, rel=1e-12)
    coef = min(1.5 / (want + 1e-6), 1.0)
    for q, g in zip(ps, grads):
        np.testing.assert_allclose(q.grad, g * coef, rtol=1e-12)


def test_no_clipping_below_max_and_float32():
    ps, grads = _params(True, np.float32)
    total = clip_grad_norm_(ps, 1e6)
    assert total.dtype == np.float32
    for q, g in zip(ps, grads):
        np.testing.assert_allclose(q.grad, g, rtol=1e-6)


def test_matches_torch():
    torch = pytest.importorskip("torch")
    ps, grads = _params(True)
    tps = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
    for t, g in zip(tps, grads):
        t.grad = torch.tensor(g)
    want = torch.nn.utils.clip_grad_norm_(tps, 2.0)
    got = clip_grad_norm_(ps, 2.0)
    assert float(got) == pytest.approx(float(want), rel=1e-12)
    for q, t in zip(ps, tps):
        np.testing.assert_allclose(q.grad, t.grad.numpy(), rtol=1e-12)


def test_subset_of_buffer_and_missing_grads():
    ps, grads = _params(True)
    total = clip_grad_norm_(ps[:2], 1.0)           # not the whole buffer: per tensor
    assert float(total) == pytest.approx(_np_norm(grads[:2], 2))
    np.testing.assert_allclose(ps[3].grad, grads[3])   # untouched
    q = jg.tensor(np.ones(3), requires_grad=True)   # no grad: ignored
    assert float(clip_grad_norm_([q], 1.0)) == 0.0
    assert float(clip_grad_norm_(ps[0], 100.0)) == pytest.approx(_np_norm(grads[:1], 2) *
                                                                 min(1.0 / (_np_norm(grads[:2], 2)
                                                                            + 1e-6), 1.0))


def test_nonfinite():
    ps, _ = _params(True)
    ps[1].grad[0] = np.nan
    assert math.isnan(float(clip_grad_norm_(ps, 1.0)))
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)


def test_strided_grad_set_by_hand():
    p = jg.tensor(np.ones((3, 2)), requires_grad=True)
    p.grad = np.arange(6.0).reshape(2, 3).T     # not C-contiguous
    clip_grad_norm_([p], 1.0)
    np.testing.assert_allclose(np.linalg.norm(p.grad), 1.0, rtol=1e-6)
    clip_grad_value_([p], 0.1)
    assert np.abs(p.grad).max() <= 0.1


@pytest.mark.parametrize("flat", [True, False])
def test_clip_grad_value(flat):
    ps, grads = _params(flat)
    clip_grad_value_(ps, 0.7)
    for q, g in zip(ps, grads):
        np.testing.assert_array_equal(q.grad, np.clip(g, -0.7, 0.7))
