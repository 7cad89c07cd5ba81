"""F.interpolate, Upsample and F.pad's reflect / replicate / circular modes beyond the op table:
PyTorch as an oracle (values in float32 and float64, gradients), padding layers, errors."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn as nn
import jitgrad.nn.functional as F

_INTERP = [
    ((2, 3, 5), dict(scale_factor=2.0)),
    ((2, 3, 7), dict(size=3)),
    ((1, 2, 5, 4), dict(size=(7, 9))),
    ((1, 2, 5, 4), dict(scale_factor=(1.7, 0.6))),
    ((1, 2, 5, 4), dict(size=(3, 6), mode="nearest-exact")),
    ((2, 2, 6), dict(size=11, mode="linear")),
    ((2, 2, 6), dict(size=4, mode="linear", align_corners=True)),
    ((1, 3, 4, 5), dict(scale_factor=2, mode="bilinear")),
    ((1, 3, 4, 5), dict(size=(7, 3), mode="bilinear", align_corners=True)),
    ((1, 3, 4, 5), dict(scale_factor=(1.5, 2.5), mode="bilinear", recompute_scale_factor=True)),
    ((1, 1, 8, 8), dict(size=(3, 5), mode="bilinear")),
    ((1, 2, 3, 4, 2), dict(size=(5, 2, 3), mode="trilinear")),
]


def _both(torch, fn_jg, fn_torch, x, dtype):
    xt = torch.tensor(x.astype(dtype), requires_grad=True)
    yt = fn_torch(xt)
    g = np.random.default_rng(9).normal(size=yt.shape).astype(dtype)
    yt.backward(torch.tensor(g))
    xj = jg.tensor(x.astype(dtype), requires_grad=True)
    yj = fn_jg(xj)
    yj.backward(jg.tensor(g))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    assert yj.shape == tuple(yt.shape)
    np.testing.assert_allclose(yj.detach().numpy(), yt.detach().numpy(), **tol)
    np.testing.assert_allclose(xj.grad, xt.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,kw", _INTERP)
def test_interpolate_matches_torch(shape, kw, dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=shape)
    _both(torch, lambda t: F.interpolate(t, **kw), lambda t: torch.nn.functional.interpolate(
        t, **kw), x, dtype)


_PADS = [((2, 5), (2, 3), "reflect"), ((2, 3, 5), (4, 1), "reflect"),
         ((1, 2, 4, 5), (1, 3, 2, 0), "reflect"), ((2, 3), (3, 0), "replicate"),
         ((1, 2, 3, 4), (2, 2, 3, 1), "replicate"), ((1, 1, 2, 3, 2), (1, 0, 2, 1, 1, 1),
                                                     "replicate"),
         ((2, 2, 4), (3, 4), "circular"), ((1, 2, 3, 4), (1, 2, 3, 0), "circular"),
         ((1, 2, 3, 4), (-1, 2, 1, -1), "circular"),
         ((1, 1, 3, 3, 3), (1, 1, 2, 0, 0, 1), "reflect"),
         ((1, 2, 4, 5), (-1, 2, 2, -2), "reflect"), ((2, 5), (-2, 3), "replicate")]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,pad,mode", _PADS)
def test_pad_modes_match_torch(shape, pad, mode, dtype):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).normal(size=shape)
    _both(torch, lambda t: F.pad(t, pad, mode=mode),
          lambda t: torch.nn.functional.pad(t, pad, mode=mode), x, dtype)


def test_modules_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).normal(size=(1, 2, 4, 5))
    pairs = [(nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
             (nn.Upsample(size=(3, 7), mode="bilinear"),
              torch.nn.Upsample(size=(3, 7), mode="bilinear")),
             (nn.UpsamplingNearest2d(scale_factor=3), torch.nn.UpsamplingNearest2d(scale_factor=3)),
             (nn.UpsamplingBilinear2d(size=6), torch.nn.UpsamplingBilinear2d(size=6)),
             (nn.ReflectionPad2d(2), torch.nn.ReflectionPad2d(2)),
             (nn.ReplicationPad2d((1, 0, 2, 3)), torch.nn.ReplicationPad2d((1, 0, 2, 3))),
             (nn.CircularPad2d(1), torch.nn.CircularPad2d(1)),
             (nn.ZeroPad2d((1, 2, 0, 1)), torch.nn.ZeroPad2d((1, 2, 0, 1))),
             (nn.ConstantPad2d(1, 3.5), torch.nn.ConstantPad2d(1, 3.5)),
             (nn.ReflectionPad1d(3), torch.nn.ReflectionPad1d(3))]
    for ours, theirs in pairs:
        xin = x[0] if isinstance(ours, nn.ReflectionPad1d) else x
        _both(torch, ours, theirs, xin, np.float64)
        assert ours.state_dict() == {} and repr(ours).split("(")[0] == repr(theirs).split("(")[0]


def test_interpolate_inf_not_spread_by_nearest_and_pad_copies():
    x = jg.tensor([[[1.0, np.inf, 2.0]]])
    y = F.interpolate(x, size=6).numpy()
    np.testing.assert_array_equal(y, [[[1, 1, np.inf, np.inf, 2, 2]]])
    np.testing.assert_array_equal(F.pad(x, (2, 2), mode="replicate").numpy(),
                                  [[[1, 1, 1, np.inf, 2, 2, 2]]])


def test_errors():
    x = jg.zeros(1, 2, 3, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="bilinear mode needs 4D"):
        F.interpolate(jg.zeros(1, 2, 3), size=4, mode="bilinear")
    with pytest.raises(ValueError, match="align_corners option"):
        F.interpolate(x, size=4, align_corners=True)
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x, size=4, mode="bicubic")
    with pytest.raises(ValueError, match="same number of spatial"):
        F.interpolate(x, size=(4, 5, 6))
    with pytest.raises(ValueError, match="less than the corresponding input dimension"):
        F.pad(x, (4, 0, 0, 0), mode="reflect")
    with pytest.raises(ValueError, match="wrapping around more than once"):
        F.pad(x, (5, 0, 0, 0), mode="circular")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 4D"):
        F.pad(x, (1, 1), mode="replicate")
    with pytest.raises(ValueError, match="doesn't take in value"):
        F.pad(x, (1, 1, 1, 1), mode="reflect", value=2.0)
    with pytest.raises(NotImplementedError, match="'symmetric'"):
        F.pad(x, (1, 1, 1, 1), mode="symmetric")
