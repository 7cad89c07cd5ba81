"""The backward engine through the public API: graph shapes, accumulation, retain_graph, deep
graphs, freeing, grad modes, hooks, retain_grad, autograd.grad, version counters."""
import gc
import weakref

import numpy as np
import pytest

import jitgrad as jg


def _leaf(values, dtype=np.float64):
    return jg.tensor(np.array(values, dtype), requires_grad=True)


def test_diamond_graph_sums_both_paths():
    x = _leaf([1.0, 2.0])
    a = x * 2
    b = a.exp()           # path 1
    c = a * a             # path 2 (a reused twice)
    (b + c).sum().backward()
    a_val = 2 * x.data
    np.testing.assert_allclose(x.grad, 2 * np.exp(a_val) + 2 * 2 * a_val)


def test_reused_tensor_and_leaf_used_many_times():
    x = _leaf([3.0])
    y = x * x * x + x     # d/dx = 3x^2 + 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [28.0])


def test_gradients_accumulate_across_backward_calls():
    x = _leaf([1.0, -1.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3 + 2, 3 - 2])


def test_second_backward_needs_retain_graph():
    x = _leaf([0.5, 1.5])
    y = x.exp().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    z = x.exp().sum()
    x.grad = None
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(x.data))


def test_chain_of_100k_ops_backprops_without_recursion():
    x = jg.tensor(2.0, requires_grad=True)
    y = x
    gc.disable()  # the graph has no cycles; cyclic-GC passes over it would triple the time
    try:
        for _ in range(100_000):
            y = -y
        y.backward()
        assert x.grad == 1.0  # an even number of negations
        del y  # tearing the deep graph down must not recurse either
    finally:
        gc.enable()


def test_saved_arrays_and_nodes_are_freed():
    x = _leaf(np.ones(4))
    y = x.exp()                      # exp saves its output
    saved = weakref.ref(y.data)
    node = weakref.ref(y.grad_fn)
    z = y.sum()
    del y
    gc.collect()
    assert saved() is not None       # still needed for backward
    z.backward()
    gc.collect()
    assert saved() is None           # freed by the backward walk while z is alive
    del z
    gc.collect()
    assert node() is None            # the graph goes with its last output


def test_no_grad_enable_grad_set_grad_enabled_record_nothing():
    x = _leaf([1.0])
    with jg.no_grad():
        assert not jg.is_grad_enabled()
        assert (x * 2).grad_fn is None and not (x * 2).requires_grad
        with jg.enable_grad():
            assert jg.is_grad_enabled() and (x * 2).grad_fn is not None
    assert jg.is_grad_enabled()
    with jg.set_grad_enabled(False):
        assert (x + 1).grad_fn is None
    assert jg.is_grad_enabled()
    jg.set_grad_enabled(False)       # a plain call switches the mode
    assert not jg.is_grad_enabled()
    jg.set_grad_enabled(True)
    assert jg.is_grad_enabled()


def test_grad_modes_as_decorators():
    x = _leaf([1.0])

    @jg.no_grad()
    def f(t):
        assert not jg.is_grad_enabled()
        return t * 2

    @jg.no_grad
    def g(t):
        return t * 2

    @jg.set_grad_enabled(False)
    def h(t):
        return t * 2

    @jg.enable_grad()
    def k(t):
        return t * 2

    assert f(x).grad_fn is None and g(x).grad_fn is None and h(x).grad_fn is None
    assert jg.is_grad_enabled()      # decorating does not change the mode
    with jg.no_grad():
        assert k(x).grad_fn is not None
        assert not jg.is_grad_enabled()


def test_grad_mode_restored_after_exception():
    with pytest.raises(ZeroDivisionError):
        with jg.no_grad():
            1 / 0
    assert jg.is_grad_enabled()


def test_hook_on_leaf_receives_tensor_replaces_grad_and_removes():
    x = _leaf([1.0, 2.0])
    seen = []

    def hook(g):
        seen.append(g)
        return g * 10

    handle = x.register_hook(hook)
    (x * 3 + x).sum().backward()     # the hook sees the summed gradient, once
    assert len(seen) == 1 and isinstance(seen[0], jg.Tensor)
    np.testing.assert_allclose(seen[0].data, [4.0, 4.0])
    np.testing.assert_allclose(x.grad, [40.0, 40.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])
    assert len(seen) == 1


def test_hook_on_non_leaf_and_retain_grad():
    x = _leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.data.copy()) or g * 0.5)
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * y.data)
    np.testing.assert_allclose(y.grad, y.data)          # retain_grad sees the hooked gradient
    np.testing.assert_allclose(x.grad, 2 * y.data)      # d/dx through the halved gradient
    z = x * 2
    (z * z).sum().backward()
    assert z.grad is None                               # non-leaf grads are not kept by default


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        jg.ones(2).register_hook(lambda g: g)


