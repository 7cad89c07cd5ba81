"""GroupNorm, InstanceNorm1d/2d and RMSNorm beyond the op table: the fused kernels against the
composed-ops versions (values and gradients), running statistics, errors, and PyTorch as an
oracle (state dicts load, outputs and gradients match)."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F


def _composed_group_norm(x, G, w, b, eps):
    N, C = x.shape[:2]
    xg = x.reshape(N, G, -1)
    mu = xg.mean(dim=-1, keepdim=True)
    var = xg.var(dim=-1, keepdim=True, correction=0)
    y = ((xg - mu) * (var + eps).rsqrt()).reshape(x.shape)
    shape = (1, C) + (1,) * (x.ndim - 2)
    return y * w.reshape(shape) + b.reshape(shape)


def _composed_rms_norm(x, k, w, eps):
    dims = tuple(range(x.ndim - k, x.ndim))
    return x * ((x * x).mean(dim=dims, keepdim=True) + eps).rsqrt() * w


def _grads(fn, arrays):
    ts = [jg.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    g = np.linspace(-1, 2, y.numel()).reshape(y.shape)
    y.backward(jg.tensor(g))
    return y.detach().numpy(), [t.grad for t in ts]


@pytest.mark.parametrize("shape,G", [((3, 6, 5), 3), ((2, 4, 3, 3), 4), ((1, 4), 2)])
def test_group_norm_fused_matches_composed(shape, G):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(1, 2, shape), rng.normal(size=shape[1]), rng.normal(size=shape[1])
    y1, g1 = _grads(lambda *t: F.group_norm(t[0], G, t[1], t[2], 1e-5), (x, w, b))
    y2, g2 = _grads(lambda *t: _composed_group_norm(t[0], G, t[1], t[2], 1e-5), (x, w, b))
    np.testing.assert_allclose(y1, y2, rtol=1e-10, atol=1e-12)
    for a, c in zip(g1, g2):
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("shape,k", [((4, 7), 1), ((2, 3, 4), 2)])
def test_rms_norm_fused_matches_composed(shape, k):
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=shape), rng.normal(size=shape[len(shape) - k:])
    y1, g1 = _grads(lambda a, b: F.rms_norm(a, shape[len(shape) - k:], b, 1e-6), (x, w))
    y2, g2 = _grads(lambda a, b: _composed_rms_norm(a, k, b, 1e-6), (x, w))
    np.testing.assert_allclose(y1, y2, rtol=1e-10, atol=1e-12)
    for a, c in zip(g1, g2):
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-10)


def test_instance_norm_running_stats_and_eval():
    rng = np.random.default_rng(2)
    m = nn.InstanceNorm1d(3, affine=True, track_running_stats=True).double()
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(3):
        x = rng.normal(step, 1 + step, (4, 3, 6))
        y = m(jg.tensor(x)).detach().numpy()
        mu, var = x.mean(-1), x.var(-1)
        np.testing.assert_allclose(y, (x - mu[..., None]) / np.sqrt(var[..., None] + 1e-5),
                                   rtol=1e-10, atol=1e-12)
        rm = 0.9 * rm + 0.1 * mu.mean(0)
        rv = 0.9 * rv + 0.1 * (x.var(-1, ddof=1)).mean(0)
        np.testing.assert_allclose(m.running_mean.numpy(), rm, rtol=1e-10)
        np.testing.assert_allclose(m.running_var.numpy(), rv, rtol=1e-8)
    m.eval()
    x = rng.normal(size=(3, 6))  # unbatched
    np.testing.assert_allclose(m(jg.tensor(x)).detach().numpy(),
                               (x - rm[:, None]) / np.sqrt(rv[:, None] + 1e-5), rtol=1e-8)


def test_defaults_and_state_dict_keys():
    assert list(nn.GroupNorm(2, 4).state_dict()) == ["weight", "bias"]
    assert list(nn.GroupNorm(2, 4, affine=False).state_dict()) == []
    assert list(nn.InstanceNorm2d(3).state_dict()) == []
    assert list(nn.InstanceNorm2d(3, affine=True, track_running_stats=True).state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.RMSNorm(4).state_dict()) == ["weight"]
    assert nn.RMSNorm([2, 3], dtype=jg.float64).weight.dtype == np.float64
    np.testing.assert_array_equal(nn.RMSNorm(3).weight.data, np.ones(3, np.float32))
    assert nn.InstanceNorm1d(3).training and nn.InstanceNorm1d(3).running_mean is None


def test_errors():
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="divisible by num_groups"):
        F.group_norm(jg.zeros(2, 4, 3), 3)
    with pytest.raises(ValueError, match="expected input with shape"):
        F.rms_norm(jg.zeros(2, 3), (4,))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(jg.zeros(2, 3, 1))
    with pytest.raises(ValueError, match="3D"):
        nn.InstanceNorm1d(3)(jg.zeros(3))
    with pytest.raises(ValueError, match="weight of shape"):
        F.group_norm(jg.zeros(2, 4, 3), 2, weight=jg.ones(3))


# ----------------------------------------------------------------------------- PyTorch oracle
def _torch_check(torch, ours, theirs, x):
    ours.load_state_dict(theirs.state_dict())
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    g = np.linspace(-1, 1, yt.numel()).reshape(yt.shape)
    yt.backward(torch.tensor(g))
    xj = jg.tensor(x, requires_grad=True)
    yj = ours(xj)
    yj.backward(jg.tensor(g))
    np.testing.assert_allclose(yj.detach().numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(xj.grad, xt.grad.numpy(), rtol=1e-8, atol=1e-10)
    for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n1 == n2
        np.testing.assert_allclose(p1.grad, p2.grad.numpy(), rtol=1e-8, atol=1e-10)
    for (n1, b1), (n2, b2) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert n1 == n2
        np.testing.assert_allclose(b1.numpy(), b2.numpy(), rtol=1e-9)


@pytest.mark.parametrize("make,shape", [
    (lambda nn_: nn_.GroupNorm(2, 6), (3, 6, 5)),
    (lambda nn_: nn_.GroupNorm(3, 6, eps=1e-3, affine=False), (2, 6, 2, 3)),
    (lambda nn_: nn_.InstanceNorm1d(4, affine=True), (2, 4, 7)),
    (lambda nn_: nn_.InstanceNorm1d(4), (4, 7)),
    (lambda nn_: nn_.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 5)),
    (lambda nn_: nn_.RMSNorm(5), (3, 5)),
    (lambda nn_: nn_.RMSNorm((3, 4), eps=1e-4), (2, 3, 4)),
    (lambda nn_: nn_.RMSNorm(4, elementwise_affine=False), (2, 4)),
])
def test_matches_torch(make, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    theirs = make(torch.nn).double()
    for p in theirs.parameters():
        p.data.uniform_(0.5, 1.5)
    ours = make(nn).double()
    x = rng.normal(0.5, 2, shape)
    _torch_check(torch, ours, theirs, x)
    theirs.eval()
    ours.eval()
    _torch_check(torch, ours, theirs, rng.normal(size=shape))
