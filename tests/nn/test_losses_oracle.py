"""The second batch of activations, distances and losses against PyTorch (values and
gradients of every differentiable input, float64 and float32), plus their edge conventions."""
import warnings

import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

R = np.random.default_rng(3)


def _u(*shape, low=-2.0, high=2.0):
    return R.uniform(low, high, shape)


def _pm1(n):
    return np.where(R.uniform(size=n) < 0.5, -1.0, 1.0)


# name: (arrays, indices of arrays to differentiate, jitgrad fn, torch fn)
CASES = {
    "hardswish": ([np.r_[_u(10, low=-5, high=5), -3.0, 3.0]], [0], F.hardswish, TF.hardswish),
    "hardsigmoid": ([np.r_[_u(10, low=-5, high=5), -3.0, 3.0]], [0], F.hardsigmoid,
                    TF.hardsigmoid),
    "softsign": ([_u(3, 4)], [0], F.softsign, TF.softsign),
    "tanhshrink": ([_u(3, 4)], [0], F.tanhshrink, TF.tanhshrink),
    "threshold": ([np.r_[_u(8), 0.5]], [0], lambda x: F.threshold(x, 0.5, -3.0),
                  lambda x: TF.threshold(x, 0.5, -3.0)),
    "celu": ([np.r_[_u(8), 0.0]], [0], lambda x: F.celu(x, 0.7), lambda x: TF.celu(x, 0.7)),
    "logsigmoid": ([np.r_[_u(8), 40.0, -40.0]], [0], F.logsigmoid, TF.logsigmoid),
    "softmin": ([_u(3, 5)], [0], lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1)),
    "glu": ([_u(3, 4, 2)], [0], lambda x: F.glu(x, 1), lambda x: TF.glu(x, 1)),
    "prelu": ([np.r_[_u(2, 3, 4).ravel(), 0.0].reshape(5, 5)[:, :, None] * np.ones(2),
               np.array([0.1, 0.2, 0.3, 0.4, 0.5])], [0, 1], F.prelu, TF.prelu),
    "prelu shared": ([np.r_[_u(5), 0.0], np.array([0.25])], [0, 1], F.prelu, TF.prelu),
    "normalize": ([_u(3, 4)], [0], F.normalize, TF.normalize),
    "normalize p1 dim0 zero": ([np.c_[_u(3, 2), np.zeros(3)]], [0],
                               lambda x: F.normalize(x, p=1, dim=0),
                               lambda x: TF.normalize(x, p=1, dim=0)),
    "cosine_similarity": ([_u(4, 5), _u(4, 5)], [0, 1], F.cosine_similarity,
                          TF.cosine_similarity),
    "cosine_similarity broadcast": ([_u(1, 5), _u(4, 5)], [0, 1],
                                    lambda a, b: F.cosine_similarity(a, b, dim=-1),
                                    lambda a, b: TF.cosine_similarity(a, b, dim=-1)),
    "cosine_similarity tiny": ([_u(3, 4) * 1e-9, _u(3, 4)], [0, 1], F.cosine_similarity,
                               TF.cosine_similarity),
    "pairwise_distance": ([_u(4, 5), _u(4, 5)], [0, 1], F.pairwise_distance,
                          TF.pairwise_distance),
    "pairwise_distance p1 keepdim": ([_u(4, 5), _u(5)], [0, 1],
                                     lambda a, b: F.pairwise_distance(a, b, 1.0, keepdim=True),
                                     lambda a, b: TF.pairwise_distance(a, b, 1.0, keepdim=True)),
}
for r in ("mean", "sum", "none", "batchmean"):
    CASES[f"kl_div {r}"] = (
        [np.log(R.dirichlet(np.ones(4), 3)), R.dirichlet(np.ones(4), 3)], [0, 1],
        lambda x, t, r=r: F.kl_div(x, t, reduction=r),
        lambda x, t, r=r: TF.kl_div(x, t, reduction=r))
CASES["kl_div log_target"] = (
    [_u(3, 4), np.log(R.dirichlet(np.ones(4), 3))], [0, 1],
    lambda x, t: F.kl_div(x, t, reduction="batchmean", log_target=True),
    lambda x, t: TF.kl_div(x, t, reduction="batchmean", log_target=True))
CASES["kl_div zero target"] = (
    [_u(2, 3), np.array([[0.0, 0.5, 0.5], [0.2, 0.8, 0.0]])], [0],
    lambda x, t: F.kl_div(x, t, reduction="sum"), lambda x, t: TF.kl_div(x, t, reduction="sum"))
