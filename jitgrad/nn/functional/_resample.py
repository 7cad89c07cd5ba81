"""Resampling: interpolate (nearest, nearest-exact, linear, bilinear, trilinear) and the
reflect / replicate / circular modes of pad.

Each is one ``Resample`` node: one pass of ``kernels/resample.py`` per resampled axis, whose
index maps (two source positions and a weight per output position) are plain NumPy
bookkeeping computed here with PyTorch's formulas (``area_pixel_compute_source_index``,
``nearest_idx``): bilinear is linear along H then along W, which is the same weighted sum of
the four neighbours. Backward runs the passes in reverse, scatter-adding.
"""
import functools
import math

import numpy as np

from ... import _check
from ...autograd.function import Function
from ...kernels import resample as K
from ..._ops.util import contiguous

__all__ = ["interpolate"]

_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


class Resample(Function):
    """y = the passes of `plans` (axis, i0, i1, lam) applied in order to x."""

    @staticmethod
    def forward(ctx, x, plans, op):
        x = _check.float_array(op, "input", x)
        shapes = []
        for axis, i0, i1, lam in plans:
            shape = x.shape
            outer, inner = int(np.prod(shape[:axis])), int(np.prod(shape[axis + 1:]))
            y = np.empty(shape[:axis] + (i0.size,) + shape[axis + 1:], x.dtype)
            K.lerp_axis_forward(x.reshape(-1), outer, shape[axis], inner, i0, i1, lam,
                                y.reshape(-1))
            shapes.append(shape)
            x = y
        ctx.plans, ctx.shapes, ctx.op = plans, shapes, op
        return x

    @staticmethod
    def backward(ctx, g):
        g = contiguous(g)
        for (axis, i0, i1, lam), shape in zip(reversed(ctx.plans), reversed(ctx.shapes)):
            gx = np.zeros(shape, g.dtype)
            outer, inner = int(np.prod(shape[:axis])), int(np.prod(shape[axis + 1:]))
            K.lerp_axis_backward(g.reshape(-1), outer, shape[axis], inner, i0, i1, lam,
                                 gx.reshape(-1))
            g = gx
        return g, None, None

    @classmethod
    def name_of(cls, ctx):
        return ctx.op


def _copy_plan(axis, src):
    i0 = np.ascontiguousarray(src, np.int64)
    return axis, i0, i0, np.zeros(i0.size, np.float64)


@functools.lru_cache(maxsize=512)  # plans are read-only; a model resizes a few shapes
def _nearest_plan(axis, n_in, n_out, scale, exact):
    """PyTorch's nearest_idx: floor(j * s) (nearest) or floor((j + 0.5) * s) (nearest-exact),
    s = 1 / scale_factor if given else n_in / n_out, in float32 as PyTorch computes it."""
    s = np.float32(1.0 / scale if scale else n_in / n_out)
    j = np.arange(n_out, dtype=np.float32)
    src = np.floor((j + np.float32(0.5)) * s if exact else j * s).astype(np.int64)
    return _copy_plan(axis, np.minimum(src, n_in - 1))


@functools.lru_cache(maxsize=512)
def _linear_plan(axis, n_in, n_out, scale, align_corners, dtype):
    """PyTorch's area_pixel_compute_source_index, in the input's precision."""
    if align_corners:
        s = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        s = 1.0 / scale if scale else n_in / n_out
    s = dtype.type(s)
    j = np.arange(n_out, dtype=dtype)
    src = s * j if align_corners else np.maximum(s * (j + dtype.type(0.5)) - dtype.type(0.5),
                                                 dtype.type(0))
    i0 = np.minimum(src.astype(np.int64), n_in - 1)
    i1 = np.where(i0 < n_in - 1, i0 + 1, i0)
    lam = np.clip(src - i0.astype(dtype), 0, 1).astype(np.float64)
    return axis, i0, np.ascontiguousarray(i1), lam


@functools.lru_cache(maxsize=512)
def _pad_plan(axis, n, lo, hi, mode):
    """Source index of every padded position (reflect / replicate / circular, as PyTorch)."""
    if mode == "reflect":
        src = np.abs(np.arange(n + lo + hi) - lo)
        src = np.where(src >= n, 2 * (n - 1) - src, src)
    elif mode == "replicate":
        src = np.clip(np.arange(n + lo + hi) - lo, 0, n - 1)
    else:  # circular wraps what negative pads keep, [c0, c1)
        c0, c1 = max(-lo, 0), n - max(-hi, 0)
        src = c0 + (np.arange(n + lo + hi) - max(lo, 0)) % (c1 - c0)
    return _copy_plan(axis, src)


def _is_identity(plan, n_in):
    _, i0, _, lam = plan
    return i0.size == n_in and not lam.any() and np.array_equal(i0, np.arange(n_in))


