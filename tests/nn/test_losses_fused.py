"""The fused kernels of the loss batch against their composition from primitives (values and
gradients, float64): cosine rows (cosine_similarity, cosine_embedding_loss) and the pointwise
kl_div / poisson_nll_loss op codes."""
import math

import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn.functional as F

RNG = np.random.default_rng(11)


def _leaf(a):
    return jg.tensor(a, dtype=jg.float64, requires_grad=True)


def _cos_sim_composed(a, b, dim=1, eps=1e-8):
    """ATen's composition: each norm clamped to eps with the unclamped norm's gradient."""
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = a.broadcast_to(shape), b.broadcast_to(shape)

    def clamped(x):
        n = x.norm(2, dim, keepdim=True)
        return n + jg.tensor(np.maximum(n.detach().numpy(), eps) - n.detach().numpy())
    return (a / clamped(a) * (b / clamped(b))).sum(dim)


def _cos_emb_composed(a, b, t, margin=0.0):
    d = t.ndim
    cos = (a * b).sum(d) / (((a * a).sum(d) + 1e-12) * ((b * b).sum(d) + 1e-12)).sqrt()
    zeros = jg.zeros(cos.shape, dtype=cos.dtype)
    return (jg.where(t == 1, 1 - cos, zeros) +
            jg.where(t == -1, (cos - margin).clamp(min=0.0), zeros)).mean()


_ZERO_ROW = np.r_[RNG.uniform(-1, 1, (3, 4)), np.zeros((1, 4))]
CASES = {
    "cosine_similarity": ([RNG.uniform(-1, 1, (4, 5)), RNG.uniform(-1, 1, (4, 5))],
                          F.cosine_similarity, _cos_sim_composed),
    "cosine_similarity dim 0 broadcast": (
        [RNG.uniform(-1, 1, (3, 1, 4)), RNG.uniform(-1, 1, (3, 2, 4))],
        lambda a, b: F.cosine_similarity(a, b, 0), lambda a, b: _cos_sim_composed(a, b, 0)),
    "cosine_similarity zero and tiny rows": (
        [_ZERO_ROW, np.r_[RNG.uniform(-1, 1, (3, 4)) * 1e-10, RNG.uniform(-1, 1, (1, 4))]],
        F.cosine_similarity, _cos_sim_composed),
    "cosine_embedding_loss": (
        [RNG.uniform(-1, 1, (5, 3)), RNG.uniform(-1, 1, (5, 3))],
        lambda a, b: F.cosine_embedding_loss(a, b, jg.tensor([1.0, -1, 1, -1, -1]), 0.1),
        lambda a, b: _cos_emb_composed(a, b, jg.tensor([1.0, -1, 1, -1, -1]), 0.1)),
    "kl_div": ([np.log(RNG.dirichlet(np.ones(4), 3)), RNG.dirichlet(np.ones(4), 3)],
               lambda x, t: F.kl_div(x, t, reduction="sum"),
               lambda x, t: (t * (t.log() - x)).sum()),
    "kl_div log_target": ([RNG.uniform(-2, 0, (3, 4)), RNG.uniform(-2, 0, (3, 4))],
                          lambda x, t: F.kl_div(x, t, reduction="batchmean", log_target=True),
                          lambda x, t: (t.exp() * (t - x)).sum() / 3),
    "poisson_nll_loss full": (
        [RNG.uniform(0.1, 2, (3, 4)), RNG.uniform(0.1, 4, (3, 4))],
        lambda x, t: F.poisson_nll_loss(x, t, log_input=False, full=True, eps=1e-3),
        lambda x, t: (x - t * (x + 1e-3).log() + jg.where(
            t > 1, t * t.log() - t + 0.5 * (2 * math.pi * t).log(),
            jg.zeros(t.shape, dtype=t.dtype))).mean()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_matches_composed(name):
    arrays, fused, composed = CASES[name]
    results = []
    for fn in (fused, composed):
        xs = [_leaf(a) for a in arrays]
        y = fn(*xs)
        y.backward(jg.tensor(np.random.default_rng(0).uniform(0.5, 1.5, y.shape)))
        results.append([y.detach().numpy()] + [np.asarray(x.grad) for x in xs])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
