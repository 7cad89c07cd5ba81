"""Random and creation functions: generator= reproducibility, distribution sanity (moments
within a few standard errors; the seeds are fixed, so these never flake), shapes, dtypes,
errors; tril/triu_indices, logspace, new_* against PyTorch."""
import math

import numpy as np
import pytest

import jitgrad as jg

N = 20000


def _gen(seed=123):
    return jg.Generator().manual_seed(seed)


DRAWS = {
    "rand": lambda g: jg.rand(3, 4, generator=g),
    "randn": lambda g: jg.randn(3, 4, generator=g),
    "randint": lambda g: jg.randint(0, 10, (5,), generator=g),
    "randperm": lambda g: jg.randperm(7, generator=g),
    "rand_like": lambda g: jg.rand_like(jg.zeros(2, 3), generator=g),
    "randn_like": lambda g: jg.randn_like(jg.zeros(2, 3, dtype=jg.float64), generator=g),
    "randint_like": lambda g: jg.randint_like(jg.zeros(4), 3, 9, generator=g),
    "normal(T,T)": lambda g: jg.normal(jg.zeros(3), jg.ones(3), generator=g),
    "normal(T,f)": lambda g: jg.normal(jg.zeros(3), 2.0, generator=g),
    "normal(f,T)": lambda g: jg.normal(1.0, jg.ones(3), generator=g),
    "normal(f,f,size)": lambda g: jg.normal(1.0, 2.0, size=(2, 2), generator=g),
    "bernoulli": lambda g: jg.bernoulli(jg.full((6,), 0.5), generator=g),
    "bernoulli(p)": lambda g: jg.bernoulli(jg.zeros(6), p=0.3, generator=g),
    "poisson": lambda g: jg.poisson(jg.full((6,), 3.0), generator=g),
    "multinomial": lambda g: jg.multinomial(jg.tensor([1.0, 2.0, 3.0, 4.0]), 3, generator=g),
    "multinomial(repl)": lambda g: jg.multinomial(jg.ones(2, 5), 4, True, generator=g),
    "normal_": lambda g: jg.zeros(4).normal_(1.0, 2.0, generator=g),
    "uniform_": lambda g: jg.zeros(4).uniform_(-1, 1, generator=g),
    "bernoulli_": lambda g: jg.zeros(4).bernoulli_(0.5, generator=g),
    "init.normal_": lambda g: jg.nn.init.normal_(jg.zeros(4), generator=g),
    "init.uniform_": lambda g: jg.nn.init.uniform_(jg.zeros(4), generator=g),
}


@pytest.mark.parametrize("name", DRAWS)
def test_generator_reproduces_and_leaves_default_alone(name):
    draw = DRAWS[name]
    jg.manual_seed(0)
    before = jg.get_rng_state()
    a = draw(_gen()).data.copy()
    b = draw(_gen()).data.copy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(jg.get_rng_state().data, before.data)
    c = draw(_gen(124)).data
    assert a.shape == c.shape and a.dtype == c.dtype
    if a.dtype.kind == "f" and name not in DISCRETE:
        assert not np.array_equal(a, c)


DISCRETE = {"bernoulli", "bernoulli(p)", "poisson", "bernoulli_", "randint_like"}


@pytest.mark.parametrize("name", ["randn", "rand_like", "normal(T,f)", "bernoulli", "poisson",
                                  "multinomial", "normal_", "uniform_"])
def test_default_generator_follows_manual_seed(name):
    draw = DRAWS[name]
    jg.manual_seed(5)
    a = draw(None).data.copy()
    jg.manual_seed(5)
    np.testing.assert_array_equal(a, draw(None).data)


def _within(sample, mean, var, k=4.0):
    """The sample mean is within k standard errors of `mean`, the sample variance within k of
    its standard error (sqrt(3/n) var covers these distributions' kurtosis)."""
    s = np.asarray(sample, np.float64).reshape(-1)
    n = s.size
    assert abs(s.mean() - mean) <= k * math.sqrt(var / n), (s.mean(), mean)
    assert abs(s.var() - var) <= k * var * math.sqrt(3.0 / n), (s.var(), var)


