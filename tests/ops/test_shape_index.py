"""Shape views, joins, indexing and selection: view semantics, errors, edge cases, torch oracle."""
import numpy as np
import pytest

import jitgrad as jg


def _leaf(shape, seed=0):
    return jg.from_numpy(np.random.default_rng(seed).standard_normal(shape)).requires_grad_()


# ----------------------------------------------------------------------------- views
def test_views_share_storage_and_version_counter():
    x = jg.from_numpy(np.arange(6.0))
    views = [x.view(2, 3), x.reshape(3, 2), x[1:5:2], x.unsqueeze(0), x.expand(2, 6)[0],
             x.view(2, 3).t(), x.view(2, 3).T, *x.split(4)]
    for v in views:
        assert np.shares_memory(v.data, x.data)
        assert v._version is x._version
        assert v._base is x
    x[0] = 100.0
    assert x._version[0] == 1 and views[0]._version[0] == 1
    assert views[0].data[0, 0] == 100.0
    views[2][0] = -1.0  # writing through a view is seen by the base
    assert x.data[1] == -1.0 and x._version[0] == 2


def test_inplace_on_base_invalidates_node_that_saved_the_view():
    x = jg.from_numpy(np.arange(6.0))
    w = _leaf((3, 2))
    y = (x.view(3, 2) * w).sum()  # Mul saves the view to compute dw
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    z = (x[::2] * w[:, 0]).sum()
    x[1] = 3.0  # setitem on the base bumps the shared counter too
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_view_error_and_reshape_copy():
    x = jg.from_numpy(np.arange(6.0).reshape(2, 3))
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.t().view(-1)
    r = x.t().reshape(-1)
    np.testing.assert_array_equal(r.data, [0, 3, 1, 4, 2, 5])
    assert not np.shares_memory(r.data, x.data) and r._base is None
    with pytest.raises(ValueError, match="invalid for input of size 6"):
        x.reshape(4, -1)
    with pytest.raises(ValueError, match="only one dimension can be inferred"):
        x.view(-1, -1)


def test_shape_op_errors():
    x = jg.zeros(2, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.unsqueeze(3)
    with pytest.raises(ValueError, match="must match the existing size"):
        x.expand(2, 4)
    with pytest.raises(ValueError, match="number of dims don't match"):
        x.permute(1, 0, 2)
    with pytest.raises(ValueError, match="<= 2 dimensions"):
        jg.zeros(2, 3, 4).t()
    with pytest.raises(ValueError, match="repeat dims"):
        x.repeat(2)


def test_T_and_mT():
    x = jg.from_numpy(np.arange(24.0).reshape(2, 3, 4))
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    np.testing.assert_array_equal(x.mT.data, np.swapaxes(x.data, -1, -2))


def test_repeat_matches_tile_and_sums_tiles():
    x = _leaf((2, 3))
    y = x.repeat(2, 1, 3)
    np.testing.assert_array_equal(y.data, np.tile(x.data, (2, 1, 3)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 6.0))


def test_expand_backward_sums():
    x = _leaf((3, 1))
    x.expand(2, 3, 4).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((3, 1), 8.0))


# ----------------------------------------------------------------------------- joins
def test_split_and_chunk_sizes():
    x = jg.from_numpy(np.arange(10.0).reshape(5, 2))
    assert [p.shape[0] for p in x.split(2)] == [2, 2, 1]
    assert [p.shape[1] for p in jg.split(x, [0, 2], dim=1)] == [0, 2]
    assert [p.shape[0] for p in x.chunk(4)] == [2, 2, 1]  # ceil(5/4) = 2: only 3 chunks
    assert [p.shape[0] for p in jg.zeros(0).chunk(3)] == [0, 0, 0]
    with pytest.raises(ValueError, match="sum exactly to 5"):
        x.split([2, 2])
    with pytest.raises(ValueError, match="must be positive"):
        x.split(0)


def test_split_backward_fills_unused_outputs_with_zeros():
    x = _leaf((5, 2))
    a, b, c = x.split(2)
    (b * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0], [0, 0], [3, 3], [3, 3], [0, 0]])


def test_cat_errors_and_promotion():
    a, b = jg.zeros(2, 3), jg.zeros(2, 4)
    with pytest.raises(ValueError, match=r"tensor 1 has shape \(2, 4\)"):
        jg.cat([a, b])
    assert jg.cat([a, b], dim=1).shape == (2, 7)
    with pytest.raises(TypeError, match="element 1"):
        jg.cat([a, np.zeros((2, 3))])
    with pytest.raises(ValueError, match="non-empty"):
        jg.cat([])
    with pytest.raises(ValueError, match="equal size"):
        jg.stack([a, b])
    assert jg.cat([a, jg.zeros(1, 3, dtype=jg.float64)]).dtype == np.float64
    assert jg.concat([a, jg.zeros(1, 3, dtype=jg.int64)]).dtype == np.float32


