"""Dense-layer epilogues around the BLAS GEMM: bias (+ activation) forward, its fused backward,
and the dropout mask.

Arrays are flat C-contiguous views; a (m, n) matrix is m rows of length n. The activation is an
int code branched on outside the inner loop, so one compiled kernel per dtype serves them all.
The activations are kernels/_math.py's (the same scalar code as F.relu / F.tanh / F.sigmoid).
"""
import numpy as np

from . import _math
from ._jit import kernel

# activation codes for the epilogue
ACT_NONE, ACT_RELU, ACT_TANH, ACT_SIGMOID = range(4)


@kernel
def bias_act_forward(act, y, b, n):
    """y[i, j] = act(y[i, j] + b[j]) in place, one pass (b of size 0 means no bias)."""
    m = y.size // n if n > 0 else 0
    # Without a bias, add zeros anyway: an in-place `y = relu(y)` lets LLVM drop the store
    # where y > 0 and vectorise the rest as masked stores (vmaskmovps), which on Zen 3 took
    # 82 us for 131k floats against 16 us for the same loop with a bias (micro-benchmark, quiet).
    bias = b if b.size > 0 else np.zeros(n, y.dtype)
    for i in range(m):
        row = y[i * n:(i + 1) * n]
        if act == ACT_RELU:
            for j in range(n):
                row[j] = _math.relu(row[j] + bias[j])
        elif act == ACT_TANH:
            for j in range(n):
                row[j] = _math.tanh(row[j] + bias[j])
        elif act == ACT_SIGMOID:
            for j in range(n):
                row[j] = _math.sigmoid(row[j] + bias[j])
        else:
            for j in range(n):
                row[j] += bias[j]


@kernel
def bias_act_backward(act, y, gy, gz, gb, n):
    """gz = gy * act'(.) written from the output y (not written for ACT_NONE: gz is gy);
    gb[j] = sum_i gz[i, j] (skipped when gb has size 0)."""
    m = gy.size // n if n > 0 else 0
    has_b = gb.size > 0
    one = gy.dtype.type(1.0)  # a 1.0 literal would widen float32 tanh / sigmoid math to float64
    for j in range(gb.size):
        gb[j] = 0.0
    for i in range(m):
        o = i * n
        if act == ACT_RELU:
            for j in range(n):
                gz[o + j] = gy[o + j] if y[o + j] > 0 else 0.0
        elif act == ACT_TANH:
            for j in range(n):
                v = y[o + j]
                gz[o + j] = gy[o + j] * (one - v * v)
        elif act == ACT_SIGMOID:
            for j in range(n):
                v = y[o + j]
                gz[o + j] = gy[o + j] * v * (one - v)
        if has_b:
            if act == ACT_NONE:
                for j in range(n):
                    gb[j] += gy[o + j]
            else:
                for j in range(n):
                    gb[j] += gz[o + j]


@kernel
def dropout_forward(x, u, p, scale, out, m):
    """m = scale where u >= p else 0 (u uniform in [0, 1)); out = x * m."""
    sc, zero = x.dtype.type(scale), x.dtype.type(0.0)  # x's dtype: see kernels/activation.py
    for i in range(x.size):
        s = sc if u[i] >= p else zero
        m[i] = s
        out[i] = x[i] * s
