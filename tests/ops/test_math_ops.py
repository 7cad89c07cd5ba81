"""Math ops against PyTorch: integer division and remainders, bitwise and logical ops, the bool
refusals, the further unary/binary math (values and gradients), predicates, nan_to_num,
rsqrt(0), the shape-error class, and the in-place forms with arguments."""
import numpy as np
import pytest

import jitgrad as jg

torch = pytest.importorskip("torch")

# (expression, ...) evaluated with L = jitgrad and L = torch on the same data; values, dtypes
# and the class of any exception must agree
EXPRESSIONS = [
    "i // j", "i % j", "L.fmod(i, j)", "i // 0", "i % 0", "L.fmod(i, L.tensor(0))", "f // 0",
    "i // 2.5", "b // b", "b % b", "L.fmod(b, b)", "f // g", "f % g", "L.fmod(f, g)", "2 // f",
    "7 % g", "u // 2", "u % 3", "L.tensor([5], dtype=L.int32) // 2", "L.tensor([True]) // 2",
    "L.div(i, j, rounding_mode='trunc')", "L.div(i, j, rounding_mode='floor')",
    "L.div(f, g, rounding_mode='trunc')", "L.div(b, b, rounding_mode='floor')",
    "L.div(i, 0, rounding_mode='trunc')", "L.div(f, 2, rounding_mode='round')",
    "L.floor_divide(f, 2)", "L.remainder(2, f)", "L.remainder(i, 2.5)", "L.fmod(f, -2)",
    "f.floor_divide(g)", "f.remainder(2)", "i.fmod(j)",
    "b - b", "-b", "b + b", "b * b", "b - 1", "1 - b", "i - True", "L.sub(b, b)",
    "L.argmax(b)", "L.argmin(b)", "b.argmax()",
    "i & j", "i | 3", "i ^ j", "~i", "~b", "b & b", "b | True", "b ^ b", "i << 2", "i >> 1",
    "i << j", "f & f", "~f", "1 << i", "3 & i", "i & True", "b & 1", "u >> 1", "i << 65",
    "i >> -1", "-i >> 70", "b << b", "b << 1", "i.bitwise_and(j)", "L.bitwise_not(i)",
    "L.bitwise_left_shift(i, 2.0)", "L.bitwise_xor(u, 255)",
    "L.tensor([5], dtype=L.int32) % L.tensor([3])",
    "L.logical_and(i, f)", "L.logical_not(f)", "L.logical_xor(b, i)", "L.logical_or(b, i)",
    "i.logical_not()",
    "L.floor(i)", "L.floor(b)", "L.ceil(b)", "L.round(i)", "L.round(i, decimals=1)",
    "L.round(f, decimals=-1)", "L.round(L.tensor([0.5, 1.5, 2.5, -0.5, 0.125]), decimals=2)",
    "L.frac(i)", "L.frac(f)", "L.square(i)", "L.square(b)", "L.reciprocal(i)", "L.sgn(i)",
    "L.sgn(b)", "L.trunc(i)", "L.tan(i)", "L.erf(b)", "L.exp2(i)", "L.log2(i)", "i.square()",
    "L.atan2(i, j)", "L.xlogy(i, j)", "L.xlogy(2, f)", "L.xlogy(L.tensor([0.0, 0, 1]), L.tensor([0.0, float('nan'), 0]))",
    "L.lerp(f, g, 0.5)", "L.lerp(f, g, L.tensor([0.1, 0.6, 1.0]))", "L.lerp(f, g, 1.0)",
    "L.hypot(f, g)", "f.hypot(g)",
    "L.isnan(i)", "L.isinf(b)", "L.isclose(i, j)", "L.allclose(i, j)", "L.allclose(f, f)",
    "L.equal(i, f)", "L.equal(i, i.float())", "L.equal(i, L.tensor([7]))",
    "L.isfinite(s)", "L.isnan(s)", "L.isinf(s)", "L.isposinf(s)", "L.isneginf(s)",
    "L.isclose(s, s)", "L.isclose(s, s, equal_nan=True)", "L.isclose(f, i)",
    "L.nan_to_num(i)", "L.nan_to_num(s)", "L.nan_to_num(s.double())",
    "L.nan_to_num(s, nan=1.0, posinf=2.0, neginf=-3.0)", "L.nan_to_num(s, posinf=-5.0)",
    "s.nan_to_num(neginf=0.0)",
    "L.rsqrt(L.tensor([0.0, 4.0, -1.0, float('inf')]))",
    "i.clamp(0, 2)", "i.clamp(0.5)", "i.clone().pow_(2)", "f.clone().add_(i, alpha=2)",
    "i.clone().add_(i, alpha=2.5)", "i.clone().fill_(2.5)", "i.clone().copy_(f)",
    "b.clone().copy_(f)", "f.clone().fill_(L.tensor(2.0))", "f.clone().fill_(L.tensor([2.0]))",
    "f.clone().copy_(L.ones(2))", "f.clone().copy_(L.tensor(3.0))", "f.clone().sub_(g, alpha=2)",
    "f.clone().clamp_(max=1.0)", "f.clone().clamp_(-1.0, 1.0)", "f.clone().pow_(2)",
    "f.clone().pow_(g)",
    "L.matmul(L.ones(2, 3), L.ones(2, 3))", "L.ones(6).reshape(4, 2)", "L.ones(2, 3) + L.ones(4)",
    "L.ones(2, 3).view(4, 2)", "L.ones(3).expand(2, 4)", "L.cat([L.ones(2, 3), L.ones(2, 4)])",
    "L.stack([L.ones(2), L.ones(3)])",
]


