"""Accuracy of the vectorised transcendentals (kernels/_math.py) behind jg.exp / log / log1p /
tanh / sigmoid: error in ulps of the correctly rounded result over dense sweeps, and special
values (0, -0, tiny, huge, +-inf, NaN, thresholds of overflow and underflow) against NumPy."""
import numpy as np
import pytest

import jitgrad as jg

# float32 is checked against float64 math (then rounded), float64 against long double math
_REF = {np.float32: np.float64, np.float64: np.longdouble}
_MAX_ULP = {np.float32: 3.0, np.float64: 4.0}  # measured: <= 2.7 (float32), <= 3.1 (float64)

_OPS = {
    "exp": (jg.exp, np.exp),
    "log": (jg.log, np.log),
    "log1p": (jg.log1p, np.log1p),
    "tanh": (jg.tanh, np.tanh),
    "sigmoid": (jg.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
}


def _sweep(name, dtype):
    """Dense inputs over the op's whole interesting range (including results that are
    denormal or overflow) for one dtype."""
    rng = np.random.default_rng(0)
    big = 745.0 if dtype == np.float64 else 104.0
    if name == "exp":
        x = np.concatenate([np.linspace(-big - 2, big - 15, 40001), rng.uniform(-1, 1, 20000),
                            rng.uniform(-big, 0.97 * big, 20000)])
        x = x[x < (709.9 if dtype == np.float64 else 88.8)]
    elif name == "log":
        top = 1e308 if dtype == np.float64 else 3e38
        low = 5e-324 if dtype == np.float64 else 1.5e-45
        x = np.concatenate([np.geomspace(low, top, 40001), rng.uniform(0.5, 2, 20000)])
    elif name == "log1p":
        x = np.concatenate([np.geomspace(1e-30, 1e30, 20001), -np.geomspace(1e-30, 0.999, 20001),
                            rng.uniform(-0.5, 0.5, 20000)])
    else:
        x = np.concatenate([np.linspace(-30, 30, 40001), rng.standard_normal(20000),
                            np.geomspace(1e-30, 1, 2001), -np.geomspace(1e-30, 1, 2001)])
        if name == "sigmoid":
            x = np.concatenate([x, np.linspace(-big, big, 20001)])
    return x.astype(dtype)


def _ulp_error(got, x, ref_fn, dtype):
    with np.errstate(all="ignore"):
        want = ref_fn(x.astype(_REF[dtype]))
        rounded = want.astype(dtype)
    ok = np.isfinite(rounded) & (rounded != 0)
    spacing = np.spacing(np.abs(rounded[ok])).astype(_REF[dtype])
    err = np.abs(got[ok].astype(_REF[dtype]) - want[ok]) / spacing
    # where the rounded result is 0 or inf, ours must be the same
    same = (got[~ok] == rounded[~ok]) | (np.isnan(got[~ok]) & np.isnan(rounded[~ok]))
    return float(err.max()), x[~ok][~same]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(_OPS))
def test_ulp_error_over_dense_sweep(name, dtype):
    ours, ref = _OPS[name]
    x = _sweep(name, dtype)
    got = ours(jg.tensor(x)).numpy()
    assert got.dtype == dtype
    worst, mismatched = _ulp_error(got, x, ref, dtype)
    assert worst <= _MAX_ULP[dtype], f"{name} {np.dtype(dtype).name}: {worst:.2f} ulp"
    assert mismatched.size == 0, f"{name}: 0/inf results differ at {mismatched[:5]}"


_SPECIAL = [0.0, -0.0, 1e-45, -1e-45, 1e-38, 1e-300, 5e-324, 1.0, -1.0, 0.625, -0.625, 88.72,
            88.73, -87.3, -103.9, -104.0, 709.78, 709.79, -708.4, -745.1, -746.0, 1e30, -1e30,
            np.finfo(np.float32).max, np.finfo(np.float64).max, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(_OPS))
def test_special_values_match_numpy(name, dtype):
    ours, ref = _OPS[name]
    with np.errstate(all="ignore"):
        x = np.array(_SPECIAL, dtype)
        want = ref(x.astype(_REF[dtype])).astype(dtype)
    got = ours(jg.tensor(x)).numpy()
    for xi, g, w in zip(x, got, want):
        if np.isnan(w):
            assert np.isnan(g), f"{name}({xi!r}) = {g!r}, expected NaN"
        elif np.isinf(w) or w == 0:
            assert g == w, f"{name}({xi!r}) = {g!r}, expected {w!r}"
        else:
            assert abs(g - w) <= _MAX_ULP[dtype] * np.spacing(abs(w)), \
                f"{name}({xi!r}) = {g!r}, expected {w!r}"