def _spatial(name, value, dims, kind):
    """`value` (a number or a sequence of `dims` numbers) as a tuple of `dims`."""
    if isinstance(value, (list, tuple)):
        if len(value) != dims:
            raise ValueError(f"interpolate(): Input and {name} must have the same number of "
                             f"spatial dimensions, but got input with spatial dimensions of "
                             f"{dims} and {name} of length {len(value)}")
        return tuple(kind(v) for v in value)
    return (kind(value),) * dims


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *spatial) to `size` or by `scale_factor`: 'nearest',
    'nearest-exact' (1-3 spatial dims), 'linear' (3-D input), 'bilinear' (4-D), 'trilinear'
    (5-D), with PyTorch's index and weight formulas (torch.nn.functional.interpolate)."""
    _check.tensor("interpolate", "input", input)
    dims = input.ndim - 2
    if mode in ("bicubic", "area") or antialias:
        raise NotImplementedError(f"interpolate(): mode={mode!r}"
                                  f"{' with antialias=True' if antialias else ''} is not "
                                  f"provided (nearest, nearest-exact, linear, bilinear, "
                                  f"trilinear are)")
    if mode not in ("nearest", "nearest-exact") and mode not in _LINEAR_DIMS:
        raise ValueError(f"interpolate(): argument 'mode' expected one of 'nearest', "
                         f"'nearest-exact', 'linear', 'bilinear', 'trilinear', got {mode!r}")
    if not 1 <= dims <= 3:
        raise ValueError(f"interpolate(): Input Error: Only 3D, 4D and 5D input Tensors "
                         f"supported (got {input.ndim}D) for the modes: nearest | linear | "
                         f"bilinear | trilinear (got {mode})")
    if mode in _LINEAR_DIMS and _LINEAR_DIMS[mode] != dims:
        raise ValueError(f"interpolate(): Got {input.ndim}D input, but {mode} mode needs "
                         f"{_LINEAR_DIMS[mode] + 2}D input")
    if align_corners is not None and mode not in _LINEAR_DIMS:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None
                         else "either size or scale_factor should be defined")
    n_in = input.shape[2:]
    if size is not None:
        n_out = _spatial("size", size, dims, int)
        scales = (None,) * dims
    else:
        scales = _spatial("scale_factor", scale_factor, dims, float)
        n_out = tuple(int(math.floor(n * s)) for n, s in zip(n_in, scales))
        if recompute_scale_factor:
            scales = (None,) * dims
    if any(n <= 0 for n in n_out):
        raise ValueError(f"interpolate(): output size {n_out} must be positive (input spatial "
                         f"size {tuple(n_in)})")
    if any(n == 0 for n in n_in):
        raise ValueError(f"interpolate(): input spatial size {tuple(n_in)} must be non-empty")
    plans = []
    for k in range(dims):
        if mode in _LINEAR_DIMS:
            plan = _linear_plan(2 + k, n_in[k], n_out[k], scales[k], bool(align_corners),
                                np.dtype(input.dtype) if input.dtype.kind == "f"
                                else np.dtype(np.float32))
        else:
            plan = _nearest_plan(2 + k, n_in[k], n_out[k], scales[k], mode == "nearest-exact")
        if not _is_identity(plan, n_in[k]):
            plans.append(plan)
    op = ("upsample_" + (mode.replace("-", "_") if mode in ("nearest", "nearest-exact")
                         else mode) + f"{dims}d")
    return Resample.apply(input, plans, op)


_PAD_NAMES = {"reflect": "reflection_pad", "replicate": "replication_pad",
              "circular": "circular_pad"}


def pad_index_modes(input, pad, mode):
    """pad() for mode 'reflect', 'replicate' or 'circular' (pad already validated as ints)."""
    if mode not in _PAD_NAMES:
        raise NotImplementedError(f"pad(): argument 'mode' expected 'constant', 'reflect', "
                                  f"'replicate' or 'circular', got {mode!r}")
    k = len(pad) // 2
    if not 1 <= k <= 3 or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"pad(): Padding size {len(pad)} is not supported for "
                                  f"{input.ndim}D input tensor (mode={mode!r} pads the last "
                                  f"1, 2 or 3 dims of a batched or unbatched input: padding "
                                  f"of length {len(pad)} needs a {k + 1}-D or {k + 2}-D input)")
    plans = []
    for i in range(k):
        d = input.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = input.shape[d]
        if n + lo + hi <= 0:
            raise ValueError(f"pad(): padding {(lo, hi)} gives a non-positive size "
                             f"{n + lo + hi} for dimension {d} of size {n}")
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(f"pad(): Padding size should be less than the corresponding input "
                             f"dimension, but got: padding ({lo}, {hi}) at dimension {d} of "
                             f"input {list(input.shape)}")
        kept = n - max(-lo, 0) - max(-hi, 0)  # circular wraps what negative pads keep
        if mode == "circular" and (lo > kept or hi > kept or kept <= 0):
            raise ValueError(f"pad(): Padding value causes wrapping around more than once "
                             f"(padding ({lo}, {hi}) at dimension {d} of size {n})")
        if mode == "replicate" and n == 0:
            raise ValueError(f"pad(): cannot replicate an empty dimension {d}")
        plans.append(_pad_plan(d, n, lo, hi, mode))
    return Resample.apply(input, plans[::-1], f"{_PAD_NAMES[mode]}{k}d")
