"""asv: Module.__call__ with and without hooks (a tiny Linear), and the new layers at a
realistic size, forward + backward in float32: GroupNorm, InstanceNorm2d, RMSNorm, bilinear
Upsample, reflect padding.

Inputs, modules and hooks are built and every benchmark runs once at import (no setup(): see
bench_nn). Leaf gradients are dropped before each call so every sample does the same work.
"""
import numpy as np

import jitgrad as jg
import jitgrad.nn as nn

_RNG = np.random.default_rng(0)


def _randn(*shape):
    return _RNG.standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- call overhead
jg.manual_seed(0)
_PLAIN = nn.Linear(4, 4)
_HOOKED = nn.Linear(4, 4)
_HOOKED.register_forward_pre_hook(lambda m, args: None)
_HOOKED.register_forward_hook(lambda m, args, out: None)
_BW_HOOKED = nn.Linear(4, 4)
_BW_HOOKED.register_full_backward_hook(lambda m, gi, go: None)
_X4 = jg.tensor(_randn(2, 4))
_X4G = jg.tensor(_randn(2, 4), requires_grad=True)


def time_linear_call_no_hooks():
    """Linear(4, 4) on (2, 4): the no-hook __call__ path (one flag check)."""
    _PLAIN(_X4)


def time_linear_call_forward_hooks():
    """Linear(4, 4) on (2, 4) with one forward pre-hook and one forward hook."""
    _HOOKED(_X4)


def _fwd_bwd_hooked():
    _X4G.grad = None
    _BW_HOOKED.zero_grad()
    _BW_HOOKED(_X4G).sum().backward()


def _fwd_bwd_plain():
    _X4G.grad = None
    _PLAIN.zero_grad()
    _PLAIN(_X4G).sum().backward()


def time_linear_forward_backward_no_hooks():
    _fwd_bwd_plain()


def time_linear_forward_backward_full_backward_hook():
    """The same with a full backward hook (two identity nodes per call)."""
    _fwd_bwd_hooked()


# ----------------------------------------------------------------------------- layers
def _layer_case(module, shape):
    x = jg.tensor(_randn(*shape), requires_grad=True)
    y = module(x)
    g = jg.tensor(_randn(*y.shape))

    def run():
        x.grad = None
        module.zero_grad()
        module(x).backward(g)
    return run


_LAYERS = {
    "GroupNorm(8, 32) (8, 32, 16, 16)": _layer_case(nn.GroupNorm(8, 32), (8, 32, 16, 16)),
    "InstanceNorm2d(32, affine) (8, 32, 16, 16)": _layer_case(
        nn.InstanceNorm2d(32, affine=True), (8, 32, 16, 16)),
    "RMSNorm(256) (32, 64, 256)": _layer_case(nn.RMSNorm(256), (32, 64, 256)),
    "Upsample(x2, bilinear) (8, 16, 16, 16)": _layer_case(
        nn.Upsample(scale_factor=2, mode="bilinear"), (8, 16, 16, 16)),
    "ReflectionPad2d(2) (8, 16, 16, 16)": _layer_case(nn.ReflectionPad2d(2), (8, 16, 16, 16)),
}


class NewLayersForwardBackward:
    params = [list(_LAYERS)]
    param_names = ["layer"]

    def time_forward_backward(self, layer):
        _LAYERS[layer]()


time_linear_call_no_hooks()
time_linear_call_forward_hooks()
_fwd_bwd_plain()
_fwd_bwd_hooked()
for _run in _LAYERS.values():
    _run()
