"""Op table entries: group_norm, instance_norm and rms_norm (fused kernels), each against a
plain-NumPy reference written from PyTorch's formulas."""
import numpy as np

import jitgrad.nn.functional as F

from .spec import Case, OpSpec


def _group_norm_ref(x, w=None, b=None, num_groups=1, eps=1e-5):
    N, C = x.shape[:2]
    xg = x.reshape(N, num_groups, -1)
    y = ((xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + eps))
    shape = (1, C) + (1,) * (x.ndim - 2)
    y = y.reshape(x.shape)
    return y * (1 if w is None else w.reshape(shape)) + (0 if b is None else b.reshape(shape))


def _instance_norm_ref(x, w=None, b=None, rm=None, rv=None, eps=1e-5):
    if rm is None:
        return _group_norm_ref(x, w, b, x.shape[1], eps)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + eps)
    return y * (1 if w is None else w.reshape(shape)) + (0 if b is None else b.reshape(shape))


def _instance_norm_fn(x, w=None, b=None, rm=None, rv=None, eps=1e-5):
    if rm is None:
        return F.instance_norm(x, weight=w, bias=b, eps=eps)
    return F.instance_norm(x, rm.to(x.dtype), rv.to(x.dtype), w, b, use_input_stats=False,
                           eps=eps)


def _rms_norm_ref(x, w=None, normalized_shape=None, eps=None):
    eps = np.finfo(x.dtype).eps if eps is None else eps
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim))
    y = x / np.sqrt(np.mean(x * x, axis=axes, keepdims=True) + eps)
    return y if w is None else y * w


_RM3, _RV3 = np.array([0.1, -0.2, 0.3]), np.array([0.5, 1.5, 2.0])

SPECS = [
    OpSpec("nn.functional.group_norm",
           lambda x, w=None, b=None, **kw: F.group_norm(x, weight=w, bias=b, **kw),
           _group_norm_ref, [
               Case([(2, 4, 3), (4,), (4,)], dict(num_groups=2), name="(N, C, L)"),
               Case([(1, 6, 2, 2), (6,), (6,)], dict(num_groups=3, eps=1e-3),
                    name="batch 1 (N, C, H, W)"),
               Case([(3, 4)], dict(num_groups=1), name="(N, C) one group, no affine"),
               Case([(2, 3, 5), (3,), (3,)], dict(num_groups=3), layout="transposed",
                    name="groups == channels, transposed"),
           ], atol32=1e-4),
    OpSpec("nn.functional.instance_norm", _instance_norm_fn, _instance_norm_ref, [
        Case([(2, 3, 4), (3,), (3,)], name="(N, C, L)"),
        Case([(1, 2, 3, 2)], name="batch 1 (N, C, H, W), no affine"),
        Case([(2, 3, 4), (3,), (3,), _RM3, _RV3], diff=[0, 1, 2], name="running stats"),
        Case([(2, 3, 5), (3,), (3,)], layout="sliced", name="sliced"),
    ], atol32=1e-4),
    OpSpec("nn.functional.rms_norm",
           lambda x, w=None, **kw: F.rms_norm(x, weight=w, **kw), _rms_norm_ref, [
               Case([(2, 3, 4), (4,)], dict(normalized_shape=(4,)), name="last dim"),
               Case([(2, 3, 4), (3, 4)], dict(normalized_shape=(3, 4), eps=1e-3),
                    name="2 dims"),
               Case([(1, 5)], dict(normalized_shape=(5,)), name="batch 1, no weight"),
               Case([(4, 3), (3,)], dict(normalized_shape=(3,)), layout="transposed"),
           ], atol32=1e-4),
]
