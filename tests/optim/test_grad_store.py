"""Ops that write a leaf's gradient straight into its optimizer gradient store
(Context.grad_buffer) give the same gradients as the copying path, and only when that is safe:
single use, no hooks, nothing to accumulate into, not under autograd.grad."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn.functional as F


def _pair(seed=0):
    """Two identical Linear-ReLU-Linear models; the first is bound to an optimizer (stores)."""
    jg.manual_seed(seed)
    a = jg.nn.Sequential(jg.nn.Linear(5, 4), jg.nn.ReLU(), jg.nn.Linear(4, 3))
    b = jg.nn.Sequential(jg.nn.Linear(5, 4), jg.nn.ReLU(), jg.nn.Linear(4, 3))
    b.load_state_dict(a.state_dict())
    opt = jg.optim.SGD(a.parameters(), lr=0.1)
    return a, b, opt


def _data():
    rng = np.random.default_rng(3)
    x = jg.from_numpy(rng.standard_normal((6, 5)).astype(np.float32))
    up = jg.from_numpy(rng.standard_normal((6, 3)).astype(np.float32))  # non-uniform upstream
    return x, up


def test_direct_write_matches_copying_path_and_accumulates():
    a, b, opt = _pair()
    x, up = _data()
    for m in (a, b):
        (m(x) * up).sum().backward()
    for (name, pa), pb in zip(a.named_parameters(), b.parameters()):
        assert pa.grad is pa._grad_store, name        # written in place, no copy
        np.testing.assert_array_equal(pa.grad, pb.grad, err_msg=name)
    for m in (a, b):  # a second backward accumulates into the store
        (m(x) * up).sum().backward()
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(pa.grad, pb.grad, rtol=1e-6)
    opt.zero_grad()
    assert all(p.grad is None for p in a.parameters())


def test_weight_used_twice_sums_both_uses():
    a, b, _ = _pair()
    x, up = _data()
    for m in (a, b):
        lin = m[0]
        h = F.linear(x, lin.weight, lin.bias)
        (F.linear(x * 2, lin.weight, lin.bias) * h).sum().backward()
    np.testing.assert_allclose(a[0].weight.grad, b[0].weight.grad, rtol=1e-6)
    np.testing.assert_allclose(a[0].bias.grad, b[0].bias.grad, rtol=1e-6)


def test_leaf_hook_sees_the_gradient_once():
    a, b, _ = _pair()
    x, up = _data()
    seen = []
    a[2].weight.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 2)
    for m in (a, b):
        (m(x) * up).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], b[2].weight.grad)
    np.testing.assert_allclose(a[2].weight.grad, 2 * b[2].weight.grad, rtol=1e-6)


def test_autograd_grad_leaves_stores_and_grads_alone():
    a, b, _ = _pair()
    x, up = _data()
    stores = [p._grad_store.copy() for p in a.parameters()]
    ga = jg.autograd.grad((a(x) * up).sum(), list(a.parameters()))
    gb = jg.autograd.grad((b(x) * up).sum(), list(b.parameters()))
    for p, s, u, v in zip(a.parameters(), stores, ga, gb):
        assert p.grad is None
        np.testing.assert_array_equal(p._grad_store, s)
        assert not np.shares_memory(u.numpy(), p._grad_store)
        np.testing.assert_array_equal(u.numpy(), v.numpy())


@pytest.mark.parametrize("set_to_none", [True, False])
def test_training_step_unchanged_by_zero_grad_mode(set_to_none):
    a, b, opt = _pair()
    opt_b = jg.optim.SGD(b.parameters(), lr=0.1)
    x, up = _data()
    for _ in range(3):
        opt.zero_grad(set_to_none=set_to_none)
        for p in b.parameters():  # b: reference gradients through the copying path
            p.grad = None
        (a(x) * up).sum().backward()
        gb = jg.autograd.grad((b(x) * up).sum(), list(b.parameters()))
        for p, g in zip(b.parameters(), gb):
            p.grad = g.numpy().copy()
        opt.step()
        opt_b.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(pa.data, pb.data, rtol=1e-6)