def test_autograd_grad_returns_tensors_and_leaves_dot_grad_alone():
    x, w = _leaf([1.0, 2.0]), _leaf([5.0])
    y = x * 3
    out = (y * x).sum()
    gx, gy, gw = jg.autograd.grad(out, [x, y, w], allow_unused=True)
    assert isinstance(gx, jg.Tensor) and not gx.requires_grad
    np.testing.assert_allclose(gx.data, 6 * x.data)
    np.testing.assert_allclose(gy.data, x.data)
    assert gw is None
    assert x.grad is None and w.grad is None
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        jg.autograd.grad((x * 2).sum(), [x, w])


def test_autograd_grad_with_grad_outputs():
    x = _leaf([1.0, 2.0])
    (g,) = jg.autograd.grad(x * x, x, grad_outputs=jg.tensor(np.array([1.0, 10.0])))
    np.testing.assert_allclose(g.data, [2.0, 40.0])


def test_backward_on_non_scalar_needs_gradient():
    x = _leaf([[1.0, 2.0]])
    with pytest.raises(RuntimeError, match=r"only for scalar outputs \(output has shape \(1, 2\)"):
        (x * 2).backward()
    (x * 2).backward(jg.tensor(np.array([[1.0, 3.0]])))
    np.testing.assert_allclose(x.grad, [[2.0, 6.0]])
    with pytest.raises(RuntimeError, match="mismatch in shape"):
        (x * 2).backward(jg.ones(3, dtype=jg.float64))


def test_backward_of_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        jg.ones(1).sum().backward()


def test_inplace_on_saved_output_is_detected():
    x = _leaf([0.0, 1.0])
    y = x.exp()          # exp saves its output y
    y += 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_not_touching_saved_values_is_fine():
    x = _leaf([1.0, 2.0])
    y = x * 2            # mul by a constant saves nothing of x
    y += 1
    y *= x               # in-place mul whose old value is needed for x's gradient
    y.sum().backward()
    np.testing.assert_allclose(y.data, (2 * x.data + 1) * x.data)
    np.testing.assert_allclose(x.grad, 4 * x.data + 1)


def test_inplace_on_leaf_requiring_grad_raises_but_not_under_no_grad():
    x = _leaf([1.0, 2.0])
    for op in (lambda t: t.__iadd__(1), lambda t: t.mul_(2), lambda t: t.zero_(),
               lambda t: t.fill_(1.0)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op(x)
    with jg.no_grad():
        x += 1
        x.mul_(2)
    np.testing.assert_allclose(x.data, [4.0, 6.0])
    assert x.is_leaf and x.requires_grad


def test_multi_output_node_gets_zeros_for_unused_output():
    x = _leaf([1.0, 2.0, 3.0, 4.0])
    a, b = x.chunk(2)
    (a * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0, 0.0, 0.0])


def test_backward_from_several_roots_and_from_a_leaf():
    x = _leaf([1.0, 2.0])
    jg.autograd.backward([(x * 2).sum(), (x * x).sum()])
    np.testing.assert_allclose(x.grad, 2 + 2 * x.data)
    x.grad = None
    x.backward(jg.tensor(np.array([3.0, 4.0])))
    np.testing.assert_allclose(x.grad, [3.0, 4.0])


def test_hook_returning_none_keeps_gradient():
    x = _leaf([1.0, 2.0])
    x.register_hook(lambda g: None)
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])


def test_autograd_grad_frees_graph_unless_retained():
    x = _leaf([1.0, 2.0])
    s = x.exp().sum()
    jg.autograd.grad(s, x, retain_graph=True)
    jg.autograd.grad(s, x)
    with pytest.raises(RuntimeError, match="second time"):
        s.backward()


# ----------------------------------------------------------------------------- hook results
import pytest as _pytest  # noqa: E402


@_pytest.mark.parametrize("leaf", [True, False])
@_pytest.mark.parametrize("bad", [lambda g: jg.ones(5), lambda g: jg.ones(1),
                                  lambda g: jg.ones(3, 1), lambda g: g.double()])
def test_hook_returning_a_wrong_shape_or_dtype_raises(leaf, bad):
    x = jg.ones(3, requires_grad=True)
    t = x if leaf else x * 2
    t.register_hook(bad)
    with _pytest.raises(RuntimeError, match="hook '<lambda>' has changed the (size|type) of "
                                            "value"):
        (t * 3).sum().backward()
    assert x.grad is None


def test_hook_returning_the_right_shape_replaces_the_gradient():
    x = jg.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * jg.tensor([1.0, 0.0, 2.0]))
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 4.0]


def test_higher_order_gradients_raise_a_clear_not_implemented():
    x = jg.ones(2, requires_grad=True)
    with _pytest.raises(NotImplementedError, match="higher-order gradients are not supported"):
        (x * x).sum().backward(create_graph=True)
    with _pytest.raises(NotImplementedError, match="higher-order gradients"):
        jg.autograd.grad((x * x).sum(), [x], create_graph=True)
