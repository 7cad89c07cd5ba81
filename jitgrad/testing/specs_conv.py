"""Op table entries: convolutions and pooling, each with a slow, obvious NumPy reference
(explicit loops over output positions; windows clipped to the input)."""
import itertools

import numpy as np

import jitgrad.nn.functional as F

from .spec import Case, OpSpec


def _pairs(v, n):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n


def _conv_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation by definition, any number of spatial dims (1 or 2)."""
    n = w.ndim - 2
    unbatched = x.ndim == n + 1
    if unbatched:
        x = x[None]
    s, d = _pairs(stride, n), _pairs(dilation, n)
    k = w.shape[2:]
    if padding == "valid":
        lo = hi = (0,) * n
    elif padding == "same":
        tot = [di * (ki - 1) for di, ki in zip(d, k)]
        lo, hi = tuple(t // 2 for t in tot), tuple(t - t // 2 for t in tot)
    else:
        lo = hi = _pairs(padding, n)
    xp = np.pad(x, [(0, 0), (0, 0)] + list(zip(lo, hi)))
    N, C = x.shape[:2]
    O, Cg = w.shape[:2]
    Og = O // groups
    outs = [(xp.shape[2 + i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(n)]
    y = np.zeros((N, O) + tuple(outs))
    for o in range(O):
        g = o // Og
        for pos in itertools.product(*[range(m) for m in outs]):
            for kk in itertools.product(*[range(m) for m in k]):
                idx = tuple(p * si + ki * di for p, si, ki, di in zip(pos, s, kk, d))
                y[(slice(None), o) + pos] += xp[(slice(None), slice(g * Cg, (g + 1) * Cg)) +
                                                idx] @ w[(o, slice(None)) + kk]
    if b is not None:
        y += b.reshape((1, O) + (1,) * n)
    return y[0] if unbatched else y


def _conv_t_ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed conv by definition: scatter every input element through the kernel."""
    n = w.ndim - 2
    unbatched = x.ndim == n + 1
    if unbatched:
        x = x[None]
    s, p, op, d = (_pairs(v, n) for v in (stride, padding, output_padding, dilation))
    k = w.shape[2:]
    N, Cin = x.shape[:2]
    Cog = w.shape[1]
    Cin_g = Cin // groups
    full = [(x.shape[2 + i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 + op[i] for i in range(n)]
    y = np.zeros((N, Cog * groups) + tuple(full))
    for c in range(Cin):
        g = c // Cin_g
        for pos in itertools.product(*[range(m) for m in x.shape[2:]]):
            for kk in itertools.product(*[range(m) for m in k]):
                idx = tuple(q * si + ki * di for q, si, ki, di in zip(pos, s, kk, d))
                y[(slice(None), slice(g * Cog, (g + 1) * Cog)) + idx] += \
                    x[(slice(None), c) + pos][:, None] * w[(c, slice(None)) + kk]
    crop = tuple(slice(pi, f - pi) for pi, f in zip(p, full))
    y = y[(slice(None), slice(None)) + crop]
    if b is not None:
        y = y + b.reshape((1, -1) + (1,) * n)
    return y[0] if unbatched else y


def _out_len(n, k, s, p, d, ceil):
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)
    o = num // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def _pool_ref(x, n, kernel_size, stride, padding, dilation, ceil_mode, kind,
              count_include_pad=True, divisor_override=None, return_indices=False):
    k = _pairs(kernel_size, n)
    s = k if stride is None else _pairs(stride, n)
    p, d = _pairs(padding, n), _pairs(dilation, n)
    sp = x.shape[-n:]
    outs = [_out_len(sp[i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(n)]
    y = np.zeros(x.shape[:-n] + tuple(outs))
    ind = np.zeros(y.shape, np.int64)
    for pos in itertools.product(*[range(m) for m in outs]):
        taps = [[q * s[i] - p[i] + j * d[i] for j in range(k[i])] for i, q in enumerate(pos)]
        if kind == "max":
            best = np.full(x.shape[:-n], -np.inf)
            arg = np.zeros(x.shape[:-n], np.int64)
            for t in itertools.product(*taps):
                if all(0 <= t[i] < sp[i] for i in range(n)):
                    v = x[(Ellipsis,) + t]
                    flat = np.ravel_multi_index(t, sp)
                    take = (v > best) | np.isnan(v)
                    best = np.where(take, v, best)
                    arg = np.where(take, flat, arg)
            y[(Ellipsis,) + pos], ind[(Ellipsis,) + pos] = best, arg
        else:
            inside = [[t for t in tt if 0 <= t < sp[i]] for i, tt in enumerate(taps)]
            total = sum(x[(Ellipsis,) + t] for t in itertools.product(*inside))
            padded = np.prod([min(tt[-1] + 1, sp[i] + p[i]) - tt[0]
                              for i, tt in enumerate(taps)])
            cnt = divisor_override or (padded if count_include_pad else
                                       np.prod([len(t) for t in inside]))
            y[(Ellipsis,) + pos] = total / cnt
    return (y, ind) if return_indices else y


def _max_pool_ref(n):
    def ref(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
            return_indices=False):
        return _pool_ref(x, n, kernel_size, stride, padding, dilation, ceil_mode, "max",
                         return_indices=return_indices)
    return ref


def _avg_pool_ref(n):
    def ref(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
            divisor_override=None):
        return _pool_ref(x, n, kernel_size, stride, padding, 1, ceil_mode, "avg",
                         count_include_pad, divisor_override)
    return ref


def _adaptive_ref(kind):
    def ref(x, output_size, return_indices=False):
        o = _pairs(output_size, 2)
        H, W = x.shape[-2:]
        o = (H if o[0] is None else o[0], W if o[1] is None else o[1])
        y = np.zeros(x.shape[:-2] + o)
        ind = np.zeros(y.shape, np.int64)
        for i in range(o[0]):
            for j in range(o[1]):
                h0, h1 = i * H // o[0], -(-(i + 1) * H // o[0])
                w0, w1 = j * W // o[1], -(-(j + 1) * W // o[1])
                win = x[..., h0:h1, w0:w1]
                if kind == "avg":
                    y[..., i, j] = win.mean(axis=(-2, -1))
                else:
                    flat = win.reshape(win.shape[:-2] + (-1,))
                    a = np.argmax(flat, axis=-1)
                    y[..., i, j] = np.take_along_axis(flat, a[..., None], -1)[..., 0]
                    ind[..., i, j] = (h0 + a // (w1 - w0)) * W + w0 + a % (w1 - w0)
        return (y, ind) if return_indices else y
    return ref


_CONV2D = [
    Case([(2, 3, 5, 6), (4, 3, 3, 3), (4,)], name="3x3"),
    Case([(1, 4, 7, 5), (6, 2, 3, 2), (6,)], dict(stride=2, padding=1, groups=2),
         name="stride 2, pad 1, groups 2, batch 1"),
    Case([(2, 2, 7, 7), (3, 2, 2, 3)], dict(stride=(1, 2), padding=(2, 1), dilation=(2, 1)),
         name="dilation, no bias"),
    Case([(1, 3, 5, 5), (3, 1, 3, 3), (3,)], dict(padding="same", groups=3),
         name="depthwise same"),
    Case([(3, 4, 4), (2, 3, 2, 2)], dict(padding="same"), name="unbatched, even same"),
    Case([(2, 2, 4, 5), (2, 2, 1, 1), (2,)], dict(padding="valid"), layout="transposed",
         name="1x1, transposed layout"),
]
_CONV1D = [
    Case([(2, 3, 9), (4, 3, 3), (4,)], dict(stride=2, padding=1), name="stride 2"),
    Case([(1, 4, 8), (4, 2, 2)], dict(dilation=3, groups=2), name="dilation, groups"),
    Case([(3, 7), (2, 3, 4), (2,)], dict(padding="same"), name="unbatched same"),
]
_CONVT2D = [
    Case([(2, 3, 3, 4), (3, 2, 3, 3), (2,)], name="3x3"),
    Case([(1, 4, 3, 3), (4, 2, 3, 2), (4,)],
         dict(stride=2, padding=1, output_padding=1, groups=2), name="stride 2, groups"),
    Case([(2, 2, 3, 3), (2, 3, 2, 2)], dict(stride=(2, 1), dilation=(1, 2), padding=(0, 1)),
         name="dilation, no bias"),
]
_CONVT1D = [
    Case([(2, 3, 5), (3, 2, 3), (2,)], dict(stride=3, padding=1, output_padding=2),
         name="stride 3"),
    Case([(2, 6), (2, 2, 2)], dict(dilation=2), name="unbatched"),
]
_MAX2D = [
    Case([(2, 3, 6, 6)], dict(kernel_size=2), name="2x2"),
    Case([(1, 2, 7, 5)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
         name="pad, ceil, batch 1"),
    Case([(2, 5, 6)], dict(kernel_size=(2, 3), stride=1, dilation=(2, 1)),
         name="unbatched, dilation"),
    Case([(2, 2, 5, 5)], dict(kernel_size=2, stride=2, ceil_mode=True, return_indices=True),
         name="indices"),
]
_MAX1D = [Case([(2, 3, 9)], dict(kernel_size=3, stride=2, padding=1), name="pad"),
          Case([(3, 8)], dict(kernel_size=2, dilation=3, return_indices=True),
               name="unbatched, indices")]
_AVG2D = [
    Case([(2, 3, 6, 6)], dict(kernel_size=2), name="2x2"),
    Case([(1, 2, 7, 5)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
         name="pad, ceil"),
    Case([(1, 2, 7, 5)], dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
         name="exclude pad"),
    Case([(2, 5, 6)], dict(kernel_size=(2, 3), stride=(1, 2), divisor_override=4),
         name="divisor_override"),
]
_AVG1D = [Case([(2, 3, 9)], dict(kernel_size=4, stride=3, padding=2, ceil_mode=True,
                                 count_include_pad=False), name="ceil, exclude pad")]
_ADAPT = [Case([(2, 3, 7, 6)], dict(output_size=(3, 4)), name="3x4"),
          Case([(2, 5, 5)], dict(output_size=(2, None)), name="unbatched, None"),
          Case([(1, 2, 4, 4)], dict(output_size=1), name="global")]



SPECS = [
    OpSpec("nn.functional.conv2d", F.conv2d, _conv_ref, _CONV2D),
    OpSpec("nn.functional.conv2d_act", F.conv2d_act,
           lambda *a, activation=None, **kw: np.maximum(_conv_ref(*a, **kw), 0),
           [Case(c.shapes, dict(c.kwargs, activation="relu"), c.layout, name=c.name)
            for c in _CONV2D[:4]], avoid=None),
    OpSpec("nn.functional.conv1d", F.conv1d, _conv_ref, _CONV1D),
    OpSpec("nn.functional.conv_transpose2d", F.conv_transpose2d, _conv_t_ref, _CONVT2D),
    OpSpec("nn.functional.conv_transpose1d", F.conv_transpose1d, _conv_t_ref, _CONVT1D),
    OpSpec("nn.functional.max_pool2d", F.max_pool2d, _max_pool_ref(2), _MAX2D),
    OpSpec("nn.functional.max_pool1d", F.max_pool1d, _max_pool_ref(1), _MAX1D),
    OpSpec("nn.functional.avg_pool2d", F.avg_pool2d, _avg_pool_ref(2), _AVG2D),
    OpSpec("nn.functional.avg_pool1d", F.avg_pool1d, _avg_pool_ref(1), _AVG1D),
    OpSpec("nn.functional.adaptive_avg_pool2d", F.adaptive_avg_pool2d, _adaptive_ref("avg"),
           _ADAPT),
    OpSpec("nn.functional.adaptive_max_pool2d", F.adaptive_max_pool2d, _adaptive_ref("max"),
           _ADAPT + [Case([(2, 3, 7, 6)], dict(output_size=(4, 3), return_indices=True),
                          name="indices")]),
    OpSpec("nn.functional.dropout2d", F.dropout2d, lambda x, p=0.5, training=True: x,
           [Case([(2, 3, 4, 4)], dict(p=0.0), name="p=0"),
            Case([(3, 4, 4)], dict(p=0.5, training=False), name="eval, unbatched")]),
]