for log_input in (True, False):
    for full in (False, True):
        for r in ("mean", "sum", "none"):
            CASES[f"poisson log_input={log_input} full={full} {r}"] = (
                [_u(3, 4, low=0.1, high=3.0), np.round(_u(3, 4, low=0, high=4)) + 0.5 * _u(3, 4, low=0, high=1)], [0, 1],
                lambda x, t, a=log_input, b=full, r=r: F.poisson_nll_loss(x, t, a, b, reduction=r),
                lambda x, t, a=log_input, b=full, r=r: TF.poisson_nll_loss(x, t, a, b, reduction=r))
for r in ("mean", "sum", "none"):
    CASES[f"gaussian_nll {r}"] = (
        [_u(4, 3), _u(4, 3), _u(4, 3, low=0.1, high=2.0)], [0, 1, 2],
        lambda x, t, v, r=r: F.gaussian_nll_loss(x, t, v, reduction=r),
        lambda x, t, v, r=r: TF.gaussian_nll_loss(x, t, v, reduction=r))
CASES["gaussian_nll full homoscedastic clamped"] = (
    [_u(4, 3), _u(4, 3), np.array([0.5, 1e-8, 2.0, 0.0])], [0, 1, 2],
    lambda x, t, v: F.gaussian_nll_loss(x, t, v, full=True, eps=1e-3),
    lambda x, t, v: TF.gaussian_nll_loss(x, t, v, full=True, eps=1e-3))
CASES["gaussian_nll var (N, 1)"] = (
    [_u(4, 3), _u(4, 3), _u(4, 1, low=0.1, high=2.0)], [0, 1, 2],
    F.gaussian_nll_loss, TF.gaussian_nll_loss)
for r in ("mean", "sum", "none"):
    CASES[f"multilabel_soft_margin {r}"] = (
        [_u(4, 3), (R.uniform(size=(4, 3)) < 0.5).astype(float)], [0, 1],
        lambda x, t, r=r: F.multilabel_soft_margin_loss(x, t, reduction=r),
        lambda x, t, r=r: TF.multilabel_soft_margin_loss(x, t, reduction=r))
    CASES[f"cosine_embedding {r}"] = (
        [_u(5, 4), _u(5, 4), np.r_[_pm1(4), 0.0]], [0, 1],
        lambda a, b, t, r=r: F.cosine_embedding_loss(a, b, t, margin=0.2, reduction=r),
        lambda a, b, t, r=r: TF.cosine_embedding_loss(a, b, t, margin=0.2, reduction=r))
    CASES[f"margin_ranking {r}"] = (
        [_u(6), _u(6), _pm1(6)], [0, 1],
        lambda a, b, t, r=r: F.margin_ranking_loss(a, b, t, margin=0.3, reduction=r),
        lambda a, b, t, r=r: TF.margin_ranking_loss(a, b, t, margin=0.3, reduction=r))
    CASES[f"triplet_margin {r}"] = (
        [_u(5, 4), _u(5, 4), _u(5, 4)], [0, 1, 2],
        lambda a, p, n, r=r: F.triplet_margin_loss(a, p, n, reduction=r),
        lambda a, p, n, r=r: TF.triplet_margin_loss(a, p, n, reduction=r))
CASES["multilabel_soft_margin weight 1-d"] = (
    [_u(3), np.array([1.0, 0.0, 1.0]), np.array([0.5, 1.0, 2.0])], [0, 1],
    lambda x, t, w: F.multilabel_soft_margin_loss(x, t, w),
    lambda x, t, w: TF.multilabel_soft_margin_loss(x, t, w))
CASES["cosine_embedding 0-d target"] = (
    [_u(4), _u(4), np.array(-1.0)], [0, 1],
    F.cosine_embedding_loss, TF.cosine_embedding_loss)
CASES["triplet_margin swap p1"] = (
    [_u(5, 4), _u(5, 4), _u(5, 4)], [0, 1, 2],
    lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, p=1, swap=True),
    lambda a, p, n: TF.triplet_margin_loss(a, p, n, margin=2.0, p=1, swap=True))


def _run(lib, fn, arrays, diff, dtype, g=None):
    if lib is torch:
        xs = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=i in diff)
              for i, a in enumerate(arrays)]
    else:
        xs = [jg.tensor(a, dtype=getattr(jg, dtype), requires_grad=i in diff)
              for i, a in enumerate(arrays)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = fn(*xs)
    gy = np.random.default_rng(5).uniform(0.5, 1.5, tuple(y.shape))
    up = torch.tensor(gy, dtype=y.dtype) if lib is torch else jg.tensor(gy, dtype=y.dtype)
    y.backward(up)
    out = [y.detach().numpy()]
    for i in diff:
        gr = xs[i].grad
        out.append(gr.numpy() if lib is torch else np.asarray(gr))
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name, dtype):
    arrays, diff, ours, theirs = CASES[name]
    got = _run(jg, ours, arrays, diff, dtype)
    want = _run(torch, theirs, arrays, diff, dtype)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=2e-6)
    if name in ("celu", "hardsigmoid") and dtype == "float64":
        tol = dict(rtol=1e-7)  # torch's backward rounds 1/alpha (celu), 1/6 to float32
    for k, (a, b) in enumerate(zip(got, want)):
        assert a.shape == b.shape, f"{name}: output {k} shape {a.shape} != {b.shape}"
        np.testing.assert_allclose(a, b, **tol, err_msg=f"{name}: output {k}")