def test_moments():
    g = _gen(2024)
    _within(jg.randn_like(jg.zeros(N), generator=g).data, 0.0, 1.0)
    _within(jg.rand_like(jg.zeros(N), generator=g).data, 0.5, 1 / 12)
    _within(jg.normal(jg.full((N,), 2.0), 3.0, generator=g).data, 2.0, 9.0)
    _within(jg.normal(-1.0, jg.full((N,), 0.5), generator=g).data, -1.0, 0.25)
    _within(jg.normal(0.5, 2.0, size=(N,), generator=g).data, 0.5, 4.0)
    _within(jg.bernoulli(jg.full((N,), 0.3), generator=g).data, 0.3, 0.21)
    _within(jg.poisson(jg.full((N,), 4.0), generator=g).data, 4.0, 4.0)
    _within(jg.zeros(N).normal_(1.0, 2.0, generator=g).data, 1.0, 4.0)
    _within(jg.zeros(N).uniform_(-2.0, 4.0, generator=g).data, 1.0, 3.0)
    _within(jg.zeros(N).bernoulli_(0.8, generator=g).data, 0.8, 0.16)
    _within(jg.randint_like(jg.zeros(N), 10, generator=g).data, 4.5, 99 / 12)


def test_multinomial_frequencies_and_without_replacement():
    g = _gen(7)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    draws = jg.multinomial(jg.tensor(w), N, replacement=True, generator=g).data
    assert draws.dtype == np.int64 and draws.shape == (N,)
    freq = np.bincount(draws, minlength=4) / N
    p = w / w.sum()
    assert np.all(np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / N))
    # without replacement: rows of distinct indices; the first pick follows the weights
    rows = jg.multinomial(jg.tensor(np.tile(w, (4000, 1))), 4, generator=g).data
    assert rows.shape == (4000, 4)
    assert all(sorted(r) == [0, 1, 2, 3] for r in rows[:200].tolist())
    first = np.bincount(rows[:, 0], minlength=4) / 4000
    assert np.all(np.abs(first - p) <= 4 * np.sqrt(p * (1 - p) / 4000))
    # a zero weight is never drawn while positive weights remain
    out = jg.multinomial(jg.tensor([[0.0, 1.0, 1.0]] * 50), 2, generator=g).data
    assert (out != 0).all()


def test_dtypes_and_shapes():
    x = jg.zeros(2, 3, dtype=jg.float64)
    assert jg.rand_like(x).dtype == jg.float64
    assert jg.randn_like(x, dtype=jg.float32).dtype == jg.float32
    assert jg.randint_like(x, 5).dtype == jg.float64
    assert jg.randint_like(jg.zeros(3, dtype=jg.int64), 5).dtype == jg.int64
    assert jg.bernoulli(x).dtype == jg.float64
    assert jg.normal(x, x + 1).shape == (2, 3)
    assert jg.normal(jg.zeros(2, 1), jg.ones(3)).shape == (2, 3)
    assert jg.normal(0.0, 1.0, (4,)).dtype == jg.float32
    assert jg.multinomial(jg.ones(3, 4), 2).shape == (3, 2)
    assert jg.rand_like(x, requires_grad=True).requires_grad


def test_normal_of_tensor_mean_has_zero_gradient_as_torch():
    m = jg.zeros(3, requires_grad=True)
    s = jg.ones(3, requires_grad=True)
    y = jg.normal(m, s)
    assert y.requires_grad
    y.sum().backward()
    assert m.grad.tolist() == [0, 0, 0] and s.grad.tolist() == [0, 0, 0]


