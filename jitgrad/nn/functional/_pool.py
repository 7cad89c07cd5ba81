"""Pooling: max_pool1d/2d, avg_pool1d/2d, adaptive_avg_pool2d, adaptive_max_pool2d, and
dropout2d (channel-wise dropout).

Each pool is one Function over (N*C, H, W) planes (1-D pools as H = 1; unbatched inputs as
N = 1). The windows are described per output row and column (first index, tap count), computed
here from PyTorch's formulas, so one kernel per role serves fixed and adaptive windows.
"""
import numpy as np

from ... import _check
from ..._random import numpy_rng
from ..._tensor import _make
from ...autograd.function import Function
from ...kernels import pool as K

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d",
           "adaptive_max_pool2d", "dropout2d"]


def _tuple(op, name, v, nsp, minimum):
    if isinstance(v, (list, tuple)):
        if len(v) not in (1, nsp):
            raise ValueError(f"{op}(): argument '{name}' expected an int or {nsp} ints, got "
                             f"{tuple(v)}")
        v = tuple(v) * (nsp // len(v))
        return tuple(_check.integer(op, name, e, minimum) for e in v)
    return (_check.integer(op, name, v, minimum),) * nsp


def _out_size(op, n, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape."""
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    o = num // s + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def _planes(op, x, nsp):
    """x as C-contiguous (P, H, W) planes, and the leading shape to restore."""
    x = _check.float_array(op, "input", x)
    _check.ndim(op, "input", x, (nsp + 1, nsp + 2))
    lead = x.shape[:-nsp]
    H, W = (x.shape[-2], x.shape[-1]) if nsp == 2 else (1, x.shape[-1])
    if H == 0 or W == 0:
        raise ValueError(f"{op}(): argument 'input' expected non-empty spatial dimensions, "
                         f"got shape {tuple(x.shape)}")
    return x.reshape(-1, H, W), lead


def _fixed(op, x, nsp, kernel_size, stride, padding, dilation, ceil_mode):
    """Per-dimension (kernel, stride, padding, dilation, output size) of a fixed-window pool,
    as 2-D tuples (1-D pools get a leading height-1 dimension), after the geometry checks."""
    k = _tuple(op, "kernel_size", kernel_size, nsp, 1)
    no_stride = stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)
    s = k if no_stride else _tuple(op, "stride", stride, nsp, 1)
    p = _tuple(op, "padding", padding, nsp, 0)
    d = _tuple(op, "dilation", dilation, nsp, 1)
    if any(pi > ki // 2 for ki, pi in zip(k, p)):
        raise ValueError(f"{op}(): argument 'padding' expected at most half the kernel size "
                         f"{k}, got {p}")
    sizes = x.shape[-nsp:] if x.ndim >= nsp else ()
    outs = tuple(_out_size(op, n, *a, ceil_mode) for n, a in zip(sizes, zip(k, s, p, d)))
    if any(o < 1 for o in outs):
        raise ValueError(f"{op}(): argument 'input' of shape {tuple(x.shape)} is too small for "
                         f"kernel_size={k}, stride={s}, padding={p}, dilation={d}: the output "
                         f"size would be {outs}")
    if nsp == 1:
        return (1,) + k, (1,) + s, (0,) + p, (1,) + d, (1,) + outs
    return k, s, p, d, outs


def _adaptive(op, x, nsp, output_size):
    """(hs, hn, ws, wn): PyTorch's adaptive windows, start = floor(i*In/Out),
    end = ceil((i+1)*In/Out)."""
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nsp:
            raise ValueError(f"{op}(): argument 'output_size' expected an int or {nsp} ints, "
                             f"got {tuple(output_size)}")
    else:
        output_size = (output_size,) * nsp
    sizes = x.shape[-nsp:]
    outs = tuple(n if o is None else _check.integer(op, "output_size", o, 1)
                 for n, o in zip(sizes, output_size))
    win = []
    for n, o in zip(((1,) if nsp == 1 else ()) + tuple(sizes),
                    ((1,) if nsp == 1 else ()) + outs):
        i = np.arange(o, dtype=np.int64)
        start = (i * n) // o
        end = ((i + 1) * n + o - 1) // o
        win += [start, end - start]
    return win


def _planes(op, x, nsp):
    """x as C-contiguous (P, H, W) planes (1-D: H = 1), and the shape before the spatial dims."""
    x = _check.float_array(op, "input", x)
    _check.ndim(op, "input", x, (nsp + 1, nsp + 2))
    if 0 in x.shape:
        raise ValueError(f"{op}(): argument 'input' expected a non-empty tensor, got shape "
                         f"{tuple(x.shape)}")
    H, W = (x.shape[-2], x.shape[-1]) if nsp == 2 else (1, x.shape[-1])
    return x.reshape(-1, H, W), x.shape[:-nsp]


class MaxPool(Function):
    """out = max over each window (taps outside the input ignored); the argmax (flat index
    into the input plane) is saved for backward and returned when asked."""

    @staticmethod
    def forward(ctx, x, hs, hn, dh, ws, wn, dw, nsp, return_indices, op, is2x2=False):
        planes, lead = _planes(op, x, nsp)
        P, Ho, Wo = planes.shape[0], hs.size, ws.size
        out = np.empty((P, Ho, Wo), planes.dtype)
        idx = np.empty((P, Ho, Wo), np.int64)
        if is2x2:  # 2x2 windows at stride 2 inside the input: the unrolled kernel
            K.max_pool2x2_forward(planes, out, idx)
        else:
            K.max_pool_forward(planes, hs, hn, dh, ws, wn, dw, out, idx)
        ctx.save_for_backward(idx)
        ctx.in_shape = x.shape
        shape = lead + ((Ho, Wo) if nsp == 2 else (Wo,))
        out = out.reshape(shape)
        if not return_indices:
            return out
        idx = idx.reshape(shape)
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    def backward(ctx, g, *_):
        (idx,) = ctx.saved_tensors
        P = idx.shape[0]
        g = _check.float_array("max_pool", "grad", g)
        gx = np.empty(ctx.in_shape, g.dtype)
        K.max_pool_backward(g.reshape(P, -1), idx.reshape(P, -1), gx.reshape(P, -1))
        return (gx,) + (None,) * 10

    @classmethod
    def name_of(cls, ctx):
        return "max_pool"


class AvgPool(Function):
    """out = scale * sum over each (clamped) window; backward spreads g * scale back."""

    @staticmethod
    def forward(ctx, x, hs, hn, ws, wn, scale, nsp, op):
        planes, lead = _planes(op, x, nsp)
        P, Ho, Wo = planes.shape[0], hs.size, ws.size
        scale = scale.astype(planes.dtype)
        out = np.empty((P, Ho, Wo), planes.dtype)
        K.avg_pool_forward(planes, hs, hn, ws, wn, scale, out)
        ctx.win = (hs, hn, ws, wn, scale)
        ctx.in_shape = (P,) + planes.shape[1:]
        ctx.x_shape = x.shape
        return out.reshape(lead + ((Ho, Wo) if nsp == 2 else (Wo,)))

    @staticmethod
    def backward(ctx, g):
        hs, hn, ws, wn, scale = ctx.win
        g = _check.float_array("avg_pool", "grad", g)
        gx = np.empty(ctx.in_shape, g.dtype)
        K.avg_pool_backward(g.reshape(ctx.in_shape[0], hs.size, ws.size), hs, hn, ws, wn,
                            scale.astype(g.dtype, copy=False), gx)
        return (gx.reshape(ctx.x_shape),) + (None,) * 7

    @classmethod
    def name_of(cls, ctx):
        return "avg_pool"


# ----------------------------------------------------------------------------- public
def _max_pool(op, nsp, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    _check.tensor(op, "input", input)
    _check.ndim(op, "input", input, (nsp + 1, nsp + 2))
    k, s, p, d, outs = _fixed(op, input, nsp, kernel_size, stride, padding, dilation,
                              ceil_mode)
    hs = np.arange(outs[0], dtype=np.int64) * s[0] - p[0]
    ws = np.arange(outs[1], dtype=np.int64) * s[1] - p[1]
    hn = np.full(outs[0], k[0], np.int64)
    wn = np.full(outs[1], k[1], np.int64)
    sizes = input.shape[-2:] if nsp == 2 else (1, input.shape[-1])
    is2x2 = (k == (2, 2) and s == (2, 2) and p == (0, 0) and d == (1, 1)
             and 2 * outs[0] <= sizes[0] and 2 * outs[1] <= sizes[1])
    return MaxPool.apply(input, hs, hn, d[0], ws, wn, d[1], nsp, bool(return_indices), op,
                         is2x2)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling of (N, C, H, W) or (C, H, W) input (torch.nn.functional.max_pool2d);
    stride defaults to kernel_size; with return_indices also the flat argmax per plane."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling of (N, C, L) or (C, L) input (torch.nn.functional.max_pool1d)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def _avg_windows(n, k, s, p, o, count_include_pad):
    """Clamped starts/counts of avg windows along one dim, and the divisor factor."""
    start = np.arange(o, dtype=np.int64) * s - p
    end = np.minimum(start + k, n + p)
    size = end - start
    start, end = np.maximum(start, 0), np.minimum(end, n)
    count = np.maximum(end - start, 0)
    return start, count, (size if count_include_pad else count)


def _avg_pool(op, nsp, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    _check.tensor(op, "input", input)
    _check.ndim(op, "input", input, (nsp + 1, nsp + 2))
    k, s, p, _, outs = _fixed(op, input, nsp, kernel_size, stride, padding, 1, ceil_mode)
    sizes = ((1,) if nsp == 1 else ()) + tuple(input.shape[-nsp:])
    hs, hn, hd = _avg_windows(sizes[0], k[0], s[0], p[0], outs[0], count_include_pad)
    ws, wn, wd = _avg_windows(sizes[1], k[1], s[1], p[1], outs[1], count_include_pad)
    if divisor_override is not None:
        div = np.full((outs[0], outs[1]), _check.integer(op, "divisor_override",
                                                          divisor_override, 1), np.float64)
    else:
        div = np.outer(hd, wd).astype(np.float64)
    empty = np.outer(hn, wn) == 0
    scale = np.where(empty, 0.0, 1.0 / np.where(div == 0, 1.0, div))
    return AvgPool.apply(input, hs, hn, ws, wn, scale, nsp, op)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling (torch.nn.functional.avg_pool2d); stride defaults to kernel_size."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling (torch.nn.functional.avg_pool1d)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def adaptive_avg_pool2d(input, output_size):
    """Average over PyTorch's adaptive windows so the output is output_size (an int, or a
    pair whose None entries keep the input size) (torch.nn.functional.adaptive_avg_pool2d)."""
    op = "adaptive_avg_pool2d"
    _check.tensor(op, "input", input)
    _check.ndim(op, "input", input, (3, 4))
    hs, hn, ws, wn = _adaptive(op, input, 2, output_size)
    scale = 1.0 / np.outer(hn, wn).astype(np.float64)
    return AvgPool.apply(input, hs, hn, ws, wn, scale, 2, op)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows (torch.nn.functional.adaptive_max_pool2d)."""
    op = "adaptive_max_pool2d"
    _check.tensor(op, "input", input)
    _check.ndim(op, "input", input, (3, 4))
    hs, hn, ws, wn = _adaptive(op, input, 2, output_size)
    return MaxPool.apply(input, hs, hn, 1, ws, wn, 1, 2, bool(return_indices), op, False)


# ----------------------------------------------------------------------------- dropout2d
def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels with probability p and scale the rest by 1/(1-p); input (N, C, H, W)
    or (C, H, W) (torch.nn.functional.dropout2d). Identity when not training."""
    op = "dropout2d"
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    _check.tensor(op, "input", input)
    _check.ndim(op, "input", input, (3, 4))
    if not training:
        return input
    shape = input.shape[:-2] + (1, 1)
    keep = numpy_rng().random(shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = _make((keep * scale).astype(input.dtype), False, None, 0)
    if inplace:
        return input.mul_(mask)
    return input * mask
