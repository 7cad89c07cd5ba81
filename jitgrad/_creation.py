"""Tensor creation. Random draws come from a ``jitgrad.Generator`` (``generator=``, else the
default one that ``manual_seed`` seeds); ``device=`` accepts the CPU only."""
import numpy as np

from . import _check
from ._device import check_device
from ._dtypes import admit, as_dtype, float32, int64
from ._random import numpy_rng
from ._tensor import Tensor, _make


def _finish(arr, requires_grad):
    t = _make(arr, False, None, 0)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"size must be a tuple of ints, got {size!r} (an element of type "
                            f"{type(s).__name__})")
        if s < 0:
            raise ValueError(f"size must be non-negative integers, got {size}")
    return tuple(int(s) for s in size)


def _size_kw(op, size, kwargs):
    """The size given as varargs, or as the keyword ``size=`` (torch.empty(size=(2, 3)))."""
    if kwargs:
        if set(kwargs) != {"size"}:
            raise TypeError(f"{op}() got an unexpected keyword argument "
                            f"{sorted(set(kwargs) - {'size'})[0]!r}")
        if size:
            raise TypeError(f"{op}(): size given both positionally and as 'size='")
        size = kwargs["size"]
        return (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return size


def _dtype(dtype, default=float32):
    return default if dtype is None else as_dtype(dtype)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """Copy `data` into a new leaf tensor; Python floats become float32, ints int64."""
    check_device("tensor", device)
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    check_device("as_tensor", device)
    if isinstance(data, Tensor) and (dtype is None or data.data.dtype == as_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == as_dtype(dtype)):
        return _make(admit(data, "as_tensor()"), False, None, 0)
    return tensor(data, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with `array` when its dtype is supported and native-endian;
    otherwise a converted copy (big-endian to native; int8/int16/uint16/uint32 to int64), and
    float16, uint64, complex, object, str and datetime raise TypeError (see ``_dtypes.admit``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    return _make(admit(array, "from_numpy()"), False, None, 0)


def zeros(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    check_device("zeros", device)
    return _finish(np.zeros(_size(_size_kw("zeros", size, kwargs)), _dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    check_device("ones", device)
    return _finish(np.ones(_size(_size_kw("ones", size, kwargs)), _dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **kwargs):
    check_device("empty", device)
    return _finish(np.empty(_size(_size_kw("empty", size, kwargs)), _dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    check_device("full", device)
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, bool) else
                 int64 if isinstance(fill_value, (int, np.integer)) else float32)
    return _finish(np.full(_size((size,) if isinstance(size, int) else (size,)), fill_value,
                           as_dtype(dtype)), requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    check_device("zeros_like", device)
    return _finish(np.zeros(input.shape, _dtype(dtype, input.dtype)), requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    check_device("ones_like", device)
    return _finish(np.ones(input.shape, _dtype(dtype, input.dtype)), requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    check_device("full_like", device)
    return _finish(np.full(input.shape, fill_value, _dtype(dtype, input.dtype)), requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    check_device("empty_like", device)
    return _finish(np.empty(input.shape, _dtype(dtype, input.dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    check_device("arange", device)
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if ints else float32
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    return _finish(np.arange(start, end, step).astype(as_dtype(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    check_device("linspace", device)
    if dtype is not None and as_dtype(dtype) == np.bool_:
        raise TypeError("linspace(): argument 'dtype' expected a floating-point or integer "
                        "dtype, got bool (torch: \"linspace_cpu\" not implemented for 'Bool')")
    return _finish(np.linspace(start, end, int(steps)).astype(_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    check_device("eye", device)
    return _finish(np.eye(n, m, dtype=_dtype(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    check_device("rand", device)
    d = _dtype(dtype)
    return _finish(numpy_rng(generator).random(_size(size), dtype=d), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    check_device("randn", device)
    d = _dtype(dtype)
    return _finish(numpy_rng(generator).standard_normal(_size(size), dtype=d), requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None):
    check_device("randint", device)
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint: missing required argument 'size'")
    size = _size((size,) if isinstance(size, int) else tuple(size))
    return _finish(numpy_rng(generator).integers(low, high, size).astype(_dtype(dtype, int64)),
                   False)


def randperm(n, *, generator=None, dtype=None, device=None):
    check_device("randperm", device)
    n = _check.integer("randperm", "n", n, minimum=0)
    return _finish(numpy_rng(generator).permutation(n).astype(_dtype(dtype, int64)), False)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """`steps` values base ** linspace(start, end, steps)."""
    check_device("logspace", device)
    d = _dtype(dtype)
    if d == np.bool_:
        raise TypeError("logspace(): argument 'dtype' expected a floating-point or integer "
                        "dtype, got bool")
    steps = _check.integer("logspace", "steps", steps, minimum=0)
    return _finish(np.logspace(start, end, steps, base=base).astype(d), requires_grad)


def _tri_indices(op, row, col, offset, dtype, upper):
    row = _check.integer(op, "row", row, minimum=0)
    col = _check.integer(op, "col", col, minimum=0)
    offset = _check.integer(op, "offset", offset)
    d = _dtype(dtype, int64)
    if d.kind not in "iu":
        raise TypeError(f"{op}(): argument 'dtype' expected an integer dtype, got {d}")
    rows, cols = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    return _finish(np.stack([rows, cols]).astype(d).reshape(2, -1), False)


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row/column indices of the lower triangle of a row x col matrix."""
    check_device("tril_indices", device)
    return _tri_indices("tril_indices", row, col, offset, dtype, False)


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row/column indices of the upper triangle of a row x col matrix."""
    check_device("triu_indices", device)
    return _tri_indices("triu_indices", row, col, offset, dtype, True)
