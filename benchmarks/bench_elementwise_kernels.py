"""Elementwise kernels against NumPy on 1M float32 elements (1000x1000), side by side.

``Unary`` / ``Binary``: the op-coded kernels through the ops layer (``unary`` / ``binary``, no
autograd), each with its NumPy equivalent as the ``numpy`` parameter, so one asv run gives the
ratio. ``timeraw_cold_compile_elementwise``: compiling every elementwise kernel for float32 and
float64 in a fresh interpreter with the kernel cache off.

Inputs are built and every case is run once at import: no sample times the JIT compiler and no
class needs ``setup()``.
"""
import numpy as np

from jitgrad._ops.binary import binary
from jitgrad._ops.unary import unary
from jitgrad.kernels import activation as KA
from jitgrad.kernels import elementwise as K

_RNG = np.random.default_rng(0)
_X = _RNG.standard_normal((1000, 1000)).astype(np.float32)
_POS = np.abs(_X) + np.float32(0.1)
_ROW = _RNG.standard_normal(1000).astype(np.float32)
_COL = _RNG.standard_normal((1000, 1)).astype(np.float32)

def _act(op, x):
    """tanh / sigmoid / relu are activations (kernels.activation), the kernel jg.tanh runs."""
    out = np.empty(x.shape, x.dtype)
    KA.act_forward(op, x.reshape(-1), out.reshape(-1), 0.0, 0.0)
    return out


_UNARY = {
    "exp": (lambda: unary(K.EXP, _X), lambda: np.exp(_X)),
    "log": (lambda: unary(K.LOG, _POS), lambda: np.log(_POS)),
    "log1p": (lambda: unary(K.LOG1P, _POS), lambda: np.log1p(_POS)),
    "tanh": (lambda: _act(KA.TANH, _X), lambda: np.tanh(_X)),
    "sigmoid": (lambda: _act(KA.SIGMOID, _X), lambda: 1 / (1 + np.exp(-_X))),
    "relu": (lambda: _act(KA.RELU, _X), lambda: np.maximum(_X, 0)),
}

_BINARY = {
    "add_same": (lambda: binary(K.ADD, "add", _X, _X), lambda: np.add(_X, _X)),
    "mul_row": (lambda: binary(K.MUL, "mul", _X, _ROW), lambda: np.multiply(_X, _ROW)),
    "mul_col": (lambda: binary(K.MUL, "mul", _X, _COL), lambda: np.multiply(_X, _COL)),
    "mul_scalar": (lambda: binary(K.MUL, "mul", _X, 2.0), lambda: np.multiply(_X, 2.0)),
    "rsub_scalar": (lambda: binary(K.SUB, "sub", 1.0, _X), lambda: np.subtract(1.0, _X)),
    "div_row": (lambda: binary(K.DIV, "div", _X, _ROW), lambda: np.divide(_X, _ROW)),
    "maximum_row": (lambda: binary(K.MAXIMUM, "maximum", _X, _ROW),
                    lambda: np.maximum(_X, _ROW)),
}

for _pair in list(_UNARY.values()) + list(_BINARY.values()):
    for _fn in _pair:
        _fn()


class Unary:
    params = [list(_UNARY), ["jitgrad", "numpy"]]
    param_names = ["op", "impl"]

    def time_unary_1m_float32(self, op, impl):
        _UNARY[op][impl == "numpy"]()


class Binary:
    params = [list(_BINARY), ["jitgrad", "numpy"]]
    param_names = ["case", "impl"]

    def time_binary_1m_float32(self, case, impl):
        _BINARY[case][impl == "numpy"]()


def timeraw_cold_compile_elementwise():
    return """
import os
os.environ["JITGRAD_DISABLE_CACHE"] = "1"
import numpy as np
from jitgrad.kernels import elementwise as K
shape = np.array([2, 4], np.int64)
sa = np.array([4, 1], np.int64)
sb = np.array([0, 1], np.int64)
for dt in (np.float32, np.float64):
    x, y, z, w = (np.ones(8, dt) for _ in range(4))
    K.unary_forward(K.EXP, x, z, 0.0, 0.0)
    K.unary_backward(K.EXP, x, y, x, z, 0.0, 0.0)
    K.binary_same(K.ADD, x, y, z)
    K.binary_backward_same(K.MUL, x, y, x, y, z, w)
    K.binary_broadcast(K.MUL, x, y[:4], z, shape, sa, sb)
"""


timeraw_cold_compile_elementwise.repeat = 1
timeraw_cold_compile_elementwise.number = 1
timeraw_cold_compile_elementwise.timeout = 300
