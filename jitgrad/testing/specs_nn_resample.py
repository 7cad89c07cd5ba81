"""Op table entries: interpolate (nearest, nearest-exact, linear, bilinear, trilinear) and pad's
reflect / replicate / circular modes, against slow plain-NumPy references written from
PyTorch's formulas (one output element at a time)."""
import itertools
import math

import numpy as np

import jitgrad.nn.functional as F

from .spec import Case, OpSpec


def _src_linear(j, n_in, n_out, scale, align):
    if align:
        return j * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    s = 1.0 / scale if scale else n_in / n_out
    return max(s * (j + 0.5) - 0.5, 0.0)


def _interpolate_ref(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    dims = x.ndim - 2
    n_in = x.shape[2:]
    if size is not None:
        n_out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * dims
        scales = (None,) * dims
    else:
        scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else \
            (scale_factor,) * dims
        n_out = tuple(int(math.floor(n * s)) for n, s in zip(n_in, scales))
    y = np.zeros(x.shape[:2] + n_out)
    for idx in itertools.product(*[range(n) for n in n_out]):
        taps = []  # per axis: [(source index, weight)]
        for k, j in enumerate(idx):
            if mode in ("nearest", "nearest-exact"):
                s = 1.0 / scales[k] if scales[k] else n_in[k] / n_out[k]
                src = math.floor((j + 0.5) * s if mode == "nearest-exact" else j * s)
                taps.append([(min(src, n_in[k] - 1), 1.0)])
            else:
                src = _src_linear(j, n_in[k], n_out[k], scales[k], align_corners)
                i0 = min(int(src), n_in[k] - 1)
                i1 = i0 + 1 if i0 < n_in[k] - 1 else i0
                lam = src - i0
                taps.append([(i0, 1 - lam), (i1, lam)])
        for combo in itertools.product(*taps):
            w = np.prod([t[1] for t in combo])
            y[(...,) + idx] += w * x[(...,) + tuple(t[0] for t in combo)]
    return y


_NP_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad_ref(x, pad, mode="constant", value=None):
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return np.pad(x, widths, mode=_NP_MODES[mode])


SPECS = [
    OpSpec("nn.functional.interpolate", F.interpolate, _interpolate_ref, [
        Case([(1, 2, 3)], dict(scale_factor=2), name="nearest 1d x2"),
        Case([(2, 1, 3, 2)], dict(size=(5, 3)), name="nearest 2d size"),
        Case([(1, 2, 4, 3)], dict(size=(3, 2), mode="nearest-exact"), name="nearest-exact down"),
        Case([(2, 2, 3)], dict(size=5, mode="linear"), name="linear"),
        Case([(1, 2, 3, 3)], dict(scale_factor=(2, 1.5), mode="bilinear"), name="bilinear x2"),
        Case([(1, 1, 3, 4)], dict(size=(5, 2), mode="bilinear", align_corners=True),
             name="bilinear align_corners"),
        Case([(1, 1, 2, 2, 3)], dict(size=(3, 3, 2), mode="trilinear"), name="trilinear"),
        Case([(1, 2, 3, 3)], dict(size=(4, 5), mode="bilinear"), layout="transposed",
             name="bilinear transposed"),
    ]),
    OpSpec("nn.functional.pad(modes)", F.pad, _pad_ref, [
        Case([(2, 4)], dict(pad=(2, 1), mode="reflect"), name="reflect 1d unbatched"),
        Case([(1, 2, 3, 4)], dict(pad=(1, 2, 2, 1), mode="reflect"), name="reflect 2d"),
        Case([(2, 3)], dict(pad=(3, 2), mode="replicate"), name="replicate 1d"),
        Case([(1, 2, 3, 3)], dict(pad=(0, 2, 1, 1), mode="replicate"), name="replicate 2d"),
        Case([(1, 1, 2, 2, 3)], dict(pad=(1, 1, 1, 0, 0, 2), mode="replicate"),
             name="replicate 3d"),
        Case([(2, 2, 3)], dict(pad=(2, 3), mode="circular"), name="circular 1d"),
        Case([(1, 2, 3, 4)], dict(pad=(1, 1, 2, 0), mode="circular"), layout="transposed",
             name="circular 2d transposed"),
    ]),
]
