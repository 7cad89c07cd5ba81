"""Fused ops against their composition from primitives (values and gradients, float64): the
check CONTRIBUTING.md names for every fused op."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn.functional as F

RNG = np.random.default_rng(7)


def _leaf(*shape, low=-2.0, high=2.0):
    return jg.tensor(RNG.uniform(low, high, shape), dtype=jg.float64, requires_grad=True)


def _sigmoid(t):
    return 1.0 / (1.0 + (-t).exp())


CASES = {
    # name: (inputs, fused, composed); targets are built once and closed over
    "cross_entropy": ((lambda: [_leaf(5, 4)]),
                      lambda x: F.cross_entropy(x, jg.tensor([0, 3, 1, 1, 2])),
                      lambda x: F.nll_loss(F.log_softmax(x, 1), jg.tensor([0, 3, 1, 1, 2]))),
    "binary_cross_entropy_with_logits": (
        (lambda: [_leaf(3, 4)]),
        lambda x: F.binary_cross_entropy_with_logits(x, jg.tensor(np.eye(3, 4))),
        lambda x: F.binary_cross_entropy(_sigmoid(x), jg.tensor(np.eye(3, 4)))),
    "log_softmax": ((lambda: [_leaf(3, 5)]), lambda x: F.log_softmax(x, 1),
                    lambda x: x - x.logsumexp(1, keepdim=True)),
    "softmax": ((lambda: [_leaf(3, 5)]), lambda x: F.softmax(x, 1),
                lambda x: (x - x.logsumexp(1, keepdim=True)).exp()),
    "logsumexp": ((lambda: [_leaf(4, 3)]), lambda x: x.logsumexp(0),
                  lambda x: x.exp().sum(0).log()),
    "layer_norm": ((lambda: [_leaf(3, 6), _leaf(6), _leaf(6)]),
                   lambda x, w, b: F.layer_norm(x, 6, w, b, eps=1e-5),
                   lambda x, w, b: (x - x.mean(-1, keepdim=True))
                   / (x.var(-1, keepdim=True, correction=0) + 1e-5).sqrt() * w + b),
    "batch_norm": ((lambda: [_leaf(5, 3), _leaf(3), _leaf(3)]),
                   lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                   lambda x, w, b: (x - x.mean(0)) / (x.var(0, correction=0) + 1e-5).sqrt()
                   * w + b),
    "mse_loss": ((lambda: [_leaf(3, 4), _leaf(3, 4)]), F.mse_loss,
                 lambda a, b: ((a - b) * (a - b)).mean()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_matches_composed(name):
    make, fused, composed = CASES[name]
    inputs = make()
    results = []
    for fn in (fused, composed):
        xs = [jg.tensor(t.data.copy(), requires_grad=True) for t in inputs]
        y = fn(*xs)
        g = jg.tensor(np.random.default_rng(0).uniform(0.5, 1.5, y.shape))
        y.backward(g)
        results.append([y.detach().numpy()] + [x.grad for x in xs])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
