"""Core ops, forward and forward+backward, at a small (4x4) and a large (1000x1000) size.

A representative set of ops, taken from the op table by name (bench_optable.py covers every
op). Inputs are built and every kernel is run once at import, so no sample times the JIT
compiler and no class needs ``setup()`` (asv times those one call per sample).
"""
import jitgrad as jg

from . import common
from .common import fwd_bwd

SPECS = common.specs_by_name()


# ---------------------------------------------------------------------------- representative
# name in the op table -> (number of same-shape inputs, keyword arguments)
CORE = {
    "add": (2, {}), "mul": (2, {}), "div": (2, {}), "exp": (1, {}), "log": (1, {}),
    "tanh": (1, {}), "sigmoid": (1, {}), "relu": (1, {}), "sum": (1, {}),
    "mean": (1, {"dim": 1}), "max": (1, {"dim": 1}), "logsumexp": (1, {"dim": 1}),
    "matmul": (2, {}),
}


def _core_inputs(op, size, requires_grad):
    spec = SPECS[op]
    n, kwargs = CORE[op]
    tensors = [jg.from_numpy(common.random(common.SIZES[size], spec.low, spec.high, seed=i))
               .requires_grad_(requires_grad) for i in range(n)]
    return tensors, kwargs


_CORE_FWD = {(op, size): _core_inputs(op, size, False) for op in CORE for size in common.SIZES}
_CORE_BWD = {(op, size): _core_inputs(op, size, True) for op in CORE for size in common.SIZES}


class CoreOpsForward:
    params = [list(CORE), list(common.SIZES)]
    param_names = ["op", "size"]

    def time_forward(self, op, size):
        tensors, kwargs = _CORE_FWD[op, size]
        SPECS[op].fn(*tensors, **kwargs)


class CoreOpsForwardBackward:
    params = [list(CORE), list(common.SIZES)]
    param_names = ["op", "size"]

    def time_forward_backward(self, op, size):
        tensors, kwargs = _CORE_BWD[op, size]
        fwd_bwd(SPECS[op].fn, tensors, kwargs)


for (_op, _size), (_tensors, _kwargs) in _CORE_BWD.items():
    if _size == "4x4":  # the same kernels serve every size: the small call compiles them
        fwd_bwd(SPECS[_op].fn, _tensors, _kwargs)
