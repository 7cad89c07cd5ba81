"""Dtypes: jitgrad.float32 / float64 / int64 / bool are NumPy dtypes; promotion as PyTorch."""
import numpy as np

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
int32 = np.dtype(np.int32)
bool_ = np.dtype(np.bool_)

uint8 = np.dtype(np.uint8)

_SUPPORTED = {float32, float64, int64, int32, bool_, uint8}
_SUPPORTED_TEXT = "bool, uint8, int32, int64, float32, float64"


def as_dtype(dtype):
    """Normalise a dtype-like (jitgrad/NumPy dtype, Python type, name) to a NumPy dtype."""
    if dtype is bool:
        return bool_
    if dtype is int:
        return int64
    if dtype is float:
        return float32
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unsupported dtype {dtype!r}") from None
    if d not in _SUPPORTED:
        raise TypeError(f"unsupported dtype {d} (supported: {_SUPPORTED_TEXT})")
    return d


def admit(arr, op):
    """`arr` as an array of a supported dtype in native byte order: the door every array
    passes into a Tensor. bool, uint8, int32, int64, float32, float64 stay; int8, int16,
    uint16 and uint32 widen to int64 (exactly); big-endian data is converted to native order;
    float16, uint64, complex, object, str, bytes, datetime and timedelta raise TypeError."""
    d = arr.dtype
    if d in _SUPPORTED:
        return arr
    native = d if d.isnative else d.newbyteorder("=")
    if native in _SUPPORTED:
        return arr.astype(native)
    if native.kind in "iu" and native.itemsize < 8:
        return arr.astype(int64)
    raise TypeError(f"{op}: unsupported dtype {d} (supported: {_SUPPORTED_TEXT}; other integer "
                    f"widths below 64 bits widen to int64; convert float16 with "
                    f".astype(np.float32))")


def check_grad_dtype(dtype):
    if dtype.kind != "f":
        raise RuntimeError(f"only Tensors of floating point dtype can require gradients "
                           f"(got {dtype})")


def result_type(a, b):
    """PyTorch promotion for a binary op between arrays and/or Python scalars: a Python scalar
    never upcasts a tensor of its own kind; float beats int beats bool; float32+float64 -> float64."""
    ta = type(a) is np.ndarray
    tb = type(b) is np.ndarray
    if ta and tb:
        da, db = a.dtype, b.dtype
        if da is db or da == db:
            return da
        if da.kind == db.kind or (da.kind in "fiub" and db.kind in "fiub"
                                  and _rank(da) == _rank(db)):
            return np.promote_types(da, db)
        return da if _rank(da) > _rank(db) else db
    if ta or tb:
        arr, s = (a, b) if ta else (b, a)
        d = arr.dtype
        if _rank_py(s) > _rank(d):
            return float32 if _rank_py(s) == 2 else int64
        return d
    r = max(_rank_py(a), _rank_py(b))
    return float32 if r == 2 else (int64 if r == 1 else bool_)


def _rank(d):
    return 2 if d.kind == "f" else (1 if d.kind in "iu" else 0)


def _rank_py(s):
    if isinstance(s, (bool, np.bool_)):
        return 0
    if isinstance(s, (int, np.integer)):
        return 1
    return 2