@pytest.mark.parametrize("call,err,match", [
    (lambda: jg.normal(0.0, 1.0), TypeError, "'size' is required"),
    (lambda: jg.normal(jg.zeros(2), -1.0), ValueError, "std >= 0.0"),
    (lambda: jg.normal(jg.zeros(2), jg.ones(3)), ValueError, "cannot be broadcast"),
    (lambda: jg.normal(jg.zeros(2), 1.0, size=(2,)), TypeError, "only accepted"),
    (lambda: jg.bernoulli(jg.tensor([1.5])), ValueError, r"\[0, 1\]"),
    (lambda: jg.bernoulli(jg.zeros(2), p=2.0), ValueError, r"\[0, 1\]"),
    (lambda: jg.bernoulli(jg.zeros(2, dtype=jg.int64)), TypeError, "floating-point"),
    (lambda: jg.poisson(jg.tensor([-1.0])), ValueError, "non-negative"),
    (lambda: jg.multinomial(jg.tensor([0.0, 0.0]), 1), ValueError, "sum of probabilities"),
    (lambda: jg.multinomial(jg.tensor([-1.0, 1.0]), 1), ValueError, "element < 0"),
    (lambda: jg.multinomial(jg.tensor([1.0, 1.0]), 3), ValueError, "without replacement"),
    (lambda: jg.multinomial(jg.ones(2, 2, 2), 1), ValueError, "1-D or 2-D"),
    (lambda: jg.randint_like(jg.zeros(2), 3, 3), ValueError, "less than"),
    (lambda: jg.zeros(2).uniform_(1.0, 0.0), ValueError, "from"),
    (lambda: jg.zeros(2).normal_(0.0, -1.0), ValueError, "std"),
    (lambda: jg.rand_like(jg.zeros(2), dtype=jg.int64), TypeError, "floating-point"),
    (lambda: jg.randn(2, generator=np.random.default_rng()), TypeError, "jitgrad.Generator"),
    (lambda: jg.linspace(0, 1, 3, dtype=jg.bool), TypeError, "bool"),
    (lambda: jg.empty(2, size=(2,)), TypeError, "both"),
    (lambda: jg.tril_indices(3, 3, dtype=jg.float32), TypeError, "integer dtype"),
])
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_in_place_draws_refuse_leaves_that_require_grad_and_bump_version():
    w = jg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.normal_()
    with jg.no_grad():
        w.uniform_(**{"from": -1.0, "to": 1.0})
    assert (w.data >= -1).all() and (w.data < 1).all()
    t = jg.zeros(3)
    v = t._version[0]
    t.normal_()
    assert t._version[0] == v + 1


def test_creation_matches_torch():
    torch = pytest.importorskip("torch")
    for r, c, k in [(3, 4, 0), (4, 3, 1), (3, 3, -1), (0, 3, 0), (2, 5, 7)]:
        np.testing.assert_array_equal(jg.tril_indices(r, c, k).data,
                                      torch.tril_indices(r, c, k).numpy())
        np.testing.assert_array_equal(jg.triu_indices(r, c, k).data,
                                      torch.triu_indices(r, c, k).numpy())
    assert jg.tril_indices(3, 3).dtype == jg.int64
    np.testing.assert_allclose(jg.logspace(-1, 2, 5).data, torch.logspace(-1, 2, 5).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(jg.logspace(0, 3, 4, base=2.0).data,
                               torch.logspace(0, 3, 4, base=2.0).numpy())
    assert jg.logspace(0, 1, 3, dtype=jg.float64).dtype == jg.float64
    assert jg.empty(size=(2, 3)).shape == (2, 3) == jg.zeros(size=(2, 3)).shape
    assert jg.ones(size=4).shape == (4,)
    x = jg.tensor([1, 2], dtype=jg.int32)
    assert x.new_zeros(2, 3).dtype == jg.int32 and x.new_zeros((2, 3)).shape == (2, 3)
    assert x.new_ones(2).data.tolist() == [1, 1]
    assert x.new_full((2,), 7).data.tolist() == [7, 7] and x.new_full((2,), 7).dtype == jg.int32
    assert x.new_empty(3, dtype=jg.float64).dtype == jg.float64
    n = x.new_tensor([3.7, 4.2])
    assert n.dtype == jg.int32 and n.data.tolist() == [3, 4]
    assert jg.zeros(2).new_tensor([1, 2], requires_grad=True).requires_grad
