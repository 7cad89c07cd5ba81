"""Bilinear, PixelShuffle / PixelUnshuffle, ParameterList / ParameterDict, flat parameter
vectors, init.trunc_normal_, Module.type / half and remove_duplicate, with PyTorch as an
oracle (state dicts load, outputs and gradients match)."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F


def test_bilinear_module_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for bias in (True, False):
        theirs = torch.nn.Bilinear(3, 4, 5, bias=bias).double()
        ours = nn.Bilinear(3, 4, 5, bias=bias, dtype=jg.float64)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        ours.load_state_dict(theirs.state_dict())
        x1, x2 = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 6, 4))
        t1, t2 = (torch.tensor(a, requires_grad=True) for a in (x1, x2))
        j1, j2 = (jg.tensor(a, requires_grad=True) for a in (x1, x2))
        yt, yj = theirs(t1, t2), ours(j1, j2)
        g = rng.normal(size=yt.shape)
        yt.backward(torch.tensor(g))
        yj.backward(jg.tensor(g))
        np.testing.assert_allclose(yj.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
        for a, b in ((j1.grad, t1.grad), (j2.grad, t2.grad),
                     (ours.weight.grad, theirs.weight.grad)):
            np.testing.assert_allclose(a, b.numpy(), rtol=1e-11, atol=1e-12)
        if bias:
            np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-12)


def test_bilinear_default_init_bounds_and_errors():
    m = nn.Bilinear(4, 2, 3)
    assert m.weight.shape == (3, 4, 2) and m.weight.dtype == np.float32
    assert np.abs(m.weight.data).max() <= 0.5 and np.abs(m.bias.data).max() <= 0.5
    with pytest.raises(ValueError, match="in1_features=4"):
        m(jg.zeros(2, 3), jg.zeros(2, 2))
    with pytest.raises(ValueError, match="same leading dims"):
        m(jg.zeros(2, 4), jg.zeros(3, 2))


def test_pixel_shuffle_matches_torch_and_round_trips():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).normal(size=(2, 18, 2, 3))
    y = nn.PixelShuffle(3)(jg.tensor(x))
    np.testing.assert_array_equal(y.numpy(), torch.nn.PixelShuffle(3)(torch.tensor(x)).numpy())
    z = nn.PixelUnshuffle(3)(y)
    np.testing.assert_array_equal(z.numpy(), x)
    x2 = x.reshape(2, 3, 6, 6)
    np.testing.assert_array_equal(
        F.pixel_unshuffle(jg.tensor(x2), 2).numpy(),
        torch.nn.functional.pixel_unshuffle(torch.tensor(x2), 2).numpy())
    with pytest.raises(ValueError, match="divisible by the square"):
        F.pixel_shuffle(jg.zeros(1, 5, 2, 2), 2)
    with pytest.raises(ValueError, match="divisible by downscale_factor"):
        F.pixel_unshuffle(jg.zeros(1, 1, 3, 4), 2)


class _Holder:
    def __init__(self, lib):
        self.lib = lib

    def build(self):
        nn_ = self.lib.nn
        m = nn_.Module()
        m.plist = nn_.ParameterList([nn_.Parameter(self.lib.ones(2, 3)),
                                     nn_.Parameter(self.lib.zeros(4))])
        m.pdict = nn_.ParameterDict({"alpha": nn_.Parameter(self.lib.ones(3)),
                                     "beta": nn_.Parameter(self.lib.zeros(2, 2))})
        return m


def test_parameter_list_and_dict_state_dict_matches_torch():
    torch = pytest.importorskip("torch")
    theirs = _Holder(torch).build()
    ours = _Holder(jg).build()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "plist.0", "plist.1", "pdict.alpha", "pdict.beta"]
    for p in theirs.parameters():
        p.data.normal_()
    ours.load_state_dict(theirs.state_dict())
    for (n1, a), (n2, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(a.data, b.detach().numpy())


def test_parameter_list_and_dict_behaviour():
    pl = nn.ParameterList([jg.ones(2)])
    assert isinstance(pl[0], nn.Parameter) and pl[0].requires_grad is False
    pl.append(nn.Parameter(jg.zeros(3)))
    pl += [nn.Parameter(jg.zeros(1))]
    assert len(pl) == 3 and [p.shape for p in pl] == [(2,), (3,), (1,)]
    assert pl[-1] is list(pl)[2] and len(list(pl.parameters())) == 3
    pl[0] = nn.Parameter(jg.ones(5))
    assert pl[0].shape == (5,) and len(pl[1:]) == 2
    with pytest.raises(IndexError):
        pl[3]
    pd = nn.ParameterDict({"a": nn.Parameter(jg.ones(1))})
    pd["b"] = jg.zeros(2)
    assert list(pd) == ["a", "b"] and "b" in pd and isinstance(pd["b"], nn.Parameter)
    assert pd.pop("a").shape == (1,) and list(pd.keys()) == ["b"]
    assert list(dict(pd.named_parameters())) == ["b"]
    assert pd.get("zzz") is None and pd.setdefault("c", nn.Parameter(jg.ones(1))).shape == (1,)
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
    with pytest.raises(TypeError, match="strings"):
        pd[1] = nn.Parameter(jg.ones(1))


def test_parameters_to_vector_and_back_match_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    ours.load_state_dict(theirs.state_dict())
    v1 = nn.utils.parameters_to_vector(ours.parameters())
    v2 = torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(v1.detach().numpy(), v2.detach().numpy())
    (v1 * jg.arange(v1.numel(), dtype=jg.float32)).sum().backward()
    assert ours[0].weight.grad.reshape(-1).tolist() == [0, 1, 2, 3, 4, 5]
    new = jg.arange(11, dtype=jg.float32)
    w = ours[0].weight
    nn.utils.vector_to_parameters(new, ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.arange(11, dtype=torch.float32),
                                        theirs.parameters())
    assert ours[0].weight is w  # copied into the same Parameter
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(a.data, b.detach().numpy())
    with pytest.raises(ValueError, match="10 elements"):
        nn.utils.vector_to_parameters(jg.zeros(10), ours.parameters())
    with pytest.raises(TypeError, match="expected jitgrad.Tensor"):
        nn.utils.parameters_to_vector([np.zeros(2)])


def test_trunc_normal():
    t = jg.empty(20000, dtype=jg.float64)
    jg.manual_seed(0)
    nn.init.trunc_normal_(t, mean=0.5, std=2.0, a=-1.5, b=2.5)
    x = t.numpy()
    assert x.min() >= -1.5 and x.max() <= 2.5
    # N(0.5, 4) truncated to mean +- 1 std: mean 0.5, std 2 * sqrt(1 - 2 phi(1) / (2 Phi(1) - 1)) = 1.08
    assert abs(x.mean() - 0.5) < 0.03 and abs(x.std() - 1.079) < 0.02
    g = jg.Generator().manual_seed(3)
    a = nn.init.trunc_normal_(jg.empty(5), generator=g).numpy().copy()
    b = nn.init.trunc_normal_(jg.empty(5), generator=jg.Generator().manual_seed(3)).numpy()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="a < b"):
        nn.init.trunc_normal_(jg.empty(3), a=1.0, b=0.0)
    with pytest.raises(ValueError, match="mass"):
        nn.init.trunc_normal_(jg.empty(3), mean=0.0, std=1.0, a=10.0, b=11.0)


def test_module_type_and_half():
    m = nn.BatchNorm1d(3)
    assert m.type(jg.float64) is m and m.weight.dtype == np.float64
    assert m.num_batches_tracked.dtype == np.float64  # as PyTorch's Module.type: every tensor
    m.type("torch.FloatTensor")
    assert m.weight.dtype == np.float32 and m.running_mean.dtype == np.float32
    with pytest.raises(TypeError, match="no float16"):
        nn.Linear(2, 2).half()
    with pytest.raises(TypeError, match="no bfloat16"):
        nn.Linear(2, 2).bfloat16()
    with pytest.raises(TypeError, match="float16"):
        nn.Linear(2, 2).type("torch.HalfTensor")
    with pytest.raises(TypeError, match="only float32 and float64"):
        nn.Linear(2, 2).type(jg.int64)


def test_remove_duplicate_matches_torch():
    torch = pytest.importorskip("torch")
    names = {}
    for lib in (torch, jg):
        shared = lib.nn.Linear(2, 2)
        m = lib.nn.Sequential(shared, lib.nn.ReLU(), shared, lib.nn.BatchNorm1d(2))
        m.add_module("again", m[3])
        names[lib.__name__] = [
            [n for n, _ in m.named_parameters(remove_duplicate=rd)] +
            [n for n, _ in m.named_modules(remove_duplicate=rd)] +
            [n for n, _ in m.named_buffers(remove_duplicate=rd)]
            for rd in (True, False)]
    assert names["jitgrad"] == names["torch"]