def test_special_value_semantics():
    x = jg.tensor(np.array([0.0, -0.0, -1.0, np.inf, -np.inf, np.nan], np.float32))
    assert jg.log(x).numpy().tolist()[:4] == [-np.inf, -np.inf, pytest.approx(np.nan, nan_ok=True),
                                              np.inf]
    assert np.isnan(jg.log(x).numpy()[[2, 4, 5]]).all()
    e = jg.exp(x).numpy()
    assert e[:2].tolist() == [1.0, 1.0] and e[3] == np.inf and e[4] == 0.0 and np.isnan(e[5])
    t = jg.tanh(x).numpy()
    assert t[3] == 1.0 and t[4] == -1.0 and np.isnan(t[5])
    s = jg.sigmoid(x).numpy()
    assert s[3] == 1.0 and s[4] == 0.0 and np.isnan(s[5])
    assert jg.log1p(jg.tensor(np.array([-1.0, -2.0, 1e-30]))).numpy()[0] == -np.inf
    assert np.isnan(jg.log1p(jg.tensor(np.array([-2.0]))).numpy()[0])
    assert jg.log1p(jg.tensor(np.array([1e-30]))).numpy()[0] == 1e-30


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiny_arguments_keep_relative_accuracy(dtype):
    x = np.geomspace(1e-30, 1e-3, 1001).astype(dtype)
    for name, want in (("tanh", np.tanh(x.astype(np.float64))), ("log1p", np.log1p(x.astype(
            np.float64))), ("exp", np.exp(-x.astype(np.float64)))):
        arg = -x if name == "exp" else x
        got = _OPS[name][0](jg.tensor(arg)).numpy().astype(np.float64)
        assert np.max(np.abs(got - want) / np.abs(want)) < 4 * np.finfo(dtype).eps, name


def _gelu_reference(x):
    """GELU in float64 through libm's erfc (the lower tail keeps its relative accuracy)."""
    import math
    return x * np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])


def _gelu_sweep():
    rng = np.random.default_rng(1)
    return np.concatenate([np.linspace(-38, 30, 68001), rng.standard_normal(20000) * 3,
                           np.geomspace(1e-30, 1, 2001), -np.geomspace(1e-30, 1, 2001)])


def test_float32_gelu_is_correctly_rounded_within_an_ulp_down_the_lower_tail():
    """float32 GELU runs normal_cdf_pdf's polynomial fits (kernels/_math.py) in float64: one
    rounding at the end, so within an ulp of x Phi(x) wherever that is a normal float32,
    including the lower tail (x = -38: ~1e-315) where 1 + erf(x / sqrt 2) would cancel."""
    x = _gelu_sweep().astype(np.float32)
    got = jg.nn.functional.gelu(jg.tensor(x)).numpy()
    worst, mismatched = _ulp_error(got, x, _gelu_reference, np.float32)
    assert worst <= 1.0, f"gelu float32: {worst:.2f} ulp"
    assert mismatched.size == 0, f"gelu: 0/inf results differ at {mismatched[:5]}"


def test_float32_gelu_gradient_matches_phi_plus_x_phi():
    import math
    x = _gelu_sweep().astype(np.float32)
    xt = jg.tensor(x, requires_grad=True)
    jg.nn.functional.gelu(xt).sum().backward()
    v = x.astype(np.float64)
    cdf = np.array([0.5 * math.erfc(-a / math.sqrt(2)) for a in v])
    term = v * np.exp(-0.5 * v * v) / math.sqrt(2 * math.pi)
    scale = np.spacing(np.maximum(np.abs(cdf), np.abs(term)).astype(np.float32))
    ok = scale > 0
    err = np.abs(xt.grad.astype(np.float64) - (cdf + term))[ok] / scale[ok]
    assert err.max() <= 2.0, f"gelu' float32: {err.max():.2f} ulp of the larger term"


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_float32_erf_and_erfc_are_correctly_rounded_within_an_ulp(name):
    """float32 erf / erfc run _erf_erfc's fits in float64 (libm's in float64): within an ulp
    over [-12, 12] and tiny arguments (measured 0.50), erfc's upper tail included; signed
    zeros, infinities and NaN as libm."""
    import math
    ref = getattr(math, name)
    x = np.concatenate([np.linspace(-12, 12, 120001), np.geomspace(1e-30, 1, 2001),
                        -np.geomspace(1e-30, 1, 2001)]).astype(np.float32)
    got = getattr(jg, name)(jg.tensor(x)).numpy()
    worst, mismatched = _ulp_error(got, x, lambda v: np.array([ref(a) for a in v]), np.float32)
    assert worst <= 1.0, f"{name} float32: {worst:.2f} ulp"
    assert mismatched.size == 0, f"{name}: 0/inf results differ at {mismatched[:5]}"
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float32)
    got = getattr(jg, name)(jg.tensor(special)).numpy()
    want = np.array([ref(float(v)) for v in special], np.float32)
    np.testing.assert_array_equal(got, want)
    assert np.array_equal(np.signbit(got[:2]), np.signbit(want[:2]))
