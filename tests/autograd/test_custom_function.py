"""The public custom-op API: a user-written Function with the user's own numba kernels."""
import numba
import numpy as np
import pytest

import jitgrad as jg


@numba.njit(cache=False)
def _leaky_forward(x, slope, out):
    """out = x if x > 0 else slope * x"""
    for i in range(x.size):
        out[i] = x[i] if x[i] > 0 else slope * x[i]


@numba.njit(cache=False)
def _leaky_backward(x, g, slope, gx):
    """gx = g if x > 0 else slope * g"""
    for i in range(x.size):
        gx[i] = g[i] if x[i] > 0 else slope * g[i]


class LeakyReLU(jg.Function):
    @staticmethod
    def forward(ctx, x, slope):
        x = np.ascontiguousarray(x)
        out = np.empty(x.shape, x.dtype)
        _leaky_forward(x.reshape(-1), slope, out.reshape(-1))
        ctx.save_for_backward(x)
        ctx.slope = slope
        return out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        g = np.ascontiguousarray(g)
        gx = np.empty(x.shape, x.dtype)
        _leaky_backward(x.reshape(-1), g.reshape(-1), ctx.slope, gx.reshape(-1))
        return gx, None   # no gradient for the non-tensor slope


def test_user_leaky_relu_with_njit_kernels_passes_gradcheck():
    x = np.array([[-1.5, -0.3, 0.4], [0.9, -2.0, 1.2]])
    t = jg.tensor(x, requires_grad=True)
    out = LeakyReLU.apply(t, 0.1)
    np.testing.assert_allclose(out.data, np.where(x > 0, x, 0.1 * x))
    assert "LeakyReLUBackward" in repr(out)
    assert jg.gradcheck(lambda a: LeakyReLU.apply(a, 0.1), [t])
    assert jg.gradcheck(lambda a: LeakyReLU.apply(a, 0.1),  # non-contiguous input
                        [jg.from_numpy(x.T.copy().T).requires_grad_()])


def test_user_function_composes_with_builtin_ops():
    t = jg.tensor(np.array([-1.0, 2.0]), requires_grad=True)
    (LeakyReLU.apply(t * 3, 0.5) ** 2).sum().backward()
    # d/dt (leaky(3t))^2 = 2 leaky(3t) * leaky'(3t) * 3
    np.testing.assert_allclose(t.grad, [2 * -1.5 * 0.5 * 3, 2 * 6.0 * 3])


class SplitScale(jg.Function):
    """Two outputs: 2x and 3x."""

    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, ga, gb):
        ctx.seen = (ga.copy(), gb.copy())
        return ga * 2 + gb * 3


def test_multiple_outputs_unused_output_arrives_as_zeros():
    x = jg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    a, b = SplitScale.apply(x)
    assert a.grad_fn is b.grad_fn
    node = a.grad_fn
    a.sum().backward()
    np.testing.assert_array_equal(node.seen[1], np.zeros(2))
    np.testing.assert_allclose(x.grad, [2.0, 2.0])
    x.grad = None
    a, b = SplitScale.apply(x)
    (a + b).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 5.0])


class MulRecordingNeeds(jg.Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              y if ctx.needs_input_grad[0] else None)
        ctx.needs_seen = tuple(ctx.needs_input_grad)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return (g * y if ctx.needs_input_grad[0] else None,
                g * x if ctx.needs_input_grad[1] else None)


def test_needs_input_grad():
    x = jg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = jg.tensor(np.array([3.0, 4.0]))
    out = MulRecordingNeeds.apply(x, y)
    assert out.grad_fn.needs_seen == (True, False)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, y.data)
    with jg.no_grad():
        assert MulRecordingNeeds.apply(x, y).grad_fn is None
    assert jg.gradcheck(MulRecordingNeeds.apply,
                        [x, jg.tensor(np.array([3.0, 4.0]), requires_grad=True)])


class MaxWithIndex(jg.Function):
    @staticmethod
    def forward(ctx, x):
        i = int(np.argmax(x))
        idx = np.array(i)
        ctx.mark_non_differentiable(idx)
        ctx.i, ctx.shape = i, x.shape
        return x[i].copy(), idx

    @staticmethod
    def backward(ctx, g, g_idx):
        gx = np.zeros(ctx.shape, g.dtype)
        gx[ctx.i] = g
        return gx


def test_mark_non_differentiable():
    x = jg.tensor(np.array([1.0, 5.0, 2.0]), requires_grad=True)
    value, index = MaxWithIndex.apply(x)
    assert value.requires_grad and not index.requires_grad and index.grad_fn is None
    assert index.item() == 1
    value.backward()
    np.testing.assert_allclose(x.grad, [0.0, 1.0, 0.0])


class WrongShape(jg.Function):
    @staticmethod
    def forward(ctx, x):
        return x.sum()

    @staticmethod
    def backward(ctx, g):
        return np.ones(3)


class WrongCount(jg.Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g, g


def test_backward_returning_wrong_shape_or_count_raises_clearly():
    x = jg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"WrongShapeBackward returned an invalid gradient at "
                                           r"index 0 - got shape \(3,\) but expected shape "
                                           r"compatible with \(2,\)"):
        WrongShape.apply(x).backward()
    with pytest.raises(RuntimeError, match=r"WrongCountBackward returned an incorrect number of "
                                           r"gradients \(expected 1, got 2\)"):
        WrongCount.apply(x).sum().backward()


def test_backward_gradient_is_cast_to_input_dtype():
    class ToFloat32(jg.Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, g):
            return g.astype(np.float32)

    x = jg.tensor(np.ones(2), requires_grad=True)
    ToFloat32.apply(x).sum().backward()
    assert x.grad.dtype == np.float64


def test_forward_without_grad_inputs_records_nothing():
    out = LeakyReLU.apply(jg.tensor(np.array([-1.0, 1.0])), 0.1)
    assert out.grad_fn is None and not out.requires_grad
