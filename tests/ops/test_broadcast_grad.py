"""Every binary op, both sides requiring grad, over generated broadcast-compatible shape pairs:
values and gradients against a float64 NumPy reference (the class of bug where a fused
backward forgot to sum a broadcast input's gradient back to its shape)."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jitgrad as jg


def _sum_to(g, shape):
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead)))
    return g.sum(axis=tuple(d for d, n in enumerate(shape) if n == 1), keepdims=True) \
        .reshape(shape)


# name: (jitgrad op, reference value, d/da, d/db), inputs kept away from kinks and poles
OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, lambda a, b: 1 + 0 * a * b,
            lambda a, b: 1 + 0 * a * b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, lambda a, b: 1 + 0 * a * b,
            lambda a, b: -1 + 0 * a * b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, lambda a, b: b + 0 * a,
            lambda a, b: a + 0 * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b, lambda a, b: 1 / b + 0 * a,
            lambda a, b: -a / b ** 2),
    "pow": (lambda a, b: a ** b, lambda a, b: a ** b, lambda a, b: b * a ** (b - 1),
            lambda a, b: a ** b * np.log(a)),
    "maximum": (jg.maximum, np.maximum, lambda a, b: (a > b) + 0.0 * b,
                lambda a, b: (b > a) + 0.0 * a),
    "minimum": (jg.minimum, np.minimum, lambda a, b: (a < b) + 0.0 * b,
                lambda a, b: (b < a) + 0.0 * a),
}


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                 max_side=4),
       op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2 ** 16))
def test_binary_op_broadcast_gradients(shapes, op, seed):
    fn, ref, da, db = OPS[op]
    sa, sb = shapes.input_shapes
    rng = np.random.default_rng(seed)
    # distinct magnitudes in [0.5, 2] keep pow's base positive and max/min free of ties
    a = rng.uniform(0.5, 2.0, sa)
    b = rng.uniform(0.5, 2.0, sb) + 0.01 * (rng.uniform(size=sb) > 0.5)
    ta = jg.tensor(a, dtype=jg.float64, requires_grad=True)
    tb = jg.tensor(b, dtype=jg.float64, requires_grad=True)
    out = fn(ta, tb)
    want = ref(a, b)
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12, atol=1e-12)
    g = rng.uniform(-1.5, 1.5, np.shape(want))          # non-uniform upstream gradient
    out.backward(jg.tensor(g, dtype=jg.float64))
    assert ta.grad.shape == sa and tb.grad.shape == sb
    np.testing.assert_allclose(ta.grad, _sum_to(g * da(a, b), sa), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tb.grad, _sum_to(g * db(a, b), sb), rtol=1e-10, atol=1e-12)


def test_div_broadcast_numerator_regression():
    """The reported cases: a broadcast numerator with both sides requiring grad."""
    for sa, sb in [((3, 1), (3, 4)), ((), (4,)), ((1,), (4,)), ((4,), (3, 4)),
                   ((1, 4), (3, 4))]:
        a = jg.ones(*sa, requires_grad=True)
        b = jg.ones(*sb, requires_grad=True)
        (a / b).sum().backward()
        n = np.prod(sb) / max(np.prod(sa), 1)
        np.testing.assert_allclose(a.grad, np.full(sa, n))
        np.testing.assert_allclose(b.grad, np.full(sb, -1.0))