def _env(lib):
    return dict(L=lib, i=lib.tensor([7, -7, 3]), j=lib.tensor([2, 2, -2]),
                b=lib.tensor([True, False, True]), f=lib.tensor([7.5, -7.5, 3.0]),
                g=lib.tensor([2.0, -1.5, 0.7]),
                u=lib.tensor([7, 200], dtype=torch.uint8 if lib is torch else np.uint8),
                s=lib.tensor([0.0, -1.5, float("nan"), float("inf"), -float("inf")]))


def _run(expr, lib):
    try:
        r = eval(expr, _env(lib))
    except Exception as exc:
        return exc
    if isinstance(r, (jg.Tensor, torch.Tensor)):
        return np.asarray(r.detach().numpy() if isinstance(r, torch.Tensor) else r.numpy())
    return r



@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_matches_torch(expr):
    ours, theirs = _run(expr, jg), _run(expr, torch)
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), f"{expr}: torch raised {theirs!r}, we gave {ours!r}"
        return
    assert not isinstance(ours, Exception), f"{expr}: we raised {ours!r}, torch gave {theirs!r}"
    if isinstance(theirs, np.ndarray):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, expr
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=0)
    else:
        assert ours == theirs and type(ours) is type(theirs), expr


def test_int_float_cast_refusals_of_in_place_forms():
    # torch raises RuntimeError; jitgrad's in-place ops raise TypeError for a cast (as +=)
    for expr in ["i.clamp_(0.5)", "i.clone().pow_(0.5)", "b.clone().add_(i)"]:
        with pytest.raises(TypeError, match="can't be cast to the desired output type"):
            eval(expr, _env(jg))


UNARY = {  # name: (low, high) of the sampled inputs
    "tan": (-1.2, 1.2), "sinh": (-3, 3), "cosh": (-3, 3), "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9), "atan": (-3, 3), "asinh": (-3, 3), "acosh": (1.1, 4),
    "atanh": (-0.9, 0.9), "floor": (-3, 3), "ceil": (-3, 3), "round": (-3, 3), "trunc": (-3, 3),
    "frac": (-3, 3), "log2": (0.1, 5), "log10": (0.1, 5), "exp2": (-3, 3), "expm1": (-3, 3),
    "erf": (-3, 3), "erfc": (-3, 3), "erfinv": (-0.95, 0.95), "reciprocal": (0.2, 3),
    "square": (-3, 3), "sgn": (-3, 3), "nan_to_num": (-3, 3), "rsqrt": (0.1, 3),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_and_gradients_match_torch(name, dtype):
    rng = np.random.default_rng(0)
    x = rng.uniform(*UNARY[name], (5, 7)).astype(dtype)
    g = rng.uniform(-1, 1, (5, 7)).astype(dtype)
    ours = jg.tensor(x, requires_grad=True)
    y = getattr(jg, name)(ours)
    y.backward(jg.tensor(g))
    theirs = torch.tensor(x, requires_grad=True)
    t = getattr(torch, name)(theirs)
    t.backward(torch.tensor(g))
    tol = dict(rtol=2e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y.detach().numpy(), t.detach().numpy(), **tol)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(force=True), **tol)


