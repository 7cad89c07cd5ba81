"""Tensor creation and the random state (``manual_seed`` makes every random draw reproducible)."""
import numpy as np

from ._dtypes import as_dtype, float32, int64
from ._tensor import Tensor, _make

_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed jitgrad's generator (random tensors, default initialisation, dropout masks)."""
    global _rng
    _rng = np.random.default_rng(int(seed))


def generator():
    """The NumPy Generator behind every jitgrad random draw."""
    return _rng


def _finish(arr, requires_grad):
    t = _make(arr, False, None, 0)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"size must be non-negative integers, got {size}")
    return tuple(int(s) for s in size)


def _dtype(dtype, default=float32):
    return default if dtype is None else as_dtype(dtype)


def tensor(data, dtype=None, requires_grad=False):
    """Copy `data` into a new leaf tensor; Python floats become float32, ints int64."""
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None):
    if isinstance(data, Tensor) and (dtype is None or data.data.dtype == as_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == as_dtype(dtype)):
        return _make(data, False, None, 0)
    return tensor(data, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with `array`."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    return _make(array, False, None, 0)


def zeros(*size, dtype=None, requires_grad=False):
    return _finish(np.zeros(_size(size), _dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _finish(np.ones(_size(size), _dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _finish(np.empty(_size(size), _dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, bool) else
                 int64 if isinstance(fill_value, (int, np.integer)) else float32)
    return _finish(np.full(_size((size,) if isinstance(size, int) else (size,)), fill_value,
                           as_dtype(dtype)), requires_grad)


def zeros_like(input, dtype=None, requires_grad=False):
    return _finish(np.zeros(input.shape, _dtype(dtype, input.dtype)), requires_grad)


def ones_like(input, dtype=None, requires_grad=False):
    return _finish(np.ones(input.shape, _dtype(dtype, input.dtype)), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False):
    return _finish(np.full(input.shape, fill_value, _dtype(dtype, input.dtype)), requires_grad)


def empty_like(input, dtype=None, requires_grad=False):
    return _finish(np.empty(input.shape, _dtype(dtype, input.dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if ints else float32
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    return _finish(np.arange(start, end, step).astype(as_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _finish(np.linspace(start, end, int(steps)).astype(_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=_dtype(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad=False):
    d = _dtype(dtype)
    return _finish(_rng.random(_size(size), dtype=d), requires_grad)


def randn(*size, dtype=None, requires_grad=False):
    d = _dtype(dtype)
    return _finish(_rng.standard_normal(_size(size), dtype=d), requires_grad)


def randint(low, high=None, size=None, dtype=None):
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing required argument 'size'")
    size = _size((size,) if isinstance(size, int) else tuple(size))
    return _finish(_rng.integers(low, high, size).astype(_dtype(dtype, int64)), False)


def randperm(n, dtype=None):
    return _finish(_rng.permutation(n).astype(_dtype(dtype, int64)), False)