# ----------------------------------------------------------------------------- conventions
def test_kl_div_reductions_and_warning():
    x = jg.tensor(np.log([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]]))
    t = jg.tensor([[0.3, 0.7], [0.5, 0.5], [0.0, 1.0]])
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        mean = F.kl_div(x, t)
    total = F.kl_div(x, t, reduction="sum").item()
    assert mean.item() == pytest.approx(total / 6)
    assert F.kl_div(x, t, reduction="batchmean").item() == pytest.approx(total / 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(x, t, reduction="batchmean")  # no warning
        zero_d = F.kl_div(jg.tensor(-1.0), jg.tensor(0.5), reduction="batchmean")
    want = TF.kl_div(torch.tensor(-1.0), torch.tensor(0.5), reduction="batchmean")
    assert zero_d.item() == pytest.approx(want.item())  # 0-d: the sum, not divided
    assert F.kl_div(x, t, reduction="none").numpy()[2, 0] == 0.0  # 0 * log 0 = 0
    with pytest.raises(ValueError, match=r"kl_div\(\): argument 'reduction'"):
        F.kl_div(x, t, reduction="bad")
    m = nn.KLDivLoss(reduction="batchmean", log_target=True)
    with np.errstate(divide="ignore"):
        lt = np.log(t.numpy())  # a -inf entry: exp(-inf) * (-inf - x) is NaN, as torch
    got = m(x, jg.tensor(lt)).numpy()
    want = TF.kl_div(torch.tensor(x.numpy()), torch.tensor(lt), reduction="batchmean",
                     log_target=True).numpy()
    assert np.isnan(got) and np.isnan(want)
    lt[2, 0] = -30.0
    np.testing.assert_allclose(m(x, jg.tensor(lt)).numpy(),
                               TF.kl_div(torch.tensor(x.numpy()), torch.tensor(lt),
                                         reduction="batchmean", log_target=True).numpy(),
                               rtol=1e-6)


def test_gaussian_nll_validation_and_float_var():
    x, t = jg.randn(4, 3), jg.randn(4, 3)
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, t, jg.tensor(-np.ones((4, 3))))
    with pytest.raises(ValueError, match="var has negative entry"):
        F.gaussian_nll_loss(x, t, -1.0)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, t, jg.ones(2, 3))
    got = F.gaussian_nll_loss(x, t, 0.5, reduction="sum").item()
    want = TF.gaussian_nll_loss(torch.tensor(x.numpy()), torch.tensor(t.numpy()), 0.5,
                                reduction="sum").item()
    assert got == pytest.approx(want, rel=1e-6)
    assert nn.GaussianNLLLoss(full=True, eps=1e-3)(x, t, jg.ones(4)).shape == ()


def test_poisson_nll_module_and_eps():
    x = jg.tensor([0.0, 1.0, 2.0])
    t = jg.tensor([1.0, 2.0, 3.0])
    m = nn.PoissonNLLLoss(log_input=False, full=True, eps=0.5, reduction="none")
    want = TF.poisson_nll_loss(torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 2.0, 3.0]),
                               log_input=False, full=True, eps=0.5, reduction="none")
    np.testing.assert_allclose(m(x, t).numpy(), want.numpy(), rtol=1e-6)


def test_loss_argument_errors():
    a, b = jg.randn(4, 3), jg.randn(4, 3)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(a, b, b, margin=0.0)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        nn.TripletMarginLoss(margin=-1.0)
    with pytest.raises(ValueError, match="same number of dimensions"):
        F.triplet_margin_loss(a, b, jg.randn(3))
    with pytest.raises(ValueError, match="1D target tensor expects 2D input tensors"):
        F.cosine_embedding_loss(jg.randn(4), jg.randn(4), jg.ones(4))
    with pytest.raises(ValueError, match="0D or 1D target tensor expected"):
        F.cosine_embedding_loss(a, b, jg.ones(4, 1))
    with pytest.raises(ValueError, match="should have same dimension"):
        F.margin_ranking_loss(jg.randn(4), jg.randn(4), jg.ones(4, 1))
    with pytest.raises(ValueError, match=r"multilabel_soft_margin_loss\(\): argument 'input'"):
        F.multilabel_soft_margin_loss(jg.tensor(1.0), jg.tensor(1.0))
    with pytest.raises(TypeError, match=r"cosine_similarity\(\): argument 'x2' expected a "
                                        r"floating-point"):
        F.cosine_similarity(a, jg.ones(4, 3, dtype=jg.int64))
    with pytest.raises(TypeError, match=r"normalize\(\): argument 'out'"):
        F.normalize(a, out=b)


