"""Every op of the op table (``jitgrad.testing.all_specs()``) on its first sample case,
forward and forward+backward, in float32: a new op gets a benchmark without anyone writing one.

Inputs are built and every benchmark is run once at import (no ``setup()``: see bench_ops).
"""
from . import common
from .common import fwd_bwd

SPECS = common.specs_by_name()
GRAD_SPECS = {n: s for n, s in SPECS.items() if s.grad}

_FWD = {n: common.op_table_inputs(s, requires_grad=False) for n, s in SPECS.items()}
_BWD = {n: common.op_table_inputs(s) for n, s in GRAD_SPECS.items()}


class OpTableForward:
    params = [list(SPECS)]
    param_names = ["op"]

    def time_forward(self, op):
        tensors, kwargs = _FWD[op]
        SPECS[op].fn(*tensors, **kwargs)


class OpTableForwardBackward:
    params = [list(GRAD_SPECS)]
    param_names = ["op"]

    def time_forward_backward(self, op):
        tensors, kwargs = _BWD[op]
        fwd_bwd(SPECS[op].fn, tensors, kwargs)


for _op, (_tensors, _kwargs) in _FWD.items():
    SPECS[_op].fn(*_tensors, **_kwargs)
for _op, (_tensors, _kwargs) in _BWD.items():
    fwd_bwd(SPECS[_op].fn, _tensors, _kwargs)
