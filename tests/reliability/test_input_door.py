"""Inputs are validated at the door (issue 12): dtypes, byte order, sizes, integer powers,
read-only arrays, NaN through max(), log_softmax at huge magnitudes."""
import numpy as np
import pytest

import jitgrad as jg
import jitgrad.nn.functional as F

UNSUPPORTED = [np.float16, np.uint64, np.complex64, np.complex128, object, "U3", "S3",
               "datetime64[s]", "timedelta64[s]"]


@pytest.mark.parametrize("dtype", UNSUPPORTED, ids=str)
@pytest.mark.parametrize("door", [jg.tensor, jg.from_numpy, jg.as_tensor, jg.nn.Parameter])
def test_unsupported_dtypes_raise_type_error(door, dtype):
    a = np.zeros(3, dtype)
    with pytest.raises(TypeError, match="unsupported dtype"):
        door(a)


def test_complex_no_longer_truncates():
    with pytest.raises(TypeError):
        jg.from_numpy(np.ones(3, complex)) * 2
    with pytest.raises(TypeError):
        jg.tensor([1j, 2])
    with pytest.raises(TypeError):
        jg.tensor("abc")


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int32, np.int64, np.float32,
                                   np.float64])
def test_supported_dtypes_kept_and_from_numpy_shares(dtype):
    a = np.ones(3, dtype)
    t = jg.from_numpy(a)
    assert t.dtype == a.dtype and np.shares_memory(t.numpy(), a)
    assert jg.tensor(a).dtype == a.dtype


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.uint16, np.uint32])
def test_narrow_integers_widen_to_int64_exactly(dtype):
    a = np.array([np.iinfo(dtype).min, 0, np.iinfo(dtype).max], dtype)
    for door in (jg.tensor, jg.from_numpy):
        t = door(a)
        assert t.dtype == np.int64
        assert t.tolist() == a.tolist()


@pytest.mark.parametrize("dtype", [">f4", ">f8", ">i4", ">i8", ">i2"])
def test_big_endian_becomes_native_and_kernels_run(dtype):
    a = np.arange(6, dtype=dtype).reshape(2, 3)
    for door in (jg.tensor, jg.from_numpy, jg.as_tensor):
        t = door(a)
        assert t.dtype.isnative
        np.testing.assert_array_equal((t * 2 + 1).sum(0).numpy(), (a * 2 + 1).sum(0))
    x = jg.from_numpy(np.linspace(-1, 1, 6, dtype=">f8").reshape(2, 3))
    x.requires_grad_()
    F.softmax(x, dim=1).sum().backward()
    assert x.grad.shape == (2, 3)


def test_explicit_narrow_dtype_refused():
    with pytest.raises(TypeError, match="unsupported dtype int8"):
        jg.zeros(3, dtype=np.int8)


def test_integer_negative_power_raises():
    with pytest.raises(RuntimeError, match="negative integer powers"):
        jg.tensor([2, 3]) ** -1
    with pytest.raises(RuntimeError, match="negative integer powers"):
        jg.tensor([2, 3]) ** jg.tensor([1, -1])
    with pytest.raises(RuntimeError, match="negative integer powers"):
        2 ** jg.tensor([1, -2])
    assert (jg.tensor([2, 3]) ** 2).tolist() == [4, 9]
    np.testing.assert_allclose((jg.tensor([2.0, 4.0]) ** -1).numpy(), [0.5, 0.25])
    assert (jg.tensor([2, 4]) ** -1.0).dtype == np.float32


def test_creation_sizes_as_torch():
    with pytest.raises(ValueError, match="randperm"):
        jg.randperm(-1)
    with pytest.raises(TypeError, match="ints"):
        jg.zeros(True)
    with pytest.raises(TypeError):
        jg.ones(2, False)
    assert jg.randperm(0).shape == (0,)
    assert sorted(jg.randperm(5).tolist()) == list(range(5))


def _readonly(a):
    a.setflags(write=False)
    return a


@pytest.mark.parametrize("op", [lambda t: t.add_(1), lambda t: t.mul_(2.0),
                                lambda t: t.__iadd__(jg.ones(3)), lambda t: t.zero_(),
                                lambda t: t.fill_(3), lambda t: t.copy_(jg.ones(3)),
                                lambda t: t.__setitem__(0, 5.0),
                                lambda t: jg.nn.init.normal_(t)])
def test_readonly_array_inplace_gives_clear_error(op):
    a = _readonly(np.arange(3.0, dtype=np.float32))
    t = jg.from_numpy(a)
    with pytest.raises(ValueError, match="read-only"):
        op(t)
    np.testing.assert_array_equal(a, [0, 1, 2])
    assert (t + 1).tolist() == [1, 2, 3]  # out-of-place ops are fine
    t.clone().add_(1)


def test_global_max_min_route_gradient_to_nan():
    for fn in (jg.max, jg.min):
        x = jg.tensor([[1.0, float("nan"), 3.0, float("nan")]], requires_grad=True)
        y = fn(x)
        assert np.isnan(y.item())
        y.backward()
        np.testing.assert_array_equal(x.grad, [[0, 0.5, 0, 0.5]])
    x = jg.tensor([1.0, 3.0, 3.0], requires_grad=True)  # ties still share evenly
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0, 0.5, 0.5])
    x = jg.tensor([[1.0, float("nan")], [2.0, 5.0]], requires_grad=True)
    x.max(dim=1)[0].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1], [0, 1]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_exact_at_huge_magnitudes(dtype):
    x = jg.tensor(np.array([[1e30, 1e30, -1e30]], dtype))
    out = F.log_softmax(x, dim=1).numpy()
    np.testing.assert_allclose(out[0, :2], -np.log(2.0), rtol=1e-6)
    assert out[0, 2] == -2e30 or np.isclose(out[0, 2], dtype(-2e30), rtol=1e-6)
    y = F.log_softmax(jg.tensor(np.array([[3.0, 1e30]], dtype)), dim=1).numpy()
    assert y[0, 1] == 0.0


def test_pad_cannot_crop_past_the_end():
    """Found by the property suite: torch crops first and raises; jitgrad made up a size."""
    with pytest.raises(ValueError, match="crops"):
        F.pad(jg.zeros(1, 4), (1, 2, 1, -2))
    with pytest.raises(ValueError, match="crops"):
        F.pad(jg.zeros(3, 0), (-1, 2))
    assert F.pad(jg.zeros(3, 4), (-1, 2, 1, -2)).shape == (2, 5)
