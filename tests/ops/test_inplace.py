"""In-place arithmetic: storage written in place, version counters, graph takeover, dtype and
shape rules, views."""
import numpy as np
import pytest

import jitgrad as jg


def test_inplace_writes_storage_and_bumps_version():
    base = np.ones(3, np.float32)
    x = jg.from_numpy(base)
    x += 2
    x *= jg.tensor([1.0, 2.0, 3.0])
    x -= 1
    x /= 2
    np.testing.assert_allclose(base, [1.0, 2.5, 4.0])  # the same memory throughout
    assert x._version[0] == 4
    for method, want in [("add_", 3.0), ("sub_", 0.0), ("mul_", 4.0), ("div_", 1.0)]:
        t = jg.full((2,), 2.0)
        assert getattr(t, method)(jg.full((2,), 2.0 if method != "add_" else 1.0)) is t
        assert t.tolist() == [want, want]


def test_inplace_broadcasts_other_but_not_self():
    x = jg.zeros(2, 3)
    x += jg.tensor([1.0, 2.0, 3.0])
    assert x.tolist() == [[1.0, 2.0, 3.0]] * 2
    with pytest.raises(ValueError, match=r"add_: output with shape \(3,\) doesn't match the "
                                         r"broadcast shape \(2, 3\)"):
        y = jg.zeros(3)
        y += jg.zeros(2, 3)


def test_inplace_on_non_contiguous_tensor():
    base = np.zeros((3, 2))
    x = jg.from_numpy(base.T)
    x += jg.from_numpy(np.arange(3.0))
    np.testing.assert_allclose(base, np.arange(3.0)[:, None].repeat(2, 1))


def test_inplace_dtype_rules_follow_torch():
    ints = jg.tensor([1, 2])
    ints += 3
    assert ints.tolist() == [4, 5] and ints.dtype == np.int64
    with pytest.raises(TypeError, match="result type Float can't be cast"):
        ints += 1.5
    with pytest.raises(TypeError, match="result type Float can't be cast"):
        ints /= 2
    f32 = jg.ones(2)
    f32 += jg.ones(2, dtype=jg.float64)     # a float64 operand is cast down, as in torch
    assert f32.dtype == np.float32 and f32.tolist() == [2.0, 2.0]


def test_inplace_on_view_writes_through_to_base():
    x = jg.zeros(4)
    v = x[1:3]
    v += 5
    assert x.tolist() == [0.0, 5.0, 5.0, 0.0]


def test_inplace_in_graph_takes_over_the_node():
    x = jg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2
    y += x                 # y = 3x
    assert y.grad_fn is not None and "AddBackward" in repr(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_inplace_with_grad_requiring_other_on_plain_tensor():
    z = jg.ones(2)
    r = jg.tensor(np.array([1.0, 2.0]), dtype=jg.float32, requires_grad=True)
    z += r
    assert not z.is_leaf and z.requires_grad
    (z * z).sum().backward()
    np.testing.assert_allclose(r.grad, 2 * z.data)


def test_inplace_mul_and_div_keep_their_own_saved_values():
    x = jg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    z = jg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = x * 1
    y *= z
    y /= z * 0 + 2          # y = x z / 2
    y.sum().backward()
    np.testing.assert_allclose(x.grad, z.data / 2)
    np.testing.assert_allclose(z.grad, x.data / 2)


def test_inplace_invalidates_nodes_that_saved_the_old_value():
    x = jg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.sigmoid()         # saves its output
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: saved tensor 0 "
                                           r"of SigmoidBackward is at version 1; expected "
                                           r"version 0"):
        y.sum().backward()


def test_inplace_on_view_in_graph_is_refused():
    x = jg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    v = (x * 1)[1:]
    with pytest.raises(RuntimeError, match="view of a tensor in the graph"):
        v += 1


def test_inplace_leaf_rules():
    x = jg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: a leaf Variable that requires grad"):
        x += 1
    with jg.no_grad():
        x -= 0.5
    assert x.tolist() == [0.5, 0.5] and x.is_leaf and x.grad_fn is None
