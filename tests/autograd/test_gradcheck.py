"""jg.gradcheck: passes correct ops, names the input of a wrong backward, handles layouts."""
import numpy as np
import pytest

import jitgrad as jg


def _leaf(shape, seed=0):
    return jg.tensor(np.random.default_rng(seed).uniform(0.5, 1.5, shape), requires_grad=True)


class HalfWrongMul(jg.Function):
    """x * y with y's gradient off by a factor of 2."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y, 2 * g * x


def test_true_on_correct_ops():
    a, b = _leaf((2, 3)), _leaf((3,), seed=1)
    assert jg.gradcheck(lambda x, y: (x * y).exp() / (x + y), [a, b]) is True
    assert jg.gradcheck(lambda x: x.sum(0), [a]) is True


def test_wrong_backward_names_input_and_shows_values():
    a, b = _leaf((3,)), _leaf((3,), seed=1)
    with pytest.raises(jg.GradcheckError, match="input 1") as info:
        jg.gradcheck(HalfWrongMul.apply, [a, b])
    msg = str(info.value)
    assert "analytic" in msg and "numeric" in msg and "(3,)" in msg
    assert isinstance(info.value, RuntimeError)


def test_only_inputs_requiring_grad_are_checked():
    a = _leaf((3,))
    b = jg.tensor(np.ones(3))       # y's wrong gradient is never asked for
    assert jg.gradcheck(HalfWrongMul.apply, [a, b])


def test_large_inputs_are_checked_along_random_directions():
    a, b = _leaf((30, 10)), _leaf((30, 10), seed=1)
    with pytest.raises(jg.GradcheckError, match="along random directions"):
        jg.gradcheck(HalfWrongMul.apply, [a, b], max_full=100)
    assert jg.gradcheck(lambda x, y: x * y, [a, b], max_full=100)


def test_non_contiguous_float64_inputs():
    rng = np.random.default_rng(0)
    t = jg.from_numpy(rng.uniform(0.5, 1.5, (4, 3)).T).requires_grad_()    # transposed
    s = jg.from_numpy(rng.uniform(0.5, 1.5, (3, 8))[:, ::2]).requires_grad_()  # strided
    assert not t.data.flags.c_contiguous and not s.data.flags.c_contiguous
    assert jg.gradcheck(lambda x, y: (x * y).log().sum(1), [t, s])
    with pytest.raises(jg.GradcheckError, match="input 1"):
        jg.gradcheck(HalfWrongMul.apply, [t, s])


def test_float32_inputs_are_checked_in_float64():
    a = jg.tensor(np.array([0.5, 1.0, 1.5], np.float32), requires_grad=True)
    assert jg.gradcheck(lambda x: x.sin() * x, [a])


def test_needs_a_floating_input():
    with pytest.raises(ValueError, match="no floating-point Tensor input"):
        jg.gradcheck(lambda x: x, [jg.tensor([1, 2])])
