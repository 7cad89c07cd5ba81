"""Accuracy of the further scalar math of kernels/_math.py (expm1, exp2, log2, sinh, cosh,
asinh, acosh, atanh: written over exp/log/log1p; erfinv: a first guess and Newton steps) in ulps
of the correctly rounded result over dense sweeps, plus special values, against NumPy's long
double math (mpmath for erfinv, when installed)."""
import math

import numpy as np
import pytest

import jitgrad as jg

_REF = {np.float32: np.float64, np.float64: np.longdouble}
_MAX_ULP = {np.float32: 1.0, np.float64: 4.0}  # measured: <= 0.5 (float32), <= 3.6 (float64)


def _sweep(lo, hi, tiny=True):
    rng = np.random.default_rng(0)
    x = [np.linspace(lo, hi, 20001), rng.uniform(lo, hi, 20000)]
    if tiny and lo < 0 < hi:
        x += [np.geomspace(1e-30, 1, 2001), -np.geomspace(1e-30, 1, 2001)]
    return np.concatenate(x)


_OPS = {
    "expm1": (np.expm1, _sweep(-40, 700)),
    "exp2": (np.exp2, _sweep(-1070, 1023)),
    "log2": (np.log2, np.concatenate([np.geomspace(5e-324, 1e308, 40001),
                                      np.random.default_rng(0).uniform(0.5, 2, 20000)])),
    "sinh": (np.sinh, _sweep(-710, 710)),
    "cosh": (np.cosh, _sweep(-710, 710)),
    "asinh": (np.arcsinh, np.concatenate([_sweep(-30, 30), np.geomspace(1, 1e300, 20001),
                                          -np.geomspace(1, 1e300, 2001)])),
    "acosh": (np.arccosh, np.concatenate([1 + np.geomspace(1e-15, 1, 20001),
                                          np.geomspace(1, 1e300, 20001)])),
    "atanh": (np.arctanh, _sweep(-0.999999, 0.999999)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(_OPS))
def test_ulp_error_over_dense_sweep(name, dtype):
    ref_fn, x = _OPS[name]
    with np.errstate(all="ignore"):
        x = x.astype(dtype)
        got = getattr(jg, name)(jg.tensor(x)).numpy()
        want = ref_fn(x.astype(_REF[dtype]))
        rounded = want.astype(dtype)
    ok = np.isfinite(rounded) & (rounded != 0)
    err = np.abs(got[ok].astype(_REF[dtype]) - want[ok]) / \
        np.spacing(np.abs(rounded[ok])).astype(_REF[dtype])
    assert err.max() <= _MAX_ULP[dtype], f"{name} {np.dtype(dtype)}: {err.max():.2f} ulp"
    same = (got[~ok] == rounded[~ok]) | (np.isnan(got[~ok]) & np.isnan(rounded[~ok]))
    assert same.all(), f"{name}: {x[~ok][~same][:5]} -> {got[~ok][~same][:5]}"


_SPECIAL = np.array([0.0, -0.0, 5e-324, 1e-300, -1e-300, 1.0, -1.0, 2.0, 8.0, 1024.0, 0.5,
                     np.inf, -np.inf, np.nan, 1e308, -1e308])


@pytest.mark.parametrize("name", sorted(_OPS))
def test_special_values_match_numpy(name):
    ref_fn = _OPS[name][0]
    with np.errstate(all="ignore"):
        got = getattr(jg, name)(jg.tensor(_SPECIAL)).numpy()
        want = ref_fn(_SPECIAL)
    np.testing.assert_allclose(got, want, rtol=4e-16, atol=0)  # (the sign of zero: fast-math nsz)


def test_exact_results_where_torch_has_them():
    assert jg.exp2(jg.tensor(np.arange(-1074.0, 1024.0))).numpy().tolist() == \
        [2.0 ** k for k in range(-1074, 1024)]
    assert jg.log2(jg.tensor(2.0 ** np.arange(-1074.0, 1024.0))).numpy().tolist() == \
        list(range(-1074, 1024))
    assert jg.log10(jg.tensor(10.0 ** np.arange(-300.0, 301.0))).numpy().tolist() == \
        list(range(-300, 301))


def test_erfinv_inverts_erf_to_a_few_ulp():
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 4001), 1 - np.geomspace(1e-15, 0.5, 200),
                        np.geomspace(1e-300, 1e-3, 100)])
    x = jg.erfinv(jg.tensor(y)).numpy()
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    want = np.array([float(mpmath.erfinv(mpmath.mpf(float(v)))) for v in y])
    assert np.max(np.abs(x - want) / np.spacing(np.abs(want))) <= 4.0
    edges = jg.erfinv(jg.tensor([1.0, -1.0, 1.5, -2.0, np.nan, 0.0, -0.0])).numpy()
    assert edges[:2].tolist() == [np.inf, -np.inf] and np.isnan(edges[2:5]).all()
    assert edges[5] == 0 and edges[6] == 0
    assert math.isclose(jg.erfinv(jg.tensor(np.float32(0.5))).item(), 0.4769362762044699,
                        rel_tol=1e-7)