BINARY = {
    "atan2": lambda L, a, b: L.atan2(a, b), "hypot": lambda L, a, b: L.hypot(a, b),
    "xlogy": lambda L, a, b: L.xlogy(a, b.abs() + 0.1),
    "remainder": lambda L, a, b: L.remainder(a, b), "fmod": lambda L, a, b: L.fmod(a, b),
    "floor": lambda L, a, b: L.div(a, b, rounding_mode="floor"),
    "trunc": lambda L, a, b: L.div(a, b, rounding_mode="trunc"),
    "lerp": lambda L, a, b: L.lerp(a, b, L.ones(4, dtype=a.dtype) * 0.3),
    "lerp(tensor weight)": lambda L, a, b: L.lerp(a, b, a.sigmoid()),
    "lerp(0.75)": lambda L, a, b: L.lerp(a, b, 0.75),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients_with_broadcasting_match_torch(name):
    rng = np.random.default_rng(1)
    a = rng.uniform(-3, 3, (3, 1, 4))
    b = rng.uniform(0.5, 2, (2, 4)) * rng.choice([-1, 1], (2, 4))
    g = rng.uniform(-1, 1, (3, 2, 4))
    grads = []
    for L in (jg, torch):
        ta, tb = L.tensor(a, requires_grad=True), L.tensor(b, requires_grad=True)
        y = BINARY[name](L, ta, tb)
        y.backward(L.tensor(g))
        grads.append([np.asarray(y.detach().numpy()), np.asarray(ta.grad), np.asarray(tb.grad)])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_xlogy_at_zero_and_its_gradient_match_torch():
    out = []
    for L in (jg, torch):
        x = L.tensor([0.0, 0.0, 2.0, 1.0], dtype=L.float64, requires_grad=True)
        y = L.tensor([0.0, 3.0, 0.5, -1.0], dtype=L.float64, requires_grad=True)
        L.xlogy(x, y).sum().backward()
        out.append([np.asarray(x.grad), np.asarray(y.grad)])
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-15)  # log: 1 ulp apart
    np.testing.assert_array_equal(out[0][1], out[1][1])


@pytest.mark.parametrize("expr", [
    "L.matmul(L.ones(2, 3), L.ones(2, 3))", "L.ones(2, 3) @ L.ones(4)",
    "L.ones(6).reshape(4, 2)", "L.ones(6).view(4, 2)", "L.ones(2, 3) + L.ones(4)",
    "L.ones(2, 3) * L.ones(2, 1, 4, 2)", "L.ones(3).expand(2, 4)",
    "L.cat([L.ones(2, 3), L.ones(2, 4)])", "L.stack([L.ones(2), L.ones(3)])",
    "L.zeros(3).add_(L.ones(2, 3))", "L.zeros(3).copy_(L.ones(2))",
    "L.zeros(3).pow_(L.ones(2, 3))",
])
def test_shape_errors_are_runtime_and_value_errors(expr):
    with pytest.raises(RuntimeError):
        eval(expr, dict(L=jg))
    with pytest.raises(ValueError):
        eval(expr, dict(L=jg))
    with pytest.raises(RuntimeError):  # torch raises RuntimeError for each
        eval(expr, dict(L=torch))
    try:
        eval(expr, dict(L=jg))
    except RuntimeError as exc:
        assert isinstance(exc, jg._check.ShapeError)