def test_cat_gradients_reach_every_input():
    xs = [_leaf((2, 3), i) for i in range(3)]
    w = np.arange(18.0).reshape(2, 9)
    (jg.cat(xs, dim=1) * jg.from_numpy(w)).sum().backward()
    for i, x in enumerate(xs):
        np.testing.assert_array_equal(x.grad, w[:, 3 * i:3 * i + 3])


# ----------------------------------------------------------------------------- indexing
def test_repeated_indices_accumulate():
    x = _leaf((4, 3))
    x[jg.tensor([0, 2, 0, -4])].sum().backward()  # row path: -4 is row 0 again
    np.testing.assert_array_equal(x.grad[:, 0], [3, 0, 1, 0])
    y = _leaf((3, 3))
    y[[1, 1, 2], [0, 0, 2]].sum().backward()  # general path: flat positions
    np.testing.assert_array_equal(y.grad, [[0, 0, 0], [2, 0, 0], [0, 0, 1]])


def test_getitem_kinds():
    x = jg.from_numpy(np.arange(12.0).reshape(3, 4))
    assert x[1, 2].shape == () and x[1, 2]._base is x
    np.testing.assert_array_equal(x[::-1, ::2].data, x.data[::-1, ::2])
    np.testing.assert_array_equal(x[jg.tensor(1)].data, x.data[1])  # 0-d int tensor: an int
    mask = x > 5.0
    np.testing.assert_array_equal(x[mask].data, x.data[x.data > 5])
    assert x[None, ..., True].shape == (1, 3, 4, 1)
    with pytest.raises(IndexError, match="out of bounds"):
        x[jg.tensor([3])]
    with pytest.raises(IndexError, match="valid indices"):
        x[1.5]


def test_setitem_writes_bumps_version_and_refuses_leaves():
    x = jg.zeros(2, 3)
    x[0] = jg.tensor([1.0, 2.0, 3.0])
    x[1, ::2] = 7.0
    np.testing.assert_array_equal(x.data, [[1, 2, 3], [7, 0, 7]])
    assert x._version[0] == 2
    leaf = _leaf((2, 3))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf[0] = 1.0
    # in a graph, setitem is recorded (tests/ops/test_select.py checks its gradients)
    (leaf * 2)[0] = 1.0
    x[0] = leaf[0]
    assert x.grad_fn is not None and x._version[0] == 3
    with jg.no_grad():
        leaf[0, 0] = 5.0  # allowed without grad, as torch
    assert leaf.data[0, 0] == 5.0 and leaf._version[0] == 1
    with pytest.raises(RuntimeError, match="single memory location"):
        jg.zeros(3, 1).expand(3, 4)[0] = 1.0
    with pytest.raises(ValueError, match="setitem"):
        x[0] = jg.zeros(2)


# ----------------------------------------------------------------------------- selection
def test_where_and_masked_fill():
    c = jg.tensor([[True], [False]])
    x, y = _leaf((2, 3)), _leaf((3,), 1)
    out = jg.where(c, x, y)
    np.testing.assert_array_equal(out.data, np.where(c.data, x.data, y.data))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(y.grad, [1, 1, 1])
    assert jg.where(c, jg.zeros(2, 2, dtype=jg.int64), 0.5).dtype == np.float32
    with pytest.raises(TypeError, match="bool"):
        jg.where(jg.ones(2), x, y)
    with pytest.raises(ValueError, match="broadcast"):
        jg.where(c, jg.zeros(3, 4), 0.0)
    i = jg.zeros(2, 2, dtype=jg.int64).masked_fill(jg.tensor([True, False]), 3.7)
    assert i.dtype == np.int64 and i.tolist() == [[3, 0], [3, 0]]
    with pytest.raises(ValueError, match="does not broadcast"):
        jg.zeros(2, 2).masked_fill(jg.tensor([True, False, True]), 1.0)


# ----------------------------------------------------------------------------- torch oracle
def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 3))
    b = rng.standard_normal((2, 3))
    mask = a > 0
    idx = np.array([3, 0, 3, 1])

    def run(lib, tensor):
        x = tensor(a)
        y = tensor(b)
        outs = [x[idx], x[mask], x[1:, ::2], lib.cat([x, y]), lib.stack([x[:2], y], 1),
                x.repeat(2, 1), x.t().reshape(-1), y.expand(2, 2, 3), x.chunk(3)[1],
                lib.where(x > 0.5, x, x * 2), x.masked_fill(x < 0, 0.25),
                x.flatten(), x.unsqueeze(1).squeeze(), x.permute(1, 0)]
        total = 0
        for k, o in enumerate(outs):
            total = total + (o * (k + 1)).sum()
        total.backward()
        return [o.detach().numpy() for o in outs], x.grad, y.grad

    def jg_tensor(v):
        return jg.from_numpy(v.copy()).requires_grad_()

    def torch_tensor(v):
        return torch.tensor(v, requires_grad=True)

    got = run(jg, jg_tensor)
    want = run(torch, torch_tensor)
    for g, w in zip(got[0], want[0]):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1].numpy(), rtol=1e-12)
    np.testing.assert_allclose(got[2], want[2].numpy(), rtol=1e-12)
