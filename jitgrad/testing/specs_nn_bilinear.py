"""Op table entries: bilinear, pixel_shuffle, pixel_unshuffle, against plain NumPy."""
import numpy as np

import jitgrad.nn.functional as F

from .spec import Case, OpSpec


def _bilinear_ref(x1, x2, w, b=None):
    y = np.einsum("...i,kij,...j->...k", x1, w, x2)
    return y if b is None else y + b


def _pixel_shuffle_ref(x, upscale_factor):
    r = upscale_factor
    *lead, c, h, w = x.shape
    y = np.empty((*lead, c // (r * r), h * r, w * r))
    for ci in range(c):
        for i in range(h):
            for j in range(w):
                co, k = divmod(ci, r * r)
                y[..., co, i * r + k // r, j * r + k % r] = x[..., ci, i, j]
    return y


def _pixel_unshuffle_ref(x, downscale_factor):
    r = downscale_factor
    *lead, c, h, w = x.shape
    y = np.empty((*lead, c * r * r, h // r, w // r))
    for ci in range(c * r * r):
        co, k = divmod(ci, r * r)
        y[..., ci, :, :] = x[..., co, k // r::r, k % r::r]
    return y


SPECS = [
    OpSpec("nn.functional.bilinear", F.bilinear, _bilinear_ref, [
        Case([(4, 3), (4, 2), (5, 3, 2), (5,)], name="bias"),
        Case([(1, 2), (1, 3), (2, 2, 3)], name="batch 1, no bias"),
        Case([(2, 3, 2), (2, 3, 4), (3, 2, 4), (3,)], name="leading dims"),
        Case([(3, 4), (3, 2), (2, 4, 2), (2,)], layout="transposed", name="transposed"),
    ]),
    OpSpec("nn.functional.pixel_shuffle", F.pixel_shuffle, _pixel_shuffle_ref, [
        Case([(1, 8, 2, 3)], dict(upscale_factor=2), name="4-d"),
        Case([(9, 2, 1)], dict(upscale_factor=3), name="unbatched"),
        Case([(2, 4, 3, 2)], dict(upscale_factor=2), layout="transposed"),
    ]),
    OpSpec("nn.functional.pixel_unshuffle", F.pixel_unshuffle, _pixel_unshuffle_ref, [
        Case([(1, 2, 4, 6)], dict(downscale_factor=2), name="4-d"),
        Case([(1, 3, 3)], dict(downscale_factor=3), name="unbatched"),
        Case([(2, 1, 2, 4)], dict(downscale_factor=2), layout="sliced"),
    ]),
]