def test_activation_argument_errors():
    with pytest.raises(ValueError, match="alpha cannot be 0 for CELU"):
        F.celu(jg.randn(3), 0.0)
    with pytest.raises(ValueError, match="Halving dimension must be even, but dimension 1 is "
                                         "size 3"):
        F.glu(jg.randn(2, 3), 1)
    with pytest.raises(ValueError, match="glu does not support scalars"):
        F.glu(jg.tensor(1.0))
    with pytest.raises(ValueError, match="Found parameter numbers = 2 and channel size = 3"):
        F.prelu(jg.randn(2, 3), jg.ones(2))
    with pytest.raises(ValueError, match="scalar or 1-D tensor, got ndim = 2"):
        F.prelu(jg.randn(2, 3), jg.ones(1, 3))
    with pytest.raises(TypeError, match=r"hardswish\(\): argument 'input' expected a "
                                        r"floating-point"):
        F.hardswish(jg.ones(3, dtype=jg.int64))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        F.softmin(jg.randn(2, 3))


def test_modules_match_torch_and_state_dict_loads():
    x = R.uniform(-2, 2, (2, 3, 4))
    pairs = [(nn.Hardswish(), torch.nn.Hardswish()), (nn.Hardsigmoid(), torch.nn.Hardsigmoid()),
             (nn.Softsign(), torch.nn.Softsign()), (nn.Tanhshrink(), torch.nn.Tanhshrink()),
             (nn.Threshold(0.1, 20.0), torch.nn.Threshold(0.1, 20.0)),
             (nn.CELU(0.5), torch.nn.CELU(0.5)), (nn.LogSigmoid(), torch.nn.LogSigmoid()),
             (nn.Softmin(dim=1), torch.nn.Softmin(dim=1)), (nn.GLU(dim=-1), torch.nn.GLU()),
             (nn.PReLU(3, init=0.1, dtype=jg.float64), torch.nn.PReLU(3, init=0.1).double())]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(jg.tensor(x)).detach().numpy(),
                                   theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    tp = torch.nn.PReLU(3)
    with torch.no_grad():
        tp.weight.copy_(torch.tensor([0.1, -0.2, 0.3]))
    ours = nn.PReLU(3)
    assert ours.weight.dtype == jg.float32 and ours.weight.tolist() == [0.25] * 3
    ours.load_state_dict({k: jg.tensor(v.numpy()) for k, v in tp.state_dict().items()})
    np.testing.assert_allclose(ours(jg.tensor(x, dtype=jg.float32)).detach().numpy(),
                               tp(torch.tensor(x, dtype=torch.float32)).detach().numpy(),
                               rtol=1e-6)
    losses = [(nn.CosineEmbeddingLoss(margin=0.1), torch.nn.CosineEmbeddingLoss(margin=0.1)),
              (nn.MarginRankingLoss(), torch.nn.MarginRankingLoss()),
              (nn.TripletMarginLoss(swap=True), torch.nn.TripletMarginLoss(swap=True)),
              (nn.MultiLabelSoftMarginLoss(), torch.nn.MultiLabelSoftMarginLoss()),
              (nn.CosineSimilarity(dim=0), torch.nn.CosineSimilarity(dim=0)),
              (nn.PairwiseDistance(p=1.0, keepdim=True),
               torch.nn.PairwiseDistance(p=1.0, keepdim=True))]
    a, b, c = (R.uniform(-2, 2, (5, 4)) for _ in range(3))
    for ours, theirs in losses:
        assert repr(ours) == repr(theirs)
        if isinstance(ours, nn.TripletMarginLoss):
            args = (a, b, c)
        elif isinstance(ours, nn.MultiLabelSoftMarginLoss):
            args = (a, (b > 0) * 1.0)
        elif isinstance(ours, (nn.CosineSimilarity, nn.PairwiseDistance)):
            args = (a, b)
        elif isinstance(ours, nn.MarginRankingLoss):
            args = (a[:, 0], b[:, 0], np.sign(c[:, 0]))
        else:
            args = (a, b, np.sign(c[:, 0]))
        np.testing.assert_allclose(ours(*map(jg.tensor, args)).numpy(),
                                   theirs(*map(torch.tensor, args)).numpy(), rtol=1e-10)


def test_composed_activations_refuse_integer_input():
    with pytest.raises(TypeError, match=r"glu\(\): argument 'input' expected a floating-point"):
        F.glu(jg.ones(2, 4, dtype=jg.int64))
    with pytest.raises(TypeError, match=r"prelu\(\): argument 'weight' expected a floating"):
        F.prelu(jg.randn(2, 3), jg.ones(3, dtype=jg.int64))
