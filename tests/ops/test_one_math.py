"""One definition of each piece of math: every path to relu / sigmoid / tanh gives bitwise the
same values and gradients (jitgrad.<name>, Tensor.<name>, nn.functional.<name>, the module,
and the fused linear epilogue)."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn.functional as F
from jitgrad import nn

MODULES = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_path_is_bitwise_the_same(name, dtype):
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.standard_normal(997) * 4, [0.0, -0.0, 30.0, -30.0, 1e-8, 90.0,
                                                         -90.0, np.inf, -np.inf]]).astype(dtype)
    g = rng.uniform(-1, 1, data.shape).astype(dtype)
    paths = [getattr(jg, name), lambda t: getattr(t, name)(), getattr(F, name),
             MODULES[name]()]
    results = []
    for fn in paths:
        x = jg.tensor(data, requires_grad=True)
        y = fn(x)
        y.backward(jg.tensor(g))
        results.append((y.detach().numpy(), x.grad))
    x = jg.tensor(data, requires_grad=True)
    assert len({fn(x).grad_fn.fn for fn in paths}) == 1          # one Function
    for y, gx in results[1:]:
        assert np.array_equal(_bits(y), _bits(results[0][0]))
        assert np.array_equal(_bits(gx), _bits(results[0][1]))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_fused_linear_epilogue_is_bitwise_the_activation(name):
    rng = np.random.default_rng(1)
    x = jg.tensor(rng.standard_normal((7, 5)).astype(np.float32))
    w = jg.tensor(rng.standard_normal((6, 5)).astype(np.float32))
    b = jg.tensor(rng.standard_normal(6).astype(np.float32))
    fused = F.linear_act(x, w, b, name).numpy()
    composed = getattr(F, name)(F.linear(x, w, b)).numpy()
    assert np.array_equal(_bits(fused), _bits(composed))