# ------------------------------------------------------------------------------ in-place
INPLACE = {
    "add_(alpha)": lambda t, o: t.add_(o, alpha=2.0),
    "sub_(alpha)": lambda t, o: t.sub_(o, alpha=-0.5),
    "pow_": lambda t, o: t.pow_(2.0),
    "pow_(tensor)": lambda t, o: t.pow_(o),
    "clamp_": lambda t, o: t.clamp_(0.3, 0.9),
    "clamp_(tensor)": lambda t, o: t.clamp_(min=o),
    "fill_": lambda t, o: t.fill_(1.5),
    "fill_(tensor)": lambda t, o: t.fill_(o.sum()),
    "copy_": lambda t, o: t.copy_(o),
    "copy_(broadcast)": lambda t, o: t.copy_(o[0]),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_in_place_graph_values_and_gradients_match_torch(name):
    rng = np.random.default_rng(2)
    x = rng.uniform(0.1, 1, (3, 4))
    o = rng.uniform(0.1, 1, (3, 4))
    g = rng.uniform(-1, 1, (3, 4))
    res = []
    for L in (jg, torch):
        tx, to = L.tensor(x, requires_grad=True), L.tensor(o, requires_grad=True)
        y = tx * 1.5
        assert INPLACE[name](y, to) is y
        (y * L.tensor(g)).sum().backward()
        grads = [np.asarray(tx.grad) if tx.grad is not None else np.zeros_like(x),
                 np.asarray(to.grad) if to.grad is not None else np.zeros_like(o)]
        res.append([np.asarray(y.detach().numpy())] + grads)
    for ours, theirs in zip(*res):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_in_place_rules(name):
    op = INPLACE[name]
    o = jg.tensor(np.full((3, 4), 0.5))
    # the storage is written and the version counter bumped (no graph)
    base = np.full((3, 4), 0.25)
    t = jg.from_numpy(base)
    assert op(t, o) is t and t._version[0] == 1
    assert np.shares_memory(t.numpy(), base)
    np.testing.assert_allclose(base, INPLACE[name](jg.tensor(np.full((3, 4), 0.25)), o).numpy())
    # a non-contiguous view writes through to its base
    big = jg.zeros(4, 6, dtype=jg.float64) + 0.25
    view = big[:3, :4]  # not contiguous
    assert not view.is_contiguous()
    op(view, o)
    np.testing.assert_allclose(big.numpy()[:3, :4], base)
    # a leaf that requires grad is refused (outside no_grad), and allowed inside
    leaf = jg.tensor(np.full((3, 4), 0.25), requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        op(leaf, o)
    with jg.no_grad():
        op(leaf, o)
    assert leaf.is_leaf and leaf.grad_fn is None
    # a node that saved the old value refuses to run backward
    x = jg.tensor(np.full((3, 4), 0.25), requires_grad=True)
    y = x.exp()  # saves its output
    op(y, o)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_add_alpha_integer_refusal_and_operator_forms():
    i = jg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="alpha must not be a floating point number"):
        i.add_(i, alpha=1.5)
    assert i.add_(i, alpha=3).tolist() == [4, 8]
    assert jg.add(jg.tensor([1.0]), jg.tensor([2.0]), alpha=0.5).tolist() == [2.0]
    m = jg.tensor([True, False])
    assert (~m).tolist() == [False, True] and (m & True).tolist() == [True, False]


def test_rsqrt_of_zero_is_inf():
    for dtype in (jg.float32, jg.float64):
        y = jg.rsqrt(jg.tensor([0.0, 4.0], dtype=dtype)).numpy()
        assert np.isposinf(y[0]) and y[1] == 0.5


def test_method_forms_exist():
    x = jg.tensor([0.25, 0.5])
    for name in ["tan", "sinh", "cosh", "asin", "acos", "atan", "asinh", "atanh", "floor",
                 "ceil", "round", "trunc", "frac", "log2", "log10", "exp2", "expm1", "erf",
                 "erfc", "erfinv", "reciprocal", "square", "sgn", "nan_to_num", "isnan",
                 "isinf", "isposinf", "isneginf", "isfinite", "logical_not"]:
        np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(jg, name)(x).numpy())
    for name in ["atan2", "hypot", "xlogy", "floor_divide", "remainder", "fmod", "isclose",
                 "allclose", "equal", "logical_and", "logical_or", "logical_xor"]:
        a, b = getattr(x, name)(x), getattr(jg, name)(x, x)
        assert np.array_equal(np.asarray(a.numpy() if isinstance(a, jg.Tensor) else a),
                              np.asarray(b.numpy() if isinstance(b, jg.Tensor) else b))
    assert x.lerp(x * 2, 0.5).tolist() == [0.375, 0.75]
