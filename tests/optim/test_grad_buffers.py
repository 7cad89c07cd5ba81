"""Optimizer.grad_buffers(): the flat gradient arrays backward writes into (the protocol in
jitgrad/autograd/grad_store.py), as used by clip_grad_norm_ and the MPI all-reduce."""
import numpy as np

import jitgrad as jg
from jitgrad import nn


def _model_and_opt(dtype=np.float32):
    jg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(dtype)
    return model, jg.optim.SGD(model.parameters(), lr=0.1)


def _step_grads(model):
    x = jg.tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(model[0].weight.dtype))
    y = model(x)
    (y * y).sum().backward()


def test_one_flat_array_per_group_and_dtype_holds_every_gradient():
    model, opt = _model_and_opt()
    opt.add_param_group({"params": [nn.Parameter(np.zeros(3, np.float64))]})
    bufs = opt.grad_buffers()
    assert [b.dtype for b in bufs] == [np.float32, np.float64]
    assert all(b.ndim == 1 and b.flags.c_contiguous for b in bufs)
    _step_grads(model)
    flat = np.concatenate([p.grad.reshape(-1) for p in model.parameters()])
    np.testing.assert_array_equal(bufs[0], flat)
    for p in model.parameters():
        assert np.shares_memory(p.grad, bufs[0])


def test_changing_the_buffer_in_place_changes_the_step():
    model, opt = _model_and_opt()
    twin, opt2 = _model_and_opt()
    for m in (model, twin):
        _step_grads(m)
    (buf,) = opt.grad_buffers()
    buf *= 0.5                                   # what an all-reduce mean or a clip does
    for p in twin.parameters():
        p.grad = p.grad * 0.5
    opt.step()
    opt2.step()
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6)


def test_clip_uses_the_store_exactly_when_it_is_covered():
    model, opt = _model_and_opt()
    _step_grads(model)
    params = list(model.parameters())
    home = params[0]._grad_home
    assert home.covers(params) and home.grad is opt.grad_buffers()[0]
    assert not home.covers(params[:-1])            # a subset: gradient by gradient
    before = np.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in params))
    total = nn.utils.clip_grad_norm_(params, max_norm=before / 2)
    np.testing.assert_allclose(float(total), before, rtol=1e-5)
    after = np.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in params))
    np.testing.assert_allclose(after, before / 2, rtol=1e-4)


def test_buffers_are_replaced_when_a_group_is_rehomed():
    model, opt = _model_and_opt()
    old = opt.grad_buffers()[0]
    model.double()                                # the next step re-homes the group
    _step_grads(model)
    opt.step()
    new = opt.grad_buffers()[0]
    assert new is not old and new.dtype == np.float64
