"""Every op in the op table: forward vs NumPy (float32, float64) and float64 gradcheck."""
import numpy as np
import pytest

import jitgrad as jg
from jitgrad.testing import all_specs
from jitgrad.testing.spec import make_inputs

SPECS = all_specs()
CASES = [pytest.param(spec, case, id=f"{spec.name}-{case.name or i}")
         for spec in SPECS for i, case in enumerate(spec.cases)]


def _tensors(arrays, requires_grad=False):
    return [jg.from_numpy(a).requires_grad_(requires_grad and a.dtype.kind == "f")
            if isinstance(a, np.ndarray) else a for a in arrays]


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spec,case", CASES)
def test_forward_matches_numpy(spec, case, dtype):
    rng = np.random.default_rng(0)
    arrays = make_inputs(spec, case, dtype, rng)
    got = _as_tuple(spec.fn(*_tensors(arrays), **case.kwargs))
    want = _as_tuple(spec.ref(*arrays, **case.kwargs))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        w = np.asarray(w)
        assert g.shape == w.shape, f"{spec.name}: shape {g.shape} != {w.shape}"
        if w.dtype.kind == "f":
            assert g.dtype == dtype, f"{spec.name}: dtype {g.dtype} != {np.dtype(dtype)}"
            tol = dict(rtol=spec.rtol32, atol=spec.atol32) if dtype == np.float32 else \
                dict(rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(g.data, w, **tol)
        else:
            np.testing.assert_array_equal(g.data, w)


@pytest.mark.parametrize("spec,case", [c for c in CASES if c.values[0].grad])
def test_gradcheck_float64(spec, case):
    rng = np.random.default_rng(1)
    arrays = make_inputs(spec, case, np.float64, rng)
    tensors = _tensors(arrays)
    diff = case.diff if case.diff is not None else \
        [i for i, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    for i in diff:
        tensors[i].requires_grad_(True)
    assert jg.gradcheck(lambda *xs: spec.fn(*xs, **case.kwargs), tensors)


def _covered():
    """Op-table names with variant suffixes ('cross_entropy(weight)') dropped."""
    return {s.name.split("(")[0] for s in SPECS}


def test_every_public_op_has_a_spec():
    """Guard: every public tensor op (jitgrad.<name> and Tensor.<name>) has an op-table entry
    (aliases map to their op)."""
    covered = _covered()
    aliases = {"clip": "clamp", "subtract": "sub", "multiply": "mul", "divide": "div",
               "true_divide": "div", "swapaxes": "transpose", "expand_as": "expand",
               "view_as": "view", "reshape_as": "reshape", "mm": "matmul", "bmm": "matmul",
               "dot": "matmul", "add_": "iadd", "sub_": "isub", "mul_": "imul", "div_": "idiv",
               "absolute": "abs", "negative": "neg", "concat": "cat", "concatenate": "cat"}
    exempt = {"lt", "le", "gt", "ge", "eq", "ne", "less", "less_equal", "greater",
              "greater_equal", "not_equal",             # comparisons: tests/ops/test_tensor.py
              "iadd", "isub", "imul", "idiv",            # in-place: tests/ops/test_inplace.py
              "clone"}                                   # identity copy: tests/ops/test_tensor.py
    names = set(jg._ops.TENSOR_METHODS) | set(jg._ops.__all__)
    missing = sorted(n for n in names
                     if aliases.get(n, n) not in covered and aliases.get(n, n) not in exempt)
    assert not missing, f"ops without an op-table entry: {missing}"


def test_every_public_functional_has_a_spec():
    """Guard: every name of jitgrad.nn.functional has an op-table entry nn.functional.<name>."""
    covered = _covered()
    missing = sorted(n for n in jg.nn.functional.__all__
                     if f"nn.functional.{n}" not in covered)
    assert not missing, f"functionals without an op-table entry: {missing}"
