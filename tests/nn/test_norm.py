"""LayerNorm / BatchNorm beyond the op table: running statistics over several steps against a
NumPy reference, train vs eval, buffers and state_dict keys, errors, and PyTorch as an oracle."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F


class _NumpyBatchNorm:
    """Reference: torch's BatchNorm semantics in plain NumPy."""

    def __init__(self, C, momentum, eps=1e-5):
        self.mean, self.var, self.n = np.zeros(C), np.ones(C), 0
        self.momentum, self.eps = momentum, eps

    def __call__(self, x, w, b, training):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        if training:
            m = x.size // x.shape[1]
            mu, var = x.mean(axis=axes), x.var(axis=axes)
            self.n += 1
            f = 1.0 / self.n if self.momentum is None else self.momentum
            self.mean = (1 - f) * self.mean + f * mu
            self.var = (1 - f) * self.var + f * var * m / (m - 1)
        else:
            mu, var = self.mean, self.var
        xhat = (x - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + self.eps)
        return xhat * w.reshape(shape) + b.reshape(shape)


@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (8, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                       (nn.BatchNorm2d, (2, 3, 4, 4))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_running_stats_over_steps(cls, shape, momentum):
    rng = np.random.default_rng(0)
    bn = cls(3, momentum=momentum).double()
    bn.weight.data[:] = [0.5, 1.0, 2.0]
    bn.bias.data[:] = [0.1, -0.2, 0.3]
    ref = _NumpyBatchNorm(3, momentum)
    for step in range(4):
        x = rng.normal(loc=step, scale=1 + step, size=shape)
        y = bn(jg.tensor(x))
        np.testing.assert_allclose(y.detach().numpy(),
                                   ref(x, bn.weight.data, bn.bias.data, True), rtol=1e-10,
                                   atol=1e-12)
        np.testing.assert_allclose(bn.running_mean.numpy(), ref.mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.numpy(), ref.var, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 4 and bn.num_batches_tracked.dtype == jg.int64
    bn.eval()
    x = rng.normal(size=shape)
    np.testing.assert_allclose(bn(jg.tensor(x)).detach().numpy(),
                               ref(x, bn.weight.data, bn.bias.data, False), rtol=1e-10, atol=1e-12)
    assert bn.num_batches_tracked.item() == 4


def test_batch_norm_eval_gradient_uses_running_stats():
    bn = nn.BatchNorm1d(2).double().eval()
    bn.running_var.data[:] = [4.0, 0.25]
    assert jg.gradcheck(bn, [jg.randn(3, 2).double().requires_grad_()])
    x = jg.ones((3, 2)).double().requires_grad_()
    bn(x).sum().backward()
    np.testing.assert_allclose(x.grad, np.tile(1 / np.sqrt([4.0 + 1e-5, 0.25 + 1e-5]), (3, 1)))


def test_batch_norm_without_running_stats_or_affine():
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(bn.state_dict()) == [] and bn.weight is None and bn.running_mean is None
    x = jg.randn(5, 3)
    bn.eval()  # no running stats: batch statistics even in eval, as torch
    y = bn(x).detach().numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(y.var(axis=0), 1, atol=1e-3)


def test_batch_norm_state_dict_keys_repr_and_errors():
    bn = nn.BatchNorm2d(4)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert repr(bn) == ("BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                        "track_running_stats=True)")
    with pytest.raises(ValueError, match="expected 4D input"):
        bn(jg.randn(2, 4))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(4)(jg.randn(2, 4, 1, 1))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm1d(4)(jg.randn(1, 4))
    with pytest.raises(ValueError, match="expected 4 channels"):
        nn.BatchNorm1d(4)(jg.randn(3, 5))
    with pytest.raises(ValueError, match=r"expected weight of shape \(3,\)"):
        F.batch_norm(jg.randn(2, 3), None, None, jg.ones(2), training=True)


def test_layer_norm_module_and_errors():
    ln = nn.LayerNorm((2, 3))
    assert list(ln.state_dict()) == ["weight", "bias"] and ln.weight.shape == (2, 3)
    assert repr(ln) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=True)"
    y = ln(jg.randn(4, 2, 3)).detach().numpy()
    np.testing.assert_allclose(y.reshape(4, -1).mean(axis=1), 0, atol=1e-6)
    assert nn.LayerNorm(3, elementwise_affine=False).weight is None
    assert nn.LayerNorm(3, bias=False).bias is None
    with pytest.raises(ValueError, match=r"expected input with shape \[\*, 2, 3\]"):
        ln(jg.randn(4, 3, 2))
    x = jg.randn(2, 3).double().requires_grad_()
    assert jg.gradcheck(lambda a: F.layer_norm(a, 3), [x])


def test_norms_match_torch_after_loading_state_dict():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    tb = torch.nn.BatchNorm2d(3).double()
    tl = torch.nn.LayerNorm(5).double()
    with torch.no_grad():
        tb.weight.uniform_(0.5, 1.5), tb.bias.uniform_(-1, 1)
        tl.weight.uniform_(0.5, 1.5), tl.bias.uniform_(-1, 1)
    jb, jl = nn.BatchNorm2d(3).double(), nn.LayerNorm(5).double()
    jb.load_state_dict({k: v.numpy() for k, v in tb.state_dict().items()})
    jl.load_state_dict({k: v.numpy() for k, v in tl.state_dict().items()})
    for step in range(3):
        x = rng.normal(size=(2, 3, 4, 5)) * (step + 1)
        xj, xt = jg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        g = rng.normal(size=x.shape)
        yj, yt = jl(jb(xj)), tl(tb(xt))
        np.testing.assert_allclose(yj.detach().numpy(), yt.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        yj.backward(jg.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(xj.grad, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        for name in ("weight", "bias"):
            np.testing.assert_allclose(getattr(jb, name).grad, getattr(tb, name).grad.numpy(),
                                       rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(getattr(jl, name).grad, getattr(tl, name).grad.numpy(),
                                       rtol=1e-9, atol=1e-12)
            getattr(jb, name).grad = getattr(jl, name).grad = None
            getattr(tb, name).grad = getattr(tl, name).grad = None
    for k, v in tb.state_dict().items():
        np.testing.assert_allclose(jb.state_dict()[k], v.numpy(), rtol=1e-12)
    jb.eval(), tb.eval()
    x = rng.normal(size=(2, 3, 4, 5))
    np.testing.assert_allclose(jb(jg.tensor(x)).detach().numpy(),
                               tb(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
