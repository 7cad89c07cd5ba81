"""Contractions at working sizes, forward and forward+backward: einsum as a batched GEMM
(attention scores), einsum with a diagonal and a three-operand chain, and cdist (p=2, p=1).

Inputs are built and every call run once at import (no sample times the JIT compiler, no
``setup()``: asv times a class with setup() one call per sample).
"""
import jitgrad as jg

from .common import fwd_bwd, random

# name -> (callable, input shapes)
CASES = {
    "einsum bhqd,bhkd->bhqk": (lambda a, b: jg.einsum("bhqd,bhkd->bhqk", a, b),
                               [(8, 4, 64, 32), (8, 4, 64, 32)]),
    "einsum ij,jk,kl->il": (lambda a, b, c: jg.einsum("ij,jk,kl->il", a, b, c),
                            [(64, 128), (128, 128), (128, 32)]),
    "einsum bii->bi": (lambda a: jg.einsum("bii->bi", a), [(32, 64, 64)]),
    "cdist p=2": (lambda a, b: jg.cdist(a, b), [(256, 32), (256, 32)]),
    "cdist p=1": (lambda a, b: jg.cdist(a, b, 1.0), [(256, 32), (256, 32)]),
}


def _inputs(name, requires_grad):
    _, shapes = CASES[name]
    return [jg.from_numpy(random(s, seed=i)).requires_grad_(requires_grad)
            for i, s in enumerate(shapes)]


_FWD = {name: _inputs(name, False) for name in CASES}
_BWD = {name: _inputs(name, True) for name in CASES}
for _name, (_fn, _) in CASES.items():
    _fn(*_FWD[_name])
    fwd_bwd(_fn, _BWD[_name], {})


class Contractions:
    params = [list(CASES)]
    param_names = ["case"]

    def time_forward(self, case):
        CASES[case][0](*_FWD[case])

    def time_forward_backward(self, case):
        fwd_bwd(CASES[case][0], _BWD[case], {})
